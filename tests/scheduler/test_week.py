"""A simulated week of the refresh scheduler against the sandbox (`beat bench schedule`'s
machinery, smaller): a real worker process refreshes what each hourly tick enqueues, slowly
enough that refreshes are still in flight at the next tick, while on-demand refreshes arrive
every hour. No day goes past the quota by the sandbox's own counter, the scheduler's refreshes
leave the reserve alone, every on-demand refresh goes through, no item is enqueued while its
refresh is in flight, and the important items stay fresh."""

from bench.schedule_bench import run_schedule_bench
from core.config import Settings


def test_a_simulated_week_keeps_within_every_budget(settings: Settings) -> None:
    found = run_schedule_bench(settings, items=1000, days=7, latency_ms=400, drain_s=0.1,
                               baseline=False)
    quota, reserve = found["quota_allowed"], found["reserve"]
    assert (found["need_per_day"], quota, reserve) == (70, 42, 9)  # 1000/50 + 50 channels
    assert len(found["quota_used_by_day"]) == 7
    assert max(found["quota_used_by_day"]) <= quota  # the sandbox's counter
    assert all(0 < used <= quota - reserve for used in found["scheduled_used_by_day"])
    # a tenth of the quota a day on demand (4.2 units): every one went through
    assert sum(found["on_demand_by_day"]) == found["on_demand_sent"] == 29
    assert found["on_demand_failed"] == 0 and found["failed"] == {}, found
    assert found["duplicates"] == 0 and found["in_flight_max"] > 0, found
    assert found["fresh_share_top20"] >= 0.95
    assert found["fresh_share_weighted"] >= 0.75
