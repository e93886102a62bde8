"""Assets worker entry point: the worker runtime restricted to the asset flows (platform ASSETS).

No flow has platform ASSETS yet, so it says so and exits with code 2."""

from core.cli import main

if __name__ == "__main__":
    main(["worker", "--platform", "ASSETS"])
