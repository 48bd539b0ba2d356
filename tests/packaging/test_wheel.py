"""The package as a user gets it: `python -m build` (sdist, then the wheel from that
sdist), the wheel pip-installed into a fresh venv with its dependencies, and the
installed `nt-deploy` run from a folder with no checkout in sight.

The copy is built with a version of its own, so `--version` passing proves the version
comes from the installed distribution's metadata (pyproject's), not a literal in the
code. Takes some 20 s; pip resolves click, boto3 and the rest through its configured
index (PIP_INDEX_URL / PIP_FIND_LINKS work as usual for a mirror or a wheelhouse).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the sdist is made of: the project files, not the tests, world/ or a venv.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "neuraltrade_deploy")


def pyproject_version(pyproject: Path) -> str:
    """[project] version (by pattern: tomllib is 3.11+, and the tests run on 3.10)."""
    found = re.search(r'(?m)^version = "([^"]+)"$', pyproject.read_text())
    assert found, f"no version in {pyproject}"
    return found.group(1)


def copy_sources(into: Path, version: str) -> None:
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, into / name)
    pyproject = into / "pyproject.toml"
    written = f'version = "{pyproject_version(pyproject)}"'
    pyproject.write_text(pyproject.read_text().replace(written, f'version = "{version}"', 1))


def clean_env() -> dict[str, str]:
    """No PYTHONPATH and no active venv: only what the fresh venv has installed counts."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(argv: list[str | Path], cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the fresh venv's bin folder, the version the copy was built with)."""
    pytest.importorskip("build", reason="the test extra installs `build`")
    base = tmp_path_factory.mktemp("wheel")
    version = pyproject_version(ROOT / "pyproject.toml") + "+wheeltest"
    source, dist, venv, away = (base / n for n in ("source", "dist", "venv", "elsewhere"))
    for folder in (source, away):
        folder.mkdir()
    copy_sources(source, version)
    run([sys.executable, "-m", "build", "--outdir", dist, source], cwd=base)
    wheels = list(dist.glob("nt_deploy-*.whl"))
    assert [w.name for w in wheels] == [f"nt_deploy-{version}-py3-none-any.whl"]
    run([sys.executable, "-m", "venv", venv], cwd=base)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    run([bin_dir / "python", "-m", "pip", "install", "-q", wheels[0]], cwd=away)
    return bin_dir, version


def test_the_installed_version_is_pyprojects(installed: tuple[Path, str], tmp_path: Path) -> None:
    bin_dir, version = installed
    assert (
        run([bin_dir / "nt-deploy", "--version"], cwd=tmp_path) == f"nt-deploy, version {version}\n"
    )


def test_the_installed_help_runs_and_names_the_commands(
    installed: tuple[Path, str], tmp_path: Path
) -> None:
    bin_dir, _ = installed
    shown = run([bin_dir / "nt-deploy", "--help"], cwd=tmp_path)
    assert shown.startswith("Usage: nt-deploy")
    for command in ("canary", "deploy", "promote", "rollback", "status", "validate"):
        assert re.search(rf"(?m)^  {command}\b", shown), command
    where = run(
        [bin_dir / "python", "-c", "import neuraltrade_deploy; print(neuraltrade_deploy.__file__)"],
        cwd=tmp_path,
    )
    assert str(ROOT) not in where  # the installed copy ran, not this checkout
