package datasource

import (
	"fmt"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// timeBinder converts a date or datetime parameter into the value a driver
// binds.
type timeBinder func(t time.Time, date bool) any

// bindParams builds the bindings of the parameters q uses. Values are
// normalised to the driver-neutral set (nil, string, int64, float64, bool,
// time.Time, lists of those) and times go through bindTime. A parameter the
// query uses but Params lacks is a CodeInvalid error naming it.
func bindParams(q string, params map[string]any, types map[string]herald.ParamType, bindTime timeBinder) (map[string]binding, error) {
	names := herald.QueryParameterNames(q)
	out := make(map[string]binding, len(names))
	for _, name := range names {
		v, ok := params[name]
		if !ok {
			return nil, &herald.Error{
				Code:    herald.CodeInvalid,
				Message: "query parameter :" + name + " has no value",
				Fields:  []herald.FieldError{{Field: "parameters." + name, Message: "has no value"}},
			}
		}
		bd, err := bindOne(v, types[name], bindTime)
		if err != nil {
			return nil, &herald.Error{
				Code:    herald.CodeInvalid,
				Message: fmt.Sprintf("query parameter :%s %s", name, err.Error()),
				Fields:  []herald.FieldError{{Field: "parameters." + name, Message: err.Error()}},
			}
		}
		out[name] = bd
	}
	return out, nil
}

func bindOne(v any, pt herald.ParamType, bindTime timeBinder) (binding, error) {
	switch x := v.(type) {
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return binding{values: items, list: true}, nil
	case []any:
		items := make([]any, len(x))
		for i, item := range x {
			s, err := scalar(item, pt, bindTime)
			if err != nil {
				return binding{}, fmt.Errorf("item %d %w", i, err)
			}
			items[i] = s
		}
		return binding{values: items, list: true}, nil
	case nil:
		if pt == herald.ParamList {
			return binding{list: true}, nil
		}
	}
	s, err := scalar(v, pt, bindTime)
	if err != nil {
		return binding{}, err
	}
	return binding{values: []any{s}, list: pt == herald.ParamList}, nil
}

// scalar normalises one value to nil, string, int64, float64, bool or the
// driver's time representation.
func scalar(v any, pt herald.ParamType, bindTime timeBinder) (any, error) {
	switch x := v.(type) {
	case nil, string, int64, float64, bool:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return bindTime(x, pt == herald.ParamDate), nil
	case *time.Time:
		if x == nil {
			return nil, nil
		}
		return bindTime(*x, pt == herald.ParamDate), nil
	}
	return nil, fmt.Errorf("has an unsupported value type %T", v)
}

// dateOf returns t's calendar date (in t's own location) as midnight UTC.
func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
