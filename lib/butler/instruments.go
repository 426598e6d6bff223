package butler

import (
	"context"
	"errors"
	"fmt"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// InstrumentsPrefix is where register-instrument keeps the definitions
// (records and header translation rules) of a repository's instruments.
const InstrumentsPrefix = "instruments/"

// RegisterInstrument stores an instrument definition in the repository
// (so that ingest can translate headers with it) and registers its records.
// The definition is written first; the registry commit makes it count.
func (b *Butler) RegisterInstrument(ctx context.Context, data []byte) (registry.Result, int, *dimensions.InstrumentDef, error) {
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		return registry.Result{}, 0, nil, err
	}
	recs, err := def.Records(b.Registry.Universe())
	if err != nil {
		return registry.Result{}, 0, def, err
	}
	// Check the records against the registry before writing anything.
	if _, err := b.Registry.Commit(ctx, "check", func(tx *registry.Tx) error {
		for _, g := range groupRecords(recs) {
			if _, err := registry.InsertDimensionRecords(tx, g[0].Element, g); err != nil {
				return err
			}
		}
		return errDryRun
	}); err != errDryRun {
		return registry.Result{}, 0, def, err
	}
	key := InstrumentsPrefix + def.Name + ".yaml"
	if old, err := b.Store.Get(ctx, key); err != nil || string(old) != string(data) {
		if _, err := b.Store.Put(ctx, key, data); err != nil {
			return registry.Result{}, 0, def, fmt.Errorf("store instrument definition: %w", err)
		}
	}
	res, n, err := b.Registry.InsertRecordSets(ctx, "register-instrument", recs)
	return res, n, def, err
}

var errDryRun = errors.New("dry run")

// InstrumentDefinitions returns the definitions of the instruments
// registered in the repository: those stored by RegisterInstrument, else
// the shipped definition of the same name.
func InstrumentDefinitions(ctx context.Context, b *Butler) ([]*dimensions.InstrumentDef, error) {
	recs, err := b.Registry.Current().DimensionRecords(ctx, "instrument")
	if err != nil {
		return nil, err
	}
	var out []*dimensions.InstrumentDef
	for _, r := range recs {
		name, _ := r.Values["instrument"].(string)
		data, err := b.Store.Get(ctx, InstrumentsPrefix+name+".yaml")
		if err != nil {
			if !errors.Is(err, objstore.ErrNotFound) {
				return nil, err
			}
			if data, err = dimensions.LoadInstrument(name); err != nil {
				continue
			}
		}
		def, err := dimensions.ParseInstrument(data)
		if err != nil {
			return nil, fmt.Errorf("instrument %s: %w", name, err)
		}
		out = append(out, def)
	}
	return out, nil
}
