package delta

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// Table is the state of one table's Delta log at its newest version.
type Table struct {
	Name     string
	Version  int64 // newest Delta version, -1: no log
	Registry int64 // registry version it reflects (txn), -1: none
	Protocol *Protocol
	MetaData *MetaData
	Files    map[string]*Add // object key of each live data file -> its add
}

// ReadTable replays a table's whole Delta log (every JSON version in
// order). Publish uses it only to catch up after the registry log was
// truncated; it is also how tests and tools check a log.
func ReadTable(ctx context.Context, store objstore.Store, table string) (*Table, error) {
	t := &Table{Name: table, Version: -1, Registry: -1, Files: map[string]*Add{}}
	var versions []int64
	start := ""
	for {
		page, err := store.List(ctx, LogPrefix(table), start, 1000)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", LogPrefix(table), err)
		}
		for _, o := range page {
			if v, ok := logVersion(table, o.Key); ok {
				versions = append(versions, v)
			}
		}
		if len(page) < 1000 {
			break
		}
		start = page[len(page)-1].Key
	}
	for i, v := range versions {
		if v != int64(i) {
			return nil, fmt.Errorf("delta log of %s: version %d missing", table, i)
		}
		data, err := store.Get(ctx, LogKey(table, v))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", LogKey(table, v), err)
		}
		actions, err := DecodeVersion(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", LogKey(table, v), err)
		}
		for _, a := range actions {
			switch {
			case a.Protocol != nil:
				t.Protocol = a.Protocol
			case a.MetaData != nil:
				t.MetaData = a.MetaData
			case a.Txn != nil && a.Txn.AppID == AppID:
				t.Registry = a.Txn.Version
			case a.Remove != nil:
				key, err := DecodePath(table, a.Remove.Path)
				if err != nil {
					return nil, err
				}
				delete(t.Files, key)
			}
		}
		for _, a := range actions { // adds after removes: a version may remove and re-add a path
			if a.Add != nil {
				key, err := DecodePath(table, a.Add.Path)
				if err != nil {
					return nil, err
				}
				t.Files[key] = a.Add
			}
		}
		t.Version = v
	}
	return t, nil
}

// catchUp publishes, for every table, one version taking its Delta log to
// the live files of the newest registry checkpoint, when the registry
// commits from version from on are no longer all in the log. It returns the
// registry version to continue from.
func (p *publisher) catchUp(ctx context.Context, from int64) (int64, error) {
	cp, err := p.reg.CheckpointSnapshot(ctx)
	if err != nil {
		return 0, err
	}
	if cp == nil || cp.Version < from {
		return 0, fmt.Errorf("registry commit %d is missing and no checkpoint covers it", from)
	}
	tables := map[string]bool{}
	for _, t := range cp.Tables() {
		tables[t] = true
	}
	if p.hint != nil {
		for t := range p.hint.Tables {
			tables[t] = true
		}
	}
	for t := range p.tables {
		tables[t] = true
	}
	for _, table := range slices.Sorted(maps.Keys(tables)) {
		sch, schemaString, ok, err := p.schema(table)
		if err != nil {
			return 0, err
		}
		if !ok {
			p.skip(table)
			continue
		}
		ts, err := p.tableState(ctx, table)
		if err != nil {
			return 0, err
		}
		if ts.registry >= cp.Version || ts.delta < 0 && len(cp.Files(table)) == 0 {
			continue
		}
		now := time.Now().UTC()
		if ts.delta >= 0 {
			// A log whose files already are the checkpoint's needs no version.
			actions, err := p.catchUpActions(ctx, sch, schemaString, ts, cp, now)
			if err != nil {
				return 0, err
			}
			if !slices.ContainsFunc(actions, func(a Action) bool { return a.Add != nil || a.Remove != nil || a.MetaData != nil }) {
				continue
			}
		}
		if err := p.ensureCreated(ctx, sch, schemaString, ts, now); err != nil {
			return 0, err
		}
		build := func(ts *tableState) ([]Action, error) {
			return p.catchUpActions(ctx, sch, schemaString, ts, cp, now)
		}
		if err := p.write(ctx, table, ts, cp.Version, build); err != nil {
			return 0, fmt.Errorf("table %s, catching up to checkpoint %d: %w", table, cp.Version, err)
		}
	}
	return cp.Version + 1, nil
}

// catchUpActions diff the table's published files against the checkpoint's.
func (p *publisher) catchUpActions(ctx context.Context, sch *registry.Schema, schemaString string, ts *tableState, cp *registry.Snapshot, now time.Time) ([]Action, error) {
	published, err := ReadTable(ctx, p.store, sch.Name)
	if err != nil {
		return nil, err
	}
	if published.Version != ts.delta {
		return nil, fmt.Errorf("delta log of %s changed while catching up (version %d, expected %d)", sch.Name, published.Version, ts.delta)
	}
	ms := now.UnixMilli()
	actions := []Action{{CommitInfo: &CommitInfo{
		Timestamp: ms, Operation: "WRITE", EngineInfo: AppID,
		OperationParameters: map[string]string{"registryOperation": "checkpoint", "registryVersion": strconv.FormatInt(cp.Version, 10)},
		Skybutler:           &SkybutlerInfo{RegistryVersion: cp.Version, RegistryOperation: "checkpoint", SchemaHash: schemaHash(schemaString)},
	}}}
	if ts.schemaHash != schemaHash(schemaString) {
		md, err := p.newMetaData(ctx, sch, schemaString, ts, ms)
		if err != nil {
			return nil, err
		}
		actions = append(actions, Action{MetaData: md})
	}
	actions = append(actions, Action{Txn: &Txn{AppID: AppID, Version: cp.Version, LastUpdated: ms}})
	live := map[string]registry.FileEntry{}
	for _, f := range cp.Files(sch.Name) {
		live[f.Path] = f
	}
	for _, key := range slices.Sorted(maps.Keys(published.Files)) {
		if _, ok := live[key]; !ok {
			actions = append(actions, Action{Remove: &Remove{Path: EncodePath(sch.Name, key), DeletionTimestamp: ms, DataChange: true}})
		}
	}
	for _, f := range cp.Files(sch.Name) {
		if _, ok := published.Files[f.Path]; !ok {
			actions = append(actions, addAction(sch, f, ms, true))
		}
	}
	return actions, nil
}
