"""Headless Chromium for the browser tests: Debian's `chromium` package, driven by Playwright's
Python package (its own browser downloads are never used). The test command installs nothing
else, so on a fresh machine the first browser test installs the package with apt-get (as root,
or through `sudo -n`); where that is impossible it fails under CI=true and skips elsewhere."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("BEAT_TEST_CHROMIUM", "/usr/bin/chromium"))
INSTALL_TIMEOUT_S = 900


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run([*sudo, "apt-get", *args], env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT_S, check=False)


def install_chromium() -> str | None:
    """Install Debian's chromium; None when it worked, else why not (one line)."""
    if shutil.which("apt-get") is None:
        return "apt-get is not available: install Chromium and set BEAT_TEST_CHROMIUM"
    if os.geteuid() != 0 and shutil.which("sudo") is None:
        return "not root and no sudo: run `apt-get install -y chromium` as root"
    # Another apt-get on the machine (another test run's, say) holds dpkg's lock for a while:
    # wait for it instead of failing at once.
    install = ("-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends",
               "chromium")
    outcome = _apt(*install)
    if outcome.returncode != 0:  # a fresh machine may have no package lists yet
        _apt("update")
        outcome = _apt(*install)
    if outcome.returncode != 0:
        last = (outcome.stderr.strip().splitlines() or ["no output"])[-1]
        return f"apt-get install chromium failed ({outcome.returncode}): {last}"
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable, installed first if missing."""
    problem = None if CHROMIUM.exists() else install_chromium()
    if problem is None and not CHROMIUM.exists():
        problem = f"{CHROMIUM} is still missing after installing chromium"
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Chromium for the browser tests: {problem}")
        pytest.skip(f"no Chromium for the browser tests: {problem}")
    return str(CHROMIUM)
