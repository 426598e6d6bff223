// Package execute runs quanta of a planned graph.
//
// Terms:
//   - Executor: runs one quantum at a time with a quantum-backed butler
//     (QBB) built from the batch object alone; it never reads the registry.
//   - Provenance document: ROOT/provenance/RUN/QUANTUM_ID.json, written last
//     for every executed quantum: its status, predicted / available / actual
//     inputs, actual outputs with their datastore records, timing, host,
//     memory and CPU, software version and error. Its existence is the
//     marker that the quantum finished (thanos order: outputs first).
//   - Status: succeeded, failed (the task or a required input failed),
//     no_work (the task found nothing to do, or an upstream quantum did),
//     blocked (an upstream quantum failed or was blocked: not run).
//   - Batch: the quanta of one batch object, run one after another (the unit
//     of a Step Functions Distributed Map item). Runner: the local DAG
//     scheduler of `skybutler run -j N`.
package execute
