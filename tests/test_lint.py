"""The code's own checks run with the suite: ruff on everything, mypy --strict on core/ and
bench/."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_on_core_and_bench(tmp_path: Path) -> None:
    result = run("mypy", "--cache-dir", str(tmp_path / "mypy"), "core", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
