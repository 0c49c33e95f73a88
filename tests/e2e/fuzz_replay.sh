#!/bin/bash
# fuzz_replay.sh - every parser of peer input under its libFuzzer harness
# (tests/fuzz/fuzz_*.c, built by tests/fuzz/build.sh with clang
# -fsanitize=fuzzer,address,undefined; without clang, with cc + ASan/UBSan
# and tests/fuzz/driver.c): replays tests/fuzz/corpus/NAME/ (the seeds) and
# tests/fuzz/regress/NAME/ (inputs that once failed, kept as regressions).
# Deterministic: each input runs once; any failed check or sanitizer report
# fails the test.  FUZZ_SECONDS=N (at most 30) also fuzzes each harness for N
# seconds.  Listed in tests/e2e/SAN: the ASan run (BUILD=build-san) replays
# the same inputs through cc's ASan/UBSan and driver.c instead (FUZZ_DRIVER=1).
# Long runs by hand: README.md "Fuzzing".
#   mailaddr  RFC 5321 paths, ESMTP parameters      (common/mailaddr.c)
#   datascan  the DATA state machine                (ingest/datascan.c)
#   smtpcmd   the SMTP command line parser          (ingest/smtp_cmd.c)
#   reply     the replay client vs a hostile primary (replay/deliver*.c)
#   s3xml     S3 listings, errors, multipart answers (common/objstore_s3*.c)
#   envelope  envelope metadata from a bucket       (common/envelope.c, store.c)
. "$(dirname "$0")/../lib/common.sh"

FZ=$TOP/tests/fuzz
NAMES="mailaddr datascan smtpcmd reply s3xml envelope"
case "$BUILD" in *san*) export FUZZ_DRIVER=1 ;; esac
if [ "${FUZZ_DRIVER:-0}" != 1 ] && command -v clang >/dev/null 2>&1; then
	how=libFuzzer
else
	how="cc ASan/UBSan + driver.c"
fi
# shellcheck disable=SC2086
sh "$FZ/build.sh" "$T/fuzz" $NAMES > "$T/build.log" 2>&1 ||
	{ tail -30 "$T/build.log"; fail "cannot build the harnesses"; }
for t in $NAMES; do
	name=fuzz_$t
	[ -d "$FZ/corpus/$t" ] || fail "$name: no corpus in tests/fuzz/corpus/$t"
	n=$(find "$FZ/corpus/$t" "$FZ/regress/$t" -type f 2>/dev/null | wc -l)
	dict=$([ -f "$FZ/$t.dict" ] && echo "-dict=$FZ/$t.dict")
	# libFuzzer given files runs each once; exit status != 0 on a crash or a failed check
	(cd "$T/fuzz" && "./$name" "$FZ/corpus/$t"/* $(ls "$FZ/regress/$t"/* 2>/dev/null)) \
		> "$T/fuzz/$name.log" 2>&1 || { tail -30 "$T/fuzz/$name.log"; fail "$name: an input fails"; }
	ok "$name ($how): $n corpus and regression inputs pass"
	if [ -n "${FUZZ_SECONDS:-}" ] && [ "$how" = libFuzzer ]; then
		s=$FUZZ_SECONDS; [ "$s" -gt 30 ] && s=30
		mkdir -p "$T/fuzz/corpus-$t"
		cp "$FZ/corpus/$t"/* "$T/fuzz/corpus-$t/"
		# shellcheck disable=SC2086
		"$T/fuzz/$name" -max_total_time="$s" $dict -artifact_prefix="$T/fuzz/$t-" \
			"$T/fuzz/corpus-$t" > "$T/fuzz/$name.run" 2>&1 ||
			{ tail -30 "$T/fuzz/$name.run"; fail "$name: crash, input kept in $T/fuzz/"; }
		ok "$name: fuzzed ${s}s ($(grep -o 'Done [0-9]* runs' "$T/fuzz/$name.run"))"
	fi
done
