# docker.sh - a private Docker daemon and registry-free base images for the
# compose-stack test.  Sourced after common.sh; needs root (dockerd).
#
#   DD                  deploy/docker, the compose files
#   el                  seconds since this file was sourced ("12s"), for the ok lines
#   docker_start        fails first unless $INGEST and $REPLAY are built; then
#                       dockerd on $T/docker.sock (data root $T/docker, vfs, no
#                       iptables, no default bridge, no ip_forward change;
#                       refuses when the host forwards IPv4);
#                       sets DOCKER_HOST; stopped and its data removed at exit
#   docker_base_images [run] [rgw]  imports mxs-test/base:run (Debian 12 minbase +
#                       mxspool's runtime libraries + curl + postfix for
#                       smtp-sink) and mxs-test/base:rgw (minbase + radosgw,
#                       ceph-mon, ceph-osd); both when none is named
#   docker_mxspool_image  builds mxs-test/mxspool from $INGEST, $REPLAY and
#                       deploy/docker/Dockerfile.local on mxs-test/base:run
#   docker_nets         sets DK_NET1, DK_NET2: two /24 prefixes in 10/8 ("10.a.b")
#                       that no route of the host uses, and DK_TAG, a name for
#                       the bridges and the compose project(s)
#   dk ARGS...          the docker CLI against that daemon
#   docker_config DIR STORAGE INGEST [MORE]
#                       the directory an operator mounts at /etc/mxspool: DIR/mxspool.conf
#                       and DIR/recipients-example.test (alice, bob, carol), readable by
#                       the containers' user.  The config keeps the container's side of
#                       the compose files' mappings (node, data_dir and the HTTP token from
#                       the environment, the index in the volume, ports 2525, 8080, 8025);
#                       [storage] is the lines STORAGE (path-style), [ingest] the lines
#                       INGEST; mail for example.test, [auth] verify = no, quick retries
#                       (connect timeout 5 s, min_backoff 2 s, a probe every 5 s); MORE goes
#                       on in [replay] (max_backoff) and may add sections
#
# The base images come from debootstrap on the host (the only step that uses
# the network: the Debian mirror of /etc/apt/sources.list*), cached as root
# file system tarballs in $MXS_TEST_CACHE (default /var/cache/mxspool-test):
# ~2 min the first time, seconds after.  Nothing is pulled from a registry.
MXS_TEST_CACHE=${MXS_TEST_CACHE:-/var/cache/mxspool-test}
DK_RUN_PKGS="ca-certificates,curl,libcurl4,libsqlite3-0,libssl3,libmicrohttpd12,libjansson4"
DK_RUN_PKGS="$DK_RUN_PKGS,libinih1,libidn2-0,libunbound8,libopendkim11,libopendmarc2,publicsuffix,postfix"
DK_RGW_PKGS="ca-certificates,curl,radosgw,ceph-mon,ceph-osd,ceph-common"
DD=$TOP/deploy/docker
DK_T0=$(date +%s)
el() { echo "$(( $(date +%s) - DK_T0 ))s"; }

# the Debian 12 packages' CLI: the client of the daemon we start (20.10)
dk() {
	if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

docker_start() {
	[ -x "$INGEST" ] && [ -x "$REPLAY" ] || fail "build first: $INGEST, $REPLAY"
	for _c in dockerd docker-compose debootstrap; do
		command -v "$_c" >/dev/null || fail "$_c not installed (scripts/deps.sh docker)"
	done
	[ "$(id -u)" -eq 0 ] || fail "the docker stack test starts its own dockerd: run as root"
	# our dockerd does no NAT and no forwarding; if the host forwards anyway,
	# container traffic could be routed off the machine: refuse.
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] ||
		fail "net.ipv4.ip_forward=1 on this host: containers could route off it"
	DK_DIR=$T/docker
	mkdir -p "$DK_DIR"
	export DOCKER_HOST=unix://$DK_DIR/docker.sock
	# --iptables=false: leave the host's firewall alone; --ip-forward=false:
	# do not turn on routing, so containers cannot reach past this host.
	# --bridge=none: no docker0; compose creates its own named bridges.
	dockerd --host "$DOCKER_HOST" --data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
		--pidfile "$DK_DIR/docker.pid" --storage-driver=vfs --iptables=false \
		--ip-forward=false --bridge=none --log-level=warn >"$DK_DIR/dockerd.log" 2>&1 &
	DK_PID=$!
	cleanup_add docker_stop
	wait_for "dk version" 60 ||
		{ tail -20 "$DK_DIR/dockerd.log"; fail "dockerd did not start"; }
}

docker_stop() {
	[ -n "${DK_PID:-}" ] || return 0
	kill "$DK_PID" 2>/dev/null
	wait_for "! kill -0 $DK_PID" 30 || kill -9 "$DK_PID" 2>/dev/null
	# containers outlive a dockerd killed with -9; end ours (their init pid
	# files are in our exec root), and their shims exit with them
	for _f in "$DK_DIR"/exec/containerd/daemon/io.containerd.runtime.v2.task/moby/*/init.pid; do
		[ -e "$_f" ] && kill -9 "$(cat "$_f")" 2>/dev/null
	done
	docker_umount_under "$DK_DIR"
	rm -rf --one-file-system "$DK_DIR/data" "$DK_DIR/exec"
	DK_PID=
}

# docker_umount_under DIR - lazily unmount whatever is still mounted below DIR
# (netns files of containers; /proc and /sys of an interrupted debootstrap)
docker_umount_under() {
	awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r |
		while read -r _m; do umount -l "$_m"; done
}

# docker_mirror - the Debian mirror the host's apt uses (deb.debian.org if none)
docker_mirror() {
	[ -n "${MXS_DEBIAN_MIRROR:-}" ] && { echo "$MXS_DEBIAN_MIRROR"; return; }
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]+/debian/?( |$)' |
		grep -v security | head -1 | tr -d ' ' | grep . || echo http://deb.debian.org/debian
}

# docker_rootfs NAME PKGS - path of the cached tarball, debootstrap'ed if missing
docker_rootfs() {
	_name=$1; _pkgs=$2
	_sum=$(printf '%s' "$_pkgs" | sha256sum | cut -c1-12)
	_tar=$MXS_TEST_CACHE/bookworm-$_name-$_sum.tar
	mkdir -p "$MXS_TEST_CACHE/debs"
	(
		flock 9
		[ -s "$_tar" ] && exit 0
		for _old in "$MXS_TEST_CACHE/rootfs-$_name".*; do	# of an interrupted run
			[ -d "$_old" ] || continue
			docker_umount_under "$_old"
			rm -rf --one-file-system "$_old"
		done
		rm -f "$MXS_TEST_CACHE/bookworm-$_name"-*.tar	# for another package list
		_root=$MXS_TEST_CACHE/rootfs-$_name.$$
		echo "  (debootstrap $_name from $(docker_mirror): 1-3 min, cached after)" >&2
		debootstrap --variant=minbase --cache-dir="$MXS_TEST_CACHE/debs" \
			--include="$_pkgs" bookworm "$_root" "$(docker_mirror)" \
			>"$T/debootstrap-$_name.log" 2>&1 ||
			{ tail -5 "$T/debootstrap-$_name.log" >&2; docker_umount_under "$_root"
			  rm -rf --one-file-system "$_root"; exit 1; }
		rm -rf "$_root"/var/cache/apt/archives/*.deb "$_root"/var/lib/apt/lists/* \
			"$_root"/usr/share/doc/* "$_root"/usr/share/man/* \
			"$_root"/usr/share/locale/*
		tar --numeric-owner --one-file-system -C "$_root" -cf "$_tar.tmp" . &&
			mv "$_tar.tmp" "$_tar"
		_rc=$?
		docker_umount_under "$_root"
		rm -rf --one-file-system "$_root"
		exit $_rc
	) 9>"$MXS_TEST_CACHE/$_name.lock" || return 1
	echo "$_tar"
}

docker_base_images() {
	[ $# -gt 0 ] || set -- run rgw
	# both debootstraps at once on a cold cache
	_pids=
	for _b in "$@"; do
		case $_b in
		run) docker_rootfs run "$DK_RUN_PKGS" >"$T/rootfs-run.path" & ;;
		rgw) docker_rootfs rgw "$DK_RGW_PKGS" >"$T/rootfs-rgw.path" & ;;
		*) fail "docker_base_images: no base image $_b" ;;
		esac
		_pids="$_pids $!"
	done
	for _p in $_pids; do
		wait "$_p" || fail "debootstrap of a base image failed (see above)"
	done
	for _b in "$@"; do
		dk import "$(cat "$T/rootfs-$_b.path")" "mxs-test/base:$_b" >/dev/null ||
			fail "docker import $_b"
	done
}

# docker_mxspool_image - the mxspool image from the host-built binaries.
# BuildKit: metadata steps cost nothing (the classic builder makes a vfs copy
# of the whole file system for each); --network=none: the build needs none.
docker_mxspool_image() {
	_ctx=$T/ctx
	mkdir -p "$_ctx"
	cp "$INGEST" "$REPLAY" "$DD"/Dockerfile.local "$DD"/entrypoint.sh "$DD"/healthcheck.sh \
		"$DD"/setup-image.sh "$_ctx"/ || fail "staging the build context"
	DOCKER_BUILDKIT=1 dk build --network=none -f "$_ctx/Dockerfile.local" \
		--build-arg BASE_IMAGE=mxs-test/base:run -t mxs-test/mxspool "$_ctx" \
		>"$T/build.log" 2>&1 ||
		{ tail -30 "$T/build.log"; fail "docker build (Dockerfile.local)"; }
	[ "$(dk image inspect -f '{{.Config.User}}' mxs-test/mxspool)" = mxspool ] ||
		fail "the mxspool image does not run as user mxspool"
}

docker_nets() {
	for _try in 1 2 3 4 5 6 7 8; do
		_a=$(( RANDOM % 200 + 40 )); _b=$(( (RANDOM % 120) * 2 ))
		ip route | grep -qE "^10\.$_a\.($_b|$((_b + 1)))\." || break
	done
	DK_NET1=10.$_a.$_b
	DK_NET2=10.$_a.$((_b + 1))
	DK_TAG=mxs$(printf '%04x' $((RANDOM % 65536)))
}

docker_config() {
	mkdir -p "$1"
	printf 'alice\nbob\ncarol\n' >"$1/recipients-example.test"
	cat >"$1/mxspool.conf" <<EOF
[general]
node = env:MXSPOOL_NODE
data_dir = env:MXSPOOL_DATA_DIR
index = /var/lib/mxspool/index.sqlite

[storage]
$2
path_style = yes

[ingest]
listen = 0.0.0.0:2525
health_listen = 0.0.0.0:8080
$3

[auth]
verify = no

[domain example.test]
recipients = /etc/mxspool/recipients-example.test

[deliver]
connect_timeout = 5s

[http]
listen = 0.0.0.0:8025
token = env:MXSPOOL_HTTP_TOKEN

[replay]
min_backoff = 2s
probe_interval = 5s
${4:-}
EOF
	chmod -R a+rX "$1"
}
