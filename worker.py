"""Worker entry point: `python worker.py` (or `beat worker`) runs the supervisor for every flow."""

from core.cli import main

if __name__ == "__main__":
    main(["worker"])
