"""A real ``schouw serve`` process for tests, and a small client for its API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from flows.server import free_port


class Server:
    """``schouw serve`` on a free port with its own data folder and Prefect home; :meth:`kill` it like a crash."""

    def __init__(self, data_dir: Path, database_url: str | None = None, max_upload_mb: int | None = None):
        self.data_dir, self.database_url = Path(data_dir), database_url
        self.extra = ["--database-url", database_url] if database_url else []
        self.max_upload_mb = max_upload_mb
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home = self.data_dir / "prefect"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(PREFECT_HOME=str(home), PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home}/prefect.db",
                   DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
        cmd = [sys.executable, "-m", "schouw", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), *self.extra]
        if self.max_upload_mb:
            cmd += ["--max-upload-mb", str(self.max_upload_mb)]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(self.data_dir / "serve.log", "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"schouw serve exited with {self.proc.returncode}: {self.read_log()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/me", timeout=2).status_code == 401:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError(f"schouw serve did not answer: {self.read_log()[-3000:]}")

    def read_log(self) -> str:
        return (self.data_dir / "serve.log").read_text(errors="replace")

    def token(self, role: str, name: str | None = None) -> str:
        """A new token in the server's catalog (what ``schouw token create`` does; its CLI is tested in test_cli.py)."""
        from schouw.catalog.db import open_catalog
        from schouw.catalog.tokens import create_token

        with open_catalog(self.data_dir, self.database_url) as cat:
            return create_token(cat, role, name)

    def client(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed or closed."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def wait_run(client: httpx.Client, run_id: str, timeout_s: float = 180) -> dict:
    """Poll a run until it is COMPLETED or FAILED; its record."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = client.get(f"/api/runs/{run_id}")
        r.raise_for_status()
        run = r.json()
        if run["state"] in ("COMPLETED", "FAILED"):
            return run
        time.sleep(0.3)
    raise TimeoutError(f"run {run_id} did not finish within {timeout_s} s: {run}")


def upload(client: httpx.Client, tif: Path, areas: Path | None = None, name: str | None = None, filename: str | None = None) -> httpx.Response:
    files = {"file": (filename or tif.name, tif.read_bytes(), "image/tiff")}
    if areas is not None:
        files["areas"] = (areas.name, areas.read_bytes(), "application/geo+json")
    return client.post("/api/flights", files=files, data={"name": name} if name else None)
