#!/bin/sh
# deps.sh - install the Debian 12 packages mxspool needs to build, test and run.
#
# Idempotent and quick when everything is present: dpkg is asked first, and
# apt-get runs only for what is missing.  Groups:
#   build  - compilers' libraries: OpenSSL, SQLite, libcurl (SigV4), libmicrohttpd,
#            jansson (JSON), inih (config), libidn2 (IDNA), libunbound (DNS), libopendkim and
#            libopendmarc + publicsuffix (DKIM, DMARC), cmocka (unit tests), clang +
#            libFuzzer (tests/fuzz harnesses, tests/e2e/ingest_fuzz.sh)
#   test   - real peers: Ceph RGW (S3), Postfix (smtp-sink/smtp-source, benchmark),
#            Dovecot LMTP, swaks, openssl CLI, awscli, Chromium, promtool, dnsmasq
#            (authoritative DNS on loopback), knot (a server that answers SERVFAIL, and serves
#            DNSSEC-signed test zones), python3-dnspython (signs them: tests/lib/dnssec_zone.py),
#            python3-spf (the RFC 7208 test suite); ARC verifiers
#            independent of mxspool (python3-dkim, libmail-dkim-perl); python3-nacl (Ed25519 for dkimpy)
#            and, from npm, mailauth (tests/node: a third ARC verifier, the second one for
#            Ed25519): `npm ci` into tests/node/node_modules; Node.js >= 18 (Debian 12's 18.20 runs it;
#            nodejs + npm are installed when there is no node at all)
#   docker - Docker engine, compose and debootstrap for the compose-stack test
# test also unpacks Exim (exim4-daemon-light, a real MTA that sends BDAT) into
# $EXIM_DIR without installing it: it conflicts with Postfix (mail-transport-agent);
# tests/e2e/ingest_bdat.sh runs it in a private mount namespace.
# Usage: deps.sh [build|test|docker|all]   (default: all)
set -eu

build="build-essential pkg-config libssl-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev
 libmicrohttpd-dev libjansson-dev libinih-dev libidn2-dev libunbound-dev libopendkim-dev
 libopendmarc-dev publicsuffix libcmocka-dev xxd
 clang libclang-rt-14-dev"
test="radosgw ceph-mon ceph-osd postfix swaks libnet-ssleay-perl dovecot-core dovecot-lmtpd openssl curl
 awscli chromium prometheus python3 procps iproute2 bc psmisc dnsmasq-base knot python3-spf python3-yaml
 python3-dkim python3-dnspython python3-nacl libmail-dkim-perl libnet-dns-perl"
docker="docker.io docker-compose debootstrap"

case "${1:-all}" in
build)	want="$build" ;;
test)	want="$build $test" ;;
docker)	want="$docker" ;;
all)	want="$build $test $docker" ;;
*)	echo "usage: $0 [build|test|docker|all]" >&2; exit 2 ;;
esac

EXIM_DIR=${EXIM_DIR:-/opt/mxspool-test/exim}
case "${1:-all}" in test|all)
	if [ ! -x "$EXIM_DIR/usr/sbin/exim4" ]; then
		_d=$(mktemp -d)
		(cd "$_d" && apt-get download exim4-daemon-light libidn12 >/dev/null 2>&1) ||
			{ echo "deps: cannot download exim4-daemon-light" >&2; exit 1; }
		mkdir -p "$EXIM_DIR"
		for d in "$_d"/*.deb; do dpkg -x "$d" "$EXIM_DIR"; done
		rm -rf "$_d"
		echo "deps: Exim unpacked in $EXIM_DIR (not installed: it conflicts with Postfix)"
	fi ;;
esac

# node_deps - mailauth for tests/e2e/arc_verify.js, at the version of tests/node/package-lock.json
node_deps() {
	_top=$(cd "$(dirname "$0")/.." && pwd)
	[ -d "$_top/tests/node/node_modules/mailauth" ] && return 0
	npm ci --prefix "$_top/tests/node" --no-audit --no-fund >/dev/null ||
		{ echo "deps: npm ci --prefix tests/node failed" >&2; exit 1; }
	echo "deps: mailauth installed in tests/node/node_modules"
}
case "${1:-all}" in test|all)
	command -v node >/dev/null || want="$want nodejs npm" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	case "${1:-all}" in test|all) node_deps ;; esac
	exit 0
fi

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; we only use its binaries, never its
# system instance, so tell debconf "No configuration".
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Package scripts may start daemons on a machine with an init; mxspool's tests
# start their own copies on free ports.
for s in postfix dovecot docker knot; do
	$SUDO service "$s" stop >/dev/null 2>&1 || true
done
case "${1:-all}" in test|all) node_deps ;; esac
echo "deps: done"
