// Package release holds the commercial release (contract §5): the E1 request and its synchronous
// validation (§6), and the state machine that applies an accepted request to the stored release
// and says who must hear of it (§7). It knows nothing of storage or AWS.
package release

import (
	"regexp"
	"strings"
)

// ValidContainerNumber checks ISO 6346: owner code (3 letters), category (U, J or Z), six digits and
// the check digit (letters valued 10..38 skipping multiples of 11, weights 2^i, mod 11, 10 → 0).
func ValidContainerNumber(s string) bool {
	if !containerPattern.MatchString(s) {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		sum += charValue(s[i]) << i
	}
	return sum%11%10 == int(s[10]-'0')
}

// WithCheckDigit completes an owner code, category and serial ("CSQU305438") with its check digit.
func WithCheckDigit(first10 string) string {
	sum := 0
	for i := 0; i < 10; i++ {
		sum += charValue(first10[i]) << i
	}
	return first10 + string(rune('0'+sum%11%10))
}

var containerPattern = regexp.MustCompile(`^[A-Z]{3}[UJZ][0-9]{7}$`)

func charValue(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	v := 10
	for l := byte('A'); l < c; l++ {
		v++
		if v%11 == 0 {
			v++
		}
	}
	return v
}

// NormalizeContainer upper-cases and removes spaces ("csqu 305438 3" → "CSQU3054383").
func NormalizeContainer(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

var portPattern = regexp.MustCompile(`^[A-Z]{2}[A-Z2-9]{3}$`)

// ValidPortFormat checks the UN/LOCODE shape.
func ValidPortFormat(s string) bool { return portPattern.MatchString(s) }

// Ports is the configured set of UN/LOCODEs served (default BEANR).
type Ports map[string]bool

// ParsePorts reads "BEANR,BEZEE".
func ParsePorts(s string) Ports {
	p := Ports{}
	for _, x := range strings.Split(s, ",") {
		if x = strings.ToUpper(strings.TrimSpace(x)); x != "" {
			p[x] = true
		}
	}
	if len(p) == 0 {
		p["BEANR"] = true
	}
	return p
}
