#!/usr/bin/env python3
"""sink_once.py MSGS SINK COUNT - every message file in MSGS is found in exactly one
smtp-sink dump below SINK (line ends normalised: the dump has the primary's trace
headers around the bytes sent), and SINK holds COUNT dumps in all.  Prints the bytes
sent and received; exits non-zero naming the first message missing or duplicated.
Used by tests/e2e/docker_stack.sh and docker_fleet.sh."""
import os
import sys


def main():
    msgs, sink, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    dumps = []
    for d, _, fs in os.walk(sink):
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                dumps.append(fh.read().replace(b"\r\n", b"\n"))
    if len(dumps) != total:
        sys.exit("%d messages at the primary, expected %d" % (len(dumps), total))
    sent = rcvd = 0
    for f in sorted(os.listdir(msgs)):
        with open(os.path.join(msgs, f), "rb") as fh:
            body = fh.read().replace(b"\r\n", b"\n")
        hits = [d for d in dumps if body in d]
        if len(hits) != 1:
            sys.exit("%s: found %d times at the primary" % (f, len(hits)))
        sent += len(body)
        rcvd += len(hits[0])
    print("  %d bytes sent, %d bytes at the primary (with trace headers)" % (sent, rcvd))


main()
