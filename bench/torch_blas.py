"""The BLAS's thread count for the PyTorch side of the benchmarks
(bench/train_torch.py)."""
import ctypes
import sys


def set_blas_threads(n):
    """OpenBLAS's thread count, when torch's BLAS is OpenBLAS, as R's is set.

    torch loads the system's libblas.so.3 without making its symbols global,
    so the program's own scope does not have OpenBLAS's setter: the library
    is opened by name, which gives the copy already loaded.
    """
    try:
        blas = ctypes.CDLL("libblas.so.3")
    except OSError:
        return
    if hasattr(blas, "openblas_set_num_threads"):
        blas.openblas_set_num_threads(n)
        if blas.openblas_get_num_threads() != n:
            sys.exit("could not set OpenBLAS's thread count")
