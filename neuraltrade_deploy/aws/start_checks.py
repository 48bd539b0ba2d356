"""ports.StartChecks on AWS: what the start of a deployment checks beyond the engine's
own reads, before anything changes (issue 13, items 3 and 5).

- The listener's default rule given as `listener_rule` (DescribeRules says IsDefault):
  AWS refuses ModifyRule on it (OperationNotPermitted), so the deployment would fail
  at its first traffic step; refused, exit 2, pointing to `listener:`.
Both verdicts are core's (core/start_checks.py); this only reads what they judge.
- Alarms the preflight read in INSUFFICIENT_DATA: such an alarm never enters ALARM, so
  it protects nothing. Each becomes a warning line (its metric, whether the metric has a
  data point in the last day, its TreatMissingData); under `alarms_insufficient_data:
  fail` the start is refused, exit 3.

Calls: one DescribeRules when `listener_rule` is set; for stuck alarms only, one
DescribeAlarms and one GetMetricData per stuck metric alarm (alarm_data.py). A world
where no alarm is stuck pays nothing for the second check.
"""

from __future__ import annotations

from collections.abc import Sequence

from neuraltrade_deploy.aws.alarm_data import insufficient_data_alarms
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.default_rule import refuse_default_rule
from neuraltrade_deploy.core.plan import ServiceConfig
from neuraltrade_deploy.core.start_checks import check_insufficient_data


class StartChecksAws:
    """ports.StartChecks: a callable, so the in-memory worlds can pass a plain function."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def __call__(self, service: ServiceConfig, stuck: Sequence[str], now: float) -> Sequence[str]:
        refuse_default_rule(
            self._clients, service.traffic, where=f"services.{service.name}.traffic"
        )
        if not stuck:
            return ()
        found = insufficient_data_alarms(self._clients, stuck, now=now)
        lines = [f"services.{service.name}.alarms: {finding.describe()}" for finding in found]
        return check_insufficient_data(service, lines)
