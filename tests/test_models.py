"""Every parameter set in models/ is the one the code runs, and has a model card with measured scores."""

import json
from dataclasses import asdict

from conftest import ROOT
from schouw.detect.green import SPEC as GREEN_SPEC
from schouw.detect.green import GreenParams
from schouw.detect.road import SPEC as ROAD_SPEC
from schouw.detect.road import RoadParams


def test_parameter_files_match_code_defaults():
    for folder, spec, params in (("road-classic", ROAD_SPEC, RoadParams()), ("green-classic", GREEN_SPEC, GreenParams())):
        data = json.loads((ROOT / "models" / folder / "params.json").read_text())
        assert data == {"detector": spec.name, "version": spec.version, "parameters": asdict(params)}, folder
        card = (ROOT / "models" / folder / "MODEL_CARD.md").read_text()
        assert card.startswith(f"# {spec.name} {spec.version} "), f"{folder}: the card's title must name the version that runs"
        assert "## Scores at a glance" in card or "## Measured" in card, folder
