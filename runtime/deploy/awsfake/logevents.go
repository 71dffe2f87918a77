package awsfake

import (
	"net/http"
	"strconv"
	"strings"
)

// LogEvent is one event of a log stream: milliseconds since the epoch, and
// the message.
type LogEvent struct {
	Timestamp int64
	Message   string
}

// PutLogEvents appends events to a stream (made if need be), as a
// container's log driver would: tests put the logs the engine then reads.
func (s *Server) PutLogEvents(group, stream string, events ...LogEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng.streams[group] == nil {
		s.eng.streams[group] = map[string][]LogEvent{}
	}
	s.eng.streams[group][stream] = append(s.eng.streams[group][stream], events...)
}

// logEventOps returns the handler of the log-event operations, which
// keep their state beside the log groups'.
func (s *Server) logEventOps(r *http.Request) (func(string, obj) (any, *Error), bool) {
	t := r.Header.Get("X-Amz-Target")
	switch t[strings.LastIndex(t, ".")+1:] {
	case "GetLogEvents", "FilterLogEvents":
		return s.logEvents, true
	}
	return nil, false
}

// defaultLimit is how many events a page has when the request sets no
// limit (CloudWatch Logs' own figure for both operations is 10,000).
const defaultLimit = 10000

func num(in obj, k string) (int64, bool) {
	f, ok := in[k].(float64)
	return int64(f), ok
}

func (s *Server) logEvents(op string, in obj) (any, *Error) {
	group := str(in, "logGroupName")
	if group == "" {
		// logGroupIdentifier: a name or an ARN.
		group = strings.TrimSuffix(strings.TrimPrefix(str(in, "logGroupIdentifier"), s.arn("logs", "log-group:")), ":*")
	}
	streams, ok := s.eng.streams[group]
	if !ok {
		return nil, notFound("ResourceNotFoundException", "The specified log group does not exist.")
	}
	limit := int64(defaultLimit)
	if l, ok := num(in, "limit"); ok && l > 0 {
		limit = l
	}
	start, hasStart := num(in, "startTime")
	end, hasEnd := num(in, "endTime")
	inTime := func(e LogEvent) bool {
		return (!hasStart || e.Timestamp >= start) && (!hasEnd || e.Timestamp < end)
	}
	// Tokens are offsets into the matching events, opaque to the client.
	offset := func(token string) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimPrefix(token, "f/"), "x/"))
		return n
	}
	switch op {
	case "GetLogEvents":
		events, ok := streams[str(in, "logStreamName")]
		if !ok {
			return nil, notFound("ResourceNotFoundException", "The specified log stream does not exist.")
		}
		var match []LogEvent
		for _, e := range events {
			if inTime(e) {
				match = append(match, e)
			}
		}
		from := offset(str(in, "nextToken"))
		to := min(from+int(limit), len(match))
		out := []any{}
		for _, e := range match[min(from, to):to] {
			out = append(out, obj{"timestamp": e.Timestamp, "message": e.Message, "ingestionTime": e.Timestamp})
		}
		// At the end of the stream the forward token comes back as it
		// was sent: how a reader knows to stop.
		return obj{"events": out, "nextForwardToken": "f/" + strconv.Itoa(to), "nextBackwardToken": "b/" + strconv.Itoa(from)}, nil
	default: // FilterLogEvents
		names := sortedKeys(streams)
		if list, ok := in["logStreamNames"].([]any); ok {
			names = nil
			for _, n := range list {
				if _, ok := streams[n.(string)]; ok {
					names = append(names, n.(string))
				}
			}
		} else if p := str(in, "logStreamNamePrefix"); p != "" {
			var keep []string
			for _, n := range names {
				if strings.HasPrefix(n, p) {
					keep = append(keep, n)
				}
			}
			names = keep
		}
		match := filterPattern(str(in, "filterPattern"))
		type hit struct {
			stream string
			e      LogEvent
		}
		var hits []hit
		for _, n := range names {
			for _, e := range streams[n] {
				if inTime(e) && match(e.Message) {
					hits = append(hits, hit{n, e})
				}
			}
		}
		from := offset(str(in, "nextToken"))
		to := min(from+int(limit), len(hits))
		out := []any{}
		for i, h := range hits[min(from, to):to] {
			out = append(out, obj{"logStreamName": h.stream, "timestamp": h.e.Timestamp, "message": h.e.Message,
				"ingestionTime": h.e.Timestamp, "eventId": strconv.Itoa(from + i)})
		}
		res := obj{"events": out, "searchedLogStreams": []any{}}
		if to < len(hits) {
			res["nextToken"] = "x/" + strconv.Itoa(to)
		}
		return res, nil
	}
}

// filterPattern is the text part of CloudWatch Logs' filter pattern
// syntax for unstructured events: terms (bare or in double quotes) that
// must all appear, or, when every term starts with "?", of which one must;
// matching is case-sensitive, as in CloudWatch Logs.
func filterPattern(p string) func(string) bool {
	var terms []string
	anyOf := true
	for rest := strings.TrimSpace(p); rest != ""; rest = strings.TrimSpace(rest) {
		or := strings.HasPrefix(rest, "?")
		rest = strings.TrimPrefix(rest, "?")
		anyOf = anyOf && or
		var term string
		if strings.HasPrefix(rest, `"`) {
			end := 1
			for end < len(rest) && rest[end] != '"' {
				if rest[end] == '\\' {
					end++
				}
				end++
			}
			term = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(rest[1:min(end, len(rest))])
			rest = rest[min(end+1, len(rest)):]
		} else {
			i := strings.IndexByte(rest, ' ')
			if i < 0 {
				i = len(rest)
			}
			term, rest = rest[:i], rest[i:]
		}
		terms = append(terms, term)
	}
	return func(msg string) bool {
		if len(terms) == 0 {
			return true
		}
		for _, t := range terms {
			found := strings.Contains(msg, t)
			if anyOf && found {
				return true
			}
			if !anyOf && !found {
				return false
			}
		}
		return !anyOf
	}
}
