"""The billing time zone: an unknown zone in IMTUI_BILLING_TZ is refused at creation (exit 2) and
named as the zone, never reported as a bad --now; a database that stored an unknown zone (before
creation refused one) opens with one sentence saying how to repair it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from imtui.cli import main
from tests.support.cli import Cli, Result
from tests.support.dbs import drop_db, fresh_db_url

NOW = "2026-11-02T09:00:00+08:00"


@pytest.fixture
def url(tmp_path):
    url = fresh_db_url(tmp_path)
    yield url
    drop_db(url)


def _raw(capsys, *argv: str) -> Result:
    capsys.readouterr()
    rc = main(list(argv))
    cap = capsys.readouterr()
    return Result(rc, cap.out, cap.err)


def _sql(url: str, statement: str) -> None:
    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize("now", [(), ("--now", NOW), ("--now", "2026-11-02T09:00:00")], ids=["real", "offset", "naive"])
def test_an_unknown_zone_at_creation_is_refused_and_named(capsys, tmp_path, monkeypatch, now):
    monkeypatch.setenv("IMTUI_BILLING_TZ", "Asia/Shangai")
    path = tmp_path / "typo.db"
    r = _raw(capsys, "--db", str(path), *now, "apps", "list")
    assert r.rc == 2, str(r)
    line = r.one_line_error()
    assert line == 'IMTUI_BILLING_TZ: unknown time zone "Asia/Shangai" (did you mean "Asia/Shanghai"?)'
    assert "--now" not in line and "ISO 8601" not in line
    assert not path.exists()  # nothing created


@pytest.mark.parametrize("zone", ["", "../../etc/passwd", "Not/AZone", "x" * 5000, "Asia/Shanghai\x1b]0;x\x07"])
def test_malformed_zones_are_one_clean_line(capsys, tmp_path, monkeypatch, zone):
    monkeypatch.setenv("IMTUI_BILLING_TZ", zone)
    r = _raw(capsys, "--db", str(tmp_path / "x.db"), "--now", NOW, "apps", "list")
    if zone == "":  # unset in effect: the default zone
        assert r.rc == 0, str(r)
        return
    assert r.rc == 2, str(r)
    line = r.one_line_error()
    assert line.startswith("IMTUI_BILLING_TZ: unknown time zone ")
    assert "\x1b" not in line and len(line) < 200


def test_a_known_zone_is_stored_and_bills_in_it(capsys, url, monkeypatch):
    monkeypatch.setenv("IMTUI_BILLING_TZ", "Europe/Berlin")
    r = _raw(capsys, "--db", url, "--now", "2026-11-02T09:00:00+01:00", "apps", "create", "a", "--account", "acme")
    assert r.rc == 0, str(r)
    assert r.out and "+01:00" in r.out


def test_a_stored_unknown_zone_says_how_to_repair_it(capsys, url):
    cli = Cli(capsys, url)
    cli.create()
    _sql(url, "UPDATE meta SET value = 'Asia/Shangai' WHERE key = 'billing_tz'")
    for argv in (("apps", "list"), ("bills",), ("apps", "create", "b", "--account", "acme"), ()):
        r = _raw(capsys, "--db", url, "--now", "2026-11-02T10:00:00+08:00", *argv)
        assert r.rc == 1, str(r)
        line = r.one_line_error()
        assert line == (
            'this database\'s billing time zone "Asia/Shangai" is not a known time zone; set the zone its '
            "bills are meant for (e.g. Asia/Shanghai) with the SQL: "
            "UPDATE meta SET value = 'Asia/Shanghai' WHERE key = 'billing_tz'"
        )
    # the repair it names works
    _sql(url, line.split("with the SQL: ", 1)[1])
    assert [a["name"] for a in cli.list(now="2026-11-02T10:01:00+08:00")] == ["chat-prod"]


def test_a_stored_zone_with_nothing_close_suggests_the_default(capsys, url):
    Cli(capsys, url).create()
    _sql(url, "UPDATE meta SET value = 'qqqqqq' WHERE key = 'billing_tz'")
    r = _raw(capsys, "--db", url, "--now", "2026-11-02T10:00:00+08:00", "apps", "list")
    assert r.rc == 1
    assert r.one_line_error().endswith("UPDATE meta SET value = 'Asia/Shanghai' WHERE key = 'billing_tz'")


def test_no_file_for_a_refused_zone_even_in_a_new_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IMTUI_BILLING_TZ", "Mars/Olympus")
    folder = tmp_path / "new"
    r = _raw(capsys, "--db", str(folder / "x.db"), "apps", "list")
    assert r.rc == 2
    assert not Path(folder).exists()
