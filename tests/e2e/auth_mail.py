#!/usr/bin/python3
"""auth_mail.py - build, DKIM-sign (dkimpy, an independent signer) and send test messages.

Usage:
  auth_mail.py sign IN OUT KEY SELECTOR DOMAIN [canon=relaxed/simple] [alg=rsa|ed25519]
               [length] [expired] [break-body] [append=TEXT]
      sign the message IN with dkimpy (python3-dkim), prepend the DKIM-Signature,
      write OUT; break-body changes the body after signing (body hash fails);
      append=TEXT adds text after signing (covered by l= when length is given);
      expired signs with t= two hours ago and x= one hour ago
  auth_mail.py send PORT FROM RCPT FILE
      one SMTP transaction (HELO client.test); prints the final reply "CODE TEXT"
  auth_mail.py bdat PORT FROM RCPT FILE
      the same with the message in two BDAT chunks (RFC 3030), the second LAST
  auth_mail.py stored OBJECT EXPECTED
      the stored object is our Received:, our Authentication-Results:, then exactly
      the bytes of EXPECTED; prints the Authentication-Results: unfolded on one line
Runs under Debian's /usr/bin/python3 (python3-dkim, python3-nacl).
"""
import smtplib
import sys
import time

import dkim


def sign(args):
    src, out, key, sel, dom = args[:5]
    opts = dict(a.split("=", 1) if "=" in a else (a, "1") for a in args[5:])
    msg = open(src, "rb").read()
    canon = tuple(c.encode() for c in opts.get("canon", "relaxed/simple").split("/"))
    alg = b"ed25519-sha256" if opts.get("alg") == "ed25519" else b"rsa-sha256"
    if "expired" in opts:
        now = int(time.time())
        orig_time, orig_gen = dkim.time.time, dkim.DKIM.gen_header
        dkim.time.time = lambda: now - 7200

        def gen(self, fields, *a, **kw):
            i = [f[0] for f in fields].index(b"b")
            fields.insert(i, (b"x", str(now - 3600).encode()))
            return orig_gen(self, fields, *a, **kw)
        dkim.DKIM.gen_header = gen
    sig = dkim.sign(msg, sel.encode(), dom.encode(), open(key, "rb").read(),
                    canonicalize=canon, signature_algorithm=alg,
                    include_headers=[b"from", b"to", b"subject", b"date"],
                    length="length" in opts)
    if "expired" in opts:
        dkim.time.time, dkim.DKIM.gen_header = orig_time, orig_gen
    out_msg = sig + msg
    if "break-body" in opts:
        out_msg = out_msg.replace(b"Hello", b"Hellp", 1)
    if "append" in opts:
        out_msg += opts["append"].encode() + b"\r\n"
    open(out, "wb").write(out_msg)


def send(args):
    port, mfrom, rcpt, path = args
    data = open(path, "rb").read()
    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.test", timeout=60)
    try:
        s.ehlo("client.test")
        s.mail(mfrom)
        s.rcpt(rcpt)
        code, text = s.data(data)
    except smtplib.SMTPDataError as e:
        code, text = e.smtp_code, e.smtp_error
    print(code, text.decode(errors="replace"))
    s.quit()


def bdat(args):
    port, mfrom, rcpt, path = args
    data = open(path, "rb").read()
    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.test", timeout=60)
    s.ehlo("client.test")
    s.mail(mfrom)
    s.rcpt(rcpt)
    half = len(data) // 2
    s.send(b"BDAT %d\r\n" % half + data[:half])
    code, _ = s.getreply()
    if code != 250:
        sys.exit("BDAT chunk: %d" % code)
    s.send(b"BDAT %d LAST\r\n" % (len(data) - half) + data[half:])
    code, text = s.getreply()
    print(code, text.decode(errors="replace"))
    s.quit()


def field_end(data, i):
    """offset after the header field starting at i (continuation lines included)"""
    j = data.index(b"\r\n", i)
    while data[j + 2:j + 3] in (b"\t", b" "):
        j = data.index(b"\r\n", j + 2)
    return j + 2


def stored(args):
    data, want = open(args[0], "rb").read(), open(args[1], "rb").read()
    if not data.startswith(b"Received: from "):
        sys.exit("stored object starts %r" % data[:60])
    i = field_end(data, 0)
    if not data[i:].startswith(b"Authentication-Results: "):
        sys.exit("no Authentication-Results: after Received: %r" % data[i:i + 80])
    j = field_end(data, i)
    if data[j:] != want:
        sys.exit("message differs (%d stored, %d expected)" % (len(data) - j, len(want)))
    print(" ".join(data[i:j].decode().split()))


if __name__ == "__main__":
    {"sign": sign, "send": send, "bdat": bdat, "stored": stored}[sys.argv[1]](sys.argv[2:])
