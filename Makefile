# skybutler — build, test, demo, bench. Everything the tests need is installed
# here: versitygw into ./bin from the Go module proxy, fitsverify and graphviz
# from Debian packages.
GO        ?= go
BIN       := $(CURDIR)/bin
VERSITYGW := $(BIN)/versitygw
SKYBUTLER := $(BIN)/skybutler
DEB_PKGS  := fitsverify graphviz
export VERSITYGW
export SKYBUTLER

.PHONY: all build tools deps test test-short lint bench demo fuzz clean

all: build

build:
	$(GO) build -o $(SKYBUTLER) ./cmd/skybutler
	$(GO) build -o $(BIN)/synth ./examples/synth/cmd/synth

tools: $(VERSITYGW) deps

$(VERSITYGW):
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

# Debian packages the tests use (fitsverify checks our FITS files, dot renders
# graphs). Installed with apt-get when missing and we are root (or have sudo).
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then echo "warning: cannot install$$missing (no apt-get)"; exit 0; fi; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
	  echo "installing$$missing"; \
	  $$SUDO apt-get update -qq || true; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: tools build lint
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -timeout 30m -race ./lib/...

test-short: build
	$(GO) test -short ./...

# Side-by-side benchmarks; each prints its throughput (and ratio to its peer).
bench: tools build
	$(GO) test -run '^$$' -bench . -benchtime 200x -timeout 60m ./bench/...

# The demo: a repository at demo/repo on the embedded default (a local
# directory). S3=1 runs it against a versitygw started here.
demo: build $(if $(S3),$(VERSITYGW))
	S3=$(S3) ./examples/demo/demo.sh

# Run every fuzzer for a while (the corpora live in testdata/fuzz).
# -fuzzminimizetime keeps the minimiser from stalling a short run.
FUZZTIME ?= 30s
FUZZ     = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 100x -fuzz
fuzz:
	$(FUZZ) '^FuzzParse$$' ./lib/query
	$(FUZZ) '^FuzzLoad$$' ./lib/dimensions
	$(FUZZ) '^FuzzDecodeCommit$$' ./lib/registry
	$(FUZZ) '^FuzzValidKey$$' ./lib/objstore
	$(FUZZ) '^FuzzParseTemplate$$' ./lib/datastore
	$(FUZZ) '^FuzzFITSRead$$' ./lib/datastore
	$(FUZZ) '^FuzzParquetRead$$' ./lib/datastore
	$(FUZZ) '^FuzzReadHeader$$' ./lib/ingest

clean:
	rm -rf $(BIN) demo cdk.out
