"""The local AWS world: moto plus an ECS emulator, for end-to-end tests and `nt-deploy demo`.

The real CLI runs unchanged against it (AWS_ENDPOINT_URL), so what it proves is
what the CLI does with AWS's API, not with a fake of our own ports.

    with LocalAws() as aws:                      # moto server on 127.0.0.1:<free port>
        world = aws.provision()                  # NeuralTrade production, stable healthy
        deploy_yaml = world.write_deploy_yaml(tmp_path)
        subprocess.run(["nt-deploy", "deploy", "--image", "neuraltrade/api:1.1.0"],
                       env=aws.env(os.environ), cwd=tmp_path)
        aws.emulator.mark_broken(image=":2.0.0-bad")   # the next canary never starts
        aws.reset()                              # empty world (moto and emulator)

`python -m neuraltrade_deploy.localworld FOLDER` does the same by hand: it
provisions, writes FOLDER/deploy.yaml, prints AWS_ENDPOINT_URL=... and serves until
Ctrl-C.

What it emulates
- ECS services the way the scheduler runs them (`emulator.py`, `ecs_model.py`):
  each service has deployments (PRIMARY/ACTIVE; rolloutState IN_PROGRESS,
  COMPLETED or FAILED with ECS's reasons) and tasks with IPs 10.0.x.y. A task
  starts `start_delay` after launch, then is registered (IP, containerPort) in every
  target group of the service's loadBalancers; a stopping task is deregistered at
  once and gone `stop_delay` later. A new task definition (or forceNewDeployment)
  makes a new PRIMARY; old tasks stop only while minimumHealthyPercent of the desired
  count stays running; new ones start up to maximumPercent. COMPLETED once the PRIMARY
  runs its desired count and nothing else runs. DeleteService: status DRAINING until
  the tasks are gone, then INACTIVE, desired 0.
- Broken images: `emulator.mark_broken(image=... | task_definition=...)`. Their tasks
  never start (failedTasks counts them, pendingCount stays up, no target is ever
  registered); with the service's circuit breaker enabled the deployment is FAILED
  after `fail_after` seconds ("ECS deployment circuit breaker: tasks failed to
  start."), and with rollback a new PRIMARY goes back to the last COMPLETED task
  definition (the service's taskDefinition too). Without the breaker it retries for
  ever, as ECS does.
- ECS refusals moto lacks: CreateService on a name that is ACTIVE ("not idempotent")
  or DRAINING; a target group no listener uses ("does not have an associated load
  balancer": put the canary group in the rule, weight 0, first); an awsvpc task
  definition without networkConfiguration; UpdateService of a service that is not
  ACTIVE and DeleteService of an INACTIVE one (ServiceNotActiveException).
- DescribeServices reflects all of that, including deploymentConfiguration (with
  ECS's defaults), createdAt and the settings moto's CreateService drops; the
  responses of CreateService/UpdateService/DeleteService are DescribeServices of
  the service right after the write, as ECS would show it.
- CloudWatch DescribeAlarmHistory (`alarm_history.py`): StateUpdate items for every
  change of state (HistoryData in CloudWatch's JSON format) and a ConfigurationUpdate
  for the creation; filters, ScanBy, paging. Note: botocore sends StartDate/EndDate
  as whole seconds over CBOR, so a StartDate filter (here as in AWS) may include
  items from up to a second before the instant asked for.
- `provision_production`: the seed's Terraform (`provision.py`, `resources.py`,
  `monitoring.py`), and
  `World.write_deploy_yaml` (`deploy_yaml.py`).

What it does not emulate
- ListTasks/DescribeTasks: the emulator's tasks are not moto tasks (see
  `emulator.tasks(cluster, service)`); service `events` stay empty.
- Load balancing itself: nothing answers HTTP on the ALB's DNS name, so smoke URLs
  must point at a server of the test's own. Weights are stored, never applied.
- Target health beyond registered = healthy: no initial/unhealthy/draining states,
  no "unused" for a group no listener uses, no deregistration delay.
- moto's own gaps stay: DescribeRules returns a plain forward as TargetGroupArn only
  (AWS also returns the equivalent ForwardConfig); IAM is not checked; alarms never
  evaluate metrics (use SetAlarmState).
- The middleware sees only requests to the server: with `mock_aws` in-process, call
  `emulator.tick()` yourself, and CreateService's dropped settings (the circuit
  breaker among them) are not kept.
"""

from __future__ import annotations

from neuraltrade_deploy.localworld.alarm_history import install_alarm_history
from neuraltrade_deploy.localworld.emulator import EcsEmulator
from neuraltrade_deploy.localworld.provision import (
    DEFAULT_ALARMS,
    World,
    WorldService,
    provision_production,
)
from neuraltrade_deploy.localworld.server import LocalAws

__all__ = [
    "DEFAULT_ALARMS",
    "EcsEmulator",
    "LocalAws",
    "World",
    "WorldService",
    "install_alarm_history",
    "provision_production",
]
