"""The layers, checked mechanically: the core imports only the standard library and its
own modules, both as written (every import statement) and as run (a fresh interpreter);
the whole order of the layers is the contract in .importlinter."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "neuraltrade_deploy" / "core"
STDLIB = set(sys.stdlib_module_names)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_modules_import_only_the_standard_library_and_core() -> None:
    outside = {
        f"{path.name}: {name}"
        for path in sorted(CORE.glob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] not in STDLIB and not name.startswith("neuraltrade_deploy.core")
    }
    assert outside == set()


def test_importing_decide_loads_nothing_outside_the_standard_library() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import neuraltrade_deploy.core.decide\n"
        "std = set(sys.stdlib_module_names)\n"
        "top = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print('FOREIGN', sorted(t for t in top if t not in std and t != 'neuraltrade_deploy'))\n"
        "ours = [m for m in sys.modules if m.startswith('neuraltrade_deploy.')]\n"
        "print('OUTSIDE', sorted(m for m in ours if not m.startswith('neuraltrade_deploy.core')))\n"
        "heavy = ('yaml', 'boto3', 'botocore', 'click', 'structlog', 'tenacity', 'urllib3')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout
    assert "FOREIGN []" in done.stdout, done.stdout
    assert "OUTSIDE []" in done.stdout, done.stdout


def test_the_import_contracts_hold() -> None:
    """.importlinter: every layer imports only the layers below it, and nothing of the tool
    imports moto or the local world (but `nt-deploy demo`'s one lazy import)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_aws_adapters_do_not_import_the_local_world_or_moto() -> None:
    aws = ROOT / "neuraltrade_deploy" / "aws"
    found = {
        f"{path.name}: {name}"
        for path in sorted(aws.glob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] == "moto" or name.startswith("neuraltrade_world")
    }
    assert found == set()


def test_tests_import_by_statement_not_by_dunder_import() -> None:
    """An `__import__(...)` in a test hides a dependency from readers, ruff and mypy."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "__import__"
    ]
    assert found == []


def test_comments_cite_the_readme_not_a_spec_the_project_does_not_ship() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for top in ("neuraltrade_deploy", "tests")
        for path in sorted((ROOT / top).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "SPEC" in line and path != Path(__file__)
    ]
    assert found == []


def readme_layers() -> dict[str, str]:
    """docs/architecture.md's layout table: package -> what its row says it holds."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("| package | what it holds |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split(" | ", 1) for line in table.splitlines() if line.startswith("| `")]
    return {name.strip("| `/"): held for name, held in rows}


# the tool's own layers: their rows name every module; localworld/ and demo/ list theirs
# in their package docstrings
NAMED_MODULE_BY_MODULE = (
    "core",
    "config",
    "aws",
    "fakeaws",
    "shell",
    "commands",
    "reporting",
    "smoke",
)


def test_the_readme_names_every_package_and_module_of_the_layout() -> None:
    package = ROOT / "neuraltrade_deploy"
    layers = readme_layers()
    found = sorted(p.parent.name for p in package.glob("*/__init__.py"))
    assert sorted(layers) == found
    for name in NAMED_MODULE_BY_MODULE:
        modules = {p.name for p in (package / name).glob("*.py")} - {"__init__.py"}
        named = set(re.findall(r"`(\w+\.py)`", layers[name])) - {"cli.py"}
        assert modules - named == set(), f"docs/architecture.md: {name}/ row lacks them"
        assert named - modules == set(), f"docs/architecture.md: {name}/ row names others"


def test_importing_every_module_of_the_tool_loads_no_moto_and_no_world() -> None:
    """The `nt-deploy` distribution ships alone: the local world and the demo live in the
    sibling `nt-deploy-world` (world/), and nothing of the tool pulls them or moto in."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import neuraltrade_deploy\n"
        "names = [m.name for m in pkgutil.walk_packages(neuraltrade_deploy.__path__,"
        " 'neuraltrade_deploy.')]\n"
        "for name in names:\n"
        "    if not name.endswith('.__main__'):\n"
        "        importlib.import_module(name)\n"
        "print('MODULES', len(names))\n"
        "print('LOADED', sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('moto', 'neuraltrade_world')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout
    count = int(done.stdout.split("MODULES ", 1)[1].split()[0])
    assert count > 60, done.stdout


def test_the_tool_package_holds_no_world_and_no_demo() -> None:
    package = ROOT / "neuraltrade_deploy"
    assert not (package / "localworld").exists()
    assert not (package / "demo").exists()
    assert (ROOT / "world" / "neuraltrade_world" / "__init__.py").is_file()
