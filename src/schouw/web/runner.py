"""Executes queued runs of the catalog, one at a time, in a background thread of the server.

A run: make the flight's COG (first run only), run the ``inspect_flight`` Prefect flow into
the run's folder, then load its issues into the catalog in one transaction with the run's
state, so the catalog never shows half a run. One run at a time: a run already uses every
core (tile worker processes). A run left RUNNING by a server that died is queued again on
start and resumes from its tile checkpoints.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from pathlib import Path

from sqlalchemy import select, update

from ..catalog.db import Catalog
from ..catalog.ingest import ingest_run
from ..catalog.models import Flight, Run, utcnow
from ..errors import InputError
from ..orthophoto import open_orthophoto, start_file_sha256
from .rasters import make_cog

log = logging.getLogger("schouw.runner")

#: Share of a run's progress for making the COG (the rest: tiles, then loading issues).
COG_SHARE = 0.05
#: Least time between two progress writes to the database (seconds).
PROGRESS_EVERY_S = 0.5


def run_dir(data_dir: Path, run: Run) -> Path:
    return Path(data_dir) / "flights" / run.flight_id / "runs" / run.id


class RunQueue:
    """Takes PENDING runs from the catalog in order of creation and executes them."""

    def __init__(self, catalog: Catalog, data_dir: Path, poll_s: float = 0.3):
        self.catalog, self.data_dir, self.poll_s = catalog, Path(data_dir), poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="schouw-runs", daemon=True)

    def start(self) -> None:
        with self.catalog.session() as s:  # runs interrupted by a dead server go again (their tiles resume)
            s.execute(update(Run).where(Run.state == "RUNNING").values(state="PENDING"))
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout_s)

    def _claim(self) -> str | None:
        with self.catalog.session() as s:
            q = select(Run).where(Run.state == "PENDING").order_by(Run.created_at).limit(1)
            run = s.scalars(q.with_for_update(skip_locked=True)).first()  # PostgreSQL: two servers never take one run
            if run is None:
                return None
            run.state, run.started_at, run.progress, run.error = "RUNNING", utcnow(), 0.0, None
            return run.id

    def _loop(self) -> None:
        import flows.inspect_flight  # noqa: F401 - imports Prefect and the flow now, not when the first upload waits

        while not self._stop.is_set():
            run_id = self._claim()
            if run_id is None:
                self._wake.wait(self.poll_s)
                self._wake.clear()
                continue
            self.execute(run_id)

    def _progress(self, run_id: str, value: float) -> None:
        with self.catalog.session() as s:
            s.execute(update(Run).where(Run.id == run_id).values(progress=min(max(value, 0.0), 0.99)))

    def execute(self, run_id: str) -> None:
        """Run one claimed run to COMPLETED or FAILED (the error message kept for the API)."""
        with self.catalog.session() as s:
            run = s.get(Run, run_id)
            flight = s.get(Flight, run.flight_id)
            params, out = dict(run.params or {}), run_dir(self.data_dir, run)
        try:
            start_file_sha256(flight.orthophoto_path)  # hashed while the COG is made; the flow waits for it
            cog = Path(flight.orthophoto_path).with_name("cog.tif")
            if not cog.exists():
                make_cog(open_orthophoto(flight.orthophoto_path), cog)
            if flight.cog_path != str(cog):  # also when a server died between writing the COG and recording it
                with self.catalog.session() as s:
                    s.get(Flight, flight.id).cog_path = str(cog)
            self._progress(run_id, COG_SHARE)
            self._inspect(run_id, flight, params, out)
            with self.catalog.session() as s:  # issues and state in one transaction
                run = s.get(Run, run_id)
                counts = ingest_run(s, run, out)
                run.state, run.progress, run.finished_at, run.out_dir = "COMPLETED", 1.0, utcnow(), str(out)
            log.info("run %s completed: %s", run_id, counts)
        except Exception as exc:  # noqa: BLE001 - any failure ends this run, not the server
            msg = " ".join(str(exc).split()) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
            log.error("run %s failed: %s\n%s", run_id, msg, traceback.format_exc())
            with self.catalog.session() as s:
                run = s.get(Run, run_id)
                run.state, run.error, run.finished_at = "FAILED", msg, utcnow()

    def _inspect(self, run_id: str, flight: Flight, params: dict, out: Path) -> None:
        from flows import progress
        from flows.inspect_flight import inspect_flight

        done, total, last = [0], [0], [0.0]

        def listen(event: str, n: int) -> None:
            if event == "total":
                total[0] = n
                return
            if event == "tile":
                done[0] += n
            now = time.monotonic()
            if total[0] and now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                self._progress(run_id, COG_SHARE + (1 - COG_SHARE - 0.02) * done[0] / total[0])

        progress.set_listener(listen)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            inspect_flight(orthophoto=flight.orthophoto_path, out_dir=str(out), areas=flight.areas_path, params=params or None)
        finally:
            progress.set_listener(None)
