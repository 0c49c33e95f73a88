#!/usr/bin/env python3
"""stored_body.py - an ingest object is our Received: header + exactly the bytes sent.

Usage: stored_body.py OBJECT SENT [PREFIX]
Strips the Received: header (its first line and continuation lines), compares the rest
with the file SENT byte for byte, checks the header starts with PREFIX (default
"Received: from "), prints the header; exit 1 on a difference.
"""
import sys


def main():
    data = open(sys.argv[1], "rb").read()
    sent = open(sys.argv[2], "rb").read()
    prefix = (sys.argv[3] if len(sys.argv) > 3 else "Received: from ").encode()
    if not data.startswith(prefix):
        sys.exit("stored object starts %r, want %r" % (data[:80], prefix))
    i = data.index(b"\r\n")
    while data[i + 2:i + 3] == b"\t":
        i = data.index(b"\r\n", i + 2)
    hdr, rest = data[:i + 2], data[i + 2:]
    if rest != sent:
        sys.exit("body differs (%d stored, %d sent)" % (len(rest), len(sent)))
    print(hdr.decode())


if __name__ == "__main__":
    main()
