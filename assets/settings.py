"""The assets worker's settings, read from the environment (names given below, no common
prefix: the S3 ones read as every S3 tool spells them). With no bucket set, assets go to a local
directory under BEAT_HOME, behind the same interface as S3."""

import ipaddress
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from core.config import Settings, split_list
from core.platforms import PlatformSettings


class AssetsSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="")
    platform: ClassVar[str] = "assets"

    # Where assets go: S3 (any S3-compatible store) when S3_BUCKET is set, else ASSETS_DIR.
    s3_bucket: str | None = None
    s3_prefix: str = "assets/"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # The public base URL of stored assets (a CDN in front of the bucket); without it, the
    # bucket's own URL (S3) or a file:// URL (the local directory).
    assets_public_url: str | None = None
    assets_dir: Path | None = None  # default: BEAT_HOME/assets

    # Downloads: body cap, whole-download deadline, redirects followed (each one re-checked).
    assets_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    assets_timeout_s: float = Field(default=20.0, gt=0)
    assets_max_redirects: int = Field(default=5, ge=0, le=20)
    # Decoded size refused before any pixel is decoded (width x height).
    assets_max_pixels: int = Field(default=50_000_000, ge=1)
    # Processing: the longest side after thumbnailing, the output format and its quality.
    assets_max_side: int = Field(default=1080, ge=16, le=10_000)
    assets_format: Literal["jpeg", "webp"] = "jpeg"
    assets_quality: int = Field(default=30, ge=1, le=95)

    # Addresses the SSRF guard lets through although they are not public: `ADDRESS:PORT`
    # (`[v6]:PORT`) or a network (`10.1.0.0/16`, any port). In sandbox mode (SANDBOX_URL) the
    # sandbox's own address and port are added.
    assets_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Fixed answers for host names, as curl's --resolve: {"cdn.example.com": "203.0.113.7"}.
    # Checked like any DNS answer; used before DNS.
    assets_resolve: dict[str, str] = Field(default_factory=dict)

    @field_validator("assets_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_list(value)

    @field_validator("assets_allow")
    @classmethod
    def _allow_entries(cls, entries: list[str]) -> list[str]:
        from assets.guard import Allowlist

        Allowlist(entries)  # ValueError naming the entry it cannot read
        return entries

    @field_validator("assets_resolve")
    @classmethod
    def _addresses(cls, fixed: dict[str, str]) -> dict[str, str]:
        for host, address in fixed.items():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"ASSETS_RESOLVE: {host} -> {address!r} is not an IP "
                                 "address") from None
        return fixed

    def secrets(self) -> list[str]:
        return [self.s3_secret_access_key.get_secret_value()] if self.s3_secret_access_key \
            else []

    def directory(self, settings: Settings) -> Path:
        return self.assets_dir or settings.beat_home / "assets"
