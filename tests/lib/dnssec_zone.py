#!/usr/bin/python3
"""dnssec_zone.py - sign a test zone for an authoritative server on loopback (knotd).

Usage: dnssec_zone.py ORIGIN IN OUT DSFILE [--break TYPE]
Reads the unsigned zone file IN (origin ORIGIN), makes one ECDSA P-256 key (a KSK that
also signs the zone, flags 257), adds its DNSKEY, an NSEC chain (RFC 4034 4) and an
RRSIG over every RRset valid from an hour ago for 30 days, writes the signed zone to
OUT and appends the key's DS record (SHA-256) to DSFILE: the trust anchor of a
resolver validating the zone ([dns] trust_anchor).
--break TYPE flips one bit of the signature over the RRset of TYPE (e.g. TLSA): the
zone is then "signed with a broken signature", which a validator calls bogus.
Runs under Debian's /usr/bin/python3 (python3-dnspython 2.3, python3-cryptography).
"""
import sys
import time

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

ALG = dns.dnssec.Algorithm.ECDSAP256SHA256


def nsec_chain(zone, ttl):
    """one NSEC per owner name, in canonical order, naming the types present there"""
    names = sorted(zone.nodes.keys(), key=lambda n: n.derelativize(zone.origin))
    for i, name in enumerate(names):
        nxt = names[(i + 1) % len(names)].derelativize(zone.origin)
        types = {rds.rdtype for rds in zone.nodes[name].rdatasets}
        types |= {dns.rdatatype.NSEC, dns.rdatatype.RRSIG}
        text = "%s %s" % (nxt.to_text(), " ".join(dns.rdatatype.to_text(t) for t in types))
        rd = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.NSEC, text)
        zone.find_rdataset(name, dns.rdatatype.NSEC, create=True).add(rd, ttl)


def main():
    origin, src, out, dsfile = sys.argv[1:5]
    broken = sys.argv[6].upper() if len(sys.argv) > 6 and sys.argv[5] == "--break" else None
    zone = dns.zone.from_file(src, origin, relativize=False)
    ttl = zone.get_rdataset(zone.origin, "SOA").ttl
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), ALG, flags=257)
    zone.find_rdataset(zone.origin, dns.rdatatype.DNSKEY, create=True).add(dnskey, ttl)
    nsec_chain(zone, ttl)
    now = int(time.time())
    signer = zone.origin
    sigs = []
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            owner = name.derelativize(zone.origin)
            sig = dns.dnssec.sign((owner, rds), key, signer, dnskey,
                                  inception=now - 3600, expiration=now + 30 * 86400)
            if broken and rds.rdtype == dns.rdatatype.from_text(broken):
                bad = bytearray(sig.signature)
                bad[len(bad) // 2] ^= 0x01
                sig = sig.replace(signature=bytes(bad))
            sigs.append((name, rds.ttl, sig))
    for name, rttl, sig in sigs:
        zone.find_rdataset(name, dns.rdatatype.RRSIG, sig.type_covered,
                           create=True).add(sig, rttl)
    zone.to_file(out, relativize=False)
    ds = dns.dnssec.make_ds(zone.origin, dnskey, "SHA256")
    with open(dsfile, "a") as f:
        f.write("%s %d IN DS %s\n" % (zone.origin.to_text(), ttl, ds.to_text()))


if __name__ == "__main__":
    main()
