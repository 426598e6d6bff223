package datastore

import (
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseTemplate checks that parsing never panics and that a template
// that parses renders, whatever the field values, either to an error or
// to a safe path: relative, clean, local, without "." or ".." elements.
func FuzzParseTemplate(f *testing.F) {
	for _, seed := range [][2]string{
		{DefaultTemplate, "u/alice/run 1"},
		{"{run}/{datasetType}/{band:?}/{exposure}/{datasetType}_{instrument}_{exposure}_{detector}", "../etc"},
		{"{run:/}/{visit.name|exposure.obs_id}/{exposure:08d}", "a/../b"},
		{"{id}", ".."},
		{"{run}/{{x}}/{a:?}_{b:?}", "\x00"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, text, value string) {
		tmpl, err := ParseTemplate(text)
		if err != nil {
			return
		}
		for _, v := range []Values{valuesFor(tmpl, value), valuesFor(tmpl, int64(len(value))), valuesFor(tmpl, nil)} {
			p, err := tmpl.Render(v)
			if err != nil {
				continue
			}
			if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || !filepath.IsLocal(p) || strings.ContainsAny(p, "\\\x00") {
				t.Fatalf("template %q with value %q rendered the unsafe path %q", text, value, p)
			}
			for e := range strings.SplitSeq(p, "/") {
				if e == "" || e == "." || e == ".." {
					t.Fatalf("template %q with value %q rendered %q with element %q", text, value, p, e)
				}
			}
			if err := checkPath(p); err != nil {
				t.Fatalf("template %q with value %q rendered %q: %v", text, value, p, err)
			}
		}
	})
}

// valuesFor gives every field of tmpl the value x (the run, the dataset
// ID and the dataset type always get something so that required special
// fields can render).
func valuesFor(tmpl *Template, x any) Values {
	s, _ := x.(string)
	v := Values{Run: s, DatasetType: s, Component: "", StorageClass: s, ID: s,
		DataID: map[string]any{}, Records: map[string]map[string]any{}}
	if s == "" {
		v.Run, v.DatasetType, v.ID = "run", "type", "id"
	}
	for _, name := range tmpl.Fields() {
		if elem, attr, ok := strings.Cut(name, "."); ok {
			if v.Records[elem] == nil {
				v.Records[elem] = map[string]any{}
			}
			v.Records[elem][attr] = x
		} else if name == FieldComponent && s != "" {
			v.Component = s
		} else {
			v.DataID[name] = x
		}
	}
	return v
}

// FuzzFITSRead checks that reading arbitrary bytes as FITS returns an
// image or an error, and that an image it returns is consistent.
func FuzzFITSRead(f *testing.F) {
	good, err := fitsFormatter{}.Write(testImage())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:2880])
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := fitsFormatter{}.Read(data)
		if err != nil {
			return
		}
		if err := obj.(*Image).Validate(); err != nil && !strings.Contains(err.Error(), "header card") {
			t.Fatalf("Read returned an invalid image: %v", err)
		}
	})
}

// FuzzParquetRead checks that reading arbitrary bytes as Parquet returns a
// valid table or an error.
func FuzzParquetRead(f *testing.F) {
	good, err := parquetFormatter{}.Write(testTable(10))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := parquetFormatter{}.Read(data)
		if err != nil {
			return
		}
		if err := obj.(*Table).Validate(); err != nil {
			t.Fatalf("Read returned an invalid table: %v", err)
		}
	})
}
