"""SPEC rule 12: a stable service whose deployments ECS or CodeDeploy already steer is
not ours to steer. Two controllers moving the same traffic would fight."""

from __future__ import annotations

from neuraltrade_deploy.core.observation import ServiceState

FOREIGN_CONTROLLERS = {
    "CODE_DEPLOY": "CodeDeploy shifts its traffic (deployment controller CODE_DEPLOY)",
    "EXTERNAL": "an external controller manages its task sets (deployment controller EXTERNAL)",
}
NATIVE_STRATEGIES = {"BLUE_GREEN", "CANARY", "LINEAR"}


def steering_problem(service: ServiceState) -> str | None:
    """Why nt-deploy refuses to steer `service`, or None when it may."""
    controller = (service.deployment_controller or "ECS").upper()
    if controller in FOREIGN_CONTROLLERS:
        return (
            f"{service.name} cannot be steered by nt-deploy: "
            f"{FOREIGN_CONTROLLERS[controller]}; use a service with the ECS controller "
            "and the ROLLING strategy"
        )
    strategy = (service.deployment_strategy or "ROLLING").upper()
    if strategy in NATIVE_STRATEGIES:
        return (
            f"{service.name} cannot be steered by nt-deploy: ECS itself runs a "
            f"{strategy} deployment strategy on it; switch it to ROLLING"
        )
    return None
