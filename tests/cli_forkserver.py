"""The fork server behind tests/beat_cli.py: it imports Beat's CLI, its platforms and their
flows once, then, for each request (one JSON line on its standard input), forks a process that
runs `beat ARGS` as a fresh one would (`core.cli.main`, the given environment, working
directory and standard input, standard output and error to the given files), waits for it
within the request's timeout (then kills its process group) and answers with a JSON line:
{"code": N} or {"timeout": true}. Run as `python -m tests.cli_forkserver`."""

import atexit
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from typing import Any, NoReturn


def preload() -> None:
    """What every command imports anyway: the CLI, the platforms and their flows."""
    import core.cli  # noqa: F401
    from core.config import Settings
    from core.flows import load_flows

    # A command that needs them says what is wrong itself.
    with contextlib.suppress(Exception):
        load_flows(Settings())


def run_command(request: dict[str, Any]) -> NoReturn:
    """In the forked process: become `beat ARGS` and exit as it would."""
    os.setpgid(0, 0)
    for fd, path, flags in ((0, request["stdin"], os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8",  # noqa: SIM115
                      errors="backslashreplace", closefd=False)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = ["beat", *request["args"]]
    code: Any = 0
    try:
        from core.cli import main

        main(list(request["args"]))
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 - what the interpreter would print and exit with
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def wait(pid: int, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {"code": os.waitstatus_to_exitcode(status)}
        if time.monotonic() > deadline:
            os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return {"timeout": True}
        time.sleep(0.005)


def serve() -> None:
    preload()
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    ready = {"ready": os.getpid()}
    answers.write(json.dumps(ready) + "\n")
    for line in iter(requests.readline, b""):
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                requests.close()
                answers.close()
                run_command(request)
            finally:  # never back into this loop
                os._exit(1)
        answers.write(json.dumps(wait(pid, request["timeout"])) + "\n")


if __name__ == "__main__":
    serve()
