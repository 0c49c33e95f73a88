#!/bin/sh
# entrypoint.sh - start an mxspool program in the container.
#
# Checks what a 3 AM operator would otherwise learn from a crash loop: the
# configuration is mounted and readable, the data volume is writable; then
# creates this service's data directory (MXSPOOL_DATA_DIR, a subdirectory of
# the shared volume) and execs the command, so the program is PID 1 and gets
# SIGTERM from `docker stop` directly.
# Shortcuts: "ingest" = mxspool-ingest, "replay ARGS" = mxspool-replay ARGS.
set -eu
conf=${MXSPOOL_CONFIG:-/etc/mxspool/mxspool.conf}
die() { echo "mxspool-entrypoint: $*" >&2; exit 78; }	# 78: EX_CONFIG

[ -r "$conf" ] || die "cannot read $conf: mount the configuration directory at" \
	"$(dirname "$conf") (see deploy/docker/config/) and make it readable by uid $(id -u)"
[ -w /var/lib/mxspool ] || die "/var/lib/mxspool is not writable by uid $(id -u):" \
	"use a named volume, or chown 10025:10025 the bind-mounted directory"
if [ -n "${MXSPOOL_DATA_DIR:-}" ]; then
	mkdir -p "$MXSPOOL_DATA_DIR" || die "cannot create $MXSPOOL_DATA_DIR"
fi
case "${1:-}" in
ingest)	shift; set -- mxspool-ingest "$@" ;;
replay)	shift; set -- mxspool-replay "$@" ;;
"")	set -- mxspool-ingest ;;
esac
exec "$@"
