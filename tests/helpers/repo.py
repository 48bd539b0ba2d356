"""Where the files users copy live, so every example test names them the same way."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "deploy.yml"
TERRAFORM = ROOT / "examples" / "terraform"
ADAPTERS = ROOT / "neuraltrade_deploy" / "aws"
