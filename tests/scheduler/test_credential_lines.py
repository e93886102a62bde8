"""Budget lines of sources whose credentials have call limits of their own (a Graph API
token's 200 calls an hour, an X account's GraphQL window): each limit is one line summed over
the usable credentials (a call may go out with any of them), counted in calls whatever a
refresh's units, beside the source's own limits, and fewer when the platform last said fewer
are left; a short window keeps the reserve's share of each window; a source whose credentials
all rest is blocked, and a refresh then falls to the next source of its chain when the
platform names one."""

from datetime import UTC, datetime, timedelta
from typing import Any

from core.budgets import Budgets, CredentialBudget, LimitBudget, SourceBudget
from core.platforms import RefreshCost
from core.scheduler.budget import allowance, needs_credential, per_day, route

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SOURCE = "graph"
PROFILE = RefreshCost(SOURCE)
DEAR = RefreshCost(SOURCE, units=5)  # units count against a quota, never a call limit
HOUR_S = 3600.0


def calls(credential: int, used: int, allowed: int = 200, window_s: float = HOUR_S
          ) -> LimitBudget:
    return LimitBudget(f"credential:{credential}:{allowed}/{window_s:g}s", allowed, window_s,
                       used, allowed - used, NOW + timedelta(minutes=10))


def token(credential: int, used: int, state: str = "usable") -> CredentialBudget:
    return CredentialBudget(credential, None, state, None, [calls(credential, used)])


def budgets(*credentials: CredentialBudget, limits: list[LimitBudget] | None = None
            ) -> Budgets:
    return Budgets(NOW, [SourceBudget(SOURCE, limits or [], list(credentials))], [], "ok")


def test_a_call_limit_is_summed_over_the_usable_credentials() -> None:
    found = budgets(token(1, 50), token(2, 120), token(3, 0, state="resting"))
    room = allowance(found, SOURCE, 0.2, 60, {PROFILE: 4})
    [line] = room.lines
    assert line.name == f"credential:{SOURCE}:200/3600s:2 credentials"
    assert (line.quota, line.allowed, line.remaining, line.reserve, line.in_flight) == (
        False, 400, 230, 80, 4)
    # a minute of the hour the sliding window spans: what is left past the reserve and the
    # queued refreshes, spread over it
    assert line.share == (230 - 80 - 4) * 60 / HOUR_S
    assert room.blocked is None


def test_a_tick_takes_calls_not_units_from_a_call_limit_and_never_past_its_share() -> None:
    room = allowance(budgets(token(1, 0), token(2, 0)), SOURCE, 0.2, 900, {})
    [line] = room.lines
    assert line.share == (400 - 80) * 900 / HOUR_S == 80
    taken = 0
    while room.fits(DEAR, 1):
        room.take(DEAR, 1)
        taken += 1
    assert taken == 80 and line.spent == 80 and line.left == 400 - 80


def test_a_refresh_that_reads_pages_takes_each_request_from_a_call_limit() -> None:
    pages = RefreshCost(SOURCE, requests=3)  # e.g. a search and two pages
    room = allowance(budgets(token(1, 0), token(2, 0)), SOURCE, 0.2, 900, {pages: 2})
    [line] = room.lines
    assert line.in_flight == 6  # two queued refreshes, three requests each
    assert line.share == (400 - 80 - 6) * 900 / HOUR_S
    taken = 0
    while room.fits(pages, 1):
        room.take(pages, 1)
        taken += 1
    assert taken == int(line.share // 3) and line.spent == 3 * taken <= line.share


def test_every_limit_of_the_source_and_its_credentials_is_a_line() -> None:
    source_limits = [LimitBudget(f"source:{SOURCE}:1/1s", 1, 1.0, 0, 1, None),
                     LimitBudget(f"source:{SOURCE}:150/900s", 150, 900.0, 30, 120, None)]
    room = allowance(budgets(token(1, 190), limits=source_limits), SOURCE, 0.2, 60, {})
    assert [line.name for line in room.lines] == [
        f"credential:{SOURCE}:200/3600s:1 credential", f"source:{SOURCE}:1/1s",
        f"source:{SOURCE}:150/900s"]
    token_line, per_second, window = room.lines
    assert token_line.share == 0  # 10 left, 40 kept
    # A window shorter than the tick refills within it: the reserve is its share of each
    # window (the whole of one call a second would leave nothing).
    assert per_second.share == 1 * 0.8 * 60
    assert window.share == (120 - 30) * 60 / 900
    assert not room.fits(PROFILE, 1)


def test_a_source_whose_credentials_all_rest_is_blocked() -> None:
    room = allowance(budgets(token(1, 0, state="resting"), token(2, 0, state="expired")),
                     SOURCE, 0.2, 60, {})
    assert room.blocked == "no usable credential" and room.lines == []
    assert not room.fits(PROFILE, 1)


def test_what_a_line_allows_a_day_past_its_reserve() -> None:
    [hourly] = allowance(budgets(token(1, 0)), SOURCE, 0.2, 60, {}).lines
    assert per_day(hourly) == 200 * 0.8 * 24
    daily = LimitBudget(f"source:{SOURCE}:1000/86400s", 1000, 86_400.0, 0, 1000, None)
    [line] = allowance(budgets(limits=[daily]), SOURCE, 0.2, 60, {}).lines
    assert per_day(line) == 800


def reported(remaining: int, resets_in_s: float) -> dict[str, Any]:
    return {"remaining": remaining, "limit": 50,
            "resets_at": (NOW + timedelta(seconds=resets_in_s)).isoformat(),
            "at": NOW.isoformat()}


def test_fewer_calls_left_by_the_platforms_word_cap_a_credentials_part_of_a_line() -> None:
    """An X account's last answer said 12 calls are left in its window: the limiter's count
    (150 left) is not all it may spend; once the window has reset, the word says nothing."""
    said = CredentialBudget(1, None, "usable", None, [calls(1, 50)], reported(12, 300))
    other = CredentialBudget(2, None, "usable", None, [calls(2, 0)], reported(40, -5))
    [line] = allowance(budgets(said, other), SOURCE, 0.2, 60, {}).lines
    assert line.remaining == 12 + 200
    assert said.reported_remaining(NOW) == 12 and other.reported_remaining(NOW) is None
    usage = CredentialBudget(3, None, "usable", None, [calls(3, 0)],
                             {"used_pct": 63.0, "rests_at_pct": 80.0, "regains_at": None})
    assert usage.reported_remaining(NOW) is None  # a usage in percent caps no count


TOKEN_CALL = RefreshCost(SOURCE, credential=True, fallback=RefreshCost("provider",
                                                                       credential=True))


def test_a_refresh_falls_to_the_next_source_while_the_first_has_no_usable_credential() -> None:
    provider = SourceBudget("provider", [], [CredentialBudget(9, None, "usable", None, [])])
    resting = Budgets(NOW, [SourceBudget(SOURCE, [], [token(1, 0, state="resting")]),
                            provider], [], "ok")
    assert route(resting, TOKEN_CALL) == TOKEN_CALL.fallback
    assert route(budgets(token(1, 0)), TOKEN_CALL) == TOKEN_CALL
    # no source can serve it: its first, whose allowance says why, even with nothing stored
    nothing = Budgets(NOW, [], [], "ok")
    assert route(nothing, TOKEN_CALL) == TOKEN_CALL
    room = allowance(nothing, SOURCE, 0.2, 60, {}, needs_credential=True)
    assert room.blocked == "no usable credential" and not room.fits(TOKEN_CALL, 1)


def test_a_source_that_answers_without_a_credential_is_not_blocked_by_resting_ones() -> None:
    """X's GraphQL goes out as a guest when no account is usable: its own limits still hold."""
    guest = RefreshCost(SOURCE, credential=False)
    per_window = LimitBudget(f"source:{SOURCE}:150/900s", 150, 900.0, 0, 150, None)
    found = budgets(token(1, 0, state="resting"), limits=[per_window])
    assert route(found, guest) == guest
    room = allowance(found, SOURCE, 0.2, 60, {}, needs_credential=needs_credential([guest]))
    assert room.blocked is None and [line.name for line in room.lines] == [per_window.limit]
    assert needs_credential([guest, TOKEN_CALL]) is True
    assert needs_credential([guest, RefreshCost(SOURCE)]) is None
