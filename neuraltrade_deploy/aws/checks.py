"""`nt-deploy validate --aws`: does everything deploy.yaml names exist, and can we steer it?

Every problem is one line starting with the deploy.yaml key it is about, so a user fixes
the file in one pass. Lines starting with WARNING_PREFIX are worth knowing but do not make
the config invalid (no state table yet, a deployment in progress, an alarm firing now).
A call the credentials may not make becomes a line too, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from time import time
from typing import TYPE_CHECKING

from neuraltrade_deploy.aws.alarm_data import insufficient_data_alarms
from neuraltrade_deploy.aws.canary_route import route_findings
from neuraltrade_deploy.aws.clients import AwsClients
from neuraltrade_deploy.aws.cloudwatch import AlarmReaderAws
from neuraltrade_deploy.aws.default_rule import default_rule_problem
from neuraltrade_deploy.aws.dynamodb import INIT_HINT, DynamoRecordStore
from neuraltrade_deploy.aws.ecs import EcsGatewayAws
from neuraltrade_deploy.aws.elbv2 import (
    find_listener,
    find_rule,
    find_target_group,
    forward_action,
    forward_weights,
    listener_arn_of_rule,
    sticky_seconds,
)
from neuraltrade_deploy.aws.errors import AWS_FAILURES, translate
from neuraltrade_deploy.core.figures import format_duration
from neuraltrade_deploy.core.observation import ServiceState
from neuraltrade_deploy.core.plan import DeployConfig, ServiceConfig
from neuraltrade_deploy.core.start_checks import other_steerer_problem, steering_problem
from neuraltrade_deploy.core.tags import DEPLOYMENT_TAG
from neuraltrade_deploy.core.watch import watch_skipped

if TYPE_CHECKING:
    from types_boto3_elbv2.type_defs import (
        ActionOutputTypeDef,
        RuleTypeDef,
        TargetGroupTypeDef,
    )

WARNING_PREFIX = "warning: "

TG_FIELDS = ("stable_target_group", "canary_target_group")


def is_warning(line: str) -> bool:
    return line.startswith(WARNING_PREFIX)


def check_resources(
    clients: AwsClients, config: DeployConfig, notes: list[str] | None = None
) -> list[str]:
    """All problems found, in deploy.yaml order; an empty list means all is there.
    `notes` gets what is worth saying of a sound setup: per service, whether its
    server-side watch is in place and can be armed, or why it has none."""
    checker = _Checker(clients)
    active_clusters = checker.clusters(config)
    for name, service in config.services.items():
        where = f"services.{name}"
        with checker.reporting(f"{where}.traffic", "the load balancer"):
            checker.traffic(service, where)
        if service.cluster in active_clusters:
            with checker.reporting(f"{where}.service", "the ECS services"):
                checker.services(service, where)
            with checker.reporting(f"{where}.traffic", "the cluster's other services"):
                checker.steerers(service)
    with checker.reporting("alarms", "the alarms"):
        checker.alarms(config)
    for name, service in config.services.items():
        with checker.reporting(f"services.{name}.watch", "the server-side watch"):
            checker.watch(service, f"services.{name}")
    with checker.reporting("state.table", "the state table"):
        if not DynamoRecordStore(clients, config.state_table).table_exists():
            checker.warn(f'state.table: table "{config.state_table}" does not exist; {INIT_HINT}')
    if notes is not None:
        notes += checker.notes
    return checker.problems


def bake_advice_lines(clients: AwsClients, config: DeployConfig, now: float) -> list[str]:
    """Per service with an analysis (weighted mode): what its bakes can show, from the
    stable target group's last 7 days (core/bake_advice.py). A read that fails is a
    warning line: the advice is not a check."""
    from neuraltrade_deploy.aws.metrics import TargetGroupMetrics
    from neuraltrade_deploy.core.bake_advice import bake_advice

    lines: list[str] = []
    for name, service in config.services.items():
        traffic = service.traffic
        if service.analysis is None or not traffic.weighted or not traffic.canary_target_group:
            continue
        try:
            refs = (traffic.canary_target_group, traffic.stable_target_group)
            groups = [find_target_group(clients, ref) for ref in refs]
            if groups[0] is None or groups[1] is None:
                continue
            reader = TargetGroupMetrics(
                clients,
                str(groups[0]["TargetGroupArn"]),
                str(groups[1]["TargetGroupArn"]),
                route=traffic.listener_rule or traffic.listener,
            )
            hours, rate = reader.stable_hours(now)
        except AWS_FAILURES as err:
            lines.append(f"{WARNING_PREFIX}services.{name}.analysis: no bake advice: {err}")
            continue
        lines += bake_advice(service, name, hours, rate)
    return lines


class _Checker:
    def __init__(self, clients: AwsClients) -> None:
        self.clients = clients
        self.problems: list[str] = []
        self.notes: list[str] = []  # not problems: what a sound setup has (check_resources)
        self.stable_tg: dict[str, str] = {}  # service key -> stable target group ARN

    def add(self, line: str) -> None:
        self.problems.append(line)

    def warn(self, line: str) -> None:
        self.problems.append(WARNING_PREFIX + line)

    @contextmanager
    def reporting(self, key: str, what: str) -> Iterator[None]:
        """An AWS failure (no permission, say) inside becomes a problem line of its own."""
        try:
            yield
        except AWS_FAILURES as err:
            self.add(f"{key}: cannot check {what}: {translate(err, action=f'reading {what}')}")

    def clusters(self, config: DeployConfig) -> set[str]:
        names = sorted({s.cluster for s in config.services.values()})
        active: set[str] = set()
        with self.reporting("services", "the ECS clusters"):
            try:
                response = self.clients.ecs.describe_clusters(clusters=names)
            except AWS_FAILURES as err:
                raise translate(err, action="DescribeClusters") from err
            clusters = response.get("clusters", [])
            active = {c["clusterName"] for c in clusters if c.get("status") == "ACTIVE"}
            for name, service in config.services.items():
                if service.cluster not in active:
                    self.add(f'services.{name}.cluster: cluster "{service.cluster}" does not exist')
        return active

    def services(self, service: ServiceConfig, where: str) -> None:
        ecs = EcsGatewayAws(self.clients)
        states = ecs.describe_services(
            service.cluster, [service.stable_service, service.canary_service]
        )
        stable, canary = states[service.stable_service], states[service.canary_service]
        if not stable.exists:
            self.add(
                f'{where}.service: service "{service.stable_service}" does not exist in cluster '
                f'"{service.cluster}"'
            )
        else:
            problem = steering_problem(stable)
            if problem:
                self.add(f"{where}.service: {problem}")
            self._stable_binding(stable, where)
        if canary.exists:
            self._canary_owner(canary, where)

    def _stable_binding(self, stable: ServiceState, where: str) -> None:
        bound = sorted(b.target_group_arn for b in stable.load_balancers)
        wanted = self.stable_tg.get(where)
        if wanted and wanted not in bound:
            self.add(
                f'{where}.traffic.stable_target_group: the stable service "{stable.name}" is not '
                f"attached to it (its target groups: {', '.join(map(_tg_name, bound)) or 'none'})"
            )

    def _canary_owner(self, canary: ServiceState, where: str) -> None:
        deployment = canary.tags.get(DEPLOYMENT_TAG)
        if deployment:
            self.warn(
                f'{where}.canary_service: "{canary.name}" exists, made by nt-deploy for '
                f"deployment {deployment}: a deployment is in progress or was interrupted "
                "(see `nt-deploy status`)"
            )
        else:
            self.add(
                f'{where}.canary_service: service "{canary.name}" exists and is not '
                f"nt-deploy's (no {DEPLOYMENT_TAG} tag); nt-deploy will not adopt it: "
                "delete it or choose another canary_service"
            )

    def traffic(self, service: ServiceConfig, where: str) -> None:
        traffic, key = service.traffic, f"{where}.traffic"
        groups: dict[str, TargetGroupTypeDef] = {}
        for field in TG_FIELDS:
            ref = getattr(traffic, field)
            found = find_target_group(self.clients, ref) if ref else None
            if found is not None:
                groups[field] = found
            elif ref:
                self.add(f'{key}.{field}: target group "{ref}" does not exist')
        if "stable_target_group" in groups:
            self.stable_tg[where] = str(groups["stable_target_group"]["TargetGroupArn"])
        found_all = len(groups) == sum(1 for f in TG_FIELDS if getattr(traffic, f))
        self._routing(service, groups, key, check_forward=found_all)
        if traffic.test_rule and traffic.mode == "weighted":
            self._test_rule(service, groups, key)

    def _routing(
        self,
        service: ServiceConfig,
        groups: Mapping[str, TargetGroupTypeDef],
        key: str,
        *,
        check_forward: bool,
    ) -> None:
        """The rule (or listener): exists, forwards only to our target groups, and sits on
        the load balancer our target groups belong to."""
        traffic = service.traffic
        field = "listener_rule" if traffic.listener_rule else "listener"
        rule, listener_arn = self._rule(f"{key}.{field}", traffic.listener_rule)
        actions = list(rule.get("Actions", [])) if rule is not None else None
        listener_arn = listener_arn or traffic.listener
        if listener_arn is None:
            return
        listener = find_listener(self.clients, listener_arn)
        if listener is None:
            self.add(f'{key}.{field}: listener "{listener_arn}" does not exist')
            return
        if field == "listener":
            actions = list(listener.get("DefaultActions", []))
        lb_arn = str(listener["LoadBalancerArn"])
        for tg_field, group in groups.items():
            elsewhere = group.get("LoadBalancerArns") or []
            # A target group serves one load balancer at most; one on none yet is fine.
            if elsewhere and lb_arn not in elsewhere:
                self.add(
                    f'{key}.{tg_field}: target group "{group["TargetGroupName"]}" belongs to '
                    f'load balancer "{", ".join(map(_lb_name, elsewhere))}", not to '
                    f'"{_lb_name(lb_arn)}" of the {field.replace("_", " ")}'
                )
        if actions is not None and check_forward and traffic.weighted:
            self._forward(actions, groups, f"{key}.{field}")
            self._sticky(actions, service, f"{key}.{field}")

    def _test_rule(
        self, service: ServiceConfig, groups: Mapping[str, TargetGroupTypeDef], key: str
    ) -> None:
        """`test_rule`: exists, is no default rule, has a condition of its own (a rule
        without one would match every request it sees) and forwards to our groups only."""
        rule = self._rule(f"{key}.test_rule", service.traffic.test_rule)[0]
        if rule is None:
            return
        problems, warnings = route_findings(self.clients, service.traffic, rule, key)
        for line in problems:
            self.add(line)
        for line in warnings:
            self.warn(line)
        if len(groups) == len(TG_FIELDS):
            self._forward(list(rule.get("Actions", [])), groups, f"{key}.test_rule")

    def _rule(self, key: str, rule_arn: str | None) -> tuple[RuleTypeDef | None, str | None]:
        """(the rule, its listener's ARN); (None, None) when there is no rule (or it is
        unfit: each problem is added)."""
        if not rule_arn:
            return None, None
        try:
            listener_arn = listener_arn_of_rule(rule_arn)
        except ValueError as err:
            self.add(f"{key}: {err}")
            return None, None
        rule = find_rule(self.clients, rule_arn)
        if rule is None:
            self.add(f'{key}: listener rule "{rule_arn}" does not exist')
            return None, None
        problem = default_rule_problem(key, rule, listener_arn)
        if problem:
            self.add(problem)
            return None, None
        return rule, listener_arn

    def _forward(
        self,
        actions: Sequence[ActionOutputTypeDef],
        groups: Mapping[str, TargetGroupTypeDef],
        key: str,
    ) -> None:
        try:
            weights = forward_weights(forward_action(actions))
        except AWS_FAILURES as err:
            self.add(f"{key}: {err}")
            return
        ours = {str(g["TargetGroupArn"]) for g in groups.values()}
        foreign = sorted(arn for arn, weight in weights.items() if weight and arn not in ours)
        if foreign:
            self.add(
                f"{key}: forwards traffic to {', '.join(map(_tg_name, foreign))}, which is "
                "neither the stable nor the canary target group; nt-deploy would take that "
                "traffic away from it"
            )

    def _sticky(
        self, actions: Sequence[ActionOutputTypeDef], service: ServiceConfig, key: str
    ) -> None:
        """How long the sticky wait (core/sticky.py) could make promote and rollback."""
        try:
            seconds = sticky_seconds(forward_action(actions))
        except AWS_FAILURES:
            return  # _forward said so already
        if seconds:
            rule = service.traffic.listener_rule or service.traffic.listener
            longest = format_duration(min(float(seconds), service.timeouts.sticky))
            self.warn(
                f"{key}: stickiness on rule {rule} (DurationSeconds {seconds}): promote and"
                f" rollback keep the canary up to {longest} after traffic leaves it"
                " (timeouts.sticky bounds it), or until its RequestCount is 0 for a period"
            )

    def steerers(self, service: ServiceConfig) -> None:
        """Another service of the cluster steering our rule with ECS's own strategies: the
        start would refuse it (one ListServices pass, as the start makes)."""
        from neuraltrade_deploy.aws.ecs import cluster_services

        traffic = service.traffic
        if not (traffic.listener_rule or traffic.test_rule):
            return
        ours = (service.stable_service, service.canary_service)
        problem = other_steerer_problem(
            service, cluster_services(self.clients, service.cluster, ours)
        )
        if problem:
            self.add(problem.removesuffix(" (nothing was changed)"))

    def watch(self, service: ServiceConfig, where: str) -> None:
        """The watch's runbook and rule exist (init made them) and the rule's request fits
        in the runbook's parameters."""
        from neuraltrade_deploy.aws.elbv2 import resolve_traffic
        from neuraltrade_deploy.aws.watch import EventBridgeWatch

        skipped = watch_skipped(service)
        key = f"{where}.watch"
        if skipped:  # not asked for (no roles set) or not possible
            self.notes.append(f"{key}: no server-side watch ({skipped})")
            return
        resolved = resolve_traffic(self.clients, service.traffic, where=f"{where}.traffic")
        watch = EventBridgeWatch(self.clients, resolved, service)
        status = watch.status()
        missing = [
            what
            for what, there in (
                (f"rule {status.rule}", status.rule_state is not None),
                (f"runbook {status.document}", status.document_exists),
            )
            if not there
        ]
        if missing:
            line = f"{key}: {' and '.join(missing)} not found; run `nt-deploy init`"
            if service.watch.enabled:
                self.add(line.replace(f"{key}:", f"{key}.enabled: true, but", 1))
            else:
                self.warn(line + " (until then deployments run without the watch)")
            return
        too_long = watch.target("validate").too_long()
        if too_long:
            self.add(f"{key}: the watch cannot carry the rule's request: {too_long}")
            return
        if status.rule_state == "ENABLED":
            runbook = f":automation-definition/{status.document}:"
            if runbook not in (status.target_arn or ""):
                self.add(
                    f"{key}: rule {status.rule} is enabled but does not start the runbook"
                    f" {status.document} (its target: {status.target_arn or 'none'}); an alarm"
                    " would not move the traffic: `nt-deploy rollback`, then deploy again"
                )
                return
            self.warn(f"{key}: rule {status.rule} is armed now (a canary takes production traffic)")
        self.notes.append(
            f"{key}: rule {status.rule} ({status.rule_state}) and runbook"
            f" {status.document} in place: armed while a canary takes traffic"
        )

    def alarms(self, config: DeployConfig) -> None:
        names = list(dict.fromkeys(a for s in config.services.values() for a in s.alarms))
        if not names:
            return
        reading = AlarmReaderAws(self.clients).read(names)
        if reading.error:
            self.add(f"alarms: cannot read the alarms: {reading.error}")
            return
        for name, service in config.services.items():
            for alarm in service.alarms:
                if alarm in reading.missing:
                    self.add(f'services.{name}.alarms: alarm "{alarm}" does not exist')
                elif alarm in reading.firing:
                    self.warn(
                        f'services.{name}.alarms: alarm "{alarm}" is in ALARM now; '
                        "a deployment would not start"
                    )
        stuck = [n for n, s in reading.states.items() if s.state == "INSUFFICIENT_DATA"]
        if stuck:
            self._insufficient_data(config, stuck)

    def _insufficient_data(self, config: DeployConfig, stuck: list[str]) -> None:
        """Alarms that cannot fire: a problem under `alarms_insufficient_data: fail`,
        a warning under `warn` (the default)."""
        findings = {f.alarm: f for f in insufficient_data_alarms(self.clients, stuck, now=time())}
        for name, service in config.services.items():
            for alarm in (a for a in service.alarms if a in findings):
                line = f"services.{name}.alarms: {findings[alarm].describe()}"
                if service.alarms_insufficient_data == "fail":
                    self.add(f"{line} (alarms_insufficient_data: fail)")
                else:
                    self.warn(line)


def _tg_name(arn: str) -> str:
    _, sep, rest = arn.partition(":targetgroup/")
    return rest.split("/", 1)[0] if sep else arn


def _lb_name(arn: str) -> str:
    parts = arn.partition(":loadbalancer/")[2].split("/")
    return parts[1] if len(parts) >= 3 else arn
