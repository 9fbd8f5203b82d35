# hadrill: build, drill, test. Everything a fresh machine needs is built from
# this repository; the only prerequisites are Go and a running Docker engine.

GO       ?= go
GOFLAGS  ?=
RESULTS  ?= runs
SCENARIO ?= kill-primary

# Static binaries: the hakv image is FROM scratch, and the node agent is
# copied into containers of any image.
export CGO_ENABLED := 0
# testcontainers' reaper image cannot be pulled here; hadrill cleans up by
# its own labels instead (hadrill cleanup).
export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: all build run test bench vet fmt cleanup clean soak

all: build

build:
	@mkdir -p bin
	$(GO) build $(GOFLAGS) -trimpath -o bin/hakv ./cmd/hakv
	$(GO) build $(GOFLAGS) -trimpath -o bin/hadrill ./cmd/hadrill

# A real drill on the built-in reference cluster.
run: build
	bin/hadrill run $(SCENARIO) --results $(RESULTS)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...

test: build vet
	$(GO) test $(GOFLAGS) -count=1 -timeout 30m -p 2 ./...

# Benchmarks print ratios against baselines measured in the same run.
bench: build
	$(GO) test $(GOFLAGS) -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./...

cleanup: build
	bin/hadrill cleanup

# `make soak 100`: N runs interrupted at random moments in every phase (some
# by SIGKILL, then hadrill cleanup); prints the phases hit and what was left.
ifeq (soak,$(firstword $(MAKECMDGOALS)))
  SOAK_N := $(word 2,$(MAKECMDGOALS))
  $(eval $(SOAK_N):;@:)
endif
SOAK_N ?= 20
soak: build
	$(GO) run ./cmd/soak -n $(or $(SOAK_N),20) -bin bin/hadrill

clean:
	rm -rf bin
