package entity

import (
	"strings"
	"unicode/utf8"
)

// FoldName is the form names are compared in: lower case, single spaces.
func FoldName(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// gramPad ends every folded name twice so that a one- or two-character term at the end of a name is
// still the prefix of one of its trigrams. It sorts before every printable character.
const gramPad = "\x01"

// NameGrams returns the distinct trigrams (in runes) of the folded, padded name. A term of any
// length that occurs in the name is then the prefix of (terms of 1–3 runes) or contains (longer
// terms) one of these trigrams, which is what makes a partial, case-insensitive name search a Query
// on keys instead of a Scan.
func NameGrams(name string) []string {
	r := []rune(FoldName(name) + gramPad + gramPad)
	seen := map[string]bool{}
	var out []string
	for i := 0; i+3 <= len(r); i++ {
		g := string(r[i : i+3])
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// SearchGram is the key prefix to look up for a folded search term: the term itself when it is
// shorter than a trigram, else its first trigram. Candidates found through it still need
// MatchesName.
func SearchGram(term string) string {
	t := FoldName(term)
	if utf8.RuneCountInString(t) <= 3 {
		return t
	}
	return string([]rune(t)[:3])
}

// MatchesName tells whether the folded name contains the folded term.
func MatchesName(foldedName, term string) bool {
	return strings.Contains(foldedName, FoldName(term))
}
