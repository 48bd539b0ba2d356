# Goes in modules/alb, next to the stable target group.
#
# The canary service (created and deleted by nt-deploy, never by Terraform)
# registers its tasks here. This target group lives as long as the stable one. It
# also sits in the listener rule at weight 0 (listener_rule.tf), because ECS
# refuses to create a service on a target group that no load balancer uses.
# Keep the health check the same as the stable target group's: nt-deploy moves
# traffic only once these targets are healthy.
resource "aws_lb_target_group" "api_canary" {
  #checkov:skip=CKV_AWS_378:TLS ends at the ALB's HTTPS listener; tasks serve HTTP inside the VPC, as the stable target group does
  name                 = var.canary_target_group_name
  port                 = var.container_port
  protocol             = "HTTP"
  target_type          = "ip" # Fargate tasks (awsvpc) register by IP
  vpc_id               = var.vpc_id
  deregistration_delay = 30 # short: canary tasks are drained on every rollback

  health_check {
    path                = "/health"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = merge(local.common_tags, {
    Name = var.canary_target_group_name
    Role = "canary"
  })
}
