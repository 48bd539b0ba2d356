"""How an ALB listener picks a target for a request: rules, weights, stickiness, health.

Pure reading of moto's objects (listener rules, target groups) and the health book;
the HTTP server around it is `balancer.py`.

- Rules are tried by priority; a rule matches when all its conditions do
  (`host-header`, `path-pattern`, `http-header`, `http-request-method`; `*` and `?`
  wildcards, case-insensitive for hosts; for `http-header` the name and the values
  are case-insensitive, as the ELB docs say, and `*`/`?` are its only wildcards).
  No match: the listener's default action. A header sent several times: only one
  of its values is seen (AWS tries each in order).
- `forward` to one group, or a weighted `ForwardConfig`: a group is drawn with
  probability weight / sum of weights, read from the rule as it is now, so a
  ModifyRule applies to the next request.
- Target-group stickiness (`TargetGroupStickinessConfig`): the ALB answers with an
  `AWSALBTG` cookie naming the group, valid `DurationSeconds`; a client sending it
  back goes to that group as long as the rule still forwards to it, whatever its
  weight now (0 included), and with no healthy target there it gets that group's
  503: stickiness takes precedence over the weights and is not broken by health
  (AWS re:Post, "ALB to automatically redirect traffic": the 503s last until the
  cookie expires). Every answer sets the cookie again with a fresh expiry: kept, as
  the docs ("Sticky sessions for your Application Load Balancer") say the expiry is
  reset on subsequent responses for the load balancer's application cookie and say
  nothing else of AWSALBTG, and it is the reading under which a canary is never
  removed early. So an active client never leaves its group; only a client whose
  session ends (it drops its cookies: `Traffic(session=...)`) does.
- In the group: round robin over `healthy` targets; with only `unhealthy` ones,
  the ALB fails open and uses those; with none of either (no targets, or only
  initial/draining): 503.
- `fixed-response`: its status and body. Other action types: 501 (not emulated).
Not emulated: target-level stickiness (`stickiness.enabled` on the group),
least-outstanding-requests, slow start, query-string/source-ip conditions.
"""

from __future__ import annotations

import base64
import fnmatch
import itertools
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from moto.elbv2.models import elbv2_backends

from neuraltrade_world import timescale
from neuraltrade_world.health import HealthBook

STICKY_COOKIE = "AWSALBTG"


@dataclass(frozen=True)
class Route:
    """Where a request goes: a target (status 0) or the load balancer's own answer."""

    load_balancer: str  # app/<name>/<id>
    target_group: str = ""
    target: str = ""
    status: int = 0  # set when the ALB answers itself (503, 404, 501)
    body: bytes = b""
    cookie: str | None = None  # Set-Cookie value, when stickiness is on


class Router:
    def __init__(self, health: HealthBook, seed: int | None = None) -> None:
        self.health = health
        self.listener_arn: str | None = None  # None: the first listener found
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._turns: dict[str, itertools.count[int]] = {}

    def route(self, path: str, method: str, headers: Mapping[str, str]) -> Route:
        found = self._listener()
        if found is None:
            return Route("", status=503, body=b"no load balancer listener in the world")
        balancer_arn, listener = found
        dimension = balancer_arn.split(":loadbalancer/")[-1]
        action = _first_action(_matching_rule(listener, path, method, headers))
        if action is None:
            return Route(dimension, status=501, body=b"action type not emulated")
        data = action.data
        if data.get("Type") == "fixed-response":
            config = data.get("FixedResponseConfig") or {}
            body = str(config.get("MessageBody", "")).encode()
            return Route(dimension, status=int(config.get("StatusCode", 200)), body=body)
        if data.get("Type") != "forward":
            return Route(dimension, status=501, body=b"action type not emulated")
        group, cookie = self._group(data, headers)
        if group is None:
            return Route(dimension, status=503, body=b"503 Service Temporarily Unavailable")
        return self._target(dimension, group, cookie)

    def direct(self, group_name: str) -> Route:
        """A target of the named group, reached at its own address (no listener, no ALB
        metrics): what a smoke check of a task, or a test route, reaches."""
        for elbv2 in _elbv2():
            for arn, group in list(elbv2.target_groups.items()):
                if group.name == group_name:
                    states = self.health.states(arn)
                    ready = [s.ip for s in states if s.state in ("healthy", "initial", "unused")]
                    ready.sort()
                    if ready:
                        return Route("", arn, ready[self._turn(arn) % len(ready)])
                    return Route("", arn, status=503, body=b"no task in this target group")
        return Route("", status=404, body=b"no such target group")

    def _listener(self) -> tuple[str, Any] | None:
        for elbv2 in _elbv2():
            for balancer in sorted(list(elbv2.load_balancers.values()), key=lambda b: b.arn):
                for arn, listener in sorted(list(balancer.listeners.items())):
                    if self.listener_arn in (None, arn):
                        return balancer.arn, listener
        return None

    def _group(
        self, data: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[str | None, str | None]:
        config = data.get("ForwardConfig") or {}
        groups = [
            (g["TargetGroupArn"], int(g.get("Weight", 1))) for g in config.get("TargetGroups") or []
        ]
        if not groups and data.get("TargetGroupArn"):
            groups = [(str(data["TargetGroupArn"]), 1)]
        sticky = config.get("TargetGroupStickinessConfig") or {}
        duration = float(sticky.get("DurationSeconds") or 3600)
        if sticky.get("Enabled"):
            held = _held_group(headers.get("cookie", ""))
            if held is not None and held in {arn for arn, _ in groups}:
                return held, _cookie(held, duration)
        live = [(arn, w) for arn, w in groups if w > 0]
        if not live:
            return None, None
        with self._lock:
            pick = self._random.uniform(0, sum(w for _, w in live))
        chosen = live[-1][0]
        for arn, weight in live:
            pick -= weight
            if pick <= 0:
                chosen = arn
                break
        return chosen, (_cookie(chosen, duration) if sticky.get("Enabled") else None)

    def _target(self, dimension: str, group: str, cookie: str | None) -> Route:
        states = self.health.states(group)
        healthy = sorted(s.ip for s in states if s.state == "healthy")
        pool = healthy or sorted(s.ip for s in states if s.state == "unhealthy")
        if not pool:
            return Route(
                dimension,
                group,
                status=503,
                body=b"503 Service Temporarily Unavailable",
                cookie=cookie,
            )
        return Route(dimension, group, pool[self._turn(group) % len(pool)], cookie=cookie)

    def _turn(self, group: str) -> int:
        with self._lock:
            return next(self._turns.setdefault(group, itertools.count()))


def _matching_rule(listener: Any, path: str, method: str, headers: Mapping[str, str]) -> Any:
    rules = [r for r in list(listener.rules.values()) if not r.is_default]
    rules.sort(key=lambda r: int(r.priority))
    for rule in rules:
        if all(_condition(c, path, method, headers) for c in rule.conditions):
            return rule
    defaults = [r for r in list(listener.rules.values()) if r.is_default]
    return defaults[0] if defaults else None


def _first_action(rule: Any) -> Any:
    if rule is None:
        return None
    actions = [
        a for a in rule.actions if a.data.get("Type") in ("forward", "fixed-response", "redirect")
    ]
    return actions[0] if actions else None


def _condition(
    condition: Mapping[str, Any], path: str, method: str, headers: Mapping[str, str]
) -> bool:
    field = condition.get("Field")
    if field == "host-header":
        values = (
            (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
        )
        host = headers.get("host", "").split(":")[0].lower()
        return any(fnmatch.fnmatchcase(host, v.lower()) for v in values)
    if field == "path-pattern":
        values = (
            (condition.get("PathPatternConfig") or {}).get("Values")
            or condition.get("Values")
            or []
        )
        return any(fnmatch.fnmatchcase(path.split("?")[0], v) for v in values)
    if field == "http-header":
        # ELB docs (HttpHeaderConfig): the name is case-insensitive, without wildcards; the
        # values are compared case-insensitively, with `*` and `?` as the only wildcards
        config = condition.get("HttpHeaderConfig") or {}
        value = headers.get(str(config.get("HttpHeaderName", "")).lower())
        return value is not None and any(_wildcard(value, v) for v in config.get("Values") or [])
    if field == "http-request-method":
        values = (condition.get("HttpRequestMethodConfig") or {}).get("Values") or []
        return method.upper() in values
    return False  # query-string, source-ip: not emulated


def _wildcard(value: str, pattern: str) -> bool:
    """ELB's match: `*` any run, `?` one character, anything else literal; any case."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _cookie(group: str, duration: float) -> str:
    token = f"{group}|{timescale.now() + duration:.0f}".encode()
    value = base64.urlsafe_b64encode(token).decode()
    return f"{STICKY_COOKIE}={value}; Max-Age={int(duration)}; Path=/"


def _held_group(cookie_header: str) -> str | None:
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name != STICKY_COOKIE:
            continue
        try:
            group, _, expiry = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
            return group if float(expiry) > timescale.now() else None
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def _elbv2() -> list[Any]:
    return [
        b for per_region in list(dict.values(elbv2_backends)) for b in list(dict.values(per_region))
    ]
