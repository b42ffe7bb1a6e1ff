"""Prometheus metrics of a `MetricsSnapshot` (signals.md §4), in the official client library's
text exposition format: printed once (`imtui metrics`, for node_exporter's textfile collector)
or served (`imtui metrics serve`) through a collector that recomputes at most every 15 s.

Each exposition uses a registry of its own: none of the client's default process and platform
metrics, only imtui's. Amounts are USD as floats (Prometheus samples are floats; two decimals
survive exactly). Label sets that are known in advance (status × edition) are always written,
0 where none, so an alert can tell "none" from "not scraped".
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from imtui.services.metrics import MetricsSnapshot

MAX_AGE = 15.0
"""Seconds a served snapshot is reused before the figures are read again."""


def families(snap: MetricsSnapshot) -> Iterator[Metric]:
    """Every metric of the snapshot."""
    fleet_mtd = GaugeMetricFamily(
        "imtui_fleet_cost_month_to_date_usd", f"The fleet's month-to-date cost of {snap.month}, usage overage included."
    )
    fleet_mtd.add_metric([], float(snap.fleet[0]))
    fleet_projected = GaugeMetricFamily(
        "imtui_fleet_cost_projected_usd",
        f"The fleet's projected cost of {snap.month} if nothing changes (usage overage as recorded so far).",
    )
    fleet_projected.add_metric([], float(snap.fleet[1]))
    yield fleet_mtd
    yield fleet_projected

    mtd = GaugeMetricFamily(
        "imtui_account_cost_month_to_date_usd", "An account's month-to-date cost.", labels=["account"]
    )
    projected = GaugeMetricFamily(
        "imtui_account_cost_projected_usd", "An account's projected cost.", labels=["account"]
    )
    for account, (m, p) in snap.accounts.items():
        mtd.add_metric([account], float(m))
        projected.add_metric([account], float(p))
    yield mtd
    yield projected

    budget = GaugeMetricFamily(
        "imtui_budget_usd", "An account's monthly budget (account * for the fleet's).", labels=["account"]
    )
    used = GaugeMetricFamily(
        "imtui_budget_used_ratio", "Month-to-date cost over the budget (1 is the whole budget).", labels=["account"]
    )
    for account, (amount, spent) in snap.budgets.items():
        budget.add_metric([account], float(amount))
        used.add_metric([account], float(spent / amount) if amount else 0.0)
    yield budget
    yield used

    apps = GaugeMetricFamily("imtui_apps", "Apps by status and edition.", labels=["status", "edition"])
    for (status, edition), n in snap.apps.items():
        apps.add_metric([status, edition], n)
    yield apps

    signals = GaugeMetricFamily(
        "imtui_signals", "Signals now (imtui check) by kind and severity.", labels=["kind", "severity"]
    )
    for (kind, severity), n in sorted(snap.signals.items()):
        signals.add_metric([kind, severity], n)
    yield signals

    if snap.usage_latest_end is not None:
        latest = GaugeMetricFamily(
            "imtui_usage_latest_record_timestamp_seconds",
            "The end (00:00 of the next day, billing time zone) of the newest usage day recorded.",
        )
        latest.add_metric([], snap.usage_latest_end.timestamp())
        yield latest

    pending = GaugeMetricFamily("imtui_pending_intents", "Halts and reactivations the platform has not confirmed yet.")
    pending.add_metric([], snap.pending_intents)
    yield pending
    if snap.drifted_apps is not None:
        drifted = GaugeMetricFamily("imtui_drifted_apps", "Apps whose state on the platform differs from imtui's.")
        drifted.add_metric([], snap.drifted_apps)
        yield drifted

    if snap.per_app is not None:
        app_mtd = GaugeMetricFamily(
            "imtui_app_cost_month_to_date_usd", "An app's month-to-date cost.", labels=["app_id", "account"]
        )
        app_projected = GaugeMetricFamily(
            "imtui_app_cost_projected_usd", "An app's projected cost.", labels=["app_id", "account"]
        )
        headroom = GaugeMetricFamily(
            "imtui_app_headroom_ratio",
            "An app's highest use of a limit or quota over recent days: peak over allowance (1 is at it).",
            labels=["app_id", "account", "item"],
        )
        for a in snap.per_app:
            labels = [str(a.app_id), a.account]
            app_mtd.add_metric(labels, float(a.month_to_date))
            app_projected.add_metric(labels, float(a.projected))
            if a.headroom_item is not None:
                headroom.add_metric([*labels, a.headroom_item], a.headroom_ratio)
        yield app_mtd
        yield app_projected
        yield headroom


class _Fixed(Collector):
    def __init__(self, snap: MetricsSnapshot):
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        return families(self.snap)


def render(snap: MetricsSnapshot) -> str:
    """The text exposition of one snapshot."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(snap))
    return generate_latest(registry).decode("utf-8")


class SnapshotCollector(Collector):
    """Serves a snapshot read by `read`, reading again only when the last is `max_age` seconds
    old by `clock` (monotonic seconds; injectable, so a test moves time without sleeping).
    Concurrent scrapes share one read; a failed read fails the scrape and is tried again on the
    next one."""

    def __init__(
        self,
        read: Callable[[], MetricsSnapshot],
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._read = read
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._snap: MetricsSnapshot | None = None
        self._read_at = 0.0
        self.reads = 0
        """How many times the figures were read (for tests and the curious)."""

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            now = self._clock()
            if self._snap is None or now - self._read_at >= self.max_age:
                self._snap = self._read()
                self._read_at = now
                self.reads += 1
            return self._snap

    def collect(self) -> Iterator[Metric]:
        return families(self.snapshot())


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002  (no line per request)
        pass


def serve(
    collector: SnapshotCollector, host: str, port: int, failed: Callable[[Exception], str]
) -> tuple[WSGIServer, threading.Thread]:
    """Serves the collector's metrics over HTTP on a thread of its own (the client library's
    WSGI app, on a registry holding only this collector). A scrape whose figures cannot be read
    answers 503 with one line, which `failed` also gets to report (no traceback)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    metrics = make_wsgi_app(registry)

    def app(environ, start_response):
        try:
            return metrics(environ, start_response)
        except Exception as exc:  # noqa: BLE001  (one line for the scraper and the log, never a traceback)
            line = failed(exc)
            start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [f"{line}\n".encode()]

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class = type("Server", (_Server,), {"address_family": family})
    server = make_server(host, port, app, server_class, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="imtui-metrics", daemon=True)
    thread.start()
    return server, thread
