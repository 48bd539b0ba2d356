"""deploy.yaml loading: defaults, key paths in every problem, and no traceback for any input."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuraltrade_deploy.config import load_config, select_service
from neuraltrade_deploy.core.errors import ConfigError, ExitStatus
from neuraltrade_deploy.core.plan import DeployConfig, SmokeCheck, Step, Timeouts

REPO = Path(__file__).resolve().parents[2]
RULE = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/nt-api/"
    "50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
)
LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/nt-api/"
    "50dc6c495c0c9188/f2f7dc8efc522ab2"
)


class _Delete:
    """Marks a key to remove; its repr keeps test ids stable across processes (xdist)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()

VALID: dict[str, Any] = {
    "version": 1,
    "state": {"table": "deployments"},
    "defaults": {
        "poll_interval": "5s",
        "steps": [{"weight": 10, "bake": "5m"}, {"weight": 100, "bake": "1m"}],
        "alarms": ["api-errors", "api-latency"],
    },
    "services": {
        "api": {
            "cluster": "prod",
            "service": "api-prod",
            "task_definition": "td/api.json",
            "container": "api",
            "traffic": {
                "listener_rule": RULE,
                "stable_target_group": "nt-api-stable",
                "canary_target_group": "nt-api-canary",
            },
            "smoke": {
                "canary": [{"name": "health", "url": "http://canary.internal:8080/health"}],
                "production": [{"name": "health", "url": "https://api.example/health"}],
            },
        }
    },
}


def write(folder: Path, document: object) -> Path:
    """deploy.yaml (a dict is dumped, a str written as is) with the task definition it names."""
    if not (folder / "td" / "api.json").exists():
        (folder / "td").mkdir(exist_ok=True)
        (folder / "td" / "api.json").write_text('{"family": "api"}')
    text = document if isinstance(document, str) else dump(document)
    (folder / "deploy.yaml").write_text(text)
    return folder / "deploy.yaml"


def dump(document: object) -> str:
    return yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False)


def changed(path: str, value: object, base: dict[str, Any] = VALID) -> dict[str, Any]:
    """A copy of `base` with the value at a dotted path (`a.b[1].c`) set, or removed when DELETE."""
    document = copy.deepcopy(base)
    *parents, last = re.findall(r"[^.\[\]]+", path)
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    key: Any = int(last) if last.isdigit() else last
    if value is DELETE:
        del node[key]
    elif isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value
    return document


def problems_of(folder: Path, document: object) -> list[str]:
    write(folder, document)
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=folder)
    assert caught.value.exit_status is ExitStatus.BAD_INPUT
    assert int(caught.value.exit_status) == 2
    return caught.value.problems


def load(folder: Path, document: object) -> DeployConfig:
    write(folder, document)
    return load_config(cwd=folder)


SVC = "services.api"
TRAFFIC = f"{SVC}.traffic"
CHECK = f"{SVC}.smoke.canary[0]"

# (dotted path to change, new value, fragments the one problem line must contain)
BAD_CONFIGS: list[tuple[str, object, list[str]]] = [
    ("version", 2, ["deploy.yaml: version: 2 is not supported", "expected 1"]),
    ("version", DELETE, ["version: required but missing"]),
    ("version", "1", ["version: wrong type: got a string ('1')"]),
    ("region", "us_east", ["region: 'us_east' is not valid", "such as us-east-1"]),
    ("state.table", "x", ["state.table: 'x' is not valid", "3 to 255"]),
    ("state", DELETE, ["state: required but missing", "table"]),
    ("servics", {}, ["servics: unknown key", "did you mean 'services'?"]),
    ("defaults.poll_interval", "0s", ["defaults.poll_interval: '0s' is zero", "more than 0"]),
    ("defaults.poll_interval", None, ["defaults.poll_interval: wrong type: got nothing"]),
    ("defaults.steps", [], ["defaults.steps: is empty", "at least 1"]),
    ("defaults.steps[1].weight", 10, ["defaults.steps[1].weight: 10 is not greater than 10",
                                      "weights must strictly increase"]),
    ("defaults.steps[0].weight", 0, ["defaults.steps[0].weight: 0 is out of range", "1 to 100"]),
    ("defaults.steps[1].weight", 101, ["defaults.steps[1].weight: 101 is out of range"]),
    ("defaults.steps[0].weight", "10", ["defaults.steps[0].weight: wrong type", "'10'"]),
    ("defaults.steps[0].bake", "5 minutes", ["defaults.steps[0].bake: '5 minutes' is not",
                                             "1h30m"]),
    ("defaults.steps[0].bake", -5, ["defaults.steps[0].bake: -5 is negative"]),
    ("defaults.steps[0].bake", 1.5, ["defaults.steps[0].bake: wrong type", "1.5", "1500ms"]),
    ("defaults.steps[0].bake", "8d", ["defaults.steps[0].bake: '8d' is not a duration"]),
    ("defaults.steps[0].bake", DELETE, ["defaults.steps[0].bake: required but missing"]),
    ("defaults.alarms", "api-errors", ["defaults.alarms: wrong type", "a list of names"]),
    ("defaults.alarms[1]", "", ["defaults.alarms[1]: is empty", "CloudWatch alarm name"]),
    ("defaults.alarms_insufficient_data", "ignore", [
        "defaults.alarms_insufficient_data: 'ignore' is not valid", "one of fail, warn"]),
    (f"{SVC}.alarms_insufficient_data", True, [
        f"{SVC}.alarms_insufficient_data: wrong type", "one of fail, warn"]),
    ("services", {}, ["services: is empty", "at least 1"]),
    ("services.API", VALID["services"]["api"], ["services.API: 'API' is not valid",
                                                "lowercase"]),
    (f"{SVC}.cluster", DELETE, [f"{SVC}.cluster: required but missing", "ECS cluster"]),
    (f"{SVC}.cluster", 5, [f"{SVC}.cluster: wrong type: got a whole number (5)"]),
    (f"{SVC}.service", "api prod", [f"{SVC}.service: 'api prod' is not valid"]),
    (f"{SVC}.container", "", [f"{SVC}.container: is empty"]),
    (f"{SVC}.canary_service", "api-prod", [f"{SVC}.canary_service: 'api-prod' is the stable"]),
    (f"{SVC}.trafic", {}, [f"{SVC}.trafic: unknown key", "did you mean 'traffic'?",
                           "valid keys: cluster, service"]),
    (f"{SVC}.task_definition", "td/missing.json", [f"{SVC}.task_definition: 'td/missing.json'",
                                                   "is not a file"]),
    (f"{SVC}.poll_interval", "fast", [f"{SVC}.poll_interval: 'fast' is not a duration"]),
    (f"{SVC}.timeouts.healthy", 0, [f"{SVC}.timeouts.healthy: 0 is zero"]),
    (f"{SVC}.timeouts.promot", "5m", [f"{SVC}.timeouts.promot: unknown key", "'promote'"]),
    (f"{SVC}.timeouts.sticky", "soon", [f"{SVC}.timeouts.sticky: 'soon' is not a duration"]),
    (f"{SVC}.timeouts.sticky", 0, [f"{SVC}.timeouts.sticky: 0 is zero"]),
    (f"{SVC}.steps", [{"weight": 5}], [f"{SVC}.steps[0].bake: required but missing"]),
    (f"{TRAFFIC}.mode", "canary", [f"{TRAFFIC}.mode: 'canary' is not valid",
                                   "one of weighted, replicas"]),
    (f"{TRAFFIC}.canary_target_group", DELETE, [f"{TRAFFIC}.canary_target_group: required in "
                                                "weighted mode"]),
    (f"{TRAFFIC}.listener_rule", "my-rule", [f"{TRAFFIC}.listener_rule: 'my-rule' is not valid",
                                             "listener rules have no names"]),
    (f"{TRAFFIC}.listener_rule", LISTENER, [f"{TRAFFIC}.listener_rule: 'arn:",
                                            "a listener rule ARN"]),
    (f"{TRAFFIC}.listener", LISTENER, [f"{TRAFFIC}.listener: given together with listener_rule",
                                       "only one"]),
    (f"{TRAFFIC}.listener_rule", DELETE, [f"{TRAFFIC}.listener_rule: required but missing",
                                          "listener"]),
    (f"{TRAFFIC}.canary_target_group", "nt-api-stable", [f"{TRAFFIC}.canary_target_group: "
                                                         "'nt-api-stable' is the stable"]),
    (f"{TRAFFIC}.stable_target_group", "nt_api", [f"{TRAFFIC}.stable_target_group: 'nt_api' is "
                                                  "not valid", "target group name"]),
    (f"{TRAFFIC}.mode", "replicas", [f"{TRAFFIC}.canary_target_group: is not used in replicas",
                                     "remove it"]),
    (f"{TRAFFIC}.test_rule", RULE, [f"{TRAFFIC}.test_rule: is the listener_rule itself",
                                    "a rule of its own", "X-Canary"]),
    (f"{TRAFFIC}.test_rule", "canary-rule", [f"{TRAFFIC}.test_rule: 'canary-rule' is not valid",
                                             "listener rules have no names"]),
    (f"{TRAFFIC}.test_rule", LISTENER, [f"{TRAFFIC}.test_rule: 'arn:", "a listener rule ARN"]),
    (f"{TRAFFIC}.test_rule", 7, [f"{TRAFFIC}.test_rule: wrong type"]),
    (f"{CHECK}.url", "ftp://host/x", [f"{CHECK}.url: 'ftp://host/x' is not valid", "http://"]),
    (f"{CHECK}.url", DELETE, [f"{CHECK}.url: required but missing"]),
    (f"{CHECK}.method", "get", [f"{CHECK}.method: 'get' is not valid", "GET, HEAD, POST"]),
    (f"{CHECK}.expect_status", 99, [f"{CHECK}.expect_status: 99 is out of range", "100 to 599"]),
    (f"{CHECK}.retries", 11, [f"{CHECK}.retries: 11 is out of range", "0 to 10"]),
    (f"{CHECK}.follow_redirects", "yes", [f"{CHECK}.follow_redirects: wrong type",
                                          "true or false"]),
    (f"{CHECK}.timeout", "0ms", [f"{CHECK}.timeout: '0ms' is zero"]),
    (f"{CHECK}.max_latency", "-1s", [f"{CHECK}.max_latency: '-1s' is not a duration"]),
    (f"{CHECK}.expect_code", 200, [f"{CHECK}.expect_code: unknown key", "'expect_status'"]),
    (f"{CHECK}.headers", ["X-A: 1"], [f"{CHECK}.headers: wrong type: got a list",
                                      "expected a mapping"]),
    (f"{CHECK}.headers", {"Bad Header": "x"}, [f"{CHECK}.headers.Bad Header: 'Bad Header' is not",
                                               "HTTP header name"]),
    (f"{SVC}.smoke.canary[1]", {"name": "health", "url": "http://b/"},
     [f"{SVC}.smoke.canary[1].name: 'health' is used twice", "unique"]),
    ("services.web", {**VALID["services"]["api"], "canary_service": "other"},
     ["services.web.service: 'api-prod' in cluster 'prod' is also services.api.service"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "fragments"),
    BAD_CONFIGS,
    ids=[f"{path}={value!r}"[:60] for path, value, _ in BAD_CONFIGS],
)
def test_a_bad_config_is_one_problem_naming_its_key_path(
    tmp_path: Path, path: str, value: object, fragments: list[str]
) -> None:
    problems = problems_of(tmp_path, changed(path, value))
    assert len(problems) == 1, problems
    for fragment in fragments:
        assert fragment in problems[0]
    assert problems[0].startswith("deploy.yaml: ")


def test_a_secret_header_value_is_never_quoted_in_a_problem(tmp_path: Path) -> None:
    document = changed(f"{CHECK}.headers", {"Authorization": "Bearer s3cr3t\nX-Evil: 1"})
    [problem] = problems_of(tmp_path, document)
    assert f"{CHECK}.headers.Authorization: the value is not valid" in problem
    assert "s3cr3t" not in problem
    [problem] = problems_of(tmp_path, changed(f"{CHECK}.headers", {"X-Token": 12345}))
    assert "wrong type: got a whole number;" in problem
    assert "12345" not in problem


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    document = changed("defaults.steps[1].weight", 5)
    document["services"]["api"]["traffic"]["mode"] = "weigted"
    document["services"]["api"]["contaner"] = "api"
    problems = problems_of(tmp_path, document)
    assert len(problems) == 3, problems
    assert any("defaults.steps[1].weight: 5 is not greater than 10" in p for p in problems)
    assert f"deploy.yaml: {TRAFFIC}.mode: 'weigted' is not valid; did you mean 'weighted'?" in (
        "\n".join(problems)
    )
    assert f"deploy.yaml: {SVC}.contaner: unknown key; did you mean 'container'?" in (
        "\n".join(problems)
    )


def test_the_message_carries_every_problem(tmp_path: Path) -> None:
    write(tmp_path, changed("version", 3) | {"region": "nowhere"})
    with pytest.raises(ConfigError, match=r"version: 3 .*; deploy\.yaml: region: 'nowhere'"):
        load_config(cwd=tmp_path)


# ---------------------------------------------------------------- merging and defaults


def test_service_alarms_are_added_to_the_defaults_without_duplicates(tmp_path: Path) -> None:
    document = changed(f"{SVC}.alarms", ["api-cpu", "api-errors", "api-cpu"])
    service = load(tmp_path, document).services["api"]
    assert service.alarms == ("api-errors", "api-latency", "api-cpu")


def test_service_steps_and_poll_interval_replace_the_defaults(tmp_path: Path) -> None:
    document = changed(f"{SVC}.steps", [{"weight": 25, "bake": "90s"}])
    document["services"]["api"]["poll_interval"] = 2
    service = load(tmp_path, document).services["api"]
    assert service.steps == (Step(25, 90.0),)
    assert service.poll_interval == 2.0


def test_alarms_insufficient_data_defaults_to_warn_and_a_service_replaces_it(
    tmp_path: Path,
) -> None:
    assert load(tmp_path, VALID).services["api"].alarms_insufficient_data == "warn"
    document = changed("defaults.alarms_insufficient_data", "fail")
    assert load(tmp_path, document).services["api"].alarms_insufficient_data == "fail"
    document["services"]["api"]["alarms_insufficient_data"] = "warn"
    assert load(tmp_path, document).services["api"].alarms_insufficient_data == "warn"


def test_services_without_overrides_take_the_defaults(tmp_path: Path) -> None:
    service = load(tmp_path, VALID).services["api"]
    assert service.steps == (Step(10, 300.0), Step(100, 60.0))
    assert service.poll_interval == 5.0
    assert service.alarms == ("api-errors", "api-latency")


def test_without_a_defaults_section_the_built_in_plan_applies(tmp_path: Path) -> None:
    service = load(tmp_path, changed("defaults", DELETE)).services["api"]
    assert service.steps == (Step(10, 300.0), Step(50, 300.0), Step(100, 300.0))
    assert service.poll_interval == 5.0
    assert service.alarms == ()


def test_canary_service_defaults_to_the_service_name_with_canary(tmp_path: Path) -> None:
    assert load(tmp_path, VALID).services["api"].canary_service == "api-prod-canary"
    named = load(tmp_path, changed(f"{SVC}.canary_service", "api-next"))
    assert named.services["api"].canary_service == "api-next"


def test_left_out_values_take_the_same_defaults_as_the_model(tmp_path: Path) -> None:
    """keys.py and model.py each hold defaults: they must agree."""
    service = load(tmp_path, VALID).services["api"]
    assert service.timeouts == Timeouts() == Timeouts(healthy=600.0, promote=1200.0, sticky=600.0)
    assert service.smoke_canary == (SmokeCheck("health", "http://canary.internal:8080/health"),)
    assert service.traffic.mode == "weighted"


def test_every_check_field_is_read(tmp_path: Path) -> None:
    check = {
        "name": "login", "url": "https://api.example/login", "method": "POST",
        "headers": {"Authorization": "Bearer ${SMOKE_TOKEN}", "X-Canary": ""},
        "expect_status": 204, "expect_body_contains": "ok", "timeout": "2s",
        "max_latency": "250ms", "retries": 0, "follow_redirects": True,
    }  # fmt: skip
    service = load(tmp_path, changed(f"{SVC}.smoke.production[0]", check)).services["api"]
    assert service.smoke_production == (
        SmokeCheck("login", "https://api.example/login", "POST",
                   {"Authorization": "Bearer ${SMOKE_TOKEN}", "X-Canary": ""},
                   204, "ok", 2.0, 0.25, 0, True),
    )  # fmt: skip


def test_replicas_mode_and_a_listener_default_action(tmp_path: Path) -> None:
    document = changed(TRAFFIC, {"mode": "replicas", "listener": LISTENER,
                                 "stable_target_group": "nt-api-stable"})  # fmt: skip
    traffic = load(tmp_path, document).services["api"].traffic
    assert (traffic.mode, traffic.listener, traffic.listener_rule) == ("replicas", LISTENER, None)
    assert traffic.canary_target_group is None


TEST_RULE = RULE[:-4] + "cafe"


def test_a_test_rule_is_read_into_the_plan_and_absent_by_default(tmp_path: Path) -> None:
    assert load(tmp_path, VALID).services["api"].traffic.test_rule is None
    with_rule = changed(f"{TRAFFIC}.test_rule", TEST_RULE)
    assert load(tmp_path, with_rule).services["api"].traffic.test_rule == TEST_RULE


def test_a_test_rule_goes_with_a_listener_default_action_too(tmp_path: Path) -> None:
    document = changed(TRAFFIC, {"listener": LISTENER, "test_rule": TEST_RULE,
                                 "stable_target_group": "nt-api-stable",
                                 "canary_target_group": "nt-api-canary"})  # fmt: skip
    traffic = load(tmp_path, document).services["api"].traffic
    assert (traffic.listener, traffic.test_rule) == (LISTENER, TEST_RULE)


def test_a_test_rule_in_replicas_mode_is_refused_naming_its_key(tmp_path: Path) -> None:
    document = changed(TRAFFIC, {"mode": "replicas", "listener": LISTENER,
                                 "stable_target_group": "nt-api-stable",
                                 "test_rule": TEST_RULE})  # fmt: skip
    [problem] = problems_of(tmp_path, document)
    assert f"{TRAFFIC}.test_rule: is not used in replicas mode" in problem


def test_target_groups_may_be_arns_and_the_same_group_is_caught_across_forms(
    tmp_path: Path,
) -> None:
    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nt-api-stable/73e2d6bc"
    assert load(tmp_path, changed(f"{TRAFFIC}.stable_target_group", arn)).services["api"]
    [problem] = problems_of(tmp_path, changed(f"{TRAFFIC}.canary_target_group", arn))
    assert "canary_target_group" in problem
    assert "is the stable target group" in problem


def test_task_definition_is_resolved_from_the_folder_of_deploy_yaml(tmp_path: Path) -> None:
    config_dir = tmp_path / "deploy"
    config_dir.mkdir()
    write(config_dir, VALID)
    config = load_config(Path("deploy/deploy.yaml"), cwd=tmp_path)
    assert config.services["api"].task_definition == config_dir / "td" / "api.json"
    assert config.path == config_dir / "deploy.yaml"
    assert config.state_table == "deployments"
    assert config.version == 1
    assert config.region is None


def test_config_may_name_the_folder_that_holds_deploy_yaml(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    assert load_config(tmp_path).path == tmp_path / "deploy.yaml"


# ---------------------------------------------------------------- unreadable files


def test_invalid_yaml_is_one_problem_with_line_and_column(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, "version: 1\nservices:\n  api: [unclosed\n")
    assert len(problems) == 1
    assert re.match(r"deploy\.yaml: line \d+, column \d+: invalid YAML: ", problems[0])


def test_a_repeated_key_is_refused_not_silently_overwritten(tmp_path: Path) -> None:
    text = "version: 1\nversion: 1\n"
    [problem] = problems_of(tmp_path, text)
    expected = "deploy.yaml: line 2, column 1: invalid YAML: duplicate key 'version'"
    assert problem.startswith(expected)


def test_an_impossible_date_is_a_config_problem(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path, "version: 2024-02-30\n")
    assert "invalid YAML" in problem


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(Path("nowhere/deploy.yaml"), cwd=tmp_path)
    assert caught.value.exit_status == 2
    assert str(caught.value).startswith("nowhere/deploy.yaml: file not found")
    assert "--config PATH" in str(caught.value)
    assert "folder that holds deploy.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "deploy.yaml: the file is empty; expected at least version, state and services"),
        ("# only a comment\n", "the file is empty"),
        ("- version: 1\n", "deploy.yaml: wrong type: got a list; expected a mapping with keys"),
        ("just words\n", "deploy.yaml: wrong type: got a string ('just words')"),
    ],
)
def test_a_file_without_a_mapping_is_a_problem(tmp_path: Path, text: str, fragment: str) -> None:
    [problem] = problems_of(tmp_path, text)
    assert fragment in problem


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "deploy.yaml").write_bytes(b"version: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(cwd=tmp_path)


# ---------------------------------------------------------------- select_service


def test_select_service_may_leave_the_name_out_only_with_one_service(tmp_path: Path) -> None:
    config = load(tmp_path, VALID)
    assert select_service(config, None).name == "api"
    assert select_service(config, "api") is config.services["api"]
    two = changed("services.web", {**VALID["services"]["api"], "service": "web-prod"})
    with pytest.raises(ConfigError, match=r"2 services \(api, web\).*--service NAME") as caught:
        select_service(load(tmp_path, two), None)
    assert caught.value.exit_status == 2


def test_select_service_names_the_valid_services_for_an_unknown_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no service 'wbe' .*valid services: api"):
        select_service(load(tmp_path, VALID), "wbe")


# ---------------------------------------------------------------- the project's own file


def test_the_projects_deploy_yaml_loads_with_both_services() -> None:
    config = load_config(cwd=REPO)
    assert (config.version, config.region, config.state_table) == (
        1, "us-east-1", "neuraltrade-deployments"
    )  # fmt: skip
    api, ws = config.services["api"], config.services["ws"]
    assert (api.stable_service, api.canary_service, api.container) == (
        "neuraltrade-api-production", "neuraltrade-api-production-canary", "api"
    )  # fmt: skip
    assert (ws.stable_service, ws.container, ws.traffic.canary_target_group) == (
        "neuraltrade-ws-production", "ws", "nt-ws-canary"
    )  # fmt: skip
    assert api.task_definition == REPO / "task-definitions" / "api.json"
    assert api.alarms == (
        "neuraltrade-api-error-rate-production",
        "neuraltrade-api-elb-5xx-production",
        "neuraltrade-api-latency-production",
        "neuraltrade-ecs-cpu-production",
    )
    assert [s.weight for s in api.steps] == [10, 50, 100]
    assert api.smoke_production[0].headers == {"Authorization": "Bearer ${SMOKE_TOKEN}"}
    assert api.traffic.listener_rule != ws.traffic.listener_rule
    # the api's canary smoke goes through its test route: the production host, X-Canary: 1
    test_rule, rule = api.traffic.test_rule, api.traffic.listener_rule
    assert test_rule
    assert rule
    assert test_rule != rule
    assert test_rule.rsplit("/", 1)[0] == rule.rsplit("/", 1)[0]  # on the same listener
    (canary_check,) = api.smoke_canary
    assert canary_check.url == api.smoke_production[0].url
    assert canary_check.headers == {"X-Canary": "1"}


# ---------------------------------------------------------------- fuzz: never a traceback

_KEYS = ["version", "state", "table", "defaults", "steps", "weight", "bake", "alarms",
         "services", "api", "cluster", "service", "traffic", "mode", "listener_rule",
         "smoke", "canary", "production", "name", "url", "headers", "timeouts"]  # fmt: skip
_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["5s", "0", "-1", "weighted", RULE, "td/api.json"])
)  # fmt: skip
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(_KEYS) | st.text(max_size=6) | st.integers(), inner, max_size=4
        )
    ),  # fmt: skip
    max_leaves=20,
)
_paths = st.sampled_from([
    "version", "region", "state", "state.table", "defaults", "defaults.steps",
    "defaults.steps[0]", "defaults.steps[1].weight", "defaults.alarms", "services",
    "services.api", f"{SVC}.traffic", f"{TRAFFIC}.mode", f"{TRAFFIC}.listener",
    f"{SVC}.smoke", f"{SVC}.smoke.canary", CHECK, f"{CHECK}.headers", f"{CHECK}.timeout",
    f"{SVC}.steps", f"{SVC}.canary_service", f"{SVC}.timeouts", f"{SVC}.alarms",
])  # fmt: skip
_FUZZ = settings(max_examples=200, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _loads_or_config_error(folder: Path, text: str) -> None:
    write(folder, text)
    try:
        assert isinstance(load_config(cwd=folder), DeployConfig)
    except ConfigError as err:
        assert err.problems
        assert all(isinstance(p, str) and p for p in err.problems)


@_FUZZ
@given(text=st.text(alphabet="ab1-:[]{}&*!|>'\"#%@ \n\t\\") | st.text())
def test_any_text_loads_or_raises_config_error(tmp_path: Path, text: str) -> None:
    _loads_or_config_error(tmp_path, text)


@_FUZZ
@given(document=_values)
def test_any_structure_loads_or_raises_config_error(tmp_path: Path, document: object) -> None:
    _loads_or_config_error(tmp_path, dump(document))


@_FUZZ
@given(changes=st.lists(st.tuples(_paths, _values), min_size=1, max_size=3))
def test_a_valid_config_changed_anywhere_loads_or_raises_config_error(
    tmp_path: Path, changes: list[tuple[str, object]]
) -> None:
    document: Any = VALID
    for path, value in changes:
        try:
            document = changed(path, value, document)
        except (KeyError, IndexError, TypeError, AttributeError):
            continue  # an earlier change removed the parent: keep what we have
    _loads_or_config_error(tmp_path, dump(document))
