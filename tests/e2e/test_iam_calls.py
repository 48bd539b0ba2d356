"""iam.tf against the AWS operations the real CLI makes, as the world records them
(`LocalAws.calls()`), over the main flows: init, validate --aws, a whole deploy, a
canary taken up by a later job and promoted, a canary rolled back, status. Both ways:
nothing called that the policy lacks; nothing granted that no flow calls, except the
allow-listed, each with its reason. (tests/examples/test_iam.py checks the policy
against the calls found in the code; this checks it against the calls made.)"""

from __future__ import annotations

from tests.examples.test_iam import IMPLIED_BY_CALLS
from tests.helpers.iam_scan import policy_actions

from .conftest import Deployer

IMAGE = "neuraltrade/api:2.0.0"
WATCH = {
    "events_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-events",
    "automation_role_arn": "arn:aws:iam::123456789012:role/nt-deploy-watch-automation",
}

# Granted, and not called by these flows: why each stays.
NOT_IN_THE_MAIN_FLOWS = {
    **IMPLIED_BY_CALLS,  # authorised by another call, never called by name
    "ssm:UpdateDocument": "init, only over an older nt-deploy's runbook (test_aws_watch.py)",
    "ssm:UpdateDocumentDefaultVersion": "init, with UpdateDocument",
    "elasticloadbalancing:ModifyListener": "traffic.listener (a listener's default action)",
    "application-autoscaling:RegisterScalableTarget": "only for a stable with a scalable target",
    "sns:Publish": "only with `notify:` configured (tests/integration/test_aws_sns.py)",
}


def test_the_policy_matches_the_calls_the_cli_makes(deployer: Deployer) -> None:
    deployer.world.write_deploy_yaml(  # the server-side watch on: its calls are flows too
        deployer.folder, bake="1s", poll_interval="200ms", extra={"defaults": {"watch": WATCH}}
    )
    deployer.aws.call_log.clear()  # provisioning is Terraform's, not ours
    flows = [
        ("init",),
        ("validate", "--aws"),
        ("deploy", "--image", IMAGE),
        ("canary", "--image", "neuraltrade/api:2.1.0", "--weight", "10"),
        ("validate", "--aws"),  # with the watch armed: reads its rule's target
        ("canary", "--weight", "50"),  # a later job: reads the alarm history
        ("rollback",),
        ("canary", "--image", "neuraltrade/api:2.2.0", "--weight", "10"),
        ("promote",),
        ("status", "--json"),
    ]
    for flow in flows:
        result = deployer.run(*flow)
        assert result.status == 0, (flow, result.stderr)
    called = {c for c in deployer.aws.calls() if not c.startswith("sts:")}
    granted = policy_actions()
    assert called - granted == set(), (
        f"add to examples/terraform/iam.tf: {sorted(called - granted)}"
    )
    unused = granted - called - set(NOT_IN_THE_MAIN_FLOWS)
    assert unused == set(), f"granted but never called (remove, or allow-list): {sorted(unused)}"
    stale = set(NOT_IN_THE_MAIN_FLOWS) & called
    assert stale == set(), f"allow-listed as not called, but called: {sorted(stale)}"
