# Everyday tasks. `make demo` on a fresh machine installs selu and what its
# tests use, then runs the demo; `make test` runs the test suite.
R ?= R
RSCRIPT ?= Rscript
# No network here: skip the checks that need it. The PDF manual uses Times
# and the default typewriter font, so LaTeX needs no inconsolata.
CHECK_ENV = _R_CHECK_CRAN_INCOMING_REMOTE_=false _R_CHECK_SYSTEM_CLOCK_=false \
	R_RD4PDF=times,hyper

.PHONY: install deps demo test document check lint

install:
	$(R) CMD INSTALL --preclean .

deps:
	$(RSCRIPT) tools/install-deps.R

demo: deps install
	$(RSCRIPT) -e 'demo("self-normalizing", package = "selu", ask = FALSE)'

test: install
	$(RSCRIPT) tools/test.R

document:
	$(RSCRIPT) -e 'roxygen2::roxygenise()'

check:
	rm -rf check && mkdir check
	cd check && $(R) CMD build .. && $(CHECK_ENV) $(R) CMD check --as-cran selu_*.tar.gz
	$(RSCRIPT) tools/check-status.R check/selu.Rcheck/00check.log

# The C code: no warning under -Wall -Wextra -pedantic, no cppcheck finding.
lint:
	for f in src/*.c; do \
	  $(CC) -I"$$($(R) CMD config --cppflags | sed 's/^-I//')" -fopenmp -Wall -Wextra -pedantic \
	    -Werror -fsyntax-only $$f || exit 1; \
	done
	cppcheck --quiet --enable=warning,portability --error-exitcode=1 \
	  -I"$$($(R) CMD config --cppflags | sed 's/^-I//')" --suppress=missingIncludeSystem src/

# Benchmarks and the accuracy report (bench/, not part of the package).
# glibc keeps freed memory up to 32 MB for reuse instead of handing it back to
# the kernel, so that results up to that size (1e5 doubles, in R and PyTorch
# alike) are timed without fresh page faults on each call; larger results
# (1e7 doubles) are fresh pages for every call, as glibc always does.
BENCH_ENV = GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432

.PHONY: bench accuracy
bench: install
	$(BENCH_ENV) $(RSCRIPT) bench/bench.R
	$(RSCRIPT) bench/tables.R

accuracy: install
	$(RSCRIPT) bench/accuracy.R
