"""The local AWS world: moto plus an ECS emulator, for end-to-end tests and `nt-deploy demo`.

The real CLI runs unchanged against it (AWS_ENDPOINT_URL), so what it proves is
what the CLI does with AWS's API, not with a fake of our own ports.

    with LocalAws() as aws:                      # moto server on 127.0.0.1:<free port>
        world = aws.provision()                  # NeuralTrade production, stable healthy
        deploy_yaml = world.write_deploy_yaml(tmp_path)
        subprocess.run(["nt-deploy", "deploy", "--image", "neuraltrade/api:1.1.0"],
                       env=aws.env(os.environ), cwd=tmp_path)
        aws.emulator.mark_broken(image=":2.0.0-bad")   # the next canary never starts
        aws.live.behave(":2.1.0", error_rate=0.2)      # or starts, and fails 20%
        traffic = aws.live.traffic(50, host="api.neuraltrade.example")
        aws.reset()                              # empty world (moto and emulator)

`python -m neuraltrade_world FOLDER` does the same by hand: it
provisions, writes FOLDER/deploy.yaml, prints AWS_ENDPOINT_URL=... and serves until
Ctrl-C.

What it emulates
- One time scale (`timescale.py`; `LocalAws(time_scale=F)`): world time runs F times
  faster than the wall, and every timestamp the world writes (ledger, metric
  datapoints, alarm states and history, ECS deployments, moto's own `utcnow` in
  CloudWatch, ECS and ELBv2) and every duration it models (task start and stop,
  health-check intervals, deregistration delay, metric periods and their lag, alarm
  evaluation, stickiness, traffic rates) is in world (AWS) seconds. `aws.env()` hands
  the clock to the processes it starts as NT_DEPLOY_TIME_SCALE=F@ORIGIN, which
  nt-deploy's clock reads, so nt-deploy's polls, bakes and metric windows are in the
  same seconds. Without a factor, world time is the wall clock exactly. Not scaled:
  the time a request takes (app latency, network; so TargetResponseTime is real
  seconds), HTTP and AWS call timeouts, and programs that sleep on their own (fabfuel's
  `ecs deploy` polls every real second: F AWS seconds).
- ECS services the way the scheduler runs them (`emulator.py`, `ecs_model.py`):
  each service has deployments (PRIMARY/ACTIVE; rolloutState IN_PROGRESS,
  COMPLETED or FAILED with ECS's reasons) and tasks with IPs 10.0.x.y. A task
  starts `start_delay` after launch (the benchmark: 30 s, a Fargate task's tens of
  seconds of provisioning, image pull and start; AWS publishes no figure), then is
  registered (IP, containerPort) in every
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

- Live traffic (`live.py`; `aws.live`): a load balancer on 127.0.0.1
  (`aws.live.balancer.url`; `Host:` picks host-header rules) that routes every
  request by the listener rule's weights as they are now, with target-group
  stickiness (`AWSALBTG` cookie for the rule's DurationSeconds, set again with a
  fresh expiry on every answer: a sticky client stays on its group at weight 0
  while it keeps calling, and gets 503 once that group has no target; issue 13
  item 1), to a
  healthy target (only unhealthy ones: fail open; none: 503) (`routing.py`,
  `balancer.py`); `/_targets/<group>/...` reaches a group's tasks directly, as a
  test route or the task's own address would.
- An app per task by image (`apps.py`; `aws.live.behave(":2.1.0", error_rate=0.2)`):
  good, an exact error rate, added latency, failing `/health`, crashing after N s
  (then 502 from the ALB).
- Target health as an ALB keeps it (`health.py`): initial until HealthyThresholdCount
  checks passed, unhealthy after UnhealthyThresholdCount failures, draining for the
  deregistration delay, unused for a group no listener forwards to; intervals and
  delays x `health_scale` (0.01; 1 with a time scale: the target group's own
  HealthCheckIntervalSeconds and thresholds, ALB's default 300 s deregistration delay
  when the group sets none). DescribeTargetHealth answers from it, and ECS
  counts a task behind a load balancer as healthy only once its targets are
  (minimumHealthyPercent, rollout COMPLETED).
- ALB metrics into moto's CloudWatch (`metrics.py`): AWS/ApplicationELB RequestCount,
  HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count, TargetResponseTime per
  LoadBalancer and TargetGroup+LoadBalancer (`app/<name>/<id>`,
  `targetgroup/<name>/<id>`), no datapoint for a metric without data, period
  `metric_period` (60 s, as the ALB "measures and sends its metrics in 60-second
  intervals"; 1 s in tests), each period published `metric_lag` seconds after it
  closed (0 in tests; the benchmark's 60 follows "1-minute metrics ... availability
  delay is about 2 minutes" from the period's start, Datadog's Cloud Metric Delay
  guide: AWS publishes no figure); percentiles in GetMetricData and
  GetMetricStatistics' ExtendedStatistics (`percentiles.py`).
- Alarms that start as CloudWatch's do (`alarm_state.py`): a new alarm is
  INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") until its first
  evaluation at the end of its first full period (a count alarm with notBreaching
  goes OK there with no data at all; one with `missing` and no datapoint stays
  INSUFFICIENT_DATA); PutMetricAlarm on an existing alarm keeps its state and history.
- Alarms that evaluate (`alarms.py`): period, evaluation periods, datapoints to
  alarm, comparison, threshold, treat-missing-data, with CloudWatch's reason text
  and data, so DescribeAlarmHistory follows; a state set by SetAlarmState holds
  until the alarm's next evaluation (its period's end), as on CloudWatch. The
  ALB metrics of a period are published once all its requests were answered,
  and alarms evaluate published periods only, every minute (every min(period, 60) s:
  CloudWatch evaluates a high-resolution alarm every 10 s, any other every minute).
  The provisioned error-rate alarm
  watches HTTPCode_Target_5XX_Count with notBreaching (the seed's `5XXError` is
  not an ALB metric).
- ECS's CPUUtilization per service (AWS/ECS, ClusterName + ServiceName;
  `service_load.py`), a proxy: requests per second per running task of the service,
  as a share of `live.load.task_capacity` (100 requests/s = 100%), each metric period.
  The seed's CPU alarm evaluates on it.
- Target tracking (`scaling.py`; `aws.live.scaling.activities`): off unless a
  scalable target (ecs:service:DesiredCount) with a TargetTrackingScaling policy on
  ECSServiceAverageCPUUtilization is registered (moto stores both). Then the world
  scales the service's desired count out (3 datapoints above TargetValue) or in (15
  below 90% of it; `live.scaling.in_periods`) to ceil(desired x CPU / target) within
  MinCapacity/MaxCapacity, with the policy's cooldowns; never in while the target's
  DynamicScalingInSuspended is true, the policy has DisableScaleIn or an ECS
  deployment of the service is IN_PROGRESS (a scale-in so withheld is noted in
  `live.scaling.withheld`); never out while DynamicScalingOutSuspended.
- A traffic generator (`traffic.py`; `aws.live.traffic(rate, host=...)`; with
  `session=S`, session churn: each client drops its cookies after S seconds and a
  new client takes its place) and the
  request ledger (`ledger.py`; `aws.live.ledger.count(image=..., failed=True,
  since=T1, until=T2)`).
- ECS deployment alarms (deploymentConfiguration.alarms): an alarm in ALARM while
  the deployment is IN_PROGRESS (bake time included: here the longest alarm's
  period x evaluation periods; ECS does not publish its formula) fails it and,
  with rollback, goes back to the last COMPLETED deployment; a FAILED deployment
  is gone from `deployments` once the rollback completed, as with the breaker.
- The server-side watch (`watch.py`; `aws.live.watch`): every change of an alarm's
  state (an evaluation or SetAlarmState) becomes CloudWatch's "CloudWatch Alarm State
  Change" event on the default bus, shaped as the CloudWatch User Guide's example
  (`alarm_events.py`; `aws.live.watch.events`). ENABLED rules stored by moto's
  EventBridge whose EventPattern matches (moto's own matcher) start the SSM Automation
  runbook their target names (`automation-definition/<Name>:$DEFAULT`, the document
  from moto's SSM) `aws.live.watch.delay` seconds later (1 s; AWS publishes no bound),
  with the target's Input or InputTransformer output (`input_transformer.py`: quoted
  and unquoted placeholders as EventBridge fills them) as typed parameters
  (`automation.py`: String, StringList, Integer, Boolean, StringMap, MapList,
  defaults; `{{ X }}` and `{{ automation:EXECUTION_ID }}`). Its `aws:executeAwsApi`
  steps run in order on moto's backends (`aws_apis.py`: elbv2 ModifyRule and
  ModifyListener, ssm PutParameter, checked against botocore's model); a failed step
  fails the execution. `aws.live.watch.executions` lists the runs (document,
  parameters, start, status, steps), `aws.live.watch.failures` the starts refused.
- ListTasks/DescribeTasks from the emulator's tasks (`ecs_tasks.py`).
- The AWS operations called, as IAM names them (`aws.calls()`: "ecs:UpdateService").
- Everything above is stopped by `aws.stop()`: no thread, no listening socket.

What it does not emulate
- Service `events` stay empty; stopped tasks vanish at once; ECS does not replace a
  crashed task, and does not wait for the deregistration delay before stopping one.
- ALB: target-level stickiness, slow start, least outstanding requests,
  query-string/source-ip conditions, redirect and authenticate actions (501),
  health-check timeouts, per-AZ anything; the metrics' lag is one fixed figure (AWS's
  varies, and a late datapoint can arrive after a part of its period was read: here a
  period is published whole) and only the four above.
- CloudWatch: metric-math, anomaly-detection and composite alarms are not
  evaluated, nor alarms over metrics nobody publishes here (AWS/ECS
  MemoryUtilization stays INSUFFICIENT_DATA); alarm actions (SNS) never run; no
  M-of-N look-back beyond the window (the state change events do reach EventBridge:
  the watch).
- The watch: one delivery per event (AWS: at least once, so duplicates are possible),
  in the order of the changes (AWS guarantees none); no retries, dead-letter queues,
  throttling or quotas; IAM roles (the target's RoleArn, the runbook's assumeRole) are
  neither assumed nor checked; targets other than Automation runbooks get nothing;
  custom buses, cross-account delivery and configuration-change events are not sent.
  Automation: its queue and concurrency, step actions other than aws:executeAwsApi,
  APIs other than the three above, onFailure other than Abort, branching and step
  outputs; steps take no world time; SSM's execution APIs (GetAutomationExecution)
  know none of the runs, and `aws.calls()` none of their API calls.
- Application Auto Scaling: step scaling, scheduled actions, metrics other than
  ECSServiceAverageCPUUtilization, more than one policy per target, scaling
  activities (DescribeScalingActivities); the CPU is a proxy, not a measurement.
- moto's own gaps stay: DescribeRules returns a plain forward as TargetGroupArn only
  (AWS also returns the equivalent ForwardConfig); IAM is not checked.
- The middleware sees only requests to the server: with `mock_aws` in-process, call
  `emulator.tick()` yourself, and CreateService's dropped settings (the circuit
  breaker among them) are not kept; the call log sees none of them.
"""

from __future__ import annotations

from neuraltrade_world.alarm_history import install_alarm_history
from neuraltrade_world.emulator import EcsEmulator
from neuraltrade_world.provision import (
    DEFAULT_ALARMS,
    World,
    WorldService,
    provision_production,
)
from neuraltrade_world.server import LocalAws

__all__ = [
    "DEFAULT_ALARMS",
    "EcsEmulator",
    "LocalAws",
    "World",
    "WorldService",
    "install_alarm_history",
    "provision_production",
]
