"""A server killed (SIGKILL) in the middle of reviews loses no review it acknowledged, and starts again on the same data."""

from __future__ import annotations

import threading
import time

import httpx

from conftest import SAMPLE
from webserver import Server, upload, wait_run


def test_killed_server_keeps_every_acknowledged_review(tmp_path):
    srv = Server(tmp_path / "serve")
    try:
        up = srv.client(srv.token("uploader"))
        ids = upload(up, SAMPLE / "sample_orthophoto.tif", SAMPLE / "sample_areas.geojson").json()
        assert wait_run(up, ids["run_id"])["state"] == "COMPLETED"
        rev = srv.client(srv.token("reviewer", "Bea"))
        issues = [f["id"] for f in rev.get(f"/api/flights/{ids['flight_id']}/issues").json()["features"]]
        acked: list[tuple[str, str, str]] = []  # (issue, status, comment) answered 200
        stop = threading.Event()

        def review_loop() -> None:
            k = 0
            while not stop.is_set():
                iid, status, comment = issues[k % len(issues)], ("confirmed", "rejected", "fixed")[k % 3], f"review {k}"
                try:
                    r = rev.patch(f"/api/issues/{iid}", json={"status": status, "comment": comment}, timeout=5)
                except httpx.TransportError:
                    return  # the server is gone
                if r.status_code == 200:
                    acked.append((iid, status, comment))
                k += 1

        t = threading.Thread(target=review_loop)
        t.start()
        time.sleep(1.5)
        srv.kill()
        stop.set()
        t.join(10)
        assert len(acked) > 5  # reviews were going on when it died
        srv.start()  # same data folder
        rev = srv.client(rev.headers["authorization"].split()[-1])
        for iid in {a[0] for a in acked}:
            hist = rev.get(f"/api/issues/{iid}/history").json()
            recorded = {h["comment"] for h in hist}
            mine = [a for a in acked if a[0] == iid]
            assert all(c in recorded for _, _, c in mine), iid  # no acknowledged review lost
            assert all(h["actor"] == "Bea" for h in hist)
            assert rev.get(f"/api/issues/{iid}").json()["properties"]["status"] == hist[-1]["status"]
    finally:
        srv.stop()
