# skybutler — build, test, demo, bench. Everything the tests need is installed
# here from the Go module proxy (versitygw into ./bin) or Debian packages.
GO        ?= go
BIN       := $(CURDIR)/bin
VERSITYGW := $(BIN)/versitygw
SKYBUTLER := $(BIN)/skybutler
export VERSITYGW
export SKYBUTLER

.PHONY: all build tools test test-short race lint bench demo fuzz clean

all: build

build:
	$(GO) build -o $(SKYBUTLER) ./cmd/skybutler

tools: $(VERSITYGW)

$(VERSITYGW):
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test: tools build lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race ./lib/...

test-short: build
	$(GO) test -short ./...

clean:
	rm -rf $(BIN) demo cdk.out
