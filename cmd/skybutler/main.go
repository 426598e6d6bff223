// Command skybutler is the command-line interface of skybutler: repository
// management, queries, ingest and pipeline execution (see README.md).
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }
