package delta

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/skybutler/skybutler/lib/registry"
)

// AppID is the appId of the txn action of every published version.
const AppID = "skybutler"

// Protocol versions of every published table: no table features.
const (
	MinReaderVersion = 1
	MinWriterVersion = 2
)

// Action is one line of a Delta log version: exactly one field is set.
type Action struct {
	CommitInfo *CommitInfo `json:"commitInfo,omitempty"`
	Protocol   *Protocol   `json:"protocol,omitempty"`
	MetaData   *MetaData   `json:"metaData,omitempty"`
	Txn        *Txn        `json:"txn,omitempty"`
	Remove     *Remove     `json:"remove,omitempty"`
	Add        *Add        `json:"add,omitempty"`
}

// Protocol is the protocol action.
type Protocol struct {
	MinReaderVersion int `json:"minReaderVersion"`
	MinWriterVersion int `json:"minWriterVersion"`
}

// Format is the file format of a table's data files.
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// MetaData is the metaData action.
type MetaData struct {
	ID               string            `json:"id"`
	Name             string            `json:"name,omitempty"`
	Description      string            `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      *int64            `json:"createdTime,omitempty"`
}

// Add is the add action. A nil partition value is a null partition.
type Add struct {
	Path             string             `json:"path"`
	PartitionValues  map[string]*string `json:"partitionValues"`
	Size             int64              `json:"size"`
	ModificationTime int64              `json:"modificationTime"`
	DataChange       bool               `json:"dataChange"`
	Stats            string             `json:"stats,omitempty"`
}

// Remove is the remove action.
type Remove struct {
	Path              string `json:"path"`
	DeletionTimestamp int64  `json:"deletionTimestamp"`
	DataChange        bool   `json:"dataChange"`
}

// Txn is the transaction identifier action: Version is the registry
// version the Delta version reflects.
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated int64  `json:"lastUpdated,omitempty"`
}

// CommitInfo is the provenance of a version; Skybutler ties it to the
// registry commit it mirrors.
type CommitInfo struct {
	Timestamp           int64             `json:"timestamp"`
	Operation           string            `json:"operation"`
	OperationParameters map[string]string `json:"operationParameters"`
	IsBlindAppend       bool              `json:"isBlindAppend"`
	EngineInfo          string            `json:"engineInfo"`
	Skybutler           *SkybutlerInfo    `json:"skybutler,omitempty"`
}

// SkybutlerInfo names the registry commit a Delta version mirrors.
type SkybutlerInfo struct {
	RegistryVersion   int64  `json:"registryVersion"`
	RegistryCommit    string `json:"registryCommit,omitempty"`
	RegistryOperation string `json:"registryOperation,omitempty"`
	SchemaHash        string `json:"schemaHash"`
}

// Stats is the per-file statistics object, JSON-encoded into Add.Stats.
type Stats struct {
	NumRecords int64 `json:"numRecords"`
}

// StructField and StructType are Spark's JSON schema representation, the
// format of MetaData.SchemaString.
type StructField struct {
	Name     string         `json:"name"`
	Type     string         `json:"type"`
	Nullable bool           `json:"nullable"`
	Metadata map[string]any `json:"metadata"`
}

// StructType is the top-level schema of a table.
type StructType struct {
	Type   string        `json:"type"`
	Fields []StructField `json:"fields"`
}

// SparkType is the Delta (Spark SQL) primitive type of a registry column
// type. Registry timestamps are Parquet TIMESTAMP(MICROS, isAdjustedToUTC),
// which is Delta's "timestamp".
func SparkType(t registry.ColumnType) (string, error) {
	switch t {
	case registry.String:
		return "string", nil
	case registry.Int:
		return "long", nil
	case registry.Float:
		return "double", nil
	case registry.Bool:
		return "boolean", nil
	case registry.Timestamp:
		return "timestamp", nil
	}
	return "", fmt.Errorf("column type %q has no Delta type", t)
}

// SchemaString is the schemaString of a registry table: every column
// nullable, in the registry's column order.
func SchemaString(sch *registry.Schema) (string, error) {
	st := StructType{Type: "struct", Fields: make([]StructField, 0, len(sch.Columns))}
	for _, c := range sch.Columns {
		t, err := SparkType(c.Type)
		if err != nil {
			return "", fmt.Errorf("table %s: %w", sch.Name, err)
		}
		st.Fields = append(st.Fields, StructField{Name: c.Name, Type: t, Nullable: true, Metadata: map[string]any{}})
	}
	data, err := json.Marshal(st)
	return string(data), err
}

func schemaHash(schemaString string) string {
	sum := sha256.Sum256([]byte(schemaString))
	return hex.EncodeToString(sum[:8])
}

// TableID is the metaData id of a table of the repository at storeURI: a
// UUIDv5, stable for the repository and table.
func TableID(storeURI, table string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(strings.TrimSuffix(storeURI, "/")+"/"+registry.TablesPrefix+table+"/")).String()
}

// TableDir is the key prefix of a table's directory (the Delta table root).
func TableDir(table string) string { return registry.TablesPrefix + table + "/" }

// LogPrefix is the key prefix of a table's Delta log.
func LogPrefix(table string) string { return TableDir(table) + "_delta_log/" }

// LogKey is the object key of Delta version v of a table.
func LogKey(table string, v int64) string { return fmt.Sprintf("%s%020d.json", LogPrefix(table), v) }

var logNameRE = regexp.MustCompile(`^(\d{20})\.json$`)

// logVersion parses the version out of a Delta log key of table; ok is
// false for other objects of the log (checkpoints, _last_checkpoint, ...).
func logVersion(table, key string) (int64, bool) {
	m := logNameRE.FindStringSubmatch(strings.TrimPrefix(key, LogPrefix(table)))
	if m == nil || !strings.HasPrefix(key, LogPrefix(table)) {
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	return v, err == nil
}

// EncodePath turns a registry data file key of table into the add/remove
// path: relative to the table directory, as an RFC 2396 URI.
func EncodePath(table, key string) string {
	rel := strings.TrimPrefix(key, TableDir(table))
	var b strings.Builder
	for i := 0; i < len(rel); i++ {
		c := rel[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~=/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// DecodePath is the inverse of EncodePath: the object key of a relative
// add/remove path of table.
func DecodePath(table, path string) (string, error) {
	rel, err := url.PathUnescape(path)
	if err != nil {
		return "", fmt.Errorf("delta path %q: %w", path, err)
	}
	return TableDir(table) + rel, nil
}

// registryNull is how the registry names a null partition value.
const registryNull = "__null__"

// partitionValues maps a registry file's partition onto Delta's, for the
// table's partition columns.
func partitionValues(sch *registry.Schema, part map[string]string) map[string]*string {
	out := make(map[string]*string, len(sch.PartitionBy))
	for _, c := range sch.PartitionBy {
		v, ok := part[c]
		if !ok || v == registryNull || v == "" {
			out[c] = nil
			continue
		}
		out[c] = &v
	}
	return out
}

// EncodeVersion serialises the actions of one version as newline-delimited
// JSON.
func EncodeVersion(actions []Action) ([]byte, error) {
	var buf bytes.Buffer
	for _, a := range actions {
		line, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// DecodeVersion parses the actions of one version. Unknown action kinds
// (cdc, domainMetadata, ...) are skipped; unknown fields are ignored.
func DecodeVersion(data []byte) ([]Action, error) {
	var out []Action
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var a Action
		if err := json.Unmarshal(line, &a); err != nil {
			return nil, fmt.Errorf("delta log line %.80q: %w", line, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}
