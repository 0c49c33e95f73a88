#!/bin/sh
# rgw-entrypoint.sh - a throwaway single-node Ceph cluster (1 mon, 1 osd on
# memstore, radosgw "beast") inside one container: the S3 store of the test
# stack (docker-compose.test.yml), standing in for MinIO because no image
# registry is reachable from the test machines.  Same recipe as
# tests/lib/rgw.sh; everything lives in the container's own network
# namespace, only radosgw listens beyond 127.0.0.1: 0.0.0.0:9000, MinIO's
# port, so mxspool's [storage] url is the same with either store.
#
# Env: S3_ACCESS_KEY, S3_SECRET_KEY (the RGW user), S3_BUCKET (created at
# start).  Data is in memory: the store is empty after a restart.
# Ready when GET / answers (the compose healthcheck) and the bucket exists
# (/run/ceph-ready is written last).
set -eu
: "${S3_ACCESS_KEY:?}" "${S3_SECRET_KEY:?}" "${S3_BUCKET:=mxspool}"
D=/var/lib/ceph-single
export CEPH_CONF=$D/ceph.conf
rm -rf "$D" /run/ceph-ready
mkdir -p "$D"/run "$D"/log "$D"/mon/ceph-a "$D"/osd/ceph-0 "$D"/rgw
fsid=$(cat /proc/sys/kernel/random/uuid)
cat > "$CEPH_CONF" <<CONF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $D/run
pid_file = $D/run/\$name.pid
admin_socket = $D/run/\$name.asok
log_file = $D/log/\$name.log
mon_cluster_log_file = $D/log/cluster.log
keyring = $D/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
mon_data = $D/mon/ceph-\$id
[osd]
osd_data = $D/osd/ceph-\$id
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_memory_target = 939524096
[client.rgw.a]
rgw_frontends = beast endpoint=0.0.0.0:9000
# radosgw's default ms_mon_client_mode=secure loops forever with auth=none
ms_mon_client_mode = crc
auth_client_required = none
rgw_data = $D/rgw
rgw_enable_usage_log = false
rgw_init_timeout = 60
CONF
log() { echo "rgw-entrypoint: $*"; }
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a '[v2:127.0.0.1:3300,v1:127.0.0.1:6789]' \
	"$D/monmap" >/dev/null
ceph-mon --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring"
ceph-mon -i a
timeout 60 ceph mon stat >/dev/null
log "mon up"
uuid=$(cat /proc/sys/kernel/random/uuid)
id=$(ceph osd new "$uuid")
ceph-osd -i "$id" --mkfs --osd-uuid "$uuid" 2>>"$D/log/osd-mkfs.log"
ceph-osd -i "$id"
n=0
until ceph osd dump 2>/dev/null | grep -q "^osd.$id up"; do
	n=$((n + 1)); [ "$n" -lt 600 ] || { log "osd did not come up"; exit 1; }
	sleep 0.2
done
log "osd.$id up"
radosgw -n client.rgw.a
n=0
until curl -s -o /dev/null http://127.0.0.1:9000/; do
	n=$((n + 1))
	[ "$n" -lt 600 ] ||
		{ tail -20 "$D/log/client.rgw.a.log"; log "radosgw did not come up"; exit 1; }
	sleep 0.2
done
radosgw-admin user create --uid=mxspool --display-name=mxspool \
	--access-key="$S3_ACCESS_KEY" --secret-key="$S3_SECRET_KEY" >/dev/null
# RGW wants x-amz-content-sha256 on every request (SHA-256 of the empty body)
empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
	-H "x-amz-content-sha256: $empty" "http://127.0.0.1:9000/$S3_BUCKET" >/dev/null ||
	{ log "cannot create bucket $S3_BUCKET"; exit 1; }
log "radosgw ready on :9000, bucket $S3_BUCKET"
touch /run/ceph-ready
# stay in the foreground while radosgw lives; stop the cluster on SIGTERM
trap 'for f in "$D"/run/*.pid; do kill "$(cat "$f")" 2>/dev/null; done; exit 0' TERM INT
while kill -0 "$(cat "$D/run/client.rgw.a.pid")" 2>/dev/null; do sleep 1 & wait $!; done
log "radosgw exited"
tail -20 "$D/log/client.rgw.a.log"
exit 1
