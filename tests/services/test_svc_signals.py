"""The budget and signal services as the dashboard and the metrics call them: who may do what
(budgets: operator; notify: every role), the read models, and the webhook helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from imtui.config import Settings
from imtui.domain.changes import ChangeRequest
from imtui.domain.errors import InvalidInput, NotFound, PermissionDenied
from imtui.services.webhook import WebhookSettings, check_url, shown_url, url_key
from tests.support.services import at, count_audit
from tests.support.webhook import Webhook


@pytest.fixture
async def pro_app(services, clock):
    app = await services.changes.create("chat-prod", "acme")
    await services.changes.create("other", "beta")
    clock.set(at("2026-11-10T10:00:00"))
    await services.changes.upgrade(app.app_id, ChangeRequest(edition="pro"))
    return app.app_id


async def test_a_viewer_reads_budgets_and_notifies_but_may_not_set_them(services, make_services, pro_app):
    set_ = await services.budgets.set("acme", "1")
    assert set_.changed and set_.status.state == "over" and set_.status.amount == Decimal("1.00")
    viewer = make_services(actor="bob")
    with pytest.raises(PermissionDenied) as refused:
        await viewer.budgets.set("acme", "100")
    assert "operator" in refused.value.message
    assert await count_audit(services, "budget", "refused") == 1
    (status,) = await viewer.budgets.list()
    assert (status.account, status.amount, status.warn_at, status.state) == ("acme", Decimal("1.00"), 80, "over")
    viewer.signals.webhook = WebhookSettings(timeout=2)
    report = await viewer.signals.report()
    assert [s.key for s in report.signals] == ["budget_over:acme:2026-11"]
    with Webhook() as hook:
        result = await viewer.signals.notify(hook.url(), report)
        assert (result.sent, result.new, result.url) == (True, 1, hook.shown)
        again = await viewer.signals.notify(hook.url(), await viewer.signals.report())
        assert not again.sent and len(hook.received) == 1
    assert await count_audit(services, "notify", "done") == 1
    read_only = make_services(read_only=True)
    with pytest.raises(PermissionDenied):
        await read_only.signals.notify("http://127.0.0.1:9/x", report)


async def test_current_is_the_reports_signals_and_an_account_is_checked(services, pro_app):
    await services.budgets.set(None, "0.01", 50)
    assert [s.key for s in await services.signals.current()] == ["budget_over:fleet:2026-11"]
    assert await services.signals.current("acme") == []
    with pytest.raises(NotFound):
        await services.signals.current("nobody")
    removed = await services.budgets.remove(None)
    assert removed.changed and removed.before.amount == Decimal("0.01") and removed.after is None
    assert await services.budgets.list() == []


def test_what_of_a_url_may_be_shown_and_stored():
    assert shown_url("https://hooks.slack.com/services/T000/B000/XXXX") == "https://hooks.slack.com/services/…"
    assert shown_url("https://user:pw@example.com:8443/hook?token=abc") == "https://example.com:8443/hook/…"
    assert shown_url("http://example.com") == "http://example.com"
    assert shown_url("http://example.com/hook") == "http://example.com/hook"
    assert shown_url("http://[::1]:9000/a/b") == "http://[::1]:9000/a/…"
    assert url_key("http://a/b") != url_key("http://a/c") and len(url_key("http://a/b")) == 64
    assert check_url(" https://example.com/x ") == "https://example.com/x"
    for bad in ("ftp://example.com", "example.com/x", "http://", "http://exa mple.com/", "http://host:99999/"):
        with pytest.raises(InvalidInput) as caught:
            check_url(bad)
        assert "secret" not in caught.value.message


def test_the_notify_settings_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("IMTUI_NOTIFY_SECRET", raising=False)
    monkeypatch.delenv("IMTUI_NOTIFY_TIMEOUT", raising=False)
    assert (Settings().notify_secret, Settings().notify_timeout) == (None, 5.0)
    monkeypatch.setenv("IMTUI_NOTIFY_SECRET", "abc")
    monkeypatch.setenv("IMTUI_NOTIFY_TIMEOUT", "0.25")
    assert (Settings().notify_secret, Settings().notify_timeout) == ("abc", 0.25)
    assert "abc" not in repr(Settings())
    monkeypatch.setenv("IMTUI_NOTIFY_TIMEOUT", "soon")
    assert Settings().notify_timeout != Settings().notify_timeout  # NaN: refused by --notify alone


async def test_a_malformed_timeout_is_refused_by_notify_alone(services, monkeypatch):
    services.configure_notify(None, float("nan"))
    report = await services.signals.report()
    with pytest.raises(InvalidInput) as refused:
        await services.signals.notify("http://127.0.0.1:9/x", report)
    assert "IMTUI_NOTIFY_TIMEOUT" in refused.value.message
