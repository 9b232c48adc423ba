package render

import (
	"strings"
	"unicode/utf8"
)

// ellipsis ends text cut to fit.
const ellipsis = "…"

// maxCellRunes bounds the text kept of one value: more would never fit the
// widest cell at the smallest font.
const maxCellRunes = 600

// cleanText makes text printable on one line with fpdf and the Go fonts:
// line breaks, tabs and other control characters become spaces (a CR LF
// pair one space), invalid UTF-8 and characters outside the Basic
// Multilingual Plane (which fpdf cannot encode) become U+FFFD, and text
// longer than maxCellRunes is cut with an ellipsis.
func cleanText(s string) string {
	if len(s) <= maxCellRunes && plainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), 3*maxCellRunes) + len(ellipsis))
	n := 0
	for i, r := range s {
		if n == maxCellRunes {
			b.WriteString(ellipsis)
			break
		}
		if r == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			continue
		}
		b.WriteRune(cleanRune(r))
		n++
	}
	return b.String()
}

// plainASCII reports whether s holds only printable ASCII.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7F {
			return false
		}
	}
	return true
}

// cleanRune maps one rune to a printable one.
func cleanRune(r rune) rune {
	switch {
	case r < 0x20, r == 0x7F, r >= 0x80 && r < 0xA0, r == '\u2028', r == '\u2029':
		return ' '
	case r > 0xFFFF:
		return utf8.RuneError
	}
	return r
}
