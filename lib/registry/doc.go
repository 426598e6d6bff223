// Package registry is skybutler's database without a database server: Parquet
// tables plus an append-only commit log in an object store.
//
// Terms:
//   - Table: a named set of rows with a Schema (collections, collection_chains,
//     dataset_types, dimension_<element>, txn, and the dataset tables). Its
//     rows live in immutable Parquet data files under
//     registry/tables/TABLE/[k=v/]part-UUID.parquet; a file is never
//     rewritten under the same name.
//   - Commit N: registry/_log/NNNNNNNNNNNNNNNNNNNN.json (20 digits), listing per
//     table the data files added and removed, the idempotency keys (txn) it
//     carries and a summary of the operation. Written last, with PutIfAbsent:
//     a crash before it leaves only invisible data files (the thanos "data
//     first, marker last" order).
//   - Snapshot: the state at version N, the replay of commits 0..N from the
//     newest checkpoint. Immutable; rows are read lazily, per file, and
//     cached (files never change).
//   - Checkpoint: registry/_log/N.checkpoint.json.zst, the live files of every
//     table at version N, named by registry/_log/_last_checkpoint. Written
//     every Options.CheckpointInterval commits so readers replay little.
//   - Tx: the edits one commit function records against one snapshot:
//     inserted rows, copy-on-write deletions (a file holding a deleted row is
//     removed and its other rows written again), idempotency keys.
//   - Txn key: an idempotency key ("ingest:BUCKET/KEY@ETAG", "merge:GRAPH/Q");
//     a commit function that finds its key committed records nothing.
//
// Concurrency: any number of writers, in any number of processes or hosts,
// may commit at once. Commit is optimistic: compute against snapshot N, write
// data files, PutIfAbsent commit N+1; on losing, reload and recompute (so
// constraints are always checked against the state the commit lands on),
// after a jittered backoff. See Registry.Commit.
//
// Constraints checked in every commit function: collection names unique,
// chains without cycles, dataset type definitions consistent, dimension
// records consistent with their keys and with the records they name.
package registry
