// Package pipelinetest provides an in-memory quantum butler for testing
// tasks without a repository.
//
// # Terms
//
//   - Butler: a pipeline.QuantumButler (and pipeline.FileButler) over
//     objects held in memory, built from a task's connections: inputs are
//     added with AddInput, outputs are predicted (one ref per non-Multiple
//     output, or AddOutput) and recorded by Put or PutFile.
//   - Staged file: what StageInput writes: the input object serialised with
//     its storage class's default formatter (raw bytes stay as they are).
package pipelinetest
