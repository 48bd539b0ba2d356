"""The reference docs are generated from the code and must match it; the README stays a
front page (at most 150 lines) that links every page of docs/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("page", "make"), [("commands.md", "commands_md"),
                                            ("configuration.md", "configuration_md")])  # fmt: skip
def test_the_generated_reference_is_what_the_code_says(page: str, make: str) -> None:
    written = (ROOT / "docs" / page).read_text()
    assert written == getattr(_generator(), make)(), f"stale: run python docs/generate.py ({page})"


def test_the_architecture_page_shows_the_phase_machine_of_the_code() -> None:
    written = (ROOT / "docs" / "architecture.md").read_text()
    assert written == _generator().architecture_md(written), "stale: python docs/generate.py"
    assert "```mermaid\nstateDiagram-v2\n    [*] --> STARTING" in written
    assert "    BAKING --> PAUSED" in written


def test_every_option_and_every_key_is_in_the_reference() -> None:
    commands = (ROOT / "docs" / "commands.md").read_text()
    for option in ("--weight", "--image", "--max-time", "--dry-run", "--on-interrupt"):
        assert option in commands
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for key in ("`max_bake`", "`high_resolution`", "`max_ratio`", "`insufficient_data`"):
        assert key in configuration


def test_the_readme_is_a_front_page_linking_every_doc() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in readme, f"README does not link docs/{page.name}"


COMPLETION = [
    ("bash", "_nt_deploy_completion()"),
    ("zsh", "#compdef nt-deploy"),
    ("fish", "function _nt_deploy_completion"),
]


@pytest.mark.parametrize(("shell", "marker"), COMPLETION)
def test_the_documented_shell_completion_works(shell: str, marker: str) -> None:
    """docs/commands.md's completion lines: click's, for the console script's name."""
    from click.testing import CliRunner

    from neuraltrade_deploy.cli import cli

    documented = (ROOT / "docs" / "commands.md").read_text()
    assert f"_NT_DEPLOY_COMPLETE={shell}_source nt-deploy" in documented
    result = CliRunner().invoke(
        cli, [], prog_name="nt-deploy", env={"_NT_DEPLOY_COMPLETE": f"{shell}_source"}
    )
    assert marker in result.output, result.output[:300]
