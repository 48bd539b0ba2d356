"""ports.StartChecks on AWS: what the start of a deployment checks beyond the engine's
own reads, before anything changes (issue 13, items 3 and 5; issue 21).

- The listener's default rule given as `listener_rule` (DescribeRules says IsDefault):
  AWS refuses ModifyRule on it (OperationNotPermitted), so the deployment would fail
  at its first traffic step; refused, exit 2, pointing to `listener:`.
- Another service of the cluster whose loadBalancers[].advancedConfiguration names our
  listener rule or test rule (productionListenerRule / testListenerRule): ECS's own
  blue/green, linear or canary deployments of it would move the same weights (issue 21;
  the stable's own advancedConfiguration is refused with rule 12, on every command).
  Refused, exit 2, naming the service and the rule.
- Alarms the preflight read in INSUFFICIENT_DATA: such an alarm never enters ALARM, so
  it protects nothing. Each becomes a warning line (its metric, whether the metric has a
  data point in the last day, its TreatMissingData); under `alarms_insufficient_data:
  fail` the start is refused, exit 3.

Every verdict is core's (core/start_checks.py); this only reads what they judge.

Calls: one DescribeRules when `listener_rule` is set; with a rule, one paginated pass of
ListServices over the cluster (a call per 100 services) and DescribeServices of the other
services (a call per 10), once per start, never per poll; for stuck alarms only, one
DescribeAlarms and one GetMetricData per stuck metric alarm (alarm_data.py). A world
where no alarm is stuck pays nothing for the last check.
"""

from __future__ import annotations

from collections.abc import Sequence

from neuraltrade_deploy.aws.alarm_data import insufficient_data_alarms
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.default_rule import refuse_default_rule
from neuraltrade_deploy.aws.ecs import cluster_services
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.start_checks import check_insufficient_data, check_rule_unshared


class StartChecksAws:
    """ports.StartChecks: a callable, so the in-memory worlds can pass a plain function."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def __call__(self, service: ServiceConfig, stuck: Sequence[str], now: float) -> Sequence[str]:
        refuse_default_rule(
            self._clients, service.traffic, where=f"services.{service.name}.traffic"
        )
        if service.traffic.listener_rule or service.traffic.test_rule:
            ours = (service.stable_service, service.canary_service)
            check_rule_unshared(service, cluster_services(self._clients, service.cluster, ours))
        if not stuck:
            return ()
        found = insufficient_data_alarms(self._clients, stuck, now=now)
        lines = [f"services.{service.name}.alarms: {finding.describe()}" for finding in found]
        return check_insufficient_data(service, lines)
