package registry

import (
	"context"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// Names of the provenance tables merge fills.
const (
	TableQuanta         = "quanta"
	TableQuantumInputs  = "quantum_inputs"
	TableQuantumOutputs = "quantum_outputs"
)

// quantaSchema: one row per executed quantum, with one nullable column per
// dimension for its data ID (like datasets).
func quantaSchema(u *dimensions.Universe) *Schema {
	cols := []Column{{"quantum_id", String}, {"graph_id", String}, {"task_label", String}, {"task_class", String},
		{"run", String}, {"status", String}, {"start", Timestamp}, {"end", Timestamp}, {"host", String},
		{"lambda_request_id", String}, {"max_rss", Int}, {"cpu_time", Float}, {"software_version", String},
		{"error_type", String}, {"error", String}, {"attempt", Int}}
	for _, name := range u.Names() {
		cols = append(cols, Column{Name: name, Type: columnType(u.KeyType(name))})
	}
	return NewSchema(TableQuanta, cols)
}

var (
	quantumInputsSchema = NewSchema(TableQuantumInputs, []Column{
		{"quantum_id", String}, {"dataset_id", String}, {"dataset_type", String}, {"connection", String},
		{"kind", String}, {"predicted", Bool}, {"available", Bool}, {"actual", Bool}, {"uri", String},
	})
	quantumOutputsSchema = NewSchema(TableQuantumOutputs, []Column{
		{"quantum_id", String}, {"dataset_id", String}, {"dataset_type", String}, {"connection", String},
		{"predicted", Bool}, {"actual", Bool}, {"uri", String},
	})
)

// QuantumRow is the registry's record of one executed quantum.
type QuantumRow struct {
	QuantumID, GraphID, TaskLabel, TaskClass, Run, Status string
	Start, End                                            time.Time
	Host, LambdaRequestID                                 string
	MaxRSS                                                int64
	CPUTime                                               float64
	SoftwareVersion, ErrorType, Error                     string
	Attempt                                               int64
	DataID                                                map[string]any
}

// QuantumInputRow is one predicted input of a quantum.
type QuantumInputRow struct {
	QuantumID, DatasetID, DatasetType, Connection, Kind string
	Available, Actual                                   bool
	URI                                                 string
}

// QuantumOutputRow is one predicted output of a quantum.
type QuantumOutputRow struct {
	QuantumID, DatasetID, DatasetType, Connection string
	Actual                                        bool
	URI                                           string
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertQuanta adds provenance rows in tx.
func InsertQuanta(tx *Tx, qs []QuantumRow, ins []QuantumInputRow, outs []QuantumOutputRow) error {
	sch, err := tx.Snapshot().reg.Schema(TableQuanta)
	if err != nil {
		return err
	}
	names := tx.Snapshot().reg.universe.Names()
	for _, q := range qs {
		row := Row{q.QuantumID, q.GraphID, q.TaskLabel, q.TaskClass, q.Run, q.Status, q.Start.UTC(), q.End.UTC(), q.Host,
			nilIfEmpty(q.LambdaRequestID), q.MaxRSS, q.CPUTime, q.SoftwareVersion, nilIfEmpty(q.ErrorType), nilIfEmpty(q.Error), q.Attempt}
		for _, n := range names {
			v, ok := q.DataID[n]
			if !ok {
				row = append(row, nil)
				continue
			}
			cv, err := dimensions.Coerce(tx.Snapshot().reg.universe.KeyType(n), v)
			if err != nil {
				return Errorf(ErrInvalid, "quantum %s data ID %s: %w", q.QuantumID, n, err)
			}
			row = append(row, cv)
		}
		if err := tx.Insert(sch.Name, row); err != nil {
			return err
		}
	}
	for _, in := range ins {
		if err := tx.Insert(TableQuantumInputs, Row{in.QuantumID, in.DatasetID, in.DatasetType, in.Connection, in.Kind, true, in.Available, in.Actual, in.URI}); err != nil {
			return err
		}
	}
	for _, o := range outs {
		if err := tx.Insert(TableQuantumOutputs, Row{o.QuantumID, o.DatasetID, o.DatasetType, o.Connection, true, o.Actual, o.URI}); err != nil {
			return err
		}
	}
	return nil
}

// QuantaRows returns the quanta rows of a graph ("" for every graph).
func (s *Snapshot) QuantaRows(graphID string) ([]QuantumRow, error) {
	sch, _ := s.reg.Schema(TableQuanta)
	rows, err := s.Rows(context.Background(), TableQuanta)
	if err != nil {
		return nil, err
	}
	names := s.reg.universe.Names()
	var out []QuantumRow
	for _, r := range rows {
		if graphID != "" && sch.Str(r, "graph_id") != graphID {
			continue
		}
		q := QuantumRow{QuantumID: sch.Str(r, "quantum_id"), GraphID: sch.Str(r, "graph_id"), TaskLabel: sch.Str(r, "task_label"),
			TaskClass: sch.Str(r, "task_class"), Run: sch.Str(r, "run"), Status: sch.Str(r, "status"), Host: sch.Str(r, "host"),
			LambdaRequestID: sch.Str(r, "lambda_request_id"), MaxRSS: sch.Int(r, "max_rss"), SoftwareVersion: sch.Str(r, "software_version"),
			ErrorType: sch.Str(r, "error_type"), Error: sch.Str(r, "error"), Attempt: sch.Int(r, "attempt"), DataID: map[string]any{}}
		q.Start, _ = sch.Get(r, "start").(time.Time)
		q.End, _ = sch.Get(r, "end").(time.Time)
		q.CPUTime, _ = sch.Get(r, "cpu_time").(float64)
		for _, n := range names {
			if v := sch.Get(r, n); v != nil {
				q.DataID[n] = v
			}
		}
		out = append(out, q)
	}
	return out, nil
}
