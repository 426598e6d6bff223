// Package merge brings the results of an executed graph into the registry.
//
// Terms:
//   - Merge: read every provenance document of a graph, check that each
//     reported output exists with its reported size, and commit the outputs
//     (datasets and datastore records) of succeeded and no_work quanta plus
//     one quanta row and its quantum_inputs / quantum_outputs rows per
//     quantum, in chunked commits. Each quantum carries the idempotency key
//     merge:GRAPH/QUANTUM, so merging twice — or from two processes at once —
//     registers everything exactly once. Outputs of failed quanta are never
//     registered.
//   - Output chain: after the last chunk, the RUN is prepended to the CHAINED
//     output collection (created as [RUN, inputs...] when missing), unless
//     the graph was planned with --output-run alone.
package merge
