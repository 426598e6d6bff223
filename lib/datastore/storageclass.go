package datastore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownStorageClass is matched (errors.Is) when a storage class name
// is not registered.
var ErrUnknownStorageClass = errors.New("unknown storage class")

// ErrWrongType is matched (errors.Is) when an object's Go type does not
// belong to the storage class or formatter it is written with.
var ErrWrongType = errors.New("wrong type for storage class")

// StorageClass names an in-memory type of dataset and how it may be stored.
type StorageClass struct {
	Name       string
	Doc        string
	Types      []reflect.Type // Go types of the objects; Types[0] is what reading returns
	Formatters []string       // names of the formatters that can store it; the first is the default
}

// DefaultFormatter returns the name of the storage class's default formatter.
func (sc *StorageClass) DefaultFormatter() string { return sc.Formatters[0] }

// Accepts reports whether obj is of one of the storage class's types (a
// nil pointer is not).
func (sc *StorageClass) Accepts(obj any) bool {
	if obj == nil {
		return false
	}
	rv := reflect.ValueOf(obj)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return false
	}
	return slices.Contains(sc.Types, rv.Type())
}

// Check returns an error wrapping ErrWrongType, naming the storage class,
// the expected types and the type of obj, when sc does not accept obj.
func (sc *StorageClass) Check(obj any) error {
	if sc.Accepts(obj) {
		return nil
	}
	return fmt.Errorf("%w %s: got %s, want %s", ErrWrongType, sc.Name, typeName(obj), sc.TypeNames())
}

// TypeNames describes the accepted Go types: "*datastore.Image or datastore.Image".
func (sc *StorageClass) TypeNames() string {
	names := make([]string, len(sc.Types))
	for i, t := range sc.Types {
		names[i] = t.String()
	}
	return strings.Join(names, " or ")
}

func (sc *StorageClass) clone() *StorageClass {
	c := *sc
	c.Types = slices.Clone(sc.Types)
	c.Formatters = slices.Clone(sc.Formatters)
	return &c
}

func typeName(obj any) string {
	if obj == nil {
		return "nil"
	}
	rv := reflect.ValueOf(obj)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "nil " + rv.Type().String()
	}
	return rv.Type().String()
}

var (
	imageTypes = []reflect.Type{reflect.TypeFor[*Image](), reflect.TypeFor[Image]()}
	tableTypes = []reflect.Type{reflect.TypeFor[*Table](), reflect.TypeFor[Table]()}
	dictTypes  = []reflect.Type{reflect.TypeFor[Dict](), reflect.TypeFor[map[string]any]()}
	bytesTypes = []reflect.Type{reflect.TypeFor[[]byte]()}
)

// The built-in storage classes, after daf_butler's.
const (
	StorageClassImageF             = "ImageF"
	StorageClassExposureF          = "ExposureF"
	StorageClassArrowTable         = "ArrowTable"
	StorageClassDataFrame          = "DataFrame"
	StorageClassStructuredDataDict = "StructuredDataDict"
	StorageClassConfig             = "Config"
	StorageClassTaskMetadata       = "TaskMetadata"
	StorageClassButlerLogRecords   = "ButlerLogRecords"
	StorageClassBytes              = "Bytes"
)

var (
	storageClassMu sync.RWMutex
	storageClasses = map[string]*StorageClass{}
)

func init() {
	for _, sc := range []StorageClass{
		{Name: StorageClassImageF, Doc: "A 2-D float32 image with a header (FITS).", Types: imageTypes, Formatters: []string{FormatterFITS}},
		{Name: StorageClassExposureF, Doc: "An exposure: a 2-D float32 image whose header carries the observation metadata (FITS).", Types: imageTypes, Formatters: []string{FormatterFITS}},
		{Name: StorageClassArrowTable, Doc: "A columnar table (Parquet).", Types: tableTypes, Formatters: []string{FormatterParquet}},
		{Name: StorageClassDataFrame, Doc: "A columnar table; an alias of ArrowTable (Parquet).", Types: tableTypes, Formatters: []string{FormatterParquet}},
		{Name: StorageClassStructuredDataDict, Doc: "A nested mapping (YAML or JSON).", Types: dictTypes, Formatters: []string{FormatterYAML, FormatterJSON}},
		{Name: StorageClassConfig, Doc: "A task configuration (YAML or JSON).", Types: dictTypes, Formatters: []string{FormatterYAML, FormatterJSON}},
		{Name: StorageClassTaskMetadata, Doc: "Metadata a task records while it runs (JSON or YAML).", Types: dictTypes, Formatters: []string{FormatterJSON, FormatterYAML}},
		{Name: StorageClassButlerLogRecords, Doc: "Log records of a quantum: a mapping (JSON) or raw bytes such as JSON lines (bytes formatter).", Types: append(slices.Clone(dictTypes), bytesTypes...), Formatters: []string{FormatterJSON, FormatterBytes}},
		{Name: StorageClassBytes, Doc: "Uninterpreted bytes.", Types: bytesTypes, Formatters: []string{FormatterBytes}},
	} {
		if err := RegisterStorageClass(sc); err != nil {
			panic(err)
		}
	}
}

// RegisterStorageClass adds a storage class. Its name must be new, it must
// have at least one type and one formatter, and its formatters must be
// registered.
func RegisterStorageClass(sc StorageClass) error {
	if err := checkStorageClass(sc); err != nil {
		return fmt.Errorf("register storage class %q: %w", sc.Name, err)
	}
	storageClassMu.Lock()
	defer storageClassMu.Unlock()
	if _, dup := storageClasses[sc.Name]; dup {
		return fmt.Errorf("register storage class %q: already registered", sc.Name)
	}
	storageClasses[sc.Name] = sc.clone()
	return nil
}

func checkStorageClass(sc StorageClass) error {
	if !isIdent(sc.Name) {
		return errors.New("a name is letters, digits and '_'")
	}
	if len(sc.Types) == 0 {
		return errors.New("no Go types")
	}
	if len(sc.Formatters) == 0 {
		return errors.New("no formatters")
	}
	for _, f := range sc.Formatters {
		if _, err := LookupFormatter(f); err != nil {
			return err
		}
	}
	return nil
}

// LookupStorageClass returns a copy of the registered storage class name.
func LookupStorageClass(name string) (*StorageClass, error) {
	storageClassMu.RLock()
	sc, ok := storageClasses[name]
	storageClassMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("look up storage class %q: %w (known: %s)", name, ErrUnknownStorageClass, strings.Join(StorageClassNames(), ", "))
	}
	return sc.clone(), nil
}

// StorageClassNames returns the names of the registered storage classes,
// sorted.
func StorageClassNames() []string {
	storageClassMu.RLock()
	defer storageClassMu.RUnlock()
	return sortedKeys(storageClasses)
}
