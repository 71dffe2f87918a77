package awsfake

import "strings"

type stateMachine struct {
	doc  obj
	tags []any
	// executions by name, in the order started.
	executions map[string]*Execution
	order      []string
}

// Execution is an execution the fake's StartExecution started. The fake
// runs nothing: an execution stays RUNNING until the test closes it.
type Execution struct {
	Name, Input, Status string
}

// Executions returns the executions of a state machine (by name), in the
// order they were started.
func (s *Server) Executions(machine string) []Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.machines[machine]
	if !ok {
		return nil
	}
	out := make([]Execution, 0, len(m.order))
	for _, n := range m.order {
		out = append(out, *m.executions[n])
	}
	return out
}

// CloseExecution ends a running execution with status (SUCCEEDED...).
func (s *Server) CloseExecution(machine, name, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.st.machines[machine]; ok && m.executions[name] != nil {
		m.executions[name].Status = status
	}
}

func (s *Server) states(op string, in obj) (any, *Error) {
	st := s.st
	byArn := func() (string, *stateMachine, *Error) {
		arn := str(in, "stateMachineArn")
		if arn == "" {
			arn = str(in, "resourceArn")
		}
		name := strings.TrimPrefix(arn, s.arn("states", "stateMachine:"))
		m, ok := st.machines[name]
		if !ok {
			return "", nil, notFound("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
		}
		return name, m, nil
	}
	switch op {
	case "CreateStateMachine":
		name := str(in, "name")
		if _, ok := st.machines[name]; ok {
			return nil, notFound("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", name)
		}
		arn := s.arn("states", "stateMachine:"+name)
		doc := obj{"stateMachineArn": arn, "name": name, "definition": in["definition"], "roleArn": in["roleArn"], "type": "STANDARD", "status": "ACTIVE", "creationDate": 1.7e9}
		if t, ok := in["type"]; ok {
			doc["type"] = t
		}
		if l, ok := in["loggingConfiguration"]; ok {
			doc["loggingConfiguration"] = l
		}
		tags, _ := in["tags"].([]any)
		st.machines[name] = &stateMachine{doc: doc, tags: tags}
		return obj{"stateMachineArn": arn, "creationDate": 1.7e9}, nil
	case "ListStateMachines":
		list := []any{}
		for _, n := range sortedKeys(st.machines) {
			d := st.machines[n].doc
			list = append(list, obj{"name": n, "stateMachineArn": d["stateMachineArn"], "type": d["type"], "creationDate": 1.7e9})
		}
		return obj{"stateMachines": list}, nil
	case "DescribeStateMachine":
		_, m, e := byArn()
		if e != nil {
			return nil, e
		}
		return m.doc, nil
	case "UpdateStateMachine":
		_, m, e := byArn()
		if e != nil {
			return nil, e
		}
		for _, k := range []string{"definition", "roleArn", "loggingConfiguration"} {
			if v, ok := in[k]; ok {
				m.doc[k] = v
			}
		}
		return obj{"updateDate": 1.7e9}, nil
	case "ListTagsForResource":
		_, m, e := byArn()
		if e != nil {
			return nil, e
		}
		if m.tags == nil {
			return obj{"tags": []any{}}, nil
		}
		return obj{"tags": m.tags}, nil
	case "TagResource":
		_, m, e := byArn()
		if e != nil {
			return nil, e
		}
		for _, t := range in["tags"].([]any) {
			key := str(t.(obj), "key")
			kept := m.tags[:0:0]
			for _, old := range m.tags {
				if str(old.(obj), "key") != key {
					kept = append(kept, old)
				}
			}
			m.tags = append(kept, t)
		}
		return obj{}, nil
	case "StartExecution":
		// Step Functions' idempotence: the same name and input as a running
		// execution is that execution; a closed one, or other input, is
		// ExecutionAlreadyExists.
		_, m, e := byArn()
		if e != nil {
			return nil, e
		}
		name, input := str(in, "name"), str(in, "input")
		if input == "" {
			input = "{}"
		}
		arn := strings.Replace(str(m.doc, "stateMachineArn"), ":stateMachine:", ":execution:", 1) + ":" + name
		if x, ok := m.executions[name]; ok {
			if x.Input == input && x.Status == "RUNNING" {
				return obj{"executionArn": arn, "startDate": 1.7e9}, nil
			}
			return nil, notFound("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
		}
		if m.executions == nil {
			m.executions = map[string]*Execution{}
		}
		m.executions[name] = &Execution{Name: name, Input: input, Status: "RUNNING"}
		m.order = append(m.order, name)
		return obj{"executionArn": arn, "startDate": 1.7e9}, nil
	case "DeleteStateMachine":
		name, _, e := byArn()
		if e != nil {
			return nil, e
		}
		delete(st.machines, name)
		return obj{}, nil
	}
	return nil, notFound("UnknownOperationException", "the fake does not implement states:%s", op)
}

// SetPipelineState sets a Data Pipeline's @pipelineState (FINISHED...), as
// a run ending would.
func (s *Server) SetPipelineState(id, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.st.pipelines[id]; ok {
		p.state = state
	}
}
