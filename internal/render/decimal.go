package render

import "strings"

// maxDecimalDigits bounds the digits a number may expand to (an exponent
// such as 1e-999 would otherwise make a huge string); longer numbers are
// shown as text.
const maxDecimalDigits = 400

// number is a decimal number held as its digits and the position of the
// decimal point: digits "123450" with point 4 is 1234.50. It is exact; the
// PDF formats every numeric value through it so that rounding is decimal
// rounding (half away from zero) of the text a person would read.
type number struct {
	neg    bool
	digits []byte
	point  int // digits before the decimal point, 0 <= point <= len(digits)
}

// parseDecimal parses decimal text: an optional sign, digits with at most
// one decimal point and an optional exponent ("-1234.50", ".5", "1e-7").
func parseDecimal(s string) (number, bool) {
	var n number
	s = strings.TrimSpace(s)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		n.neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp, ok := splitExponent(s)
	if !ok {
		return n, false
	}
	whole, frac, _ := strings.Cut(mant, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return n, false
	}
	if len(whole)+len(frac)+abs(exp) > maxDecimalDigits {
		return n, false
	}
	n.digits = make([]byte, 0, len(whole)+len(frac)+abs(exp)+1)
	n.digits = append(append(n.digits, whole...), frac...)
	n.point = len(whole)
	return n.shift(exp), true
}

// splitExponent splits "1.5e3" into "1.5" and 3.
func splitExponent(s string) (string, int, bool) {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return s, 0, true
	}
	e := s[i+1:]
	neg := false
	if e != "" && (e[0] == '-' || e[0] == '+') {
		neg = e[0] == '-'
		e = e[1:]
	}
	if e == "" || len(e) > 4 || !allDigits(e) {
		return "", 0, false
	}
	exp := 0
	for j := 0; j < len(e); j++ {
		exp = exp*10 + int(e[j]-'0')
	}
	if neg {
		exp = -exp
	}
	return s[:i], exp, true
}

// allDigits reports whether s holds only ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// abs returns the absolute value of an int.
func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// shift multiplies n by 10^k.
func (n number) shift(k int) number {
	n.point += k
	if n.point < 0 {
		pad := make([]byte, -n.point, -n.point+len(n.digits))
		for i := range pad {
			pad[i] = '0'
		}
		n.digits = append(pad, n.digits...)
		n.point = 0
	}
	for len(n.digits) < n.point {
		n.digits = append(n.digits, '0')
	}
	return n
}

// fracDigits returns the number of digits after the point.
func (n number) fracDigits() int { return len(n.digits) - n.point }

// round rounds n half away from zero to d digits after the point, padding
// with zeros when it has fewer.
func (n number) round(d int) number {
	if d < 0 {
		d = 0
	}
	for n.fracDigits() < d {
		n.digits = append(n.digits, '0')
	}
	if n.fracDigits() == d {
		return n
	}
	cut := n.point + d
	up := n.digits[cut] >= '5'
	n.digits = append(make([]byte, 0, cut+1), n.digits[:cut]...)
	if !up {
		return n
	}
	i := cut - 1
	for i >= 0 && n.digits[i] == '9' {
		n.digits[i] = '0'
		i--
	}
	if i >= 0 {
		n.digits[i]++
		return n
	}
	n.digits = append([]byte{'1'}, n.digits...)
	n.point++
	return n
}

// trimZeros drops trailing zeros after the point, keeping at least keep
// fractional digits.
func (n number) trimZeros(keep int) number {
	for n.fracDigits() > keep && n.digits[len(n.digits)-1] == '0' {
		n.digits = n.digits[:len(n.digits)-1]
	}
	return n
}

// isZero reports whether every digit is zero.
func (n number) isZero() bool {
	for _, d := range n.digits {
		if d != '0' {
			return false
		}
	}
	return true
}

// appendGrouped appends n with a comma between thousands and a point before
// the fraction: "-1,234,567.89". Negative zero is shown as zero.
func (n number) appendGrouped(b []byte) []byte {
	if n.neg && !n.isZero() {
		b = append(b, '-')
	}
	whole := n.digits[:n.point]
	for len(whole) > 1 && whole[0] == '0' {
		whole = whole[1:]
	}
	if len(whole) == 0 {
		b = append(b, '0')
	}
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, d)
	}
	if frac := n.digits[n.point:]; len(frac) > 0 {
		b = append(append(b, '.'), frac...)
	}
	return b
}

// String returns n grouped.
func (n number) String() string { return string(n.appendGrouped(nil)) }
