"""The issue model and the severity rules (no I/O).

Severities follow CROW's three levels L / M / E (licht, matig, ernstig),
derived from measured quantities. The thresholds live in one table,
:data:`SEVERITY_RULES`, each with its source or rationale.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

ROAD_TYPES = ("crack", "pothole", "ravelling", "weeds_in_pavement")
GREEN_TYPES = ("dry_grass", "bare_soil", "overgrowth")
ISSUE_TYPES = ROAD_TYPES + GREEN_TYPES
LINEAR_TYPES = ("crack", "overgrowth")  # issues with a length_m (overgrowth: along the green border)
SEVERITIES = ("L", "M", "E")


def family(issue_type: str) -> str:
    """``road`` or ``green``: the GeoPackage layer family of an issue type."""
    if issue_type in ROAD_TYPES:
        return "road"
    if issue_type in GREEN_TYPES:
        return "green"
    raise ValueError(f"unknown issue type {issue_type!r}; expected one of {', '.join(ISSUE_TYPES)}")


@dataclass(frozen=True)
class SeverityRule:
    """Severity is L below ``l_max``, M below ``m_max``, E above, measured on ``quantity``."""

    quantity: str
    l_max: float
    m_max: float
    source: str


SEVERITY_RULES: dict[str, SeverityRule] = {
    "crack": SeverityRule(
        "mean_width_m", 0.010, 0.075,
        "ASTM D6433 longitudinal/transverse cracking: low < 10 mm (3/8 in), medium 10-75 mm, high > 75 mm; "
        "CROW visual inspection uses the same width classes for scheuren",
    ),
    "pothole": SeverityRule(
        "area_m2", 0.16, 0.45,
        "ASTM D6433 potholes by diameter: < 450 mm low/medium, 450-750 mm medium/high, > 750 mm high "
        "(circle areas 0.16 and 0.44 m2); depth is not measurable from a nadir photo",
    ),
    "ravelling": SeverityRule("area_m2", 1.0, 10.0, "CROW rafeling: share of the surface; absolute area as a proxy per issue"),
    "weeds_in_pavement": SeverityRule(
        "area_m2", 0.05, 0.5,
        "CROW beeldkwaliteit onkruid op verharding: a single plant (< 0.05 m2) is minor, a clump over 0.5 m2 is grave",
    ),
    "dry_grass": SeverityRule("area_m2", 2.0, 10.0, "project rule: repair effort of re-seeding scales with patch area"),
    "bare_soil": SeverityRule("area_m2", 1.0, 5.0, "project rule: bare patches erode and grow; smaller threshold than dry grass"),
    "overgrowth": SeverityRule("area_m2", 0.5, 2.0, "project rule: area of vegetation on paving beyond the border"),
}


def severity(issue_type: str, measures: dict[str, float]) -> str:
    """L / M / E for an issue from its measures (see :data:`SEVERITY_RULES`)."""
    rule = SEVERITY_RULES[issue_type]
    v = measures.get(rule.quantity) or 0.0
    if v < rule.l_max:
        return "L"
    if v < rule.m_max:
        return "M"
    return "E"


@dataclass
class Issue:
    """A reviewable issue: a defect in map space (``geometry`` in the orthophoto's CRS)."""

    id: str
    type: str
    subtype: str | None
    severity: str
    confidence: float
    length_m: float | None
    area_m2: float
    mean_width_m: float | None
    max_width_m: float | None
    geometry: Any
    flight: str
    tiles: int = 1
    geometry_px: Any = None  # the same geometry in global pixel coordinates (for per-area shares)

    def properties(self) -> dict[str, Any]:
        """The attribute row shared by every export (GeoPackage, GeoJSON, CSV)."""
        return {
            "id": self.id,
            "type": self.type,
            "subtype": self.subtype,
            "severity": self.severity,
            "confidence": round(self.confidence, 3),
            "length_m": None if self.length_m is None else round(self.length_m, 3),
            "area_m2": round(self.area_m2, 4),
            "mean_width_m": None if self.mean_width_m is None else round(self.mean_width_m, 4),
            "max_width_m": None if self.max_width_m is None else round(self.max_width_m, 4),
            "flight": self.flight,
        }


def issue_id(flight_key: str, issue_type: str, x: float, y: float, gsd: float) -> str:
    """Stable id: the same input, parameters and defect give the same id in every run."""
    qx, qy = round(x / gsd), round(y / gsd)
    return hashlib.sha1(f"{flight_key}|{issue_type}|{qx}|{qy}".encode()).hexdigest()[:16]
