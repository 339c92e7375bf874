// The schouw review UI: flights and their runs, upload, a map of a flight's issues, review and export.
// Every API call carries the token (Authorization: Bearer); map tiles are fetched the same way.
import "leaflet/dist/leaflet.css";
import L from "leaflet";

const SEVERITY_COLOURS = { L: "#f2c94c", M: "#f2994a", E: "#d7263d" };
const $ = (id) => document.getElementById(id);
let token = localStorage.getItem("schouw-token") || "";
let flights = [];
let current = null; // selected flight id
let selectedIssue = null;
let shownRun = null; // the run whose issues the map shows
let map, orthoLayer, issuesLayer;
const layersById = new Map();

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${token}` };
  const res = await fetch(path, { ...options, headers });
  if (res.status === 401) {
    logout("Your token is not valid any more.");
    throw new Error("unauthorised");
  }
  if (!res.ok) {
    let msg = res.statusText;
    try { msg = (await res.json()).detail || msg; } catch (_) { /* not JSON */ }
    throw new Error(`${res.status}: ${msg}`);
  }
  return res;
}

function logout(message = "") {
  token = "";
  localStorage.removeItem("schouw-token");
  $("app").hidden = true;
  $("logout-btn").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message;
}

async function login(candidate) {
  token = candidate;
  try {
    const me = await (await api("/api/me")).json();
    localStorage.setItem("schouw-token", token);
    $("who").textContent = `${me.name} (${me.role})`;
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout-btn").hidden = false;
    $("upload-section").hidden = !["uploader", "admin"].includes(me.role);
    $("review-buttons").hidden = !["reviewer", "admin"].includes(me.role);
    initMap();
    await refreshFlights();
  } catch (e) {
    if (e.message !== "unauthorised") $("login-error").textContent = e.message;
  }
}

// Orthophoto tiles fetched with the token (an <img> tag cannot send an Authorization header).
const AuthTiles = L.GridLayer.extend({
  createTile(coords, done) {
    const img = document.createElement("img");
    img.alt = "";
    api(`/api/flights/${this.options.flightId}/tiles/${coords.z}/${coords.x}/${coords.y}.png`)
      .then((r) => r.blob())
      .then((b) => { img.onload = () => { URL.revokeObjectURL(img.src); done(null, img); }; img.src = URL.createObjectURL(b); })
      .catch(() => { img.style.visibility = "hidden"; done(null, img); }); // outside the orthophoto: no tile
    return img;
  },
});

function initMap() {
  if (map) return;
  map = L.map("map", { maxZoom: 24, zoomSnap: 0.5 }).setView([52.1, 5.1], 8);
}

function stateText(run) {
  if (!run) return "no run";
  if (run.state === "RUNNING") return `running ${Math.round(run.progress * 100)} %`;
  if (run.state === "FAILED") return `failed: ${run.error || ""}`;
  return run.state.toLowerCase();
}

async function refreshFlights() {
  flights = await (await api("/api/flights")).json();
  const list = $("flight-list");
  list.replaceChildren(...flights.map((f) => {
    const li = document.createElement("li");
    li.className = "flight-item" + (f.flight_id === current ? " selected" : "");
    li.dataset.flightId = f.flight_id;
    const run = f.latest_run;
    const state = run ? run.state : "NONE";
    li.dataset.state = state;
    const c = f.counts;
    li.innerHTML = `<strong></strong><br><span class="flight-state ${state}"></span>
      <progress max="1" value="${run ? run.progress : 0}"></progress>
      <span class="flight-counts">${c.total} issues, ${c.by_status.confirmed} confirmed</span>`;
    li.querySelector("strong").textContent = f.name;
    li.querySelector(".flight-state").textContent = stateText(run);
    li.onclick = () => selectFlight(f.flight_id);
    return li;
  }));
  const busy = flights.some((f) => f.latest_run && ["PENDING", "RUNNING"].includes(f.latest_run.state));
  const sel = flights.find((f) => f.flight_id === current);
  if (sel && sel.latest_run && sel.latest_run.state === "COMPLETED" && shownRun !== sel.latest_run.run_id) {
    await selectFlight(current); // a run finished while its flight was open: show its issues
  }
  clearTimeout(refreshFlights.timer);
  refreshFlights.timer = setTimeout(() => refreshFlights().catch(() => {}), busy ? 1500 : 10000);
}

async function selectFlight(id) {
  current = id;
  const f = flights.find((x) => x.flight_id === id);
  shownRun = f.latest_run && f.latest_run.state === "COMPLETED" ? f.latest_run.run_id : null;
  document.querySelectorAll(".flight-item").forEach((el) => el.classList.toggle("selected", el.dataset.flightId === id));
  $("flight-title").textContent = f.name;
  $("export-btn").disabled = false;
  const types = Object.keys(f.counts.by_type).sort();
  $("filter-type").replaceChildren(new Option("all", ""), ...types.map((t) => new Option(t, t)));
  closeIssue();
  // asked for before the imagery: the browser queues requests to one server, and a screenful of tiles, each
  // rendered from the orthophoto, would hold the issue list back behind them
  const issues = loadIssues();
  if (orthoLayer) map.removeLayer(orthoLayer);
  orthoLayer = new AuthTiles({ flightId: id, maxZoom: 24, tileSize: 256 }).addTo(map);
  const [w, s, e, n] = f.bounds_wgs84;
  map.fitBounds([[s, w], [n, e]]);
  await issues;
}

async function loadIssues() {
  if (!current) return;
  const q = new URLSearchParams();
  for (const [key, el] of [["type", "filter-type"], ["severity", "filter-severity"], ["status", "filter-status"]]) {
    if ($(el).value) q.set(key, $(el).value);
  }
  const fc = await (await api(`/api/flights/${current}/issues?${q}`)).json();
  if (issuesLayer) map.removeLayer(issuesLayer);
  layersById.clear();
  issuesLayer = L.geoJSON(fc, {
    style: (f) => ({ color: SEVERITY_COLOURS[f.properties.severity] || "#888", weight: 3, fillOpacity: 0.35,
                     dashArray: f.properties.status === "rejected" ? "4 4" : null }),
    onEachFeature: (f, layer) => {
      layersById.set(f.id, layer);
      layer.on("click", () => openIssue(f.id));
      layer.bindTooltip(`${f.properties.type} ${f.properties.severity} (${f.properties.status})`);
    },
  }).addTo(map);
  $("issue-list").replaceChildren(...fc.features.map((f) => {
    const li = document.createElement("li");
    li.className = "issue-item" + (f.id === selectedIssue ? " selected" : "");
    li.dataset.issueId = f.id;
    li.dataset.status = f.properties.status;
    li.innerHTML = `<span class="sev sev-${f.properties.severity}">${f.properties.severity}</span> <span class="t"></span>`;
    li.querySelector(".t").textContent = `${f.properties.type}${f.properties.subtype ? " " + f.properties.subtype : ""} · ${f.properties.status}`;
    li.onclick = () => openIssue(f.id, true);
    return li;
  }));
}

function closeIssue() {
  selectedIssue = null;
  $("issue-panel").hidden = true;
}

async function openIssue(id, zoom = false) {
  selectedIssue = id;
  const f = await (await api(`/api/issues/${id}`)).json();
  const p = f.properties;
  $("issue-panel").hidden = false;
  $("issue-panel").dataset.issueId = id;
  $("issue-title").textContent = `${p.type}${p.subtype ? " (" + p.subtype + ")" : ""} — ${p.severity}`;
  const rows = ["status", "severity", "confidence", "length_m", "area_m2", "mean_width_m", "max_width_m", "comment", "updated_at"]
    .filter((k) => p[k] !== null && p[k] !== undefined)
    .map((k) => { const tr = document.createElement("tr"); tr.innerHTML = "<td></td><td></td>"; tr.cells[0].textContent = k; tr.cells[1].textContent = p[k]; tr.dataset.key = k; return tr; });
  $("issue-attrs").replaceChildren(...rows);
  $("review-comment").value = p.comment || "";
  $("review-status").textContent = "";
  document.querySelectorAll(".issue-item").forEach((el) => el.classList.toggle("selected", el.dataset.issueId === id));
  const layer = layersById.get(id);
  if (zoom && layer) map.fitBounds(layer.getBounds(), { maxZoom: 23, padding: [40, 40] });
  api(`/api/issues/${id}/chip.png`).then((r) => r.blob()).then((b) => { $("issue-chip").src = URL.createObjectURL(b); }).catch(() => { $("issue-chip").removeAttribute("src"); });
  const hist = await (await api(`/api/issues/${id}/history`)).json();
  $("issue-history").replaceChildren(...hist.map((h) => {
    const li = document.createElement("li");
    li.textContent = `${h.at.slice(0, 19).replace("T", " ")} ${h.actor}: ${h.previous_status} → ${h.status}${h.comment ? " — " + h.comment : ""}`;
    return li;
  }));
}

async function setStatus(status) {
  if (!selectedIssue) return;
  try {
    await api(`/api/issues/${selectedIssue}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status, comment: $("review-comment").value || null }),
    });
    const id = selectedIssue;
    await loadIssues();
    await openIssue(id);
    $("review-status").textContent = `saved: ${status}`;
    refreshFlights();
  } catch (e) {
    $("review-status").textContent = e.message;
  }
}

async function upload(ev) {
  ev.preventDefault();
  const form = new FormData();
  form.append("file", $("upload-file").files[0]);
  if ($("upload-areas").files[0]) form.append("areas", $("upload-areas").files[0]);
  if ($("upload-name").value) form.append("name", $("upload-name").value);
  $("upload-status").textContent = "uploading…";
  $("upload-btn").disabled = true;
  try {
    const r = await (await api("/api/flights", { method: "POST", body: form })).json();
    $("upload-status").textContent = `queued (flight ${r.flight_id})`;
    $("upload-form").reset();
    await refreshFlights();
  } catch (e) {
    $("upload-status").textContent = e.message;
  } finally {
    $("upload-btn").disabled = false;
  }
}

async function exportIssues() {
  const fmt = $("export-format").value;
  const r = await api(`/api/flights/${current}/export?format=${fmt}`);
  const name = (r.headers.get("content-disposition") || "").match(/filename="?([^";]+)"?/)?.[1] || `issues.${fmt}`;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await r.blob());
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

$("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); login($("token-input").value.trim()); });
$("logout-btn").addEventListener("click", () => logout());
$("upload-form").addEventListener("submit", upload);
$("export-btn").addEventListener("click", () => exportIssues().catch((e) => alert(e.message)));
for (const id of ["filter-type", "filter-severity", "filter-status"]) $(id).addEventListener("change", () => loadIssues());
document.querySelectorAll("#review-buttons button").forEach((b) => b.addEventListener("click", () => setStatus(b.dataset.status)));
if (token) login(token); else $("login").hidden = false;
