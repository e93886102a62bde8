"""Assets worker entry point: the worker runtime restricted to the asset flows (platform ASSETS:
asset_upload_flow and asset_upload_flow_stories, assets/flows.py)."""

from core.cli import main

if __name__ == "__main__":
    main(["worker", "--platform", "ASSETS"])
