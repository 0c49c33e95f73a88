# rgw.sh - a throwaway single-node Ceph cluster with a RADOS Gateway on
# loopback, for tests that need a real, strict S3 server.  Sourced after
# common.sh.  Every port is picked free, so several can run at once and
# beside a demo.
#
#   rgw_start           sets RGW_URL RGW_PORT RGW_AK RGW_SK RGW_DIR; ~15 s
#   rgw_stop_gateway    stop only radosgw (storage outage)
#   rgw_start_gateway   start it again on the same port
#   rgw_stop            stop everything (registered with cleanup_add by rgw_start)
#   rgw_mkbucket NAME   create a bucket with awscli
#   rgw_up NAME         rgw_start, rgw_mkbucket NAME, and an ok line
#   rgw_storage NAME    the [storage] lines (url, bucket, keys) for bucket NAME
#   rgw_conf FILE NAME [MORE]  a config: node mx1, data_dir $T/data (made),
#                       [storage] on bucket NAME, then the lines MORE
#   aws_s3 ARGS...      /usr/bin/aws with the right endpoint and keys
#
# RGW_BIND_EXTRA="ADDR ..." (set before rgw_start): radosgw also listens on these
# local addresses, on the same port (the docker fleet test: the gateways of its
# bridges, so that containers reach the RGW; RGW_URL stays on 127.0.0.1).
#
# RGW_TUNED=1 deploys Ceph as one would on a small standby, for bench/ingest
# (tests keep Ceph's defaults, and its request log for diagnosis):
#   - rgw_thread_pool_size = 2 per core instead of 512 beast threads;
#   - debug logging off (the default 1/5 formats level-5 lines into a memory
#     ring on every request);
#   - tcmalloc for radosgw and ceph-osd, the allocator upstream Ceph builds
#     with; Debian's packages depend on libgoogle-perftools4 but run on glibc
#     malloc, which was 14 % of radosgw's profile.
# Measured on 2 cores at 50 concurrent 4 KB PUTs: radosgw + ceph-osd CPU per
# message 3.3-3.8 ms with the defaults, 1.2-1.5 ms tuned.
RGW_AK=TESTACCESSKEY0000001
RGW_SK=testsecretkey0000000000000000000000000001

rgw_start() {
	RGW_DIR=$T/ceph
	RGW_PORT=$(free_port)
	_mon1=$(free_port); _mon2=$(free_port)
	while [ "$_mon2" = "$_mon1" ]; do _mon2=$(free_port); done
	RGW_URL=http://127.0.0.1:$RGW_PORT
	export CEPH_CONF=$RGW_DIR/ceph.conf
	_tuned=
	RGW_PRELOAD=
	if [ "${RGW_TUNED:-0}" = 1 ]; then
		_tuned=$(printf '%s\n' "rgw_thread_pool_size = $(( $(nproc) * 2 ))"
		    for _s in rgw ms rados objecter monc auth osd objclass memstore; do
			echo "debug_$_s = 0/0"; done)
		for _l in /usr/lib/*/libtcmalloc.so.4; do
			[ -e "$_l" ] && RGW_PRELOAD=$_l
		done
	fi
	mkdir -p "$RGW_DIR"/run "$RGW_DIR"/log "$RGW_DIR"/mon/ceph-a "$RGW_DIR"/osd/ceph-0 "$RGW_DIR"/rgw
	_fsid=$(cat /proc/sys/kernel/random/uuid)
	cat > "$CEPH_CONF" <<CONF
[global]
fsid = $_fsid
$_tuned
mon_host = [v2:127.0.0.1:$_mon1,v1:127.0.0.1:$_mon2]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $RGW_DIR/run
pid_file = $RGW_DIR/run/\$name.pid
admin_socket = $RGW_DIR/run/\$name.asok
log_file = $RGW_DIR/log/\$name.log
mon_cluster_log_file = $RGW_DIR/log/cluster.log
keyring = $RGW_DIR/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
ms_bind_port_min = 20000
ms_bind_port_max = 29999
[mon]
mon_data = $RGW_DIR/mon/ceph-\$id
[osd]
osd_data = $RGW_DIR/osd/ceph-\$id
osd_objectstore = memstore
memstore_device_bytes = 4294967296
osd_memory_target = 939524096
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT$(for _a in ${RGW_BIND_EXTRA:-}; do
	printf ' endpoint=%s:%s' "$_a" "$RGW_PORT"; done)
# radosgw defaults to ms_mon_client_mode=secure, which loops on
# get_initial_auth_request -13 with auth=none (shared/reference).
ms_mon_client_mode = crc
auth_client_required = none
rgw_data = $RGW_DIR/rgw
rgw_enable_usage_log = false
rgw_dns_name = localhost
rgw_init_timeout = 60
CONF
	ceph-authtool --create-keyring "$RGW_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	monmaptool --create --fsid "$_fsid" --addv a "[v2:127.0.0.1:$_mon1,v1:127.0.0.1:$_mon2]" "$RGW_DIR/monmap" >/dev/null
	ceph-mon --mkfs -i a --monmap "$RGW_DIR/monmap" --keyring "$RGW_DIR/keyring"
	ceph-mon -i a
	cleanup_add rgw_stop
	timeout 60 ceph mon stat >/dev/null || fail "ceph-mon did not answer"
	_uuid=$(cat /proc/sys/kernel/random/uuid)
	_id=$(ceph osd new "$_uuid")
	ceph-osd -i "$_id" --mkfs --osd-uuid "$_uuid" 2>>"$RGW_DIR/log/osd-mkfs.log"
	LD_PRELOAD=$RGW_PRELOAD ceph-osd -i "$_id"
	wait_for "ceph osd dump 2>/dev/null | grep -q '^osd.$_id up'" 120 || fail "ceph-osd did not come up"
	rgw_start_gateway
	radosgw-admin user create --uid=test --display-name=test \
		--access-key="$RGW_AK" --secret-key="$RGW_SK" >/dev/null || fail "radosgw-admin user create"
}

rgw_start_gateway() {
	LD_PRELOAD=$RGW_PRELOAD radosgw -n client.rgw.a
	wait_for "curl -s -o /dev/null http://127.0.0.1:$RGW_PORT/" 120 ||
		{ tail -20 "$RGW_DIR/log/client.rgw.a.log"; fail "radosgw did not come up"; }
}

rgw_stop_gateway() {
	_f=$RGW_DIR/run/client.rgw.a.pid
	[ -e "$_f" ] || return 0
	_p=$(cat "$_f")
	kill "$_p" 2>/dev/null
	wait_for "! kill -0 $_p" 20 || kill -9 "$_p" 2>/dev/null
	rm -f "$_f"
}

rgw_stop() {
	for _f in "$RGW_DIR"/run/*.pid; do
		[ -e "$_f" ] || continue
		kill "$(cat "$_f")" 2>/dev/null
	done
	for _f in "$RGW_DIR"/run/*.pid; do
		[ -e "$_f" ] || continue
		_p=$(cat "$_f")
		wait_for "! kill -0 $_p" 10 || kill -9 "$_p" 2>/dev/null
		rm -f "$_f"
	done
}

aws_s3() {
	AWS_ACCESS_KEY_ID=$RGW_AK AWS_SECRET_ACCESS_KEY=$RGW_SK AWS_DEFAULT_REGION=us-east-1 \
	AWS_EC2_METADATA_DISABLED=true /usr/bin/aws --endpoint-url "$RGW_URL" "$@"
}

rgw_mkbucket() {
	aws_s3 s3api create-bucket --bucket "$1" >/dev/null || fail "create-bucket $1"
}

rgw_up() {
	rgw_start
	rgw_mkbucket "$1"
	ok "rgw up at $RGW_URL"
}

rgw_storage() {
	printf 'url = %s\nbucket = %s\naccess_key = %s\nsecret_key = %s\n' \
		"$RGW_URL" "$1" "$RGW_AK" "$RGW_SK"
}

rgw_conf() {
	mkdir -p "$T/data"
	cat > "$1" <<CONF
[general]
node = mx1
data_dir = $T/data
[storage]
$(rgw_storage "$2")
${3:-}
CONF
}
