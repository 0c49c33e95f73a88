#!/bin/sh
# setup-image.sh CTX - one RUN step of the runtime image (Dockerfile and
# Dockerfile.local, so both lay it out the same): the unprivileged user, the
# directories it owns, and the programs and scripts from CTX.
# uid/gid 10025 is fixed so that bind-mounted data and TLS keys can be
# chown'd on the host (chown 10025:10025 ...).
set -eu
ctx=$1
groupadd --system --gid 10025 mxspool
useradd --system --uid 10025 --gid mxspool --home-dir /var/lib/mxspool \
	--shell /usr/sbin/nologin mxspool
install -d -o mxspool -g mxspool -m 0750 /var/lib/mxspool
install -d -m 0755 /etc/mxspool
install -m 0755 "$ctx/mxspool-ingest" "$ctx/mxspool-replay" /usr/local/bin/
install -m 0755 "$ctx/entrypoint.sh" /usr/local/bin/mxspool-entrypoint
install -m 0755 "$ctx/healthcheck.sh" /usr/local/bin/mxspool-healthcheck
# the programs must find every library they link in this image
if ldd /usr/local/bin/mxspool-ingest /usr/local/bin/mxspool-replay | grep 'not found'; then
	echo "setup-image: missing runtime libraries (above)" >&2
	exit 1
fi
