package stepfunctions

import (
	"bytes"
	"encoding/json"
)

// Definition is an Amazon States Language document, or a Parallel branch or
// Map item processor (which have no Comment). States is a map, so it is
// written in name order.
type Definition struct {
	Comment         string            `json:"Comment,omitempty"`
	ProcessorConfig *ProcessorConfig  `json:"ProcessorConfig,omitempty"`
	StartAt         string            `json:"StartAt"`
	States          map[string]*State `json:"States"`
}

// ProcessorConfig makes a Map state distributed.
type ProcessorConfig struct {
	Mode          string `json:"Mode"`
	ExecutionType string `json:"ExecutionType,omitempty"`
}

// State is one state; the fields a type does not use stay empty.
type State struct {
	Type       string         `json:"Type"`
	Comment    string         `json:"Comment,omitempty"`
	Resource   string         `json:"Resource,omitempty"`
	Parameters map[string]any `json:"Parameters,omitempty"`
	// Choice.
	Choices []map[string]any `json:"Choices,omitempty"`
	Default string           `json:"Default,omitempty"`
	// Parallel.
	Branches []*Definition `json:"Branches,omitempty"`
	// Map.
	ItemReader                 *IO         `json:"ItemReader,omitempty"`
	ItemProcessor              *Definition `json:"ItemProcessor,omitempty"`
	MaxConcurrency             *int        `json:"MaxConcurrency,omitempty"`
	ToleratedFailurePercentage *int        `json:"ToleratedFailurePercentage,omitempty"`
	ResultWriter               *IO         `json:"ResultWriter,omitempty"`
	// ResultPath is raw JSON: null keeps the state's input as its output.
	ResultPath     json.RawMessage `json:"ResultPath,omitempty"`
	TimeoutSeconds int64           `json:"TimeoutSeconds,omitempty"`
	Retry          []Retrier       `json:"Retry,omitempty"`
	Catch          []Catcher       `json:"Catch,omitempty"`
	// Fail.
	Error     string `json:"Error,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	CausePath string `json:"CausePath,omitempty"`
	Next      string `json:"Next,omitempty"`
	End       bool   `json:"End,omitempty"`
}

// IO is a Map state's ItemReader or ResultWriter.
type IO struct {
	Resource     string         `json:"Resource"`
	ReaderConfig map[string]any `json:"ReaderConfig,omitempty"`
	Parameters   map[string]any `json:"Parameters"`
}

// Retrier is one Retry rule. BackoffRate is always written: ASL's default
// is 2, not 1.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int64    `json:"IntervalSeconds,omitempty"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate,omitempty"`
}

// Catcher is one Catch rule.
type Catcher struct {
	ErrorEquals []string        `json:"ErrorEquals"`
	ResultPath  json.RawMessage `json:"ResultPath,omitempty"`
	Next        string          `json:"Next"`
}

var null = json.RawMessage("null")

func path(p string) json.RawMessage {
	b, _ := json.Marshal(p) // a string always encodes
	return b
}

// encode writes a document as every artifact is written (indented, no HTML
// escaping, a final newline), so the definition inside CreateStateMachine
// is the .asl.json file byte for byte.
func encode(doc any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
