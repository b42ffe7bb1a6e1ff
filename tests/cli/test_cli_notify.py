"""`imtui check --notify URL` (signals.md §3) against a real HTTP server started by the test: what is
posted (once, signed, only what is new, escalated or resolved), what is remembered (only after a
2xx), retries on the next run after a 500, a slow answer or a closed connection; the URL's token
never printed or audited. One process per step at exact `--now` instants, on both databases."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import FIRST, run_exe
from tests.support.platform import Platform
from tests.support.webhook import Webhook

SECRET = "s3cret-for-signing"
T = "2026-11-10T12:00:00+08:00"


def at(minutes: int) -> str:
    return f"2026-11-10T{12 + minutes // 60:02d}:{minutes % 60:02d}:00+08:00"


def step(db: str, now: str, *args: str, env: dict | None = None, read_only: bool = False):
    base = {"IMTUI_DB": db, "IMTUI_NOTIFY_SECRET": SECRET, "IMTUI_NOTIFY_TIMEOUT": "0.5"}
    return run_exe(["--now", now, *(["--read-only"] if read_only else []), *args], env={**base, **(env or {})})


def notify(db: str, now: str, hook: Webhook, *args: str, code: int = 6, **kw):
    r = step(db, now, "check", "--notify", hook.url(), *args, **kw)
    assert r.rc == code, r
    assert "SECRET-TOKEN" not in r.out + r.err and "token=abc" not in r.out + r.err
    return r


def audit(db: str, now: str) -> list[dict]:
    return [e for e in json.loads(step(db, now, "audit", "--format", "json").ok().out) if e["action"] == "notify"]


@pytest.fixture
def fleet(db):
    """acme with a pro app since 2 November and a budget it is over (a critical signal)."""
    step(db, "2026-11-02T09:00:00+08:00", "apps", "create", "chat", "--account", "acme").ok()
    step(db, "2026-11-02T09:00:00+08:00", "apps", "create", "free", "--account", "beta").ok()
    step(db, "2026-11-02T09:00:00+08:00", "apps", "upgrade", str(FIRST), "--edition", "pro").ok()
    step(db, T, "budgets", "set", "acme", "1").ok()
    return db


def test_one_signed_post_then_nothing_then_the_resolution_once(fleet):
    db = fleet
    with Webhook() as hook:
        r = notify(db, at(1), hook)
        assert f"notified {hook.shown}: 1 new, 0 escalated, 0 resolved" in r.err
        (got,) = hook.received
        assert got.path == "/hooks/T000/SECRET-TOKEN?token=abc"
        assert got.headers["content-type"] == "application/json" and got.signed_with(SECRET)
        body = got.json
        assert list(body) == ["text", "signals", "resolved", "sent_at"]
        assert body["signals"] == json.loads(step(db, at(1), "check", "--format", "json").out)["signals"]
        assert [s["key"] for s in body["signals"]] == ["budget_over:acme:2026-11"]
        assert body["resolved"] == [] and body["sent_at"] == at(1)
        assert body["text"] == "[critical] " + body["signals"][0]["text"]
        # nothing new: nothing sent, nothing audited, the same exit code
        notify(db, at(2), hook)
        notify(db, at(3), hook)
        assert len(hook.received) == 1
        # the budget raised: the signal no longer holds, and is said resolved once
        step(db, at(4), "budgets", "set", "acme", "1000000").ok()
        r = notify(db, at(5), hook, code=0)
        assert "0 new, 0 escalated, 1 resolved" in r.err
        assert len(hook.received) == 2
        resolved = hook.received[1].json
        assert resolved["signals"] == [] and resolved["resolved"] == ["budget_over:acme:2026-11"]
        assert resolved["text"] == "[resolved] budget_over:acme:2026-11" and hook.received[1].signed_with(SECRET)
        notify(db, at(6), hook, code=0)
        assert len(hook.received) == 2
        # it comes back: new again
        step(db, at(7), "budgets", "set", "acme", "1").ok()
        notify(db, at(8), hook)
        assert [s["key"] for s in hook.received[2].json["signals"]] == ["budget_over:acme:2026-11"]
    trail = audit(db, at(9))
    assert [(e["result"], e["detail"]) for e in reversed(trail)] == [
        ("done", f"{hook.shown}: delivered 1 new, 0 escalated, 0 resolved (HTTP 200)"),
        ("done", f"{hook.shown}: delivered 0 new, 0 escalated, 1 resolved (HTTP 200)"),
        ("done", f"{hook.shown}: delivered 1 new, 0 escalated, 0 resolved (HTTP 200)"),
    ]
    assert [e["at"] for e in reversed(trail)] == [at(1), at(5), at(8)]


def test_unsigned_without_a_secret(fleet):
    with Webhook() as hook:
        notify(fleet, at(1), hook, env={"IMTUI_NOTIFY_SECRET": ""})
        assert "x-imtui-signature" not in hook.received[0].headers


@pytest.mark.parametrize(
    ("plan", "says", "tries"),
    [
        ([500, 500, 500], "the webhook answered HTTP 500 (3 attempts)", 3),
        ([503, 200], None, 2),  # the second attempt gets through
        (["slow", "slow", "slow"], "the webhook did not answer within 0.5 s (3 attempts)", 3),
        (["close", "close", "close"], "the webhook closed the connection without an answer (3 attempts)", 3),
        ([404], "the webhook answered HTTP 404 (1 attempt)", 1),  # refused for good: not tried again
    ],
)
def test_a_failed_delivery_is_sent_again_by_the_next_run(fleet, plan, says, tries):
    db = fleet
    with Webhook(delay=1.5) as hook:
        hook.plan = list(plan)
        if says is None:
            notify(db, at(1), hook)
            assert len(hook.received) == tries
            notify(db, at(2), hook)
            assert len(hook.received) == tries  # remembered after the 2xx
            return
        r = notify(db, at(1), hook, code=1)
        assert "budget_over" in r.out  # the signals are printed all the same
        error = [ln for ln in r.err.splitlines() if ln.strip()]
        assert error == [f"notify {hook.shown}: {says}; nothing is recorded as sent, so the next run sends it again"], (
            r.err
        )
        assert len(hook.received) == tries
        assert all(got.body == hook.received[0].body and got.signed_with(SECRET) for got in hook.received)
        (refused,) = audit(db, at(2))
        assert refused["result"] == "refused"
        assert refused["detail"] == f"{hook.shown}: not delivered (1 new, 0 escalated, 0 resolved): {says}"
        # the next run, answered: the same signal, new to the webhook
        notify(db, at(3), hook)
        assert len(hook.received) == tries + 1
        assert [s["key"] for s in hook.received[-1].json["signals"]] == ["budget_over:acme:2026-11"]
        notify(db, at(4), hook)
        assert len(hook.received) == tries + 1


def test_an_escalation_is_sent_again(fleet):
    db = fleet
    header = "date,app_id,dau,groups,live_groups,max_groups_per_user,max_members_per_group\n"
    with Webhook() as hook:
        r = run_exe(
            ["--now", at(1), "usage", "import", "-"],
            env={"IMTUI_DB": db},
            input=header + f"2026-11-03,{FIRST},15000,10,1,1,1\n",
        )
        assert r.rc == 0, r
        notify(db, at(2), hook, "--fail-on", "never", code=0)
        first = {s["key"]: s for s in hook.received[0].json["signals"]}
        overage = first[f"overage_started:{FIRST}:2026-11"]
        assert overage["since"] == "2026-11-03T00:00:00+08:00" and overage["figures"]["blocks"] == 1
        # another block on the 5th: its since moves, and it is sent again as an escalation
        r = run_exe(
            ["--now", at(3), "usage", "import", "-"],
            env={"IMTUI_DB": db},
            input=header + f"2026-11-05,{FIRST},25000,10,1,1,1\n",
        )
        assert r.rc == 0, r
        r = notify(db, at(4), hook, "--fail-on", "never", code=0)
        assert "0 new, 1 escalated, 0 resolved" in r.err
        (escalated,) = hook.received[1].json["signals"]
        assert escalated["since"] == "2026-11-05T00:00:00+08:00" and escalated["figures"]["blocks"] == 2


def test_an_accounts_run_resolves_only_its_own(fleet):
    db = fleet
    step(db, at(1), "budgets", "set", "--fleet", "1").ok()
    with Webhook() as hook:
        notify(db, at(2), hook)
        assert {s["key"] for s in hook.received[0].json["signals"]} == {
            "budget_over:acme:2026-11",
            "budget_over:fleet:2026-11",
        }
        notify(db, at(3), hook, "--account", "beta", code=0)  # beta has no signal: nothing else is resolved
        assert len(hook.received) == 1
        step(db, at(4), "budgets", "remove", "acme").ok()
        notify(db, at(5), hook, "--account", "acme", code=0)
        assert hook.received[1].json["resolved"] == ["budget_over:acme:2026-11"]
        notify(db, at(6), hook)  # the fleet's still holds and was told: nothing
        assert len(hook.received) == 2


def test_read_only_runs_and_bad_urls_are_refused_before_anything(fleet):
    with Webhook() as hook:
        r = notify(fleet, at(1), hook, code=3, read_only=True)
        assert "read-only" in r.one_line_error() and r.out == ""
        for url in ("ftp://example.com/x", "not a url", "http:///path-only"):
            r = step(fleet, at(2), "check", "--notify", url)
            assert r.rc == 2 and "--notify needs an http:// or https:// URL" in r.one_line_error()
        assert hook.received == []
    assert audit(fleet, at(3)) == []


def test_drift_is_not_resolved_while_the_platform_cannot_be_asked(tmp_path, db):
    platform = Platform(tmp_path).start()
    now = "2026-11-02T09:00:00+08:00"
    try:
        env = platform.env(IMTUI_CONTROL_PLANE_TIMEOUT="0.5")
        step(db, now, "apps", "create", "chat", "--account", "acme", env=env).ok()
        step(db, now, "apps", "halt", str(FIRST), "--reason", "x", "--yes", env=env).ok()
        platform.flip(FIRST, "start", "another-tool-1")
        with Webhook() as hook:
            notify(db, at(0), hook, env=env)
            assert [s["key"] for s in hook.received[0].json["signals"]] == [f"drift:{FIRST}"]
            platform.kill()
            r = notify(db, at(1), hook, env=env, code=0)
            assert "note: drift was not checked" in r.err
            assert len(hook.received) == 1  # the drift told of is not said resolved
    finally:
        platform.stop()
