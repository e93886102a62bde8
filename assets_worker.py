"""Assets worker entry point: the worker runtime restricted to the asset flows (platform ASSETS)."""

from core.cli import main

if __name__ == "__main__":
    main(["worker", "--platform", "ASSETS"])
