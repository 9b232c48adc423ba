package datasource

import (
	"strconv"
	"strings"

	"github.com/heraldreports/herald/internal/herald"
)

// placeholderStyle says how a driver spells positional placeholders.
type placeholderStyle int

const (
	// dollarPlaceholders: $1, $2, ... (PostgreSQL). A repeated name reuses
	// its numbers, so its value is bound once.
	dollarPlaceholders placeholderStyle = iota
	// questionPlaceholders: ? (MySQL, SQLite). A repeated name binds its
	// value again.
	questionPlaceholders
)

// binding is the value or values bound for one parameter.
type binding struct {
	values []any // one value; or a list's items
	list   bool  // a list expands to one placeholder per item, or NULL when empty
}

// rewriteNamed replaces the :name placeholders of q with the style's
// positional placeholders and returns the arguments in bind order. It skips
// string literals, quoted identifiers, comments and '::' casts as
// herald.ScanPlaceholders does. A list parameter expands to a comma
// separated run of placeholders (the query supplies the parentheses:
// "IN (:regions)" becomes "IN ($1,$2,$3)"); an empty list becomes NULL, which
// matches nothing. A name without a binding is a CodeInvalid error naming it.
func rewriteNamed(q string, style placeholderStyle, params map[string]binding) (string, []any, error) {
	var (
		b       strings.Builder
		args    []any
		numbers = map[string][]int{}
		last    int
		missing string
	)
	b.Grow(len(q) + 16)
	herald.ScanPlaceholders(q, func(start, end int) bool {
		name := q[start+1 : end]
		bd, ok := params[name]
		if !ok {
			missing = name
			return false
		}
		b.WriteString(q[last:start])
		last = end
		if style == dollarPlaceholders {
			nums, seen := numbers[name]
			if !seen {
				for _, v := range bd.values {
					args = append(args, v)
					nums = append(nums, len(args))
				}
				numbers[name] = nums
			}
			writeDollar(&b, nums, bd.list)
			return true
		}
		args = append(args, bd.values...)
		writeQuestion(&b, len(bd.values), bd.list)
		return true
	})
	if missing != "" {
		return "", nil, &herald.Error{
			Code:    herald.CodeInvalid,
			Message: "query parameter :" + missing + " has no value",
			Fields:  []herald.FieldError{{Field: "parameters." + missing, Message: "has no value"}},
		}
	}
	b.WriteString(q[last:])
	return b.String(), args, nil
}

func writeDollar(b *strings.Builder, nums []int, list bool) {
	if list && len(nums) == 0 {
		b.WriteString("NULL")
		return
	}
	for i, n := range nums {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
}

func writeQuestion(b *strings.Builder, n int, list bool) {
	if list && n == 0 {
		b.WriteString("NULL")
		return
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('?')
	}
}
