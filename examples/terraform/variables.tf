# Inputs of the nt-deploy additions. Inside the seed's modules, most of these are
# resources that already exist there (noted on each), so pass them through or
# reference the resource directly.

variable "project" {
  type    = string
  default = "neuraltrade"
}

variable "environment" {
  type    = string
  default = "production"
}

variable "vpc_id" {
  description = "VPC of the ALB and the tasks (module.vpc.vpc_id)."
  type        = string
}

variable "container_port" {
  description = "Port the api container listens on (modules/ecs var.container_port)."
  type        = number
  default     = 3000
}

# ------------------------------------------------------------------ ALB

variable "https_listener_arn" {
  description = "The API ALB's HTTPS listener (in modules/alb: aws_lb_listener.https.arn)."
  type        = string
}

variable "stable_target_group_arn" {
  description = "The target group of the stable service (module.alb.target_group_arn)."
  type        = string
}

variable "canary_target_group_name" {
  description = "Fixed name: deploy.yaml may name the target group instead of giving its ARN."
  type        = string
  default     = "nt-api-canary"
}

variable "listener_rule_priority" {
  type    = number
  default = 100
}

variable "listener_rule_path_patterns" {
  description = "What the weighted rule matches. It must win over every other rule for API traffic."
  type        = list(string)
  default     = ["/*"]
}

variable "canary_test_rule_priority" {
  description = "The canary test route (X-Canary header). Lower than listener_rule_priority, so it is matched first."
  type        = number
  default     = 90
}

variable "canary_test_header_value" {
  description = "Value of the X-Canary header that reaches the canary. \"1\" on an internal ALB; a value only CI knows on a public one."
  type        = string
  default     = "1"
}

variable "weighted_listener_arns" {
  description = "Listeners whose DEFAULT action nt-deploy may reweight (deploy.yaml `traffic.listener:`). Empty when only listener rules are used."
  type        = list(string)
  default     = []
}

variable "extra_listener_rule_arns" {
  description = "Other weighted rules nt-deploy may change, such as the ws service's rule on the WebSocket ALB."
  type        = list(string)
  default     = []
}

# ------------------------------------------------------------------ ECS

variable "ecs_cluster_name" {
  description = "modules/ecs: aws_ecs_cluster.main.name."
  type        = string
  default     = "neuraltrade-production"
}

variable "ecs_service_names" {
  description = "Stable services nt-deploy deploys. Their canaries are \"<name>-canary\" (the deploy.yaml default)."
  type        = list(string)
  default     = ["neuraltrade-api-production", "neuraltrade-ws-production"]
}

variable "task_definition_families" {
  description = "Task definition families nt-deploy registers revisions of."
  type        = list(string)
  default     = ["neuraltrade-api-production", "neuraltrade-ws-production"]
}

variable "pass_role_arns" {
  description = "Task execution role and task role of those task definitions (modules/ecs: aws_iam_role.ecs_execution.arn, aws_iam_role.ecs_task.arn)."
  type        = list(string)
}

# The stable service itself (ecs_service_note.tf): in modules/ecs these already exist.

variable "ecs_cluster_id" {
  description = "modules/ecs: aws_ecs_cluster.main.id."
  type        = string
}

variable "initial_task_definition_arn" {
  description = "Only the first apply uses it; after that the task definition belongs to nt-deploy."
  type        = string
}

variable "private_subnet_ids" {
  type = list(string)
}

variable "task_security_group_ids" {
  description = "Security groups of the tasks. The canary copies them from the stable service."
  type        = list(string)
}

variable "desired_count" {
  type    = number
  default = 3
}

# ------------------------------------------------------------------ state and CI

variable "state_table_name" {
  description = "deploy.yaml `state.table`."
  type        = string
  default     = "neuraltrade-deployments"
}

variable "github_repository" {
  description = "owner/name of the repository whose deploy workflow may assume the role."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be \"owner/name\", without wildcards."
  }
}

variable "github_deploy_branch" {
  description = "Branch the workflow is dispatched from (jobs without an environment: canary-10, abandon)."
  type        = string
  default     = "main"
}

variable "github_environments" {
  description = "GitHub environments of the approval jobs in .github/workflows/deploy.yml."
  type        = list(string)
  default     = ["production-canary", "production"]
}

# ------------------------------------------------------------------ alarms (modules/monitoring)

variable "alb_arn_suffix" {
  description = "The API ALB's arn_suffix (app/<name>/<id>), the LoadBalancer dimension of its metrics."
  type        = string
}

variable "alarm_topic_arns" {
  description = "SNS topics the alarms notify (the seed's aws_sns_topic.critical)."
  type        = list(string)
  default     = []
}

variable "ebs_volume_role_arns" {
  description = "ECS infrastructure roles of the stable services' EBS volumes (volumeConfigurations managedEBSVolume.roleArn); empty when none uses volumes."
  type        = list(string)
  default     = []
}

variable "notify_kms_key_arns" {
  description = "Customer managed KMS keys of the notify: topics, if they are encrypted with one."
  type        = list(string)
  default     = []
}

variable "notify_topic_arns" {
  description = "SNS topics deploy.yaml's notify: names; nt-deploy may sns:Publish to these only."
  type        = list(string)
  default     = []
}

variable "error_rate_threshold_percent" {
  description = "Target 5xx as a percentage of requests above which the error-rate alarm fires."
  type        = number
  default     = 5
}

variable "elb_5xx_threshold_count" {
  description = "5xx made by the load balancer itself per minute above which the alarm fires."
  type        = number
  default     = 10
}
