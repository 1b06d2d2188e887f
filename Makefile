# SimpleOS: build, boot and test. Everything goes through the simpleos CLI (cmd/simpleos).

GO       ?= go
SIMPLEOS := build/simpleos
ARGS     ?=
# A kernel turns integer addresses into pointers and its entry code owns BP: those two vet
# checks do not apply to core/.
VETFLAGS := -unsafeptr=false -framepointer=false

.PHONY: all run debug test demo inject inject-disk inject-files fuzz clean cli gotest

# Build the kernel ELF, the bootable Multiboot image and the bundled modules; check the policy.
all: cli
	$(SIMPLEOS) policy check policy/system.policy
	$(SIMPLEOS) build

# Boot in QEMU; pass flags with ARGS, e.g. make run ARGS='--append selftest=primes:100000'
run: cli
	$(SIMPLEOS) run $(ARGS)

# Boot and wait for GDB on :1234.
debug: cli
	$(SIMPLEOS) run --gdb $(ARGS)

# The Channel File 291 incident in three deployments (docs/demo.md); report and pictures in build/demo/.
demo: cli
	$(SIMPLEOS) demo cf291

# Standard-library tests run inside SimpleOS (docs/gotest.md); PKGS and ARGS to change them.
PKGS ?= regexp compress/gzip archive/tar image/png text/template go/scanner
gotest: cli
	$(SIMPLEOS) test $(ARGS) $(PKGS)

# The quick fault-injection campaign (docs/fault-injection.md); results and charts in build/inject/.
inject: cli
	$(SIMPLEOS) inject --parallel 2 --deployment both scenarios/quick.scn

# The block driver campaign (docs/fault-injection.md, driver classes); results in build/inject-disk/.
inject-disk: cli
	$(SIMPLEOS) inject --parallel 1 --deployment both --out build/inject-disk scenarios/disk.scn

# The file-system server campaign (docs/fault-injection.md, file-system classes); results in
# build/inject-files/. Tiered only: the server is a ring-3 task in both deployments.
inject-files: cli
	$(SIMPLEOS) inject --parallel 1 --deployment tiered --out build/inject-files scenarios/files.scn

# The long system-call fuzzing campaign (docs/security.md): 20 boots, each with a fuzzer in
# rings 1, 2 and 3 making 170,000 calls, two machines at a time: 10.2 million calls, and the
# coverage of core/kernel. Results in build/fuzz/report.md. make test runs a CI-sized one.
fuzz: cli
	$(SIMPLEOS) fuzz --boots 20 --calls 170000 --parallel 2 --coverage $(ARGS)

.PHONY: bench bench-full

# The benchmark suite (docs/benchmarks.md), quick: a few minutes under TCG. Go benchmark lines
# on stdout; report.md, results.json and one SVG plot per group in build/bench/.
bench: cli
	$(SIMPLEOS) bench --quick $(ARGS)

# The same with many more samples: much longer.
bench-full: cli
	$(SIMPLEOS) bench --full $(ARGS)

test:
	$(GO) run ./cmd/simpleos policy check policy/system.policy
	$(GO) vet $(VETFLAGS) ./... && $(GO) test -count=1 -timeout 30m ./...

clean:
	rm -rf build

# The CLI itself; go build is incremental, so rebuilding it every time costs little.
cli:
	@mkdir -p build
	$(GO) build -o $(SIMPLEOS) ./cmd/simpleos
