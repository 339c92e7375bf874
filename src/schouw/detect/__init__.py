"""Pure image algorithms: numpy arrays in, arrays and plain records out.

No files, no CRS, no Prefect. Every detector has the one interface
``detect(image, valid, area, gsd_m, params) -> list[Defect]``: ``image`` is
(H, W, 3) uint8 RGB, ``valid`` and ``area`` are (H, W) bool, ``gsd_m`` is
metres per pixel; parameters are in metres and turned into pixels here.
"""

from .base import Defect, DetectorSpec

__all__ = ["Defect", "DetectorSpec"]
