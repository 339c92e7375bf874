"""schouw: drone-orthophoto inspection of roads and green areas.

The library is free of Prefect: image algorithms live in :mod:`schouw.detect`
(arrays in, arrays out), geo and I/O in the other modules. Georeference is
attached in exactly one place, :mod:`schouw.vectorize`.
"""

__version__ = "0.1.0"
