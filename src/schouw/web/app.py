"""The web API (``/api``, OpenAPI at ``/docs``) and the review UI (``/``) over the flights catalog.

Every ``/api`` request needs ``Authorization: Bearer <token>`` (``schouw token create``):
401 without a valid token, 403 for the wrong role. Reading needs any role, uploading
``uploader``, reviewing ``reviewer``; ``admin`` may do everything.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from starlette.background import BackgroundTask

from ..catalog.db import Catalog, open_catalog
from ..catalog.export import FORMATS, export_issues
from ..catalog.flights import queue_run, register_flight
from ..catalog.models import STATUSES, Flight, Run, Token
from ..catalog.review import NotFound, feature_collection, flight_record, get_issue, history, issue_feature, query_issues, review, run_record
from ..catalog.tokens import lookup
from ..errors import InputError, ParameterError
from .rasters import render_chip, render_tile
from .runner import RunQueue
from .upload import UploadError, UploadTooLarge, receive

STATIC = Path(__file__).with_name("static")
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024**3


@dataclass
class Settings:
    data_dir: Path
    database_url: str | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES


class ReviewIn(BaseModel):
    status: Literal["open", "confirmed", "rejected", "fixed"]
    comment: str | None = Field(None, max_length=4000)


class RunIn(BaseModel):
    params: dict = Field(default_factory=dict, description="InspectParams overrides, e.g. {\"tile_px\": 512}")


#: Domain errors and their HTTP status, in one table (first match in this order); the answer is ``{"detail": message}``.
ERROR_STATUS: list[tuple[type[Exception], int]] = [
    (UploadTooLarge, 413),
    (UploadError, 422),
    (InputError, 422),
    (ValidationError, 422),
    (NotFound, 404),
    (LookupError, 404),
]


def _error_response(request: Request, exc: Exception) -> JSONResponse:
    status = next(code for kind, code in ERROR_STATUS if isinstance(exc, kind))
    msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else " ".join(str(exc).split())
    return JSONResponse({"detail": msg}, status_code=status)


bearer = HTTPBearer(auto_error=False, description="a token from `schouw token create`")


def _split(values: list[str] | None) -> list[str] | None:
    out = [v.strip() for item in values or [] for v in item.split(",") if v.strip()]
    return out or None


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI application on ``settings.data_dir`` (catalog, uploads, run folders)."""
    data_dir = Path(settings.data_dir)
    catalog: Catalog = open_catalog(data_dir, settings.database_url)
    queue = RunQueue(catalog, data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        queue.start()
        yield
        queue.stop()
        catalog.close()

    app = FastAPI(title="schouw", summary="Flights catalog, upload and review of drone-orthophoto inspections", lifespan=lifespan)
    for kind, _ in ERROR_STATUS:
        app.add_exception_handler(kind, _error_response)

    def role(*allowed: str):
        def check(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Token:
            if cred is None or cred.scheme.lower() != "bearer" or not cred.credentials:
                raise HTTPException(401, "missing token: send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
            tok = lookup(catalog, cred.credentials)
            if tok is None:
                raise HTTPException(401, "token is not valid", headers={"WWW-Authenticate": "Bearer"})
            if allowed and tok.role not in allowed and tok.role != "admin":
                raise HTTPException(403, f"role {tok.role!r} may not do this; needs {' or '.join(allowed)}")
            return tok

        return check

    reader, uploader, reviewer = role(), role("uploader"), role("reviewer")

    def flight_or_404(s, flight_id: str) -> Flight:
        f = s.get(Flight, flight_id)
        if f is None:
            raise NotFound(f"flight {flight_id} does not exist")
        return f

    @app.get("/api/me", tags=["auth"])
    def me(tok: Token = Depends(reader)) -> dict:
        return {"name": tok.name, "role": tok.role}

    @app.post("/api/flights", status_code=202, tags=["flights"])
    async def upload_flight(request: Request, tok: Token = Depends(uploader)) -> dict:
        """Multipart: ``file`` (the orthophoto), optional ``areas`` (GeoPackage / GeoJSON), ``name`` and ``tile_px``.

        Streamed to disk under a server-chosen name, checked, then queued: 202 with the flight and run ids.
        413 over the size limit, 422 for anything that is not a georeferenced raster (or a bad areas file).
        """
        up = await receive(request, data_dir / "uploads", settings.max_upload_bytes, ("file", "areas"))
        try:
            if "file" not in up.files:
                raise UploadError("the 'file' part (the orthophoto) is missing")
            f, a = up.files["file"], up.files.get("areas")
            name = (up.fields.get("name") or Path(f.filename).stem)[:200]
            try:
                params = {"tile_px": int(up.fields["tile_px"])} if up.fields.get("tile_px") else {}
                fid, rid = await anyio.to_thread.run_sync(
                    lambda: register_flight(catalog, data_dir, f.path, name, tok.name, a.path if a else None, a.filename if a else None, params))
            except (InputError, ValueError) as exc:  # name the upload in the message
                raise UploadError(f"{f.filename}: {exc.errors()[0]['msg'] if isinstance(exc, ValidationError) else exc}") from None
        finally:
            up.discard()  # whatever was not moved into the flight's folder
        queue.wake()
        return {"flight_id": fid, "run_id": rid}

    @app.post("/api/flights/{flight_id}/runs", status_code=202, tags=["flights"])
    def rerun(flight_id: str, body: RunIn | None = None, tok: Token = Depends(uploader)) -> dict:
        """Queue a new run of a flight; its issues replace the current ones, review history kept where a defect persists."""
        rid = queue_run(catalog, flight_id, (body or RunIn()).params)
        queue.wake()
        return {"flight_id": flight_id, "run_id": rid}

    @app.get("/api/runs/{run_id}", tags=["flights"])
    def get_run(run_id: str, tok: Token = Depends(reader)) -> dict:
        with catalog.session() as s:
            r = s.get(Run, run_id)
            if r is None:
                raise NotFound(f"run {run_id} does not exist")
            return run_record(r)

    @app.get("/api/flights", tags=["flights"])
    def list_flights(tok: Token = Depends(reader)) -> list[dict]:
        with catalog.session() as s:
            return [flight_record(s, f) for f in s.scalars(select(Flight).order_by(Flight.created_at.desc()))]

    @app.get("/api/flights/{flight_id}", tags=["flights"])
    def get_flight(flight_id: str, tok: Token = Depends(reader)) -> dict:
        with catalog.session() as s:
            return flight_record(s, flight_or_404(s, flight_id))

    @app.get("/api/flights/{flight_id}/issues", tags=["issues"])
    def flight_issues(flight_id: str, type: list[str] | None = Query(None), severity: list[str] | None = Query(None),
                      status: list[str] | None = Query(None), bbox: str | None = Query(None, description="west,south,east,north (WGS 84)"),
                      tok: Token = Depends(reader)) -> Response:
        """RFC 7946 FeatureCollection of the flight's issues with their review ``status``; filters may repeat or be comma-separated."""
        box = None
        if bbox:
            try:
                box = tuple(float(v) for v in bbox.split(","))
                if len(box) != 4:
                    raise ValueError
            except ValueError:
                raise ParameterError(f"bbox {bbox!r}: expected west,south,east,north in degrees") from None
        statuses = _split(status)
        if statuses and (bad := set(statuses) - set(STATUSES)):
            raise ParameterError(f"status {sorted(bad)} not known; expected {', '.join(STATUSES)}")
        with catalog.session() as s:
            flight_or_404(s, flight_id)
            fc = feature_collection(query_issues(s, flight_id, _split(type), _split(severity), statuses, box))
        return Response(json.dumps(fc), media_type="application/geo+json")

    @app.patch("/api/issues/{issue_id}", tags=["issues"])
    def patch_issue(issue_id: str, body: ReviewIn, tok: Token = Depends(reviewer)) -> dict:
        """Set an issue's review status with a comment; committed before the answer (a crash after it loses nothing)."""
        with catalog.session() as s:
            return issue_feature(review(s, issue_id, body.status, body.comment, tok))

    @app.get("/api/issues/{issue_id}", tags=["issues"])
    def get_one_issue(issue_id: str, tok: Token = Depends(reader)) -> dict:
        with catalog.session() as s:
            return issue_feature(get_issue(s, issue_id))

    @app.get("/api/issues/{issue_id}/history", tags=["issues"])
    def issue_history(issue_id: str, tok: Token = Depends(reader)) -> list[dict]:
        with catalog.session() as s:
            return history(s, issue_id)

    @app.get("/api/issues/{issue_id}/chip.png", tags=["issues"], response_class=Response)
    def issue_chip(issue_id: str, tok: Token = Depends(reader)) -> Response:
        """The orthophoto around the issue with its outline (PNG)."""
        import shapely

        with catalog.session() as s:
            issue = get_issue(s, issue_id)
            flight = s.get(Flight, issue.flight_id)
            geom, cog, rng = shapely.from_wkb(issue.geom_wkb), flight.cog_path, flight.rgb_range
            gsd = flight.gsd_m
        if not cog:
            raise NotFound("the map of this flight is not ready yet")
        return Response(render_chip(cog, geom, 1.0, gsd, rng), media_type="image/png")

    @app.get("/api/flights/{flight_id}/tiles/{z}/{x}/{y}.png", tags=["map"], response_class=Response)
    def tile(flight_id: str, z: int, x: int, y: int, tok: Token = Depends(reader)) -> Response:
        """A web-mercator (XYZ) tile of the orthophoto, from the COG made at ingest; 404 outside the orthophoto."""
        with catalog.session() as s:
            f = flight_or_404(s, flight_id)
            cog, rng = f.cog_path, f.rgb_range
        if not cog:
            raise NotFound("the map of this flight is not ready yet")
        png = render_tile(cog, z, x, y, rng)
        if png is None:
            raise NotFound(f"tile {z}/{x}/{y} is outside the orthophoto")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/flights/{flight_id}/export", tags=["issues"], response_class=FileResponse)
    def export(flight_id: str, format: Literal["gpkg", "geojson", "csv"] = "geojson", tok: Token = Depends(reader)):
        """The flight's issues with their review status and comment: GeoPackage (flight CRS), GeoJSON (WGS 84) or CSV."""
        folder = data_dir / "exports" / secrets.token_hex(8)
        folder.mkdir(parents=True)
        with catalog.session() as s:
            f = flight_or_404(s, flight_id)
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f.name).strip("._") or "flight"
            path = folder / f"{safe}_issues.{format}"
            export_issues(f, query_issues(s, flight_id), format, path)
        return FileResponse(path, media_type=FORMATS[format], filename=path.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    return app

