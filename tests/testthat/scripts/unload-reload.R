# Run by test-alloc.R in an R process of its own, as
#   Rscript unload-reload.R LIBRARY
# Results of 1e5 doubles come from selu's allocator, whose code R calls when
# it collects them: the library is unloaded and reloaded with none, then with
# some, alive, and each collection after the unload must find its code. It
# prints one line per check; a crash shows as a failed process.
args <- commandArgs(trailingOnly = TRUE)
library(selu, lib.loc = args[1])
libpath <- find.package("selu", lib.loc = args[1])
so <- normalizePath(file.path(libpath, "libs", paste0("selu", .Platform$dynlib.ext)))
mapped <- function() {
  if (!file.exists("/proc/self/maps")) return(NA)
  any(grepl(so, readLines("/proc/self/maps"), fixed = TRUE))
}
unload <- function() {
  unloadNamespace("selu")
  library.dynam.unload("selu", libpath)
}
check <- function(name, ok) cat(sprintf("%s=%s\n", name, isTRUE(ok)))
reference <- function(x) {
  ifelse(x > 0, 1.0507009873554804934193349852946 * x,
         1.7580993408473768599402175208123 * expm1(x))
}
set.seed(1)
x <- rnorm(1e5)

# none alive: the library goes as any other
for (i in 1:20) activation_selu(x)
invisible(gc())
unload()
check("unloaded with no result alive", !"selu" %in% names(getLoadedDLLs()) && !isTRUE(mapped()))

# some alive, and garbage not yet collected
library(selu, lib.loc = args[1])
kept <- lapply(1:5, function(i) activation_selu(x + i))
for (i in 1:20) activation_selu(x)
unload()
invisible(gc())
check("results alive at the unload keep their values",
      all(vapply(1:5, function(i) isTRUE(all.equal(kept[[i]], reference(x + i))), logical(1))))
rm(kept)
invisible(gc())
check("results alive at the unload are collected after it", TRUE)
check("the library stays mapped while they were alive", !isFALSE(mapped()))

library(selu, lib.loc = args[1])
y <- lapply(1:50, function(i) activation_selu(x))
check("reloaded, results are right", isTRUE(all.equal(y[[50]], reference(x))))
rm(y)
invisible(gc())
unload()
invisible(gc())
check("unloaded a second time and collected", TRUE)
