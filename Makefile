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

.PHONY: all build images run test bench fuzz vet fmt cleanup clean drills engines engines-down soak

all: build

build:
	@mkdir -p bin
	$(GO) build $(GOFLAGS) -trimpath -o bin/hakv ./cmd/hakv
	$(GO) build $(GOFLAGS) -trimpath -o bin/hadrill ./cmd/hadrill

# Prebuild the shared Debian base image (debootstrap, needs root) and every
# system's image; runs and tests otherwise build what is missing themselves.
images: build
	bin/hadrill images

# A real drill on the built-in reference cluster.
run: build
	bin/hadrill run $(SCENARIO) --results $(RESULTS)

# Every built-in drill, and the long ones in scenarios/long, each as
# name:expected-exit-code (a drill that shows a known weakness fails on
# purpose). make test runs only the shortest of them, as Go tests.
DRILLS_HAKV ?= kill-primary:0 kill-standby:0 kill-primary-async:1 partition-primary:0 pause-primary:0 \
  delay-primary:0 packet-loss:0 disk-stall-primary:0 disk-full-primary:0 power-loss-primary:0 \
  power-loss-fsync-never:1 random-faults:0 split-brain:1 stale-reads:1
DRILLS ?= etcd-kill-leader:0 etcd-pause-leader:0 etcd-partition-leader:0 etcd-random:0 \
  redis-kill-primary:1 redis-partition-primary:1 redis-partition-min-replicas:1 \
  mariadb-kill-primary-async:1 mariadb-kill-primary-semisync:0 mariadb-split-vip:1 \
  pg-kill-primary:0 scenarios/long/pg-kill-primary-defaults.yaml:0 pg-kill-primary-async:1 pg-partition-primary:1 \
  scenarios/long/etcd-disk-stall-leader.yaml:0 scenarios/long/redis-disk-stall-primary.yaml:1 \
  scenarios/long/pg-disk-stall-primary.yaml:1 scenarios/long/mariadb-disk-stall-primary.yaml:0 \
  scenarios/long/etcd-power-loss-leader.yaml:0
drills: build
	@bad=0; for d in $(DRILLS_HAKV) $(DRILLS); do name=$${d%%:*}; want=$${d##*:}; \
	  bin/hadrill run $$name --results $(RESULTS); got=$$?; \
	  echo "drills: $$name: exit $$got, want $$want" >&2; \
	  if [ "$$got" = 130 ]; then exit 130; fi; \
	  if [ "$$got" != "$$want" ]; then bad=$$((bad+1)); fi; \
	done; \
	if [ $$bad -gt 0 ]; then echo "drills: $$bad drill(s) gave an unexpected exit code" >&2; exit 1; fi

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...

# The timeout only guards against a hang. The drills in cmd/hadrill run
# one after another and last as long as their scenarios, and a busy shared
# runner stretches every step around them: beside stress-ng and another
# make test, that package took over 25 minutes on a 2-core machine.
test: build vet
	$(GO) test $(GOFLAGS) -count=1 -timeout 60m -p 2 ./...

# Benchmarks print ratios against baselines measured in the same run.
bench: build
	$(GO) test $(GOFLAGS) -run '^$$' -bench . -benchtime 1x -count 1 -timeout 30m ./...

# Fuzz targets, each run for FUZZTIME; a finding is saved under the
# package's testdata/fuzz and then replays as a regression test in `make test`.
FUZZTIME ?= 60s
FUZZ_TARGETS = ./history:FuzzDecodeOp ./history:FuzzReadOperations ./scenarios:FuzzParse ./scenarios:FuzzSet \
	./faults/agent:FuzzControlAPI ./checker:FuzzChecker

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test $(GOFLAGS) $$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME); \
	done

cleanup: build
	bin/hadrill cleanup

# A test bed of more Docker engines, each in a network namespace of its own
# (scripts/engines.sh; needs root and dockerd): `make engines` starts one
# named "second", so that `--set cluster.engines=[local,second]` works.
ENGINES ?= second
engines:
	scripts/engines.sh up $(ENGINES)

engines-down:
	scripts/engines.sh down $(ENGINES)

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
