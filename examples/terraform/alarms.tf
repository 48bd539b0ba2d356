# Goes in modules/monitoring, replacing the seed's api_error_rate and api_latency
# alarms. deploy.yaml `alarms:` names them; nt-deploy reads their state and history.
#
# The seed's error-rate alarm watches `5XXError`, a metric no ALB publishes, so it
# stays in INSUFFICIENT_DATA and never fires: it protects nothing. An ALB publishes
# HTTPCode_Target_5XX_Count (answered by the targets) and HTTPCode_ELB_5XX_Count
# (made by the load balancer itself: 502/503/504 when targets fail or are missing),
# and it sends no data point at all for a minute without any. So each alarm here
# says what a missing point means (treat_missing_data = "notBreaching": no 5xx, no
# traffic) instead of leaving the alarm without data.
#
# SNS: alarm_actions go to the seed's topics (critical -> PagerDuty). nt-deploy does
# not need them to roll back (it reads the alarm state itself), but people do.

# Target 5xx as a percentage of requests: a rate, not a count, so a traffic peak
# does not page and a quiet hour still catches a broken release.
resource "aws_cloudwatch_metric_alarm" "api_error_rate" {
  alarm_name          = "${var.project}-api-error-rate-${var.environment}"
  alarm_description   = "API targets answering 5xx to more than ${var.error_rate_threshold_percent}% of requests"
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_threshold_percent
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching" # no requests in a minute: nothing is failing

  metric_query {
    id          = "error_rate"
    label       = "Target 5xx, % of requests"
    expression  = "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = var.alb_arn_suffix }
      period      = 60
      stat        = "Sum"
    }
  }

  alarm_actions = var.alarm_topic_arns
  ok_actions    = var.alarm_topic_arns
  tags          = local.common_tags
}

# 5xx the load balancer makes itself: a canary whose targets all fail health
# checks shows here, not in the target metrics. A count alarm: no data is no error.
resource "aws_cloudwatch_metric_alarm" "api_elb_5xx" {
  alarm_name          = "${var.project}-api-elb-5xx-${var.environment}"
  alarm_description   = "API load balancer answering 5xx itself (no healthy target, target timeouts)"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_ELB_5XX_Count"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  statistic           = "Sum"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.elb_5xx_threshold_count
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching" # the ALB sends no point for a minute without 5xx

  alarm_actions = var.alarm_topic_arns
  ok_actions    = var.alarm_topic_arns
  tags          = local.common_tags
}

resource "aws_cloudwatch_metric_alarm" "api_latency" {
  alarm_name          = "${var.project}-api-latency-${var.environment}"
  alarm_description   = "API p99 latency above 500ms"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  dimensions          = { LoadBalancer = var.alb_arn_suffix }
  extended_statistic  = "p99"
  period              = 60
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0.5 # seconds
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching" # no requests, no latency point

  alarm_actions = var.alarm_topic_arns
  ok_actions    = var.alarm_topic_arns
  tags          = local.common_tags
}
