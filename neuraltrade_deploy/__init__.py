"""nt-deploy: canary deployments for ECS services behind ALB weighted target groups."""

__version__ = "0.1.0"
