#!/usr/bin/env python3
"""eodlat.py - end-of-data -> 250 latency, and idle-session holding.

  eodlat.py lat HOST PORT SESSIONS MESSAGES SIZE RCPT
      SESSIONS threads each send MESSAGES/SESSIONS messages of SIZE bytes on
      one connection; the time from writing the final "." to reading the
      reply is recorded per message; prints "p50_ms p99_ms max_ms n_ok".
  eodlat.py idle HOST PORT COUNT SECONDS
      opens COUNT connections, reads each banner, sends EHLO, then holds them
      for SECONDS; prints "held N" when all are open (then waits).
"""
import socket, sys, threading, time

def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("closed")
        if line[3:4] != b"-":
            return line

def lat(host, port, sessions, msgs, size, rcpt):
    # a From: domain with SPF and DMARC records in bench/ingest's dnsmasq (.example: libunbound
    # answers names under .test itself, RFC 6761)
    body = (b"From: <b@bench.example>\r\nSubject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * (size // 78 + 1))[:size]
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    out, lock = [], threading.Lock()

    def worker(n):
        s = socket.create_connection((host, port))
        # Without TCP_NODELAY the final ".\r\n" waits for the ACK of the body
        # (Nagle + delayed ACK: ~40 ms), which would swamp the figure measured.
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        reply(f)
        s.sendall(b"EHLO bench.test\r\n"); reply(f)
        for _ in range(n):
            s.sendall(b"MAIL FROM:<b@bench.example>\r\n"); reply(f)
            s.sendall(b"RCPT TO:<" + rcpt.encode() + b">\r\n"); reply(f)
            s.sendall(b"DATA\r\n"); reply(f)
            s.sendall(body)
            t0 = time.perf_counter()
            s.sendall(b".\r\n")
            r = reply(f)
            dt = time.perf_counter() - t0
            with lock:
                out.append((dt, r.startswith(b"250")))
        s.sendall(b"QUIT\r\n")
        s.close()

    per = msgs // sessions
    ts = [threading.Thread(target=worker, args=(per,)) for _ in range(sessions)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    d = sorted(x[0] for x in out)
    p = lambda q: d[min(len(d) - 1, int(q * len(d)))] * 1000
    print("%.2f %.2f %.2f %d" % (p(0.50), p(0.99), d[-1] * 1000, sum(1 for x in out if x[1])))

def idle(host, port, count, secs):
    socks = []
    for _ in range(count):
        s = socket.create_connection((host, port))
        f = s.makefile("rb")
        reply(f)
        s.sendall(b"EHLO idle.test\r\n"); reply(f)
        socks.append((s, f))
    print("held %d" % len(socks), flush=True)
    time.sleep(secs)

if __name__ == "__main__":
    a = sys.argv
    if a[1] == "lat":
        lat(a[2], int(a[3]), int(a[4]), int(a[5]), int(a[6]), a[7])
    else:
        idle(a[2], int(a[3]), int(a[4]), float(a[5]))
