# Goes in environments/production. Its ARN (output deploy_role_arn) becomes the
# repository variable NT_DEPLOY_ROLE_ARN that .github/workflows/deploy.yml assumes.
#
# The role has exactly what nt-deploy calls. tests/examples/test_iam.py checks
# both ways that every AWS call in neuraltrade_deploy/aws/ is allowed here and that
# nothing else is, and runs parliament over the policy.

# Created once per account; look it up rather than hard-code its ARN.
data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "nt_deploy_trust" {
  statement {
    sid     = "GitHubDeployWorkflow"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [data.aws_iam_openid_connect_provider.github.arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only this repository. Jobs with an environment present
    # "repo:<repo>:environment:<name>"; the others (canary-10, abandon) present the
    # branch they were dispatched from. Exact matches, no wildcards: a workflow run
    # from any other branch, or from a fork, is refused.
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values = concat(
        ["repo:${var.github_repository}:ref:refs/heads/${var.github_deploy_branch}"],
        [for env in var.github_environments : "repo:${var.github_repository}:environment:${env}"],
      )
    }
  }
}

resource "aws_iam_role" "nt_deploy" {
  name                 = "${var.project}-nt-deploy-${var.environment}"
  description          = "GitHub Actions deploy workflow: nt-deploy canary deployments"
  assume_role_policy   = data.aws_iam_policy_document.nt_deploy_trust.json
  max_session_duration = 21600 # 6h: the guard jobs watch that long; step jobs ask for 2h

  tags = local.common_tags
}

data "aws_iam_policy_document" "nt_deploy" {
  #checkov:skip=CKV_AWS_356:DescribeAlarms must be unscoped to read composite alarms; the other "*" actions take no resource ARN
  # Registering takes the task definition's ARN (family:revision): only our families.
  statement {
    sid       = "RegisterTaskDefinitions"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = local.task_definition_arns
  }

  # Tags on the task definitions and canary services nt-deploy creates. Tagging at
  # creation needs ecs:TagResource too.
  statement {
    sid       = "TagWhatNtDeployCreates"
    actions   = ["ecs:TagResource"]
    resources = concat(local.task_definition_arns, local.canary_service_arns)
  }

  statement {
    sid       = "Cluster"
    actions   = ["ecs:DescribeClusters"]
    resources = [local.ecs_cluster_arn]
  }

  # Update both services: scale the canary, roll the stable one in promote.
  statement {
    sid       = "Services"
    actions   = ["ecs:UpdateService"]
    resources = concat(local.stable_service_arns, local.canary_service_arns)
  }

  # Read every service of the cluster: at the start of a deployment nt-deploy looks for
  # another service whose advancedConfiguration names its listener rule (ECS's own
  # blue/green would move the same weights). DescribeServices is read-only.
  statement {
    sid       = "ReadClusterServices"
    actions   = ["ecs:DescribeServices"]
    resources = [local.cluster_service_arns]
  }

  # ListServices has no resource type in IAM (Service Authorization Reference): "*",
  # held to this cluster by its ecs:cluster condition key.
  statement {
    sid       = "ListClusterServices"
    actions   = ["ecs:ListServices"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.ecs_cluster_arn]
    }
  }

  # Create and delete only canaries: nt-deploy never deletes a stable service.
  statement {
    sid = "CanaryServices"
    actions = [
      "ecs:CreateService",
      "ecs:DeleteService",
    ]
    resources = local.canary_service_arns
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = var.pass_role_arns

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  # A stable service with EBS volumes (volumeConfigurations: managedEBSVolume.roleArn):
  # the canary copy's CreateService passes that ECS infrastructure role to ECS itself
  # (ecs.amazonaws.com, not ecs-tasks), so it needs its own, narrower PassRole.
  dynamic "statement" {
    for_each = length(var.ebs_volume_role_arns) > 0 ? [1] : []
    content {
      sid       = "PassVolumeRole"
      actions   = ["iam:PassRole"]
      resources = var.ebs_volume_role_arns

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ecs.amazonaws.com"]
      }
    }
  }

  # Application Auto Scaling on the stable: read its scalable target (no resource-level
  # permissions, hence "*") and suspend dynamic scale-in for the length of a deployment,
  # then restore it. A scalable target's ARN ends in a random id: any of this account
  # and region.
  statement {
    sid       = "ReadScalableTargets"
    actions   = ["application-autoscaling:DescribeScalableTargets"]
    resources = ["*"]
  }

  statement {
    sid       = "HoldStableScaleIn"
    actions   = ["application-autoscaling:RegisterScalableTarget"]
    resources = [local.scalable_target_arns]
  }

  # ELBv2 Describe* calls take no resource ARN in IAM.
  statement {
    sid = "ReadLoadBalancers"
    actions = [
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  # Reweighting: only the weighted rules and the canary's test route...
  statement {
    sid     = "ShiftTrafficOnRules"
    actions = ["elasticloadbalancing:ModifyRule"]
    resources = concat(
      [aws_lb_listener_rule.api.arn, aws_lb_listener_rule.api_canary_test.arn],
      var.extra_listener_rule_arns,
    )
  }

  # ...and the listeners whose default action is weighted, if deploy.yaml uses `listener:`.
  dynamic "statement" {
    for_each = length(var.weighted_listener_arns) > 0 ? [1] : []
    content {
      sid       = "ShiftTrafficOnListeners"
      actions   = ["elasticloadbalancing:ModifyListener"]
      resources = var.weighted_listener_arns
    }
  }

  # Read-only. DescribeAlarms returns composite alarms only to a permission scoped
  # to "*" (CloudWatch API reference, DescribeAlarms), and deploy.yaml may name one.
  statement {
    sid       = "ReadAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["*"]
  }

  # The history takes an alarm ARN: any alarm of this account and region.
  statement {
    sid       = "ReadAlarmHistory"
    actions   = ["cloudwatch:DescribeAlarmHistory"]
    resources = [local.alarm_arns]
  }

  # Read-only: the ALB's per-target-group metrics for `analysis` (canary vs stable), and
  # for validate --aws, whether an INSUFFICIENT_DATA alarm's metric has any data.
  # GetMetricData supports no resource-level permissions, hence "*".
  statement {
    sid = "ReadMetrics"
    actions = [
      "cloudwatch:GetMetricData",
    ]
    resources = ["*"]
  }

  # `notify:` in deploy.yaml: one message per start, promote, rollback, failed rollback,
  # to these topics only (the monitoring module's critical/warning topics).
  dynamic "statement" {
    for_each = length(var.notify_topic_arns) > 0 ? [1] : []
    content {
      sid       = "Notify"
      actions   = ["sns:Publish"]
      resources = var.notify_topic_arns
    }
  }

  # A topic encrypted with a customer managed KMS key (SSE): Publish also needs
  # kms:GenerateDataKey and kms:Decrypt on that key, and the key policy must let this
  # role use it (the AWS managed alias/aws/sns key cannot be shared across accounts).
  dynamic "statement" {
    for_each = length(var.notify_kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "NotifyKms"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = var.notify_kms_key_arns
    }
  }

  # ---------------------------------------------------------------- the server-side watch
  # The runbooks, the rules and the parameter of watch.tf (neuraltrade_deploy/aws/watch.py
  # names them). The watch's own work, in AWS, runs as the two roles of watch.tf, not as
  # this one.

  # `nt-deploy init` creates the two runbooks or brings them up to date: read, compare,
  # create or update, make the new version the default. validate --aws describes them.
  statement {
    sid = "WatchRunbooks"
    actions = [
      "ssm:DescribeDocument",
      "ssm:GetDocument",
      "ssm:CreateDocument",
      "ssm:UpdateDocument",
      "ssm:UpdateDocumentDefaultVersion",
    ]
    resources = local.watch_document_arns
  }

  # One rule per service on the default bus. init creates it DISABLED (DescribeRule,
  # PutRule); arming enables it with the service's alarms in its pattern (PutRule);
  # disarming disables it; validate --aws reads it and its target.
  statement {
    sid = "WatchRules"
    actions = [
      "events:DescribeRule",
      "events:PutRule",
      "events:DisableRule",
      "events:ListTargetsByRule",
    ]
    resources = local.watch_rule_arns
  }

  # Arming puts the rule's one target, and only a watch runbook may be it: condition key
  # events:TargetArn, one value per target in the request, hence ForAllValues (a request
  # with no target passes it, and puts nothing).
  statement {
    sid       = "ArmWatchRules"
    actions   = ["events:PutTargets"]
    resources = local.watch_rule_arns

    condition {
      test     = "ForAllValues:ArnLike"
      variable = "events:TargetArn"
      values   = local.watch_automation_definition_arns
    }
  }

  # The target's RoleArn: PutTargets passes the events role, to EventBridge only
  # (condition key iam:PassedToService).
  statement {
    sid       = "PassWatchEventsRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.nt_deploy_watch_events.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["events.amazonaws.com"]
    }
  }

  # What the watch did, which the next command reads to roll back the rest and say why.
  statement {
    sid       = "ReadWhatTheWatchDid"
    actions   = ["ssm:GetParameter"]
    resources = local.watch_parameter_arns
  }

  # The deployment records and lock. CreateTable/TagResource are for `nt-deploy init`.
  statement {
    sid = "StateTable"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:CreateTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:TagResource",
    ]
    resources = [aws_dynamodb_table.deployments.arn]
  }
}

resource "aws_iam_role_policy" "nt_deploy" {
  name   = "nt-deploy"
  role   = aws_iam_role.nt_deploy.id
  policy = data.aws_iam_policy_document.nt_deploy.json
}
