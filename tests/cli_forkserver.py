"""The fork server behind tests/beat_cli.py: it imports Beat's CLI, API, sandbox, platforms and
their flows once, then answers requests, one JSON line each on its standard input:

- {"op": "spawn", "args", "env", "cwd", "stdin", "stdout", "stderr", "group"}: fork a process
  that runs `beat ARGS` as a fresh one would (`core.cli.main`, exactly that environment,
  working directory and standard streams, the latter files); `group`: in a process group of
  its own. Answers {"pid": N}.
- {"op": "poll", "pid"}: {"code": N} once it has exited (-N: killed by signal N), else null.

Every answer is immediate: a command's time is the client's to bound. Run as
`python -m tests.cli_forkserver`."""

import atexit
import contextlib
import io
import json
import os
import sys
import traceback
from typing import Any, NoReturn


def preload() -> None:
    """What the commands import anyway: the CLI, the API, the sandbox, the platforms and their
    flows."""
    import uvicorn  # noqa: F401

    import core.api.app
    import core.cli  # noqa: F401
    import sandbox.app  # noqa: F401
    from core.config import Settings
    from core.flows import load_flows

    # A command that needs them says what is wrong itself.
    with contextlib.suppress(Exception):
        load_flows(Settings())


def _text(fd: int) -> io.TextIOWrapper:
    """An unbuffered text stream on `fd` (as PYTHONUNBUFFERED gives): a log read while the
    process runs is whole up to its last line."""
    return io.TextIOWrapper(io.FileIO(fd, "r" if fd == 0 else "w", closefd=False),
                            encoding="utf-8", errors="strict" if fd == 0 else "backslashreplace",
                            write_through=True)


def run_command(request: dict[str, Any]) -> NoReturn:
    """In the forked process: become `beat ARGS` and exit as it would."""
    if request.get("group"):
        os.setpgid(0, 0)
    for fd, path, flags in ((0, request["stdin"], os.O_RDONLY),
                            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_APPEND),
                            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin, sys.stdout, sys.stderr = _text(0), _text(1), _text(2)
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
    finally:
        os._exit(code)


def reap(codes: dict[int, int]) -> None:
    """The exit codes of the children that have exited since the last look."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        codes[pid] = os.waitstatus_to_exitcode(status)


def serve() -> None:
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # whatever the imports print goes to stderr, never into the answers
    preload()
    answers.write(json.dumps({"ready": os.getpid()}) + "\n")
    codes: dict[int, int] = {}
    for line in iter(requests.readline, b""):
        request = json.loads(line)
        reap(codes)
        if request["op"] == "poll":
            answers.write(json.dumps({"code": codes.get(request["pid"])}) + "\n")
            continue
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
        answers.write(json.dumps({"pid": pid}) + "\n")


if __name__ == "__main__":
    serve()
