"""Test setup: a private Prefect home (set before Prefect is imported), shared data paths, raster builders."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from pathlib import Path

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="schouw-test-prefect-"))
atexit.register(shutil.rmtree, _PREFECT_HOME, True)
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{_PREFECT_HOME}/prefect.db"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "90"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ.pop("PREFECT_API_URL", None)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import rasterio  # noqa: E402
from affine import Affine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SHARED = Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def prefect_harness():
    """One real (temporary) Prefect server and database for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


def write_tif(path: Path, bands: np.ndarray, crs, transform: Affine, **kw) -> Path:
    """Write a (count, H, W) array as a GeoTIFF; extra keywords go to the profile (nodata, compress …)."""
    count, h, w = bands.shape
    profile = dict(driver="GTiff", width=w, height=h, count=count, dtype=bands.dtype.name, transform=transform, **kw)
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(bands)
    return path


def lawn(h: int, w: int, seed: int = 1) -> np.ndarray:
    """A textured green lawn, (3, H, W) uint8."""
    rng = np.random.default_rng(seed)
    base = np.array([72, 118, 48], np.float32)[:, None, None]
    img = base + rng.normal(0, 10, (1, h, w)).astype(np.float32) * np.array([0.6, 1.0, 0.5], np.float32)[:, None, None]
    return np.clip(img, 0, 255).astype(np.uint8)


def asphalt(h: int, w: int, seed: int = 2) -> np.ndarray:
    """Grey asphalt with fine noise, (3, H, W) uint8 (:func:`schouw.synth.plain_asphalt` band-first)."""
    from schouw.synth import plain_asphalt

    return np.ascontiguousarray(np.moveaxis(plain_asphalt(h, w, seed), -1, 0))


#: A PostgreSQL server the tests may create databases on (.ci/run installs and starts one with this role).
POSTGRES_URL = os.environ.get("SCHOUW_TEST_POSTGRES_URL", "postgresql+psycopg://schouw:schouw@127.0.0.1:5432/schouw_test")


@contextlib.contextmanager
def fresh_postgres():
    """A fresh, empty PostgreSQL database (its URL), dropped afterwards; skips the test when no server answers."""
    import secrets

    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"schouw_t_{secrets.token_hex(4)}"
    try:
        with admin.connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__}); .ci/run installs and starts it")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as con:
            con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url():
    with fresh_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A catalog database URL: SQLite in a temporary folder, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return request.getfixturevalue("postgres_url")
