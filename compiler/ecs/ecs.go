// Package ecs owns the ECS artifacts: one RegisterTaskDefinition input per
// container task (users' tasks, the platform's standard steps, the pollers),
// as `aws ecs register-task-definition --cli-input-json` takes it, and the
// EventBridge rule and target that run each poller on its schedule.
package ecs

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// ContainerName is the name of the one container of every task definition;
// orchestrators name it in their container overrides.
const ContainerName = "main"

// TaskDefinition is the RegisterTaskDefinition input. Field order is the
// order written, so output is stable.
type TaskDefinition struct {
	Family                  string                `json:"family"`
	TaskRoleArn             string                `json:"taskRoleArn"`
	ExecutionRoleArn        string                `json:"executionRoleArn"`
	NetworkMode             string                `json:"networkMode"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities"`
	CPU                     string                `json:"cpu"`
	Memory                  string                `json:"memory"`
	RuntimePlatform         RuntimePlatform       `json:"runtimePlatform"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	Tags                    []Tag                 `json:"tags"`
}

// RuntimePlatform pins the OS and architecture the images are built for.
type RuntimePlatform struct {
	CPUArchitecture       string `json:"cpuArchitecture"`
	OperatingSystemFamily string `json:"operatingSystemFamily"`
}

// ContainerDefinition is the task's one container.
type ContainerDefinition struct {
	Name             string           `json:"name"`
	Image            string           `json:"image"`
	EntryPoint       []string         `json:"entryPoint,omitempty"`
	Command          []string         `json:"command,omitempty"`
	Environment      []KeyValuePair   `json:"environment,omitempty"`
	Essential        bool             `json:"essential"`
	CPU              int              `json:"cpu"`
	Memory           int              `json:"memory"`
	StopTimeout      int              `json:"stopTimeout"`
	LogConfiguration LogConfiguration `json:"logConfiguration"`
}

// KeyValuePair is an environment variable.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// LogConfiguration sends the container's output to CloudWatch Logs.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options"`
}

// Tag is an ECS resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Build returns the task definition of an ECS task.
func Build(g *graph.Graph, t *graph.Task, block string) (*TaskDefinition, error) {
	if t.RunsOn != "ecs" {
		return nil, fmt.Errorf("task %s runs on %s, not ecs", t.Name, t.RunsOn)
	}
	c := ContainerDefinition{
		Name:        ContainerName,
		Image:       t.Image,
		EntryPoint:  t.Entrypoint,
		Command:     t.Command,
		Essential:   true,
		CPU:         t.CPU,
		Memory:      t.Memory,
		StopTimeout: 30, // time to finish writing before SIGKILL on cancel
		LogConfiguration: LogConfiguration{
			LogDriver: "awslogs",
			Options: map[string]string{
				"awslogs-group":         t.LogGroup,
				"awslogs-region":        g.Region,
				"awslogs-stream-prefix": t.Name,
			},
		},
	}
	for _, e := range t.Environment {
		c.Environment = append(c.Environment, KeyValuePair{Name: e.Name, Value: e.Value.StaticString()})
	}
	return &TaskDefinition{
		Family:                  t.ResourceName,
		TaskRoleArn:             g.RoleARN(t.TaskRole),
		ExecutionRoleArn:        g.RoleARN(t.ExecutionRole),
		NetworkMode:             "awsvpc",
		RequiresCompatibilities: []string{"FARGATE"},
		CPU:                     strconv.Itoa(t.CPU),
		Memory:                  strconv.Itoa(t.Memory),
		RuntimePlatform:         RuntimePlatform{CPUArchitecture: "X86_64", OperatingSystemFamily: "LINUX"},
		ContainerDefinitions:    []ContainerDefinition{c},
		Tags:                    Tags(g, block),
	}, nil
}

// Tags are the user's tags plus cumulus's own, which mark what it owns.
func Tags(g *graph.Graph, block string) []Tag {
	m := OwnTags(g, block)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, Tag{Key: k, Value: m[k]})
	}
	return out
}

// OwnTags is the tag map of a resource made from block: the configuration's
// tags, then cumulus:config (the prefix) and cumulus:block, which deploy uses
// to recognise what it owns.
func OwnTags(g *graph.Graph, block string) map[string]string {
	m := map[string]string{}
	for k, v := range g.Tags {
		m[k] = v
	}
	m["cumulus:config"] = g.Prefix
	m["cumulus:block"] = block
	return m
}
