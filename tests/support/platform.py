"""The platform simulator (`imtui control-plane serve`) as a real process for tests: start, kill,
restart on the same port and store, and its HTTP API (faults, log, stopped apps) over urllib."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.cli import start_exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dead_address() -> Iterator[str]:
    """`http://127.0.0.1:PORT` where nothing answers for as long as the block runs: the port is
    held bound but not listening, so a connection is refused, and no other test's server (run
    beside this one) can be handed the port meanwhile, as it could a port merely found free."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


class PortTaken(Exception):
    """The simulator could not listen: its port was taken."""


class Platform:
    def __init__(
        self,
        folder: Path,
        store: Path | None = None,
        latency: float = 0.01,
        allow_faults: bool = False,
        tls: tuple[Path, Path] | None = None,
    ):
        """`allow_faults`: started for drills (`--allow-faults`), so `faults()` works; `tls`: a
        (certificate, key) to serve https:// with (the certificate is its own CA: self-signed)."""
        self.folder = folder
        self.store = store or folder / "platform.sqlite"
        self.token_file = folder / "platform.token"
        self.latency = latency
        self.allow_faults = allow_faults
        self.tls = tls
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc = None  # forkserver.Forked or subprocess.Popen
        self._started = False
        self.out = self.errors = None  # its standard output (read for the line it listens on) and error

    def start(self) -> Platform:
        """Starts the simulator (forked like the tests' other `imtui` processes) and waits until
        it says it listens. On its first start, a port another test took meanwhile (it was only
        found free) is traded for another; a restart keeps its port, as a restarted platform does."""
        for _ in range(4):
            try:
                return self._start()
            except PortTaken:
                if self._started:
                    raise
                self.port = free_port()
                self.url = f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"
        return self._start()

    def _start(self) -> Platform:
        self.errors = tempfile.TemporaryFile()
        said, told = os.pipe()
        try:
            self.proc = start_exe(
                [
                    "control-plane",
                    "serve",
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    "--store",
                    str(self.store),
                    "--token-file",
                    str(self.token_file),
                    "--latency",
                    str(self.latency),
                    *(["--allow-faults"] if self.allow_faults else []),
                    *(["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])] if self.tls else []),
                ],
                stdout=told,
                stderr=self.errors,
            )
        finally:
            os.close(told)
        self.out = os.fdopen(said, encoding="utf-8")  # kept open: the server may print more
        line = self.out.readline()  # printed once it listens
        if not line.startswith("control plane serving on"):
            self.proc.wait(10)
            self.errors.seek(0)
            said = self.errors.read().decode(errors="replace")
            self._close_streams()
            if "the address is already in use" in said:
                raise PortTaken(said)
            raise AssertionError((line, said))
        self._started = True
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_streams()

    def stop(self) -> None:
        """A clean stop (the store is closed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_streams()

    def _close_streams(self) -> None:
        for stream in (self.out, self.errors):
            if stream is not None:
                stream.close()

    @property
    def token(self) -> str:
        return self.token_file.read_text().strip()

    def env(self, **extra: str) -> dict[str, str]:
        """What an imtui process needs to use this platform."""
        return {"IMTUI_CONTROL_PLANE": self.url, "IMTUI_CONTROL_PLANE_TOKEN_FILE": str(self.token_file), **extra}

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = "", headers=None):
        """(status, JSON body); `token` None sends no Authorization header, "" the right one."""
        req = urllib.request.Request(
            self.url + path, method=method, data=None if body is None else json.dumps(body).encode()
        )
        if token is not None:
            req.add_header("Authorization", f"Bearer {token or self.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        context = ssl.create_default_context(cafile=str(self.tls[0])) if self.tls else None
        try:
            with urllib.request.urlopen(req, timeout=10, context=context) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def faults(self, plan: dict) -> None:
        status, body = self.request("PUT", "/v1/faults", plan)
        assert status == 200, body

    def stopped(self) -> set[int]:
        return set(self.request("GET", "/v1/stopped")[1]["stopped"])

    def log(self) -> list[dict]:
        return self.request("GET", "/v1/log")[1]["entries"]

    def flip(self, app_id: int, action: str, key: str) -> dict:
        """Another writer acts on the platform directly, behind imtui's back."""
        status, body = self.request("POST", f"/v1/apps/{app_id}/{action}", headers={"Idempotency-Key": key})
        assert status == 200, body
        return body


def wait_until(condition, timeout: float = 10.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def owner_only(path: Path) -> bool:
    return (os.stat(path).st_mode & 0o077) == 0
