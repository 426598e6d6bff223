// Package qgraph plans pipelines: it builds quantum graphs (what pipe_base's
// `pipetask qgraph` does), stores them in the repository, and reads them
// back.
//
// # Terms
//
//   - Quantum: one execution of one task for one data ID over the task's
//     dimensions, with its resolved inputs, prerequisites and predicted
//     outputs (Quantum; connection name -> dataset IDs in index order).
//   - Overall input: a dataset type some task reads as an Input and no task
//     writes (raw). Intermediate: written by one task and read by another
//     (postISRCCD). Prerequisite: a PrerequisiteInput, looked up per quantum
//     (dark); it never decides which quanta exist, but a required one that
//     is missing is an error (ErrMissingPrerequisite) listing the data IDs
//     that lack it.
//   - Search path: the input collections (-i), CHAINED ones expanded depth
//     first (registry.Snapshot.Flatten). A dataset is found find-first: from
//     the first RUN or TAGGED collection of the path that has one for the
//     data ID. Calibrations (IsCalibration prerequisites) are also found in
//     CALIBRATION collections, certified over a validity range that overlaps
//     the quantum's timespan (the intersection of the timespans of its
//     temporal dimensions, an exposure's); more than one overlapping
//     certification in one collection is an error. So an operator switches
//     calibrations by changing the CALIBRATION collection in -i, nothing else.
//   - D: the required dimensions of all tasks and regular connections of a
//     pipeline ({instrument, detector, exposure} for the example). Every
//     quantum's and regular dataset's data ID is a projection of a data ID
//     over D.
//   - Packed key: a data ID over D as one uint64. Each dimension's values
//     (those with records in the registry) are dictionary-encoded in value
//     order and given a fixed bit field; the projection of a data ID onto
//     fewer dimensions is an AND with their mask. Indexes on keys are arrays
//     when the keys span few bits, hash maps otherwise.
//   - Rows: the data IDs over D that the quanta are projections of: the
//     overall inputs required by some task (found in the search path),
//     hash-joined on their shared dimensions; dimensions no input has come
//     from their dimension records (a fan-out: a per-detector task reading a
//     per-exposure input gets one quantum per detector record), then the
//     pipeline's instrument and the data query (-d, lib/query, evaluated
//     once per distinct projection onto the dimensions it names, implied
//     dimensions and record fields included) keep some.
//   - Wave: the longest path from a quantum to the graph's sources: quanta
//     without produced inputs are wave 0, the others one more than their
//     latest producer. All quanta of a wave can run at once once the waves
//     before it are done.
//   - Batch: up to Options.BatchSize (or TaskBatchSize[label]) quanta of one
//     task and one wave, stored as one self-contained object: its quanta,
//     its task's spec and every dataset the quanta read (with their
//     datastore records) or write (with their predicted datastore paths).
//
// # Planning (Build)
//
// Build reads the newest registry snapshot and writes nothing. It resolves
// the collections as pipetask does (resolveCollections: -o, --output-run,
// --extend-run, --replace-run, --prune-replaced and their errors), makes the
// rows, and then, for each task in dependency order:
//
//  1. its quanta are the distinct projections of the rows onto its dimensions;
//  2. each Input is resolved per quantum: an input whose dimensions are the
//     task's (or fewer) by projecting the quantum's key; one with more
//     dimensions (Multiple fan-in: summarize reads sourceTable of every
//     detector) by grouping the projections of the rows; overall inputs come
//     from their find-first result, intermediates from the outputs of the
//     upstream tasks. A quantum short of a required input is pruned (and so,
//     in turn, are the quanta that would read its outputs);
//  3. with SkipExistingIn, a quantum whose outputs all exist (find-first in
//     those collections) is left out, and downstream quanta read the
//     existing outputs; with --extend-run, other outputs already in the run
//     are an error (ErrOutputExists);
//  4. prerequisites are looked up (memoized per dataset key and timespan);
//  5. outputs get random UUIDs (version 4, from ChaCha8 seeded by
//     crypto/rand), and the quantum its wave.
//
// The graph is columnar: quanta, datasets and edges are flat slices of small
// structs, data IDs packed keys, IDs 16-byte arrays. No map is made per
// quantum; the JSON of quanta and datasets (data IDs with their implied
// values, the paths of outputs rendered from the repository's file
// templates) is produced only when batches are written.
//
// # On-store format (Save)
//
// Under ROOT/qgraphs/GRAPH_ID/ (GRAPH_ID: UTC time to the second and 12
// random hex digits, so IDs sort by planning time):
//
//	batches/WAVE-LABEL-NNNNNN.json  one Batch per batch (schemas/qgraph-batch.schema.json)
//	waves/NNNN.json                 per wave, a JSON array of BatchItem: the
//	                                Distributed Map ItemReader input
//	                                (schemas/qgraph-wave.schema.json)
//	graph.json.zst                  the whole graph: zstd JSON lines, a head
//	                                ({"format","header","tasks","waves"}) then
//	                                every batch, one zstd frame per batch
//	manifest.json                   the Header, written last
//
// Objects are written with PutIfAbsent, data first and the manifest last, so
// a manifest means a complete graph; graph objects are never overwritten
// (saving the same graph again checks the stored bytes are the same).
// Load reads graph.json.zst, LoadBatch one batch, LoadHeader the manifest.
//
// # Registration (Plan)
//
// Plan is Build, Save, then one registry commit (idempotency key
// "plan:GRAPH_ID"), checked again against the newest state: the output RUN
// (unless --extend-run), the dataset types of every output with their
// storage classes (<label>_config, <label>_metadata and <label>_log
// included), and the CHAINED output collection defined as pipetask does:
// [run, flattened inputs...] for a new one, the run prepended to an
// existing one (whose first run --replace-run drops; --prune-replaced then
// unstores the replaced run's regular outputs or purges the run). The
// plan function (functions/plan, HandlePlan) does the same for a
// PlanRequest and answers where each wave manifest is.
//
// # Limits
//
// Prerequisites must have dimensions within D and the dimensions the
// quanta's records imply (a flat per physical_filter and detector is found
// through the exposure's physical_filter); init-inputs are not planned
// (init-outputs such as <label>_config have their dataset types
// registered; the merge writes them); a calibration read as a regular
// Input is refused (declare it a prerequisite); implied temporal
// dimensions (day_obs) do not narrow a quantum's timespan; a quantum some of
// whose outputs exist in --skip-existing-in is planned again (pipe_base
// would need --clobber-outputs).
package qgraph
