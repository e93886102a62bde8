"""The Beat HTTP API: `create_app()` builds the FastAPI app; routers live in core/api/."""

from core.api.app import create_app

__all__ = ["create_app"]

if __name__ == "__main__":
    from core.cli import main

    main(["server"])
