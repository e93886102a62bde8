"""The sandbox's service account: an RSA key made when the app starts (never stored), the JSON
key file a client loads (token_uri points at the sandbox), and the check of the JWT a client
signs to get a token (RS256, signed by that key, issued by that account's email)."""

import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

EMAIL = "beat-sandbox@beat-sandbox.iam.gserviceaccount.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY_ID = "sandbox-key-1"


class BadAssertion(ValueError):
    """The JWT is malformed, badly signed or not from the sandbox account."""


@dataclass(frozen=True)
class ServiceAccount:
    key: rsa.RSAPrivateKey
    email: str = EMAIL

    @classmethod
    def generate(cls) -> "ServiceAccount":
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def info(self, sandbox_url: str) -> dict[str, str]:
        """The service-account JSON a Google client loads, its tokens from the sandbox."""
        pem = self.key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": "beat-sandbox",
                "private_key_id": KEY_ID, "private_key": pem, "client_email": self.email,
                "client_id": "100000000000000000001",
                "token_uri": f"{sandbox_url.rstrip('/')}/sheets/token",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth"}

    def check(self, assertion: str) -> dict[str, Any]:
        """The JWT's claims when it is well-formed, signed by this key and issued by this
        account's email; BadAssertion saying what is wrong otherwise."""
        parts = assertion.split(".")
        if len(parts) != 3:
            raise BadAssertion("Invalid JWT: not three dot-separated parts")
        try:
            header, claims = (json.loads(_unb64(part)) for part in parts[:2])
            signature = _unb64(parts[2])
        except ValueError:
            raise BadAssertion("Invalid JWT: a part is not base64url JSON") from None
        if header.get("alg") != "RS256":
            raise BadAssertion("Invalid JWT: alg must be RS256")
        try:
            self.key.public_key().verify(signature, f"{parts[0]}.{parts[1]}".encode(),
                                         padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise BadAssertion("Invalid JWT Signature.") from None
        if claims.get("iss") != self.email:
            raise BadAssertion("Invalid issuer: not a service account the sandbox knows")
        if float(claims.get("exp", 0)) < time.time():
            raise BadAssertion("Invalid JWT: Token must be a short-lived token")
        return dict(claims)


def write_service_account(path: Path, sandbox_url: str) -> Path:
    """Write the JSON key file of the sandbox at `sandbox_url` (a running `beat sandbox`) to
    `path`, for GOOGLE_SERVICE_ACCOUNT_FILE."""
    import httpx

    answer = httpx.get(f"{sandbox_url.rstrip('/')}/_sandbox/sheets/service-account", timeout=10)
    answer.raise_for_status()
    path.write_text(json.dumps(answer.json(), indent=2), encoding="utf-8")
    path.chmod(0o600)
    return path


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
