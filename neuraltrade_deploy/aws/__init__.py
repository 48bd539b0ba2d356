"""The AWS boundary: the only package that imports boto3/botocore.

- `clients.AwsClients`: one session, cached clients, retries, hooks for fault injection.
- `ecs.EcsGatewayAws`, `elbv2.WeightedRouter` (+ `resolve_traffic`), with a
  `traffic.test_rule` `canary_route.TestRuleRouter`, `cloudwatch.AlarmReaderAws`,
  `dynamodb.DynamoRecordStore`: the shell/ports.py protocols (`target_health`: the
  routers' DescribeTargetHealth).
- `checks.check_resources`: `nt-deploy validate --aws`.
- `canary_copy.create_service_request`: what the canary copies from the stable service.
- `default_rule.refuse_default_rule`, `alarm_data.insufficient_data_alarms`: checks for
  the start of a deployment (and validate --aws).
- `errors.translate` / `is_transient`: failures as the project's errors.

Nothing is imported here, so importing a submodule costs only what it needs, and the CLI
imports this package lazily: `nt-deploy --help` never loads boto3.
"""
