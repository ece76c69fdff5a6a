# Everyday tasks. `make demo` on a fresh machine installs selu and trains a
# network; `make deps` installs what the tests use; `make test` runs them.
R ?= R
RSCRIPT ?= Rscript
# No network here: skip the checks that need it. The PDF manual uses Times
# and the default typewriter font, so LaTeX needs no inconsolata.
CHECK_ENV = _R_CHECK_CRAN_INCOMING_REMOTE_=false _R_CHECK_SYSTEM_CLOCK_=false \
	R_RD4PDF=times,hyper

.PHONY: install deps demo test document check lint check-memory check-sanitizers

# selu imports jsonlite (keras' JSON), generics (fit() and compile()), hardhat
# and tibble (snn()); they and what the vignettes need (knitr, rmarkdown,
# mlbench) are installed first where missing. The package is built with its
# vignettes, so that vignette("training", package = "selu") finds them (without
# them, and a message, where pandoc is missing), then installed. It is built in
# a temporary directory: build/ in the tree is where R CMD build keeps the
# tarball's vignette index.
install:
	$(RSCRIPT) tools/install-deps.R install
	dir=$$(mktemp -d) && \
	if command -v pandoc > /dev/null; then \
	  (cd $$dir && $(R) CMD build --no-manual "$(CURDIR)"); \
	else \
	  echo "pandoc is missing: selu is installed without its vignettes"; \
	  (cd $$dir && $(R) CMD build --no-manual --no-build-vignettes "$(CURDIR)"); \
	fi && \
	$(R) CMD INSTALL $$dir/selu_*.tar.gz && rm -rf $$dir

deps:
	$(RSCRIPT) tools/install-deps.R

demo: install
	$(RSCRIPT) -e 'demo("train", package = "selu", ask = FALSE)'

# The tests run on the installed package: the build users get (R's compiler
# flags), and the one that socket and forked workers load.
test: install
	$(RSCRIPT) tools/test.R installed

document:
	$(RSCRIPT) -e 'roxygen2::roxygenise()'

check:
	rm -rf check && mkdir check
	cd check && $(R) CMD build .. && $(CHECK_ENV) $(R) CMD check --as-cran selu_*.tar.gz
	$(RSCRIPT) tools/check-status.R check/selu.Rcheck/00check.log

# The C code: no warning under -Wall -Wextra -pedantic, no cppcheck finding.
# cppcheck checks the configuration selu is built in with GCC on x86-64
# Linux (the dispatch to AVX2 and AVX-512 included): left to try every
# combination of the compiler's macros it takes half an hour.
CPPCHECK_CONFIG = -D__GNUC__ -D__x86_64__ -D__linux__
lint:
	for f in src/*.c; do \
	  $(CC) -I"$$($(R) CMD config --cppflags | sed 's/^-I//')" -fopenmp -Wall -Wextra -pedantic \
	    -Werror -fsyntax-only $$f || exit 1; \
	done
	cppcheck --quiet --enable=warning,portability --error-exitcode=1 $(CPPCHECK_CONFIG) \
	  -I"$$($(R) CMD config --cppflags | sed 's/^-I//')" --suppress=missingIncludeSystem src/

# Memory safety, on the installed package (see the README); too slow for CI.
# check-memory: the test suite under valgrind, with the random samples shrunk
# (SELU_TEST_REDUCED); fails on any valgrind error or block definitely lost.
# Valgrind hides AVX-512 from CPUID, so the kernels run their AVX2 loops.
# Blocks "possibly lost" are not errors: the OpenMP threads' own storage,
# alive at exit, is one.
MEMORY_DIR = check/memory
VALGRIND = valgrind --leak-check=full --errors-for-leak-kinds=definite --num-callers=30 \
	--log-file=$(MEMORY_DIR)/valgrind.log

check-memory: install
	rm -rf $(MEMORY_DIR) && mkdir -p $(MEMORY_DIR)
	SELU_TEST_REDUCED=true $(R) -d "$(VALGRIND)" --vanilla --no-echo -f tools/test.R --args installed
	$(RSCRIPT) tools/memory-status.R valgrind $(MEMORY_DIR)/valgrind.log

# check-sanitizers: the package built with ASan and UBSan into a library of
# its own, from a copy of the sources (so that no instrumented src/*.so is
# left for make test), and the whole suite run with the runtimes preloaded
# (R itself is not instrumented). ASan's leak check is off: R keeps memory to
# the end by design. Any report fails the target: ASan's go to files (from
# child processes too), UBSan's, which ignore log_path here, to the output.
SANITIZER_DIR = check/sanitizers
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer
SANITIZER_ENV = R_LIBS="$(abspath $(SANITIZER_DIR))/lib:$$R_LIBS" \
	LD_PRELOAD="$$($$($(R) CMD config CC) -print-file-name=libasan.so) $$($$($(R) CMD config CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:log_path="$(abspath $(SANITIZER_DIR))/reports/asan" \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

check-sanitizers:
	rm -rf $(SANITIZER_DIR) && mkdir -p $(SANITIZER_DIR)/lib $(SANITIZER_DIR)/reports $(SANITIZER_DIR)/selu
	cp -r DESCRIPTION NAMESPACE R man src $(SANITIZER_DIR)/selu/
	rm -f $(SANITIZER_DIR)/selu/src/*.o $(SANITIZER_DIR)/selu/src/*.so
	echo "CC = $$($(R) CMD config CC) $(SANITIZE)" > $(SANITIZER_DIR)/Makevars
	R_MAKEVARS_USER="$(abspath $(SANITIZER_DIR))/Makevars" $(R) CMD INSTALL --no-test-load \
	  --library=$(SANITIZER_DIR)/lib $(SANITIZER_DIR)/selu
	{ $(SANITIZER_ENV) $(RSCRIPT) tools/test.R installed; echo $$? > $(SANITIZER_DIR)/status; } 2>&1 \
	  | tee $(SANITIZER_DIR)/tests.log
	$(RSCRIPT) tools/memory-status.R sanitizers $(SANITIZER_DIR)
	exit $$(cat $(SANITIZER_DIR)/status)

# Benchmarks and the accuracy report (bench/, not part of the package).
# make bench times a plain session, as a user runs R. make bench-tuned times
# the same cases (not the family) with glibc keeping freed memory up to 32 MB
# for reuse instead of handing it back to the kernel, so that R's own results
# of that size are no fresh pages either; it writes bench/results/bench-tuned.*
# and the README's table of the two.
BENCH_TUNED_ENV = GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432

.PHONY: bench bench-tuned bench-train bench-threads bench-engine bench-tabular accuracy memory-order
bench: install
	env -u GLIBC_TUNABLES $(RSCRIPT) bench/bench.R
	$(RSCRIPT) bench/tables.R

# snn() against lm()/glm() and nnet on held-out rows of mlbench's data sets
bench-tabular: install
	$(RSCRIPT) bench/tabular.R

bench-tuned: install
	$(BENCH_TUNED_ENV) $(RSCRIPT) bench/bench.R tuned
	$(RSCRIPT) bench/tables.R

# Training speed against PyTorch (when python3 imports torch), alternating
# with it, on the reference BLAS and on OpenBLAS (Debian's
# libopenblas0-pthread, when installed), float64 and float32, 1 and 2
# threads, then fit()'s memory and a profile: a plain Rscript per BLAS, as a
# user runs it. About 14 minutes; writes bench/results/train.* and the
# README's tables. `Rscript bench/train.R quick` checks the benchmark itself
# in about a minute, its tables written to a temporary directory.
bench-train: install
	$(RSCRIPT) bench/train.R

# selu's default threads against one thread, on the reference BLAS and on
# OpenBLAS (Debian's libopenblas0-pthread, when installed), about 12 minutes.
bench-threads: install
	$(RSCRIPT) bench/threads.R

# The engine's normalization, PReLU and penalties against the plain Dense
# stack, on both BLASes, about 5 minutes.
bench-engine: install
	$(RSCRIPT) bench/engine.R

accuracy: install
	$(RSCRIPT) bench/accuracy.R

# The memory floor under softmax's gradient along the last axis (no R needed).
memory-order:
	dir=$$(mktemp -d) && $(CC) -O3 -march=native -o $$dir/memory_order bench/memory_order.c && \
	  $$dir/memory_order; status=$$?; rm -rf $$dir; exit $$status
