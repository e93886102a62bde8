"""`beat bench hosts` on a small scale: namespaced hosts drain through their own forwarders
(needs root, as CI runs), and anyone else is told in one line that it needs root."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.hosts_bench import run_hosts_bench
from bench.netns import NotRoot, require_root
from core.config import Settings

PROCESSES = 1
ROOT = Path(__file__).resolve().parents[1]


def test_hosts_bench_drains_with_one_two_and_three_hosts(database_url: str) -> None:
    try:
        require_root("the hosts benchmark test")
    except NotRoot as exc:
        pytest.fail(str(exc), pytrace=False)
    line = run_hosts_bench(Settings(database_url=database_url), tasks=3000,
                           host_counts=[1, 2, 3], processes=PROCESSES)
    assert line["system"] == "beat-hosts" and line["tasks"] == 3000
    assert set(line["tasks_per_s"]) == set(line["runs"]) == {"1", "2", "3"}
    for count, rate in line["tasks_per_s"].items():
        assert rate == pytest.approx(3000 / line["seconds"][count], rel=1e-3)
        assert line["runs"][count] == [round(rate, 1)]
    assert line["speedup_over_1_host"]["1"] == 1.0
    # Each host holds, per worker process, its pool (1 to 4) and one LISTEN connection, plus
    # its maintenance child's one: never more, and the total grows with the hosts.
    for count, per_host in line["pg_connections_per_host"].items():
        assert 2 * PROCESSES + 1 <= per_host <= 5 * PROCESSES + 1, line
        assert per_host <= line["pg_connections"][count] <= per_host * int(count), line
    assert line["pg_connections"]["3"] > line["pg_connections"]["1"]


def test_hosts_bench_says_in_one_line_that_it_needs_root(database_url: str) -> None:
    """Run as another user (here: the same command with geteuid answering 1000), the command
    fails at once with exit code 2 and one line."""
    as_user = "import os, sys; os.geteuid = lambda: 1000; from core.cli import main; main()"
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, "-c", as_user, "bench", "hosts", "--tasks", "10",
                           "--json"], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert (done.returncode, done.stdout) == (2, ""), done
    assert done.stderr.strip() == (
        "beat: beat bench hosts needs root: it creates network namespaces and veth pairs "
        "(ip netns add, CAP_NET_ADMIN); run it as root")
