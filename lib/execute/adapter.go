package execute

import (
	"context"
	"log/slog"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/pipeline"
)

// taskButler presents a quantum-backed butler to a task as the
// pipeline.QuantumButler (and pipeline.FileButler) it expects.
type taskButler struct {
	qbb *butler.QuantumBackedButler
	log *slog.Logger
}

var (
	_ pipeline.QuantumButler = (*taskButler)(nil)
	_ pipeline.FileButler    = (*taskButler)(nil)
)

func (b *taskButler) Get(ctx context.Context, conn string, index int) (any, error) {
	return b.qbb.Get(ctx, conn, index)
}

type deferred struct {
	b     *taskButler
	conn  string
	index int
}

func (d deferred) Get(ctx context.Context) (any, error) { return d.b.Get(ctx, d.conn, d.index) }

func (b *taskButler) GetDeferred(conn string, index int) pipeline.DeferredHandle {
	return deferred{b, conn, index}
}

func (b *taskButler) Put(ctx context.Context, obj any, conn string, index int) error {
	return b.qbb.Put(ctx, obj, conn, index)
}

func (b *taskButler) Refs(conn string) []pipeline.Ref {
	var out []pipeline.Ref
	for _, in := range b.qbb.Inputs(conn) {
		out = append(out, pipeline.Ref{DatasetType: in.Ref.DatasetType, DataID: in.Ref.DataID, ID: in.Ref.ID, Run: in.Ref.Run})
	}
	for _, o := range b.qbb.Outputs(conn) {
		out = append(out, pipeline.Ref{DatasetType: o.Ref.DatasetType, DataID: o.Ref.DataID, ID: o.Ref.ID, Run: o.Ref.Run})
	}
	return out
}

func (b *taskButler) MarkInputUnused(conn string, index int) { b.qbb.MarkInputUnused(conn, index) }

func (b *taskButler) Log() *slog.Logger { return b.log }

func (b *taskButler) StageInput(ctx context.Context, conn string, index int, dir string) (string, error) {
	return b.qbb.StageInput(ctx, conn, index, dir)
}

func (b *taskButler) PutFile(ctx context.Context, path, conn string, index int) error {
	return b.qbb.PutFile(ctx, path, conn, index)
}
