"""The platform simulator (`imtui control-plane serve`) facing a hostile network, tried from
outside as its own process:

- connections that never finish their headers (a slowloris flood of 2,000) neither hold the
  server nor keep an operator's request from being answered at once; each is dropped after the
  read timeout, and at most UNAUTHENTICATED_MAX are held at any moment;
- malformed credentials are 401, never 500; only canonical SDKAppIDs are taken (404 in a path,
  400 elsewhere); malformed fault plans are 400;
- bad `--store`, `--listen`, `--tls-*` or `--fault` options end in one line and exit 2 (a port in
  use: 1), never a traceback;
- faults only for a server started with `--allow-faults`;
- its identity is stable across restarts of the same store;
- over TLS, imtui verifies the certificate: a halt with `IMTUI_CONTROL_PLANE_CA` works, without
  it the halt is refused with one clear line and nothing changes.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from imtui.services.control_plane import ControlPlaneError
from imtui.services.control_plane_http import HttpControlPlane
from imtui.simulator.server import READ_SECONDS, UNAUTHENTICATED_MAX
from tests.robustness.harness import TALLY
from tests.support.cli import IMTUI_EXE, clean_env, run_exe
from tests.support.dbs import drop_db, fresh_db_url
from tests.support.platform import Platform, wait_until

PARTIAL = b"GET /v1/stopped HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz"  # and then nothing, ever
DEMO_AT = "2026-11-20T10:00:00+08:00"
HALT_AT = "2026-11-20T11:00:00+08:00"


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path).start()
    yield p
    p.kill()


@pytest.fixture
def drills(tmp_path):
    folder = tmp_path / "drills"
    folder.mkdir()
    p = Platform(folder, allow_faults=True).start()
    yield p
    p.kill()


def raw(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends `data` on a new connection and reads the answer until the server closes it or a
    complete answer with a Content-Length arrived."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return got
            if not chunk:
                return got
            got += chunk
            head, sep, body = got.partition(b"\r\n\r\n")
            lengths = [line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
            if sep and lengths and len(body) >= int(lengths[0].split(b":")[1]):
                return got


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def closed(s: socket.socket) -> bool:
    """Whether the server closed (or reset) this connection; never blocks."""
    try:
        return s.recv(1, socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def stall(port: int, n: int) -> list[socket.socket]:
    """`n` connections that each send the start of a request and never finish it."""
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(PARTIAL)
        except OSError:  # already dropped to make room for the next ones: fine
            pass
        held.append(s)
    return held


def authed(platform: Platform, path: str, extra: bytes = b"", method: bytes = b"GET") -> bytes:
    return (
        method
        + b" "
        + path.encode()
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + platform.token.encode()
        + b"\r\n"
        + extra
        + b"\r\n"
    )


# --- connections that never finish --------------------------------------------------------------


def test_a_slowloris_flood_neither_holds_the_server_nor_delays_an_operator(platform):
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    flood = min(2000, soft - 200)
    started = time.monotonic()
    held = stall(platform.port, flood)
    TALLY["connections that never finished their headers"] += flood

    asked = time.monotonic()
    status, body = platform.request("GET", "/v1/stopped")
    answered = time.monotonic() - asked
    assert status == 200 and body == {"stopped": []}
    assert answered < 2.0, answered
    TALLY["operator request answered during a 2,000-connection slowloris flood (ms)"] = round(answered * 1000)

    # at most UNAUTHENTICATED_MAX are held (the oldest were dropped to make room), and those
    # held are dropped once the read timeout passes
    assert wait_until(lambda: sum(not closed(s) for s in held) <= UNAUTHENTICATED_MAX, timeout=2)
    if time.monotonic() - started < READ_SECONDS - 1:
        assert sum(not closed(s) for s in held) > 0  # still within their time: held, not answered
    assert wait_until(lambda: all(closed(s) for s in held), timeout=READ_SECONDS + 3)
    assert time.monotonic() - started < READ_SECONDS + 5
    for s in held:
        s.close()
    assert platform.request("GET", "/v1/stopped")[0] == 200


def test_a_stalled_connection_is_dropped_after_the_read_timeout(platform):
    for opening in (PARTIAL, b"", authed(platform, "/v1/stopped")[:-20]):  # headers unfinished, or none
        s = socket.create_connection(("127.0.0.1", platform.port), timeout=5)
        s.sendall(opening)
        started = time.monotonic()
        assert wait_until(lambda s=s: closed(s), timeout=READ_SECONDS + 3)
        waited = time.monotonic() - started
        assert READ_SECONDS - 1 < waited < READ_SECONDS + 3, waited
        s.close()

    # a wrong token does not keep a connection: it is answered 401 and dropped all the same
    with socket.create_connection(("127.0.0.1", platform.port), timeout=5) as s:
        s.sendall(b"GET /v1/stopped HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 401")
        assert wait_until(lambda: closed(s), timeout=READ_SECONDS + 3)

    # an authenticated keep-alive connection that then stalls in its next request is dropped too
    with socket.create_connection(("127.0.0.1", platform.port), timeout=5) as s:
        s.sendall(authed(platform, "/v1/stopped"))
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        s.sendall(PARTIAL)
        assert wait_until(lambda: closed(s), timeout=READ_SECONDS + 3)
    TALLY["stalled connections dropped after the read timeout"] += 5


def test_a_body_that_never_arrives_is_given_up(drills):
    started = time.monotonic()
    answer = raw(drills.port, authed(drills, "/v1/faults", b"Content-Length: 100\r\n", b"PUT") + b"{", READ_SECONDS + 4)
    assert status_of(answer) == 408, answer
    assert time.monotonic() - started < READ_SECONDS + 3


# --- credentials, app IDs, plans --------------------------------------------------------------------


def test_malformed_credentials_are_401_never_500(platform):
    token = platform.token.encode()
    for header in (
        b"Authorization: Bearer \xff\xfe\x80\r\n",
        b"Authorization: Bearer " + token + b"\xff\r\n",
        b"Authorization: \xc3\x28\r\n",
        b"Authorization: Bearer\r\n",
        b"Authorization: Basic dXNlcjpwYXNz\r\n",
        b"Authorization: bearer " + token + b"\r\n",
        b"Authorization: Bearer " + token + b"\r\nAuthorization: Bearer " + token + b"\r\n",
        b"Authorization: Bearer " + token + b"x" * 4000 + b"\r\n",
        b"",
    ):
        for method, path in ((b"GET", b"/v1/stopped"), (b"POST", b"/v1/apps/1400000001/stop")):
            request = method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\n" + header + b"\r\n"
            answer = raw(platform.port, request)
            assert status_of(answer) == 401, (header, answer[:200])
            assert b"token" in answer
            TALLY["requests with malformed credentials refused (401)"] += 1
    assert platform.stopped() == set() and platform.log() == []


@pytest.mark.parametrize(
    "app",
    [
        "1_400_000_001",
        "%EF%BC%91%EF%BC%94%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%91",  # full width
        "-5",
        "+400000001",
        "0400000001",
        "140000001",
        "14000000010",
        "9223372036854775808",
        "18446744073709551616",
        "1400000001%20",
        "%201400000001",
        "1400000001%0A",
        "1.4e9",
        "0x53724E01",
    ],
)
def test_only_canonical_app_ids_are_taken(platform, app):
    for method, path in (
        ("GET", f"/v1/apps/{app}"),
        ("POST", f"/v1/apps/{app}/stop"),
        ("POST", f"/v1/apps/{app}/start"),
    ):
        answer = raw(
            platform.port, authed(platform, path, b"Idempotency-Key: k1\r\nContent-Length: 0\r\n", method.encode())
        )
        assert status_of(answer) == 404, (path, answer[:200])
        assert b"SDKAppID" in answer
    answer = raw(platform.port, authed(platform, f"/v1/log?app={app}"))
    assert status_of(answer) == 400, answer[:200]
    TALLY["non-canonical app IDs refused"] += 4
    assert platform.stopped() == set() and platform.log() == []
    # the canonical one is fine
    assert platform.request("GET", "/v1/apps/1400000001") == (200, {"app_id": 1400000001, "serving": True})


def test_idempotency_keys_are_checked(platform):
    for key in (b"", b"\xff\xfe", b"a b", b"k" * 201, b"k/1"):
        headers = b"Idempotency-Key: " + key + b"\r\nContent-Length: 0\r\n"
        assert status_of(raw(platform.port, authed(platform, "/v1/apps/1400000001/stop", headers, b"POST"))) == 400
    assert status_of(raw(platform.port, authed(platform, "/v1/operations/%FF%FE/resolve", b"", b"POST"))) == 400
    assert platform.stopped() == set() and platform.log() == []


@pytest.mark.parametrize(
    "plan",
    [
        [],
        "x",
        {"faults": [{"mode": "fail", "rate": "x"}]},
        {"faults": [{"mode": "fail", "rate": 2}]},
        {"faults": [{"mode": "fail", "rate": float("nan")}]},
        {"faults": [{"mode": "fail", "apps": [2**63]}]},
        {"faults": [{"mode": "fail", "apps": ["1400000001"]}]},
        {"faults": [{"mode": "fail", "apps": [-5]}]},
        {"faults": [{"mode": "fail", "apps": 1400000001}]},
        {"faults": [{"mode": "fail", "count": -1}]},
        {"faults": [{"mode": "fail", "count": 1.5}]},
        {"faults": [{"mode": "fail", "after": "yes"}]},
        {"faults": [{"mode": "fail", "seconds": 1e9}]},
        {"faults": [{"mode": "explode"}]},
        {"faults": [{"mode": "fail", "surprise": 1}]},
        {"faults": {"mode": "fail"}},
        {"faults": ["fail"]},
        {"latency": -1},
        {"latency": "slow"},
        {"seed": [1]},
        {"seed": 2**64},
        {"other": 1},
    ],
)
def test_malformed_fault_plans_are_400(drills, plan):
    body = json.dumps(plan).encode()
    answer = raw(drills.port, authed(drills, "/v1/faults", b"Content-Length: %d\r\n" % len(body), b"PUT") + body)
    assert status_of(answer) == 400, (plan, answer[:300])
    assert drills.request("GET", "/v1/faults")[1]["faults"] == []  # the plan in force is unchanged


def test_undecodable_and_pathological_bodies_are_400_or_413(drills):
    for body, expected in ((b"\xff\xfe{}", 400), (b"[" * 100_000, 413), (b"[" * 50_000 + b"]" * 50_000, 413)):
        answer = raw(drills.port, authed(drills, "/v1/faults", b"Content-Length: %d\r\n" % len(body), b"PUT") + body)
        assert status_of(answer) == expected, answer[:300]
    deep = b"[" * 30_000 + b"]" * 30_000
    answer = raw(drills.port, authed(drills, "/v1/faults", b"Content-Length: %d\r\n" % len(deep), b"PUT") + deep)
    assert status_of(answer) == 400, answer[:300]


# --- faults only for drills ------------------------------------------------------------------------


def test_faults_only_for_a_server_started_for_drills(platform, drills):
    status, body = platform.request("PUT", "/v1/faults", {"faults": [{"mode": "fail"}]})
    assert status == 403 and "--allow-faults" in body["error"]
    assert platform.request("GET", "/v1/faults")[1]["allowed"] is False
    platform.flip(1400000001, "stop", "drill-1")  # nothing injected: the stop goes through
    TALLY["fault plans refused without --allow-faults"] += 1

    drills.faults({"faults": [{"mode": "fail", "apps": [1400000002]}]})
    assert drills.request("GET", "/v1/faults")[1]["allowed"] is True
    status, body = drills.request("POST", "/v1/apps/1400000002/stop", headers={"Idempotency-Key": "drill-2"})
    assert status == 500 and body["error"] == "injected failure"


def test_fault_options_need_the_drill_flag(tmp_path):
    r = serve(tmp_path, "--fault", "fail:0.1")
    assert r.returncode == 2 and "--allow-faults" in r.stderr
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything was made


# --- options -----------------------------------------------------------------------------------------


def serve(tmp_path: Path, *args: str, listen: str = "127.0.0.1:0", timeout: float = 30) -> subprocess.CompletedProcess:
    """`imtui control-plane serve` that is expected to end by itself (a refused option)."""
    return subprocess.run(
        [str(IMTUI_EXE), "control-plane", "serve", "--listen", listen, "--token-file", str(tmp_path / "t"), *args]
        + ([] if "--store" in args else ["--store", str(tmp_path / "s.sqlite")]),
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=timeout,
    )


def assert_one_line(r: subprocess.CompletedProcess, code: int, *words: str) -> None:
    assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("control plane: ")
    for word in words:
        assert word in r.stderr, (word, r.stderr)


def test_a_bad_store_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "notsqlite").write_bytes(b"this is not a database\n" * 100)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    cases = [
        (str(tmp_path / "adir"), "directory"),
        (str(tmp_path / "notsqlite"), "not a database"),
        (str(tmp_path / "afile" / "s.sqlite"), "not a directory"),
        ("/proc/version/s.sqlite", "not a directory"),
    ]
    for store, words in cases:
        assert_one_line(serve(tmp_path, "--store", store), 2, words)
        TALLY["bad control-plane options refused in one line"] += 1
    assert (tmp_path / "notsqlite").read_bytes().startswith(b"this is not")  # left as it was


def test_bad_listen_addresses_are_one_line(tmp_path):
    for listen, code, words in (
        ("127.0.0.1:65536", 2, "port from 0 to 65535"),
        ("127.0.0.1:99999999999999999999", 2, "port"),
        ("127.0.0.1:-1", 2, "port"),
        ("127.0.0.1", 2, "HOST:PORT"),
        (":8765", 2, "HOST:PORT"),
        ("127.0.0.1:８７６５", 2, "port"),
        ("no-such-host.invalid:8765", 2, "no such host"),
        ("x" * 300 + ":8765", 2, "no such host"),
        ("192.0.2.1:8765", 2, "not an address of this host"),
    ):
        assert_one_line(serve(tmp_path, listen=listen), code, words)
        TALLY["bad control-plane options refused in one line"] += 1
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line(serve(tmp_path, listen=f"127.0.0.1:{port}"), 1, "already in use")


def test_bad_tls_options_are_one_line(tmp_path):
    cert, key = self_signed(tmp_path)
    (tmp_path / "junk.pem").write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    for args, words in (
        (["--tls-cert", str(cert)], "--tls-key"),
        (["--tls-key", str(key)], "--tls-cert"),
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(key)], "No such file"),
        (["--tls-cert", str(cert), "--tls-key", str(tmp_path / "missing.pem")], "No such file"),
        (["--tls-cert", str(tmp_path / "junk.pem"), "--tls-key", str(key)], "PEM"),
        (["--tls-cert", str(cert), "--tls-key", str(cert)], "PEM"),
        (["--tls-cert", str(tmp_path), "--tls-key", str(key)], "--tls-cert"),
        (["--tls-cert", str(cert), "--tls-key", str(key), "--socket", str(tmp_path / "sock")], "--socket"),
        (["--latency", "nan"], "--latency"),
        (["--latency", "-1"], "--latency"),
        (["--allow-faults", "--fault", "fail:x"], "rate"),
        (["--allow-faults", "--fault", "explode"], "MODE"),
    ):
        assert_one_line(serve(tmp_path, *args), 2, *words.split("|"))
        TALLY["bad control-plane options refused in one line"] += 1


# --- identity -----------------------------------------------------------------------------------------


def test_the_identity_is_stable_across_restarts_of_the_same_store(tmp_path):
    platform = Platform(tmp_path).start()
    try:
        status, body = platform.request("GET", "/v1/identity")
        assert status == 200 and set(body) == {"platform"}
        first = body["platform"]
        assert len(first) == 32 and int(first, 16) >= 0
        assert platform.request("GET", "/v1/identity", token="wrong")[0] == 401
        assert platform.request("GET", "/v1/identity", token=None)[0] == 401
        platform.stop()
        platform.start()
        assert platform.request("GET", "/v1/identity") == (200, {"platform": first})
        platform.kill()
        platform.start()
        assert platform.request("GET", "/v1/identity") == (200, {"platform": first})
    finally:
        platform.kill()
    other = Platform(tmp_path, store=tmp_path / "other.sqlite").start()
    try:
        assert other.request("GET", "/v1/identity")[1]["platform"] != first
    finally:
        other.kill()
    assert (tmp_path / "platform.sqlite").stat().st_mode & 0o077 == 0  # the store is its owner's only


# --- TLS -----------------------------------------------------------------------------------------------


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_a_halt_over_tls_is_verified(tmp_path):
    cert, key = self_signed(tmp_path)
    platform = Platform(tmp_path, tls=(cert, key)).start()
    db = fresh_db_url(tmp_path)
    try:
        assert platform.url.startswith("https://")
        assert platform.request("GET", "/v1/stopped") == (200, {"stopped": []})
        r = run_exe(["--db", db, "--now", DEMO_AT, "demo", "--apps", "5", "--seed", "2"])
        assert r.rc == 0, r.err
        apps = json.loads(run_exe(["--db", db, "--now", DEMO_AT, "apps", "list", "--format", "json"]).out)
        app = next(a["app_id"] for a in apps if a["status"] == "active")
        halt = ["--db", db, "--now", HALT_AT, "apps", "halt", str(app), "--reason", "tls drill", "--yes"]

        # without the CA: refused in one clear line, nothing changes anywhere
        r = run_exe(halt, env=platform.env())
        assert r.rc == 1, (r.out, r.err)
        assert "Traceback" not in r.err
        assert "certificate could not be verified" in r.out + r.err and "IMTUI_CONTROL_PLANE_CA" in r.out + r.err
        assert platform.stopped() == set() and platform.log() == []
        shown = json.loads(run_exe(["--db", db, "--now", HALT_AT, "apps", "show", str(app), "--format", "json"]).out)
        assert shown["status"] == "active"

        # a CA bundle that cannot be read is a bad setting (2), named
        r = run_exe(halt, env=platform.env(IMTUI_CONTROL_PLANE_CA=str(tmp_path / "missing.pem")))
        assert r.rc == 2 and "IMTUI_CONTROL_PLANE_CA" in r.err and "Traceback" not in r.err

        # with it: done
        r = run_exe(halt, env=platform.env(IMTUI_CONTROL_PLANE_CA=str(cert)))
        assert r.rc == 0, (r.out, r.err)
        assert platform.stopped() == {app}
        TALLY["halts through https verified against IMTUI_CONTROL_PLANE_CA"] += 1
    finally:
        platform.kill()
        drop_db(db)


def test_plain_http_to_a_tls_server_and_back_never_acts(tmp_path):
    cert, key = self_signed(tmp_path)
    secure = Platform(tmp_path, tls=(cert, key)).start()
    try:
        # a plain request to the TLS port is not answered as HTTP, and nothing is acted on
        answer = raw(secure.port, authed(secure, "/v1/apps/1400000001/stop", b"Idempotency-Key: k\r\n", b"POST"))
        assert not answer.startswith(b"HTTP/1.1 200")
        assert secure.log() == []
    finally:
        secure.kill()
    (tmp_path / "plain").mkdir()
    plain = Platform(tmp_path / "plain").start()
    try:
        # https:// to a plain HTTP server: refused at once, in words, and nothing acted on
        url = plain.url.replace("http://", "https://")
        client = HttpControlPlane(url, plain.token, attempt_seconds=2, ca_file=str(cert))
        with pytest.raises(ControlPlaneError, match="no secure connection"):
            asyncio.run(client.deactivate(1400000001, "k-tls"))
        assert plain.log() == []
    finally:
        plain.kill()


def test_the_unix_socket_is_its_owners_only(tmp_path):
    path = tmp_path / "cp.sock"
    with open(tmp_path / "out", "w+") as out:
        proc = subprocess.Popen(
            [str(IMTUI_EXE), "control-plane", "serve", "--socket", str(path), "--token-file", str(tmp_path / "t")]
            + ["--store", str(tmp_path / "s.sqlite")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=clean_env(),
        )
        try:
            assert wait_until(lambda: path.exists(), timeout=30)
            assert path.stat().st_mode & 0o777 == 0o600
        finally:
            proc.terminate()
            assert proc.wait(timeout=30) == 0  # SIGTERM: a clean stop
