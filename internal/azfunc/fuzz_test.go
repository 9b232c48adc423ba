package azfunc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary envelopes through every decoder: none may panic,
// and a decoded message body is always valid JSON.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name) // #nosec G304 -- test fixture path
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Data":{"msg":"\"\\\"\\\\\\\"x\\\\\\\"\\\"\""},"Metadata":{"DeliveryCount":"\"\\\"1\\\"\""}}`))
	f.Add([]byte(`{"Data":{"msg":"eyJhIjoxfQ=="},"Metadata":{"EnqueuedTimeUtc":"1/2/2006 3:04:05 PM"}}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		inv, err := ParseInvocation(body)
		if err != nil {
			return
		}
		for name := range inv.Data {
			_, _ = inv.String(name)
			var v any
			_ = inv.JSON(name, &v)
			_, _ = DecodeTimer(inv, name)
			m, err := DecodeServiceBus(inv, name)
			if err == nil && !json.Valid(m.Body) {
				t.Fatalf("binding %q: body %q is not valid JSON", name, m.Body)
			}
		}
		for name := range inv.Metadata {
			_, _ = inv.MetaString(name)
			_, _ = inv.MetaInt(name)
			_, _ = inv.MetaTime(name)
		}
	})
}

// FuzzUnwrap checks the string-peeling loop on raw values directly.
func FuzzUnwrap(f *testing.F) {
	for _, seed := range []string{`"x"`, `"\"x\""`, `"{\"a\":1}"`, `"\"{\\\"a\\\":1}\""`, `1`, `"1"`, `""`, `null`, `" "`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := unwrap(raw)
		if err != nil {
			return
		}
		if !json.Valid(v) {
			t.Fatalf("unwrap(%q) = %q, not valid JSON", raw, v)
		}
		_, _ = text(raw)
	})
}
