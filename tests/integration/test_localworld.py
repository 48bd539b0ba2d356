"""LocalAws as a whole: the provisioned NeuralTrade world, the deploy.yaml it writes,
DescribeAlarmHistory over the server, reset, the environment for child processes,
a clean stop, and the `python -m neuraltrade_world` entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import yaml
from moto.cloudwatch.models import cloudwatch_backends
from neuraltrade_world import DEFAULT_ALARMS, LocalAws, World

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    """The process's world (an e2e session may run one already), with fast tasks."""
    with LocalAws.shared(start_delay=0.1, stop_delay=0.05) as aws:
        yield aws


@pytest.fixture
def nt(local_aws: LocalAws) -> Iterator[World]:
    local_aws.reset()
    try:
        yield local_aws.provision(services=("api", "ws"), wait_for_steady_state=10)
    finally:
        local_aws.reset()


def test_provision_production_builds_the_seed_with_every_stable_service_healthy(
    local_aws: LocalAws, nt: World
) -> None:
    ecs, elbv2 = local_aws.client("ecs"), local_aws.client("elbv2")
    balancer = elbv2.describe_load_balancers(Names=["neuraltrade-alb-production"])
    assert balancer["LoadBalancers"][0]["Scheme"] == "internet-facing"
    listener = elbv2.describe_listeners(ListenerArns=[nt.listener_arn])["Listeners"][0]
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")
    assert listener["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
    cluster = ecs.describe_clusters(clusters=["neuraltrade-production"])["clusters"][0]
    assert (cluster["runningTasksCount"], cluster["activeServicesCount"]) == (6, 2)
    for key in ("api", "ws"):
        service = nt.services[key]
        groups = elbv2.describe_target_groups(
            TargetGroupArns=[service.stable_target_group_arn, service.canary_target_group_arn]
        )["TargetGroups"]
        assert {g["TargetGroupName"] for g in groups} == {f"nt-{key}-stable", f"nt-{key}-canary"}
        assert {(g["TargetType"], g["Port"], g["HealthCheckPath"]) for g in groups} == {
            ("ip", 3000, "/health")
        }
        described = ecs.describe_services(
            cluster="neuraltrade-production", services=[service.service_name]
        )
        stable = described["services"][0]
        assert stable["launchType"] == "FARGATE"
        assert (stable["desiredCount"], stable["runningCount"]) == (3, 3)
        assert stable["loadBalancers"] == [
            {
                "targetGroupArn": service.stable_target_group_arn,
                "containerName": key,
                "containerPort": 3000,
            }
        ]
        network = stable["networkConfiguration"]["awsvpcConfiguration"]
        assert network["subnets"] == list(nt.private_subnet_ids)
        assert network["securityGroups"] == [nt.tasks_security_group_id]
        assert stable["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
            "enable": True,
            "rollback": True,
        }
        health = elbv2.describe_target_health(TargetGroupArn=service.stable_target_group_arn)
        assert [d["TargetHealth"]["State"] for d in health["TargetHealthDescriptions"]] == [
            "healthy"
        ] * 3
        definition = ecs.describe_task_definition(taskDefinition=service.task_definition_arn)
        container = definition["taskDefinition"]["containerDefinitions"][0]
        assert (container["name"], container["image"]) == (key, f"neuraltrade/{key}:1.0.0")
        assert container["portMappings"][0]["containerPort"] == 3000
        assert definition["taskDefinition"]["family"] == f"neuraltrade-{key}-production"


def test_rules_forward_plainly_to_stable_as_terraform_writes_them(
    local_aws: LocalAws, nt: World
) -> None:
    elbv2 = local_aws.client("elbv2")
    api, ws = nt.services["api"], nt.services["ws"]
    rules = elbv2.describe_rules(RuleArns=[api.listener_rule_arn, ws.listener_rule_arn])["Rules"]
    by_arn = {r["RuleArn"]: r for r in rules}
    api_rule, ws_rule = by_arn[api.listener_rule_arn], by_arn[ws.listener_rule_arn]
    assert api_rule["Priority"] == "10"
    assert api_rule["Conditions"][0]["Field"] == "host-header"
    assert api_rule["Actions"] == [
        {"Type": "forward", "TargetGroupArn": api.stable_target_group_arn}
    ]
    assert ws_rule["Priority"] == "20"
    assert ws_rule["Conditions"][0]["Field"] == "path-pattern"
    forward = ws_rule["Actions"][0]["ForwardConfig"]
    assert forward["TargetGroups"] == [{"TargetGroupArn": ws.stable_target_group_arn, "Weight": 1}]
    assert forward["TargetGroupStickinessConfig"] == {"Enabled": True, "DurationSeconds": 3600}


def test_the_api_has_a_canary_test_route_matched_before_its_rule(
    local_aws: LocalAws, nt: World
) -> None:
    """As examples/terraform's `api_canary_test`: X-Canary: 1 on the api's host, a lower
    priority number than the api's rule, forwarding to stable; ws has none."""
    api, ws = nt.services["api"], nt.services["ws"]
    (rule,) = local_aws.client("elbv2").describe_rules(RuleArns=[api.test_rule_arn])["Rules"]
    assert int(rule["Priority"]) < 10
    assert not rule["IsDefault"]
    fields = {c["Field"]: c for c in rule["Conditions"]}
    assert fields["http-header"]["HttpHeaderConfig"] == {
        "HttpHeaderName": "X-Canary",
        "Values": ["1"],
    }
    assert fields["host-header"]["HostHeaderConfig"]["Values"] == ["api.neuraltrade.example"]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": api.stable_target_group_arn}]
    assert ws.test_rule_arn == ""


def test_alarms_start_in_insufficient_data_and_the_state_table_is_left_to_init(
    local_aws: LocalAws, nt: World
) -> None:
    """As on CloudWatch: a new alarm is INSUFFICIENT_DATA until its first evaluation,
    at the end of its period (60 s here: none has ended yet)."""
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNames=list(DEFAULT_ALARMS))
    initial = ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    assert {
        a["AlarmName"]: (a["StateValue"], a["StateReason"]) for a in alarms["MetricAlarms"]
    } == {name: initial for name in DEFAULT_ALARMS}
    assert set(nt.alarm_arns) == set(DEFAULT_ALARMS)
    assert local_aws.client("dynamodb").list_tables()["TableNames"] == []


def test_options_create_the_state_table_and_put_the_canary_in_the_rule(
    local_aws: LocalAws,
) -> None:
    local_aws.reset()
    try:
        world = local_aws.provision(create_state_table=True, canary_in_rule=True)
        table = local_aws.client("dynamodb").describe_table(TableName="neuraltrade-deployments")
        assert table["Table"]["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        api = world.services["api"]
        rule = local_aws.client("elbv2").describe_rules(RuleArns=[api.listener_rule_arn])
        weights = {
            g["TargetGroupArn"]: g["Weight"]
            for g in rule["Rules"][0]["Actions"][0]["ForwardConfig"]["TargetGroups"]
        }
        assert weights == {api.stable_target_group_arn: 100, api.canary_target_group_arn: 0}
    finally:
        local_aws.reset()


def test_write_deploy_yaml_points_every_key_at_the_world(nt: World, tmp_path: Path) -> None:
    smoke = {"api": {"canary": [{"name": "health", "url": "http://127.0.0.1:9/health"}]}}
    extra = {"services": {"ws": {"timeouts": {"healthy": "5s"}}}, "region": None}
    path = nt.write_deploy_yaml(tmp_path / "deploy", bake="2s", smoke=smoke, extra=extra)
    assert path == tmp_path / "deploy" / "deploy.yaml"
    document = yaml.safe_load(path.read_text())
    assert set(document) == {"version", "state", "defaults", "services"}  # region removed
    assert document["version"] == 1
    assert document["state"] == {"table": "neuraltrade-deployments"}
    assert [s["weight"] for s in document["defaults"]["steps"]] == [10, 50, 100]
    assert {s["bake"] for s in document["defaults"]["steps"]} == {"2s"}
    assert document["defaults"]["alarms"] == list(DEFAULT_ALARMS)
    for key, service in nt.services.items():
        entry = document["services"][key]
        assert (entry["cluster"], entry["service"]) == (service.cluster, service.service_name)
        assert entry["container"] == key
        test_rule = {"test_rule": service.test_rule_arn} if key == "api" else {}
        assert entry["traffic"] == {
            "mode": "weighted",
            "listener_rule": service.listener_rule_arn,
            "stable_target_group": service.stable_target_group_arn,
            "canary_target_group": service.canary_target_group_arn,
            **test_rule,
        }
        body = json.loads((path.parent / entry["task_definition"]).read_text())
        assert body == service.task_definition
    assert document["services"]["api"]["smoke"] == smoke["api"]
    assert "smoke" not in document["services"]["ws"]
    assert document["services"]["ws"]["timeouts"] == {"healthy": "5s", "promote": "30s"}


def _shape_problems(value: Any, shape: Any, path: str = "") -> list[str]:
    """Where `value` (parsed botocore output) strays from the operation's output shape."""
    if shape.type_name == "structure":
        problems = [f"{path}.{k}: not in {shape.name}" for k in value if k not in shape.members]
        for key, member in shape.members.items():
            if key in value:
                problems += _shape_problems(value[key], member, f"{path}.{key}")
        return problems
    if shape.type_name == "list":
        return [
            p for i, v in enumerate(value) for p in _shape_problems(v, shape.member, f"{path}[{i}]")
        ]
    expected = {"string": str, "timestamp": datetime, "integer": int}.get(shape.type_name, object)
    problems = (
        [] if isinstance(value, expected) else [f"{path}: {value!r} is not {shape.type_name}"]
    )
    if getattr(shape, "enum", None) and value not in shape.enum:
        problems.append(f"{path}: {value!r} not in {shape.enum}")
    return problems


def test_describe_alarm_history_over_the_server_tells_each_transition(
    local_aws: LocalAws, nt: World
) -> None:
    cloudwatch = local_aws.client("cloudwatch")
    name = "neuraltrade-api-error-rate-production"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx above 10")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="back to normal")
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")
    items = history["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",  # a new alarm's state (60 s period)
    ]
    fired = json.loads(items[1]["HistoryData"])
    assert fired["version"] == "1.0"
    assert fired["oldState"] == {
        "stateValue": "INSUFFICIENT_DATA",
        "stateReason": "Unchecked: Initial alarm creation",
    }
    assert fired["newState"] == {"stateValue": "ALARM", "stateReason": "5xx above 10"}
    assert {i["AlarmType"] for i in items} == {"MetricAlarm"}
    output = botocore.session.get_session().get_service_model("cloudwatch")
    shape = output.operation_model("DescribeAlarmHistory").output_shape
    body = {k: v for k, v in history.items() if k != "ResponseMetadata"}
    assert _shape_problems(body, shape) == []
    everything = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert everything[-1]["HistoryItemType"] == "ConfigurationUpdate"  # the creation


def test_alarm_history_filters_by_start_date_and_pages(local_aws: LocalAws, nt: World) -> None:
    # The alarm's creation is moved hours back below: the world would evaluate it at
    # once (no traffic: INSUFFICIENT_DATA). This test is about the history alone.
    local_aws.live.alarms.enabled = False
    try:
        _history_filters_and_pages(local_aws, nt)
    finally:
        local_aws.live.alarms.enabled = True


def _history_filters_and_pages(local_aws: LocalAws, nt: World) -> None:
    cloudwatch = local_aws.client("cloudwatch")
    name = "neuraltrade-api-latency-production"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="slow")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="fast")
    # CBOR carries dates in whole seconds: move the creation and the first
    # transition (the ALARM state's start) hours back, in moto's own records.
    alarm = cloudwatch_backends[nt.account_id][nt.region].alarms[name]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    alarm.configuration_updated_timestamp = now - timedelta(hours=2)
    alarm.history[-1] = (*alarm.history[-1][:4], now - timedelta(hours=1))
    since = datetime.now(timezone.utc) - timedelta(minutes=30)
    recent = cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType="StateUpdate", StartDate=since
    )["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in recent] == ["Alarm updated from ALARM to OK"]
    first = cloudwatch.describe_alarm_history(
        AlarmName=name, MaxRecords=1, ScanBy="TimestampAscending"
    )
    assert first["AlarmHistoryItems"][0]["HistoryItemType"] == "ConfigurationUpdate"
    rest = cloudwatch.describe_alarm_history(
        AlarmName=name, NextToken=first["NextToken"], ScanBy="TimestampAscending"
    )
    assert [i["HistorySummary"] for i in rest["AlarmHistoryItems"]] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert "NextToken" not in rest


def test_reset_leaves_nothing_behind(local_aws: LocalAws) -> None:
    local_aws.reset()
    local_aws.provision()
    local_aws.reset()
    assert local_aws.client("ecs").list_clusters()["clusterArns"] == []
    assert local_aws.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert local_aws.emulator.tasks("neuraltrade-production", "neuraltrade-api-production") == []
    world = local_aws.provision()  # the same names again: nothing is left to collide with
    try:
        assert world.services["api"].service_name == "neuraltrade-api-production"
    finally:
        local_aws.reset()


def test_env_sends_a_child_process_to_the_world(local_aws: LocalAws, nt: World) -> None:
    script = "import boto3; print(boto3.client('ecs').list_clusters()['clusterArns'][0])"
    base = {**os.environ, "AWS_PROFILE": "production-admin", "AWS_ENDPOINT_URL_ECS": "http://x"}
    env = local_aws.env(base)
    assert "AWS_PROFILE" not in env
    assert "AWS_ENDPOINT_URL_ECS" not in env
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == nt.cluster_arn


_STOP_CHECK = """
import socket, threading
from neuraltrade_world import LocalAws
before = {t.name for t in threading.enumerate()}
with LocalAws() as aws:
    aws.client("ecs").list_clusters()
    port = aws.port
left = {t.name for t in threading.enumerate()} - before
with socket.socket() as probe:
    print(sorted(left), probe.connect_ex(("127.0.0.1", port)) != 0)
"""


def test_stop_leaves_no_thread_and_no_open_port() -> None:
    """In a process of its own: this one may hold the process's only LocalAws."""
    done = subprocess.run(
        [sys.executable, "-c", _STOP_CHECK],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"


def test_a_second_world_in_the_same_process_is_refused(local_aws: LocalAws) -> None:
    assert LocalAws.running() is local_aws
    with pytest.raises(RuntimeError, match="already runs in this process"):
        LocalAws().start()
    assert LocalAws.running() is local_aws  # the refused one left nothing behind
    with LocalAws.shared(start_delay=5.0) as shared:
        assert shared is local_aws
        assert shared.emulator.timing.start_delay == 5.0
    assert local_aws.emulator.timing.start_delay == 0.1


def test_module_entry_serves_a_provisioned_world_until_interrupted(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "neuraltrade_world", str(tmp_path)]
    child = subprocess.Popen(
        [*command, "--start-delay", "0.05"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        printed: dict[str, str] = {}
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("# deploy.yaml"):
                break
            key, _, value = line.strip().partition("=")
            printed[key] = value
        assert printed["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert (tmp_path / "deploy.yaml").is_file()
        assert (tmp_path / "task-definitions" / "api.json").is_file()
        ecs = boto3.client(
            "ecs",
            endpoint_url=printed["AWS_ENDPOINT_URL"],
            region_name=printed["AWS_REGION"],
            aws_access_key_id=printed["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=printed["AWS_SECRET_ACCESS_KEY"],
        )
        described = ecs.describe_services(
            cluster="neuraltrade-production", services=["neuraltrade-api-production"]
        )
        assert described["services"][0]["runningCount"] == 3
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=15) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
