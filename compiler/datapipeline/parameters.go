package datapipeline

// Parameter ids. Data Pipeline requires them to start with "my".
const (
	ParamGranule    = "myGranule"
	ParamStagedKeys = "myStagedKeys"
)

// GranuleParam is a granule attribute that a definition takes as a
// parameter of its own, so that templates over it (env = { ID =
// granule.id }) need no JSON parsing on the worker.
type GranuleParam struct {
	Attr string // the attribute: granule.<Attr>
	ID   string
	Doc  string
}

// GranuleParams are the string attributes of stdlib.GranuleType, in the
// order the definition declares them (a test holds the list to the type).
var GranuleParams = []GranuleParam{
	{"id", "myGranuleId", "The granule's id (granule.id)."},
	{"collection", "myGranuleCollection", "The granule's collection (granule.collection)."},
	{"version", "myGranuleVersion", "The collection's version (granule.version)."},
	{"year", "myGranuleYear", "The granule's year, 4 digits (granule.year)."},
	{"month", "myGranuleMonth", "The granule's month, 2 digits (granule.month)."},
	{"day", "myGranuleDay", "The granule's day of the month, 2 digits (granule.day)."},
	{"doy", "myGranuleDoy", "The granule's day of the year, 3 digits (granule.doy)."},
	{"date", "myGranuleDate", "The granule's date, YYYY-MM-DD (granule.date)."},
}

// granuleParam returns the parameter of a run-time reference
// ("granule.id"), if it has one.
func granuleParam(ref string) (GranuleParam, bool) {
	for _, gp := range GranuleParams {
		if ref == "granule."+gp.Attr {
			return gp, true
		}
	}
	return GranuleParam{}, false
}

// parameters declares every parameter, used or not, in a fixed order: the
// trigger function passes all of them to every run, whatever the steps of
// its pipeline happen to use.
func parameters() []Parameter {
	out := make([]Parameter, 0, len(GranuleParams)+2)
	for _, gp := range GranuleParams {
		out = append(out, Parameter{ID: gp.ID, Type: "String", Description: gp.Doc})
	}
	out = append(out,
		Parameter{ID: ParamGranule, Type: "String", Description: "The granule document as compact JSON (one line), files included."},
		Parameter{ID: ParamStagedKeys, Type: "String", Description: "The S3 keys of the granule's staged files, as a compact JSON list."},
	)
	return out
}
