"""The top-level keys of a task definition: what RegisterTaskDefinition takes and what
only DescribeTaskDefinition adds. `aws.ecs.task_definition_keys` reads both from
botocore's service model; these static sets are the fallback (a unit test checks they
are still part of the model). Here, in core, because both `config` (reading a task
definition file) and `aws` (copying the stable's) use them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeySets:
    """Top-level keys: what RegisterTaskDefinition takes, and what only describe adds."""

    register: frozenset[str]
    read_only: frozenset[str]


REGISTER_KEYS = frozenset(
    {
        "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
        "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory", "tags",
        "pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
        "runtimePlatform", "enableFaultInjection",
    }
)  # fmt: skip
# Keys describe-task-definition adds that register-task-definition refuses.
READ_ONLY_KEYS = frozenset(
    {
        "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
        "registeredAt", "registeredBy", "deregisteredAt", "deleteRequestedAt",
    }
)  # fmt: skip
STATIC_KEYS = KeySets(REGISTER_KEYS, READ_ONLY_KEYS)
