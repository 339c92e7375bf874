"""quick_median and quick_percentile give numpy's figures to the bit: the crack measures depend on them."""

from __future__ import annotations

import numpy as np
import pytest

from schouw.detect.base import quick_median, quick_percentile

DTYPES = (np.uint8, np.int32, np.float32, np.float64)


def _samples(seed: int = 0):
    """Arrays of every dtype the detectors use, from 1 to 400 values, some with many ties, some negative."""
    rng = np.random.default_rng(seed)
    for dtype in DTYPES:
        for n in list(range(1, 12)) + [16, 17, 63, 64, 100, 255, 256, 399]:
            for kind in ("spread", "ties", "wide"):
                if kind == "ties":
                    x = rng.integers(0, 4, n)
                elif kind == "wide":
                    x = rng.normal(0, 1000, n)
                else:
                    x = rng.uniform(0, 255, n)
                if np.issubdtype(dtype, np.integer):
                    x = np.clip(np.round(x), np.iinfo(dtype).min, np.iinfo(dtype).max)
                yield np.asarray(x).astype(dtype)


def _bits(x: float) -> bytes:
    return np.float64(x).tobytes()


def test_quick_median_is_numpys_median_to_the_bit():
    n = 0
    for v in _samples():
        assert _bits(quick_median(v)) == _bits(float(np.median(v))), (v.dtype, v.size, v)
        n += 1
    assert n > 200


@pytest.mark.parametrize("q", [0, 2, 10, 25, 37.5, 50, 90, 95, 98, 100])
def test_quick_percentile_is_numpys_percentile_to_the_bit(q):
    for v in _samples(1):
        assert _bits(quick_percentile(v, q)) == _bits(float(np.percentile(v, q))), (q, v.dtype, v.size, v)


def test_a_two_dimensional_crop_is_taken_whole_and_left_as_it_was():
    v = np.random.default_rng(2).uniform(0, 1, (7, 9)).astype(np.float32)
    kept = v.copy()
    assert quick_median(v) == float(np.median(v)) and quick_percentile(v, 90) == float(np.percentile(v, 90))
    assert np.array_equal(v, kept)


def test_no_values_is_an_error():
    with pytest.raises(ValueError):
        quick_median(np.zeros(0, np.float32))
    with pytest.raises(ValueError):
        quick_percentile(np.zeros(0, np.float32), 50)
