#!/usr/bin/env python3
"""The progress bar fits the terminal: `dfsae train` runs with stderr on a
pseudo-terminal of a given size, and every redraw of the bar (the text
between two carriage returns) must be narrower than the terminal, so it
never wraps and scrolls. Sizes come from TIOCGWINSZ, else $COLUMNS.
  progress_width.py DFSAE_TOOL FIXTURES_DIR"""
import fcntl
import os
import re
import struct
import subprocess
import sys
import tempfile
import termios

tool, fixtures = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
failed = 0

# Without pseudo-terminals (a chroot without /dev/pts) nothing here can
# run: report the test as skipped (CTest's SKIP_RETURN_CODE), not passed.
try:
    for fd in os.openpty():
        os.close(fd)
except OSError as e:
    print(f"SKIP: no pseudo-terminal ({e})")
    sys.exit(77)


def check(name, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + detail))
    failed += not ok


def train_on_pty(cols, env_columns=None):
    """stderr of a training run on a pty of `cols` columns (0: size unset)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if env_columns is not None:
        env["COLUMNS"] = str(env_columns)
    with tempfile.TemporaryDirectory() as work:
        proc = subprocess.Popen(
            [tool, "train", os.path.join(fixtures, "small.csv"),
             "--components", "8", "--epochs", "300", "--batch", "4",
             "--out", os.path.join(work, "m.st")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
            env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        rc = proc.wait()
    return rc, b"".join(chunks).decode("utf-8", "replace")


def bars(text):
    """The bar redraws: the text after each "\\r\\033[K" up to the next
    carriage return, that is no epoch line (those end in a newline, which
    the terminal sends as "\\r\\n")."""
    out = []
    for piece in text.replace("\r\n", "\n").split("\r")[1:]:
        piece = piece.replace("\033[K", "")
        if piece and "\n" not in piece:
            out.append(piece)
    return out


for cols, env_cols, label in [(80, None, "80 columns"),
                              (40, None, "40 columns"),
                              (12, None, "12 columns"),
                              (0, 50, "no size, COLUMNS=50"),
                              (0, None, "no size, no COLUMNS: 80")]:
    width = cols or env_cols or 80
    rc, text = train_on_pty(cols, env_cols)
    drawn = bars(text)
    check(label + ": training exits 0", rc == 0, "exit %d" % rc)
    check(label + ": the bar was drawn", len(drawn) > 0, repr(text[:300]))
    wide = [b for b in drawn if len(b) > width - 1]
    check(label + ": every bar fits in %d characters" % (width - 1),
          not wide, repr(wide[:1]))
    if width >= 40:
        check(label + ": the bar keeps epoch, steps and loss",
              all(re.match(r"epoch +\d+/300 \[[=> ]+\] +\d+/24 loss \S+", b)
                  for b in drawn), repr(drawn[:1]))
    if width >= 80:
        check(label + ": and the time left", all(" ETA " in b for b in drawn),
              repr(drawn[:1]))

print("progress_width: %s" % ("all passed" if failed == 0 else
                              "%d failed" % failed))
sys.exit(1 if failed else 0)
