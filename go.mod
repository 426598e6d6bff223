module github.com/skybutler/skybutler

go 1.26
