package ecs

import (
	"fmt"
	"time"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
)

// Rule is the EventBridge PutRule input that fires a poller.
type Rule struct {
	Name               string    `json:"Name"`
	ScheduleExpression string    `json:"ScheduleExpression"`
	State              string    `json:"State"`
	Description        string    `json:"Description"`
	Tags               []RuleTag `json:"Tags"`
}

// RuleTag is an EventBridge tag (capitalised, unlike ECS's).
type RuleTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Targets is the EventBridge PutTargets input: the poller's task.
type Targets struct {
	Rule    string   `json:"Rule"`
	Targets []Target `json:"Targets"`
}

// Target runs a Fargate task.
type Target struct {
	ID            string        `json:"Id"`
	Arn           string        `json:"Arn"`
	RoleArn       string        `json:"RoleArn"`
	EcsParameters EcsParameters `json:"EcsParameters"`
}

// EcsParameters says which task to run and where.
type EcsParameters struct {
	TaskDefinitionArn    string               `json:"TaskDefinitionArn"`
	TaskCount            int                  `json:"TaskCount"`
	LaunchType           string               `json:"LaunchType"`
	NetworkConfiguration NetworkConfiguration `json:"NetworkConfiguration"`
}

// NetworkConfiguration places Fargate tasks in the deployment's subnets.
type NetworkConfiguration struct {
	AwsvpcConfiguration AwsVpcConfiguration `json:"awsvpcConfiguration"`
}

// AwsVpcConfiguration is the subnets and security groups of a task.
type AwsVpcConfiguration struct {
	Subnets        []string `json:"Subnets"`
	SecurityGroups []string `json:"SecurityGroups,omitempty"`
	AssignPublicIP string   `json:"AssignPublicIp"`
}

// Schedule returns the rule and target that run a source's poller every
// s.Every.
func Schedule(g *graph.Graph, s *graph.Source) (*Rule, *Targets) {
	name := s.Task.ResourceName
	block := "source." + s.Name
	var tags []RuleTag
	for _, t := range Tags(g, block) {
		tags = append(tags, RuleTag(t))
	}
	rule := &Rule{
		Name:               name,
		ScheduleExpression: RateExpression(s.Every.D()),
		State:              "ENABLED",
		Description:        fmt.Sprintf("cumulus: poll source %s for new granules", s.Name),
		Tags:               tags,
	}
	subnets := g.Subnets
	if subnets == nil {
		subnets = []string{}
	}
	targets := &Targets{Rule: name, Targets: []Target{{
		ID:      "poller",
		Arn:     g.ClusterARN(),
		RoleArn: g.RoleARN(s.ScheduleRole),
		EcsParameters: EcsParameters{
			TaskDefinitionArn: g.TaskDefinitionARN(s.Task.ResourceName),
			TaskCount:         1,
			LaunchType:        "FARGATE",
			NetworkConfiguration: NetworkConfiguration{AwsvpcConfiguration: AwsVpcConfiguration{
				Subnets:        subnets,
				SecurityGroups: g.SecurityGroups,
				AssignPublicIP: "DISABLED",
			}},
		},
	}}}
	return rule, targets
}

// RateExpression writes an interval as EventBridge's rate(): whole minutes
// (the checker made sure), in the largest unit that divides it.
func RateExpression(d time.Duration) string {
	minutes := int(d / time.Minute)
	switch {
	case minutes%(24*60) == 0:
		return plural(minutes/(24*60), "day")
	case minutes%60 == 0:
		return plural(minutes/60, "hour")
	}
	return plural(minutes, "minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("rate(1 %s)", unit)
	}
	return fmt.Sprintf("rate(%d %ss)", n, unit)
}
