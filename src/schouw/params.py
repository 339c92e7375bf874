"""Typed run parameters (pydantic, unknown keys refused)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from pydantic import BaseModel, ConfigDict, Field

from .detect.green import GreenParams
from .detect.road import RoadParams


class InspectParams(BaseModel):
    """Parameters of one inspection run. Distances in metres, sizes in pixels where named ``_px``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tile_px: int = Field(1024, ge=64, le=8192, description="core tile size in pixels")
    overlap_m: float = Field(1.0, ge=0, le=20, description="context read around each tile (metres); >= largest detector context")
    min_overlap_px: int = Field(32, ge=0, le=1024, description="overlap never smaller than this (pixels)")
    road: dict = Field(default_factory=dict, description="overrides of RoadParams fields")
    green: dict = Field(default_factory=dict, description="overrides of GreenParams fields")

    def road_params(self) -> RoadParams:
        return RoadParams(**self.road)

    def green_params(self) -> GreenParams:
        return GreenParams(**self.green)

    def overlap_px(self, gsd_m: float) -> int:
        return int(min(max(self.min_overlap_px, round(self.overlap_m / gsd_m)), self.tile_px))

    def effective(self) -> dict:
        """All values actually used, defaults included (for run.json and the id hash)."""
        return {
            "tile_px": self.tile_px,
            "overlap_m": self.overlap_m,
            "min_overlap_px": self.min_overlap_px,
            "road": asdict(self.road_params()),
            "green": asdict(self.green_params()),
        }

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.effective(), sort_keys=True).encode()).hexdigest()[:16]
