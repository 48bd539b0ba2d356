# Goes in environments/production (or any module that lives as long as the services).
#
# One item per stable service: the deployment record and the per-service lock
# (SPEC: `state.table`). `nt-deploy init` creates the same table when it is
# missing. With Terraform owning it, init finds it and changes nothing. The key
# attribute must be the one nt-deploy uses: `pk`, a string "<cluster>/<service>".
resource "aws_dynamodb_table" "deployments" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS owned key; the records hold no secrets, and a CMK would add KMS grants to the deploy role
  name         = var.state_table_name
  billing_mode = "PAY_PER_REQUEST" # a few writes per deployment; no capacity to plan
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  # The records are the only memory of an interrupted deployment. They tell
  # `rollback` which task definition to return to.
  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = true

  tags = merge(local.common_tags, {
    ManagedBy = "terraform"
    UsedBy    = "nt-deploy"
  })
}
