#!/usr/bin/env python3
"""spf_suite.py - run the whole RFC 7208 test suite (openspf.org, as shipped in
Debian's python3-spf) against common/spf.c through tests/tools/spftool.

Each scenario's zonedata is turned into spftool's table (DNS answered as
pyspf's own test driver answers: SPF records stand in for TXT unless the name
has TXT records, "TIMEOUT" times a question out, names under "error." time
out), every test becomes a check, and the result (one of the allowed ones)
and the explanation (when the suite gives one) are compared.
Usage: spf_suite.py SPFTOOL [SUITE.yml[.gz]]   prints "N passed, N failed".
Exit 0 only when every test passed.
"""
import gzip
import subprocess
import sys

import yaml

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"


def hexs(s):
    if isinstance(s, bytes):
        return s.hex()
    return s.encode("utf-8", "surrogateescape").hex()


def records(name, rrs):
    """(type, value) in pyspf's getrdata order, TXT generated from SPF."""
    out, gen, txt = [], True, []
    for rr in rrs:
        if rr == "TIMEOUT":
            out.append(("TIMEOUT", "-"))
            continue
        for t, v in rr.items():
            if t == "TXT":
                gen = False
            elif t == "SPF" and gen:
                txt.append(("TXT", v))
            if v == "NONE":
                continue
            out.append((t, v))
    if gen:
        out.extend(txt)
    lines = []
    for t, v in out:
        if v == "TIMEOUT":
            val = "TIMEOUT"
        elif t in ("TXT", "SPF"):
            parts = v if isinstance(v, list) else [v]
            val = ",".join(hexs(p) for p in parts)
        elif t == "MX":
            val = "%d %s" % (v[0], v[1])
        else:
            val = str(v)
        lines.append("Z\t%s\t%s\t%s" % (name, t, val))
    return lines


def main():
    tool = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else SUITE
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        docs = list(yaml.safe_load_all(f))
    lines, want = [], {}
    for i, doc in enumerate(docs):
        lines.append("R")
        for name, rrs in doc.get("zonedata", {}).items():
            lines.extend(records(name, rrs))
        for tid, t in doc["tests"].items():
            key = "%d/%s" % (i, tid)
            res = t["result"]
            want[key] = (res if isinstance(res, list) else [res], t.get("explanation"),
                         doc.get("description", ""), t.get("spec", ""))
            lines.append("T\t%s\t%s\t%s\t%s" % (key, t["host"], hexs(t["mailfrom"]),
                                                 hexs(t["helo"])))
    p = subprocess.run([tool, "table"], input=("\n".join(lines) + "\n").encode(),
                       stdout=subprocess.PIPE, check=True)
    got = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        got[f[0]] = (f[1], bytes.fromhex(f[2]).decode("utf-8", "replace"), f[3])
    passed = failed = 0
    for key, (results, exp, desc, spec) in want.items():
        if key not in got:
            failed += 1
            print("FAIL %s: no answer" % key)
            continue
        res, gexp, problem = got[key]
        if res in results and (exp is None or res != "fail" or exp == gexp):
            passed += 1
            continue
        failed += 1
        print("FAIL %s (%s, RFC 7208 %s): want %s%s, got %s%s [%s]" % (
            key, desc, spec, "|".join(results), " exp=%r" % exp if exp else "",
            res, " exp=%r" % gexp if exp else "", problem))
    print("%d passed, %d failed (of %d in %s)" % (passed, failed, len(want), path))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
