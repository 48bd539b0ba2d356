# Goes in environments/production, next to iam.tf. Their ARNs (outputs
# watch_events_role_arn, watch_automation_role_arn) go into deploy.yaml
# `defaults.watch.events_role_arn` and `defaults.watch.automation_role_arn`.
#
# The server-side watch (SPEC rule 15) runs in AWS alone, with no nt-deploy process
# alive: per service, an EventBridge rule nt-deploy-watch-<cluster>-<service> on the
# default bus matches the service's alarms entering ALARM. Its one target starts the
# SSM Automation runbook nt-deploy-watch-rule (nt-deploy-watch-listener for a
# listener's default action) as the events role. The runbook assumes the automation
# role, puts the route 100% back on stable (ModifyRule or ModifyListener) and writes
# what it did to /nt-deploy/watch/<cluster>/<service> (PutParameter). nt-deploy itself
# creates the runbooks and the rules (`nt-deploy init`) and arms and disarms the
# rules; what it needs for that is in iam.tf.
#
# Each trust policy names one service principal and, against the confused deputy,
# the account and the resource that may use the role (aws:SourceAccount and
# aws:SourceArn, global condition keys set by EventBridge and by SSM Automation).

# ------------------------------------------------------------------ the events role

data "aws_iam_policy_document" "nt_deploy_watch_events_trust" {
  statement {
    sid     = "EventBridgeWatchRules"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    # aws:SourceAccount: the account of the rule sending the event.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    # aws:SourceArn: the rule sending the event; only the watch's rules.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = local.watch_rule_arns
    }
  }
}

resource "aws_iam_role" "nt_deploy_watch_events" {
  name               = "nt-deploy-watch-events"
  description        = "EventBridge: the nt-deploy watch rules start the watch runbook"
  assume_role_policy = data.aws_iam_policy_document.nt_deploy_watch_events_trust.json

  tags = local.common_tags
}

data "aws_iam_policy_document" "nt_deploy_watch_events" {
  # A runbook as an EventBridge target: the role starts it (the target's ARN is the
  # runbook's automation definition at $DEFAULT; `:*` is any of its versions)...
  statement {
    sid       = "StartWatchRunbooks"
    actions   = ["ssm:StartAutomationExecution"]
    resources = local.watch_automation_definition_arns
  }

  # ...and hands it the automation role (the runbook's AutomationAssumeRole), to
  # Systems Manager only: condition key iam:PassedToService.
  statement {
    sid       = "PassAutomationRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.nt_deploy_watch_automation.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ssm.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "nt_deploy_watch_events" {
  name   = "nt-deploy-watch-events"
  role   = aws_iam_role.nt_deploy_watch_events.id
  policy = data.aws_iam_policy_document.nt_deploy_watch_events.json
}

# ------------------------------------------------------------------ the automation role

data "aws_iam_policy_document" "nt_deploy_watch_automation_trust" {
  statement {
    sid     = "SsmAutomationWatchRunbooks"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ssm.amazonaws.com"]
    }

    # aws:SourceAccount: the account the automation runs in.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    # aws:SourceArn: an automation execution of this account and region (its id is
    # made when it starts, so no narrower ARN exists).
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.automation_execution_arns]
    }
  }
}

resource "aws_iam_role" "nt_deploy_watch_automation" {
  name               = "nt-deploy-watch-automation"
  description        = "SSM Automation: the nt-deploy watch runbook puts traffic back on stable"
  assume_role_policy = data.aws_iam_policy_document.nt_deploy_watch_automation_trust.json

  tags = local.common_tags
}

data "aws_iam_policy_document" "nt_deploy_watch_automation" {
  # Step 1 of nt-deploy-watch-rule: the weighted rules, and nothing else (the canary's
  # test route is not the watch's).
  statement {
    sid       = "TrafficToStableOnRules"
    actions   = ["elasticloadbalancing:ModifyRule"]
    resources = concat([aws_lb_listener_rule.api.arn], var.extra_listener_rule_arns)
  }

  # Step 1 of nt-deploy-watch-listener, if deploy.yaml uses `listener:`.
  dynamic "statement" {
    for_each = length(var.weighted_listener_arns) > 0 ? [1] : []
    content {
      sid       = "TrafficToStableOnListeners"
      actions   = ["elasticloadbalancing:ModifyListener"]
      resources = var.weighted_listener_arns
    }
  }

  # Step 2: what the watch did, one parameter per service (a String parameter: no KMS).
  statement {
    sid       = "RecordWhatWasDone"
    actions   = ["ssm:PutParameter"]
    resources = local.watch_parameter_arns
  }
}

resource "aws_iam_role_policy" "nt_deploy_watch_automation" {
  name   = "nt-deploy-watch-automation"
  role   = aws_iam_role.nt_deploy_watch_automation.id
  policy = data.aws_iam_policy_document.nt_deploy_watch_automation.json
}
