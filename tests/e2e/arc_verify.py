#!/usr/bin/python3
# arc_verify.py - dkimpy's ARC verifier (python3-dkim, an implementation independent of
# mxspool's) on one message, keys from the test's DNS server on 127.0.0.1:PORT.
#   arc_verify.py PORT FILE [--ed25519]   prints "<cv> <reason>"; exit 0 if cv is pass
# --ed25519: let dkimpy 1.1.4 verify ed25519-sha256 ARC signatures (its verify code has
# the Ed25519 path; only the list of ARC algorithms leaves it out, RFC 8617 names rsa-sha256).
# Bare LF line ends (smtp-sink dumps) are turned back into CRLF first.
import re
import sys

import dkim
import dns.resolver

port, path = int(sys.argv[1]), sys.argv[2]
if '--ed25519' in sys.argv:
    dkim.ARC_HASH_ALGORITHMS[b'ed25519-sha256'] = dkim.HASH_ALGORITHMS[b'ed25519-sha256']
res = dns.resolver.Resolver(configure=False)
res.nameservers = ['127.0.0.1']
res.port = port


def dnsfunc(name, timeout=5):
    try:
        ans = res.resolve(name.decode().rstrip('.'), 'TXT', lifetime=timeout)
    except Exception:
        return None
    return b''.join(b''.join(r.strings) for r in ans)


msg = re.sub(rb'(?<!\r)\n', b'\r\n', open(path, 'rb').read())
cv, _, reason = dkim.arc_verify(msg, dnsfunc=dnsfunc)
cv = cv.decode() if cv else 'none'
print(cv, reason)
sys.exit(0 if cv == 'pass' else 1)
