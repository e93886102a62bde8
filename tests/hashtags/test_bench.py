"""`beat bench hashtags` records and reads on the real Redis and leaves no key behind."""

import json

import redis

from tests.conftest import REDIS_URL
from tests.test_cli import beat, beat_env


def test_bench_hashtags_prints_one_json_line_and_cleans_up() -> None:
    done = beat("bench", "hashtags", "--posts", "3000", "--vocabulary", "400", "--json",
                env=beat_env(REDIS_URL=REDIS_URL), timeout=120)
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout)
    assert (line["system"], line["posts"], line["vocabulary"]) == ("beat", 3000, 400)
    assert line["record_posts_per_s"] > 0
    for read in ("trending_60m", "trending_1440m", "fastest_growing_24h"):
        assert 0 < line[f"{read}_p50_ms"] <= line[f"{read}_p95_ms"]
    client = redis.Redis.from_url(REDIS_URL)
    assert not list(client.scan_iter(match="{beat-bench:*", count=1000))
    client.close()
