package datasource

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/heraldreports/herald/internal/herald"
)

func one(v any) binding      { return binding{values: []any{v}} }
func list(vs ...any) binding { return binding{values: vs, list: true} }
func emptyList() binding     { return binding{list: true} }
func strs(vs ...string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func TestRewriteNamed(t *testing.T) {
	params := map[string]binding{
		"a":       one(int64(1)),
		"b":       one("x"),
		"regions": list(strs("EMEA", "APAC", "AMER")...),
		"none":    emptyList(),
		"single":  list("only"),
		"d":       one(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)),
	}
	tests := []struct {
		name         string
		in           string
		dollar       string
		dollarArgs   []any
		question     string
		questionArgs []any
	}{
		{"no params", "SELECT 1", "SELECT 1", nil, "SELECT 1", nil},
		{"simple", "SELECT * FROM t WHERE a = :a AND b = :b",
			"SELECT * FROM t WHERE a = $1 AND b = $2", []any{int64(1), "x"},
			"SELECT * FROM t WHERE a = ? AND b = ?", []any{int64(1), "x"}},
		{"repeated name", "SELECT :a, :b, :a",
			"SELECT $1, $2, $1", []any{int64(1), "x"},
			"SELECT ?, ?, ?", []any{int64(1), "x", int64(1)}},
		{"string literal", "SELECT ':a', 'it''s :b', :a",
			"SELECT ':a', 'it''s :b', $1", []any{int64(1)},
			"SELECT ':a', 'it''s :b', ?", []any{int64(1)}},
		{"backslash escape in literal", `SELECT 'x\':a', :b`,
			`SELECT 'x\':a', $1`, []any{"x"},
			`SELECT 'x\':a', ?`, []any{"x"}},
		{"quoted identifiers", "SELECT \"col:a\", `col:b` FROM t WHERE x = :b",
			"SELECT \"col:a\", `col:b` FROM t WHERE x = $1", []any{"x"},
			"SELECT \"col:a\", `col:b` FROM t WHERE x = ?", []any{"x"}},
		{"line comment", "SELECT :a -- not :b\n, :b",
			"SELECT $1 -- not :b\n, $2", []any{int64(1), "x"},
			"SELECT ? -- not :b\n, ?", []any{int64(1), "x"}},
		{"block comment", "SELECT /* :b */ :a",
			"SELECT /* :b */ $1", []any{int64(1)},
			"SELECT /* :b */ ?", []any{int64(1)}},
		{"unterminated block comment", "SELECT :a /* :b",
			"SELECT $1 /* :b", []any{int64(1)},
			"SELECT ? /* :b", []any{int64(1)}},
		{"casts", "SELECT :a::int, x::text, '1'::date, :b::varchar(3)",
			"SELECT $1::int, x::text, '1'::date, $2::varchar(3)", []any{int64(1), "x"},
			"SELECT ?::int, x::text, '1'::date, ?::varchar(3)", []any{int64(1), "x"}},
		{"triple colon", "SELECT x:::a", "SELECT x:::a", nil, "SELECT x:::a", nil},
		{"list", "SELECT * FROM t WHERE r IN (:regions)",
			"SELECT * FROM t WHERE r IN ($1,$2,$3)", strs("EMEA", "APAC", "AMER"),
			"SELECT * FROM t WHERE r IN (?,?,?)", strs("EMEA", "APAC", "AMER")},
		{"repeated list", "SELECT :regions, :a, :regions",
			"SELECT $1,$2,$3, $4, $1,$2,$3", append(strs("EMEA", "APAC", "AMER"), int64(1)),
			"SELECT ?,?,?, ?, ?,?,?", append(append(strs("EMEA", "APAC", "AMER"), int64(1)), strs("EMEA", "APAC", "AMER")...)},
		{"empty list", "SELECT * FROM t WHERE r IN (:none) OR a = :a",
			"SELECT * FROM t WHERE r IN (NULL) OR a = $1", []any{int64(1)},
			"SELECT * FROM t WHERE r IN (NULL) OR a = ?", []any{int64(1)}},
		{"one-item list", "WHERE r IN (:single)", "WHERE r IN ($1)", []any{"only"}, "WHERE r IN (?)", []any{"only"}},
		{"adjacent and at the edges", ":a+:b", "$1+$2", []any{int64(1), "x"}, "?+?", []any{int64(1), "x"}},
		{"name with digits and underscores ends at punctuation", "SELECT :d, :a;",
			"SELECT $1, $2;", []any{time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), int64(1)},
			"SELECT ?, ?;", []any{time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), int64(1)}},
		{"colon not followed by a name", "SELECT a : b, ':', :1", "SELECT a : b, ':', :1", nil, "SELECT a : b, ':', :1", nil},
		{"unicode around", "SELECT 'Łódź', :b, '東京'", "SELECT 'Łódź', $1, '東京'", []any{"x"}, "SELECT 'Łódź', ?, '東京'", []any{"x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, args, err := rewriteNamed(tc.in, dollarPlaceholders, params)
			require.NoError(t, err)
			assert.Equal(t, tc.dollar, got)
			assert.Equal(t, tc.dollarArgs, args)
			got, args, err = rewriteNamed(tc.in, questionPlaceholders, params)
			require.NoError(t, err)
			assert.Equal(t, tc.question, got)
			assert.Equal(t, tc.questionArgs, args)
		})
	}
}

func TestRewriteMissingParameter(t *testing.T) {
	_, _, err := rewriteNamed("SELECT :a, :missing", questionPlaceholders, map[string]binding{"a": one(1)})
	require.Error(t, err)
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err))
	assert.Contains(t, err.Error(), ":missing")

	_, err = bindParams("SELECT :a, :gone", map[string]any{"a": int64(1)}, nil, (&postgresDialect{}).bindTime)
	require.Error(t, err)
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err))
	var he *herald.Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "parameters.gone", he.Fields[0].Field)
}

// rewriteProperties checks, for any query, that binding every placeholder
// leaves none behind, binds one argument per occurrence (question marks) or
// per distinct name (dollar numbers), and keeps the text around them.
func rewriteProperties(t *testing.T, q string) {
	t.Helper()
	names := herald.QueryParameterNames(q)
	bindings := map[string]binding{}
	for _, n := range names {
		bindings[n] = binding{values: []any{n}}
	}
	occurrences := 0
	herald.ScanPlaceholders(q, func(start, end int) bool {
		occurrences++
		return true
	})
	out, args, err := rewriteNamed(q, questionPlaceholders, bindings)
	require.NoError(t, err, q)
	assert.Empty(t, herald.QueryParameterNames(out), "no placeholder survives: %q -> %q", q, out)
	assert.Len(t, args, occurrences, q)
	assert.Equal(t, strings.Count(q, "?")+occurrences, strings.Count(out, "?"), q)
	_, dollarArgs, err := rewriteNamed(q, dollarPlaceholders, bindings)
	require.NoError(t, err, q)
	assert.Len(t, dollarArgs, len(names), "a repeated name is bound once: %q", q)
}

func TestRewriteProperties(t *testing.T) {
	for _, q := range []string{
		"SELECT :a, :b, :a",
		"SELECT ':x' || :y",
		`SELECT "a:b", :c -- :d` + "\n:e",
		"SELECT /* :a */ :b /* :c",
		"SELECT :a::int, b::text, ::c, :::d",
		`SELECT 'it\'s :x', :y`,
		"SELECT `q:z`, :w, '?'",
		":start and :end_",
		"a := :b",
		"SELECT ':unterminated",
		"--only a comment :x",
		"SELECT :_under, :A1, :1bad",
	} {
		rewriteProperties(t, q)
	}
}

func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"SELECT :a", "':a' :b", "/* :a */ :b", "x::y :z", "-- :a\n:b", `"\":a" :b`, ":a:b :a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		rewriteProperties(t, q)
	})
}

func TestBindParams(t *testing.T) {
	at := time.Date(2026, 3, 14, 23, 30, 0, 0, time.FixedZone("X", -5*3600))
	params := map[string]any{
		"s": "text", "i": int64(7), "f": 1.5, "b": true, "n": nil, "day": at, "ts": at,
		"l": []string{"a", "b"}, "e": []string{}, "nl": nil, "small": 3,
	}
	types := map[string]herald.ParamType{"day": herald.ParamDate, "ts": herald.ParamDatetime, "l": herald.ParamList, "e": herald.ParamList, "nl": herald.ParamList}
	q := "SELECT :s, :i, :f, :b, :n, :day, :ts, :l, :e, :nl, :small"

	sqlite, err := bindParams(q, params, types, (&sqliteDialect{}).bindTime)
	require.NoError(t, err)
	assert.Equal(t, one("2026-03-14"), sqlite["day"], "a date keeps its calendar day")
	assert.Equal(t, one("2026-03-15T04:30:00Z"), sqlite["ts"], "a datetime binds as UTC RFC 3339 text")
	assert.Equal(t, list("a", "b"), sqlite["l"])
	assert.True(t, sqlite["e"].list)
	assert.Empty(t, sqlite["e"].values)
	assert.Equal(t, emptyList(), sqlite["nl"])
	assert.Equal(t, one(nil), sqlite["n"])
	assert.Equal(t, one(int64(3)), sqlite["small"])

	pg, err := bindParams(q, params, types, (&postgresDialect{}).bindTime)
	require.NoError(t, err)
	assert.Equal(t, one(time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)), pg["day"])
	assert.Equal(t, one(at.UTC()), pg["ts"])

	_, err = bindParams("SELECT :x", map[string]any{"x": struct{}{}}, nil, (&sqliteDialect{}).bindTime)
	require.Error(t, err)
	assert.Equal(t, herald.CodeInvalid, herald.CodeOf(err))
	assert.Contains(t, err.Error(), "unsupported value type")
}
