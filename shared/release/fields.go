package release

import (
	"reflect"
	"strings"
)

// knownFields maps each lower-cased JSON name of Request to an accessor of its field, so the
// decoder can match names case-insensitively (as the seed's API does) and name a field in errors.
func knownFields() map[string]func(*Request) any {
	return fieldAccessors
}

var fieldAccessors, canonicalNames = buildFields()

func buildFields() (map[string]func(*Request) any, map[string]string) {
	acc := map[string]func(*Request) any{}
	names := map[string]string{}
	t := reflect.TypeOf(Request{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		idx := i
		acc[strings.ToLower(name)] = func(r *Request) any { return reflect.ValueOf(r).Elem().Field(idx).Addr().Interface() }
		names[strings.ToLower(name)] = name
	}
	return acc, names
}
