"""Every key deploy.yaml v1 knows, with its kind, default and description: the one table.

The loader validates against it (unknown keys, types, ranges, defaults) and
`schema.py` turns it into the JSON schema, so the two cannot disagree about
which keys exist. Rules that relate several keys (weights increasing, one of
listener_rule/listener, ...) live in rules.py and, where JSON Schema can say
them, in `schema.py`'s per-section rules too.
"""

from __future__ import annotations

from dataclasses import dataclass

_ELB_ARN = r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:"
_ECS_NAME = r"[A-Za-z0-9_-]{1,255}"


@dataclass(frozen=True)
class Refusal:
    """A value `pattern` leaves out on purpose, and why: it gets its own message instead
    of the generic "is not valid" (`search` finds `pattern` anywhere in the value)."""

    search: str
    what: str  # after the quoted value: "is a FIFO topic ..."
    valid: str  # what to do instead


@dataclass(frozen=True)
class Text:
    """A string; `pattern` (Python and ECMAScript compatible) says what is valid."""

    valid: str  # human words for what is valid, used in messages and schema
    pattern: str | None = None
    min_length: int = 1
    max_length: int | None = None
    secret: bool = False  # never echo the value in a message (smoke headers)
    refused: tuple[Refusal, ...] = ()  # checked before `pattern`, which must not match them


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int


@dataclass(frozen=True)
class Boolean:
    pass


@dataclass(frozen=True)
class Duration:
    positive: bool = False


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]


@dataclass(frozen=True)
class Number:
    """A number (whole or not) above `minimum` (and at most `maximum`); `valid` says so in words."""

    valid: str
    minimum: float
    maximum: float | None = None


@dataclass(frozen=True)
class Limit:
    """A check's absolute limit: a percentage for error_rate, a duration for latency.

    The reader keeps the value as written; rules.py checks it against the check's metric."""

    valid: str


@dataclass(frozen=True)
class ListOf:
    item: Kind
    min_items: int = 0


@dataclass(frozen=True)
class MapOf:
    """A mapping whose keys the user chooses (service names, header names)."""

    key: Text
    value: Kind
    min_items: int = 0


@dataclass(frozen=True)
class Section:
    """A mapping with fixed keys: those of SECTIONS[name]."""

    name: str


Kind = Text | Integer | Boolean | Duration | Number | Limit | Choice | ListOf | MapOf | Section


@dataclass(frozen=True)
class Field:
    kind: Kind
    description: str
    required: bool = False
    default: object = None  # as it would be written in YAML; None: no default


DURATION = Duration()
POSITIVE_DURATION = Duration(positive=True)

SERVICE_NAME = Text(
    "lowercase letters, digits, '-' and '_', starting with a letter or digit",
    r"^[a-z0-9][a-z0-9_-]*$",
    max_length=64,
)
ECS_NAME = Text("up to 255 letters, digits, '-' and '_'", f"^{_ECS_NAME}$")
TARGET_GROUP = Text(
    "a target group name (up to 32 letters, digits and '-') or ARN",
    rf"^(?:{_ELB_ARN}targetgroup/[A-Za-z0-9-]+/[0-9a-zA-Z]+|"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?)$",
)
ALARM_NAME = Text("a CloudWatch alarm name (1 to 255 characters)", max_length=255)
INSUFFICIENT_DATA = Choice(("fail", "warn"))
# Standard topics only: SNS refuses a Publish to a FIFO topic (its name ends in .fifo)
# without a MessageGroupId, and nt-deploy sends none (botocore's sns model, Publish:
# "For FIFO topics ... Every message must include a MessageGroupId"). Refused at load,
# not discovered at the first rollback.
SNS_TOPIC_ARN = Text(
    "a standard SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)",
    r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$",
    refused=(
        Refusal(
            r"^arn:aws[a-z-]*:sns:.*\.fifo$",
            "is a FIFO topic (Publish to a FIFO topic needs a MessageGroupId,"
            " which nt-deploy does not send)",
            "use a standard topic",
        ),
    ),
)
IAM_ROLE_ARN = Text(
    "an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$",
)
# notify: the kinds of event, what each topic is told (core/plan.py Notify has one field each)
NOTIFY_KINDS = {
    "on_start": "when a deployment starts",
    "on_promote": "when a deployment is promoted",
    "on_rollback": "when a deployment is rolled back",
    "on_failure": "when a rollback cannot complete (exit 5)",
    "on_unwatched": "when `nt-deploy guard` stops at --max-time with the deployment still"
    " paused between steps (nothing watches it until the next command)",
}
DEFAULT_STEPS = (
    {"weight": 10, "bake": "5m"},
    {"weight": 50, "bake": "5m"},
    {"weight": 100, "bake": "5m"},
)
METRICS = ("error_rate", "latency_p50", "latency_p90", "latency_p99", "latency_avg")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")

SECTIONS: dict[str, dict[str, Field]] = {
    "top": {
        "version": Field(Integer(1, 1), "Format version of this file; only 1 exists.", True),
        "region": Field(
            Text("an AWS region name such as us-east-1", r"^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$"),
            "AWS region; optional, otherwise the AWS default chain (AWS_REGION, profile).",
        ),
        "state": Field(Section("state"), "Where deployment records and locks live.", True),
        "defaults": Field(Section("defaults"), "Apply to every service unless it overrides them."),
        "services": Field(
            MapOf(SERVICE_NAME, Section("service"), min_items=1),
            "The services nt-deploy deploys, by the name `--service` takes.",
            True,
        ),
    },
    "state": {
        "table": Field(
            Text(
                "a DynamoDB table name: 3 to 255 letters, digits, '_', '-' and '.'",
                r"^[A-Za-z0-9_.-]{3,255}$",
            ),
            "DynamoDB table for deployment records and the per-service lock"
            " (`nt-deploy init` creates it).",
            True,
        ),
    },
    "defaults": {
        "poll_interval": Field(
            POSITIVE_DURATION, "How often alarms and health are read while waiting.", default="5s"
        ),
        "steps": Field(
            ListOf(Section("step"), min_items=1),
            "The canary plan: production weight and bake time per step.",
            default=list(DEFAULT_STEPS),
        ),
        "alarms": Field(
            ListOf(ALARM_NAME),
            "CloudWatch alarms; any of them in ALARM means automatic rollback.",
            default=[],
        ),
        "analysis": Field(
            Section("analysis"),
            "Judge the canary against stable from the ALB's metrics while each step bakes.",
        ),
        "max_pause": Field(
            POSITIVE_DURATION,
            "A deployment left between steps longer than this is rolled back.",
            default="24h",
        ),
        "alarms_insufficient_data": Field(
            INSUFFICIENT_DATA,
            "An alarm in INSUFFICIENT_DATA cannot fire: fail refuses a start and fails a bake,"
            " warn says so.",
            default="warn",
        ),
        "notify": Field(Section("notify"), "SNS topics told of each kind of event."),
        "watch": Field(
            Section("watch"),
            "The server-side watch: an EventBridge rule that, while a canary takes traffic,"
            " starts an SSM Automation runbook putting 100% back on stable when an alarm"
            " enters ALARM, with no nt-deploy process alive.",
        ),
    },
    "watch": {
        "enabled": Field(
            Boolean(),
            "Arm the watch while a canary takes traffic. Unset: on when `nt-deploy init` has"
            " created it (its rule exists) and both roles are set; true: a start without it"
            " is refused; false: off. Weighted mode and at least one alarm only.",
        ),
        "events_role_arn": Field(
            IAM_ROLE_ARN,
            "The role EventBridge assumes to start the runbook (ssm:StartAutomationExecution"
            " on it, iam:PassRole of the automation role).",
        ),
        "automation_role_arn": Field(
            IAM_ROLE_ARN,
            "The role the runbook assumes: ModifyRule (or ModifyListener) on the service's"
            " rule and PutParameter on /nt-deploy/watch/<cluster>/<service>.",
        ),
    },
    "notify": {
        kind: Field(SNS_TOPIC_ARN, f"SNS topic told {what}; optional.")
        for kind, what in NOTIFY_KINDS.items()
    },
    "step": {
        "weight": Field(
            Integer(1, 100),
            "Percent of production traffic on the canary; strictly increasing.",
            True,
        ),
        "bake": Field(
            DURATION, "How long to watch alarms at this weight before the next step.", True
        ),
    },
    "service": {
        "cluster": Field(
            Text(
                "an ECS cluster name or ARN",
                rf"^(?:{_ECS_NAME}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{{12}}:cluster/{_ECS_NAME})$",
            ),
            "The ECS cluster of the service.",
            True,
        ),
        "service": Field(ECS_NAME, "The stable ECS service (made by Terraform).", True),
        "canary_service": Field(
            ECS_NAME, 'The canary ECS service nt-deploy creates; default "<service>-canary".'
        ),
        "task_definition": Field(
            Text("a path to a task definition JSON file"),
            "Task definition file, relative to deploy.yaml.",
            True,
        ),
        "container": Field(ECS_NAME, "The container whose image --image sets.", True),
        "traffic": Field(Section("traffic"), "How production traffic reaches the canary.", True),
        "alarms": Field(ListOf(ALARM_NAME), "Alarms added to defaults.alarms for this service."),
        "alarms_insufficient_data": Field(
            INSUFFICIENT_DATA, "Replaces defaults.alarms_insufficient_data."
        ),
        "steps": Field(ListOf(Section("step"), min_items=1), "Replaces defaults.steps."),
        "poll_interval": Field(POSITIVE_DURATION, "Replaces defaults.poll_interval."),
        "timeouts": Field(Section("timeouts"), "How long to wait for ECS and sticky clients."),
        "smoke": Field(Section("smoke"), "HTTP smoke checks."),
        "analysis": Field(Section("analysis"), "Replaces defaults.analysis, whole."),
        "max_pause": Field(POSITIVE_DURATION, "Replaces defaults.max_pause."),
        "notify": Field(Section("notify"), "Replaces defaults.notify, whole."),
        "watch": Field(Section("watch"), "Keys given here replace those of defaults.watch."),
    },
    "traffic": {
        "mode": Field(
            Choice(("weighted", "replicas")),
            "weighted: canary_target_group gets the weight on the listener rule; replicas: the"
            " canary joins the stable target group and its share follows the task counts.",
            default="weighted",
        ),
        "listener_rule": Field(
            Text(
                "a listener rule ARN (listener rules have no names)",
                rf"^{_ELB_ARN}listener-rule/app/[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$",
            ),
            "The listener rule whose forward action carries the weights; or give `listener`.",
        ),
        "listener": Field(
            Text("a listener ARN", rf"^{_ELB_ARN}listener/app/[^/\s]+/[^/\s]+/[^/\s]+$"),
            "The listener whose default action carries the weights; or give `listener_rule`.",
        ),
        "test_rule": Field(
            Text(
                "a listener rule ARN (listener rules have no names)",
                rf"^{_ELB_ARN}listener-rule/app/[^/\s]+/[^/\s]+/[^/\s]+/[^/\s]+$",
            ),
            "Weighted mode only: a listener rule with its own condition (e.g. http-header"
            " X-Canary: 1) that nt-deploy points 100% at the canary target group once the"
            " canary is healthy, before its canary smoke checks, and back 100% at the stable"
            " one before the canary is removed: the canary's own route, as CodeDeploy's test"
            " listener. Neither `listener_rule` nor the listener's default rule.",
        ),
        "stable_target_group": Field(TARGET_GROUP, "Target group of the stable service.", True),
        "canary_target_group": Field(
            TARGET_GROUP, "Target group of the canary service; required in weighted mode."
        ),
    },
    "timeouts": {
        "healthy": Field(
            POSITIVE_DURATION,
            "Canary tasks running and healthy in their target group.",
            default="10m",
        ),
        "promote": Field(
            POSITIVE_DURATION,
            "Stable service rolled out to the new task definition.",
            default="20m",
        ),
        "sticky": Field(
            POSITIVE_DURATION,
            "With target-group stickiness on the rule: the longest promote and rollback keep"
            " the canary after traffic leaves it, for clients holding its cookie.",
            default="10m",
        ),
    },
    "smoke": {
        "interval": Field(
            POSITIVE_DURATION,
            "While a step bakes, rerun the canary and production checks this often; optional.",
        ),
        "canary": Field(
            ListOf(Section("check")),
            "Run before the canary takes any production traffic.",
            default=[],
        ),
        "production": Field(
            ListOf(Section("check")),
            "Run after every traffic shift, and after promote.",
            default=[],
        ),
    },
    "analysis": {
        "period": Field(
            POSITIVE_DURATION,
            "Metric period judged: whole minutes up to 1h (ALB metrics are 60-second data);"
            " 1, 5, 10, 20 or 30s only with high_resolution: true.",
            default="1m",
        ),
        "high_resolution": Field(
            Boolean(),
            "true: the metrics are published every second (the local world), so a period"
            " under a minute may be judged.",
            default=False,
        ),
        "max_bake": Field(
            POSITIVE_DURATION,
            "An undecided step keeps baking up to this long, then insufficient_data"
            " decides (default: three times the step's bake).",
        ),
        "min_requests": Field(
            Integer(1, 1_000_000_000),
            "Requests on the canary target group before a judgement counts.",
            default=50,
        ),
        "insufficient_data": Field(
            Choice(("fail", "pass")),
            "What a step still undecided at max_bake gets (too few requests, or neither"
            " harm nor the limit shown).",
            default="fail",
        ),
        "checks": Field(
            ListOf(Section("analysis_check"), min_items=1),
            "The checks of canary against stable.",
            True,
        ),
    },
    "analysis_check": {
        "name": Field(
            Text("a non-empty name, unique within the list"), "Names the check in messages.", True
        ),
        "metric": Field(
            Choice(METRICS),
            "error_rate: (HTTPCode_Target_5XX_Count + TargetConnectionErrorCount) /"
            " RequestCount in percent; latency_*:"
            " TargetResponseTime's p50, p90, p99 or Average.",
            True,
        ),
        "max_increase": Field(
            Number("a number of percentage points above 0, at most 100", 0, 100),
            "error_rate: percentage points above stable's rate in the same window.",
        ),
        "max_ratio": Field(
            Number("a ratio above 1, such as 1.5", 1),
            "canary / stable in the same window (error rates or latency).",
        ),
        "max": Field(
            Limit("a percentage above 0 (error_rate) or a duration such as 500ms (latency)"),
            "Absolute: percent for error_rate, a duration for latency.",
        ),
    },
    "check": {
        "name": Field(Text("a non-empty name, unique within the list"), "Names the check.", True),
        "url": Field(
            Text("an http:// or https:// URL", r"^https?://[^\s/?#]+(?:[/?#]\S*)?$"),
            "URL to request.",
            True,
        ),
        "method": Field(Choice(HTTP_METHODS), "HTTP method.", default="GET"),
        "headers": Field(
            MapOf(
                Text("an HTTP header name", r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"),
                Text("a header value on one line", r"^[^\r\n]*$", min_length=0, secret=True),
            ),
            "Request headers; ${VAR} is filled from the environment and never logged.",
            default={},
        ),
        "expect_status": Field(Integer(100, 599), "Expected HTTP status.", default=200),
        "expect_body_contains": Field(
            Text("a non-empty string"), "Text the response body must contain; optional."
        ),
        "timeout": Field(POSITIVE_DURATION, "Timeout of one attempt.", default="5s"),
        "max_latency": Field(POSITIVE_DURATION, "Slowest acceptable response; optional."),
        "retries": Field(Integer(0, 10), "Attempts after the first failure.", default=2),
        "follow_redirects": Field(Boolean(), "Follow HTTP redirects.", default=False),
    },
}
