// Package delta publishes a Delta Lake transaction log next to every
// registry table, so that Athena (Glue tables with table_type=DELTA), Spark,
// Trino, delta-rs or DuckDB's delta extension read exactly the live files of
// one registry version, compaction included.
//
// Terms:
//   - Table directory: ROOT/registry/tables/TABLE/, where the registry keeps
//     the table's immutable Parquet data files ([k=v/]part-UUID.parquet).
//     It is the Delta table's root.
//   - Delta log: TABLE/_delta_log/NNNNNNNNNNNNNNNNNNNN.json (20 digits), one
//     newline-delimited JSON object per action. Derived data: it can always
//     be rebuilt from the registry commit log (delete it and the state
//     marker, then Publish).
//   - Delta version: version 0 holds protocol {minReaderVersion 1,
//     minWriterVersion 2}, metaData (id, parquet format, schemaString,
//     partitionColumns, createdTime) and a commitInfo; version k ≥ 1 mirrors
//     the k-th registry commit that touched the table: one add per file the
//     commit added, one remove per file it removed, a txn action
//     {appId "skybutler", version = registry version} and a commitInfo whose
//     "skybutler" object repeats the registry version, commit id and
//     operation. A registry compaction ("compact") publishes its adds and
//     removes with dataChange=false.
//   - Catch-up version: when the registry commits a table's log still needs
//     were deleted after a registry checkpoint, one Delta version takes the
//     table from its published files to the checkpoint's live files (adds
//     and removes, txn = the checkpoint's version); later commits follow one
//     by one again.
//   - Published through N: every table's Delta log reflects registry
//     version N (a table's newest txn version is the newest registry commit
//     ≤ N that touched it). registry/_delta_state.json records N and, per
//     table, the newest Delta version, as a hint: Publish trusts the Delta
//     logs, and uses the hint only to skip listing and re-reading them.
//
// Paths: add/remove paths are relative to the table directory and written as
// RFC 2396 URIs (each byte outside A-Z a-z 0-9 - _ . ~ = is %XX-escaped), as
// the Delta protocol asks. Registry partition directories are themselves
// %XX-escaped (dataset_type=a%2Fb), so such a '%' appears as %25 in the log.
//
// Partition columns: the datasets and files tables are published partitioned
// by dataset_type, with partitionValues holding the unescaped value. Unlike
// files written by Spark, the registry's data files also contain the
// dataset_type column. The Delta protocol has readers take partition values
// from the add action's partitionValues, never from the file (the
// materializePartitionColumns feature writes them into files on purpose and
// states that every reader must read such tables); Trino (Athena),
// delta-kernel and Spark project the partition column out of the Parquet
// read, so the extra physical column is ignored. The values agree anyway:
// the registry derives the directory from the rows' own dataset_type.
//
// Statistics: every add carries stats {"numRecords": N} from the registry's
// file entry. Column min/max/nullCount are not written (they would need each
// file read back, and Delta's truncation rules for strings and timestamps
// make wrong bounds easy; a reader without them only skips less).
//
// Concurrency: Delta commits are written with PutIfAbsent. A publisher that
// loses a version reads it, adopts its txn version as published and carries
// on after it; the content of a version is a pure function of the registry
// commit and the table's previous Delta version, so two publishers write the
// same bytes. Any number of publishers may run at once, and a crashed one
// leaves a prefix that the next run continues.
//
// Not done: Delta checkpoints (readers replay every JSON version; a table
// with very many versions reads slowly), column statistics beyond
// numRecords, deletion vectors, column mapping, change data feed.
package delta
