# Collections say what a granule is: which files belong together, how to find
# the granule id in a file name, and where each file is archived.
#
# Patterns are RE2 regular expressions. In an HCL string a backslash is written
# twice: "\\.nc$" is the pattern \.nc$ ("ends in .nc").
#
# Each file gives a sample name: validate proves that the pattern matches it and
# that granule_id extracts an id from it, and renders url_path for it.

# HAMSR: the High Altitude MMIC Sounding Radiometer on the Global Hawk.
# One NetCDF file per flight segment, with an MD5 sidecar and a browse image.
collection "hs3_hamsr" {
  version    = "1"
  granule_id = "^(HS3_HAMSR_[0-9]{8}T[0-9]{6})"

  file "data" {
    match  = "^HS3_HAMSR_[0-9]{8}T[0-9]{6}\\.nc$"
    bucket = bucket.protected
    sample = "HS3_HAMSR_20130825T000000.nc"
  }

  # A sidecar: sync_granule verifies the data file against it, then it stays
  # in staging.
  file "md5" {
    match        = "\\.nc\\.md5$"
    bucket       = bucket.staging
    checksum_for = "data"
    required     = false
    sample       = "HS3_HAMSR_20130825T000000.nc.md5"
  }

  file "browse" {
    match    = "\\.png$"
    bucket   = bucket.public
    required = false
    sample   = "HS3_HAMSR_20130825T000000.png"
    url_path = "hamsr/browse/${granule.year}/${granule.id}" # overrides the collection's
  }

  # granule.* is known only when a granule runs; the checker still verifies
  # every attribute against the granule's schema (id, year, month, day, doy...).
  url_path   = "hamsr/${granule.year}/${granule.doy}/${granule.id}"
  duplicates = "skip" # a granule seen again is not ingested twice
}

# HIRAD: the Hurricane Imaging Radiometer, on the WB-57. Daily files.
collection "hs3_hirad" {
  version    = "1"
  granule_id = "^(HS3_HIRAD_[0-9]{8})"
  bucket     = bucket.protected # the default for files that name none

  file "data" {
    match  = "^HS3_HIRAD_[0-9]{8}_v[0-9]+\\.nc$"
    sample = "HS3_HIRAD_20130916_v02.nc"
  }

  file "browse" {
    match    = "^HS3_HIRAD_[0-9]{8}_v[0-9]+\\.jpg$"
    bucket   = bucket.public
    required = false
    sample   = "HS3_HIRAD_20130916_v02.jpg"
  }

  url_path   = "hirad/${granule.year}/${granule.month}/${granule.id}"
  duplicates = "replace" # reprocessed versions replace the archived ones
}

# AVAPS: dropsondes released from the Global Hawk, one file per sonde, with
# the day and time of release in the name.
collection "hs3_avaps" {
  version    = "1"
  granule_id = "^(HS3_AVAPS_[0-9]{8}_[0-9]{6})"

  file "data" {
    match  = "^HS3_AVAPS_[0-9]{8}_[0-9]{6}\\.eol$"
    bucket = bucket.protected
    sample = "HS3_AVAPS_20140917_153012.eol"
  }

  file "qc" {
    match    = "^HS3_AVAPS_[0-9]{8}_[0-9]{6}_qc\\.txt$"
    bucket   = bucket.protected
    required = false
    sample   = "HS3_AVAPS_20140917_153012_qc.txt"
  }

  url_path   = "avaps/${granule.date}" # each file keeps its name under it
  duplicates = "version"               # keep each delivery, as a new version
}

# Sources: what the acquisition poller watches, every 15 minutes. New files are
# grouped into granules by their collection; a granule whose required files
# are all there goes through the pipeline.
source "hamsr" {
  provider   = provider.ghrc_ftp
  path       = "/pub/hs3/hamsr"
  collection = collection.hs3_hamsr
  every      = "15m"
  pipeline   = pipeline.ingest
}

source "hirad" {
  provider   = provider.ghrc_ftp
  path       = "/pub/hs3/hirad"
  collection = collection.hs3_hirad
  every      = "15m"
  pipeline   = pipeline.ingest
}

source "avaps" {
  provider   = provider.ghrc_ftp
  path       = "/pub/hs3/avaps"
  collection = collection.hs3_avaps
  every      = "15m"
  pipeline   = pipeline.ingest
}
