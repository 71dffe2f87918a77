// Package lambda owns the Lambda artifacts: one CreateFunction input per
// Lambda task (users' tasks, the platform's standard steps) and per platform
// function (the S3-event trigger), as `aws lambda create-function
// --cli-input-json` takes it.
package lambda

import (
	"fmt"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// CreateFunction is the CreateFunction input, fields in the order written.
type CreateFunction struct {
	FunctionName  string            `json:"FunctionName"`
	Description   string            `json:"Description"`
	Role          string            `json:"Role"`
	PackageType   string            `json:"PackageType"`
	Runtime       string            `json:"Runtime,omitempty"`
	Handler       string            `json:"Handler,omitempty"`
	Code          Code              `json:"Code"`
	Architectures []string          `json:"Architectures"`
	MemorySize    int               `json:"MemorySize"`
	Timeout       int               `json:"Timeout"`
	Environment   *Environment      `json:"Environment,omitempty"`
	LoggingConfig LoggingConfig     `json:"LoggingConfig"`
	Tags          map[string]string `json:"Tags"`
}

// Code says where the function's code is: a zip in S3, or an image.
type Code struct {
	S3Bucket string `json:"S3Bucket,omitempty"`
	S3Key    string `json:"S3Key,omitempty"`
	ImageURI string `json:"ImageUri,omitempty"`
}

// Environment holds the function's environment variables.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// LoggingConfig sends the function's logs, as JSON, to its log group.
type LoggingConfig struct {
	LogFormat string `json:"LogFormat"`
	LogGroup  string `json:"LogGroup"`
}

// CodeKey is where a zip is staged in the artifact bucket: by content, so a
// changed zip is a changed function and an unchanged one is not.
func CodeKey(task, sha256 string) string { return "cumulus/code/" + task + "/" + sha256 + ".zip" }

// PlatformCodeKey is where the cumulus bootstrap zip of this version is.
func PlatformCodeKey() string { return "cumulus/platform/" + graph.PlatformVersion + "/bootstrap.zip" }

// Build returns the CreateFunction input of a Lambda task. codeSHA is the
// sha256 of the task's zip (user tasks with code).
func Build(g *graph.Graph, t *graph.Task, block, description, codeSHA string) (*CreateFunction, error) {
	if t.RunsOn != "lambda" {
		return nil, fmt.Errorf("task %s runs on %s, not lambda", t.Name, t.RunsOn)
	}
	f := &CreateFunction{
		FunctionName:  t.ResourceName,
		Description:   description,
		Role:          g.RoleARN(t.TaskRole),
		PackageType:   "Zip",
		Architectures: []string{"x86_64"},
		MemorySize:    t.Memory,
		Timeout:       int(t.Timeout.Seconds()),
		LoggingConfig: LoggingConfig{LogFormat: "JSON", LogGroup: t.LogGroup},
		Tags:          ecs.OwnTags(g, block),
	}
	switch {
	case t.Image != "":
		f.PackageType = "Image"
		f.Code = Code{ImageURI: t.Image}
	case t.Platform:
		f.Runtime, f.Handler = t.Runtime, t.Handler
		f.Code = Code{S3Bucket: g.ArtifactBucket, S3Key: PlatformCodeKey()}
	default:
		f.Runtime, f.Handler = t.Runtime, t.Handler
		f.Code = Code{S3Bucket: g.ArtifactBucket, S3Key: CodeKey(t.Name, codeSHA)}
	}
	if len(t.Environment) > 0 {
		vars := map[string]string{}
		for _, e := range t.Environment {
			vars[e.Name] = e.Value.StaticString()
		}
		f.Environment = &Environment{Variables: vars}
	}
	if f.Timeout < 1 {
		f.Timeout = 1
	}
	return f, nil
}
