package datastore

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func testDict() Dict {
	return Dict{
		"zeta":  "last",
		"alpha": int64(1),
		"beta":  2.5,
		"gamma": true,
		"delta": nil,
		"date":  "2024-01-01",
		"big":   int64(math.MaxInt64),
		"html":  "<a & b>",
		"list":  []any{int64(1), "two", 3.5, false, nil, map[string]any{"k": "v"}},
		"nested": map[string]any{
			"b": map[string]any{"deep": int64(-7)},
			"a": []any{},
		},
		"unicode": "Ωmega ✓",
	}
}

func TestDictFormatsRoundTrip(t *testing.T) {
	for _, name := range []string{FormatterJSON, FormatterYAML} {
		t.Run("the "+name+" formatter round-trips every value type", func(t *testing.T) {
			f, err := LookupFormatter(name)
			if err != nil {
				t.Fatal(err)
			}
			data, err := f.Write(testDict())
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			got, err := f.Read(data)
			if err != nil {
				t.Fatalf("Read: %v\n%s", err, data)
			}
			if !reflect.DeepEqual(got, testDict()) {
				t.Fatalf("round trip\n got %#v\nwant %#v\nfile:\n%s", got, testDict(), data)
			}
		})
		t.Run("the "+name+" formatter writes equal dicts as equal bytes with sorted keys", func(t *testing.T) {
			f, _ := LookupFormatter(name)
			first, err := f.Write(testDict())
			if err != nil {
				t.Fatal(err)
			}
			for range 20 {
				again, err := f.Write(map[string]any(testDict()))
				if err != nil {
					t.Fatal(err)
				}
				if string(again) != string(first) {
					t.Fatalf("bytes differ:\n%s\n%s", first, again)
				}
			}
			text := string(first)
			if strings.Index(text, "alpha") > strings.Index(text, "beta") || strings.Index(text, "beta") > strings.Index(text, "zeta") {
				t.Errorf("keys are not sorted:\n%s", text)
			}
		})
	}
}

func TestJSONFormatter(t *testing.T) {
	f := jsonFormatter{}
	for _, tc := range []struct {
		name, data, wantErr string
		want                Dict
	}{
		{"an object is read", `{"a": 1, "b": [1.0, 1e3]}`, "", Dict{"a": int64(1), "b": []any{1.0, 1000.0}}},
		{"a huge integer becomes a float", `{"a": 123456789012345678901234567890}`, "", Dict{"a": 1.2345678901234568e29}},
		{"an array is refused", `[1, 2]`, "is an array, not an object", nil},
		{"null is refused", `null`, "is null, not an object", nil},
		{"trailing data are refused", `{} {}`, "data after the JSON document", nil},
		{"broken JSON is refused", `{"a": `, "json: read", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Read([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Read = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
	t.Run("valid JSON bytes are written unchanged", func(t *testing.T) {
		in := []byte(`{"records": [{"msg": "hi"}]}`)
		out, err := f.Write(in)
		if err != nil || string(out) != string(in) {
			t.Fatalf("Write = %q, %v", out, err)
		}
	})
	t.Run("invalid JSON bytes are refused", func(t *testing.T) {
		if _, err := f.Write([]byte("{\"a\":1}\n{\"a\":2}\n")); err == nil {
			t.Fatal("Write accepted JSON lines")
		}
	})
	t.Run("a NaN is refused", func(t *testing.T) {
		if _, err := f.Write(Dict{"x": math.NaN()}); err == nil || !strings.HasPrefix(err.Error(), "json: write") {
			t.Fatalf("Write = %v", err)
		}
	})
	t.Run("a nil dict is an empty object", func(t *testing.T) {
		out, err := f.Write(Dict(nil))
		if err != nil || strings.TrimSpace(string(out)) != "{}" {
			t.Fatalf("Write = %q, %v", out, err)
		}
	})
}

func TestYAMLFormatter(t *testing.T) {
	f := yamlFormatter{}
	for _, tc := range []struct {
		name, data, wantErr string
		want                Dict
	}{
		{"a mapping is read", "a: 1\nb: [x, 2.5]\nc: {d: true}\n", "", Dict{"a": int64(1), "b": []any{"x", 2.5}, "c": map[string]any{"d": true}}},
		{"an empty document is an empty dict", "", "", Dict{}},
		{"a comment-only document is an empty dict", "# nothing\n", "", Dict{}},
		{"an unquoted date stays a string", "d: 2024-01-01\n", "", Dict{"d": "2024-01-01"}},
		{"a sequence is refused", "- 1\n- 2\n", "not a mapping", nil},
		{"two documents are refused", "a: 1\n---\nb: 2\n", "more than one document", nil},
		{"a non-string key is refused", "a: {1: x}\n", "not a string", nil},
		{"broken YAML is refused", "a: [1, 2\n", "yaml: read", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Read([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Read = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
	t.Run("a value yaml cannot marshal is an error, not a panic", func(t *testing.T) {
		if _, err := f.Write(Dict{"ch": make(chan int)}); err == nil || !strings.HasPrefix(err.Error(), "yaml: write") {
			t.Fatalf("Write = %v", err)
		}
	})
}

func TestBytesFormatter(t *testing.T) {
	f, err := FormatterFor(StorageClassBytes, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{nil, {}, []byte("raw \x00 bytes")} {
		data, err := f.Write(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Read(data)
		if err != nil || string(got.([]byte)) != string(in) {
			t.Fatalf("round trip of %q = %q, %v", in, got, err)
		}
	}
}
