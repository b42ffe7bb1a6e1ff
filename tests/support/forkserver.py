"""A fork server for the tests' `imtui` processes.

The command line is tested the way scripts use it: one process per step. Most of such a
process's life is Python importing imtui's stack (about 0.8 s of a 0.9 s `imtui apps show`),
and the tests start a few thousand of them. The server imports that stack once; each request
forks it into a new process that becomes exactly the `imtui` entry point: its own pid, its own
stdin, stdout and stderr (the caller's file descriptors, passed over a Unix socket), its own
environment, working directory and `sys.argv`, its exit code (or the signal that killed it)
reported back. Python reads some variables only as it starts (its encoding, paths, buffering:
`STARTUP_ENV`), so a request is forked from a server started with exactly the request's values
of those (one server per such set, up to `MAX_SERVERS`; past that, a real `exec`). Another OS
user is not forked either (the callers `exec` those).

The server is single-threaded (forking a threaded process is unsafe), reaps its children with a
non-blocking wait, and exits when the test process that started it goes away.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

STARTUP_ENV = ("PYTHON", "LC_", "LANG")
"""Environment variables Python reads when it starts: a request is forked from a server that
started with the same values of these."""
MAX_SERVERS = 4
"""Servers per test process (one per distinct start-up environment); beyond, real processes."""


# --- the server -------------------------------------------------------------------------------


def _preload() -> None:
    """What an `imtui` command imports, paid once."""
    import sqlalchemy.dialects.sqlite  # noqa: F401

    import imtui.bootstrap  # noqa: F401
    import imtui.cli  # noqa: F401
    import imtui.output  # noqa: F401
    import imtui.services.control_plane_http  # noqa: F401  (aiohttp, the platform's client)
    import imtui.services.usage_import  # noqa: F401  (NumPy)
    import imtui.simulator.server  # noqa: F401  (`imtui control-plane serve`)
    import imtui.simulator.store  # noqa: F401

    try:
        import psycopg  # noqa: F401
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
    except ImportError:
        pass


def serve(path: str, parent: int) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    os.write(1, b"r")  # ready: the caller waits for this byte before its first connect
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing else of the server goes to the caller's pipe
    os.close(devnull)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    woken, wake = os.pipe()  # a child's end wakes the loop (SIGCHLD through the wake-up fd)
    os.set_blocking(woken, False)
    os.set_blocking(wake, False)
    selector.register(woken, selectors.EVENT_READ)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake)
    waiting: dict[int, socket.socket] = {}
    while os.getppid() == parent:
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj == woken:
                os.read(woken, 4096)
                continue
            conn, _ = listener.accept()
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                selector.close()
                listener.close()
                os.close(woken)
                os.close(wake)
                for other in waiting.values():
                    other.close()
                _become_imtui(conn, request, fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(b"%d\n" % pid)
            waiting[pid] = conn
        while waiting:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = waiting.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(b"%d\n" % os.waitstatus_to_exitcode(status))
                except OSError:
                    pass
                conn.close()


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    head, fds, _, _ = socket.recv_fds(conn, 4, 5)
    (size,) = struct.unpack("!I", head)
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("short request")
        body += chunk
    return json.loads(body), fds


def _become_imtui(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """In the forked child: the `imtui` console script, with the request's streams, environment,
    directory and arguments. Never returns."""
    code = 1
    try:
        conn.close()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
            os.close(fd)
        if len(fds) == 5:  # a start line: say "ready", then wait until the other end closes
            ready, go = fds[3:]
            os.write(ready, b"r")
            os.close(ready)
            os.read(go, 1)
            os.close(go)
        os.chdir(request["cwd"])
        if request.get("umask") is not None:
            os.umask(request["umask"])
        os.environ.clear()
        os.environ.update(request["env"])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = [request["argv0"], *request["args"]]
        from imtui.cli import main

        code = main()
    except SystemExit as stop:
        code = stop.code
    except BaseException:  # noqa: BLE001  (as the interpreter would: a traceback, exit 1)
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001  (the child must end here, whatever happens)
        pass
    os._exit(code & 0xFF)


# --- the client -------------------------------------------------------------------------------


class Forked:
    """A process the server forked: what the tests use of `subprocess.Popen`."""

    def __init__(self, conn: socket.socket, args: list[str]):
        self._conn = conn
        self._buffer = b""
        self.args = args
        self.returncode: int | None = None
        self.pid = int(self._line(None) or b"0")

    def _line(self, timeout: float | None) -> bytes | None:
        """The next line the server sends (b"" if it hung up), or None when `timeout` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(deadline - time.monotonic(), 0)
            ready, _, _ = select.select([self._conn], [], [], left)
            if not ready:
                return None
            chunk = self._conn.recv(64)
            if not chunk:
                return b""
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def poll(self) -> int | None:
        if self.returncode is None:
            line = self._line(0)
            if line is not None:
                self._finish(line)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            line = self._line(timeout)
            if line is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._finish(line)
        return self.returncode

    def _finish(self, line: bytes) -> None:
        self.returncode = int(line) if line.strip() else -signal.SIGKILL
        self._conn.close()

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class _Server:
    """One server process, started with `startup` (the `STARTUP_ENV` variables it runs under)."""

    def __init__(self, startup: frozenset[tuple[str, str]]):
        self.startup = startup
        self.path: str | None = None
        self.proc: subprocess.Popen | None = None

    def ensure(self) -> str | None:
        if self.proc is not None and self.proc.poll() is None:
            return self.path
        folder = tempfile.mkdtemp(prefix="imtui-fork-")
        self.path = str(Path(folder) / "s")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("IMTUI_", *STARTUP_ENV))}
        env.update(self.startup)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy's pool threads would not survive a fork
        root = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver", self.path, str(os.getpid())],
            cwd=str(root),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        with self.proc.stdout as ready:
            if ready.read(1) != b"r":  # the server died before it listened
                self.proc.wait()
                self.proc = None
                return None
        atexit.register(self.stop)
        return self.path

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


_SERVERS: dict[frozenset[tuple[str, str]], _Server] = {}


def _server_for(env: dict[str, str]) -> str | None:
    """The socket of the server for this environment's start-up variables (started if need be),
    or None: forking is off (`IMTUI_TEST_NO_FORK`), too many servers, or it would not start."""
    if os.environ.get("IMTUI_TEST_NO_FORK"):
        return None
    startup = frozenset((k, v) for k, v in env.items() if k.startswith(STARTUP_ENV))
    server = _SERVERS.get(startup)
    if server is None:
        if len(_SERVERS) >= MAX_SERVERS:
            return None
        server = _SERVERS[startup] = _Server(startup)
    return server.ensure()


def spawn(
    argv0: str,
    args: list[str],
    *,
    env: dict[str, str],
    cwd: str,
    stdin,
    stdout,
    stderr,
    start_line=None,
    umask: int | None = None,
) -> Forked | None:
    """`imtui ARGS` as a forked process with these streams (file objects or descriptors), or
    None when it must be a real process (see `_server_for`). `start_line`: (ready, go)
    descriptors; the process writes a byte to `ready`, then waits for `go` to close before it
    starts (the race tests' barrier). `umask`: the process's, else the server's."""
    path = _server_for(env)
    if path is None:
        return None
    fds = [s if isinstance(s, int) else s.fileno() for s in (stdin, stdout, stderr, *(start_line or ()))]
    request = {"argv0": argv0, "args": list(args), "env": env, "cwd": cwd, "umask": umask}
    body = json.dumps(request).encode()
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:  # the server went away: this step gets a real process
        conn.close()
        return None
    socket.send_fds(conn, [struct.pack("!I", len(body))], fds)
    conn.sendall(body)
    return Forked(conn, [argv0, *args])


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
