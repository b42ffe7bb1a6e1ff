"""Posting one JSON message to a webhook (signals.md §3), with aiohttp's client.

Each attempt has its own timeout (5 s by default); up to 3 attempts with backoff (0.5 s, then 1 s)
while the webhook fails in a way a retry may mend (no answer, a closed connection, HTTP 5xx, 408,
425, 429); another 4xx or a redirect is final at once (the request itself is refused; a redirect
is not followed, so the body never goes to an address the operator did not give). With a secret,
`X-Imtui-Signature: sha256=<hex HMAC-SHA256 of the body>` lets the receiver check the sender.

The URL may carry a token: nothing here puts it in a message. `shown_url` is what may be printed
or audited (scheme, host and the path up to its first segment); `url_key` what may be stored.
aiohttp is imported only when a message is sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from imtui import __version__
from imtui.domain.errors import InvalidInput

SIGNATURE_HEADER = "X-Imtui-Signature"
RETRY_STATUSES = {408, 425, 429}
"""4xx answers a retry may mend (with every 5xx)."""


@dataclass(frozen=True)
class WebhookSettings:
    """How a message is sent (`config.Settings` fills them in from the environment)."""

    secret: str | None = None
    """`IMTUI_NOTIFY_SECRET`: signs each body when set."""
    timeout: float = 5.0
    """Seconds one attempt may take."""
    attempts: int = 3
    backoff: float = 0.5
    """Seconds before the second attempt, doubled before each later one."""


@dataclass(frozen=True)
class Delivery:
    """How sending went: `ok` once the webhook answered 2xx; otherwise why not (a sentence
    without the URL), after how many attempts."""

    ok: bool
    status: int | None
    attempts: int
    reason: str | None = None


def check_url(url: str) -> str:
    """A webhook URL: http:// or https:// with a host (else invalid input, exit 2; the message
    shows only what `shown_url` shows)."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        raise InvalidInput("--notify needs an http:// or https:// URL; this one is malformed") from None
    if parts.scheme not in ("http", "https") or not host or any(ch.isspace() for ch in text):
        raise InvalidInput(f"--notify needs an http:// or https:// URL with a host, not {shown_url(text)!r}")
    return text


def shown_url(url: str) -> str:
    """What of a webhook URL may be printed or audited: scheme, host (and port) and the path up to
    its first segment; anything cut off (user, password, later segments, query) shows as `…`
    (`https://hooks.slack.com/services/…`)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(a malformed URL)"
    if ":" in host:
        host = f"[{host}]"
    where = host if port is None else f"{host}:{port}"
    segments = parts.path.lstrip("/").split("/")
    first = segments[0]
    more = len([s for s in segments[1:] if s]) > 0 or bool(parts.query) or bool(parts.fragment)
    shown = f"{parts.scheme}://{where}"
    if first:
        shown += f"/{first}"
    if more:
        shown += "/…"
    return shown


def url_key(url: str) -> str:
    """What a webhook is remembered by: the SHA-256 of its URL (the URL itself is never stored)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


async def post(url: str, body: bytes, settings: WebhookSettings) -> Delivery:
    """POSTs `body` (JSON) to the webhook until it answers 2xx, at most `settings.attempts` times."""
    import aiohttp

    headers = {"Content-Type": "application/json", "User-Agent": f"imtui/{__version__}"}
    if settings.secret:
        headers[SIGNATURE_HEADER] = signature(body, settings.secret)
    timeout = aiohttp.ClientTimeout(total=settings.timeout)
    status: int | None = None
    reason = "the webhook was not tried"
    attempt = 0
    connector = aiohttp.TCPConnector(force_close=True)  # each attempt on a fresh connection
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for attempt in range(1, max(settings.attempts, 1) + 1):
            retry = True
            try:
                async with session.post(url, data=body, headers=headers, allow_redirects=False) as answer:
                    status = answer.status
                    await answer.read()
                if 200 <= status < 300:
                    return Delivery(True, status, attempt)
                reason = f"the webhook answered HTTP {status}"
                retry = status >= 500 or status in RETRY_STATUSES
            except TimeoutError:
                status, reason = None, f"the webhook did not answer within {settings.timeout:g} s"
            except aiohttp.ClientConnectorError as exc:
                why = getattr(exc.os_error, "strerror", None) or type(exc.os_error).__name__
                status, reason = None, f"cannot connect to the webhook's host: {why}"
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError):
                status, reason = None, "the webhook closed the connection without an answer"
            except aiohttp.ClientError as exc:
                status, reason = None, f"the webhook could not be reached ({type(exc).__name__})"
            if not retry:
                break
            if attempt < settings.attempts:
                await asyncio.sleep(settings.backoff * 2 ** (attempt - 1))
    return Delivery(False, status, attempt, reason)
