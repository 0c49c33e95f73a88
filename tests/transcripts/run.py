#!/usr/bin/env python3
"""run.py - golden SMTP transcripts against a running mxspool-ingest.

Usage: run.py INDEX_DB NAME=PORT [NAME=PORT...] -- FILE...

A transcript is a list of directives, one per line ('#' starts a comment):
  server: NAME      which server (from the NAME=PORT arguments; default "default")
  C: text           send text + CRLF
  R: N text         send text + CRLF, N times (large messages)
  C+ text           send text raw after Python unescaping (\\r \\n \\x00 ...),
                    nothing appended: pipelining and smuggling tests
  S: pattern        read one reply line; must match (fnmatch: * and ?)
  CLOSED            the server must have closed the connection (EOF)
  MESSAGES: N       exactly N messages were added to the index since the
                    transcript started (smuggling: never two)
A transcript starts connected; the banner is an ordinary "S:" line.
Prints "ok - FILE" or "not ok - FILE: line L: got X, want Y"; exit 1 on failure.
"""
import fnmatch
import os
import socket
import sqlite3
import sys
import time


def count_messages(db):
    if not os.path.exists(db):
        return 0
    for _ in range(50):
        try:
            con = sqlite3.connect(db, timeout=5)
            n = con.execute("SELECT count(*) FROM messages").fetchone()[0]
            con.close()
            return n
        except sqlite3.OperationalError:
            time.sleep(0.1)
    raise RuntimeError("index unreadable")


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                d = b""
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def closed(self):
        if self.buf:
            return False
        try:
            d = self.s.recv(1)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return d == b""


def run(path, db, ports):
    lines = open(path, encoding="utf-8").read().split("\n")
    server = "default"
    for ln in lines:
        if ln.startswith("server:"):
            server = ln.split(":", 1)[1].strip()
    base = count_messages(db)
    c = Conn(ports[server])
    for no, ln in enumerate(lines, 1):
        if not ln.strip() or ln.startswith("#") or ln.startswith("server:"):
            continue
        if ln.startswith("C: ") or ln == "C:":
            c.send(ln[3:].encode("utf-8") + b"\r\n")
        elif ln.startswith("R: "):
            n, text = ln[3:].split(" ", 1)
            c.send((text.encode("utf-8") + b"\r\n") * int(n))
        elif ln.startswith("C+ "):
            raw = ln[3:].encode("utf-8").decode("unicode_escape").encode("latin-1")
            c.send(raw)
        elif ln.startswith("S: "):
            want = ln[3:]
            got = c.line()
            if got is None or not fnmatch.fnmatchcase(got, want):
                return "line %d: got %r, want %r" % (no, got, want)
        elif ln.strip() == "CLOSED":
            if not c.closed():
                return "line %d: connection still open" % no
        elif ln.startswith("MESSAGES:"):
            want = int(ln.split(":", 1)[1])
            got = count_messages(db) - base
            if got != want:
                return "line %d: %d new messages in the index, want %d" % (no, got, want)
        else:
            return "line %d: bad directive %r" % (no, ln)
    return None


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    db = args[0]
    ports = dict((a.split("=")[0], int(a.split("=")[1])) for a in args[1:sep])
    failed = 0
    for f in args[sep + 1:]:
        try:
            err = run(f, db, ports)
        except Exception as e:  # a transcript that crashes the runner is a failure
            err = "exception %r" % (e,)
        if err:
            failed += 1
            print("not ok - %s: %s" % (os.path.basename(f), err))
        else:
            print("  ok - %s" % os.path.basename(f))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
