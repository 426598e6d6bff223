package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownFormatter is matched (errors.Is) when a formatter name is not
// registered.
var ErrUnknownFormatter = errors.New("unknown formatter")

// Formatter converts between an in-memory object and the bytes of a file.
// Implementations are stateless and safe for concurrent use.
type Formatter interface {
	// Name identifies the formatter in configuration and datastore records.
	Name() string
	// Extension is the file extension, with its dot (".fits").
	Extension() string
	// Write serialises obj; an object of a type the formatter cannot write
	// is an error wrapping ErrWrongType.
	Write(obj any) ([]byte, error)
	// Read deserialises data.
	Read(data []byte) (any, error)
}

// Names of the built-in formatters.
const (
	FormatterFITS    = "fits"
	FormatterParquet = "parquet"
	FormatterJSON    = "json"
	FormatterYAML    = "yaml"
	FormatterBytes   = "bytes"
)

var (
	formatterMu sync.RWMutex
	formatters  = map[string]Formatter{
		FormatterFITS:    fitsFormatter{},
		FormatterParquet: parquetFormatter{},
		FormatterJSON:    jsonFormatter{},
		FormatterYAML:    yamlFormatter{},
		FormatterBytes:   bytesFormatter{},
	}
)

// RegisterFormatter adds a formatter under its Name, which must be new.
func RegisterFormatter(f Formatter) error {
	name := f.Name()
	if !isIdent(name) {
		return fmt.Errorf("register formatter %q: a name is letters, digits and '_'", name)
	}
	if ext := f.Extension(); !strings.HasPrefix(ext, ".") || strings.ContainsAny(ext, "/\\") {
		return fmt.Errorf("register formatter %q: extension %q must start with '.' and have no '/'", name, ext)
	}
	formatterMu.Lock()
	defer formatterMu.Unlock()
	if _, dup := formatters[name]; dup {
		return fmt.Errorf("register formatter %q: already registered", name)
	}
	formatters[name] = f
	return nil
}

// LookupFormatter returns the registered formatter name.
func LookupFormatter(name string) (Formatter, error) {
	formatterMu.RLock()
	f, ok := formatters[name]
	formatterMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("look up formatter %q: %w (known: %s)", name, ErrUnknownFormatter, strings.Join(FormatterNames(), ", "))
	}
	return f, nil
}

// FormatterNames returns the names of the registered formatters, sorted.
func FormatterNames() []string {
	formatterMu.RLock()
	defer formatterMu.RUnlock()
	return sortedKeys(formatters)
}

// FormatterFor returns the formatter for datasets of storageClass: the
// formatter named override (a per-dataset-type configuration) when it is
// not "", else the storage class's default. The override must be one of
// the storage class's formatters. The returned formatter is bound to the
// storage class: Write rejects an object of another Go type with an error
// naming the storage class and the type, and Read checks what it returns.
func FormatterFor(storageClass, override string) (Formatter, error) {
	sc, err := LookupStorageClass(storageClass)
	if err != nil {
		return nil, fmt.Errorf("formatter for %s: %w", storageClass, err)
	}
	name := sc.DefaultFormatter()
	if override != "" {
		if !slices.Contains(sc.Formatters, override) {
			if _, err := LookupFormatter(override); err != nil {
				return nil, fmt.Errorf("formatter for %s: %w", storageClass, err)
			}
			return nil, fmt.Errorf("formatter for %s: formatter %q cannot store it (use one of: %s)", storageClass, override, strings.Join(sc.Formatters, ", "))
		}
		name = override
	}
	f, err := LookupFormatter(name)
	if err != nil {
		return nil, fmt.Errorf("formatter for %s: %w", storageClass, err)
	}
	return boundFormatter{sc: sc, f: f}, nil
}

// boundFormatter is a formatter used for one storage class.
type boundFormatter struct {
	sc *StorageClass
	f  Formatter
}

var _ Formatter = boundFormatter{}

func (b boundFormatter) Name() string      { return b.f.Name() }
func (b boundFormatter) Extension() string { return b.f.Extension() }

func (b boundFormatter) Write(obj any) ([]byte, error) {
	if err := b.sc.Check(obj); err != nil {
		return nil, fmt.Errorf("write %s with %s: %w", b.sc.Name, b.f.Name(), err)
	}
	data, err := b.f.Write(obj)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", b.sc.Name, err)
	}
	return data, nil
}

func (b boundFormatter) Read(data []byte) (any, error) {
	obj, err := b.f.Read(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", b.sc.Name, err)
	}
	if err := b.sc.Check(obj); err != nil {
		return nil, fmt.Errorf("read %s with %s: %w", b.sc.Name, b.f.Name(), err)
	}
	return obj, nil
}

// wrongType is the error of a formatter asked to write an object it cannot.
func wrongType(formatter string, obj any, want string) error {
	return fmt.Errorf("%w: formatter %s writes %s, got %s", ErrWrongType, formatter, want, typeName(obj))
}
