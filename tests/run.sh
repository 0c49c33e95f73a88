#!/bin/sh
# run.sh - run the test suites and print one closing line "N passed, N failed".
#
#   unit tests (cmocka), plain build and ASan/UBSan build
#   tests/e2e/*.sh against real servers (plain build; BUILD=build-san for
#   the ones listed in tests/e2e/SAN, which also run under the sanitizers)
# Usage: tests/run.sh [PATTERN]   (PATTERN filters e2e test names)
cd "$(dirname "$0")/.." || exit 1
pass=0; failed=0; failures=""
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

if [ -z "$pat" ]; then
	for b in build/tests/test_*; do [ -x "$b" ] && run "unit/$(basename "$b")" "$b"; done
	for b in build-san/tests/test_*; do [ -x "$b" ] && run "unit-san/$(basename "$b")" "$b"; done
fi
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .sh)
	case "$n" in *"$pat"*) ;; *) continue ;; esac
	run "e2e/$n" env BUILD=build bash "$t"
	if grep -qx "$n" tests/e2e/SAN 2>/dev/null; then
		run "e2e-san/$n" env BUILD=build-san bash "$t"
	fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
