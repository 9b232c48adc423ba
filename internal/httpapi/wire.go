package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldreports/herald/internal/herald"
)

// MaxBodyBytes is the largest request body the API reads.
const MaxBodyBytes = 1 << 20

// MaxListLimit is the largest page size a client may ask for.
const MaxListLimit = 200

// decodeJSON reads exactly one JSON object into v. Unknown fields, trailing
// data, a wrong content type and bodies over MaxBodyBytes are refused.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return herald.Errorf(codeUnsupportedMediaType, "request body must be application/json")
		}
	}
	body, err := io.ReadAll(r.Body) // r.Body is limited by the limitBody middleware
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return herald.Errorf(herald.CodeTooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return herald.Wrap(err, herald.CodeInvalid, "request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return herald.Errorf(herald.CodeInvalid, "request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err, body)
	}
	if dec.More() {
		return herald.Errorf(herald.CodeInvalid, "request body has data after the JSON object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return herald.Errorf(herald.CodeInvalid, "request body has data after the JSON object")
	}
	return nil
}

// decodeOptionalJSON is decodeJSON for endpoints whose body may be left
// out: an empty body (however it is framed) means {}.
func decodeOptionalJSON(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return herald.Errorf(herald.CodeTooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return herald.Wrap(err, herald.CodeInvalid, "request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeJSON(r, v)
}

func jsonProblem(err error, body []byte) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line, col := position(body, syntax.Offset)
		return herald.Errorf(herald.CodeInvalid, "malformed JSON at line %d, column %d: %s", line, col, syntax.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &herald.Error{Code: herald.CodeInvalid, Message: fmt.Sprintf("%s must be %s, not %s", field, jsonType(typ.Type.Kind().String()), typ.Value),
			Fields: []herald.FieldError{{Field: field, Message: fmt.Sprintf("must be %s", jsonType(typ.Type.Kind().String()))}}}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return herald.Errorf(herald.CodeInvalid, "malformed JSON: the body ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &herald.Error{Code: herald.CodeInvalid, Message: fmt.Sprintf("unknown field %q", name),
			Fields: []herald.FieldError{{Field: name, Message: "is not a known field"}}}
	default:
		// Errors from our own UnmarshalJSON methods (durations, instants) are safe text.
		return herald.Errorf(herald.CodeInvalid, "invalid JSON value: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	default:
		return "a " + kind
	}
}

func position(body []byte, offset int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < offset && i < int64(len(body)); i++ {
		if body[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// quoteETag turns a store version into a strong HTTP entity tag.
func quoteETag(v string) string { return `"` + v + `"` }

// ifMatch returns the store version the client expects ("" when it sent no
// If-Match or "*"). A malformed header is an error.
func ifMatch(r *http.Request) (string, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return "", nil
	}
	if strings.Contains(h, ",") {
		return "", herald.Errorf(herald.CodeInvalid, "If-Match must carry a single entity tag")
	}
	h = strings.TrimPrefix(h, "W/")
	if len(h) < 3 || h[0] != '"' || h[len(h)-1] != '"' {
		return "", herald.Errorf(herald.CodeInvalid, `If-Match must be a quoted entity tag such as "3"`)
	}
	return h[1 : len(h)-1], nil
}

// notModified reports whether If-None-Match matches etag.
func notModified(r *http.Request, etag string) bool {
	for _, t := range strings.Split(r.Header.Get("If-None-Match"), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == quoteETag(etag) {
			return true
		}
	}
	return false
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(r *http.Request) (limit int, cursor string, err error) {
	limit = herald.DefaultListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > MaxListLimit {
			return 0, "", &herald.Error{Code: herald.CodeInvalid, Message: fmt.Sprintf("limit must be an integer from 1 to %d", MaxListLimit),
				Fields: []herald.FieldError{{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", MaxListLimit)}}}
		}
		limit = n
	}
	cursor = r.URL.Query().Get("cursor")
	if len(cursor) > 2048 {
		return 0, "", herald.Errorf(herald.CodeInvalid, "cursor is not valid")
	}
	return limit, cursor, nil
}

// listResponse is the envelope of every list.
type listResponse[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

func newList[T any](items []T, next string) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	lr := listResponse[T]{Items: items}
	if next != "" {
		lr.NextCursor = &next
	}
	return lr
}
