"""Hostile inputs found by the property tests, pinned down one by one (and as real processes,
where the shell hands `imtui` bytes that are not UTF-8)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.robustness.harness import IMTUI_EXE, ROOT, TALLY, apps_list, clean_env, run

APP = "1400000000"
CASES = [
    # undecodable bytes in argv (e.g. a Latin-1 terminal) arrive as surrogate escapes
    (["apps", "create", "caf\udce9", "--account", "acme"], {0, 2}),
    (["apps", "create", "ok", "--account", "acm\udcff"], {0, 2}),
    (["apps", "list", "--search", "\udcff"], {0, 2}),
    (["apps", "list", "--account", "\udcff"], {2, 4}),
    (["apps", "halt", APP, "--reason", "bad \udcff byte", "--yes"], {0, 2}),
    (["bills", "--account", "\udcff"], {2, 4}),
    # NUL bytes (not possible in a real argv, but possible in-process and from the dashboard)
    (["apps", "list", "--search", "a\x00b"], {0, 2}),
    (["apps", "list", "--account", "a\x00b"], {2, 4}),
    (["bills", "--account", "a\x00b"], {2, 4}),
    (["apps", "create", "a\x00b", "--account", "acme"], {2}),
    # numbers too big for the database
    (["audit", "--limit", str(10**20)], {0, 2}),
    (["audit", "--limit", str(2**63)], {0, 2}),
    (["apps", "modify", APP, "--history-days", str(10**30)], {2, 3}),
    # long and SQL-looking text
    (["apps", "list", "--search", "x" * 10_000], {0}),
    (["apps", "list", "--search", "'; DROP TABLE apps; --"], {0}),
    (["apps", "list", "--account", "' OR '1'='1"], {4}),
    (["apps", "create", "'; DROP TABLE apps; --", "--account", "acme"], {0}),
    (["apps", "create", "x" * 10_000, "--account", "acme"], {2}),
    # an error message must stay one line whatever the argument holds
    (["apps", "list", "foo\nimtui: all good"], {2}),
    (["--bogus\nline", "apps", "list"], {2}),
]


@pytest.mark.parametrize("argv,codes", CASES, ids=[repr(" ".join(a))[:60] for a, _ in CASES])
def test_known_hostile_input(db, argv, codes):
    run(db, "2026-11-02T09:00:00+08:00", "apps", "create", "seed-app", "--account", "acme").ok()
    before = apps_list(db, "2026-11-02T09:01:00+08:00")
    r = run(db, "2026-11-02T09:02:00+08:00", *argv)
    TALLY["hostile inputs: pinned cases"] += 1
    assert r.rc != 1, f"unexpected error (exit 1): {r.err.strip()}"
    assert r.rc in codes, (r.rc, r.err)
    if r.rc != 0:
        r.one_line_error()
    after = apps_list(db, "2026-11-02T09:03:00+08:00")
    created = argv[:2] == ["apps", "create"] and r.rc == 0
    assert len(after) == len(before) + (1 if created else 0)
    if created:
        assert after[-1]["name"] == argv[2]


@pytest.mark.parametrize(
    "args",
    [
        [b"apps", b"create", b"caf\xe9", b"--account", b"acme"],
        [b"apps", b"list", b"--search", b"\xff\xfe"],
        [b"apps", b"halt", APP.encode(), b"--reason", b"caf\xe9 closed", b"--yes"],
    ],
    ids=["create-latin1-name", "search-latin1", "halt-latin1-reason"],
)
def test_non_utf8_bytes_from_a_real_shell(db, args):
    run(db, "2026-11-02T09:00:00+08:00", "apps", "create", "seed-app", "--account", "acme").ok()
    proc = subprocess.run(
        [str(IMTUI_EXE).encode(), b"--db", db.encode(), b"--now", b"2026-11-02T09:05:00+08:00", *args],
        capture_output=True,
        env=clean_env(),
        cwd=str(ROOT),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    TALLY["hostile inputs: pinned cases (real process)"] += 1
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert proc.returncode in (0, 2), f"exit {proc.returncode}: {err.strip()}"
    json.loads(run(db, "2026-11-02T09:06:00+08:00", "apps", "list", "--format", "json").ok().out)
