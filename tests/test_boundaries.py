"""The boundaries between packages hold: each import-linter contract in pyproject.toml is one
test, which prints import-linter's report (the offending import chains) when broken. Each
contract is also shown to break on a small tree that does what it forbids."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}

# Every module a contract names exists in the tree below (import-linter refuses a contract on a
# missing module), most of them empty.
NAMED = {module for contract in CONFIG["contracts"] for key in ("source_modules",
         "forbidden_modules", "modules") for module in contract.get(key, ())
         if "*" not in module}

# Every contract broken once: core imports the sandbox, the benchmarks, a platform and (from
# outside core.api) core.api; one of core's foundations imports credentials; a platform imports
# another platform and the sandbox; credentials imports the benchmarks, a platform and one of
# core's surfaces; core imports the assets worker, which imports a platform and the sandbox;
# core imports the enrichment, which imports a platform and the sandbox, and a platform imports
# the enrichment. core.api importing its own modules is allowed.
VIOLATIONS = {
    "core/__init__.py": "",
    "core/cli.py": "import bench.cli\nimport sandbox.app\nfrom core.api import auth\n"
                   "import youtube\nimport assets\nimport enrichment\n",
    "core/config.py": "import credentials\n",
    "core/api/__init__.py": "",
    "core/api/auth.py": "from core.api import deps\n",
    "core/api/deps.py": "",
    "credentials/__init__.py": "import bench.cli\nimport youtube\nimport core.logs\n",
    "youtube/__init__.py": "import x\nimport sandbox.app\n",
    "instagram/__init__.py": "import enrichment\n",
    "facebook/__init__.py": "",
    "x/__init__.py": "",
    "sandbox/__init__.py": "",
    "sandbox/app.py": "",
    "bench/__init__.py": "",
    "bench/cli.py": "",
    "assets/__init__.py": "import youtube\nimport sandbox.app\n",
    "enrichment/__init__.py": "import instagram\nimport sandbox.app\n",
}


COVERED = {path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
           for path in VIOLATIONS}
VIOLATIONS.update({module.replace(".", "/") + ("/__init__.py" if "." not in module else ".py"):
                   "" for module in NAMED - COVERED})


def lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache",
                           "--no-logo", *args], cwd=cwd, check=False, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_contract_is_kept(contract: str) -> None:
    result = lint_imports(ROOT, "--contract", contract)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CONTRACTS[contract]} KEPT" in result.stdout


@pytest.mark.parametrize("contract", CONTRACTS)
def test_contract_breaks_on_what_it_forbids(contract: str, tmp_path: Path) -> None:
    for name, source in VIOLATIONS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    result = lint_imports(tmp_path, "--contract", contract)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{CONTRACTS[contract]} BROKEN" in result.stdout, result.stdout
    assert "core.api.auth -> core.api.deps" not in result.stdout
