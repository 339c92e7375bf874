"""sample_data/ is made by the project's own generator: small, and regenerated bit-for-bit."""

import hashlib

from conftest import SAMPLE
from schouw.synth import write_sample


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_generator_reproduces_committed_sample_bit_for_bit(tmp_path):
    files = write_sample(tmp_path)
    assert [f.name for f in files] == ["sample_orthophoto.tif", "sample_areas.geojson", "sample_truth.geojson"]
    for f in files:
        assert _sha(f) == _sha(SAMPLE / f.name), f"{f.name} differs from sample_data/: run `schouw synth` and commit"


def test_sample_is_small():
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) <= 5 * 1024 * 1024
