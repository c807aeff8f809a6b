package localstack

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Filter is a Lambda event filter pattern (the subset the platform uses: nested objects, lists of
// literal values, and the prefix, exists and anything-but operators), applied locally to each
// record as JSON exactly as an event source mapping applies it in AWS.
type Filter struct{ pattern map[string]any }

// ParseFilter reads a pattern; an empty one matches everything.
func ParseFilter(pattern string) (Filter, error) {
	if strings.TrimSpace(pattern) == "" {
		return Filter{}, nil
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(pattern), &p); err != nil {
		return Filter{}, fmt.Errorf("filter pattern: %w", err)
	}
	return Filter{pattern: p}, nil
}

// Match tells whether a record (any JSON-marshalable value) passes.
func (f Filter) Match(record any) bool {
	if f.pattern == nil {
		return true
	}
	raw, err := json.Marshal(record)
	if err != nil {
		return false
	}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return false
	}
	return matchObject(f.pattern, doc)
}

func matchObject(pattern, doc map[string]any) bool {
	for k, want := range pattern {
		got, present := doc[k]
		switch w := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matchObject(w, sub) {
				return false
			}
		case []any:
			if !matchAny(w, got, present) {
				return false
			}
		default:
			return false // patterns hold objects or lists only
		}
	}
	return true
}

func matchAny(options []any, got any, present bool) bool {
	for _, o := range options {
		if op, ok := o.(map[string]any); ok {
			if matchOperator(op, got, present) {
				return true
			}
			continue
		}
		if present && fmt.Sprint(o) == fmt.Sprint(got) {
			return true
		}
	}
	return false
}

func matchOperator(op map[string]any, got any, present bool) bool {
	if v, ok := op["exists"]; ok {
		return v == present
	}
	if !present {
		return false
	}
	if v, ok := op["prefix"]; ok {
		s, isStr := got.(string)
		return isStr && strings.HasPrefix(s, fmt.Sprint(v))
	}
	if v, ok := op["anything-but"]; ok {
		list, isList := v.([]any)
		if !isList {
			list = []any{v}
		}
		for _, x := range list {
			if fmt.Sprint(x) == fmt.Sprint(got) {
				return false
			}
		}
		return true
	}
	return false
}
