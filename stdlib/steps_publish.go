package stdlib

import "github.com/zclconf/go-cty/cty"

// CMR endpoints publish_cmr knows by name; any other URL is taken as is
// (a local stand-in, a proxy).
const (
	CMRUAT = "https://cmr.uat.earthdata.nasa.gov"
	CMROPS = "https://cmr.earthdata.nasa.gov"
)

// publishCMRStep is the contract of publish_cmr: put the granule's UMM-G
// record (the file cmr_metadata wrote, of type "metadata") to CMR's ingest
// API.
func publishCMRStep() *Step {
	return &Step{
		Name:    "publish_cmr",
		Summary: "Publish the granule's UMM-G record (from cmr_metadata) to NASA's Common Metadata Repository (CMR) through its ingest API.",
		RunsOn:  "lambda",
		Memory:  lambdaMemory,
		Timeout: lambdaTimeout,
		Inputs: []Input{
			{
				Name:    "endpoint",
				Type:    cty.String,
				Default: cty.StringVal(CMRUAT),
				Doc:     "CMR's base URL: " + CMRUAT + " (UAT, the default), " + CMROPS + " (OPS), or another (the simulator's stand-in).",
			},
			{
				Name:     "provider",
				Type:     cty.String,
				Required: true,
				Doc:      "The CMR provider id the granule is published under, e.g. \"GHRC_DAAC\".",
			},
			{
				Name:    "token_env",
				Type:    cty.String,
				Default: cty.StringVal("CMR_TOKEN"),
				Doc:     "The environment variable holding the Earthdata Login token sent to CMR (on AWS, filled from a secret); it is never written in the configuration.",
			},
		},
		Outputs: []Output{
			{Name: "concept_id", Type: cty.String, Doc: "CMR's concept id of the granule, e.g. \"G1200000001-GHRC_DAAC\"."},
			{Name: "revision_id", Type: cty.Number, Doc: "The revision CMR gave the record: 1 when created, higher when replaced."},
		},
	}
}
