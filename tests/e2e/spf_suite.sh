#!/bin/bash
# spf_suite.sh - the whole RFC 7208 test suite (openspf.org 2014.04, shipped in
# Debian's python3-spf) against common/spf.c; prints the pass count.
# The suite is the independent oracle: every scenario's DNS data is served to
# the evaluator from a table (tests/tools/spftool table), every test's result
# must be one the suite allows, and its explanation the one it gives.
. "$(dirname "$0")/../lib/common.sh"

suite=/usr/share/doc/python3-spf/rfc7208-tests.yml.gz
[ -r "$suite" ] || fail "$suite missing (make deps installs python3-spf)"
python3 "$TOP/tests/e2e/spf_suite.py" "$BUILD/tests/tools/spftool" "$suite" ||
	fail "RFC 7208 suite: not every test passed"
ok "RFC 7208 suite: all tests passed"
