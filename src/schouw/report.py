"""``report.html``: a self-contained summary of one run (counts, table of issues, the preview)."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from .issues import ISSUE_TYPES, SEVERITIES, Issue


def count_table(c: Counter) -> dict[str, dict[str, int]]:
    """Counts keyed ``(type, severity)`` as ``{type: {severity: n}}`` (types with none are left out)."""
    return {t: {s: c[(t, s)] for s in SEVERITIES} for t in ISSUE_TYPES if any(c[(t, s)] for s in SEVERITIES)}


def _weeds(p: dict) -> str:
    if "weeds_share" not in p:
        return ""
    return f"{100 * p['weeds_share']:.2f} % ({p['weeds_level']})"


#: Issues listed one by one in the report (all of them are in issues.csv).
REPORT_ISSUES = 2000


def write_report(path: Path, run: dict, issues: list[Issue], areas: list | None, counts: dict[str, dict[str, int]], total: int) -> None:
    """Write the HTML report from the run record (run.json content), the issues and the area records.

    ``issues``: the first :data:`REPORT_ISSUES` issues of the run, listed one by one; ``counts``
    (:func:`count_table`) and ``total`` are the whole run's.
    """
    e = html.escape
    area_rows = "".join(
        f"<tr><td>{e(p['area_id'])}</td><td>{e(p['kind'])}</td><td>{e(str(p['name']))}</td><td>{p['area_m2']:.1f}</td>"
        f"<td>{100 * p.get('affected_share', p.get('damaged_share', 0)):.2f} %</td>"
        f"<td>{_weeds(p)}</td><td><b>{p['quality_level']}</b></td></tr>"
        for p in (r.properties() for r in (areas or [])[:500])
    )
    rows_c = "".join(
        f"<tr><td>{e(t)}</td>" + "".join(f"<td>{n}</td>" for n in by.values()) + f"<td>{sum(by.values())}</td></tr>"
        for t, by in counts.items()
    ) or '<tr><td colspan="5">no issues found</td></tr>'
    rows_i = "".join(
        f"<tr><td><code>{e(i.id)}</code></td><td>{e(i.type)}</td><td>{e(i.subtype or '')}</td><td class='sev-{i.severity}'>{i.severity}</td>"
        f"<td>{i.confidence:.2f}</td><td>{'' if i.length_m is None else f'{i.length_m:.2f}'}</td><td>{i.area_m2:.3f}</td></tr>"
        for i in issues[:REPORT_ISSUES]
    )
    more = f"<p>… and {total - REPORT_ISSUES} more (see issues.csv)</p>" if total > REPORT_ISSUES else ""
    inp = run["input"]
    area = run["area_inspected_m2"]
    doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>schouw — {e(inp['name'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:left}}.sev-L{{background:#f2c94c}}.sev-M{{background:#f2994a}}
.sev-E{{background:#d7263d;color:#fff}}img{{max-width:100%;border:1px solid #888}}</style></head><body>
<h1>Inspection of {e(inp['name'])}</h1>
<p>CRS {e(inp['crs'])}, GSD {inp['gsd_m'] * 100:.2f} cm/px, {inp['width']} × {inp['height']} px;
areas: {e(run['areas']['mode'])}; inspected: road {area['road']:.1f} m², green {area['green']:.1f} m²;
{run['timings_s']['total']:.1f} s.</p>
<h2>Issues by type and severity</h2>
<table><tr><th>type</th><th>L</th><th>M</th><th>E</th><th>total</th></tr>{rows_c}</table>
<h2>Areas and quality levels (CROW beeldkwaliteit)</h2>
<table><tr><th>area</th><th>kind</th><th>name</th><th>m²</th><th>affected</th><th>weeds</th><th>level</th></tr>{area_rows}</table>
<h2>Preview</h2><img src="preview.png" alt="orthophoto with issues outlined by severity">
<h2>Issues</h2>
<table><tr><th>id</th><th>type</th><th>subtype</th><th>severity</th><th>confidence</th><th>length m</th><th>area m²</th></tr>{rows_i}</table>{more}
</body></html>
"""
    path.write_text(doc, encoding="utf-8")
