data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  common_tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  # ARNs built from names, so no account ID is written anywhere.
  ecs_arn_prefix       = "arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  ecs_cluster_arn      = "${local.ecs_arn_prefix}:cluster/${var.ecs_cluster_name}"
  cluster_service_arns = "${local.ecs_arn_prefix}:service/${var.ecs_cluster_name}/*"
  stable_service_arns = [
    for name in var.ecs_service_names : "${local.ecs_arn_prefix}:service/${var.ecs_cluster_name}/${name}"
  ]
  canary_service_arns = [
    for name in var.ecs_service_names : "${local.ecs_arn_prefix}:service/${var.ecs_cluster_name}/${name}-canary"
  ]
  scalable_target_arns = "arn:${data.aws_partition.current.partition}:application-autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:scalable-target/*"
  alarm_arns           = "arn:${data.aws_partition.current.partition}:cloudwatch:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:alarm:*"
  task_definition_arns = [
    for family in var.task_definition_families : "${local.ecs_arn_prefix}:task-definition/${family}:*"
  ]

  # The server-side watch (watch.tf; neuraltrade_deploy/aws/watch.py fixes these names).
  ssm_arn_prefix      = "arn:${data.aws_partition.current.partition}:ssm:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  watch_runbook_names = ["nt-deploy-watch-rule", "nt-deploy-watch-listener"]
  watch_document_arns = [for name in local.watch_runbook_names : "${local.ssm_arn_prefix}:document/${name}"]
  # What StartAutomationExecution is authorized on: the runbook at any version (the
  # rule's target names its $DEFAULT version).
  watch_automation_definition_arns = [
    for name in local.watch_runbook_names : "${local.ssm_arn_prefix}:automation-definition/${name}:*"
  ]
  # One rule per service, nt-deploy-watch-<cluster>-<service>; a name longer than
  # EventBridge's 64 characters is cut and ends in a hash, hence the prefix.
  watch_rule_arns = [
    "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:rule/nt-deploy-watch-*"
  ]
  # What the runbook writes and nt-deploy reads: /nt-deploy/watch/<cluster>/<service>
  # (a parameter's ARN drops the name's leading slash).
  watch_parameter_arns = [
    for name in var.ecs_service_names : "${local.ssm_arn_prefix}:parameter/nt-deploy/watch/${var.ecs_cluster_name}/${name}"
  ]
  automation_execution_arns = "${local.ssm_arn_prefix}:automation-execution/*"
}
