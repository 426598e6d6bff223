package datastore

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestStorageClassRegistry(t *testing.T) {
	want := []string{"ArrowTable", "ButlerLogRecords", "Bytes", "Config", "DataFrame", "ExposureF", "ImageF", "StructuredDataDict", "TaskMetadata"}
	if got := StorageClassNames(); !slices.Equal(got, want) {
		t.Errorf("StorageClassNames() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name, storageClass, defaultFormatter, extension string
		accepts, rejects                                []any
	}{
		{"ImageF holds images in FITS", "ImageF", "fits", ".fits", []any{NewImage(1, 1), Image{}}, []any{&Table{}, (*Image)(nil), nil}},
		{"ExposureF holds images in FITS", "ExposureF", "fits", ".fits", []any{NewImage(1, 1)}, []any{Dict{}}},
		{"ArrowTable holds tables in Parquet", "ArrowTable", "parquet", ".parquet", []any{&Table{}, Table{}}, []any{NewImage(1, 1)}},
		{"DataFrame holds tables in Parquet", "DataFrame", "parquet", ".parquet", []any{&Table{}}, []any{[]byte{}}},
		{"StructuredDataDict holds dicts in YAML", "StructuredDataDict", "yaml", ".yaml", []any{Dict{}, map[string]any{}}, []any{[]byte{}}},
		{"Config holds dicts in YAML", "Config", "yaml", ".yaml", []any{Dict{}}, []any{"x"}},
		{"TaskMetadata holds dicts in JSON", "TaskMetadata", "json", ".json", []any{Dict{}}, []any{map[string]int{}}},
		{"ButlerLogRecords holds dicts or bytes in JSON", "ButlerLogRecords", "json", ".json", []any{Dict{}, []byte("{}")}, []any{"x"}},
		{"Bytes holds bytes", "Bytes", "bytes", ".dat", []any{[]byte("x")}, []any{"x", Dict{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := LookupStorageClass(tc.storageClass)
			if err != nil {
				t.Fatal(err)
			}
			if sc.DefaultFormatter() != tc.defaultFormatter {
				t.Errorf("default formatter %s, want %s", sc.DefaultFormatter(), tc.defaultFormatter)
			}
			f, err := FormatterFor(tc.storageClass, "")
			if err != nil {
				t.Fatal(err)
			}
			if f.Name() != tc.defaultFormatter || f.Extension() != tc.extension {
				t.Errorf("FormatterFor = %s %s, want %s %s", f.Name(), f.Extension(), tc.defaultFormatter, tc.extension)
			}
			for _, obj := range tc.accepts {
				if err := sc.Check(obj); err != nil {
					t.Errorf("Check(%T): %v", obj, err)
				}
			}
			for _, obj := range tc.rejects {
				err := sc.Check(obj)
				if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), tc.storageClass) {
					t.Errorf("Check(%T) = %v, want ErrWrongType naming %s", obj, err, tc.storageClass)
				}
			}
		})
	}
	t.Run("an unknown storage class lists the known ones", func(t *testing.T) {
		_, err := LookupStorageClass("Imagef")
		if !errors.Is(err, ErrUnknownStorageClass) || !strings.Contains(err.Error(), "ImageF") {
			t.Fatalf("LookupStorageClass = %v", err)
		}
	})
	t.Run("a looked up storage class is a copy", func(t *testing.T) {
		sc, _ := LookupStorageClass("Bytes")
		sc.Formatters[0] = "changed"
		again, _ := LookupStorageClass("Bytes")
		if again.DefaultFormatter() != "bytes" {
			t.Fatalf("the registry was modified through a lookup")
		}
	})
}

func TestFormatterFor(t *testing.T) {
	for _, tc := range []struct {
		name, storageClass, override, wantName, wantErr string
	}{
		{"the default formatter is used without override", "Config", "", "yaml", ""},
		{"an override among the storage class's formatters is used", "Config", "json", "json", ""},
		{"the bytes formatter may store log records", "ButlerLogRecords", "bytes", "bytes", ""},
		{"an override the storage class cannot use is refused", "ImageF", "json", "", "formatter \"json\" cannot store it (use one of: fits)"},
		{"an unknown override is refused", "ImageF", "hdf5", "", "unknown formatter"},
		{"an unknown storage class is refused", "Cube", "", "", "unknown storage class"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FormatterFor(tc.storageClass, tc.override)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("FormatterFor = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || f.Name() != tc.wantName {
				t.Fatalf("FormatterFor = %v, %v; want %s", f, err, tc.wantName)
			}
		})
	}
}

func TestBoundFormatterRejectsTheWrongType(t *testing.T) {
	for _, tc := range []struct {
		name, storageClass string
		obj                any
		wantErr            string
	}{
		{"a table written as an image names both", "ImageF", &Table{}, "write ImageF with fits: wrong type for storage class ImageF: got *datastore.Table, want *datastore.Image or datastore.Image"},
		{"a dict written as a table names both", "ArrowTable", Dict{}, "got datastore.Dict, want *datastore.Table or datastore.Table"},
		{"a string written as bytes names both", "Bytes", "text", "wrong type for storage class Bytes: got string, want []uint8"},
		{"a nil image names the nil pointer", "ExposureF", (*Image)(nil), "got nil *datastore.Image"},
		{"bytes written as a dict by the yaml formatter name both", "Config", []byte("a: 1"), "got []uint8, want datastore.Dict or map[string]interface {}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FormatterFor(tc.storageClass, "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Write(tc.obj)
			if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Write = %v, want ErrWrongType containing %q", err, tc.wantErr)
			}
		})
	}
	t.Run("a formatter that cannot write a storage class's type is reported", func(t *testing.T) {
		f, _ := FormatterFor("ButlerLogRecords", "bytes")
		_, err := f.Write(Dict{"a": 1})
		if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), "write ButlerLogRecords: wrong type for storage class: formatter bytes writes []byte") {
			t.Fatalf("Write = %v", err)
		}
	})
	t.Run("reading checks the type of the result", func(t *testing.T) {
		f, _ := FormatterFor("ButlerLogRecords", "")
		obj, err := f.Read([]byte(`{"records": []}`))
		if err != nil || !reflect.DeepEqual(obj, Dict{"records": []any{}}) {
			t.Fatalf("Read = %#v, %v", obj, err)
		}
	})
}

func TestFormatterRegistry(t *testing.T) {
	if got, want := FormatterNames(), []string{"bytes", "fits", "json", "parquet", "yaml"}; !slices.Equal(got, want) {
		t.Errorf("FormatterNames() = %v, want %v", got, want)
	}
	for _, name := range []string{"bytes", "fits", "json", "parquet", "yaml"} {
		f, err := LookupFormatter(name)
		if err != nil || f.Name() != name {
			t.Errorf("LookupFormatter(%s) = %v, %v", name, f, err)
		}
	}
	if _, err := LookupFormatter("hdf5"); !errors.Is(err, ErrUnknownFormatter) {
		t.Errorf("LookupFormatter(hdf5) = %v", err)
	}
	if err := RegisterFormatter(bytesFormatter{}); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("RegisterFormatter of a duplicate = %v", err)
	}
	if err := RegisterStorageClass(StorageClass{Name: "Bytes", Types: bytesTypes, Formatters: []string{"bytes"}}); err == nil {
		t.Error("RegisterStorageClass of a duplicate succeeded")
	}
	if err := RegisterStorageClass(StorageClass{Name: "Cube", Types: imageTypes, Formatters: []string{"hdf5"}}); !errors.Is(err, ErrUnknownFormatter) {
		t.Errorf("RegisterStorageClass with an unknown formatter = %v", err)
	}
	if err := RegisterStorageClass(StorageClass{Name: "NoTypes", Formatters: []string{"bytes"}}); err == nil {
		t.Error("RegisterStorageClass without types succeeded")
	}
}
