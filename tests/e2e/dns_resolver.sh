#!/bin/bash
# dns_resolver.sh - common/dns.c and common/spf.c against a real DNS server.
#
# dnsmasq on loopback serves the test's zones; tests/tools/spftool asks through
# libunbound forwarding to it ([dns] nameserver).  Checked: A, AAAA, MX, TXT
# (strings of one record joined), PTR, TLSA answers with their TTL; NXDOMAIN
# and NODATA; an upstream that refuses (libunbound: SERVFAIL) and one that
# never answers (the deadline) are TEMPFAIL; many threads on one resolver; SPF
# pass, fail, softfail, neutral, none, temperror and permerror through it.
. "$(dirname "$0")/../lib/common.sh"
. "$TOP/tests/lib/dns.sh"
TOOL=$BUILD/tests/tools/spftool

cat > "$T/zone" <<'Z'
local=/example.com/
host-record=a.example.com,10.0.0.1,2001:db8::1
host-record=mx.example.com,10.0.0.2
host-record=cached.example.com,10.0.0.3
mx-host=example.com,mx.example.com,10
txt-record=txt.example.com,"v=spf1 ","ip4:10.0.0.9 -all"
dns-rr=_25._tcp.mx.example.com,52,030101AABBCCDD
txt-record=pass.example.com,"v=spf1 ip4:10.0.0.1 -all"
txt-record=mxpass.example.com,"v=spf1 mx:example.com -all"
txt-record=fail.example.com,"v=spf1 a:a.example.com -all exp=why.example.com"
txt-record=why.example.com,"%{i} may not send for %{d}"
txt-record=soft.example.com,"v=spf1 ip4:10.9.9.9 ~all"
txt-record=neutral.example.com,"v=spf1 ?all"
txt-record=temp.example.com,"v=spf1 include:spf.elsewhere.org -all"
txt-record=perm.example.com,"v=spf1 a:a.example.com foo:bar -all"
txt-record=void.example.com,"v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com ip4:10.0.0.1 -all"
Z
dns_ttl 300
dns_start "$T/zone"
printf '[dns]\nnameserver = %s\ntimeout = 3s\n' "$DNS_NS" > "$T/mx.conf"

# look NAME TYPE: one answer line through [dns] of the config file
look() { "$TOOL" dns "conf=$T/mx.conf" 1 lookup "$1" "$2"; }
expect() {
	_got=$(look "$1" "$2")
	# shellcheck disable=SC2254 # $3 is a pattern
	case "$_got" in $3) ok "$1 $2: $_got" ;; *) fail "$1 $2: got '$_got', want '$3'" ;; esac
}
expect a.example.com A 'a.example.com A ok ttl=300 10.0.0.1'
expect a.example.com AAAA 'a.example.com AAAA ok ttl=300 2001:db8::1'
expect example.com MX 'example.com MX ok ttl=300 10:mx.example.com'
expect txt.example.com TXT 'txt.example.com TXT ok ttl=300 "v=spf1 ip4:10.0.0.9 -all"'
expect 1.0.0.10.in-addr.arpa PTR '1.0.0.10.in-addr.arpa PTR ok ttl=300 a.example.com'
expect _25._tcp.mx.example.com TLSA '_25._tcp.mx.example.com TLSA ok ttl=300 3/1/1/4'
expect nothere.example.com A 'nothere.example.com A nxdomain ttl=*'
expect mx.example.com TXT 'mx.example.com TXT nodata ttl=*'
expect x.elsewhere.org A 'x.elsewhere.org A tempfail ttl=0 why=SERVFAIL'
expect 'bad..example.com' A 'bad..example.com A permfail ttl=0 why=malformed name'
grep -q 'query\[MX\] example.com' "$T/dnsmasq.log" || fail "dnsmasq never saw the MX query"
ok "the questions reached dnsmasq"

# the cache: the same question twice in one process reaches the server once
n0=$(grep -c 'query\[A\] cached.example.com' "$T/dnsmasq.log")
got=$("$TOOL" dns "$DNS_NS" 3000 lookup cached.example.com A cached.example.com A)
n1=$(grep -c 'query\[A\] cached.example.com' "$T/dnsmasq.log")
[ "$(echo "$got" | grep -c ' A ok ttl=300 10.0.0.3$')" = 2 ] || fail "cache: got '$got'"
[ $((n1 - n0)) = 1 ] || fail "cache: dnsmasq saw $((n1 - n0)) queries for 2 lookups"
ok "two lookups, one query upstream (libunbound's cache)"

# a nameserver that never answers: TEMPFAIL at the deadline (timeout 20 only
# guards against a hang; why=timeout says our deadline ended it)
dns_silent_start
printf '[dns]\nnameserver = %s\ntimeout = 1s\n' "$SILENT_NS" > "$T/silent.conf"
got=$(timeout 20 "$TOOL" dns "conf=$T/silent.conf" 1 lookup a.example.com A) ||
	fail "lookup against a silent server did not return (rc=$?)"
[ "$got" = "a.example.com A tempfail ttl=0 why=timeout" ] || fail "silent server: got '$got'"
ok "silent server: $got"

# one resolver, many threads: every answer arrives to its own waiter
got=$("$TOOL" dns "$DNS_NS" 3000 threads 16 a.example.com)
[ "$got" = "threads ok=16 nx=16 other=0" ] || fail "threads: got '$got'"
ok "16 threads on one resolver: $got"

# SPF through the real resolver
spf() {
	_got=$("$TOOL" dns "$DNS_NS" 3000 spf "$1" "$2" "${HELO:-helo.example.com}")
	case "$_got" in "$3"*) ok "spf $1 $2: $_got" ;; *) fail "spf $1 $2: got '$_got', want '$3'" ;; esac
}
spf 10.0.0.1 user@pass.example.com 'pass '
spf 10.0.0.2 user@mxpass.example.com 'pass '
spf 10.0.0.7 user@mxpass.example.com 'fail '
spf 10.0.0.7 user@fail.example.com 'fail explanation="10.0.0.7 may not send for fail.example.com"'
spf 2001:db8::1 user@fail.example.com 'pass '
spf ::ffff:10.0.0.1 user@pass.example.com 'pass '
spf 10.0.0.7 user@soft.example.com 'softfail '
spf 10.0.0.7 user@neutral.example.com 'neutral '
spf 10.0.0.7 user@a.example.com 'none '
spf 10.0.0.7 user@nothere.example.com 'none '
spf 10.0.0.7 user@temp.example.com 'temperror '
spf 10.0.0.7 user@perm.example.com 'permerror '
spf 10.0.0.1 user@void.example.com 'permerror explanation="" problem="too many void lookups'
# "<>": the HELO identity (RFC 7208 2.3)
HELO=pass.example.com spf 10.0.0.1 '' 'pass '
HELO=pass.example.com spf 10.0.0.7 '' 'fail '
