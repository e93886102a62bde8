"""HTTPS through the guard: the connection goes to the checked address while TLS still speaks
to, and verifies the certificate of, the name in the URL (SNI and hostname check). The sandbox
runs behind TLS with a certificate made here for images.example.com only."""

import datetime
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from assets.download import Downloader
from assets.guard import Allowlist, Guard, Resolver
from core.errors import SourceUnavailable
from sandbox.assets.images import image_bytes
from tests.assets.conftest import start, stop
from tests.e2e.procs import free_port

NAME = "images.example.com"


def certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = certificate(directory)
    port = free_port()
    proc = start([sys.executable, "-m", "uvicorn", "--factory", "sandbox.app:create_sandbox_app",
                  "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                  "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
                 None, directory / "log")
    try:
        wait_tls(port, proc, directory / "log")
        yield port, cert
    finally:
        stop(proc)


def wait_tls(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    import socket
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    raise AssertionError(f"the TLS sandbox did not start:\n{log.read_text()}")


@pytest.fixture
async def fetcher(tls_sandbox: tuple[int, Path]) -> AsyncIterator[Downloader]:
    port, cert = tls_sandbox
    trust = ssl.create_default_context(cafile=str(cert))
    resolver = Resolver({NAME: "127.0.0.1", "other.example.com": "127.0.0.1"})
    downloader = Downloader(Guard(Allowlist([f"127.0.0.1:{port}"]), resolver), 4_000_000, 10,
                            3, verify=trust)
    yield downloader
    await downloader.aclose()


async def test_https_reaches_the_checked_address_under_the_url_s_name(
        fetcher: Downloader, tls_sandbox: tuple[int, Path]) -> None:
    port, _ = tls_sandbox
    got = await fetcher.fetch(f"https://{NAME}:{port}/assets/pages/12")
    assert got.final_url == f"https://{NAME}:{port}/assets/images/12.jpg"
    assert got.data == image_bytes(12, "jpg")


async def test_a_certificate_for_another_name_is_not_accepted(
        fetcher: Downloader, tls_sandbox: tuple[int, Path]) -> None:
    port, _ = tls_sandbox
    with pytest.raises(SourceUnavailable, match="other.example.com: ConnectError.*certificate"):
        await fetcher.fetch(f"https://other.example.com:{port}/assets/images/12.jpg")
