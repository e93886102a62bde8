"""Run the sandbox over HTTP: `run("127.0.0.1", 8900, seed=1)` or
`python -m sandbox.server --port 8900 --seed 1 [--latency-ms 50 --error-rate 0.1 ...]`."""

import argparse

import uvicorn

from sandbox.app import create_sandbox_app
from sandbox.faults import Faults
from youtube.settings import SANDBOX_KEYS


def run(host: str = "127.0.0.1", port: int = 8900, seed: int = 1,
        keys: dict[str, int] | None = None, faults: Faults | None = None,
        log_level: str = "warning") -> None:
    """Serve the sandbox until interrupted (one process; latency is async, so it stays
    responsive under many concurrent slow calls)."""
    app = create_sandbox_app(seed=seed, keys=keys, faults=faults)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quota", type=int, default=None,
                        help="daily units of each default key (default 10000)")
    for name in ("latency-ms", "error-rate", "rate-limit-rate", "malformed-rate",
                 "slow-body-ms"):
        parser.add_argument(f"--{name}", type=float, default=0.0)
    args = parser.parse_args(argv)
    keys = None if args.quota is None else {k: args.quota for k in SANDBOX_KEYS}
    faults = Faults(latency_ms=args.latency_ms, error_rate=args.error_rate,
                    rate_limit_rate=args.rate_limit_rate, malformed_rate=args.malformed_rate,
                    slow_body_ms=args.slow_body_ms)
    run(args.host, args.port, args.seed, keys, faults)


if __name__ == "__main__":
    main()
