"""A real Prefect server on this machine, for runs that need one (Dask workers, served deployments).

Dask workers must report task runs to a Prefect API. Without ``PREFECT_API_URL`` each worker
would start its own temporary server on the same SQLite file and may hang; so when the user
has not given a server, schouw starts one here for the duration of the run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"Prefect server at {url} did not become healthy within {timeout_s:.0f} s")


@contextmanager
def prefect_server(home: Path | None = None, port: int | None = None):
    """Start ``prefect server start`` on 127.0.0.1 and yield its API URL; stop it afterwards."""
    port = port or free_port()
    env = dict(os.environ)
    if home is not None:
        env["PREFECT_HOME"] = str(home)
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home}/server.db"
    env.pop("PREFECT_API_URL", None)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("DO_NOT_TRACK", "1")
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect) if prefect.exists() else "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()




def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent dies, however it dies (SIGKILL included).

    Without this a killed ``schouw inspect`` leaves its temporary server running for ever. Linux only;
    elsewhere the server is still stopped on every normal exit.
    """
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class TemporaryServer:
    """Prefect's temporary API server, started by us as early as possible (the process starts on creation).

    Without ``PREFECT_API_URL`` Prefect itself would start the same server (uvicorn on
    ``prefect.server.api.server:create_app`` in ephemeral mode) at the first flow run: after
    importing the server code into this process (~2.5 s) and then waiting 4–6 s for it to boot.
    Created right after the inputs are validated, it boots on the other core while this process
    imports and prepares, and this process never imports the server code at all. Use as a
    context manager: entering waits until it answers and gives its API URL; leaving stops it.
    """

    def __init__(self, timeout_s: float = 90.0):
        import importlib.util

        app_dir = Path(importlib.util.find_spec("prefect").origin).parent.parent
        port = free_port()
        # the same environment Prefect's own SubprocessASGIServer gives its temporary server
        env = dict(os.environ, PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1", PREFECT__SERVER_FINAL="1")
        env.pop("PREFECT_API_URL", None)
        cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory", "prefect.server.api.server:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
        self.url = f"http://127.0.0.1:{port}/api"
        self._timeout_s = timeout_s
        import tempfile

        self._log = tempfile.TemporaryFile()  # a pipe nobody reads would block the server once full
        self._proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=self._log, start_new_session=True,
                                      preexec_fn=_die_with_parent)

    def ready(self) -> str:
        """Wait until the server answers its health check; its API URL."""
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"the temporary Prefect server exited with code {self._proc.returncode}: {err}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"the temporary Prefect server at {self.url} did not answer within {self._timeout_s:.0f} s")

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.close()

    def __enter__(self) -> str:
        try:
            return self.ready()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
