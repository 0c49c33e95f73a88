#!/bin/sh
# run.sh - run the test suites and print one closing line "N passed, N failed".
#
#   unit tests (cmocka, tests/unit/test_NAME.c): build/tests/test_NAME, and
#   build-san/tests/test_NAME (ASan/UBSan) when that build exists
#   tests/e2e/*.sh against real servers (plain build; BUILD=build-san for
#   the ones listed in tests/e2e/SAN, which also run under the sanitizers)
# Usage: tests/run.sh [-u] [PATTERN]
#   PATTERN  run only the unit and e2e tests whose name contains it
#            (tests/run.sh spool: unit/test_spool and e2e/store_spool_rgw)
#   -u       unit tests only
# A unit test whose source matches but whose plain binary is missing fails
# ("not built: make unit"): a test asked for is never skipped silently.
# The closing line is read by CI: keep it last and in this form.
cd "$(dirname "$0")/.." || exit 1
pass=0; failed=0; failures=""
unit_only=0
[ "${1:-}" = "-u" ] && { unit_only=1; shift; }
pat=${1:-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run() {
	name=$1; shift
	start=$(date +%s)
	if "$@" > "/tmp/mxs-test-$$.log" 2>&1; then
		pass=$((pass + 1)); echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s)"; tail -40 "/tmp/mxs-test-$$.log" | sed 's/^/    /'
	fi
	rm -f "/tmp/mxs-test-$$.log"
}

# not_built - stands in for a unit test binary that is missing
not_built() {
	echo "not built: $1 (make unit, or make check T=PATTERN builds and runs)"
	return 1
}

for build in build build-san; do
	kind=unit; [ "$build" = build-san ] && kind=unit-san
	for s in tests/unit/test_*.c; do
		[ -e "$s" ] || continue
		n=$(basename "$s" .c)
		case "$n" in *"$pat"*) ;; *) continue ;; esac
		b="$build/tests/$n"
		if [ -x "$b" ]; then
			run "$kind/$n" "$b"
		elif [ "$build" = build ]; then
			run "$kind/$n" not_built "$b"
		fi
	done
done
for t in tests/e2e/*.sh; do
	[ "$unit_only" -eq 0 ] && [ -e "$t" ] || continue
	n=$(basename "$t" .sh)
	case "$n" in *"$pat"*) ;; *) continue ;; esac
	run "e2e/$n" env BUILD=build bash "$t"
	if grep -qx "$n" tests/e2e/SAN 2>/dev/null; then
		run "e2e-san/$n" env BUILD=build-san bash "$t"
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
nomatch=0
if [ -n "$pat" ] && [ $((pass + failed)) -eq 0 ]; then
	echo "no test name contains '$pat' (ls tests/unit tests/e2e)"; nomatch=1
fi
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$nomatch" -eq 0 ]
