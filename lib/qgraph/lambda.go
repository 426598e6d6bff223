package qgraph

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/pipeline"
)

// PlanRequest is the input of the plan function (functions/plan): what to
// plan and where its outputs go, as pipetask's options. See
// events/plan-request.json.
type PlanRequest struct {
	// Repo, when set, must be the repository the function serves (a
	// guard against misrouted executions).
	Repo string `json:"repo,omitempty"`
	// Pipeline locates the pipeline YAML, optionally with a #selector: a
	// key in the repository ("pipelines/spherex.yaml#step1") or a URI
	// ("s3://bucket/pipelines/x.yaml"). PipelineYAML gives it inline
	// instead (then Pipeline, if set, only names it).
	Pipeline       string         `json:"pipeline"`
	PipelineYAML   string         `json:"pipeline_yaml,omitempty"`
	Inputs         []string       `json:"inputs,omitempty"`
	Output         string         `json:"output,omitempty"`
	OutputRun      string         `json:"output_run,omitempty"`
	ExtendRun      bool           `json:"extend_run,omitempty"`
	ReplaceRun     bool           `json:"replace_run,omitempty"`
	PruneReplaced  string         `json:"prune_replaced,omitempty"`
	DataQuery      string         `json:"data_query,omitempty"`
	Bind           map[string]any `json:"bind,omitempty"`
	SkipExistingIn []string       `json:"skip_existing_in,omitempty"`
	BatchSize      int            `json:"batch_size,omitempty"`
	TaskBatchSize  map[string]int `json:"task_batch_size,omitempty"`
}

// PlanResponse is the output of the plan function: the graph and, per
// wave, where its manifest is, ready for a Step Functions Map over waves
// whose Distributed Map reads each wave's manifest with an S3 ItemReader
// (Bucket and ObjectKey; for file repositories Bucket is empty and
// ObjectKey is relative to the repository). See events/plan-response.json.
type PlanResponse struct {
	GraphID     string     `json:"graph_id"`
	Repo        string     `json:"repo"`
	Output      string     `json:"output,omitempty"`
	OutputRun   string     `json:"output_run"`
	Quanta      int        `json:"quanta"`
	Batches     int        `json:"batches"`
	Skipped     int        `json:"skipped"`
	Tasks       []TaskSum  `json:"tasks"`
	ManifestKey string     `json:"manifest_key"`
	Waves       []WaveInfo `json:"waves"`
}

// WaveInfo locates one wave manifest.
type WaveInfo struct {
	Wave      int    `json:"wave"`
	Batches   int    `json:"batches"`
	Quanta    int    `json:"quanta"`
	Key       string `json:"key"`        // relative to the repository root
	Bucket    string `json:"bucket"`     // S3 repositories
	ObjectKey string `json:"object_key"` // the key in the bucket (prefix included)
}

// PipelineLoader resolves PlanRequest.Pipeline (nil: LoadPipeline).
type PipelineLoader func(ctx context.Context, b *butler.Butler, ref, inline string) (*pipeline.Pipeline, error)

// HandlePlan is the plan function: it plans, saves and registers a graph
// (Plan) and says where its waves are.
func HandlePlan(ctx context.Context, b *butler.Butler, req PlanRequest, load PipelineLoader) (*PlanResponse, error) {
	if req.Repo != "" && strings.TrimSuffix(req.Repo, "/") != strings.TrimSuffix(b.URI, "/") {
		return nil, fmt.Errorf("plan: the request is for repository %s, this function serves %s", req.Repo, b.URI)
	}
	if load == nil {
		load = LoadPipeline
	}
	p, err := load(ctx, b, req.Pipeline, req.PipelineYAML)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	ref := req.Pipeline
	if ref == "" {
		ref = "(inline)"
	}
	h, err := Plan(ctx, b, Options{Pipeline: p, PipelineRef: ref, Inputs: req.Inputs, Output: req.Output, OutputRun: req.OutputRun,
		ExtendRun: req.ExtendRun, ReplaceRun: req.ReplaceRun, PruneReplaced: req.PruneReplaced, DataQuery: req.DataQuery,
		Bind: req.Bind, SkipExistingIn: req.SkipExistingIn, BatchSize: req.BatchSize, TaskBatchSize: req.TaskBatchSize, Now: time.Now()})
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return Response(ctx, b, h)
}

// Response describes a saved graph for the state machine.
func Response(ctx context.Context, b *butler.Butler, h *Header) (*PlanResponse, error) {
	bucket, prefix := "", ""
	if rest, ok := strings.CutPrefix(b.URI, "s3://"); ok {
		bucket, prefix, _ = strings.Cut(rest, "/")
		if prefix != "" {
			prefix = strings.TrimSuffix(prefix, "/") + "/"
		}
	}
	r := &PlanResponse{GraphID: h.GraphID, Repo: h.Repo, Output: h.Output, OutputRun: h.OutputRun, Quanta: h.Quanta,
		Batches: h.Batches, Skipped: h.SkipExisted, Tasks: withoutConfigs(h.TaskQuanta), ManifestKey: ManifestKey(h.GraphID)}
	for w := range h.Waves {
		items, err := LoadWave(ctx, b.Store, h.GraphID, w)
		if err != nil {
			return nil, err
		}
		wi := WaveInfo{Wave: w, Batches: len(items), Key: WaveKey(h.GraphID, w), Bucket: bucket, ObjectKey: prefix + WaveKey(h.GraphID, w)}
		for _, it := range items {
			wi.Quanta += it.Quanta
		}
		r.Waves = append(r.Waves, wi)
	}
	return r, nil
}

// LoadPipeline reads a pipeline: inline YAML, a URI ("s3://...",
// "file://..."), or a key in the repository; ref may end in #selector.
func LoadPipeline(ctx context.Context, b *butler.Butler, ref, inline string) (*pipeline.Pipeline, error) {
	file, sel, hasSel := strings.Cut(ref, "#")
	name := path.Base(file)
	if hasSel {
		name += "#" + sel
	}
	if inline != "" {
		if file == "" {
			name = "pipeline.yaml"
			if hasSel {
				name += "#" + sel
			}
		}
		return pipeline.Parse([]byte(inline), name)
	}
	if file == "" {
		return nil, fmt.Errorf("no pipeline given")
	}
	var data []byte
	var err error
	if strings.Contains(file, "://") {
		dir, base := path.Split(file)
		var st objstore.Store
		if st, err = objstore.Open(ctx, strings.TrimSuffix(dir, "/")); err != nil {
			return nil, fmt.Errorf("read pipeline %s: %w", file, err)
		}
		data, err = st.Get(ctx, base)
	} else {
		data, err = b.Store.Get(ctx, strings.TrimPrefix(file, "/"))
	}
	if err != nil {
		return nil, fmt.Errorf("read pipeline %s: %w", file, err)
	}
	return pipeline.Parse(data, name)
}

// LoadWave reads one wave manifest.
func LoadWave(ctx context.Context, store objstore.Store, graphID string, wave int) ([]BatchItem, error) {
	data, err := store.Get(ctx, WaveKey(graphID, wave))
	if err != nil {
		return nil, fmt.Errorf("load wave %d of graph %s: %w", wave, graphID, err)
	}
	var items []BatchItem
	if err := jsonUnmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("load wave %d of graph %s: %w", wave, graphID, err)
	}
	return items, nil
}

// withoutConfigs drops the task configs from the counts: the state machine
// payload stays small (configs are in the manifest for merge).
func withoutConfigs(ts []TaskSum) []TaskSum {
	out := make([]TaskSum, len(ts))
	for i, t := range ts {
		t.Config = nil
		out[i] = t
	}
	return out
}
