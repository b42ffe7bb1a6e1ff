"""`metrics` and `metrics serve` (signals.md §4): Prometheus text exposition, parsed with the
official client's own parser, every figure equal to what `bills`, `apps list` and `review` say;
served over real HTTP by a real process; recomputed at most every 15 s (an injected clock)."""

from __future__ import annotations

import math
import os
import signal
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from imtui.exposition import SnapshotCollector, render
from imtui.services.metrics import MetricsSnapshot
from tests.support.cli import FIRST, run_exe, run_inprocess, start_exe
from tests.support.dbs import clone_db, drop_db, migrated_db_url
from tests.support.platform import Platform, free_port

NOW = "2026-11-20T12:00:00+08:00"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo fleet at NOW, built once for the module (no test here changes it)."""
    url = migrated_db_url(tmp_path_factory.mktemp("demo"))
    run_inprocess("--db", url, "--now", NOW, "demo", "--apps", "150", "--accounts", "4").ok()
    yield url
    drop_db(url)


def imtui(db: str, *args: str, now: str = NOW):
    return run_inprocess("--db", db, "--now", now, *args)


def samples(text: str) -> dict[str, dict[tuple, float]]:
    """Metric name → {sorted label pairs: value}, as the official parser reads the text."""
    out: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def money(text: str) -> float:
    return float(Decimal(text))


def test_every_figure_equals_bills_apps_list_and_review(demo):
    m = samples(imtui(demo, "metrics", "--per-app").ok().out)
    bill = imtui(demo, "bills", "--format", "json").ok().json
    assert bill["state"] == "open"
    # the fleet
    assert m["imtui_fleet_cost_month_to_date_usd"][()] == money(bill["total"])
    assert m["imtui_fleet_cost_projected_usd"][()] == money(bill["projected_total"])
    # every account (those `bills` leaves out, having nothing billed, at 0)
    mtd = {dict(k)["account"]: v for k, v in m["imtui_account_cost_month_to_date_usd"].items()}
    projected = {dict(k)["account"]: v for k, v in m["imtui_account_cost_projected_usd"].items()}
    billed = {a["account"]: a for a in bill["accounts"]}
    assert billed and set(billed) <= set(mtd) == set(projected)
    for account in mtd:
        a = billed.get(account, {"total": "0.00", "projected_total": "0.00"})
        assert (mtd[account], projected[account]) == (money(a["total"]), money(a["projected_total"])), account
    # apps by status and edition, every pair
    apps = imtui(demo, "apps", "list", "--format", "json").ok().json
    counted = Counter((a["status"], a["edition"]) for a in apps)
    got = {(dict(k)["status"], dict(k)["edition"]): v for k, v in m["imtui_apps"].items()}
    assert len(got) == 9 and sum(got.values()) == len(apps)
    assert got == {key: counted.get(key, 0) for key in got}
    # every app but the purged: its costs as `bills` bills them (0 when it bills nothing)
    per_app = {
        int(dict(k)["app_id"]): (dict(k)["account"], v) for k, v in m["imtui_app_cost_month_to_date_usd"].items()
    }
    per_app_projected = {int(dict(k)["app_id"]): v for k, v in m["imtui_app_cost_projected_usd"].items()}
    assert set(per_app) == {a["app_id"] for a in apps if a["status"] != "purged"} == set(per_app_projected)
    owner = {a["app_id"]: a["account"] for a in apps}
    bills_of = {app["app_id"]: app for acc in bill["accounts"] for app in acc["apps"]}
    for app_id, (account, value) in per_app.items():
        b = bills_of.get(app_id, {"total": "0.00", "projected_total": "0.00"})
        assert account == owner[app_id]
        assert (value, per_app_projected[app_id]) == (money(b["total"]), money(b["projected_total"])), app_id
    # headroom: the item `review` names, and the percent it shows (rounded down)
    reviews = {r["app_id"]: r for r in imtui(demo, "review", "--format", "json").ok().json}
    headroom = {int(dict(k)["app_id"]): (dict(k)["item"], v) for k, v in m["imtui_app_headroom_ratio"].items()}
    assert headroom
    for app_id, r in reviews.items():
        if r["headroom"] is None:
            assert app_id not in headroom
        else:
            item, ratio = headroom[app_id]
            assert item == r["headroom"]["item"] and math.floor(ratio * 100 + 1e-9) == r["headroom"]["use_pct"]
    # the rest
    assert m["imtui_pending_intents"][()] == 0
    assert "imtui_drifted_apps" not in m  # the embedded control plane: nothing apart from imtui to drift from
    # the demo records usage up to today: its end is 00:00 tomorrow
    assert (
        m["imtui_usage_latest_record_timestamp_seconds"][()]
        == datetime.fromisoformat("2026-11-21T00:00:00+08:00").timestamp()
    )


def test_budgets_and_signals_equal_budgets_list_and_check(demo, tmp_path):
    db = clone_db(demo, tmp_path)
    try:
        later = "2026-11-20T12:05:00+08:00"
        imtui(db, "budgets", "set", "acme", "20000", "--warn-at", "70", now=later).ok()
        imtui(db, "budgets", "set", "--fleet", "150000", now=later).ok()
        m = samples(imtui(db, "metrics", now=later).ok().out)
        budgets = imtui(db, "budgets", "list", "--format", "json", now=later).ok().json
        assert len(budgets) == 2
        for b in budgets:
            label = (("account", b["account"] or "*"),)
            assert m["imtui_budget_usd"][label] == money(b["amount"])
            assert m["imtui_budget_used_ratio"][label] == float(Decimal(b["month_to_date"]) / Decimal(b["amount"]))
        assert len(m["imtui_budget_usd"]) == len(m["imtui_budget_used_ratio"]) == 2
        found = imtui(db, "check", "--format", "json", "--fail-on", "never", now=later).ok().json["signals"]
        assert found  # the demo's overage and usage, and these budgets
        counted = Counter((s["kind"], s["severity"]) for s in found)
        got = {(dict(k)["kind"], dict(k)["severity"]): v for k, v in m["imtui_signals"].items()}
        assert len(got) == 9  # every kind, 0 where none
        assert got == {key: counted.get(key, 0) for key in got}
    finally:
        drop_db(db)


def test_without_per_app_and_the_newest_usage_day(tmp_path):
    db = migrated_db_url(tmp_path)
    try:
        imtui(db, "apps", "create", "chat", "--account", "acme", now="2026-11-02T09:00:00+08:00").ok()
        m = samples(imtui(db, "metrics").ok().out)
        assert not any(name.startswith("imtui_app_") for name in m)
        assert "imtui_usage_latest_record_timestamp_seconds" not in m  # no usage yet
        assert m["imtui_apps"][(("edition", "trial"), ("status", "active"))] == 1
        assert m["imtui_account_cost_month_to_date_usd"] == {(("account", "acme"),): 0.0}
        usage = tmp_path / "u.csv"
        header = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
        usage.write_text(header + f"2026-11-05,{FIRST},5,1,0,1,2\n2026-11-07,{FIRST},6,1,0,1,2\n")
        imtui(db, "usage", "import", str(usage), now="2026-11-09T09:00:00+08:00").ok()
        m = samples(imtui(db, "metrics", now="2026-11-09T09:01:00+08:00").ok().out)
        end = datetime.fromisoformat("2026-11-08T00:00:00+08:00").timestamp()  # Shanghai, the billing zone
        assert m["imtui_usage_latest_record_timestamp_seconds"][()] == end
    finally:
        drop_db(db)


def test_metrics_serve_answers_over_http(demo):
    port = free_port()
    said, told = os.pipe()
    with tempfile.TemporaryFile() as out:
        try:
            proc = start_exe(
                ["--now", NOW, "metrics", "serve", "--listen", f"127.0.0.1:{port}"],
                stdout=out,
                stderr=told,
                env={"IMTUI_DB": demo},  # not --db: a PostgreSQL URL's password would be in the process list
            )
        finally:
            os.close(told)
        with os.fdopen(said, encoding="utf-8") as err:
            line = err.readline()  # printed once it listens
            try:
                assert line.startswith(f"serving metrics on http://127.0.0.1:{port}/metrics"), line
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
                    assert response.status == 200
                    assert response.headers["Content-Type"].startswith("text/plain")
                    m = samples(response.read().decode("utf-8"))
            finally:
                os.kill(proc.pid, signal.SIGTERM)  # as systemd stops it
                rc = proc.wait(30)
            rest = err.read()
    assert rc == 0, rest
    bill = imtui(demo, "bills", "--format", "json").ok().json
    assert m["imtui_fleet_cost_month_to_date_usd"][()] == money(bill["total"])
    assert m["imtui_fleet_cost_projected_usd"][()] == money(bill["projected_total"])
    assert not any(name.startswith(("process_", "python_")) for name in m)  # a registry of its own


def _snapshot(n: int) -> MetricsSnapshot:
    return MetricsSnapshot(
        as_of=datetime.fromisoformat(NOW),
        month="2026-11",
        fleet=(Decimal(n), Decimal(2 * n)),
        accounts={"acme": (Decimal("1.10"), Decimal("2.20"))},
        budgets={"*": (Decimal("100.00"), Decimal(n)), "acme": (Decimal("4.40"), Decimal("1.10"))},
        apps={("active", "pro"): 3},
        signals={("budget_over", "critical"): 1},
        usage_latest_end=None,
        pending_intents=2,
        drifted_apps=5,
    )


def test_the_served_figures_are_read_at_most_every_15_seconds():
    clock = [1000.0]
    reads = []

    def read() -> MetricsSnapshot:
        reads.append(clock[0])
        return _snapshot(len(reads))

    collector = SnapshotCollector(read, clock=lambda: clock[0])
    fleet = lambda: next(f for f in collector.collect() if f.name == "imtui_fleet_cost_month_to_date_usd")  # noqa: E731
    assert fleet().samples[0].value == 1
    clock[0] += 14.9
    assert fleet().samples[0].value == 1 and len(reads) == 1  # the same snapshot
    clock[0] += 0.1
    assert fleet().samples[0].value == 2 and len(reads) == 2  # 15 s on: read again
    clock[0] += 3
    assert fleet().samples[0].value == 2 and reads == [1000.0, 1015.0]


def test_budgets_signals_and_drift_as_labelled():
    m = samples(render(_snapshot(25)))
    assert m["imtui_budget_usd"] == {(("account", "*"),): 100.0, (("account", "acme"),): 4.4}
    assert m["imtui_budget_used_ratio"] == {(("account", "*"),): 0.25, (("account", "acme"),): 0.25}
    assert m["imtui_signals"] == {(("kind", "budget_over"), ("severity", "critical")): 1}
    assert m["imtui_drifted_apps"][()] == 5 and m["imtui_pending_intents"][()] == 2


def test_drifted_apps_with_a_platform_apart_from_imtui(tmp_path):
    """With a control plane of its own (the simulator, as a real process), the drift the
    dashboard counts: an app another tool stopped behind imtui's back."""
    db = migrated_db_url(tmp_path)
    platform = Platform(tmp_path).start()
    try:

        def run(*args: str):
            return run_exe(["--db", db, "--now", NOW, *args], env=platform.env())

        first = run("apps", "create", "chat", "--account", "acme", "--format", "json").ok().json["app_id"]
        run("apps", "create", "support", "--account", "acme").ok()
        assert samples(run("metrics").ok().out)["imtui_drifted_apps"][()] == 0
        platform.flip(first, "stop", "another-tool-1")
        assert samples(run("metrics").ok().out)["imtui_drifted_apps"][()] == 1
    finally:
        platform.stop()
        drop_db(db)


def test_a_scrape_whose_figures_cannot_be_read_answers_503_in_one_line():
    from imtui.domain.errors import Unavailable
    from imtui.exposition import serve

    reads = []

    def read() -> MetricsSnapshot:
        reads.append(1)
        if len(reads) == 1:
            raise Unavailable("the database is not reachable")
        return _snapshot(7)

    said: list[str] = []
    port = free_port()
    server, thread = serve(SnapshotCollector(read), "127.0.0.1", port, lambda exc: said.append(str(exc)) or said[-1])
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(url, timeout=10)
        assert failed.value.code == 503
        assert failed.value.read().decode().strip() == "the database is not reachable" == said[0]
        with urllib.request.urlopen(url, timeout=10) as response:  # read again: it works now
            assert samples(response.read().decode())["imtui_fleet_cost_month_to_date_usd"][()] == 7
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
