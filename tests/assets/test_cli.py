"""`beat asset URL` as a user runs it: one JSON line for a stored image; a refused URL or an
unusable image exits 2 with one line saying why, never a traceback."""

import json
import subprocess
from pathlib import Path

import pytest

from tests import beat_cli
from tests.e2e.procs import beat_env


def beat_asset(url: str, sandbox_url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = beat_env("postgresql://postgres@127.0.0.1:1/unused", SANDBOX_URL=sandbox_url,
                   BEAT_HOME=home)
    env["ASSETS_DIR"] = str(home / "store")
    return beat_cli.run(["asset", url], env, cwd=home)


def test_an_image_is_stored_and_described(sandbox_url: str, tmp_path: Path) -> None:
    result = beat_asset(f"{sandbox_url}/assets/pages/11", sandbox_url, tmp_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert list(found) == ["key", "bytes", "width", "height"]
    assert max(found["width"], found["height"]) == 1080
    stored = tmp_path / "store" / found["key"]
    assert stored.stat().st_size == found["bytes"]


@pytest.mark.parametrize("path_or_url, says", [
    ("http://127.0.0.1:5432/", "beat: refused: refused 127.0.0.1: loopback address"),
    ("http://169.254.169.254/latest/meta-data/",
     "beat: refused: refused 169.254.169.254: cloud metadata address"),
    ("/assets/redirect?to=http://10.9.8.7/a.jpg", "beat: refused: refused 10.9.8.7: private"),
    ("/assets/hostile/huge.jpg", "beat: refused: the body is 5368709120 bytes, over the cap"),
    ("/assets/hostile/html-as-jpeg.jpg", "beat: refused: not an image: sent as image/jpeg"),
    ("/assets/hostile/truncated.jpg", "beat: bad_image: corrupt JPEG image"),
    ("/assets/hostile/bomb.png", "beat: bad_image: refused to decode"),
    ("/assets/images/1.gif", "beat: not_found: HTTP 404"),
    ("notaurl", "beat: refused: only http and https URLs are fetched"),
])
def test_a_refused_url_exits_2_with_one_line(sandbox_url: str, tmp_path: Path,
                                             path_or_url: str, says: str) -> None:
    url = path_or_url if not path_or_url.startswith("/") else sandbox_url + path_or_url
    result = beat_asset(url, sandbox_url, tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(says) and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").rglob("*.jpg"))
