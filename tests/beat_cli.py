"""Running `beat` commands in tests as processes of their own, each forked from a server that
has imported Beat already (tests/cli_forkserver.py, one per test process). A command sees
exactly the environment, working directory and standard streams it is given and exits as
`python -m core.cli` would, without paying a fresh interpreter's second of imports: the suite
runs a few hundred of them. `beat up`, commands run under another program (`ip netns exec`)
and those that load other code first (BEAT_PLATFORMS plugins in tests/test_plugins.py) still
start a fresh interpreter."""

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
_server: subprocess.Popen[str] | None = None
_lock = threading.Lock()


def _ask(request: dict[str, Any]) -> dict[str, Any]:
    """The server's answer (immediate: it never waits for a command)."""
    global _server
    with _lock:
        if _server is None or _server.poll() is not None:
            _server = subprocess.Popen([sys.executable, "-m", "tests.cli_forkserver"], cwd=ROOT,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert _server.stdout is not None
            if not _server.stdout.readline():
                raise RuntimeError(f"the beat fork server exited with {_server.wait()}")
            atexit.register(_server.kill)
        assert _server.stdin is not None and _server.stdout is not None
        _server.stdin.write(json.dumps(request) + "\n")
        _server.stdin.flush()
        answer = _server.stdout.readline()
    if not answer:
        raise RuntimeError("the beat fork server exited")
    found: dict[str, Any] = json.loads(answer)
    return found


class Forked:
    """A forked `beat` process, with the part of subprocess.Popen's interface the tests use."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, stdin: str,
                 stdout: str, stderr: str, group: bool = False) -> None:
        self.args = [sys.executable, "-m", "core.cli", *args]
        self.pid: int = _ask({"op": "spawn", "args": args, "env": env, "cwd": str(cwd),
                              "stdin": stdin, "stdout": stdout, "stderr": stderr,
                              "group": group})["pid"]
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _ask({"op": "poll", "pid": self.pid})["code"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.005)
        return code


def spawn(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> Forked:
    """`beat ARGS` left running, standard input empty, its output appended to `log`."""
    return Forked(args, env, cwd, os.devnull, str(log), str(log))


def run(args: list[str], env: dict[str, str], *, cwd: Path = ROOT, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`beat ARGS` as subprocess.run([... "core.cli", *args], env=env, cwd=cwd, input=input,
    capture_output=True, text=True, timeout=timeout) would run it."""
    with tempfile.TemporaryDirectory(prefix="beat-cli-") as scratch:
        files = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr")}
        files["stdin"].write_text(input or "", encoding="utf-8")
        process = Forked(args, env, cwd, str(files["stdin"]), str(files["stdout"]),
                         str(files["stderr"]), group=True)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise subprocess.TimeoutExpired(process.args, timeout,
                                            files["stdout"].read_text(errors="replace"),
                                            files["stderr"].read_text(errors="replace")) from None
        stdout = files["stdout"].read_text(encoding="utf-8", errors="replace")
        stderr = files["stderr"].read_text(encoding="utf-8", errors="replace")
    return subprocess.CompletedProcess(process.args, code, stdout, stderr)
