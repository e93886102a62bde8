"""Running `beat` commands in tests as processes of their own, each forked from a server that
has imported Beat already (tests/cli_forkserver.py, one per test process). A command sees
exactly the environment, working directory and standard input it is given and exits as
`python -m core.cli` would, without paying a fresh interpreter's second of imports: the suite
runs a few hundred of them. Commands that stay up (`beat up`, `status --watch`) and those that
load other code first (BEAT_PLATFORMS plugins) still start a fresh interpreter."""

import atexit
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
_server: subprocess.Popen[str] | None = None
_lock = threading.Lock()


def _started() -> subprocess.Popen[str]:
    global _server
    if _server is None or _server.poll() is not None:
        _server = subprocess.Popen([sys.executable, "-m", "tests.cli_forkserver"], cwd=ROOT,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert _server.stdout is not None
        ready = _server.stdout.readline()
        if not ready:
            raise RuntimeError(f"the beat fork server exited with {_server.wait()}")
        atexit.register(_server.kill)
    return _server


def _answer(stream: IO[str], timeout: float) -> str:
    """The server's next line; it kills a command past its timeout, so this only guards
    against the server itself hanging."""
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout + 30)
    if not found or not found[0]:
        raise RuntimeError("the beat fork server did not answer")
    return found[0]


def run(args: list[str], env: dict[str, str], *, cwd: Path = ROOT, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`beat ARGS` as subprocess.run([... "core.cli", *args], env=env, cwd=cwd, input=input,
    capture_output=True, text=True, timeout=timeout) would run it."""
    command = [sys.executable, "-m", "core.cli", *args]
    with _lock, tempfile.TemporaryDirectory(prefix="beat-cli-") as scratch:
        files = {name: Path(scratch) / name for name in ("stdin", "stdout", "stderr")}
        files["stdin"].write_text(input or "", encoding="utf-8")
        request = {"args": args, "env": env, "cwd": str(cwd), "timeout": timeout,
                   **{name: str(path) for name, path in files.items()}}
        server = _started()
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        answer = json.loads(_answer(server.stdout, timeout))
        stdout = files["stdout"].read_text(encoding="utf-8", errors="replace")
        stderr = files["stderr"].read_text(encoding="utf-8", errors="replace")
    if answer.get("timeout"):
        raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
    return subprocess.CompletedProcess(command, answer["code"], stdout, stderr)
