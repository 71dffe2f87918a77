package stepwrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Beat is one heartbeat: the step is alive, and this is what it uses.
type Beat struct {
	Pipeline string `json:"pipeline"`
	Step     string `json:"step"`
	Granule  string `json:"granule"`
	Attempt  int    `json:"attempt"`
	Usage    Sample `json:"usage"`
}

// Heartbeater reports that the step is alive.
type Heartbeater interface {
	Heartbeat(ctx context.Context, b Beat) error
}

// Finisher is a Heartbeater that is also told how the step ended (Step
// Functions, when the state waits for its task token).
type Finisher interface {
	Finish(ctx context.Context, r *Report) error
}

// HTTPHeartbeat POSTs each beat, as JSON, to URL: the simulator's engine
// locally.
type HTTPHeartbeat struct {
	URL    string
	Client *http.Client // nil: a client with a 10 s timeout
}

var _ Heartbeater = HTTPHeartbeat{}

// Heartbeat sends b.
func (h HTTPHeartbeat) Heartbeat(ctx context.Context, b Beat) error {
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("heartbeat to %s: %w", h.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("heartbeat to %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("heartbeat to %s: %s", h.URL, resp.Status)
	}
	return nil
}

// SFNAPI is what the wrapper uses of Step Functions; *sfn.Client has it.
type SFNAPI interface {
	SendTaskHeartbeat(ctx context.Context, in *sfn.SendTaskHeartbeatInput, opts ...func(*sfn.Options)) (*sfn.SendTaskHeartbeatOutput, error)
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

var _ SFNAPI = (*sfn.Client)(nil)

// Error names the wrapper gives Step Functions for a failed step, for the
// state machine's Retry (ErrorEquals ["cumulus.Retryable"]) and Catch.
const (
	SFNErrorRetryable = "cumulus.Retryable"
	SFNErrorFatal     = "cumulus.Fatal"
)

// SFNHeartbeat reports to Step Functions for a state that waits for a task
// token: heartbeats through SendTaskHeartbeat, and the outcome through
// SendTaskSuccess (the result as the state's output) or SendTaskFailure
// (SFNErrorRetryable or SFNErrorFatal, with the reason as the cause).
type SFNHeartbeat struct {
	Client SFNAPI
	Token  string
}

var (
	_ Heartbeater = SFNHeartbeat{}
	_ Finisher    = SFNHeartbeat{}
)

// Heartbeat calls SendTaskHeartbeat.
func (h SFNHeartbeat) Heartbeat(ctx context.Context, _ Beat) error {
	if _, err := h.Client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(h.Token)}); err != nil {
		return fmt.Errorf("step functions heartbeat: %w", err)
	}
	return nil
}

// Step Functions' limits on SendTaskFailure's members.
const (
	sfnMaxError = 256
	sfnMaxCause = 32768
)

// Finish calls SendTaskSuccess or SendTaskFailure.
func (h SFNHeartbeat) Finish(ctx context.Context, r *Report) error {
	if r.Outcome == Succeeded {
		out := []byte("{}")
		if r.Result != nil {
			var err error
			if out, err = json.Marshal(r.Result); err != nil {
				return err
			}
		}
		if _, err := h.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(h.Token), Output: aws.String(string(out))}); err != nil {
			return fmt.Errorf("step functions task success: %w", err)
		}
		return nil
	}
	name := SFNErrorFatal
	if r.Outcome == Retryable {
		name = SFNErrorRetryable
	}
	cause, err := json.Marshal(map[string]any{"reason": r.Reason, "exit_code": r.ExitCode, "oom": r.OOM, "timed_out": r.TimedOut})
	if err != nil {
		return err
	}
	if len(cause) > sfnMaxCause {
		cause = cause[:sfnMaxCause]
	}
	if _, err := h.Client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
		TaskToken: aws.String(h.Token), Error: aws.String(name[:min(len(name), sfnMaxError)]), Cause: aws.String(string(cause)),
	}); err != nil {
		return fmt.Errorf("step functions task failure: %w", err)
	}
	return nil
}
