"""The scheduler's choices without a database: urgency order, each budget's share of a tick
(the reserve kept, queued refreshes counted), and batching (a call of 50 videos costs one
unit, so the items that fill an opened call cost nothing more)."""

from datetime import UTC, datetime, timedelta

from core.budgets import Budgets, CredentialBudget, LimitBudget, SourceBudget
from core.lookups import Refresh
from core.platforms import RefreshCost
from core.scheduler.budget import allowance
from core.scheduler.plan import Candidate, Plan, PlatformPlan, Watched, choose, urgency_order

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # 04:00 in Los Angeles: 20 hours to its midnight
DAY_LEFT_S = 20 * 3600
SOURCE = "data_api"
VIDEOS = RefreshCost(SOURCE, units=1, items=50)
CHANNELS = RefreshCost(SOURCE, units=1, items=1)


def watched(ident: str, importance: float, age_s: float | None, max_age_s: int = 3600
            ) -> Watched:
    at = None if age_s is None else NOW - timedelta(seconds=age_s)
    return Watched("tube", "video", ident, importance, max_age_s, at)


def budgets(remaining: int, allowed: int = 1000, limiter: str = "ok", state: str = "usable"
            ) -> Budgets:
    quota = LimitBudget(f"quota:{SOURCE}:1:{allowed}/86400s@America/Los_Angeles", allowed,
                        86_400, allowed - remaining, remaining, NOW + timedelta(hours=20))
    return Budgets(NOW, [SourceBudget(SOURCE, [], [CredentialBudget(1, None, state, None,
                                                                      [quota])])], [], limiter)


def test_urgency_is_staleness_times_importance_never_refreshed_as_the_stalest() -> None:
    items = [watched("fresh", 100, 60), watched("stale", 1, 7200), watched("new-low", 1, None),
             watched("old-important", 10, 3600), watched("new-high", 5, None),
             watched("new-tiny", 0.1, None)]
    # the stalest is 2.0 target ages old: new items count as that, first on a tie
    # (5 x 2.0 = 10 x 1.0 > 1 x 2.0 > 100 x 60/3600 > 0.1 x 2.0)
    assert [i.id for i in urgency_order(items, NOW)] == [
        "new-high", "old-important", "new-low", "stale", "fresh", "new-tiny"]
    assert [i.id for i in urgency_order([watched("b", 1, None), watched("a", 3, None)], NOW)
            ] == ["a", "b"]


def test_a_tick_spends_its_share_of_what_is_left_past_the_reserve() -> None:
    room = allowance(budgets(remaining=600), SOURCE, 0.2, 3600, {})
    [line] = room.lines
    assert (line.allowed, line.remaining, line.reserve) == (1000, 600, 200)
    assert line.horizon_s == DAY_LEFT_S
    assert line.share == (600 - 200) / 20  # one hour of the 20 left until the reset
    queued = allowance(budgets(remaining=600), SOURCE, 0.2, 3600, {VIDEOS: 30, CHANNELS: 10})
    assert queued.lines[0].in_flight == 40
    assert queued.lines[0].share == (600 - 200 - 40) / 20
    later = allowance(budgets(remaining=600), SOURCE, 0.2, 3600, {},
                      now=NOW + timedelta(hours=16))  # a clock of its own: 4 hours left
    assert later.lines[0].share == (600 - 200) / 4


def test_nothing_is_spent_within_the_reserve_or_when_the_limits_cannot_be_read() -> None:
    assert allowance(budgets(remaining=200), SOURCE, 0.2, 3600, {}).lines[0].share == 0
    unread = allowance(budgets(remaining=900, limiter="Redis down"), SOURCE, 0.2, 3600, {})
    assert unread.blocked == "limits not read: Redis down"
    assert not unread.fits(VIDEOS, 1)
    resting = allowance(budgets(remaining=900, state="resting"), SOURCE, 0.2, 3600, {})
    assert resting.blocked == "no usable credential" and not resting.fits(VIDEOS, 1)


def plan_for(remaining: int) -> Plan:
    """A tick as long as the rest of the day: its share is all that is left past the reserve."""
    plan = Plan(NOW, {"tube": PlatformPlan("tube")})
    plan.budgets[SOURCE] = allowance(budgets(remaining=remaining), SOURCE, 0.2, DAY_LEFT_S, {})
    return plan


def candidate(item: Watched, cost: RefreshCost = VIDEOS) -> Candidate:
    flow = "videos" if cost is VIDEOS else "channels"
    return Candidate(item, Refresh(flow, {"ids": [item.id]}, f"tube:{item.id}"), cost)


def test_fifty_videos_a_unit_and_never_past_the_share() -> None:
    plan = plan_for(remaining=203)  # a share of 3 units this tick
    due = [candidate(watched(f"v{n}", 1, None)) for n in range(400)]
    choose(plan, due, limit=10_000)
    [flow] = plan.platforms["tube"].flows.values()
    assert (len(flow.chosen), flow.calls, flow.units) == (150, 3, 3)
    assert [c.item.id for c in flow.chosen] == [f"v{n}" for n in range(150)]
    assert plan.budgets[SOURCE].lines[0].spent == 3


def test_cheaper_refreshes_still_fit_when_a_dearer_one_does_not() -> None:
    plan = plan_for(remaining=202)  # 2 units
    urgent_channels = [candidate(watched(f"c{n}", 9, None), CHANNELS) for n in range(3)]
    videos = [candidate(watched(f"v{n}", 1, None)) for n in range(60)]
    choose(plan, urgent_channels + videos, limit=10_000)
    flows = plan.platforms["tube"].flows
    assert len(flows["channels"].chosen) == 2 and "videos" not in {
        f for f, p in flows.items() if p.chosen}
    plan = plan_for(remaining=202)
    choose(plan, videos[:1] + urgent_channels + videos[1:], limit=10_000)
    # the first video opened a call: the other 49 ride in it for nothing
    assert len(flows := plan.platforms["tube"].flows) == 2
    assert (len(flows["videos"].chosen), len(flows["channels"].chosen)) == (50, 1)


def test_the_cap_per_tick_holds_without_a_budget() -> None:
    plan = Plan(NOW, {"tube": PlatformPlan("tube")})
    due = [Candidate(watched(f"v{n}", 1, None), Refresh("free", {}, f"k{n}"), None)
           for n in range(30)]
    choose(plan, due, limit=25)
    assert len(plan.chosen) == 25


def test_staleness_adds_urgency_only_up_to_the_cap() -> None:
    items = [watched("long-stale", 1, 36_000), watched("important", 4, 3600),
             watched("new", 3, None)]
    assert [i.id for i in urgency_order(items, NOW)] == ["new", "long-stale", "important"]
    # stale or not is what counts: past two target ages an item gains no more urgency
    assert [i.id for i in urgency_order(items, NOW, cap=2)] == [
        "new", "important", "long-stale"]
