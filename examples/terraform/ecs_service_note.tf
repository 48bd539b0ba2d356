# Replaces aws_ecs_service.api in modules/ecs/main.tf. Only the marked lines
# differ from the seed.
#
# nt-deploy copies this service's launch type, network configuration and
# container/port binding into the canary service it creates next to it
# ("<name>-canary"). Terraform must not declare the canary service.
resource "aws_ecs_service" "api" {
  name            = var.ecs_service_names[0]
  cluster         = var.ecs_cluster_id
  task_definition = var.initial_task_definition_arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  # SPEC rule 12: nt-deploy refuses a service whose deployments something else
  # already steers. The CODE_DEPLOY or EXTERNAL controller is refused, and so is
  # an ECS-native BLUE_GREEN, CANARY or LINEAR strategy (newer providers:
  # deployment_configuration.strategy). Keep the ECS controller with its default
  # rolling strategy.
  deployment_controller {
    type = "ECS"
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = var.task_security_group_ids
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.stable_target_group_arn
    container_name   = "api" # deploy.yaml `container`
    container_port   = var.container_port
  }

  deployment_maximum_percent         = 200
  deployment_minimum_healthy_percent = 100

  # promote watches the stable rollout. A circuit-breaker FAILED makes nt-deploy
  # roll back.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  health_check_grace_period_seconds = 60

  tags = local.common_tags

  lifecycle {
    # task_definition: every deploy registers a revision and promote sets it.
    #   Without this, the next apply would roll production back to
    #   initial_task_definition_arn.
    # desired_count: the autoscaling target owns it. nt-deploy sizes the canary
    #   from the stable's current count.
    ignore_changes = [task_definition, desired_count]
  }
}
