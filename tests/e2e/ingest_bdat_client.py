#!/usr/bin/env python3
"""ingest_bdat_client.py - a raw-socket CHUNKING (RFC 3030) client for the e2e tests.

smtplib has no BDAT, so this is a second, independent implementation of the client side.

Usage: ingest_bdat_client.py PORT CASE OUTDIR
  CASE edges   tricky bytes (leading dots, CR LF . CR LF, commands, 8-bit) cut at every
               awkward place (between CR and LF, before a dot, 1-octet chunks),
               BODY=BINARYMIME, all chunks pipelined in one write, then BDAT 0 LAST
  CASE large   5 MiB in 64 KiB chunks, pipelined, SIZE= given
  CASE tls     STARTTLS, then the edges message in 3 chunks
Writes OUTDIR/CASE.sent (the exact message bytes) and prints the queued id.
"""
import socket
import ssl
import sys


def reply(f):
    lines = []
    while True:
        line = f.readline().decode("utf-8", "replace")
        if not line:
            raise SystemExit("connection closed; got %r" % lines)
        lines.append(line.rstrip("\r\n"))
        if len(line) < 4 or line[3] != "-":
            return lines


def expect(f, code):
    r = reply(f)
    if not r[-1].startswith(code):
        raise SystemExit("want %s, got %r" % (code, r))
    return r


def edges_message():
    return (b"From: Bob <bob@other.test>\r\nTo: alice@example.test\r\nSubject: chunks\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b".leading dot\r\n..two dots\r\n.\r\nMAIL FROM:<evil@other.test>\r\n"
            b"RCPT TO:<carol@example.test>\r\nDATA\r\n\xc3\xa9t\xc3\xa9 8bit\r\n"
            b"BDAT 5 LAST\r\n.\r\n" + b"y" * 900 + b"\r\nlast line\r\n")


def cuts(msg):
    """chunk boundaries: between every CR and LF, before every dot, some 1-octet chunks"""
    pts = set()
    for i in range(1, len(msg)):
        if msg[i - 1:i + 1] == b"\r\n" or msg[i:i + 1] == b".":
            pts.add(i)
    pts.update((5, 6, 7))
    pts = sorted(p for p in pts if 0 < p < len(msg))
    out, prev = [], 0
    for p in pts:
        out.append(msg[prev:p])
        prev = p
    out.append(msg[prev:])
    return out


def session(sock, f, params, chunks, last_empty):
    s = sock
    s.sendall(b"MAIL FROM:<bob@other.test> " + params + b"\r\nRCPT TO:<alice@example.test>\r\n")
    expect(f, "250")
    expect(f, "250")
    wire = b""
    for i, c in enumerate(chunks):
        last = (i == len(chunks) - 1) and not last_empty
        wire += b"BDAT %d%s\r\n" % (len(c), b" LAST" if last else b"") + c
    if last_empty:
        wire += b"BDAT 0 LAST\r\n"
    s.sendall(wire)	# RFC 3030 4.1: BDAT commands may be pipelined
    for i, c in enumerate(chunks):
        if i < len(chunks) - 1 or last_empty:
            r = expect(f, "250")
            if r[-1] != "250 2.0.0 Ok: %d octets received" % len(c):
                raise SystemExit("chunk %d: %r" % (i, r))
    r = expect(f, "250 2.0.0 Ok: queued as ")
    return r[-1].split("queued as ")[1]


def main():
    port, case, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = sock.makefile("rb")
    expect(f, "220")
    sock.sendall(b"EHLO bdat.test\r\n")
    ehlo = expect(f, "250")
    if "250-CHUNKING" not in ehlo or "250-BINARYMIME" not in ehlo:
        raise SystemExit("CHUNKING/BINARYMIME not offered: %r" % ehlo)
    if case == "tls":
        sock.sendall(b"STARTTLS\r\n")
        expect(f, "220")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname="mx.test")
        f = sock.makefile("rb")
        sock.sendall(b"EHLO bdat.test\r\n")
        expect(f, "250")
    if case == "large":
        line = b"".join(b"%07d large message line with some text to fill it up........\r\n" % i
                        for i in range(100))
        msg = b"Subject: large\r\n\r\n" + line * (5 * 1024 * 1024 // len(line))
        chunks = [msg[i:i + 65536] for i in range(0, len(msg), 65536)]
        qid = session(sock, f, b"SIZE=%d BODY=8BITMIME" % len(msg), chunks, False)
    else:
        msg = edges_message()
        if case == "tls":
            chunks = [msg[:100], msg[100:101], msg[101:]]
            qid = session(sock, f, b"BODY=BINARYMIME", chunks, False)
        else:
            chunks = cuts(msg)
            assert b"".join(chunks) == msg and len(chunks) > 20
            qid = session(sock, f, b"BODY=BINARYMIME", chunks, True)
    sock.sendall(b"QUIT\r\n")
    expect(f, "221")
    open("%s/%s.sent" % (out, case), "wb").write(msg)
    print(qid)


if __name__ == "__main__":
    main()
