"""The review UI end to end in a real headless Chromium (Debian's, driven by Playwright):
log in with a token, upload the sample, wait for the run, open an issue, confirm it, export, check the export."""

from __future__ import annotations

import json
import shutil
import pytest

from conftest import ROOT, SAMPLE
from webserver import Server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BUILT = (ROOT / "src" / "schouw" / "web" / "static" / "dist" / "app.js").exists()
ARTIFACTS = ROOT / "test-artifacts"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.skipif(not BUILT, reason="the UI is not built: npm --prefix web ci && npm --prefix web run build")
def test_upload_review_and_export_in_a_browser(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    srv = Server(tmp_path / "serve")
    token = srv.token("admin", "Chris")
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(srv.url + "/")
            page.fill("#token-input", "schouw_wrong")
            page.click("#login-btn")
            expect(page.locator("#login-error")).to_contain_text("not valid")
            page.fill("#token-input", token)
            page.click("#login-btn")
            expect(page.locator("#who")).to_have_text("Chris (admin)")

            page.set_input_files("#upload-file", str(SAMPLE / "sample_orthophoto.tif"))
            page.set_input_files("#upload-areas", str(SAMPLE / "sample_areas.geojson"))
            page.fill("#upload-name", "Kerkstraat")
            page.click("#upload-btn")
            expect(page.locator("#upload-status")).to_contain_text("queued")
            item = page.locator(".flight-item", has_text="Kerkstraat")
            expect(item).to_have_attribute("data-state", "COMPLETED", timeout=180_000)
            item.click()
            # the list comes before the imagery's tiles; a slow machine still gets 20 s (CI once took over 5 s)
            expect(page.locator(".issue-item").first).to_be_visible(timeout=20_000)
            # the map shows the orthophoto and the issues
            expect(page.locator("#map img[src^='blob:']").first).to_be_attached(timeout=30_000)
            expect(page.locator("#map path.leaflet-interactive").first).to_be_attached()

            page.select_option("#filter-type", "bare_soil")  # filter, then click a blob on the map (a real click)
            expect(page.locator(".issue-item", has_not_text="bare_soil")).to_have_count(0)
            page.locator("#map path.leaflet-interactive").first.click()
            expect(page.locator("#issue-panel")).to_be_visible()
            issue_id = page.locator("#issue-panel").get_attribute("data-issue-id")
            page.fill("#review-comment", "confirmed on site")
            page.click("#review-buttons button[data-status=confirmed]")
            expect(page.locator("#review-status")).to_have_text("saved: confirmed")
            expect(page.locator("#issue-history li")).to_contain_text("Chris: open → confirmed — confirmed on site")
            expect(page.locator(f".issue-item[data-issue-id='{issue_id}']")).to_have_attribute("data-status", "confirmed")
            page.wait_for_function("document.getElementById('issue-chip').naturalWidth > 0")

            page.select_option("#export-format", "geojson")
            with page.expect_download() as dl:
                page.click("#export-btn")
            path = tmp_path / dl.value.suggested_filename
            dl.value.save_as(path)
            page.screenshot(path=str(ARTIFACTS / "e2e_review.png"))
            browser.close()
    finally:
        srv.stop()
    exported = json.loads(path.read_text())
    props = {f["id"]: f["properties"] for f in exported["features"]}
    assert props[issue_id]["status"] == "confirmed" and props[issue_id]["comment"] == "confirmed on site"
    assert sum(p["status"] == "confirmed" for p in props.values()) == 1
    assert errors == []
    assert (ARTIFACTS / "e2e_review.png").stat().st_size > 10_000
