package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Report says what Apply did: every change done, the one that failed (if
// any) and every change not attempted.
type Report struct {
	Done    []*Action `json:"done"`
	Failed  *Action   `json:"failed,omitempty"`
	Error   string    `json:"error,omitempty"`
	NotDone []*Action `json:"not_done"`
	// Endpoints are the URLs of the HTTP APIs, after an apply that
	// succeeded.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	err       error
}

// Err is the failure, or nil.
func (r *Report) Err() error { return r.err }

// ErrConflict is the error of Apply for a plan with a conflict.
var ErrConflict = errors.New("the plan has conflicts")

// Apply runs the plan's changes in order and stops at the first failure:
// the resources done are in place, the rest untouched, and the next plan,
// made from what exists, finishes the work.
func (d *Deployer) Apply(ctx context.Context, p *Plan) *Report {
	r := &Report{Done: []*Action{}, NotDone: []*Action{}}
	if n := p.Count(OpConflict); n > 0 {
		r.err = fmt.Errorf("%w: %d resources exist that %s does not own; nothing was changed", ErrConflict, n, p.Prefix)
		r.Error = r.err.Error()
		for _, a := range p.Actions {
			if a.run != nil {
				r.NotDone = append(r.NotDone, a)
			}
		}
		return r
	}
	for _, a := range p.Actions {
		if a.run == nil {
			continue
		}
		if r.Failed != nil {
			r.NotDone = append(r.NotDone, a)
			continue
		}
		d.log.InfoContext(ctx, "applying", "op", a.Op, "kind", a.Kind, "name", a.Name)
		if err := a.run(ctx); err != nil {
			r.Failed, r.err = a, fmt.Errorf("%s %s %s: %w", a.Op, a.Kind, a.Name, err)
			r.Error = r.err.Error()
			d.log.ErrorContext(ctx, "apply failed", "kind", a.Kind, "name", a.Name, "err", err)
			continue
		}
		r.Done = append(r.Done, a)
	}
	if r.err == nil {
		r.Endpoints = p.Endpoints()
	}
	return r
}

// Identity returns the account the clients' credentials belong to.
func (d *Deployer) Identity(ctx context.Context) (string, error) {
	out, err := d.c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("finding the AWS account of the credentials: %w", err)
	}
	return aws.ToString(out.Account), nil
}

var symbols = map[Op]string{OpCreate: "+", OpUpdate: "~", OpUnchanged: "=", OpDelete: "-", OpConflict: "!"}

// WriteText prints the plan for people, Terraform-style: one line per
// resource, reasons below, then the counts.
func (p *Plan) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s", p.Prefix)
	if p.Stage != "" {
		fmt.Fprintf(&b, " (stage %s)", p.Stage)
	}
	fmt.Fprintf(&b, " in account %s, %s:\n\n", p.Account, p.Region)
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "  %s %-20s %s\n", symbols[a.Op], a.Kind, a.Name)
		for _, r := range a.Reasons {
			fmt.Fprintf(&b, "        %s\n", r)
		}
	}
	fmt.Fprintf(&b, "\nPlan: %d to create, %d to update, %d to delete, %d unchanged", p.Count(OpCreate), p.Count(OpUpdate), p.Count(OpDelete), p.Count(OpUnchanged))
	if n := p.Count(OpConflict); n > 0 {
		fmt.Fprintf(&b, ", %d in conflict (apply refuses)", n)
	}
	b.WriteString(".\n")
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the plan for machines.
func (p *Plan) WriteJSON(w io.Writer) error {
	doc := struct {
		FormatVersion string `json:"format_version"`
		*Plan
		Summary map[Op]int `json:"summary"`
	}{"1.0", p, map[Op]int{}}
	for _, op := range []Op{OpCreate, OpUpdate, OpDelete, OpUnchanged, OpConflict} {
		doc.Summary[op] = p.Count(op)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteText prints what was done and what was not.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, a := range r.Done {
		fmt.Fprintf(&b, "  done      %s %s %s\n", symbols[a.Op], a.Kind, a.Name)
	}
	if r.Failed != nil {
		fmt.Fprintf(&b, "  FAILED    %s %s %s\n", symbols[r.Failed.Op], r.Failed.Kind, r.Failed.Name)
	}
	for _, a := range r.NotDone {
		fmt.Fprintf(&b, "  not done  %s %s %s\n", symbols[a.Op], a.Kind, a.Name)
	}
	if r.err != nil {
		fmt.Fprintf(&b, "Apply failed: %v\n%d changes done, %d not done. Run deploy again: it plans from what exists and finishes the rest.\n", r.err, len(r.Done), len(r.NotDone)+btoi(r.Failed != nil))
	} else {
		fmt.Fprintf(&b, "Apply complete: %d changes done.\n", len(r.Done))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return WriteEndpoints(w, r.Endpoints)
}

// WriteEndpoints prints where each HTTP API serves, one line each:
// "Engine API and dashboard: URL", "Distribution NAME: URL".
func WriteEndpoints(w io.Writer, eps []Endpoint) error {
	var b strings.Builder
	for _, e := range eps {
		fmt.Fprintf(&b, "%s: %s\n", e.Title, e.URL)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
