"""The tags nt-deploy puts on what it creates. Kept apart from the lock rules in
claim.py so that the AWS adapters (which read these tags back) import them alone."""

from __future__ import annotations

DEPLOYMENT_TAG = "nt-deploy:deployment-id"  # on canaries and revisions: which deployment
MANAGED_BY_TAG = "nt-deploy:managed-by"
IMAGE_TAG = "nt-deploy:image"
MANAGED_BY = "nt-deploy"
IMAGE_TAG_LIMIT = 256  # AWS tag values are at most 256 characters


def canary_tags(deployment_id: str) -> dict[str, str]:
    """What a canary service carries: whose it is, so a later run never adopts another's."""
    return {DEPLOYMENT_TAG: deployment_id, MANAGED_BY_TAG: MANAGED_BY}


def revision_tags(image: str, deployment_id: str | None = None) -> dict[str, str]:
    """What a task definition revision carries (the deployment id when a deployment made it)."""
    tags = {DEPLOYMENT_TAG: deployment_id} if deployment_id else {}
    return {**tags, MANAGED_BY_TAG: MANAGED_BY, IMAGE_TAG: image[:IMAGE_TAG_LIMIT]}
