#!/bin/sh
# healthcheck.sh - the image's HEALTHCHECK: asks the program that runs as
# PID 1 over HTTP on the container's loopback.
#   mxspool-ingest          GET /healthz on [ingest] health_listen
#                           (port MXSPOOL_HEALTH_PORT, default 8080)
#   mxspool-replay serve    GET /status of the dashboard on [http] listen
#                           (port MXSPOOL_HTTP_PORT, default 8025)
# Exit 0 healthy, 1 unhealthy (Docker's convention).
cmd=$(tr '\0' ' ' < /proc/1/cmdline)
case "$cmd" in
*mxspool-ingest*)
	url=http://127.0.0.1:${MXSPOOL_HEALTH_PORT:-8080}/healthz ;;
*mxspool-replay*)
	url=http://127.0.0.1:${MXSPOOL_HTTP_PORT:-8025}/status ;;
*)
	exit 0 ;;	# a one-off command (docker-compose run): nothing to check
esac
curl -fsS -o /dev/null --max-time 4 "$url" || exit 1
exit 0
