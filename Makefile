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

# --- AWS deployment (infra/, cdk.json, docs/deploy.md) -----------------------
# functions: the five Lambda functions as linux/arm64 static executables,
#   dist/functions/NAME/bootstrap (provided.al2023). lambda.norpc drops the
#   aws-lambda-go RPC mode that only the retired go1.x runtime used.
# synth, deploy: the CDK app, through the CDK CLI from npm (npx fetches it).
#   CDK_ARGS passes options on, e.g. CDK_ARGS="--require-approval never" or
#   CDK_ARGS="-c mapMaxConcurrency=200".
# test-infra: the template tests of infra/ alone (offline; needs node).
FUNCTIONS := ingest plan execute merge compact
CDK       ?= npx --yes aws-cdk@2.1148.1
CDK_ENV   := JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=18,20

.PHONY: functions synth deploy test-infra

# Dependencies are compiled without inlining (our own packages keep it): it
# keeps every bootstrap under 20 MB (about 2.5 MB less) at a small CPU cost
# in the SDK and Parquet code.
FUNCTION_GCFLAGS := -gcflags=all=-l -gcflags=github.com/skybutler/skybutler/...=

functions:
	@for f in $(FUNCTIONS); do \
	  echo "build dist/functions/$$f/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc,skybutler_lambda -ldflags=-s $(FUNCTION_GCFLAGS) \
	    -o dist/functions/$$f/bootstrap ./functions/$$f || exit 1; \
	done
	@ls -l dist/functions/*/bootstrap

synth: functions
	$(CDK_ENV) $(CDK) synth $(CDK_ARGS)

deploy: functions
	$(CDK_ENV) $(CDK) deploy $(CDK_ARGS)

test-infra:
	$(GO) test -count=1 ./infra/...
