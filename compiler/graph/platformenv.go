package graph

// GraphEnv names the environment variable that tells the platform's code
// on AWS where the compiled graph is (runtime/platform.EnvGraph).
const GraphEnv = "CUMULUS_GRAPH"

// RecorderEnv names the environment variable that tells the trigger and
// the steps the engine's recorder function (runtime/platform.EnvRecorder).
const RecorderEnv = "CUMULUS_RECORDER"

// DistributionAPIEnv names the environment variable that tells the step
// writing metadata records the HTTP API of the configuration's first
// distribution, whose URL the records link files through on AWS
// (runtime/platform.EnvDistributionAPI).
const DistributionAPIEnv = "CUMULUS_DISTRIBUTION_API"

// SecretsKey is where deploy keeps a distribution's signing key and users
// in the private bucket (runtime/platform/layout.Secrets).
const SecretsKey = "cumulus/secrets/distribution.json"

// GraphKey is where deploy puts graph.json in the private bucket.
const GraphKey = "cumulus/graph.json"

// GraphURL is the compiled graph's location on AWS, "" without a private
// bucket.
func (g *Graph) GraphURL() string {
	if g.ArtifactBucket == "" {
		return ""
	}
	return "s3://" + g.ArtifactBucket + "/" + GraphKey
}

// graphEnv gives the code that reads the graph at run time its location:
// the platform's functions and tasks, the pollers, and users' container
// tasks, whose step wrapper reads the results of the steps before them.
// Users' Lambda functions are their own code and get nothing.
func (b *builder) graphEnv() {
	u := b.g.GraphURL()
	if u == "" {
		return
	}
	add := func(t *Task) {
		if t == nil || !t.Platform && t.RunsOn != "ecs" {
			return
		}
		for _, e := range t.Environment {
			if e.Name == GraphEnv {
				return
			}
		}
		t.Environment = append(t.Environment, Binding{Name: GraphEnv, Value: staticString(u)})
	}
	for _, t := range b.g.Tasks {
		add(t)
	}
	for _, t := range b.g.Functions {
		add(t)
	}
	// Metadata records link files through the first distribution, as the
	// simulator's do; its HTTP API is named after its function.
	if len(b.g.Distributions) > 0 && b.g.Distributions[0].Function != nil {
		for _, t := range b.g.Tasks {
			if t.Platform && t.Name == "stdlib-cmr_metadata" {
				t.Environment = append(t.Environment, Binding{Name: DistributionAPIEnv, Value: staticString(b.g.Distributions[0].Function.ResourceName)})
			}
		}
	}
	// The trigger and the steps report what they do to the recorder.
	if e := b.g.Engine; e != nil && e.Recorder != nil {
		report := func(t *Task) {
			if t != nil && (t.Platform || t.RunsOn == "ecs") {
				t.Environment = append(t.Environment, Binding{Name: RecorderEnv, Value: staticString(e.Recorder.ResourceName)})
			}
		}
		for _, t := range b.g.Tasks {
			report(t)
		}
		for _, t := range b.g.Functions {
			report(t)
		}
	}
	for _, s := range b.g.Sources {
		add(s.Task)
	}
	for _, d := range b.g.Distributions {
		add(d.Function)
	}
}
