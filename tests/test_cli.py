"""The `beat` command line, run as a user runs it: a real process (forked from one that has
imported Beat, tests/beat_cli.py; `beat up` a fresh interpreter), real PostgreSQL."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from core import metrics
from tests import beat_cli

ROOT = Path(__file__).parent.parent


def beat_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(values)
    return env


def beat(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return beat_cli.run(list(args), env, timeout=timeout)


@pytest.fixture(scope="module")
def env(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return beat_env(DATABASE_URL=database_url, BEAT_HOME=str(tmp_path_factory.mktemp("home")))


async def execute(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def test_flows_json_lists_each_flow_with_its_settings(env: dict[str, str]) -> None:
    result = beat("flows", "--json", env=env)
    assert result.returncode == 0, result.stderr
    flows = {f["name"]: f for f in map(json.loads, result.stdout.splitlines())}
    assert {"noop", "sleep"} <= set(flows)
    assert flows["noop"]["processes"] >= 1 and flows["noop"]["concurrency"] >= 1
    assert flows["sleep"]["params_schema"]["required"] == ["seconds"]


def test_flow_overrides_change_the_settings(env: dict[str, str]) -> None:
    overridden = {**env, "FLOW_OVERRIDES": '{"sleep": {"processes": 7, "concurrency": 3}}'}
    flows = [json.loads(line)
             for line in beat("flows", "--json", env=overridden).stdout.splitlines()]
    sleep = next(f for f in flows if f["name"] == "sleep")
    assert (sleep["processes"], sleep["concurrency"]) == (7, 3)


def test_enqueue_prints_the_task_and_dedupes(env: dict[str, str]) -> None:
    first = beat("enqueue", "sleep", "--params", '{"seconds": 1}', "--key", "cli-1", env=env)
    assert first.returncode == 0, first.stderr
    task = json.loads(first.stdout)
    assert task["created"] and task["status"] == "PENDING" and task["params"] == {"seconds": 1}
    again = json.loads(beat("enqueue", "sleep", "--params", '{"seconds": 2}', "--key", "cli-1",
                            env=env).stdout)
    assert not again["created"] and again["id"] == task["id"]


@pytest.mark.parametrize("args, message", [
    (["enqueue", "nosuchflow"], "unknown flow"),
    (["enqueue", "sleep", "--params", "{not json"], "invalid params"),
    (["enqueue", "sleep", "--params", '{"seconds": "abc"}'], "seconds"),
    (["requeue", "--status", "PENDING"], "finished status"),
    (["server", "--host", "0.0.0.0"], "without API keys"),
    (["up", "--host", "0.0.0.0"], "without API keys"),
])
def test_bad_input_exits_2_with_one_line(env: dict[str, str], args: list[str],
                                         message: str) -> None:
    result = beat(*args, env=env)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_no_database_configured_is_one_line(tmp_path: Path) -> None:
    result = beat("status", env=beat_env(BEAT_HOME=str(tmp_path)))
    assert result.returncode == 2
    assert "DATABASE_URL is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


SECRET = "AIzaSyTopSecretKeyValue1234567890abcd"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("YOUTUBE_API_KEYS", f'["{SECRET}", "k2"', "YOUTUBE_API_KEYS: Value error"),
    ("BEAT_API_KEYS", f"[{SECRET}", "BEAT_API_KEYS: Value error"),
    ("BEAT_ADMIN_KEYS", f'["{SECRET}", 5]', "BEAT_ADMIN_KEYS.1: Input should be a valid string"),
    ("FLOW_OVERRIDES", '{"noop": {"processes": "' + SECRET + '"', "FLOW_OVERRIDES: not valid"),
    ("QUEUE_LEASE_SECONDS", SECRET, "QUEUE_LEASE_SECONDS: Input should be a valid number"),
])
def test_a_malformed_setting_is_one_line_that_never_shows_its_value(
        env: dict[str, str], name: str, value: str, message: str) -> None:
    """A typo in a list of keys (a JSON list missing its `]`) is named in one line, exit 2,
    without echoing the value: it holds secrets."""
    result = beat("status", env={**env, name: value})
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "TopSecret" not in result.stderr + result.stdout


def test_status_and_requeue(env: dict[str, str], database_url: str) -> None:
    for _ in range(2):
        beat("enqueue", "sleep", "--params", '{"seconds": 1}', env=env)
    rows = [json.loads(line) for line in beat("status", "--json", env=env).stdout.splitlines()]
    sleep = next(r for r in rows if r["flow"] == "sleep")
    assert sleep["pending"] >= 1
    asyncio.run(execute(database_url,
                        "UPDATE scrape_request_log SET status = 'FAILED', scraped_at = now()"))
    result = beat("requeue", "--status", "FAILED", "--flow", "sleep", env=env)
    assert result.returncode == 0 and "requeued" in result.stdout
    count = int(result.stdout.split()[1])
    assert count >= 2
    rows = [json.loads(line) for line in beat("status", "--json", env=env).stdout.splitlines()]
    assert next(r for r in rows if r["flow"] == "sleep")["pending"] == count


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_up_runs_everything_on_embedded_services_and_keeps_the_data(tmp_path: Path) -> None:
    """`beat up` with nothing configured: embedded PostgreSQL + Redis, server, workers and
    the sandbox; a command run beside it (`beat links --sheet`) finds its database and its
    sandbox; Ctrl-C stops it all; the next start finds the earlier tasks."""
    env, port = beat_env(BEAT_HOME=str(tmp_path / "home")), free_port()
    for name in ("SANDBOX_URL", "GOOGLE_SERVICE_ACCOUNT_FILE", "GOOGLE_SERVICE_ACCOUNT_JSON"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "core.cli", "up", "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def stop(process: subprocess.Popen[str]) -> str:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output
        return output

    up = start()
    try:
        assert wait_for(f"{base}/heartbeat").json() == {"beat": True}
        task = httpx.post(f"{base}/scrape_request_log/flow/sleep",
                          json={"params": {"seconds": 0.1}}).json()
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/scrape_request_log/flow/{task['id']}").json()["status"] \
                != "COMPLETE":
            assert time.monotonic() < deadline, "task did not complete"
            time.sleep(0.1)
        # The server's /metrics shows the worker's samples: `beat up` gives both one directory.
        while metrics.parse(httpx.get(f"{base}/metrics").text).get(
                ("beat_tasks_finished_total",
                 frozenset({("flow", "sleep"), ("status", "COMPLETE")}))) != 1:
            assert time.monotonic() < deadline, "the worker's samples never showed"
            time.sleep(0.1)
        links_beside_up(env, tmp_path / "home")
    finally:
        output = stop(up)
    assert "stopped embedded PostgreSQL" in output and "Traceback" not in output
    # One worker process per platform (flows of no platform together), not one per flow.
    flows = [json.loads(line) for line in beat("flows", "--json", env=env).stdout.splitlines()]
    groups = {(f["platform"] or "core").lower() for f in flows if f["processes"] > 0}
    assert f"supervisor: {len(groups)} worker processes for " in output, output
    # Ctrl-C reaches the workers as SIGINT, once.
    assert "supervisor got SIGINT: stopping" in output and "got SIGTERM" not in output
    assert "supervisor got SIGINT again" not in output
    up = start()
    try:
        wait_for(f"{base}/heartbeat")
        again = httpx.get(f"{base}/scrape_request_log/flow/{task['id']}").json()
        assert again["status"] == "COMPLETE" and again["data"] == {"slept": 0.1}
    finally:
        stop(up)


def links_beside_up(env: dict[str, str], home: Path) -> None:
    """`beat links --sheet` with neither DATABASE_URL nor SANDBOX_URL set: the running
    `beat up`'s database and sandbox (the sheet, the t.co redirect, the platforms)."""
    sandbox_url = json.loads((home / "services.json").read_text())["sandbox_url"]
    links = ["https://www.youtube.com/@luckyathletics43", "https://t.co/bEaT001"]
    made = httpx.post(f"{sandbox_url}/_sandbox/sheets",
                      json={"rows": [["link"], *([url] for url in links)], "shared": True})
    made.raise_for_status()
    result = beat("links", "--sheet", made.json()["url"], "--timeout", "60", env=env,
                  timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 rows, 2 ok, 0 failed"), result.stdout
    tabs = httpx.get(f"{sandbox_url}/_sandbox/sheets/{made.json()['spreadsheet_id']}").json()
    report = tabs["tabs"][1]["values"]
    assert [line[1] for line in report[1:]] == ["youtube", "x"]
    assert [line[-1] for line in report[1:]] == ["ok", "ok"]


FIXTURES = ROOT.parent / "shared" / "fixtures" / "youtube"


def test_parse_prints_one_normalized_line_per_entity(env: dict[str, str]) -> None:
    result = beat("parse", "--platform", "youtube",
                  str(FIXTURES / "yt_videos_list_statistics_single.json"), env=env)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [{"platform": "youtube", "kind": "post", "id": "D-lhorsDlUQ", "likes": 190,
                      "comments": 32, "shares": None, "views": 7920, "followers": None,
                      "caption": "What are Actions on Google (Assistant on Air)",
                      "published_at": "2019-03-21T20:37:49Z", "author": "Google Developers",
                      "source": "youtube_data_api"}]


@pytest.mark.parametrize("args, message", [
    (["--platform", "youtube", str(FIXTURES / "yt_error_403_quotaExceeded.json")],
     "quotaExceeded"),
    (["--platform", "tiktok", str(FIXTURES / "yt_channels_list_single.json")],
     "unknown platform"),
    (["--platform", "youtube", "/no/such/file.json"], "cannot read"),
    (["--platform", "youtube", str(ROOT / "README.md")], "is not JSON"),
])
def test_parse_refuses_with_exit_2_and_one_line(env: dict[str, str], args: list[str],
                                                message: str) -> None:
    result = beat("parse", *args, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


async def wait_handed_out(url: str) -> None:
    """Until every outbox row is older than every running transaction: only then is it handed
    out, and another database's transaction on the same server may hold it back a moment."""
    conn = await asyncpg.connect(url)
    try:
        for _ in range(100):
            if not await conn.fetchval("SELECT count(*) FROM event_outbox "
                                       "WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())"):
                return
            await asyncio.sleep(0.1)
        raise AssertionError("outbox rows still held back after 10 s")
    finally:
        await conn.close()


def test_events_tail_prints_the_outbox_as_json_lines(env: dict[str, str],
                                                     database_url: str) -> None:
    asyncio.run(execute(database_url, "INSERT INTO event_outbox (type, entity_key) "
                                      "VALUES ('profile.youtube.created', 'UCx')"))
    asyncio.run(wait_handed_out(database_url))
    result = beat("events", "tail", env=env)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["type"] == "profile.youtube.created"
    txid, _, row_id = events[-1]["cursor"].partition("-")
    assert int(txid) >= 1 and int(row_id) >= 1
    after = beat("events", "tail", "--after", events[-1]["cursor"], env=env)
    assert after.returncode == 0 and after.stdout == "", after.stderr


@pytest.mark.parametrize("after", ["12", "1-x", f"{2**63}-1"])
def test_events_tail_refuses_a_cursor_it_never_gave_with_exit_2(env: dict[str, str],
                                                                after: str) -> None:
    result = beat("events", "tail", "--after", after, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert "cursor" in result.stderr and len(result.stderr.strip().splitlines()) == 1


BOX_CHARACTERS = set("╭╮╰╯│─┃━")


@pytest.mark.parametrize("args, says", [
    (["enqueue"], "missing argument 'flow'"),
    (["status", "--bogus"], "no such option: --bogus"),
    (["requeue", "--status", "NOPE"], "'NOPE' is not one of"),
    (["sandbox", "--port", "abc"], "'--port'"),
    (["nosuch"], "no such command 'nosuch'"),
    (["worker", "extra"], "unexpected extra argument"),
    (["enqueue", "sleep", "--priority"], "'--priority' requires an argument"),
    (["bench", "queue", "--jobs", "many"], "'--jobs'"),
    (["events", "tail", "--after", "x"], "'--after'"),
    (["task"], "missing argument"),
    (["task", "abc"], "invalid value for 'ID'"),
    (["enqueue", "sleep", "--wait=yes"], "--wait"),
])
def test_usage_errors_exit_2_with_one_plain_line(env: dict[str, str], args: list[str],
                                                 says: str) -> None:
    result = beat(*args, env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert lines[0].startswith("beat") and "--help" in lines[0]
    for noise in ("Error", "Traceback", "Usage:", "Parameter", "Option:"):
        assert noise not in lines[0]
    assert not BOX_CHARACTERS & set(result.stderr) and result.stdout == ""


@pytest.mark.parametrize("command, default", [
    (["worker"], "--flows <str> Comma-separated flows [default: all]"),
    (["enqueue"], "[default: {}]"),
    (["requeue"], "[default: FAILED]"),
    (["up"], "API port [default: SERVER_PORT, 8000]"),
    (["server"], "Bind address [default: SERVER_HOST, 127.0.0.1]"),
    (["sandbox"], "[default: 8900]"),
    (["bench", "queue"], "[default: 200000]"),
    (["status"], "--json JSON lines"),
])
def test_help_shows_flags_without_type_tags_and_with_defaults(env: dict[str, str],
                                                              command: list[str],
                                                              default: str) -> None:
    result = beat(*command, "--help", env={**env, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout and not BOX_CHARACTERS & set(result.stdout)
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert default in " ".join(result.stdout.split())


def test_requeue_counts_in_words(env: dict[str, str], database_url: str) -> None:
    asyncio.run(execute(database_url, "DELETE FROM scrape_request_log"))
    beat("enqueue", "sleep", "--params", '{"seconds": 1}', env=env)
    asyncio.run(execute(database_url,
                        "UPDATE scrape_request_log SET status = 'FAILED', scraped_at = now()"))
    assert beat("requeue", env=env).stdout.strip() == "requeued 1 task"
    assert beat("requeue", env=env).stdout.strip() == "requeued 0 tasks"


def test_flows_fit_80_columns_with_whole_names_and_say_the_up_process_cap(
        env: dict[str, str]) -> None:
    names = [json.loads(line)["name"]
             for line in beat("flows", "--json", env=env).stdout.splitlines()]
    result = beat("flows", env={**env, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    first_words = [line.split()[0] for line in lines if line and not line.startswith(" ")]
    assert set(names) <= set(first_words)
    refresh_profiles = next(line for line in lines if line.startswith("refresh_yt_profiles "))
    assert "10 x 5" in refresh_profiles
    assert "`beat up` starts 1 process per platform" in " ".join(result.stdout.split())


def test_status_fits_80_columns_with_whole_names_and_a_dash_when_nothing_waits(
        env: dict[str, str], database_url: str) -> None:
    names = [json.loads(line)["name"]
             for line in beat("flows", "--json", env=env).stdout.splitlines()]
    asyncio.run(execute(database_url, f"""
        DELETE FROM scrape_request_log;
        INSERT INTO scrape_request_log (flow, params, status, scraped_at)
        SELECT name, '{{}}', 'COMPLETE', now()
          FROM unnest(ARRAY{names!r}::text[]) AS name;
        INSERT INTO scrape_request_log (flow, params, created_at)
        VALUES ('sleep', '{{"seconds": 1}}', now() - interval '3 minutes 5 seconds')"""))
    result = beat("status", env={**env, "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert set(names) <= set(rows)
    assert rows["sleep"][0] == "1" and rows["sleep"][3].startswith("3m")
    assert rows["refresh_yt_posts_by_playlist_id"][0] == "0"
    assert rows["refresh_yt_posts_by_playlist_id"][3] == "-"


@pytest.mark.parametrize("command", ["up", "server"])
def test_a_taken_port_is_refused_before_anything_starts(env: dict[str, str], tmp_path: Path,
                                                        command: str) -> None:
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        # `beat up` as a new user runs it: nothing configured, so it would start PostgreSQL.
        base = beat_env() if command == "up" else env
        result = beat(command, "--port", str(port), env={**base, "BEAT_HOME": str(home)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"beat: port {port} is in use (another beat up?); use --port"
    assert time.monotonic() - started < 15
    assert not home.exists() or not any(home.iterdir())  # no database, no services file


@pytest.mark.parametrize("args, says", [
    (["worker", "--flows", "nosuch"], "beat: unknown flows: nosuch (see `beat flows`)"),
    (["worker", "--platform", "NOSUCH"], "beat: no flow of platform NOSUCH exists yet"),
])
def test_a_worker_with_nothing_to_run_says_so_before_asking_any_service(
        env: dict[str, str], args: list[str], says: str) -> None:
    """No secret key, and a database that is not migrated: the flow choice is told first."""
    bare = {k: v for k, v in env.items() if k != "BEAT_SECRET_KEY"}
    bare["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:1/nowhere"
    result = beat(*args, env=bare)
    assert result.returncode == 2 and result.stderr.startswith(says), result.stderr


def test_status_shows_the_outbox_backlog(env: dict[str, str], database_url: str) -> None:
    asyncio.run(execute(database_url, """
        DELETE FROM event_outbox;
        INSERT INTO event_outbox (type, status, occurred_at)
        VALUES ('task.finished', 'PENDING', now() - interval '2 minutes 10 seconds'),
               ('task.finished', 'PENDING', now()),
               ('task.finished', 'PARKED', now() - interval '1 minute 5 seconds'),
               ('task.finished', 'SENT', now() - interval '1 hour')"""))
    result = beat("status", env=env)
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.startswith("outbox: 2 events pending (oldest 2m") and "1 event parked" in last
    asyncio.run(execute(database_url, "DELETE FROM event_outbox WHERE status <> 'SENT'"))
    assert beat("status", env=env).stdout.splitlines()[-1] == "outbox: nothing unsent"
