# HS3: the Hurricane and Severe Storm Sentinel campaign (NASA, 2011-2015).
#
# This configuration ingests three of the campaign's airborne instruments into
# an archive the way a DAAC (here, GHRC) would: an acquisition poller watches
# the campaign's anonymous FTP server every 15 minutes, groups new files into
# granules, and runs each granule through the "ingest" pipeline: sync the files
# into staging, preprocess them in a container, write their metadata, and move
# them to their archive buckets. A distribution hands the archive out: browse
# images to anyone, data to logged-in users through expiring links.
#
# Several *.cumulus.hcl files in one folder form one configuration, as in
# Terraform: this one keeps the platform here and the science in
# collections.cumulus.hcl and pipeline.cumulus.hcl.
#
#   cumulus validate examples/hs3            check everything, run nothing
#   cumulus validate -var stage=prod examples/hs3

# Variables are set with -var NAME=VALUE, -var-file FILE.cumulus.vars or the
# environment (CUMULUS_VAR_stage=prod); later sources win, as in Terraform.
variable "stage" {
  type        = string
  default     = "dev"
  description = "Deployment stage; it becomes part of every AWS resource name."
}

variable "ftp_host" {
  type        = string
  default     = "ghrc.nsstc.nasa.gov"
  description = "The campaign's FTP server. Point it at a local server to simulate."
}

variable "ftp_port" {
  type    = number
  default = 21
}

locals {
  # Every AWS name starts with the prefix: hs3-dev-protected, hs3-dev-ingest, ...
  prefix = "hs3-${var.stage}"
  owner  = "ghrc"
}

# Where and how it runs on AWS. Optional: validate, compile and simulate work
# without it (names then derive from the folder's name).
deployment {
  prefix          = local.prefix
  region          = "us-west-2"
  account_id      = "123456789012"  # the account the ARNs in compiled artifacts name
  orchestrator    = "stepfunctions" # or "datapipeline"
  subnets         = ["subnet-0a1b2c3d4e5f60718"]
  security_groups = ["sg-0a1b2c3d4e5f60718"]
  log_retention   = "30d"
  notify          = "arn:aws:sns:us-west-2:123456789012:hs3-alerts"
  tags = {
    project = "hs3"
    owner   = local.owner
  }
}

# The archive's buckets. "private" buckets are never distributed (staging);
# "protected" ones only to authenticated users; "public" ones to anyone.
bucket "staging" {
  kind = "private"
}

bucket "protected" {
  kind = "protected"
}

bucket "public" {
  kind = "public"
}

# The campaign's anonymous FTP server (no username or password: anonymous).
provider "ghrc_ftp" {
  protocol = "ftp"
  host     = var.ftp_host
  port     = var.ftp_port
  passive  = true
}

# How the archive is handed out. Paths map to buckets: /public/... and
# /protected/... (as NASA's Thin Egress App maps them).
distribution "main" {
  # Browse images: anyone may fetch them, and CloudFront caches them a day.
  bucket "public" {
    access    = "anonymous"
    cache_ttl = "24h"
  }

  # Science data: users log in, and get a signed link that expires in an hour.
  bucket "protected" {
    access   = "authenticated"
    link_ttl = "1h"
  }
}
