"""Catalog tables (SQLAlchemy 2 ORM). Geometry is kept twice: WKB in the orthophoto's CRS (exports)
and RFC 7946 GeoJSON in WGS 84 with its lon/lat bounds (the web map, bbox filters)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATES = ("PENDING", "RUNNING", "COMPLETED", "FAILED")
STATUSES = ("open", "confirmed", "rejected", "fixed")
ROLES = ("uploader", "reviewer", "admin")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(t: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes: they were stored as UTC)."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).isoformat()


class Base(DeclarativeBase):
    pass


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Flight(Base):
    __tablename__ = "flights"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    orthophoto_path: Mapped[str] = mapped_column(Text)  # server-side, server-chosen name
    areas_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    cog_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    crs_wkt: Mapped[str] = mapped_column(Text)
    crs: Mapped[str] = mapped_column(String(100))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bounds_wgs84: Mapped[list] = mapped_column(JSON)  # [west, south, east, north]
    gsd_m: Mapped[float] = mapped_column(Float)
    rgb_range: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [[lo, hi]] * 3 for display of 16-bit data
    runs: Mapped[list["Run"]] = relationship(back_populates="flight", order_by="Run.created_at", cascade="all, delete-orphan")


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="PENDING", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    out_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    counts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    flight: Mapped[Flight] = relationship(back_populates="runs")


class Issue(Base):
    __tablename__ = "issues"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # catalog id: kept across reruns while the defect persists
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    pipeline_id: Mapped[str] = mapped_column(String(32))  # the id in the run's own outputs
    type: Mapped[str] = mapped_column(String(32))
    subtype: Mapped[str | None] = mapped_column(String(32), nullable=True)
    severity: Mapped[str] = mapped_column(String(1))
    confidence: Mapped[float] = mapped_column(Float)
    length_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    area_m2: Mapped[float] = mapped_column(Float)
    mean_width_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_width_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)  # in the flight's CRS
    geojson: Mapped[str] = mapped_column(Text)  # RFC 7946 geometry, WGS 84
    west: Mapped[float] = mapped_column(Float)
    south: Mapped[float] = mapped_column(Float)
    east: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actions: Mapped[list["ReviewAction"]] = relationship(back_populates="issue", order_by="ReviewAction.id", cascade="all, delete-orphan")

    __table_args__ = (Index("ix_issues_flight_bbox", "flight_id", "west", "south", "east", "north"),)


class ReviewAction(Base):
    __tablename__ = "review_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[str] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issue: Mapped[Issue] = relationship(back_populates="actions")
