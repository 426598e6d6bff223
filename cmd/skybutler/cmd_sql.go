package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/delta"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// addSQL registers the SQL commands: sql (DuckDB over the live files of the
// current registry version), publish-delta (the Delta Lake logs Athena
// reads) and athena-ddl (the Glue/Athena tables over them). DuckDB is linked
// into the CLI only.
func (a *app) addSQL(root *cobra.Command) {
	var format string
	sqlCmd := &cobra.Command{
		Use:   "sql REPO QUERY",
		Short: "Run a SQL query (DuckDB) over the registry tables of the current version",
		Long: `Run one SQL query with DuckDB over the registry tables. Every registry table
is a view over exactly the live Parquet files of the current registry version
(datasets, files, collections, collection_chains, dataset_types, tags, calibs,
quanta, quantum_inputs, quantum_outputs, txn, dimension_<element>). Files of
remote (s3://) repositories are downloaded once into the local cache.`,
		Example: `  skybutler sql REPO "SELECT dataset_type, run, count(*) FROM datasets GROUP BY ALL ORDER BY ALL"
  skybutler sql REPO "SELECT task_label, error FROM quanta WHERE status = 'failed'" --format json`,
		Args: exactArgsUsage(2, `skybutler sql REPO "SELECT ..." [--format table|csv|json]`),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "table" && format != "csv" && format != "json" {
				return fmt.Errorf("--format %q: want table, csv or json", format)
			}
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			t, err := runSQL(cmd.Context(), b, args[1])
			if err != nil {
				return err
			}
			if format == "csv" {
				return printCSV(a.out, t)
			}
			return printTable(a.out, format, t)
		},
	}
	sqlCmd.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	root.AddCommand(sqlCmd)

	var pubFormat string
	pub := &cobra.Command{
		Use:   "publish-delta REPO",
		Short: "Bring the Delta Lake log of every registry table up to the current version (for Athena)",
		Args:  exactArgsUsage(1, "skybutler publish-delta REPO"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			st, err := delta.Publish(cmd.Context(), b.Store, b.Registry)
			if err != nil {
				return err
			}
			if pubFormat == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			fmt.Fprintln(a.out, describePublish(st))
			return nil
		},
	}
	pub.Flags().StringVar(&pubFormat, "format", "", "json: print the statistics as JSON")
	root.AddCommand(pub)

	var database, location string
	ddl := &cobra.Command{
		Use:   "athena-ddl REPO --database DB [--location s3://BUCKET/PREFIX]",
		Short: "Print the Athena CREATE EXTERNAL TABLE statements for the registry tables (Delta Lake)",
		Long: `Print one Athena statement per registry table that has a Delta Lake log:
CREATE EXTERNAL TABLE DB.TABLE LOCATION '.../registry/tables/TABLE/'
TBLPROPERTIES ('table_type' = 'DELTA'). Athena takes columns and partitions
from the Delta log, so the statements name none. Run skybutler publish-delta
(or compact) first, and again whenever the registry changed.`,
		Args: exactArgsUsage(1, "skybutler athena-ddl REPO --database DB [--location s3://BUCKET/PREFIX]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.athenaDDL(cmd, args[0], database, location)
		},
	}
	ddl.Flags().StringVar(&database, "database", "", "Athena (Glue) database name (required)")
	ddl.Flags().StringVar(&location, "location", "", "s3:// URI of the repository root (default: REPO, if it is on S3)")
	root.AddCommand(ddl)
}

// describePublish is the one-line report of a Delta publish.
func describePublish(st delta.PublishStats) string {
	var b strings.Builder
	if st.Commits == 0 {
		fmt.Fprintf(&b, "Delta logs are up to date (registry version %d).", st.RegistryVersion)
	} else {
		fmt.Fprintf(&b, "Published %d Delta versions to %d tables (%d adds, %d removes), through registry version %d.",
			st.Commits, len(st.Tables), st.Adds, st.Removes, st.RegistryVersion)
	}
	if len(st.Skipped) > 0 {
		fmt.Fprintf(&b, " Not published (unknown to this version of skybutler): %s.", strings.Join(st.Skipped, ", "))
	}
	return b.String()
}

// runSQL runs one query against views over the live files of the current
// registry version.
func runSQL(ctx context.Context, b *butler.Butler, query string) (table, error) {
	snap := b.Registry.Current()
	schemas := b.Registry.Schemas()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range schemas {
			if !yield(n) {
				return
			}
		}
	})
	var all []registry.FileEntry
	for _, n := range names {
		all = append(all, snap.Files(n)...)
	}
	local, err := localFiles(ctx, b.Store, all)
	if err != nil {
		return table{}, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return table{}, fmt.Errorf("sql: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one in-memory database, one connection: the views stay visible
	// Timestamps are TIMESTAMP WITH TIME ZONE; show and compare them in UTC.
	_, _ = db.ExecContext(ctx, "SET TimeZone = 'UTC'")
	for _, n := range names {
		var paths []string
		for _, f := range snap.Files(n) {
			paths = append(paths, local[f.Path])
		}
		if _, err := db.ExecContext(ctx, viewSQL(schemas[n], paths)); err != nil {
			return table{}, fmt.Errorf("sql: create view %s: %w", n, err)
		}
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return table{}, fmt.Errorf("sql: %s", compactLines(err.Error()))
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return table{}, fmt.Errorf("sql: %w", err)
	}
	t := table{cols: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return table{}, fmt.Errorf("sql: %w", err)
		}
		for i, v := range vals {
			vals[i] = sqlValue(v)
		}
		t.rows = append(t.rows, vals)
	}
	if err := rows.Err(); err != nil {
		return table{}, fmt.Errorf("sql: %w", err)
	}
	return t, nil
}

// compactLines joins the non-blank lines of a multi-line DuckDB message.
func compactLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}

// duckType is the DuckDB type a registry column reads as from its Parquet
// files (timestamps are stored adjusted to UTC).
func duckType(t registry.ColumnType) string {
	switch t {
	case registry.Int:
		return "BIGINT"
	case registry.Float:
		return "DOUBLE"
	case registry.Bool:
		return "BOOLEAN"
	case registry.Timestamp:
		return "TIMESTAMP WITH TIME ZONE"
	default:
		return "VARCHAR"
	}
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// viewSQL defines a table's view: a typed empty relation with every schema
// column, in schema order, united by name with the table's live files. So an
// empty table still has its columns, and a column that older files lack
// reads as NULL.
func viewSQL(sch *registry.Schema, paths []string) string {
	var cols []string
	for _, c := range sch.Columns {
		cols = append(cols, fmt.Sprintf("CAST(NULL AS %s) AS %s", duckType(c.Type), quoteIdent(c.Name)))
	}
	empty := "SELECT " + strings.Join(cols, ", ") + " WHERE false"
	if len(paths) == 0 {
		return fmt.Sprintf("CREATE VIEW %s AS %s", quoteIdent(sch.Name), empty)
	}
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = quoteString(filepath.ToSlash(p))
	}
	return fmt.Sprintf("CREATE VIEW %s AS %s UNION ALL BY NAME SELECT * FROM read_parquet([%s], union_by_name = true)",
		quoteIdent(sch.Name), empty, strings.Join(quoted, ", "))
}

// localFiles returns a local path for each data file: in place for a file://
// repository, else a copy in the cache directory (data files are immutable,
// so a cached copy never goes stale).
func localFiles(ctx context.Context, store objstore.Store, files []registry.FileEntry) (map[string]string, error) {
	out := make(map[string]string, len(files))
	if root, ok := strings.CutPrefix(store.URI(), "file://"); ok {
		for _, f := range files {
			out[f.Path] = filepath.Join(filepath.FromSlash(root), filepath.FromSlash(f.Path))
		}
		return out, nil
	}
	sum := sha256.Sum256([]byte(store.URI()))
	dir := filepath.Join(butler.CacheDir(), hex.EncodeToString(sum[:8])) // the registry's cache layout
	var missing []registry.FileEntry
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		out[f.Path] = p
		if st, err := os.Stat(p); err != nil || st.Size() != f.Size {
			missing = append(missing, f)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	for _, f := range missing {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := download(ctx, store, f.Path, out[f.Path]); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

func download(ctx context.Context, store objstore.Store, key, path string) error {
	data, err := store.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("sql: read %s: %w", key, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("sql: cache %s: %w", key, err)
	}
	tmp := path + ".tmp-" + uuid.NewString()
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("sql: cache %s: %w", key, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sql: cache %s: %w", key, err)
	}
	return nil
}

// sqlValue turns a value DuckDB returns into one printTable and JSON show
// plainly.
func sqlValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case duckdb.UUID:
		return x.String()
	case *duckdb.UUID:
		if x == nil {
			return nil
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d µs", x.Months, x.Days, x.Micros)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case []any:
		for i := range x {
			x[i] = sqlValue(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = sqlValue(x[k])
		}
		return x
	}
	return v
}

// printCSV writes a query result as CSV with a header line.
func printCSV(w io.Writer, t table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.cols); err != nil {
		return err
	}
	for _, r := range t.rows {
		rec := make([]string, len(r))
		for i, v := range r {
			switch x := v.(type) {
			case []any, map[string]any:
				data, _ := json.Marshal(x)
				rec[i] = string(data)
			default:
				rec[i] = cellText(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

var athenaNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

func (a *app) athenaDDL(cmd *cobra.Command, uri, database, location string) error {
	database = strings.ToLower(database)
	if database == "" {
		return errors.New("athena-ddl: --database is required")
	}
	if !athenaNameRE.MatchString(database) {
		return fmt.Errorf("athena-ddl: --database %q: Athena names are lowercase letters, digits and _", database)
	}
	b, err := a.open(cmd, uri)
	if err != nil {
		return err
	}
	if location == "" {
		if !strings.HasPrefix(b.URI, "s3://") {
			return fmt.Errorf("athena-ddl: %s is not on S3: give --location s3://BUCKET/PREFIX (where the repository is copied)", b.URI)
		}
		location = b.URI
	}
	if !strings.HasPrefix(location, "s3://") {
		return fmt.Errorf("athena-ddl: --location %q: want s3://BUCKET/PREFIX", location)
	}
	location = strings.TrimSuffix(location, "/")
	ctx := cmd.Context()
	snap := b.Registry.Current()
	live := map[string]bool{}
	for _, t := range snap.Tables() {
		live[t] = true
	}
	var tables, unpublished []string
	for _, t := range slices.Sorted(func(yield func(string) bool) {
		for n := range b.Registry.Schemas() {
			if !yield(n) {
				return
			}
		}
	}) {
		_, err := b.Store.Stat(ctx, delta.LogKey(t, 0))
		switch {
		case err == nil:
			tables = append(tables, t)
		case errors.Is(err, objstore.ErrNotFound):
			if live[t] {
				unpublished = append(unpublished, t)
			}
		default:
			return fmt.Errorf("athena-ddl: %w", err)
		}
	}
	if len(tables) == 0 {
		return fmt.Errorf("athena-ddl: %s has no Delta logs yet: run skybutler publish-delta %s first", b.URI, uri)
	}
	if len(unpublished) > 0 {
		fmt.Fprintf(a.errOut, "warning: not yet published (run skybutler publish-delta): %s\n", strings.Join(unpublished, ", "))
	}
	fmt.Fprintf(a.out, "-- Athena tables over the Delta Lake logs of %s (registry version %d).\n", b.URI, snap.Version)
	fmt.Fprintf(a.out, "-- Run one statement at a time. Columns and partitions come from the Delta logs.\n")
	fmt.Fprintf(a.out, "CREATE DATABASE IF NOT EXISTS %s;\n", database)
	for _, t := range tables {
		fmt.Fprintf(a.out, "\nCREATE EXTERNAL TABLE %s.%s\nLOCATION '%s/%s'\nTBLPROPERTIES ('table_type' = 'DELTA');\n",
			database, t, location, delta.TableDir(t))
	}
	return nil
}
