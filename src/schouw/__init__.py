"""schouw: drone-orthophoto inspection of roads and green areas.

The library is free of Prefect: image algorithms live in :mod:`schouw.detect`
(arrays in, arrays out), geo and I/O in the other modules. Georeference is
attached in exactly one place, :mod:`schouw.vectorize`.
"""

import os

# Parallelism comes from processes and tile threads, one photo or tile each. OpenBLAS's own
# threads in numpy's matrix products (the crack network's forward pass) only compete with them:
# `schouw detect-image` on the 155 CrackForest photos took 11.0 s with them and 9.6 s without,
# and `--jobs 2` took 14.7 s against 5.6 s. This default only applies when schouw is imported
# before numpy (the CLI, the worker processes); an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
