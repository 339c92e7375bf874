"""The Prefect API a CLI run talks to, when the user has not given one (``PREFECT_API_URL``).

- :class:`TemporaryServer`: Prefect's own temporary server, started by us early (threads).
- :func:`prefect_server`: a full ``prefect server start`` (Dask workers must all report to
  one real API; each would otherwise start its own temporary server on the same SQLite file
  and may hang).
- :func:`api_for_run` picks one and puts its URL in the environment before Prefect is imported.

Both servers die with the process that started them, however it ends.
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

from schouw.lifetime import die_with_parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 90.0, proc: subprocess.Popen | None = None) -> str:
    """Wait until the API at ``url`` answers its health check and return ``url``.

    With ``proc``, a server process that exits meanwhile raises at once instead of at the timeout.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the Prefect server for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return url
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"Prefect server at {url} did not become healthy within {timeout_s:.0f} s")


def send_pending_to_api(timeout_s: float = 5.0) -> None:
    """Send the logs and events Prefect still holds for the API, before the server that takes them stops.

    Prefect sends them in batches from background workers; stopped after the server, they fail at exit
    ("--- Error logging to API ---") and the run's last log lines are lost. Nothing to do if Prefect's
    client side was never loaded.
    """
    for module, name in (("prefect.logging.handlers", "APILogWorker"), ("prefect.events.worker", "EventsWorker")):
        if module in sys.modules:
            getattr(sys.modules[module], name).drain_all(timeout=timeout_s)


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
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}/api"
    healthy = False
    try:
        healthy = bool(wait_healthy(url, proc=proc))
        yield url
    finally:
        if healthy and proc.poll() is None:
            send_pending_to_api()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


class TemporaryServer:
    """Prefect's temporary API server, started by us as early as possible (the process starts on creation).

    Without ``PREFECT_API_URL`` Prefect itself would start the same server (uvicorn on
    ``prefect.server.api.server:create_app`` in ephemeral mode) at the first flow run: after
    importing the server code into this process (~2.5 s) and then waiting 4–6 s for it to boot.
    Created before the inputs are checked, it boots on the other core while this process checks
    them, imports and prepares, and this process never imports the server code at all. Use as a
    context manager: entering waits until it answers and gives its API URL; leaving stops it.
    """

    def __init__(self, timeout_s: float = 90.0):
        import importlib.util
        import tempfile

        app_dir = Path(importlib.util.find_spec("prefect").origin).parent.parent
        port = free_port()
        # the same environment Prefect's own SubprocessASGIServer gives its temporary server
        env = dict(os.environ, PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1", PREFECT__SERVER_FINAL="1")
        env.pop("PREFECT_API_URL", None)
        cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory", "prefect.server.api.server:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
        self.url = f"http://127.0.0.1:{port}/api"
        self._timeout_s = timeout_s
        self._log = tempfile.TemporaryFile()  # a pipe nobody reads would block the server once full
        self._proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=self._log, start_new_session=True,
                                      preexec_fn=die_with_parent)

    def ready(self) -> str:
        """Wait until the server answers its health check; its API URL."""
        try:
            return wait_healthy(self.url, self._timeout_s, self._proc)
        except RuntimeError as exc:
            self._log.seek(0)
            raise RuntimeError(f"{exc}: {self._log.read().decode(errors='replace')[-2000:]}") from None

    def stop(self) -> None:
        if self._proc.poll() is None:
            send_pending_to_api()
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


def check_user_api() -> None:
    """:class:`ParameterError` unless the Prefect API the user named (``PREFECT_API_URL``) answers its health check;
    nothing to check when none is named (a run starts its own). Call before :func:`api_for_run` sets one, with the
    input checks: a wrong URL is then said in one line instead of as the traceback of the flow's first call."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return
    from prefect.client.orchestration import get_client

    from schouw.errors import ParameterError

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ParameterError(f"PREFECT_API_URL {url}: the Prefect API does not answer ({type(problem).__name__}: "
                             f"{problem}); expected a running Prefect server there")


def api_for_run(home: Path, real: bool = False):
    """A context manager for the Prefect API of one CLI run; its URL is in ``PREFECT_API_URL`` on return.

    The user's ``PREFECT_API_URL`` wins. Otherwise a :class:`TemporaryServer` (starting now, so
    it boots while the caller imports the flow code) or, with ``real``, a ``prefect server
    start`` under ``home``. Call before Prefect is imported: it reads its settings once.
    """
    import contextlib

    if os.environ.get("PREFECT_API_URL"):
        return contextlib.nullcontext(os.environ["PREFECT_API_URL"])
    if real:
        port = free_port()
        os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        return prefect_server(home / "server", port=port)
    server = TemporaryServer()
    os.environ["PREFECT_API_URL"] = server.url
    return server
