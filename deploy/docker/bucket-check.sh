#!/bin/sh
# bucket-check.sh - can this host's key pair do in the fleet's bucket what the
# fleet needs?  Run it INSIDE the replay container of a host, from the host:
#
#   docker-compose exec -T replay sh < bucket-check.sh
#
# It uses the container's curl (AWS SigV4) and its environment: MXSPOOL_S3_URL,
# MXSPOOL_S3_BUCKET, MXSPOOL_S3_ACCESS_KEY, MXSPOOL_S3_SECRET_KEY; S3_REGION
# (default us-east-1) and S3_PREFIX (default mail) when [storage] region or
# prefix differ.  Path-style URLs ([storage] path_style = yes).
# On one probe key, <prefix>/_fleet/probe/bucket-check-<host>-<pid>: PUT with
# If-None-Match: * (200), the same again (must be 412: the conditional write
# that fences `mxspool-replay adopt`), GET, LIST of the prefix, DELETE.
# Prints one line per step; exit 0 when all hold, 1 otherwise.
set -u
url=${MXSPOOL_S3_URL:?not set: run this inside the replay container}
bucket=${MXSPOOL_S3_BUCKET:?not set}
region=${S3_REGION:-us-east-1}
prefix=${S3_PREFIX:-mail}
key=$prefix/_fleet/probe/bucket-check-$(cat /proc/sys/kernel/hostname)-$$
bad=0

# s3 METHOD PATH-AND-QUERY [CURL ARGS] - prints the HTTP status (000: no answer)
s3() {
	_m=$1 _p=$2; shift 2
	curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -X "$_m" \
		--aws-sigv4 "aws:amz:$region:s3" \
		--user "$MXSPOOL_S3_ACCESS_KEY:$MXSPOOL_S3_SECRET_KEY" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@" "$url/$bucket/$_p"
}
# step WHAT WANT GOT
step() {
	if [ "$3" = "$2" ]; then
		echo "ok   $1 ($3)"
	else
		echo "FAIL $1: HTTP $3, want $2"
		bad=1
	fi
}

step "conditional PUT of a new key" 200 \
	"$(s3 PUT "$key" -H 'If-None-Match: *' --data-binary probe)"
step "conditional PUT of an existing key refused (fencing for adopt)" 412 \
	"$(s3 PUT "$key" -H 'If-None-Match: *' --data-binary probe)"
step "GET" 200 "$(s3 GET "$key")"
step "LIST" 200 "$(s3 GET "?list-type=2&prefix=$prefix%2F_fleet%2Fprobe%2F")"
step "DELETE" 204 "$(s3 DELETE "$key")"
if [ "$bad" = 0 ]; then
	echo "bucket $bucket at $url: everything the fleet needs works"
else
	echo "bucket $bucket at $url: NOT fit for the fleet (see FAIL above; docs/runbook.md section 8)"
fi
exit "$bad"
