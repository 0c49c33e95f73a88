#!/bin/sh
# setup-image.sh - run once while building the runtime image (Dockerfile and
# Dockerfile.local): the unprivileged user and the directories it owns.
# uid/gid 10025 is fixed so that bind-mounted data and TLS keys can be
# chown'd on the host (chown 10025:10025 ...).
set -eu
groupadd --system --gid 10025 mxspool
useradd --system --uid 10025 --gid mxspool --home-dir /var/lib/mxspool \
	--shell /usr/sbin/nologin mxspool
install -d -o mxspool -g mxspool -m 0750 /var/lib/mxspool
install -d -m 0755 /etc/mxspool
