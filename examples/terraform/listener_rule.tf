# Goes in modules/alb. deploy.yaml `traffic.listener_rule` is this rule's ARN
# (output listener_rule_arn).
#
# Both target groups sit in one weighted forward action: stable 100, canary 0.
# nt-deploy moves traffic by rewriting these weights with elasticloadbalancing:ModifyRule.
resource "aws_lb_listener_rule" "api" {
  listener_arn = var.https_listener_arn
  priority     = var.listener_rule_priority

  action {
    type = "forward"

    forward {
      target_group {
        arn    = var.stable_target_group_arn
        weight = 100
      }

      target_group {
        arn    = aws_lb_target_group.api_canary.arn
        weight = 0
      }

      # Off for the api: a sticky client would stay on one target group, so the
      # canary's real share would not follow the weights. nt-deploy keeps whatever
      # is set here (SPEC rule 2). For ws, which needs sticky sessions, know that
      # weight changes then reach new connections only.
      stickiness {
        enabled  = false
        duration = 1
      }
    }
  }

  condition {
    path_pattern {
      values = var.listener_rule_path_patterns
    }
  }

  tags = local.common_tags

  # Terraform must never fight nt-deploy over the weights. Terraform creates the
  # action once. From then on the weights belong to nt-deploy: during a deployment
  # they are 90/10 or 50/50, and an apply that "corrected" them back to 100/0
  # would silently drop the canary's traffic or fail over to an unverified version.
  # To change the target groups themselves, remove this line for one reviewed
  # apply while no deployment is in progress (`nt-deploy status`).
  lifecycle {
    ignore_changes = [action]
  }
}

# The canary's test route: requests with the header `X-Canary: 1` skip the weights.
# Terraform creates it forwarding to stable; for the canary's life nt-deploy points
# it at the canary target group (deploy.yaml `traffic.test_rule`, output
# canary_test_rule_arn), so canary smoke checks reach the canary before it takes any
# production weight, and back at stable afterwards. Its priority must be a lower
# number than the weighted rule's, or that rule wins. Anyone who can reach the
# listener can send the header: on a public ALB, give the rule a header value only
# CI knows (canary_test_header_value) or put it on a listener only the VPC reaches.
resource "aws_lb_listener_rule" "api_canary_test" {
  listener_arn = var.https_listener_arn
  priority     = var.canary_test_rule_priority

  action {
    type             = "forward"
    target_group_arn = var.stable_target_group_arn
  }

  condition {
    http_header {
      http_header_name = "X-Canary"
      values           = [var.canary_test_header_value]
    }
  }

  tags = local.common_tags

  # Like the weighted rule: the action belongs to nt-deploy once created.
  lifecycle {
    ignore_changes = [action]
  }
}
