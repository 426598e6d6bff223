package bench

// The peer of the dataset benchmarks: SQLite holding the schema daf_butler
// (the Rubin/LSST Gen3 Butler registry) creates for raw datasets, driven with
// the statements daf_butler issues, from Go. Python and SQLAlchemy overhead is
// absent, so the peer's numbers are a lower bound on daf_butler's real cost:
// a ratio that favours the peer overstates daf_butler, never understates it.
//
// Connection settings follow daf_butler's SqliteDatabase: foreign keys on,
// BEGIN IMMEDIATE transactions, the default rollback journal and
// synchronous=FULL (the file store of skybutler fsyncs every object it
// writes, so both sides pay for durability).

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver (cgo, the C SQLite library)
)

// peerTagsTable is daf_butler's tags table of the dimension group
// {instrument, detector, exposure} (dataset_tags_<dimensions_key>).
const peerTagsTable = "dataset_tags_00000001"

// peerNullComponent is daf_butler's stand-in for "no component" in
// file_datastore_records (the column is part of the primary key).
const peerNullComponent = "__NULL_STRING__"

// peerSchema is the daf_butler schema restricted to the tables a raw ingest
// and query-datasets touch. Every foreign key gets an index on its source
// columns, as daf_butler's ddl.ForeignKeySpec(addIndex=True) does; the tags
// table has daf_butler's primary key (dataset_id, collection_id) and unique
// constraint (dataset_type_id, collection_id, <required dimensions>).
var peerSchema = []string{
	`CREATE TABLE collection (
		collection_id INTEGER PRIMARY KEY AUTOINCREMENT,
		name VARCHAR(64) NOT NULL UNIQUE,
		type SMALLINT NOT NULL,
		doc TEXT)`,
	`CREATE TABLE run (
		collection_id INTEGER PRIMARY KEY REFERENCES collection (collection_id) ON DELETE CASCADE,
		host VARCHAR(128),
		timespan_begin BIGINT,
		timespan_end BIGINT)`,
	`CREATE TABLE collection_chain (
		parent BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
		position SMALLINT NOT NULL,
		child BIGINT NOT NULL REFERENCES collection (collection_id),
		PRIMARY KEY (parent, position))`,
	`CREATE INDEX collection_chain_fkidx_parent ON collection_chain (parent)`,
	`CREATE INDEX collection_chain_fkidx_child ON collection_chain (child)`,
	`CREATE TABLE dataset_type (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name VARCHAR(64) NOT NULL UNIQUE,
		storage_class VARCHAR(64) NOT NULL,
		dimensions_key BIGINT NOT NULL,
		tag_association_table VARCHAR(128) NOT NULL,
		calibration_association_table VARCHAR(128))`,
	`CREATE TABLE instrument (
		name VARCHAR(32) PRIMARY KEY,
		visit_max BIGINT, visit_system BIGINT, exposure_max BIGINT, detector_max BIGINT,
		class_name VARCHAR(64))`,
	`CREATE TABLE band (name VARCHAR(32) PRIMARY KEY)`,
	`CREATE TABLE physical_filter (
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		name VARCHAR(32) NOT NULL,
		band VARCHAR(32) NOT NULL REFERENCES band (name),
		PRIMARY KEY (instrument, name))`,
	`CREATE INDEX physical_filter_fkidx_instrument ON physical_filter (instrument)`,
	`CREATE INDEX physical_filter_fkidx_band ON physical_filter (band)`,
	`CREATE TABLE detector (
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		id BIGINT NOT NULL,
		full_name VARCHAR(32), name_in_raft VARCHAR(32), raft VARCHAR(32), purpose VARCHAR(32),
		PRIMARY KEY (instrument, id))`,
	`CREATE INDEX detector_fkidx_instrument ON detector (instrument)`,
	`CREATE TABLE day_obs (
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		id BIGINT NOT NULL,
		timespan_begin BIGINT, timespan_end BIGINT,
		PRIMARY KEY (instrument, id))`,
	`CREATE INDEX day_obs_fkidx_instrument ON day_obs (instrument)`,
	`CREATE TABLE "group" (
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		name VARCHAR(64) NOT NULL,
		PRIMARY KEY (instrument, name))`,
	`CREATE INDEX group_fkidx_instrument ON "group" (instrument)`,
	`CREATE TABLE exposure (
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		id BIGINT NOT NULL,
		physical_filter VARCHAR(32) NOT NULL,
		"group" VARCHAR(64) NOT NULL,
		day_obs BIGINT NOT NULL,
		obs_id VARCHAR(64) NOT NULL,
		exposure_time FLOAT, dark_time FLOAT,
		observation_type VARCHAR(16), observation_reason VARCHAR(68),
		target_name VARCHAR(64), science_program VARCHAR(64),
		tracking_ra FLOAT, tracking_dec FLOAT, sky_angle FLOAT, azimuth FLOAT, zenith_angle FLOAT,
		seq_num BIGINT, seq_start BIGINT, seq_end BIGINT,
		has_simulated BOOLEAN, can_see_sky BOOLEAN,
		timespan_begin BIGINT, timespan_end BIGINT,
		PRIMARY KEY (instrument, id),
		FOREIGN KEY (instrument, physical_filter) REFERENCES physical_filter (instrument, name),
		FOREIGN KEY (instrument, "group") REFERENCES "group" (instrument, name),
		FOREIGN KEY (instrument, day_obs) REFERENCES day_obs (instrument, id))`,
	`CREATE INDEX exposure_fkidx_instrument ON exposure (instrument)`,
	`CREATE INDEX exposure_fkidx_physical_filter ON exposure (instrument, physical_filter)`,
	`CREATE INDEX exposure_fkidx_group ON exposure (instrument, "group")`,
	`CREATE INDEX exposure_fkidx_day_obs ON exposure (instrument, day_obs)`,
	`CREATE TABLE collection_summary_dataset_type (
		collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
		dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (id) ON DELETE CASCADE,
		PRIMARY KEY (collection_id, dataset_type_id))`,
	`CREATE INDEX csdt_fkidx_dataset_type_id ON collection_summary_dataset_type (dataset_type_id)`,
	`CREATE TABLE collection_summary_instrument (
		collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
		instrument VARCHAR(32) NOT NULL REFERENCES instrument (name),
		PRIMARY KEY (collection_id, instrument))`,
	`CREATE INDEX csi_fkidx_instrument ON collection_summary_instrument (instrument)`,
	`CREATE TABLE dataset (
		id CHAR(32) PRIMARY KEY,
		dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (id),
		ingest_date TIMESTAMP NOT NULL,
		run_id BIGINT NOT NULL REFERENCES run (collection_id) ON DELETE CASCADE)`,
	`CREATE INDEX dataset_fkidx_dataset_type_id ON dataset (dataset_type_id)`,
	`CREATE INDEX dataset_fkidx_run_id ON dataset (run_id)`,
	`CREATE TABLE ` + peerTagsTable + ` (
		dataset_type_id BIGINT NOT NULL REFERENCES dataset_type (id),
		dataset_id CHAR(32) NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
		collection_id BIGINT NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
		instrument VARCHAR(32) NOT NULL,
		detector BIGINT NOT NULL,
		exposure BIGINT NOT NULL,
		PRIMARY KEY (dataset_id, collection_id),
		UNIQUE (dataset_type_id, collection_id, instrument, detector, exposure),
		FOREIGN KEY (collection_id, dataset_type_id) REFERENCES collection_summary_dataset_type (collection_id, dataset_type_id),
		FOREIGN KEY (collection_id, instrument) REFERENCES collection_summary_instrument (collection_id, instrument),
		FOREIGN KEY (instrument) REFERENCES instrument (name),
		FOREIGN KEY (instrument, detector) REFERENCES detector (instrument, id),
		FOREIGN KEY (instrument, exposure) REFERENCES exposure (instrument, id))`,
	`CREATE INDEX tags_fkidx_dataset_type_id ON ` + peerTagsTable + ` (dataset_type_id)`,
	`CREATE INDEX tags_fkidx_dataset_id ON ` + peerTagsTable + ` (dataset_id)`,
	`CREATE INDEX tags_fkidx_collection_id ON ` + peerTagsTable + ` (collection_id)`,
	`CREATE INDEX tags_fkidx_summary_dt ON ` + peerTagsTable + ` (collection_id, dataset_type_id)`,
	`CREATE INDEX tags_fkidx_summary_instrument ON ` + peerTagsTable + ` (collection_id, instrument)`,
	`CREATE INDEX tags_fkidx_instrument ON ` + peerTagsTable + ` (instrument)`,
	`CREATE INDEX tags_fkidx_detector ON ` + peerTagsTable + ` (instrument, detector)`,
	`CREATE INDEX tags_fkidx_exposure ON ` + peerTagsTable + ` (instrument, exposure)`,
	`CREATE TABLE file_datastore_records (
		dataset_id CHAR(32) NOT NULL,
		path VARCHAR(256) NOT NULL,
		formatter VARCHAR(128) NOT NULL,
		storage_class VARCHAR(64) NOT NULL,
		component VARCHAR(32) NOT NULL,
		checksum VARCHAR(128),
		file_size BIGINT,
		PRIMARY KEY (dataset_id, component))`,
}

type sqlTx = sql.Tx

// daf_butler's CollectionType values.
const (
	peerRun     = 1
	peerChained = 3
)

// openPeerDB opens (creating) a SQLite database file with daf_butler's
// connection settings.
func openPeerDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=1&_busy_timeout=300000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// peerRepo is a daf_butler-style SQLite registry.
type peerRepo struct {
	db     *sql.DB
	path   string
	dtID   int64
	colIDs map[string]int64
}

// createPeer creates the schema, the instrument with its detectors and
// filters, the raw dataset type, the given RUN collections and, when chain
// is not empty, a CHAINED collection chainName searching them in that order.
func createPeer(ctx context.Context, path string, fx *fixture, runs []string, chainName string, chain []string) (*peerRepo, error) {
	db, err := openPeerDB(path)
	if err != nil {
		return nil, err
	}
	p := &peerRepo{db: db, path: path, colIDs: map[string]int64{}}
	err = p.tx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range peerSchema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", firstLine(stmt), err)
			}
		}
		exec := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, q, args...)
			return err
		}
		if err := exec(`INSERT INTO instrument (name, detector_max, class_name) VALUES (?, ?, ?)`, fx.instrument, 7, "skybutler.instruments.SPHEREx"); err != nil {
			return err
		}
		for d := 1; d <= detectorsPerExposure; d++ {
			if err := exec(`INSERT INTO band (name) VALUES (?)`, fmt.Sprintf("spx%d", d)); err != nil {
				return err
			}
			if err := exec(`INSERT INTO physical_filter (instrument, name, band) VALUES (?, ?, ?)`, fx.instrument, fmt.Sprintf("SPHEREx-D%d", d), fmt.Sprintf("spx%d", d)); err != nil {
				return err
			}
			if err := exec(`INSERT INTO detector (instrument, id, full_name, purpose) VALUES (?, ?, ?, ?)`, fx.instrument, d, fmt.Sprintf("SPHEREx-D%d", d), "SCIENCE"); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO dataset_type (name, storage_class, dimensions_key, tag_association_table) VALUES (?, ?, 1, ?)`,
			fx.datasetType.Name, fx.storageClass, peerTagsTable)
		if err != nil {
			return err
		}
		if p.dtID, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, r := range runs {
			res, err := tx.ExecContext(ctx, `INSERT INTO collection (name, type) VALUES (?, ?)`, r, peerRun)
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			p.colIDs[r] = id
			if err := exec(`INSERT INTO run (collection_id) VALUES (?)`, id); err != nil {
				return err
			}
			if err := exec(`INSERT INTO collection_summary_dataset_type (collection_id, dataset_type_id) VALUES (?, ?)`, id, p.dtID); err != nil {
				return err
			}
			if err := exec(`INSERT INTO collection_summary_instrument (collection_id, instrument) VALUES (?, ?)`, id, fx.instrument); err != nil {
				return err
			}
		}
		if len(chain) > 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO collection (name, type) VALUES (?, ?)`, chainName, peerChained)
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			p.colIDs[chainName] = id
			for i, c := range chain {
				if err := exec(`INSERT INTO collection_chain (parent, position, child) VALUES (?, ?, ?)`, id, i, p.colIDs[c]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("create peer: %w", err)
	}
	return p, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func (p *peerRepo) close() error { return p.db.Close() }

// tx runs fn in one BEGIN IMMEDIATE transaction.
func (p *peerRepo) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// peerInsert holds the prepared statements of an ingest transaction.
type peerInsert struct {
	dayObs, group, exposure, datasetStmt, tags, files *sql.Stmt
	p                                                 *peerRepo
	now                                               time.Time
}

func (p *peerRepo) prepareInsert(ctx context.Context, tx *sql.Tx) (*peerInsert, error) {
	ins := &peerInsert{p: p, now: time.Now().UTC()}
	var err error
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = tx.PrepareContext(ctx, q)
		return s
	}
	// Dimension records: daf_butler's sync/insert of the records a raw
	// brings; an identical record already present is left alone.
	ins.dayObs = prep(`INSERT INTO day_obs (instrument, id, timespan_begin, timespan_end) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	ins.group = prep(`INSERT INTO "group" (instrument, name) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	ins.exposure = prep(`INSERT INTO exposure (instrument, id, physical_filter, "group", day_obs, obs_id, exposure_time, dark_time,
		observation_type, can_see_sky, has_simulated, timespan_begin, timespan_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	ins.datasetStmt = prep(`INSERT INTO dataset (id, dataset_type_id, ingest_date, run_id) VALUES (?, ?, ?, ?)`)
	ins.tags = prep(`INSERT INTO ` + peerTagsTable + ` (dataset_type_id, dataset_id, collection_id, instrument, detector, exposure) VALUES (?, ?, ?, ?, ?, ?)`)
	ins.files = prep(`INSERT INTO file_datastore_records (dataset_id, path, formatter, storage_class, component, checksum, file_size) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		ins.close()
		return nil, err
	}
	return ins, nil
}

func (ins *peerInsert) close() {
	for _, s := range []*sql.Stmt{ins.dayObs, ins.group, ins.exposure, ins.datasetStmt, ins.tags, ins.files} {
		if s != nil {
			s.Close()
		}
	}
}

// records inserts the day_obs, group and exposure records of an exposure.
func (ins *peerInsert) records(ctx context.Context, fx *fixture, e expInfo) error {
	if _, err := ins.dayObs.ExecContext(ctx, fx.instrument, e.dayObs, e.dayBegin.UnixNano(), e.dayEnd.UnixNano()); err != nil {
		return fmt.Errorf("day_obs: %w", err)
	}
	if _, err := ins.group.ExecContext(ctx, fx.instrument, e.group); err != nil {
		return fmt.Errorf("group: %w", err)
	}
	if _, err := ins.exposure.ExecContext(ctx, fx.instrument, e.id, e.physicalFilter, e.group, e.dayObs, e.obsID, e.exposureTime, e.exposureTime,
		"science", true, false, e.begin.UnixNano(), e.end.UnixNano()); err != nil {
		return fmt.Errorf("exposure: %w", err)
	}
	return nil
}

// dataset inserts one dataset of run with its tag row and datastore record.
func (ins *peerInsert) dataset(ctx context.Context, fx *fixture, run string, d datasetInfo) error {
	p := ins.p
	runID := p.colIDs[run]
	id := strings.ReplaceAll(d.id, "-", "") // daf_butler's GUID on SQLite: 32 hex characters
	if _, err := ins.datasetStmt.ExecContext(ctx, id, p.dtID, ins.now, runID); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if _, err := ins.tags.ExecContext(ctx, p.dtID, id, runID, fx.instrument, d.detector, d.exposure); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if _, err := ins.files.ExecContext(ctx, id, d.uri, fx.formatter, fx.storageClass, peerNullComponent, d.checksum, d.size); err != nil {
		return fmt.Errorf("file record: %w", err)
	}
	return nil
}

// peerRef is one result row of a peer query: what daf_butler's
// query-datasets returns (dataset ID, run, data ID with implied values).
type peerRef struct {
	id, run, instrument   string
	detector, exposure    int64
	physicalFilter, group string
	dayObs                int64
}

// peerQuery is a query-datasets call: one dataset type, a search path,
// a where clause on tag-table columns (t.*) and find-first.
type peerQuery struct {
	collections []string
	where       string
	args        []any
	findFirst   bool
}

// resolve flattens a search path into collection IDs, reading the
// collection tables (daf_butler caches these in memory after the first
// read; a cold query reads them).
func resolvePeerCollections(ctx context.Context, db *sql.DB, names []string) ([]int64, error) {
	var out []int64
	var walk func(name string, depth int) error
	walk = func(name string, depth int) error {
		if depth > 100 {
			return fmt.Errorf("collection chain too deep at %s", name)
		}
		var id, typ int64
		if err := db.QueryRowContext(ctx, `SELECT collection_id, type FROM collection WHERE name = ?`, name).Scan(&id, &typ); err != nil {
			return fmt.Errorf("collection %s: %w", name, err)
		}
		if typ != peerChained {
			out = append(out, id)
			return nil
		}
		rows, err := db.QueryContext(ctx, `SELECT c.name FROM collection_chain ch JOIN collection c ON c.collection_id = ch.child WHERE ch.parent = ? ORDER BY ch.position`, id)
		if err != nil {
			return err
		}
		var children []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			children = append(children, n)
		}
		rows.Close()
		for _, c := range children {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := walk(n, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// peerQueryDatasets runs a query the way daf_butler's query system does for
// one dataset type: the tags table joined to dataset (for the ID), to the
// run's collection row (for its name) and to the exposure record (for the
// implied values of the data ID), constrained by dataset type, collections
// and the data-ID where clause; find-first ranks rows by search-path
// position with a window function and keeps rank 1.
// peerSQL resolves the collections of q and returns its SQL statement.
func peerSQL(ctx context.Context, db *sql.DB, dtID int64, q peerQuery) (string, []any, error) {
	ids, err := resolvePeerCollections(ctx, db, q.collections)
	if err != nil {
		return "", nil, err
	}
	var args []any
	inList := make([]string, len(ids))
	rank := &strings.Builder{}
	rank.WriteString("CASE t.collection_id")
	for i, id := range ids {
		inList[i] = "?"
		fmt.Fprintf(rank, " WHEN %d THEN %d", id, i)
	}
	rank.WriteString(" END")
	args = append(args, dtID)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, q.args...)
	base := `SELECT d.id AS id, c.name AS run, t.instrument AS instrument, t.detector AS detector, t.exposure AS exposure,
			e.physical_filter AS physical_filter, e."group" AS grp, e.day_obs AS day_obs, ` + rank.String() + ` AS rank
		FROM ` + peerTagsTable + ` AS t
		JOIN dataset AS d ON d.id = t.dataset_id
		JOIN collection AS c ON c.collection_id = d.run_id
		JOIN exposure AS e ON e.instrument = t.instrument AND e.id = t.exposure
		WHERE t.dataset_type_id = ? AND t.collection_id IN (` + strings.Join(inList, ", ") + `) AND (` + q.where + `)`
	var stmt string
	if q.findFirst {
		stmt = `SELECT id, run, instrument, detector, exposure, physical_filter, grp, day_obs FROM (
			SELECT *, ROW_NUMBER() OVER (PARTITION BY instrument, detector, exposure ORDER BY rank) AS rownum FROM (` + base + `)
		) WHERE rownum = 1 ORDER BY rank`
	} else {
		stmt = `SELECT id, run, instrument, detector, exposure, physical_filter, grp, day_obs FROM (` + base + `) ORDER BY rank`
	}
	return stmt, args, nil
}

func peerQueryDatasets(ctx context.Context, db *sql.DB, dtID int64, q peerQuery) ([]peerRef, error) {
	stmt, args, err := peerSQL(ctx, db, dtID, q)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []peerRef
	for rows.Next() {
		var r peerRef
		if err := rows.Scan(&r.id, &r.run, &r.instrument, &r.detector, &r.exposure, &r.physicalFilter, &r.group, &r.dayObs); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
