package awsmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonKind is the JSON type of a node.
type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// node is a parsed JSON value that keeps what encoding/json's generic
// decoding loses: object key order (the Data Pipeline translator emits
// parameter values in file order), duplicate keys (AWS would keep only one of
// them, silently), and numbers as written (a long must not pass through
// float64).
type node struct {
	kind  jsonKind
	b     bool
	num   json.Number
	str   string
	elems []*node
	keys  []string
	vals  []*node
	dups  []string
}

func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the top-level value")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: jsonNull}, nil
	case bool:
		return &node{kind: jsonBool, b: t}, nil
	case json.Number:
		return &node{kind: jsonNumber, num: t}, nil
	case string:
		return &node{kind: jsonString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: jsonArray}
			for dec.More() {
				e, err := parseNode(dec)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, e)
			}
			return n, closeToken(dec)
		case '{':
			n := &node{kind: jsonObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				k := kt.(string)
				v, err := parseNode(dec)
				if err != nil {
					return nil, err
				}
				if seen[k] {
					n.dups = append(n.dups, k)
					continue
				}
				seen[k] = true
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			return n, closeToken(dec)
		}
	}
	return nil, fmt.Errorf("invalid JSON: unexpected token %v", tok)
}

// closeToken reads the ] or } that ends a container.
func closeToken(dec *json.Decoder) error {
	if _, err := dec.Token(); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// get returns the value of key k of an object node, or nil.
func (n *node) get(k string) *node {
	for i, key := range n.keys {
		if key == k {
			return n.vals[i]
		}
	}
	return nil
}

// short renders a scalar for a message, cut to a readable size.
func (n *node) short() string {
	var s string
	switch n.kind {
	case jsonString:
		s = fmt.Sprintf("%q", n.str)
	case jsonNumber:
		s = n.num.String()
	case jsonBool:
		s = fmt.Sprint(n.b)
	case jsonNull:
		s = "null"
	case jsonArray:
		return fmt.Sprintf("an array of %d", len(n.elems))
	case jsonObject:
		return "an object"
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return s
}
