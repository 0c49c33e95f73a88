#!/usr/bin/env python3
"""ingest_sender.py - load sender that records every acknowledged message id.

Usage: ingest_sender.py PORT SESSIONS MESSAGES OUTFILE [RCPT]
SESSIONS threads send MESSAGES messages in total over SMTP (several per
connection), reconnecting after any failure (the server may be killed at any
moment).  Every "250 ... queued as <id>" is appended to OUTFILE and flushed at
once, so the file lists exactly the messages the server acknowledged.
Prints "sent=N acked=N failures=N" at the end.
"""
import socket
import sys
import threading
import time

port, sessions, total, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rcpt = sys.argv[5] if len(sys.argv) > 5 else "alice@example.test"
lock = threading.Lock()
state = {"next": 0, "acked": 0, "fail": 0}
outf = open(out, "a")


def take():
    with lock:
        if state["next"] >= total:
            return None
        state["next"] += 1
        return state["next"]


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("closed")
        if len(line) < 4 or line[3:4] != b"-":
            return line


def session():
    n = take()
    while n is not None:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            f = s.makefile("rb")
            if not reply(f).startswith(b"220"):
                raise EOFError("banner")
            s.sendall(b"EHLO load.test\r\n")
            reply(f)
            for _ in range(5):
                s.sendall(b"MAIL FROM:<load@other.test>\r\n")
                if not reply(f).startswith(b"250"):
                    raise EOFError("mail")
                s.sendall(b"RCPT TO:<%s>\r\n" % rcpt.encode())
                if not reply(f).startswith(b"250"):
                    raise EOFError("rcpt")
                s.sendall(b"DATA\r\n")
                if not reply(f).startswith(b"354"):
                    raise EOFError("data")
                body = b"Subject: load %d\r\n\r\n" % n + (b"line of load text %d\r\n" % n) * 40
                s.sendall(body + b".\r\n")
                r = reply(f)
                if r.startswith(b"250"):
                    mid = r.decode().strip().split("queued as ")[1]
                    with lock:
                        outf.write(mid + "\n")
                        outf.flush()
                        state["acked"] += 1
                else:
                    with lock:
                        state["fail"] += 1
                n = take()
                if n is None:
                    break
            s.sendall(b"QUIT\r\n")
            s.close()
        except (OSError, EOFError):
            with lock:
                state["fail"] += 1
            time.sleep(0.2)


threads = [threading.Thread(target=session) for _ in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("sent=%d acked=%d failures=%d" % (state["next"], state["acked"], state["fail"]))
