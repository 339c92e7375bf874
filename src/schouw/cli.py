"""The ``schouw`` command line.

Exit codes: 0 success, 2 bad input (one ``error:`` line on stderr, nothing
left behind), 1 unexpected failure.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import InputError, ParameterError, StallError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Drone-orthophoto inspection of roads and green areas.")
err = Console(stderr=True)
out = Console()


def _fail(exc: Exception, code: int) -> None:
    """Say ``exc`` in one ``error:`` line and exit with ``code``."""
    msg = " ".join(str(exc).split())
    print(f"error: {msg}", file=sys.stderr)
    raise typer.Exit(code)


def _fail_input(exc: Exception) -> None:
    _fail(exc, 2)


_STALL_HELP = "seconds without any tile finishing before the run stops as stuck, keeping the tiles done (default 600)"


def _check_stall(stall_timeout: float | None) -> None:
    from .tile_pool import stall_limit_s

    stall_limit_s(stall_timeout, "--stall-timeout")


def _shown_url(url: str) -> str:
    """A database URL as it may be printed: its password replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL at all: nothing in it is known to be a password
        return url


def _fail_catalog(exc: Exception, data_dir: Path, database_url: Optional[str]) -> None:
    """Exit 2: the catalog (``database_url``, else SQLite in ``data_dir``) is unreachable or not a schouw catalog."""
    _fail_input(ParameterError(f"catalog {_shown_url(database_url) if database_url else data_dir}: {exc}"))


def _open_catalog(data_dir: Optional[Path], database_url: Optional[str]):
    """The catalog the token commands work on; one ``error:`` line and exit 2 if it cannot be opened."""
    from .catalog.db import open_catalog

    data_dir = _data_dir(data_dir)
    try:
        return open_catalog(data_dir, database_url)
    except Exception as exc:  # unreachable, refused, or not a schouw catalog
        _fail_catalog(exc, data_dir, database_url)


def _make_dir(path: Path, option: str) -> None:
    """Create the folder ``path`` (given with ``option``), or exit 2 saying why it cannot be."""
    from .errors import OutputError
    from .publish import make_folder

    try:
        make_folder(path, option)
    except OutputError as exc:
        _fail_input(exc)


def _check_user_api() -> None:
    """Exit 2 in one line if the user named a Prefect API (``PREFECT_API_URL``) that does not answer."""
    from flows.server import check_user_api

    try:
        check_user_api()
    except InputError as exc:
        _fail_input(exc)


def _check_scheduler(address: str, timeout_s: float = 10.0) -> None:
    """ParameterError unless a Dask scheduler answers at ``address`` within ``timeout_s`` (checked before any run)."""
    from distributed import Client

    try:
        Client(address, timeout=timeout_s).close()
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(f"--dask-address {address}: no Dask scheduler answers ({exc}); "
                             "expected the address of a running scheduler, e.g. tcp://host:8786") from exc


def _mapping(field: Optional[str], road: Optional[str], green: Optional[str]) -> Optional[dict]:
    if field is None:
        if road or green:
            raise ParameterError("--road-values/--green-values need --area-field NAME (the attribute to read them from)")
        return None
    split = lambda s: tuple(v.strip() for v in (s or "").split(",") if v.strip())
    if not split(road) and not split(green):
        raise ParameterError(f"--area-field {field} needs --road-values and/or --green-values (comma-separated)")
    return {"field": field, "road": split(road), "green": split(green)}


@app.command()
def inspect(
    orthophoto: Path = typer.Argument(..., help="GeoTIFF / COG orthophoto (any CRS; RGB, RGBA or RGB+NIR; 8 or 16 bit)"),
    areas: Optional[Path] = typer.Option(None, "--areas", help="road/green polygons (GPKG, GeoJSON, Shapefile; any CRS)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="output folder (default: ./schouw-out/<orthophoto stem>)"),
    area_field: Optional[str] = typer.Option(None, help="attribute of AREAS that says road or green"),
    road_values: Optional[str] = typer.Option(None, help="comma-separated values of --area-field meaning road"),
    green_values: Optional[str] = typer.Option(None, help="comma-separated values of --area-field meaning green"),
    tile_px: int = typer.Option(1024, help="core tile size (pixels)"),
    nir_band: Optional[int] = typer.Option(None, help="band number of near-infrared, 0 for none (default: from band descriptions / layout)"),
    executor: str = typer.Option("threads", help="where tile tasks run: threads (this process) or dask"),
    dask_address: Optional[str] = typer.Option(None, help="existing Dask scheduler, e.g. tcp://host:8786 (default: a local cluster)"),
    workers: Optional[int] = typer.Option(None, min=1, help="parallel tile workers (default: one per core)"),
    stall_timeout: Optional[float] = typer.Option(None, "--stall-timeout", help=_STALL_HELP),
) -> None:
    """Inspect one orthophoto: detect road and green-area defects and write georeferenced issue layers."""
    t0 = time.perf_counter()
    try:
        if executor not in ("threads", "dask"):
            raise ParameterError(f"--executor {executor} is not known; expected threads or dask")
        if dask_address and executor != "dask":
            raise ParameterError(f"--dask-address {dask_address} needs --executor dask (tiles would run here, in threads)")
        _check_stall(stall_timeout)
        mapping = _mapping(area_field, road_values, green_values)
    except InputError as exc:
        _fail_input(exc)
    # The Prefect server boots on the other core while the inputs are checked (it takes longest).
    from .prefect_env import configure_prefect

    home = configure_prefect()
    _check_user_api()
    from flows.server import api_for_run

    server = api_for_run(home, real=executor == "dask")  # Dask workers need a real Prefect API
    try:
        from .orthophoto import open_orthophoto
        from .params import InspectParams

        params = InspectParams(tile_px=tile_px)
        ortho = open_orthophoto(orthophoto, nir_band)  # fail fast, before any flow run
        from .integrity import start_check
        from .orthophoto import start_file_sha256

        start_file_sha256(orthophoto)  # read while Prefect boots; the flow's checksum task waits for it
        start_check(orthophoto)  # DEFLATE checksums, read while Prefect boots; the flow waits for them at the end
        if dask_address:
            _check_scheduler(dask_address)
        if areas is not None:
            from .areas import AreaMapping, read_areas

            read_areas(areas, ortho.crs_wkt, ortho.footprint(), AreaMapping(**mapping) if mapping else None)
        from .publish import default_out_dir, make_out_parent

        make_out_parent(out_dir or default_out_dir(orthophoto))  # last: bad input above leaves no folder behind
    except (InputError, ValidationError) as exc:
        if hasattr(server, "stop"):
            server.stop()
        if isinstance(exc, InputError):
            _fail_input(exc)
        e = exc.errors()[0]
        name = ".".join(str(x) for x in e["loc"])
        _fail_input(ParameterError(f"parameter {name} = {e.get('input')!r} is not valid: {e['msg'].lower()}"))
    if executor == "threads":
        # The tile workers boot while Prefect does (1-2 s, well within its 4-6 s); only now, so that bad
        # input exits without having started them.
        from .tile_pool import default_workers, shared_pool

        shared_pool(workers or default_workers()).warm()
    from flows import progress
    from flows.console import known_errors_in_one_line
    from flows.inspect_flight import inspect_flight, task_runner_for

    known_errors_in_one_line()

    prog = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("tiles"), TimeElapsedColumn(), console=err)
    bar = prog.add_task(f"inspecting {orthophoto.name}", total=None)

    seen = {"tile": 0, "batch": 0}

    def listen(event: str, n: int) -> None:
        if event == "total":
            prog.update(bar, total=n)
        else:  # per-tile events (threads) or per-batch events (also Dask): show the larger count
            seen[event] = seen.get(event, 0) + n
            prog.update(bar, completed=max(seen["tile"], seen["batch"]))

    progress.set_listener(listen)
    try:
        with server, prog:
            flow_fn = inspect_flight.with_options(task_runner=task_runner_for(executor, dask_address, workers))
            run = flow_fn(
                orthophoto=str(orthophoto),
                out_dir=str(out_dir) if out_dir else None,
                areas=str(areas) if areas else None,
                area_mapping=mapping,
                params=params.model_dump(),
                nir_band=nir_band,
                workers=workers,
                stall_timeout_s=stall_timeout,
            )
    except InputError as exc:
        _fail_input(exc)
    except StallError as exc:  # not bad input: one line, exit 1
        _fail(exc, 1)
    finally:
        progress.set_listener(None)
    _summary(run, time.perf_counter() - t0)


def _summary(run: dict, seconds: float) -> None:
    counts = run["counts"]["by_type_severity"]
    t = Table(title=f"{run['input']['name']}: {run['counts']['total']} issues")
    t.add_column("type")
    for s in ("L", "M", "E"):
        t.add_column(s, justify="right")
    t.add_column("total", justify="right")
    for typ, by in counts.items():
        t.add_row(typ, *(str(by[s]) for s in ("L", "M", "E")), str(sum(by.values())))
    if not counts:
        t.add_row("(none)", "0", "0", "0", "0")
    out.print(t)
    a = run["area_inspected_m2"]
    out.print(
        f"area inspected: road {a['road']:.1f} m², green {a['green']:.1f} m² (of {a['valid']:.1f} m² valid); "
        f"areas: {run['areas']['mode']}; time: {seconds:.1f} s"
    )
    skipped = [f"{k} ({v})" for k, v in run.get("detectors_applied", {}).items() if v != "applied"]
    if skipped:
        out.print("[yellow]not run:[/] " + "; ".join(skipped))
    out.print(f"output: {run['output_dir']}")


def expand_inputs(items: list[str]) -> list[str]:
    """Files, folders (their *.tif / *.tiff) and glob patterns to a sorted, de-duplicated list of paths."""
    import glob

    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(str(x) for x in p.iterdir() if x.suffix.lower() in (".tif", ".tiff"))
        elif any(c in item for c in "*?["):
            out += sorted(glob.glob(item, recursive=True))
        else:
            out.append(item)  # a missing file is reported by the batch, with the others still run
    seen: set[str] = set()
    return [x for x in out if not (x in seen or seen.add(x))]


@app.command()
def batch(
    inputs: list[str] = typer.Argument(..., help="orthophoto files, folders or glob patterns ('flights/**/*.tif')"),
    out_root: Path = typer.Option(Path("schouw-out"), "--out-root", help="each orthophoto goes to OUT_ROOT/<stem>/"),
    areas: Optional[Path] = typer.Option(None, "--areas", help="road/green polygons used for every orthophoto"),
    stall_timeout: Optional[float] = typer.Option(None, "--stall-timeout", help=_STALL_HELP),
) -> None:
    """Inspect many orthophotos unattended; a bad file is reported and the batch goes on."""
    paths = expand_inputs(inputs)
    try:
        if not paths:
            raise ParameterError(f"no orthophoto matches {' '.join(inputs)}; give files, folders or glob patterns")
        _check_stall(stall_timeout)
    except InputError as exc:
        _fail_input(exc)
    from .prefect_env import configure_prefect

    home = configure_prefect()
    _check_user_api()
    _make_dir(out_root, "--out-root")  # said once, before any run, not once per flight
    from flows.server import api_for_run

    server = api_for_run(home)
    from flows.console import known_errors_in_one_line
    from flows.inspect_batch import inspect_batch

    known_errors_in_one_line()  # each bad file is said in one line below, not also as a traceback

    t0 = time.perf_counter()
    with server:
        results = inspect_batch(paths=paths, out_root=str(out_root), areas=str(areas) if areas else None,
                                stall_timeout_s=stall_timeout)
    t = Table(title=f"batch: {len(results)} orthophotos in {time.perf_counter() - t0:.1f} s")
    for col in ("orthophoto", "status", "issues", "seconds", "output"):
        t.add_column(col)
    for r in results:
        t.add_row(Path(r["path"]).name, r["status"], str(r.get("issues", "")), f"{r['seconds']:.1f}", r["output_dir"] if r["status"] == "ok" else "")
    out.print(t)
    failed = [r for r in results if r["status"] != "ok"]
    for r in failed:
        print(f"error: {r['error']}", file=sys.stderr)
    if any(r["status"] == "failed" for r in failed):
        raise typer.Exit(1)
    if failed:
        raise typer.Exit(2)


def _tally(outcomes) -> tuple[int, list[str]]:
    """(defects found, error messages) over photos' (defects, error or None) outcomes."""
    n_defects, failed = 0, []
    for found, error in outcomes:
        n_defects += found
        if error is not None:
            failed.append(error)
    return n_defects, failed


@app.command("detect-image")
def detect_image(
    paths: list[str] = typer.Argument(..., help="photos (JPEG, PNG) or folders of photos"),
    out_dir: Path = typer.Option(..., "--out-dir", help="folder for <stem>.png (crack mask) and <stem>.json"),
    gsd_m: Optional[float] = typer.Option(None, "--gsd-m", min=0.0001, max=0.1, help="metres per pixel on the ground (default: 0.002, close-range road photos; drone photos need it, e.g. 0.025)"),
    crack_model: str = typer.Option("auto", "--crack-model",
                                    help="auto (mlp for close-range photos finer than 1 cm per pixel, else classic), "
                                         "mlp (learned stage, models/crack-mlp: better F1, slower) or classic (black-hat, road-classic)"),
    jobs: int = typer.Option(1, "--jobs", min=1, max=64, help="photos processed side by side, one process each (e.g. the number of cores)"),
) -> None:
    """Run the road detectors on plain photos; bad photos are listed at the end, the others still processed."""
    from rich.progress import track

    from .photos import DEFAULT_GSD_M, distinct_outputs, learned_stage_applies, list_photos, photo_outcome

    if crack_model not in ("auto", "classic", "mlp"):
        _fail_input(ParameterError(f"--crack-model {crack_model} is not known; expected auto, classic or mlp"))
    model = model_dir = None
    if crack_model == "mlp" or (crack_model == "auto" and learned_stage_applies(gsd_m or DEFAULT_GSD_M)):
        from .detect.crack_mlp import CrackMLP, default_model_dir

        try:
            model_dir = default_model_dir()
            model = CrackMLP.load(model_dir)
            if gsd_m is not None:  # told, not assumed: the photos' size says nothing of their cracks' width
                model = model.with_known_gsd()
        except Exception as exc:  # noqa: BLE001 - a missing file, bad JSON or cv2.error: all say the model is unusable
            _fail_input(ParameterError(f"--crack-model {crack_model}: cannot load {model_dir} ({exc}); "
                                       "train it with benchmarks/train_crack_mlp.py or use --crack-model classic"))

    listed = list_photos(paths)
    if not listed:
        _fail_input(ParameterError(f"no photos found in {' '.join(paths)}; give JPEG/PNG files or folders"))
    photos, clashes = distinct_outputs(listed)  # a photo whose outputs another's would overwrite is not run
    from .heap import keep_heap

    keep_heap()  # a photo's feature planes are reused from the heap, not faulted in afresh (about 20 % of the time)
    _make_dir(out_dir, "--out-dir")
    pool = None
    try:
        if jobs > 1 and len(photos) > 1:
            from .photos import process_photo_job
            from .tile_pool import TilePool

            pool = TilePool(min(jobs, len(photos)))
            futures = [pool.submit(process_photo_job, str(p), str(out_dir), gsd_m, None if model_dir is None else str(model_dir))
                       for p in photos]
            outcomes = (fut.result() for fut in futures)
        else:
            outcomes = (photo_outcome(path, out_dir, gsd_m, model) for path in photos)
        n_defects, failed = _tally(track(outcomes, total=len(photos), description="photos", console=err, disable=len(photos) < 5))
    finally:
        if pool is not None:
            pool.shutdown()
    failed += clashes
    total = len(photos) + len(clashes)
    out.print(f"{total - len(failed)} of {total} photos processed, {n_defects} defects; output: {out_dir}")
    for msg in failed:
        print(f"error: {msg}", file=sys.stderr)
    if failed:
        raise typer.Exit(2)


@app.command("serve-flows")
def serve_flows(
    limit: int = typer.Option(2, min=1, help="flow runs executed at the same time by this process"),
) -> None:
    """Serve the inspect_flight and inspect_batch deployments to a Prefect server (PREFECT_API_URL).

    Then trigger runs with e.g.
    prefect deployment run inspect_flight/inspect-flight -p orthophoto=/data/flight.tif -p out_dir=/data/out/flight
    """
    import os

    if not os.environ.get("PREFECT_API_URL"):
        _fail_input(ParameterError("PREFECT_API_URL is not set; start `prefect server start` and export PREFECT_API_URL=http://HOST:4200/api"))
    from .prefect_env import configure_prefect

    configure_prefect()
    _check_user_api()
    from prefect import serve

    from flows.inspect_batch import inspect_batch
    from flows.inspect_flight import inspect_flight

    serve(
        inspect_flight.to_deployment(name="inspect-flight", description="Inspect one orthophoto", tags=["schouw"]),
        inspect_batch.to_deployment(name="inspect-batch", description="Inspect many orthophotos", tags=["schouw"]),
        limit=limit,
    )


def _data_dir(data_dir: Optional[Path]) -> Path:
    import platformdirs

    return data_dir or Path(platformdirs.user_data_dir("schouw")) / "server"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="catalog, uploads and runs (default: ~/.local/share/schouw/server)"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="e.g. postgresql://user:pw@host/db (default: SQLite in DATA_DIR)"),
    max_upload_mb: int = typer.Option(20480, min=1, help="largest accepted upload (MiB)"),
) -> None:
    """Start the web API and review UI, and the executor of the inspection flows they queue (one command, embedded defaults)."""
    import uvicorn

    from .prefect_env import configure_prefect

    data_dir = _data_dir(data_dir)
    _make_dir(data_dir, "--data-dir")
    home = configure_prefect(data_dir / "prefect")
    _check_user_api()
    from flows.server import api_for_run

    # a local Prefect API for the flow runs, unless PREFECT_API_URL names one: it boots while the catalog is opened,
    # and a catalog that cannot be opened is said at once, not after the boot (5-20 s), with the API stopped
    api = api_for_run(home)
    from .web.app import Settings, create_app

    try:
        web = create_app(Settings(data_dir=data_dir, database_url=database_url, max_upload_bytes=max_upload_mb * 1024 * 1024))
    except Exception as exc:  # the database is unreachable or not a schouw catalog
        if hasattr(api, "stop"):  # the API process it started (none if PREFECT_API_URL names one)
            api.stop()
        _fail_catalog(exc, data_dir, database_url)
    with api:
        from .tile_pool import default_workers, shared_pool

        shared_pool(default_workers()).warm()  # only once the catalog opened: a refused start leaves no workers behind
        err.print(f"schouw serving on http://{host}:{port} (data in {data_dir})")
        uvicorn.run(web, host=host, port=port, log_level="warning")


token_app = typer.Typer(help="API tokens for the web server.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    role: str = typer.Option(..., "--role", help="uploader, reviewer or admin"),
    name: Optional[str] = typer.Option(None, "--name", help="who uses it, shown in review history (default: the role)"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="as given to schouw serve"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="as given to schouw serve"),
) -> None:
    """Print a new API token (stored hashed; shown only now) as the last word of the output."""
    from .catalog.models import ROLES
    from .catalog.tokens import create_token

    if role not in ROLES:
        _fail_input(ParameterError(f"--role {role} is not known; expected one of {', '.join(ROLES)}"))
    with _open_catalog(data_dir, database_url) as catalog:
        token = create_token(catalog, role, name)
    print(f"new {role} token for {name or role}: {token}")


@token_app.command("list")
def token_list(
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="as given to schouw serve"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="as given to schouw serve"),
) -> None:
    """List the API tokens (id, name, role, created, revoked); the tokens themselves are not stored."""
    from .catalog.tokens import list_tokens

    with _open_catalog(data_dir, database_url) as catalog:
        rows = list_tokens(catalog)
    table = Table("id", "name", "role", "created", "revoked")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], r["created_at"], "yes" if r["revoked"] else "")
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., help="the id shown by schouw token list"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="as given to schouw serve"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="as given to schouw serve"),
) -> None:
    """Revoke a token: every request with it is refused (401) from now on."""
    from .catalog.tokens import revoke_token

    with _open_catalog(data_dir, database_url) as catalog:
        try:
            revoke_token(catalog, token_id)
        except LookupError as exc:
            _fail_input(ParameterError(str(exc)))
    out.print(f"token {token_id} revoked")


@app.command()
def synth(
    out_dir: Path = typer.Option(Path("sample_data"), "--out", help="folder to write the sample into"),
) -> None:
    """Generate the synthetic sample orthophoto (EPSG:28992, 2 cm/px), its AREAS and its truth file."""
    from .synth import write_sample

    _make_dir(out_dir, "--out")
    files = write_sample(out_dir)
    for f in files:
        out.print(f"wrote {f} ({f.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    """Console entry point: bad input exits 2, unexpected failures exit 1 with a traceback."""
    try:
        app()
    except InputError as exc:  # pragma: no cover - commands handle their own
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)
