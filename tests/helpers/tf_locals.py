"""The `locals` of examples/terraform as they resolve in a sample account.

Terraform evaluates locals only at plan time, which cannot run here. The ARNs built
from names (locals.tf) are string templates over the partition, the region, the
account, variables' defaults and other locals, some of them `[for x in list : "..."]`
lists; that much is resolved here, so a test can compare an ARN Terraform will build
with the name nt-deploy uses. Anything else (functions, conditionals) is an error,
never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tests.helpers.hcl_text import parse
from tests.helpers.repo import TERRAFORM
from tests.helpers.tf_policy import unquote

_FOR = re.compile(r'^\$\{\[for (\w+) in ([\w.]+) : "(.*)"\]\}$', re.S)
_INTERPOLATION = re.compile(r"\$\{([\w.]+)\}")


@dataclass(frozen=True)
class Account:
    """Where the locals resolve: what the data sources of locals.tf would return."""

    account: str = "111122223333"
    region: str = "us-east-1"
    partition: str = "aws"

    def data(self) -> dict[str, str]:
        return {
            "data.aws_partition.current.partition": self.partition,
            "data.aws_region.current.name": self.region,
            "data.aws_caller_identity.current.account_id": self.account,
        }


def _merged(kind: str, filename: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry in parse(TERRAFORM / filename).get(kind, []):
        found.update(entry)
    return found


def variable_defaults() -> dict[str, Any]:
    return {
        name.strip('"'): body.get("default")
        for name, body in _merged("variable", "variables.tf").items()
    }


class Locals:
    """`resolve("watch_rule_arns")`: a local's value, a string or a list of strings."""

    def __init__(self, where: Account | None = None) -> None:
        self._where = where or Account()
        self._raw = _merged("locals", "locals.tf")
        self._defaults = variable_defaults()

    def resolve(self, name: str) -> str | list[str]:
        return self._value(self._raw[name], {})

    def _value(self, raw: Any, bound: dict[str, str]) -> str | list[str]:
        if isinstance(raw, dict):
            raise ValueError(f"not resolved here: a map {sorted(raw)}")
        if isinstance(raw, list):
            return [self._string(item, bound) for item in raw]
        loop = _FOR.match(raw)
        if not loop:
            return self._string(raw, bound)
        var, source, template = loop.groups()
        items = self._reference(source, bound)
        assert isinstance(items, list), f"{source} is not a list"
        return [self._string(template, {**bound, var: item}) for item in items]

    def _string(self, raw: Any, bound: dict[str, str]) -> str:
        def one(match: re.Match[str]) -> str:
            value = self._reference(match.group(1), bound)
            assert isinstance(value, str), f"{match.group(1)} is a list inside a string"
            return value

        resolved = _INTERPOLATION.sub(one, str(unquote(raw)))
        if "${" in resolved:  # a function, a conditional, an expression: not evaluated here
            raise ValueError(f"not resolved here: {raw}")
        return resolved

    def _reference(self, ref: str, bound: dict[str, str]) -> str | list[str]:
        if ref in bound:
            return bound[ref]
        if ref in self._where.data():
            return self._where.data()[ref]
        kind, _, name = ref.partition(".")
        if kind == "local":
            return self.resolve(name)
        if kind == "var":
            default = self._defaults[name]
            if isinstance(default, list):
                return [str(unquote(d)) for d in default]
            assert default is not None, f"var.{name} has no default"
            return str(unquote(default))
        raise KeyError(f"not resolved here: {ref}")
