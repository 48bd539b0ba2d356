"""The command line's outside: fast help, one error boundary, exit codes, env options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from neuraltrade_deploy.cli import run

ROOT = Path(__file__).resolve().parents[2]


def test_help_and_version_do_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "from neuraltrade_deploy.cli import run\n"
        "for argv in (['--help'], ['--version'], ['canary', '--help']):\n"
        "    assert run(argv) == 0\n"
        "heavy = [m for m in ('boto3', 'botocore', 'structlog', 'yaml') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from neuraltrade_deploy import __version__

    assert run(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_usage_errors_exit_2_naming_the_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["canary", "--weight", "0"]) == 2
    assert "--weight" in capsys.readouterr().err
    assert run(["canary", "--image", "x", "--weight", "10", "--bake", "soon"]) == 2
    assert "--bake" in capsys.readouterr().err
    assert run(["no-such-command"]) == 2


def test_missing_config_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["validate"]) == 2
    err = capsys.readouterr().err
    assert "deploy.yaml" in err
    assert "--config" in err
    assert "Traceback" not in err


def test_validate_checks_the_projects_own_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    assert run(["validate"]) == 0
    assert "2 service(s) valid" in capsys.readouterr().err


def test_service_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NT_DEPLOY_SERVICE", "nope")
    assert run(["register", "--image", "neuraltrade/api:1", "--dry-run"]) == 2
    assert "no service 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("NT_DEPLOY_SERVICE", "api")
    assert run(["register", "--image", "neuraltrade/api:1", "--dry-run"]) == 0
    assert "would register neuraltrade-api-production" in capsys.readouterr().out


def test_two_services_need_a_choice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NT_DEPLOY_SERVICE", raising=False)
    assert run(["register", "--image", "neuraltrade/api:1", "--dry-run"]) == 2
    assert "--service" in capsys.readouterr().err


def test_unexpected_errors_are_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import neuraltrade_deploy.commands.validate as setup

    def broken(*args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(setup, "validate", broken)
    assert run(["validate"]) == 1
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: boom" in err
    assert "Traceback" not in err


def test_github_actions_gets_an_error_annotation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert run(["validate"]) == 2
    assert capsys.readouterr().out.startswith("::error title=nt-deploy::")


def test_deployment_id_reaches_canary_promote_and_guard_from_option_or_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--deployment-id` / NT_DEPLOY_DEPLOYMENT_ID binds the command; left out, None."""
    import neuraltrade_deploy.commands.deployment as deployment
    import neuraltrade_deploy.commands.guard as guarding

    seen: list[object] = []

    def ran(request: Any) -> int:
        seen.append(getattr(request, "intent", request))
        return 0

    monkeypatch.setattr(deployment, "run_deployment", ran)
    monkeypatch.setattr(guarding, "run_guard", ran)
    monkeypatch.delenv("NT_DEPLOY_DEPLOYMENT_ID", raising=False)
    assert run(["canary", "--weight", "50", "--deployment-id", "3f2a"]) == 0
    assert run(["canary", "--weight", "50"]) == 0
    monkeypatch.setenv("NT_DEPLOY_DEPLOYMENT_ID", "9c1e")
    assert run(["promote"]) == 0
    assert run(["guard"]) == 0
    assert [getattr(s, "deployment_id", "missing") for s in seen] == ["3f2a", None, "9c1e", "9c1e"]
