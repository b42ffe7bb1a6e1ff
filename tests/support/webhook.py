"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 (a thread of the test process)
that answers each POST as planned (`ok`, an HTTP status, `slow`, `close`) and records it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    def signed_with(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return self.headers.get("x-imtui-signature") == expected


class Webhook:
    """`plan` holds how the next requests are answered, one entry each (then `ok`): `ok` (200),
    an int (that status), `slow` (answers 200 after `delay` seconds), `close` (reads the request
    and closes the connection without an answer)."""

    def __init__(self, delay: float = 1.5):
        self.plan: list = []
        self.received: list[Received] = []
        self.delay = delay
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook._lock:
                    hook.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    answer = hook.plan.pop(0) if hook.plan else "ok"
                if answer == "close":
                    self.close_connection = True
                    return
                if answer == "slow":
                    time.sleep(hook.delay)
                    answer = "ok"
                status = 200 if answer == "ok" else int(answer)
                payload = b"ok" if status < 300 else b"no"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting
                self.close_connection = True

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hooks/T000/SECRET-TOKEN?token=abc") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def shown(self) -> str:
        """What imtui may print of `url()`."""
        return f"http://127.0.0.1:{self.port}/hooks/…"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
