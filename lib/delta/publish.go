package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// StateKey is the object that records how far the Delta logs are published
// (a hint; the logs themselves are the truth).
const StateKey = "registry/_delta_state.json"

// chunk bounds how many registry commits are held in memory at once.
const chunk = 1000

// PublishStats reports what one Publish call wrote.
type PublishStats struct {
	// RegistryVersion: every table's Delta log reflects this registry
	// version when Publish returns.
	RegistryVersion int64 `json:"registry_version"`
	// Commits: Delta versions written by this call, over all tables.
	Commits int `json:"commits"`
	// Tables: Delta versions written per table.
	Tables map[string]int `json:"tables,omitempty"`
	Adds   int            `json:"adds"`
	// Removes counts remove actions written.
	Removes int `json:"removes"`
	// Raced: versions another publisher wrote first (adopted, not rewritten).
	Raced int `json:"raced"`
	// Skipped: tables this build has no schema for (left unpublished).
	Skipped []string `json:"skipped,omitempty"`
}

// state is the content of StateKey.
type state struct {
	Version int64                `json:"version"` // published through
	Tables  map[string]tableHint `json:"tables"`
}

type tableHint struct {
	Delta      int64  `json:"delta_version"`
	Registry   int64  `json:"registry_version"`
	SchemaHash string `json:"schema_hash"`
}

// tableState is what a publisher knows of one table's Delta log.
type tableState struct {
	delta      int64  // newest Delta version, -1: no log yet
	registry   int64  // registry version it reflects, -1: none (only version 0)
	schemaHash string // hash of the newest metaData's schemaString
	id         string // metaData id, once read or written
}

type publisher struct {
	store  objstore.Store
	reg    *registry.Registry
	log    *slog.Logger
	hint   *state
	tables map[string]*tableState
	stats  PublishStats
}

var errStaleHint = errors.New("delta state marker disagrees with the Delta logs")

// Publish brings the Delta log of every registry table up to the newest
// registry version: it reads the registry commits after the last published
// version (registry/_delta_state.json, checked against the logs) and writes
// one Delta version per table each commit touched. It is idempotent and
// resumable, and safe to run concurrently with writers and with other
// publishers. Call it after compaction (skybutler compact does), from a
// scheduled function, or after merge/ingest; it is never on a writer's
// commit path.
func Publish(ctx context.Context, store objstore.Store, reg *registry.Registry) (PublishStats, error) {
	st, err := publish(ctx, store, reg, true)
	if errors.Is(err, errStaleHint) {
		slog.Default().Warn("delta: state marker is stale, rescanning the Delta logs", "err", err)
		st, err = publish(ctx, store, reg, false)
	}
	return st, err
}

func publish(ctx context.Context, store objstore.Store, reg *registry.Registry, useHint bool) (PublishStats, error) {
	p := &publisher{store: store, reg: reg, log: slog.Default(), tables: map[string]*tableState{},
		stats: PublishStats{Tables: map[string]int{}}}
	snap, err := reg.Refresh(ctx)
	if err != nil {
		return p.stats, fmt.Errorf("publish delta: %w", err)
	}
	head := snap.Version
	p.stats.RegistryVersion = head
	start := int64(0)
	if useHint {
		p.hint, err = readState(ctx, store)
		if err != nil {
			return p.stats, err
		}
		if p.hint != nil {
			start = p.hint.Version + 1
		}
	}
	for from := start; from <= head; {
		to := min(from+chunk-1, head)
		commits, err := reg.Commits(ctx, from, to)
		if errors.Is(err, registry.ErrNotFound) {
			// The log before a checkpoint was deleted: start from it.
			next, cerr := p.catchUp(ctx, from)
			if cerr != nil {
				return p.stats, fmt.Errorf("publish delta: %w (and %w)", err, cerr)
			}
			from = next
			continue
		}
		if err != nil {
			return p.stats, fmt.Errorf("publish delta: %w", err)
		}
		for _, c := range commits {
			for _, te := range c.Tables {
				if err := p.publishCommit(ctx, c, te); err != nil {
					return p.stats, fmt.Errorf("publish delta: table %s, registry version %d: %w", te.Table, c.Version, err)
				}
			}
		}
		from = to + 1
	}
	if len(p.stats.Skipped) > 0 {
		// The marker must not claim those tables published: a skybutler that
		// knows them would start their logs after it.
		return p.stats, nil
	}
	if err := p.writeState(ctx, head, !useHint); err != nil {
		p.log.Warn("delta: could not update the state marker", "key", StateKey, "err", err)
	}
	return p.stats, nil
}

// schema returns a table's schema and its schemaString, or ok=false for a
// table this build does not know.
func (p *publisher) schema(table string) (*registry.Schema, string, bool, error) {
	sch, err := p.reg.Schema(table)
	if err != nil {
		return nil, "", false, nil
	}
	s, err := SchemaString(sch)
	return sch, s, err == nil, err
}

func (p *publisher) skip(table string) {
	if !slices.Contains(p.stats.Skipped, table) {
		p.stats.Skipped = append(p.stats.Skipped, table)
		p.log.Warn("delta: no schema for table, not published", "table", table)
	}
}

// publishCommit writes the Delta version mirroring registry commit c for
// table te.Table, unless it is published already.
func (p *publisher) publishCommit(ctx context.Context, c *registry.Commit, te registry.TableEdit) error {
	sch, schemaString, ok, err := p.schema(te.Table)
	if err != nil {
		return err
	}
	if !ok {
		p.skip(te.Table)
		return nil
	}
	ts, err := p.tableState(ctx, te.Table)
	if err != nil {
		return err
	}
	if c.Version <= ts.registry {
		return nil
	}
	if err := p.ensureCreated(ctx, sch, schemaString, ts, c.Time); err != nil {
		return err
	}
	build := func(ts *tableState) ([]Action, error) {
		return p.commitActions(ctx, sch, schemaString, ts, c, te)
	}
	return p.write(ctx, te.Table, ts, c.Version, build)
}

// write puts the next version of a table with PutIfAbsent; on losing the
// race it adopts the version found there and tries again after it, until
// the table reflects registry version target.
func (p *publisher) write(ctx context.Context, table string, ts *tableState, target int64, build func(*tableState) ([]Action, error)) error {
	for ts.registry < target {
		actions, err := build(ts)
		if err != nil {
			return err
		}
		data, err := EncodeVersion(actions)
		if err != nil {
			return err
		}
		v := ts.delta + 1
		key := LogKey(table, v)
		_, err = p.store.PutIfAbsent(ctx, key, data)
		if err == nil {
			ts.delta = v
			ts.registry = target
			for _, a := range actions {
				switch {
				case a.Add != nil:
					p.stats.Adds++
				case a.Remove != nil:
					p.stats.Removes++
				case a.MetaData != nil:
					ts.schemaHash = schemaHash(a.MetaData.SchemaString)
				}
			}
			p.stats.Commits++
			p.stats.Tables[table]++
			continue
		}
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return fmt.Errorf("write %s: %w", key, err)
		}
		// Someone else wrote this version: adopt it.
		theirs, err := p.store.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("read %s after losing it: %w", key, err)
		}
		info, err := versionInfo(theirs)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		p.stats.Raced++
		if info.registry <= ts.registry {
			return fmt.Errorf("%s reflects registry version %d, not after version %d of the version before it", key, info.registry, ts.registry)
		}
		if info.registry == target && !bytes.Equal(theirs, data) {
			p.log.Debug("delta: a concurrent publisher wrote the same registry commit differently", "key", key)
		}
		ts.delta = v
		ts.registry = info.registry
		if info.schemaHash != "" {
			ts.schemaHash = info.schemaHash
		}
	}
	return nil
}

// ensureCreated writes version 0 (protocol and metaData) of a table without
// a log.
func (p *publisher) ensureCreated(ctx context.Context, sch *registry.Schema, schemaString string, ts *tableState, created time.Time) error {
	if ts.delta >= 0 {
		return nil
	}
	ms := created.UnixMilli()
	ts.id = TableID(p.store.URI(), sch.Name)
	actions := []Action{
		{CommitInfo: &CommitInfo{Timestamp: ms, Operation: "CREATE TABLE", EngineInfo: AppID,
			OperationParameters: map[string]string{"isManaged": "false", "description": "skybutler registry table " + sch.Name,
				"partitionBy": jsonString(partitionColumns(sch))},
			Skybutler: &SkybutlerInfo{RegistryVersion: -1, SchemaHash: schemaHash(schemaString)}}},
		{Protocol: &Protocol{MinReaderVersion: MinReaderVersion, MinWriterVersion: MinWriterVersion}},
		{MetaData: p.metaData(sch, schemaString, ts.id, ms)},
	}
	data, err := EncodeVersion(actions)
	if err != nil {
		return err
	}
	key := LogKey(sch.Name, 0)
	if _, err := p.store.PutIfAbsent(ctx, key, data); err != nil {
		if !errors.Is(err, objstore.ErrPreconditionFailed) {
			return fmt.Errorf("write %s: %w", key, err)
		}
		theirs, err := p.store.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("read %s after losing it: %w", key, err)
		}
		info, err := versionInfo(theirs)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		p.stats.Raced++
		ts.delta, ts.registry, ts.schemaHash, ts.id = 0, -1, info.schemaHash, info.id
		return nil
	}
	ts.delta, ts.registry, ts.schemaHash = 0, -1, schemaHash(schemaString)
	p.stats.Commits++
	p.stats.Tables[sch.Name]++
	return nil
}

func (p *publisher) metaData(sch *registry.Schema, schemaString, id string, createdMs int64) *MetaData {
	return &MetaData{
		ID:               id,
		Name:             sch.Name,
		Description:      "skybutler registry table " + sch.Name + " (derived from the registry commit log; read-only)",
		Format:           Format{Provider: "parquet", Options: map[string]string{}},
		SchemaString:     schemaString,
		PartitionColumns: partitionColumns(sch),
		Configuration:    map[string]string{},
		CreatedTime:      &createdMs,
	}
}

func partitionColumns(sch *registry.Schema) []string {
	return append([]string{}, sch.PartitionBy...)
}

func jsonString(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

// commitActions are the actions of the Delta version mirroring registry
// commit c on one table.
func (p *publisher) commitActions(ctx context.Context, sch *registry.Schema, schemaString string, ts *tableState, c *registry.Commit, te registry.TableEdit) ([]Action, error) {
	ms := c.Time.UnixMilli()
	dataChange := c.Operation != "compact"
	op := "WRITE"
	switch {
	case !dataChange:
		op = "OPTIMIZE"
	case len(te.Remove) > 0:
		op = "DELETE"
	}
	actions := []Action{{CommitInfo: &CommitInfo{
		Timestamp: ms, Operation: op, EngineInfo: AppID,
		OperationParameters: map[string]string{"registryOperation": c.Operation, "registryVersion": strconv.FormatInt(c.Version, 10)},
		IsBlindAppend:       dataChange && len(te.Remove) == 0,
		Skybutler:           &SkybutlerInfo{RegistryVersion: c.Version, RegistryCommit: c.ID, RegistryOperation: c.Operation, SchemaHash: schemaHash(schemaString)},
	}}}
	if ts.schemaHash != schemaHash(schemaString) {
		md, err := p.newMetaData(ctx, sch, schemaString, ts, ms)
		if err != nil {
			return nil, err
		}
		actions = append(actions, Action{MetaData: md})
	}
	actions = append(actions, Action{Txn: &Txn{AppID: AppID, Version: c.Version, LastUpdated: ms}})
	for _, path := range te.Remove {
		actions = append(actions, Action{Remove: &Remove{Path: EncodePath(sch.Name, path), DeletionTimestamp: ms, DataChange: dataChange}})
	}
	for _, f := range te.Add {
		actions = append(actions, addAction(sch, f, ms, dataChange))
	}
	return actions, nil
}

func addAction(sch *registry.Schema, f registry.FileEntry, ms int64, dataChange bool) Action {
	stats, _ := json.Marshal(Stats{NumRecords: f.Rows})
	return Action{Add: &Add{Path: EncodePath(sch.Name, f.Path), PartitionValues: partitionValues(sch, f.Partition),
		Size: f.Size, ModificationTime: ms, DataChange: dataChange, Stats: string(stats)}}
}

// newMetaData is the metaData action replacing a table's schema (the
// registry schema changed with a new skybutler version), keeping its id.
func (p *publisher) newMetaData(ctx context.Context, sch *registry.Schema, schemaString string, ts *tableState, ms int64) (*MetaData, error) {
	if ts.id == "" {
		data, err := p.store.Get(ctx, LogKey(sch.Name, 0))
		if err != nil {
			return nil, fmt.Errorf("read version 0 of %s: %w", sch.Name, err)
		}
		info, err := versionInfo(data)
		if err != nil {
			return nil, err
		}
		ts.id = info.id
	}
	if ts.id == "" {
		ts.id = TableID(p.store.URI(), sch.Name)
	}
	return p.metaData(sch, schemaString, ts.id, ms), nil
}

// info is what a publisher needs from one Delta version.
type info struct {
	registry   int64 // txn version of appId skybutler; -1 when absent
	schemaHash string
	id         string
}

func versionInfo(data []byte) (info, error) {
	actions, err := DecodeVersion(data)
	if err != nil {
		return info{}, err
	}
	in := info{registry: -1}
	for _, a := range actions {
		switch {
		case a.Txn != nil && a.Txn.AppID == AppID:
			in.registry = a.Txn.Version
		case a.MetaData != nil:
			in.schemaHash = schemaHash(a.MetaData.SchemaString)
			in.id = a.MetaData.ID
		case a.CommitInfo != nil && a.CommitInfo.Skybutler != nil && in.schemaHash == "":
			in.schemaHash = a.CommitInfo.Skybutler.SchemaHash
		}
	}
	return in, nil
}

// tableState finds the newest Delta version of a table: from the state
// marker's hint, verified by one listing, or by listing the whole log.
func (p *publisher) tableState(ctx context.Context, table string) (*tableState, error) {
	if ts, ok := p.tables[table]; ok {
		return ts, nil
	}
	ts := &tableState{delta: -1, registry: -1}
	var hint *tableHint
	if p.hint != nil {
		if h, ok := p.hint.Tables[table]; ok {
			hint = &h
		}
	}
	startAfter := ""
	if hint != nil && hint.Delta >= 1 {
		startAfter = LogKey(table, hint.Delta-1)
	}
	newest := int64(-1)
	first := int64(-1)
	for {
		page, err := p.store.List(ctx, LogPrefix(table), startAfter, 1000)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", LogPrefix(table), err)
		}
		for _, o := range page {
			if v, ok := logVersion(table, o.Key); ok {
				if first < 0 {
					first = v
				}
				newest = max(newest, v)
			}
		}
		if len(page) < 1000 {
			break
		}
		startAfter = page[len(page)-1].Key
	}
	if hint != nil && first != hint.Delta {
		return nil, fmt.Errorf("%w: table %s: marker names Delta version %d, log starts at %d there", errStaleHint, table, hint.Delta, first)
	}
	ts.delta = newest
	switch {
	case newest < 0:
	case hint != nil && newest == hint.Delta:
		ts.registry, ts.schemaHash = hint.Registry, hint.SchemaHash
	default:
		data, err := p.store.Get(ctx, LogKey(table, newest))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", LogKey(table, newest), err)
		}
		in, err := versionInfo(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", LogKey(table, newest), err)
		}
		if in.registry < 0 && newest > 0 {
			return nil, fmt.Errorf("%s has no txn action of appId %q: not a log skybutler publishes", LogKey(table, newest), AppID)
		}
		ts.registry, ts.schemaHash, ts.id = in.registry, in.schemaHash, in.id
	}
	p.tables[table] = ts
	return ts, nil
}

func readState(ctx context.Context, store objstore.Store) (*state, error) {
	data, err := store.Get(ctx, StateKey)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", StateKey, err)
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		slog.Default().Warn("delta: unreadable state marker, ignored", "key", StateKey, "err", err)
		return nil, nil
	}
	if s.Tables == nil {
		s.Tables = map[string]tableHint{}
	}
	return &s, nil
}

// writeState advances the marker to version head, unless it already names
// a newer one (or the same one, unless rescan: a run that ignored a stale
// marker replaces it). Tables this run looked at get the hint of what it
// saw; the others keep theirs.
func (p *publisher) writeState(ctx context.Context, head int64, rescan bool) error {
	for range 10 {
		info, err := p.store.Stat(ctx, StateKey)
		notFound := errors.Is(err, objstore.ErrNotFound)
		if err != nil && !notFound {
			return err
		}
		cur := &state{Version: -1, Tables: map[string]tableHint{}}
		if !notFound {
			data, err := p.store.Get(ctx, StateKey)
			if err != nil && !errors.Is(err, objstore.ErrNotFound) {
				return err
			}
			var s state
			if err == nil && json.Unmarshal(data, &s) == nil && s.Tables != nil {
				cur = &s
			}
		}
		if cur.Version > head || cur.Version == head && !rescan {
			return nil
		}
		next := state{Version: head, Tables: map[string]tableHint{}}
		for t, h := range cur.Tables {
			next.Tables[t] = h
		}
		for t, ts := range p.tables {
			if ts.delta < 0 {
				delete(next.Tables, t)
				continue
			}
			// Any version this run saw is a valid hint, even if another
			// publisher's marker names a newer one.
			next.Tables[t] = tableHint{Delta: ts.delta, Registry: ts.registry, SchemaHash: ts.schemaHash}
		}
		data, err := json.MarshalIndent(next, "", " ")
		if err != nil {
			return err
		}
		if notFound {
			_, err = p.store.PutIfAbsent(ctx, StateKey, data)
		} else {
			_, err = p.store.PutIfMatch(ctx, StateKey, data, info.ETag)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, objstore.ErrPreconditionFailed) && !errors.Is(err, objstore.ErrNotFound) {
			return err
		}
	}
	return fmt.Errorf("write %s: too many concurrent updates", StateKey)
}
