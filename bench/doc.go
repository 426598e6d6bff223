// Package bench holds skybutler's side-by-side benchmarks (make bench). Each
// benchmark reports its throughput as a custom metric (commits/s, files/s,
// quanta/s) and, where a peer implementation is measured in the same run,
// the ratio to it. Nothing here asserts a time: targets are read off the
// printed numbers.
package bench
