"""The assets worker: media download behind an SSRF guard, Pillow compression and S3 (or local
directory) storage, registered with Beat like a platform (flows and settings, no URLs of its
own) so that core never names it. `assets_worker.py` runs its flows."""

from assets.settings import AssetsSettings
from core.platforms import Platform

PLATFORM = Platform(
    name="assets",
    flows="assets.flows",
    settings=AssetsSettings,
    asset_flow="asset_upload_flow",
    description="images of stored items: download (SSRF-guarded), compress, store (S3 or a "
                "local directory)",
)
