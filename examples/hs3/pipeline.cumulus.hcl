# The archive's own preprocessing, packaged as a container image. On AWS it
# runs on ECS Fargate (cpu and memory must be a size Fargate offers); in
# cumulus simulate, in Docker.
task "preprocess" {
  runs_on = "ecs"
  image   = "ghrc/hs3-preprocess:1.2"
  command = ["preprocess", "--level", "2"]
  cpu     = 512
  memory  = 1024
  timeout = "30m"
  environment = {
    LOG_LEVEL = "info"
  }
  # What cumulus simulate runs instead of the container on a machine
  # without Docker (or with -no-docker): a script that follows the same
  # step contract.
  local_command = ["./preprocess/preprocess.sh"]
}

# What happens to each granule: a graph of steps. A step starts when every
# step in its "after" list has succeeded; steps without "after" start at once.
pipeline "ingest" {
  concurrency = 8 # granules processed at once

  # Standard steps come from stdlib; their inputs ("with") are checked against
  # each step's contract.
  step "sync" {
    uses = stdlib.sync_granule
  }

  step "preprocess" {
    task        = task.preprocess
    after       = [step.sync]
    retries     = 3
    retry_delay = "2m"
    backoff     = 2 # 2m, then 4m, then 8m
    # Per-granule values reach the container as environment variables.
    env = {
      GRANULE_ID = granule.id
      COLLECTION = granule.collection
      LEVEL      = "2"
    }
    # AVAPS soundings need no preprocessing; a skipped step counts as done.
    when = granule.collection != "hs3_avaps"
  }

  step "metadata" {
    uses  = stdlib.cmr_metadata
    after = [step.preprocess]
  }

  step "archive" {
    uses  = stdlib.move_granule
    after = [step.metadata]
  }

  # A failed granule is reported to deployment.notify.
  on_failure {
    notify = true
  }
}
