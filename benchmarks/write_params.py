"""Write models/*/params.json from the code defaults (run after changing a detector's parameters)."""

import json
from dataclasses import asdict
from pathlib import Path

from schouw.detect.green import SPEC as G
from schouw.detect.green import GreenParams
from schouw.detect.road import SPEC as R
from schouw.detect.road import RoadParams

ROOT = Path(__file__).resolve().parents[1]
for spec, params in ((R, RoadParams()), (G, GreenParams())):
    path = ROOT / "models" / spec.name / "params.json"
    path.write_text(json.dumps({"detector": spec.name, "version": spec.version, "parameters": asdict(params)}, indent=2) + "\n")
    print("wrote", path)
