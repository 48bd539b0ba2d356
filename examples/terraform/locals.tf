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
}
