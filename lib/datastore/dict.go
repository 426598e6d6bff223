package datastore

// Dict is a nested mapping: the in-memory type of StructuredDataDict,
// Config, TaskMetadata and ButlerLogRecords. Values are nil, bool, int64,
// float64, string, []any and map[string]any (what the JSON and YAML
// formatters read back); writing accepts anything encoding/json and
// gopkg.in/yaml.v3 can marshal.
type Dict map[string]any
