"""`beat bench assets` on a small scale: every image stored by the real assets worker and by
the seed-style thread pool, with the rates and bytes saved each line claims."""

import pytest

from bench.assets_bench import run_assets_bench
from core.config import Settings


def test_assets_bench_stores_every_image_both_ways(database_url: str) -> None:
    beat, threads = run_assets_bench(Settings(database_url=database_url), images=9,
                                     processes=1, concurrency=3)
    assert (beat["system"], threads["system"]) == ("beat", "threads")
    for line in (beat, threads):
        assert line["images"] == 9
        assert line["images_per_s"] == pytest.approx(9 / line["seconds"], rel=1e-3)
        assert 9 * 100_000 <= line["source_bytes"] <= 9 * 2_000_000
        assert 0 < line["stored_bytes"] < line["source_bytes"] / 5
        assert line["bytes_saved"] == line["source_bytes"] - line["stored_bytes"]
        assert line["saved_pct"] == pytest.approx(
            100 * line["bytes_saved"] / line["source_bytes"], abs=1e-3)
    assert (beat["processes"], beat["concurrency"], threads["threads"]) == (1, 3, 30)


def test_assets_bench_refuses_more_images_than_the_sandbox_keeps(database_url: str) -> None:
    with pytest.raises(ValueError, match="1 to 500"):
        run_assets_bench(Settings(database_url=database_url), images=501, processes=1,
                         concurrency=1)
