"""`beat watch add|list|rm` against the test database: URLs from arguments and files, and
--item PLATFORM:KIND:ID (playlists and hashtags too), become items (the refused ones named on
stderr), the lists read back, items and whole watchlists are
removed; bad names, durations and inputs exit 2 with one line."""

import subprocess
from pathlib import Path

import pytest

from tests import beat_cli
from tests.test_cli import beat_env

VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
TWEET = "https://x.com/beatnews/status/1850000000000000001"
PROFILE = "https://www.instagram.com/beat.sandbox/"


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path_factory.mktemp("home")))


def watch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return beat_cli.run(["watch", *args], env)


def test_items_are_added_listed_and_removed(env: dict[str, str], tmp_path: Path) -> None:
    added = watch(env, "add", "stars", VIDEO, TWEET, "junk", "--importance", "3",
                  "--max-age", "6h", "--description", "our stars")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "stars: 2 items added, 0 updated, 1 refused"
    assert added.stderr.startswith("refused junk: ")
    sheet = tmp_path / "more.csv"
    sheet.write_text(f"name,link\nvideo,{VIDEO}\nprofile,{PROFILE}\n")
    more = watch(env, "add", "stars", "--file", str(sheet), "--max-age", "2d")
    assert more.stdout.strip() == "stars: 1 item added, 1 updated, 0 refused", more.stderr
    every = watch(env, "list")
    assert every.returncode == 0 and "stars" in every.stdout and "our stars" in every.stdout
    lines = watch(env, "list", "stars").stdout.splitlines()
    assert lines[0].split() == ["PLATFORM", "KIND", "ID", "IMPORTANCE", "MAX", "AGE",
                                "FAILING"]
    assert [line.split() for line in lines[1:]] == [
        ["instagram", "profile", "beat.sandbox", "1", "2d00h", "-"],
        ["x", "post", "1850000000000000001", "3", "6h00m", "-"],
        ["youtube", "video", "dQw4w9WgXcQ", "1", "2d00h", "-"]]
    removed = watch(env, "rm", "stars", TWEET)
    assert removed.stdout.strip() == "stars: 1 item removed", removed.stderr
    gone = watch(env, "rm", "stars")
    assert gone.stdout.strip() == "deleted watchlist stars (2 items)"
    missing = watch(env, "list", "stars")
    assert missing.returncode == 2 and missing.stderr.strip() == "beat: no watchlist 'stars'"


def test_playlists_and_hashtags_are_added_by_url_or_by_platform_kind_and_id(
        env: dict[str, str]) -> None:
    mix, hits = "PL" + "Q" * 30, "PL" + "R" * 30
    added = watch(env, "add", "tags", f"https://www.youtube.com/playlist?list={mix}",
                  "https://www.instagram.com/explore/tags/Coffee/",
                  "--item", "instagram:hashtag:travel", "-i", f"youtube:playlist:{hits}",
                  "--item", "instagram:hashtag:#Nope")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "tags: 4 items added, 0 updated, 1 refused"
    assert added.stderr.startswith("refused instagram/hashtag/#Nope: '#Nope' is not an "
                                   "Instagram hashtag")
    rows = [line.split()[:3] for line in watch(env, "list", "tags").stdout.splitlines()[1:]]
    assert rows == [["instagram", "hashtag", "coffee"], ["instagram", "hashtag", "travel"],
                    ["youtube", "playlist", mix], ["youtube", "playlist", hits]]
    removed = watch(env, "rm", "tags", "--item", "instagram:hashtag:coffee",
                    "https://www.instagram.com/explore/tags/travel")
    assert removed.stdout.strip() == "tags: 2 items removed", removed.stderr


@pytest.mark.parametrize("args, says", [
    (["add", "stars", "junk", "more junk"], "refused junk"),
    (["add", "bad name", VIDEO], "is not a watchlist name"),
    (["add", "stars", VIDEO, "--max-age", "soon"], "is not a duration"),
    (["add", "stars"], "no items: give URLs as arguments or --file"),
    (["add", "stars", "--file", "/no/such/file.csv"], "no such file"),
    (["add", "stars", "--item", "youtube:playlist"], "is not PLATFORM:KIND:ID"),
    (["rm", "never-made"], "no watchlist 'never-made'"),
])
def test_bad_input_exits_2(env: dict[str, str], args: list[str], says: str) -> None:
    result = watch(env, *args)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
