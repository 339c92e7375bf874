"""The README's demo command, as a user runs it: a real process, a real temporary Prefect server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import SAMPLE


def test_inspect_demo_default_output_folder(tmp_path):
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect-home"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    env.pop("PREFECT_API_URL", None)
    r = subprocess.run(
        [sys.executable, "-m", "schouw", "inspect", str(SAMPLE / "sample_orthophoto.tif"), "--areas", str(SAMPLE / "sample_areas.geojson")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "schouw-out" / "sample_orthophoto"
    run = json.loads((out / "run.json").read_text())
    # the summary table: issues by type and severity, area inspected, time taken
    for word in ("crack", "pothole", "dry_grass", "bare_soil", "weeds_in_pavement", "area inspected", "time:"):
        assert word in r.stdout, r.stdout
    assert f"{run['counts']['total']} issues" in r.stdout
    assert "tiles" in r.stderr  # the progress bar over tiles
    assert (tmp_path / "prefect-home").is_dir()  # Prefect kept to the home we gave it


def test_bad_option_values_exit_2(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "schouw", "inspect", str(SAMPLE / "sample_orthophoto.tif"), "--tile-px", "3"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "tile_px" in r.stderr, r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "schouw", "inspect", str(SAMPLE / "sample_orthophoto.tif"), "--road-values", "asphalt"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2 and "--area-field" in r.stderr, r.stderr


@pytest.mark.parametrize("args, said", [
    (["inspect", str(SAMPLE / "sample_orthophoto.tif"), "--stall-timeout", "0"], "--stall-timeout 0 is not valid; expected seconds above 0"),
    (["batch", str(SAMPLE), "--stall-timeout", "-5"], "--stall-timeout -5 is not valid"),
])
def test_a_stall_timeout_that_cannot_apply_is_refused(tmp_path, args, said):
    """Refused before anything runs: one error line, exit 2, no output folder."""
    r = subprocess.run([sys.executable, "-m", "schouw", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith(f"error: {said}"), r.stderr[-2000:]
    assert not (tmp_path / "schouw-out").exists()


def test_token_create_prints_the_token_last_and_refuses_unknown_roles(tmp_path):
    from schouw.catalog.db import open_catalog
    from schouw.catalog.tokens import lookup

    cmd = [sys.executable, "-m", "schouw", "token", "create", "--data-dir", str(tmp_path)]
    r = subprocess.run([*cmd, "--role", "reviewer", "--name", "Ann"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open_catalog(tmp_path) as cat:
        tok = lookup(cat, r.stdout.split()[-1])
    assert tok is not None and (tok.role, tok.name) == ("reviewer", "Ann")
    r = subprocess.run([*cmd, "--role", "boss"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "uploader, reviewer, admin" in r.stderr, r.stderr


def test_token_list_and_revoke(tmp_path):
    from schouw.catalog.db import open_catalog
    from schouw.catalog.tokens import lookup

    cmd = [sys.executable, "-m", "schouw", "token"]
    tok = subprocess.run([*cmd, "create", "--role", "uploader", "--name", "Uma", "--data-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=120).stdout.split()[-1]
    listed = subprocess.run([*cmd, "list", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert "Uma" in listed.stdout and "uploader" in listed.stdout and tok not in listed.stdout
    r = subprocess.run([*cmd, "revoke", "1", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    with open_catalog(tmp_path) as cat:
        assert lookup(cat, tok) is None
    r = subprocess.run([*cmd, "revoke", "7", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("error: token 7 does not exist")


def test_every_option_help_shows_its_default_text():
    """Option helps say their default in words, e.g. ``(default: one per core)``. Written in square brackets, rich
    took them for markup and dropped them from ``--help``: no one saw that detect-image assumes 2 mm per pixel."""
    import typer.main
    from typer.testing import CliRunner

    from schouw.cli import app

    def commands(group, prefix: list[str]):  # typer's own click: a group is what has commands
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from commands(cmd, [*prefix, name])
            else:
                yield [*prefix, name], cmd

    seen = 0
    for path, cmd in commands(typer.main.get_command(app), []):
        helps = [p.help for p in cmd.params if getattr(p, "help", None) and "default:" in p.help]
        if not helps:
            continue
        r = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "400", "NO_COLOR": "1"})
        shown = " ".join(r.output.split())
        for h in helps:
            seen += 1
            assert h[h.index("default:"):] in shown, (path, h)
    assert seen >= 8


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["token", "create", "--role", "admin"], ["token", "list"],
                                     ["token", "revoke", "1"]])
def test_an_unreachable_catalog_is_one_error_line_without_its_password(tmp_path, command):
    """A catalog that cannot be opened stops ``serve`` and the token commands at once: exit 2, one ``error:`` line
    that names the catalog, its password not shown (the token commands printed a traceback, serve the password)."""
    url = "postgresql+psycopg://planner:s3cret-pw@127.0.0.1:1/schouw"  # port 1: nothing listens there
    r = subprocess.run([sys.executable, "-m", "schouw", *command, "--data-dir", str(tmp_path / "srv"), "--database-url", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: catalog postgresql+psycopg://planner:***@127.0.0.1:1/schouw: "), r.stderr
    assert "s3cret-pw" not in r.stderr + r.stdout and "Traceback" not in r.stderr


def test_serve_flows_without_a_prefect_api_url_is_one_error_line():
    """``serve-flows`` serves to a Prefect server the user runs: none named is bad input (exit 2, one line)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    r = subprocess.run([sys.executable, "-m", "schouw", "serve-flows"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-3000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: PREFECT_API_URL is not set; start `prefect server start`"), r.stderr


@pytest.mark.parametrize("command", [["serve-flows"], ["inspect", str(SAMPLE / "sample_orthophoto.tif"), "--out", "{tmp}/out"],
                                     ["batch", str(SAMPLE / "sample_orthophoto.tif"), "--out-root", "{tmp}/out"],
                                     ["serve", "--port", "1", "--data-dir", "{tmp}/srv"]])
def test_a_prefect_api_url_where_no_api_answers_is_one_error_line(tmp_path, command):
    """A ``PREFECT_API_URL`` the user set where no Prefect API answers is bad input, said with the input checks (exit 2,
    one line, no output), not as the traceback of the flow's first call (serve: of the first upload's run)."""
    env = dict(os.environ, PREFECT_API_URL="http://127.0.0.1:1/api")  # port 1: nothing listens there
    r = subprocess.run([sys.executable, "-m", "schouw", *(c.format(tmp=tmp_path) for c in command)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-3000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr[-3000:]
    assert lines[0].startswith("error: PREFECT_API_URL http://127.0.0.1:1/api: the Prefect API does not answer ("), lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command, fragment", [
    (["inspect", str(SAMPLE / "sample_orthophoto.tif"), "--out", "{bad}/out"], "output {bad}/out: cannot create {bad} ({bad} is a file, not a folder)"),
    (["batch", str(SAMPLE / "sample_orthophoto.tif"), "--out-root", "{bad}/out"], "--out-root: cannot create {bad}/out ({bad} is a file, not a folder)"),
    (["detect-image", str(SAMPLE / "sample_orthophoto.tif"), "--out-dir", "{bad}/out"], "--out-dir: cannot create {bad}/out ({bad} is a file, not a folder)"),
    (["synth", "--out", "{bad}/out"], "--out: cannot create {bad}/out ({bad} is a file, not a folder)"),
])
def test_an_output_folder_that_cannot_be_made_is_bad_input(tmp_path, command, fragment):
    """An output path under a file (or read-only, or not permitted) is said in an ``error:`` line, exit 2, no traceback,
    with the input checks: before any flow run (whose Prefect logs would say "Flow run")."""
    bad = tmp_path / "a-file"
    bad.write_text("not a folder\n")
    r = subprocess.run([sys.executable, "-m", "schouw", *(c.format(bad=bad) for c in command)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and fragment.format(bad=bad) in errors[0], r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Flow run" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing written anywhere else
