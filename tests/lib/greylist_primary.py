#!/usr/bin/env python3
"""greylist_primary.py PORT DIR - a small SMTP primary on 127.0.0.1:PORT that
greylists: the first RCPT of each address whose local part starts with
"grey" gets "451 4.7.1 greylisted, try again later", every later one 250.
Other recipients are accepted at once.  Each accepted message is written to
DIR/m.N (its DATA, dot-unstuffed).  Stops on SIGTERM.  For tests that need a
deferral followed by a success within one run (Postfix smtp-sink can only
refuse always)."""
import os
import socketserver
import sys
import threading

PORT, DIR = int(sys.argv[1]), sys.argv[2]
seen = set()
lock = threading.Lock()
count = [0]


class Session(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.reply("220 greylist.test ESMTP")
        rcpts = []
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("latin-1").strip()
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO", "LHLO"):
                self.reply("250 greylist.test")
            elif verb == "MAIL":
                rcpts = []
                self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                addr = cmd.split(":", 1)[1].strip().strip("<>").lower()
                with lock:
                    grey = addr.startswith("grey") and addr not in seen
                    seen.add(addr)
                if grey:
                    self.reply("451 4.7.1 greylisted, try again later")
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 no valid recipients")
                    continue
                self.reply("354 go ahead")
                data = []
                while True:
                    ln = self.rfile.readline(1 << 20)
                    if not ln or ln in (b".\r\n", b".\n"):
                        break
                    data.append(ln[1:] if ln.startswith(b".") else ln)
                with lock:
                    count[0] += 1
                    n = count[0]
                with open(os.path.join(DIR, "m.%d" % n), "wb") as f:
                    f.write(b"".join(data))
                self.reply("250 2.0.0 queued as %d" % n)
            elif verb == "RSET":
                rcpts = []
                self.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                return
            else:
                self.reply("502 5.5.2 not implemented")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


os.makedirs(DIR, exist_ok=True)
Server(("127.0.0.1", PORT), Session).serve_forever()
