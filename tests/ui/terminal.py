"""The dashboard in a real terminal: `imtui` on a pseudo-terminal, keys written to it as a terminal
writes them (a burst in one write, or one key at a time), and its screen read back through a
small terminal emulator (enough of xterm for what Textual writes).

Nothing here sleeps for a fixed time: it reads the terminal until a condition holds, with a
generous deadline (the machine may be loaded).
"""

from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from rich.cells import get_character_cell_size

from tests.support.cli import IMTUI_EXE, ROOT, clean_env

ENTER = "\r"
SHIFT_TAB = "\x1b[Z"
TAB = "\t"
DOWN = "\x1b[B"
F2 = "\x1bOQ"
ESCAPE_KEY = "\x1b"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"

SPECIAL = (SHIFT_TAB, DOWN, F2)

_CSI = re.compile(r"\x1b\[([?>=!<]?)([0-9;:]*)([ -/]*)([@-~])")
_CSI_PARTIAL = re.compile(r"\x1b\[[?>=!<]?[0-9;:]*[ -/]*$")


def split_keys(keys: str) -> list[str]:
    """The keys of a key string one by one (an escape sequence is one key)."""
    out, i = [], 0
    while i < len(keys):
        for special in SPECIAL:
            if keys.startswith(special, i):
                out.append(special)
                i += len(special)
                break
        else:
            out.append(keys[i])
            i += 1
    return out


class Screen:
    """A terminal screen: cursor moves, erasing, text (wide characters take two cells); colours,
    modes, queries and window titles are ignored."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.cells = [[" "] * cols for _ in range(rows)]
        self.x = self.y = 0
        self._pending = ""

    def feed(self, text: str) -> None:
        text, self._pending = self._pending + text, ""
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c == "\x1b":
                if i + 1 >= n:
                    self._pending = text[i:]
                    return
                nxt = text[i + 1]
                if nxt == "[":
                    m = _CSI.match(text, i)
                    if m is None:
                        if _CSI_PARTIAL.match(text, i):
                            self._pending = text[i:]
                            return
                        i += 2
                        continue
                    if not m.group(1):
                        self._csi(m.group(2), m.group(4))
                    i = m.end()
                    continue
                if nxt in "]P_^X":  # a string: up to BEL or ESC \
                    j = i + 2
                    while j < n and text[j] != "\x07" and not text.startswith("\x1b\\", j):
                        j += 1
                    if j >= n:
                        self._pending = text[i:]
                        return
                    i = j + (1 if text[j] == "\x07" else 2)
                    continue
                i += 3 if nxt in "()#%" else 2
                continue
            if c == "\r":
                self.x = 0
            elif c == "\n":
                self.y = min(self.y + 1, self.rows - 1)
            elif c == "\b":
                self.x = max(self.x - 1, 0)
            elif c >= " " and c != "\x7f":
                width = get_character_cell_size(c)
                if width:
                    if self.x + width > self.cols:
                        self.x, self.y = 0, min(self.y + 1, self.rows - 1)
                    self.cells[self.y][self.x] = c
                    if width == 2 and self.x + 1 < self.cols:
                        self.cells[self.y][self.x + 1] = ""
                    self.x = min(self.x + width, self.cols)
            i += 1

    def _csi(self, params: str, final: str) -> None:
        args = [int(p) if p.isdigit() else 0 for p in params.replace(":", ";").split(";")] if params else []

        def arg(k: int, default: int = 1) -> int:
            return args[k] if len(args) > k and args[k] else default

        if final in "Hf":
            self.y, self.x = min(arg(0) - 1, self.rows - 1), min(arg(1) - 1, self.cols - 1)
        elif final == "A":
            self.y = max(self.y - arg(0), 0)
        elif final == "B":
            self.y = min(self.y + arg(0), self.rows - 1)
        elif final == "C":
            self.x = min(self.x + arg(0), self.cols - 1)
        elif final == "D":
            self.x = max(self.x - arg(0), 0)
        elif final == "G":
            self.x = min(arg(0) - 1, self.cols - 1)
        elif final == "d":
            self.y = min(arg(0) - 1, self.rows - 1)
        elif final == "J":
            mode = arg(0, 0)
            if mode in (2, 3):
                self.cells = [[" "] * self.cols for _ in range(self.rows)]
            elif mode == 0:
                self.cells[self.y][self.x :] = [" "] * (self.cols - self.x)
                for r in range(self.y + 1, self.rows):
                    self.cells[r] = [" "] * self.cols
        elif final == "K":
            mode = arg(0, 0)
            if mode == 0:
                self.cells[self.y][self.x :] = [" "] * (self.cols - self.x)
            elif mode == 1:
                self.cells[self.y][: self.x + 1] = [" "] * (self.x + 1)
            else:
                self.cells[self.y] = [" "] * self.cols

    def lines(self) -> list[str]:
        return ["".join(row).rstrip() for row in self.cells]


class Dashboard:
    """`imtui --db DB --now NOW` on a pseudo-terminal of `cols`×`rows`."""

    def __init__(self, db: Path | str, now: str, cols: int = 160, rows: int = 50, env: dict | None = None) -> None:
        self.screen = Screen(cols, rows)
        self.output = 0  # bytes read so far
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        environment = clean_env(
            {"TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows), "TEXTUAL_ANIMATIONS": "none"}
        )
        environment.pop("NO_COLOR", None)
        environment.update(env or {})
        self.proc = subprocess.Popen(
            [str(IMTUI_EXE), "--db", str(db), "--now", now],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=str(ROOT),
            env=environment,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master

    # --- reading -------------------------------------------------------------------------------

    def read(self, seconds: float) -> bool:
        """Waits up to `seconds` for the dashboard to write, then reads all it wrote; whether
        anything came."""
        got = False
        wait = seconds
        while select.select([self.master], [], [], wait)[0]:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:  # the dashboard ended
                break
            if not data:
                break
            got = True
            self.output += len(data)
            self.screen.feed(self._decoder.decode(data))
            wait = 0.01  # the rest of this frame
        return got

    def wait_for(self, condition, timeout: float = 30.0, what: str = "") -> None:
        """Reads until `condition(self)` holds; fails with the screen after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            if condition(self):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what or condition} on the screen:\n{self.text()}")
            if self.proc.poll() is not None:
                self.read(0.2)
                raise AssertionError(f"the dashboard ended (exit {self.proc.returncode}):\n{self.text()}")
            self.read(0.05)

    def wait_for_text(self, text: str, timeout: float = 30.0) -> None:
        self.wait_for(lambda d: text in d.text(), timeout, repr(text))

    def quiet(self, gap: float = 0.25, timeout: float = 10.0) -> None:
        """Reads until the dashboard has written nothing for `gap` s (it has drawn what it had)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.read(gap):
            pass

    def lines(self) -> list[str]:
        return self.screen.lines()

    def text(self) -> str:
        return "\n".join(self.lines())

    def summary(self) -> str:
        """The summary line (the first line that counts apps)."""
        return next((ln for ln in self.lines() if " apps · " in ln), "")

    def started(self) -> bool:
        return " shown · " in self.text()

    # --- typing --------------------------------------------------------------------------------

    def burst(self, keys: str) -> None:
        """All the keys in one write, as a paste or a slow link delivers them."""
        data = keys.encode()
        assert os.write(self.master, data) == len(data)

    def type_slowly(self, keys: str, gap: float = 0.08) -> None:
        """One key at a time, each once the dashboard has drawn what the one before did."""
        for key in split_keys(keys):
            before = self.output
            os.write(self.master, key.encode())
            deadline = time.monotonic() + 5.0
            while self.output == before and time.monotonic() < deadline:
                self.read(0.05)  # the key's effect starts being drawn
            self.quiet(gap)

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        os.close(self.master)

    def __enter__(self) -> Dashboard:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
