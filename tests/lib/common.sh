# common.sh - sourced by tests/e2e/*.sh.  Helpers for real-server tests.
#
#   BUILD       where the binaries are (default build; ASan run: build-san)
#   T           this test's scratch directory (removed on success)
#   free_port   a port free for TCP and UDP on 127.0.0.1, not given before in this test
#   fail MSG    print and exit 1;  ok MSG  print a progress line
#   wait_port PORT [SECS]   until something listens on 127.0.0.1:PORT
#   cleanup_add CMD         run CMD at exit (LIFO), whatever happens
#   mx_conf FILE            a config: node mx1, data_dir $T/data (made), a file store
#                           at $T/store, then the lines read from stdin
#   sink_start [ARGS...]    Postfix smtp-sink (as nobody, with ARGS) on a free loopback
#                           port: sets SINK_PORT and SINK_PID; log $T/sink.log; killed at exit
#   no_sanitizer LOG [WHO]  fail if LOG holds an ASan/UBSan report
#   stop_clean NAME...      for each NAME: kill $PID_NAME, want exit status 0 and
#                           no sanitizer report in $T/NAME.log
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
INGEST=$BUILD/mxspool-ingest
REPLAY=$BUILD/mxspool-replay
TNAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/mxs-$TNAME.XXXXXX")
export PATH="$PATH:/usr/sbin:/usr/lib/postfix/sbin"

_cleanups=""
cleanup_add() { _cleanups="$*; $_cleanups"; }
_on_exit() {
	rc=$?
	set +e
	eval "$_cleanups" >/dev/null 2>&1
	if [ "$rc" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "  (scratch kept: $T)"; fi
	exit $rc
}
trap _on_exit EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $TNAME: $*" >&2; exit 1; }
ok() { echo "  ok - $*"; }

free_port() {	# free for TCP and UDP on 127.0.0.1, never one this test was given ($T/.ports)
	python3 - "$T/.ports" <<'PY'
import socket, sys
try:
    used = set(open(sys.argv[1]).read().split())
except OSError:
    used = set()
while True:
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close()
        continue
    t.close()
    u.close()
    if str(p) not in used:
        break
open(sys.argv[1], "a").write("%d\n" % p)
print(p)
PY
}
wait_port() {
	_p=$1; _n=$(( ${2:-30} * 10 ))
	while [ "$_n" -gt 0 ]; do
		python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$_p)))" 2>/dev/null && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

mx_conf() {
	mkdir -p "$T/data"
	{ printf '[general]\nnode = mx1\ndata_dir = %s/data\n[storage]\nurl = file://%s/store\n' \
		"$T" "$T"; cat; } > "$1"
}

sink_start() {
	SINK_PORT=$(free_port)
	smtp-sink -u nobody "$@" 127.0.0.1:"$SINK_PORT" 10 2>>"$T/sink.log" &
	SINK_PID=$!
	cleanup_add "kill $SINK_PID"
	wait_port "$SINK_PORT" 10 || fail "smtp-sink did not start"
}

no_sanitizer() { ! grep -Eq "Sanitizer|runtime error" "$1" || fail "${2:-$1}: sanitizer report"; }

stop_clean() {
	for _n in "$@"; do
		eval "_pid=\$PID_$_n"
		kill "$_pid"; wait "$_pid" || fail "$_n: exit status $?"
		no_sanitizer "$T/$_n.log" "$_n"
	done
}

# wait_for CMD [SECS] - until CMD succeeds
wait_for() {
	_c=$1; _n=$(( ${2:-30} * 10 ))
	while [ "$_n" -gt 0 ]; do
		eval "$_c" >/dev/null 2>&1 && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}
