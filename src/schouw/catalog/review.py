"""Reading and reviewing the catalog: issue features with their review status, counts, review actions."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import STATUSES, Flight, Issue, ReviewAction, Run, Token, iso, utcnow

ISSUE_FIELDS = ("type", "subtype", "severity", "confidence", "length_m", "area_m2", "mean_width_m", "max_width_m", "status", "comment")


class NotFound(LookupError):
    pass


def issue_properties(i: Issue) -> dict:
    return {"id": i.id, "flight_id": i.flight_id, "run_id": i.run_id, "pipeline_id": i.pipeline_id,
            **{k: getattr(i, k) for k in ISSUE_FIELDS}, "updated_at": iso(i.updated_at)}


def issue_feature(i: Issue) -> dict:
    """An RFC 7946 Feature (WGS 84) with the issue's properties and review status."""
    return {"type": "Feature", "id": i.id, "properties": issue_properties(i), "geometry": json.loads(i.geojson)}


def query_issues(s: Session, flight_id: str, type: list[str] | None = None, severity: list[str] | None = None,
                 status: list[str] | None = None, bbox: tuple[float, float, float, float] | None = None) -> list[Issue]:
    """The flight's issues, filtered; ``bbox`` = (west, south, east, north) in WGS 84 degrees keeps issues that overlap it."""
    q = select(Issue).where(Issue.flight_id == flight_id)
    if type:
        q = q.where(Issue.type.in_(type))
    if severity:
        q = q.where(Issue.severity.in_(severity))
    if status:
        q = q.where(Issue.status.in_(status))
    if bbox:
        w, so, e, n = bbox
        q = q.where(Issue.east >= w, Issue.west <= e, Issue.north >= so, Issue.south <= n)
    return list(s.scalars(q.order_by(Issue.id)))


def feature_collection(issues: list[Issue]) -> dict:
    return {"type": "FeatureCollection", "features": [issue_feature(i) for i in issues]}


def get_issue(s: Session, issue_id: str) -> Issue:
    issue = s.get(Issue, issue_id)
    if issue is None:
        raise NotFound(f"issue {issue_id} does not exist")
    return issue


def review(s: Session, issue_id: str, status: str, comment: str | None, token: Token) -> Issue:
    """Set an issue's review status, recording who did it and when (in the caller's transaction)."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not known; expected one of {', '.join(STATUSES)}")
    issue = get_issue(s, issue_id)
    now = utcnow()
    s.add(ReviewAction(issue_id=issue.id, status=status, previous_status=issue.status, comment=comment, actor=token.name,
                       role=token.role, at=now))
    issue.status, issue.comment, issue.updated_at = status, comment, now
    return issue


def history(s: Session, issue_id: str) -> list[dict]:
    issue = get_issue(s, issue_id)
    return [{"status": a.status, "previous_status": a.previous_status, "comment": a.comment, "actor": a.actor, "role": a.role,
             "at": iso(a.at)} for a in issue.actions]


def run_record(r: Run) -> dict:
    return {"run_id": r.id, "flight_id": r.flight_id, "state": r.state, "progress": round(r.progress, 3), "error": r.error,
            "created_at": iso(r.created_at), "started_at": iso(r.started_at), "finished_at": iso(r.finished_at), "params": r.params, "counts": r.counts}


def flight_record(s: Session, f: Flight) -> dict:
    """Flight metadata, its latest run and issue counts by type, severity and review status."""
    rows = s.execute(select(Issue.type, Issue.severity, Issue.status).where(Issue.flight_id == f.id)).all()
    latest = f.runs[-1] if f.runs else None
    return {
        "flight_id": f.id, "name": f.name, "created_at": iso(f.created_at), "created_by": f.created_by,
        "size_bytes": f.size_bytes, "crs": f.crs, "width": f.width, "height": f.height, "bounds_wgs84": f.bounds_wgs84,
        "latest_run": run_record(latest) if latest else None,
        "counts": {"total": len(rows), "by_type": dict(Counter(r[0] for r in rows)), "by_severity": dict(Counter(r[1] for r in rows)),
                   "by_status": {st: sum(1 for r in rows if r[2] == st) for st in STATUSES}},
    }
