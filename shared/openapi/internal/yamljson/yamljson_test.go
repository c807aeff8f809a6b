package yamljson

import (
	"strings"
	"testing"
)

func TestConvertKeepsOrderAndTypes(t *testing.T) {
	got, err := Convert([]byte(`
zeta: 1
alpha:
  '200': {description: "<ok> & fine"}
  list: [true, null, 1.5, '01700', 2026-11-21, 3.1.0]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "zeta": 1,
  "alpha": {
    "200": {
      "description": "<ok> & fine"
    },
    "list": [
      true,
      null,
      1.5,
      "01700",
      "2026-11-21",
      "3.1.0"
    ]
  }
}
`
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestConvertRefusesWhatJSONCannotHold(t *testing.T) {
	for name, src := range map[string]string{
		"duplicate key": "a: 1\na: 2\n",
		"map key":       "? {a: 1}\n: 2\n",
		"infinity":      "a: .inf\n",
		"not YAML":      "a: [\n",
	} {
		if _, err := Convert([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
