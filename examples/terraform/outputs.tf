# What goes into deploy.yaml and into the repository's GitHub variables.

output "canary_target_group_arn" {
  description = "deploy.yaml services.api.traffic.canary_target_group"
  value       = aws_lb_target_group.api_canary.arn
}

output "listener_rule_arn" {
  description = "deploy.yaml services.api.traffic.listener_rule"
  value       = aws_lb_listener_rule.api.arn
}

output "canary_test_rule_arn" {
  description = "deploy.yaml services.api.traffic.test_rule"
  value       = aws_lb_listener_rule.api_canary_test.arn
}

output "state_table_name" {
  description = "deploy.yaml state.table"
  value       = aws_dynamodb_table.deployments.name
}

output "deploy_role_arn" {
  description = "GitHub repository variable NT_DEPLOY_ROLE_ARN"
  value       = aws_iam_role.nt_deploy.arn
}

output "watch_events_role_arn" {
  description = "deploy.yaml defaults.watch.events_role_arn"
  value       = aws_iam_role.nt_deploy_watch_events.arn
}

output "watch_automation_role_arn" {
  description = "deploy.yaml defaults.watch.automation_role_arn"
  value       = aws_iam_role.nt_deploy_watch_automation.arn
}
