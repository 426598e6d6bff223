package datastore

// bytesFormatter stores []byte unchanged, as ".dat" files.
type bytesFormatter struct{}

var _ Formatter = bytesFormatter{}

func (bytesFormatter) Name() string      { return FormatterBytes }
func (bytesFormatter) Extension() string { return ".dat" }

// Write returns obj itself (not a copy).
func (bytesFormatter) Write(obj any) ([]byte, error) {
	b, ok := obj.([]byte)
	if !ok {
		return nil, wrongType(FormatterBytes, obj, "[]byte")
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// Read returns data itself (not a copy).
func (bytesFormatter) Read(data []byte) (any, error) {
	if data == nil {
		data = []byte{}
	}
	return data, nil
}
