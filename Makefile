# SimpleOS: build, boot and test. Everything goes through the simpleos CLI (cmd/simpleos).

GO       ?= go
SIMPLEOS := build/simpleos
ARGS     ?=
# A kernel turns integer addresses into pointers and its entry code owns BP: those two vet
# checks do not apply to core/.
VETFLAGS := -unsafeptr=false -framepointer=false

.PHONY: all run debug test demo inject inject-disk inject-files inject-slurm fuzz clean cli gotest deps
.PHONY: deps-run deps-test deps-bench deps-inject

# Build the kernel ELF, the bootable Multiboot image and the bundled modules; check the policy.
# Needs only Go.
all: cli
	$(SIMPLEOS) policy check policy/system.policy
	$(SIMPLEOS) build

# What the targets below need beyond Go is installed when it is missing: each first runs
# scripts/deps GROUP (run, inject, bench or test; a silent no-op when nothing is missing,
# otherwise one line naming the packages, then apt-get as root or with sudo). make deps
# installs what all of them need.
deps:
	scripts/deps test
deps-run deps-test deps-bench deps-inject:
	@scripts/deps $(@:deps-%=%)

# Boot in QEMU; pass flags with ARGS, e.g. make run ARGS='--append selftest=primes:100000'
run: deps-run cli
	$(SIMPLEOS) run $(ARGS)

# Boot and wait for GDB on :1234.
debug: deps-run cli
	$(SIMPLEOS) run --gdb $(ARGS)

# The Channel File 291 incident in three deployments (docs/demo.md); report and pictures in build/demo/.
demo: deps-run cli
	$(SIMPLEOS) demo cf291

# Standard-library tests run inside SimpleOS (docs/gotest.md); PKGS and ARGS to change them.
PKGS ?= regexp compress/gzip archive/tar image/png text/template go/scanner
gotest: deps-run cli
	$(SIMPLEOS) test $(ARGS) $(PKGS)

# The quick fault-injection campaign (docs/fault-injection.md); results and charts in build/inject/.
inject: deps-inject cli
	$(SIMPLEOS) inject --parallel 2 --deployment both scenarios/quick.scn

# The block driver campaign (docs/fault-injection.md, driver classes); results in build/inject-disk/.
inject-disk: deps-inject cli
	$(SIMPLEOS) inject --parallel 1 --deployment both --out build/inject-disk scenarios/disk.scn

# The file-system server campaign (docs/fault-injection.md, file-system classes); results in
# build/inject-files/. Tiered only: the server is a ring-3 task in both deployments.
inject-files: deps-inject cli
	$(SIMPLEOS) inject --parallel 1 --deployment tiered --out build/inject-files scenarios/files.scn

# The quick campaign as a Slurm array job of 4 shards and a merge job, on a one-node cluster
# this starts on localhost (installing slurm-wlm and munge if missing; as root); results in
# build/slurm-local/results/. TestInjectOnSlurm runs the same (docs/fault-injection.md).
# The script installs Slurm itself (scripts/deps slurm), because the test needs it too.
inject-slurm: deps-inject
	cluster/slurm/test-local

# The long system-call fuzzing campaign (docs/security.md): 20 boots, each with a fuzzer in
# rings 1, 2 and 3 making 170,000 calls, two machines at a time: 10.2 million calls, and the
# coverage of core/kernel. Results in build/fuzz/report.md. make test runs a CI-sized one.
fuzz: deps-run cli
	$(SIMPLEOS) fuzz --boots 20 --calls 170000 --parallel 2 --coverage $(ARGS)

.PHONY: bench bench-full

# The benchmark suite (docs/benchmarks.md), quick: a few minutes under TCG. Go benchmark lines
# on stdout; report.md, results.json, profile-lines.md (the round trips' instructions by source
# line) and one SVG plot per group in build/bench/.
bench: deps-bench cli
	$(SIMPLEOS) bench --quick $(ARGS)

# The same with many more samples: much longer.
bench-full: deps-bench cli
	$(SIMPLEOS) bench --full $(ARGS)

# go vet and every test, including the ones that boot QEMU.
test: deps-test
	$(GO) run ./cmd/simpleos policy check policy/system.policy
	$(GO) vet $(VETFLAGS) ./... && $(GO) test -count=1 -timeout 30m ./...

clean:
	rm -rf build

# The CLI itself; go build is incremental, so rebuilding it every time costs little.
cli:
	@mkdir -p build
	$(GO) build -o $(SIMPLEOS) ./cmd/simpleos
