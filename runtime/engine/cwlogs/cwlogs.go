// Package cwlogs owns reading step logs from CloudWatch Logs for the engine
// API on AWS: a [Source] is the engine's LogSource (one attempt's log,
// read with GetLogEvents) and LogSearcher (a text search done by CloudWatch
// Logs with FilterLogEvents, bounded by the attempt's time and paginated).
//
// Where an attempt's log is comes from what the store recorded
// (engine.LogRef.Path), in one of three forms:
//
//   - a log stream's ARN, arn:aws:logs:REGION:ACCOUNT:log-group:GROUP:log-stream:STREAM;
//   - GROUP:STREAM (neither may hold a colon, so the split is unambiguous);
//   - the ARN of the ECS task that ran the step,
//     arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/TASK_ID: its stream is where
//     the awslogs driver puts it, PREFIX/CONTAINER/TASK_ID in the task's log
//     group, with the prefix and group the compiler wrote in the task
//     definition (compiler/ecs: the task's name, its container
//     ecs.ContainerName, graph.Task.LogGroup), found from the step in the
//     compiled graph.
//
// An attempt with no recorded location has no log (engine.ErrNotFound): a
// Lambda step's stream is named by Lambda, and nothing else ties it to the
// attempt.
package cwlogs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/cumulus-toolchain/cumulus/compiler/ecs"
	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/runtime/engine"
)

// API is what a Source uses of CloudWatch Logs; *cloudwatchlogs.Client is
// one.
type API interface {
	GetLogEvents(context.Context, *cloudwatchlogs.GetLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
	FilterLogEvents(context.Context, *cloudwatchlogs.FilterLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

var _ API = (*cloudwatchlogs.Client)(nil)

// Source reads step logs from CloudWatch Logs.
type Source struct {
	api      API
	g        *graph.Graph
	pageSize int32
}

var _ engine.LogSearcher = (*Source)(nil)

// Options tune a Source.
type Options struct {
	// PageSize is how many events one request asks for; 0 means
	// CloudWatch Logs' default (up to 1 MB of events a page).
	PageSize int32
}

// New returns a Source reading through api. g is the compiled graph, for
// the log group of the step a recorded ECS task ran; nil accepts only
// locations that name their group.
func New(api API, g *graph.Graph, opts Options) *Source {
	return &Source{api: api, g: g, pageSize: opts.PageSize}
}

// location is a log stream.
type location struct{ group, stream string }

// locate finds the stream of an attempt's log from what the store
// recorded.
func (s *Source) locate(ref engine.LogRef) (location, error) {
	p := ref.Path
	switch {
	case p == "":
		return location{}, fmt.Errorf("attempt %d of step %q recorded no log stream: %w", ref.Attempt, ref.Step, engine.ErrNotFound)
	case strings.HasPrefix(p, "arn:") && strings.Contains(p, ":log-group:"):
		rest := p[strings.Index(p, ":log-group:")+len(":log-group:"):]
		group, stream, ok := strings.Cut(rest, ":log-stream:")
		if !ok || group == "" || stream == "" {
			return location{}, fmt.Errorf("log location %q names no log stream: %w", p, engine.ErrInvalid)
		}
		return location{group, stream}, nil
	case strings.HasPrefix(p, "arn:") && strings.Contains(p, ":task/"):
		parts := strings.Split(p[strings.Index(p, ":task/")+len(":task/"):], "/")
		id := parts[len(parts)-1]
		t := s.task(ref)
		if t == nil || id == "" {
			return location{}, fmt.Errorf("the log of ECS task %s: step %q of pipeline %q runs no ECS task of the graph: %w", p, ref.Step, ref.Pipeline, engine.ErrNotFound)
		}
		return location{t.LogGroup, t.Name + "/" + ecs.ContainerName + "/" + id}, nil
	case !strings.HasPrefix(p, "arn:"):
		group, stream, ok := strings.Cut(p, ":")
		if ok && group != "" && stream != "" && !strings.Contains(stream, ":") {
			return location{group, stream}, nil
		}
	}
	return location{}, fmt.Errorf("log location %q is neither a log stream nor an ECS task: %w", p, engine.ErrInvalid)
}

// task is the ECS task a step of the graph runs, or nil.
func (s *Source) task(ref engine.LogRef) *graph.Task {
	if s.g == nil {
		return nil
	}
	p := s.g.Pipeline(ref.Pipeline)
	if p == nil {
		return nil
	}
	st := p.Step(ref.Step)
	if st == nil {
		return nil
	}
	for _, t := range s.g.Tasks {
		if t.Name == st.TaskName && t.RunsOn == "ecs" {
			return t
		}
	}
	return nil
}

// notFound turns CloudWatch Logs' "no such group or stream" into the
// engine's ErrNotFound.
func notFound(err error, loc location) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ResourceNotFoundException" {
		return fmt.Errorf("log stream %s of %s: %w", loc.stream, loc.group, engine.ErrNotFound)
	}
	return fmt.Errorf("log stream %s of %s: %w", loc.stream, loc.group, err)
}

// Open returns the attempt's log, its events' messages one a line, read a
// page at a time as the reader is read. The first page is read before
// Open returns, so that a missing stream is ErrNotFound here.
func (s *Source) Open(ctx context.Context, ref engine.LogRef) (io.ReadCloser, error) {
	loc, err := s.locate(ref)
	if err != nil {
		return nil, err
	}
	r := &reader{ctx: ctx, s: s, loc: loc}
	if err := r.fill(); err != nil {
		return nil, err
	}
	return r, nil
}

// reader pages through a stream with GetLogEvents from its head. It ends
// when CloudWatch Logs gives back the forward token it was sent, which is
// how GetLogEvents says the stream has no more events.
type reader struct {
	ctx   context.Context
	s     *Source
	loc   location
	buf   bytes.Buffer
	token *string
	done  bool
}

func (r *reader) fill() error {
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(r.loc.group), LogStreamName: aws.String(r.loc.stream),
		StartFromHead: aws.Bool(true), NextToken: r.token}
	if r.s.pageSize > 0 {
		in.Limit = aws.Int32(r.s.pageSize)
	}
	out, err := r.s.api.GetLogEvents(r.ctx, in)
	if err != nil {
		return notFound(err, r.loc)
	}
	for _, e := range out.Events {
		r.buf.WriteString(strings.TrimRight(aws.ToString(e.Message), "\n"))
		r.buf.WriteByte('\n')
	}
	next := aws.ToString(out.NextForwardToken)
	if next == "" || next == aws.ToString(r.token) {
		r.done = true
	}
	r.token = out.NextForwardToken
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	for r.buf.Len() == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	return r.buf.Read(p)
}

func (r *reader) Close() error { return nil }

// SearchLog asks CloudWatch Logs for the events of the attempt's stream,
// within q's time bounds, that hold q.Text, following nextToken until the
// last page or q.Limit lines.
//
// Filter patterns match case-sensitively, and the API's search does not:
// the pattern asks for any of the text's common casings (as typed, lower,
// upper, capitalised), and the lines returned are those that hold the
// text in any case. A line that holds it in another mix of cases ("eRRor")
// is not found on AWS.
func (s *Source) SearchLog(ctx context.Context, ref engine.LogRef, q engine.LogQuery) (engine.LogMatches, error) {
	out := engine.LogMatches{Lines: []engine.LogLine{}}
	loc, err := s.locate(ref)
	if err != nil {
		return out, err
	}
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:   aws.String(loc.group),
		LogStreamNames: []string{loc.stream},
		FilterPattern:  aws.String(FilterPattern(q.Text)),
	}
	if !q.Start.IsZero() {
		in.StartTime = aws.Int64(q.Start.UnixMilli())
	}
	if !q.End.IsZero() {
		in.EndTime = aws.Int64(q.End.UnixMilli())
	}
	if s.pageSize > 0 {
		in.Limit = aws.Int32(s.pageSize)
	}
	needle := strings.ToLower(q.Text)
	for {
		page, err := s.api.FilterLogEvents(ctx, in)
		if err != nil {
			return out, notFound(err, loc)
		}
		for _, e := range page.Events {
			for _, line := range strings.Split(strings.TrimRight(aws.ToString(e.Message), "\n"), "\n") {
				if !strings.Contains(strings.ToLower(line), needle) {
					continue
				}
				if q.Limit > 0 && len(out.Lines) >= q.Limit {
					out.Truncated = true
					return out, nil
				}
				out.Lines = append(out.Lines, engine.LogLine{Text: line})
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// FilterPattern is the CloudWatch Logs filter pattern that matches events
// holding text in its common casings: one quoted term, or several joined
// with "?" (any of them).
func FilterPattern(text string) string {
	variants := []string{text, strings.ToLower(text), strings.ToUpper(text), capitalise(text)}
	seen := map[string]bool{}
	var terms []string
	for _, v := range variants {
		if !seen[v] {
			seen[v] = true
			terms = append(terms, `"`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"`)
		}
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return "?" + strings.Join(terms, " ?")
}

func capitalise(s string) string {
	r := []rune(strings.ToLower(s))
	if len(r) > 0 {
		r[0] = unicode.ToUpper(r[0])
	}
	return string(r)
}
