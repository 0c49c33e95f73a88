#!/bin/sh
# build.sh OUT NAME... - build the libFuzzer harnesses tests/fuzz/fuzz_NAME.c into OUT/.
#
# With clang: -fsanitize=fuzzer,address,undefined; common/*.c is compiled
# once into OUT/libfzcommon.a with the same instrumentation (coverage and
# sanitizers reach the code the harness calls), and the harness links what
# it needs from it.  Without clang (the gcc-only fallback) the harnesses are
# linked with tests/fuzz/driver.c and ASan/UBSan: they replay files, no fuzzing.
# FUZZ_DRIVER=1 takes that way even with clang (gcc's sanitizers on the same inputs).
# The extra sources of each harness (outside common/) are listed below.
# Used by tests/e2e/fuzz_replay.sh and for long runs by hand (README.md, "Fuzzing").
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$1; shift
mkdir -p "$OUT/obj/common" "$OUT/gen"
LIBS=$(pkg-config --libs openssl sqlite3 libcurl jansson inih libidn2 libunbound 2>/dev/null ||
	echo -lssl -lcrypto -lsqlite3 -lcurl -ljansson -linih -lidn2 -lunbound)
LIBS="$LIBS -lopendkim -lopendmarc -lpthread -lm"
if [ "${FUZZ_DRIVER:-0}" != 1 ] && command -v clang >/dev/null 2>&1; then
	CC=clang
	SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
	OBJSAN="$SAN -fsanitize=fuzzer-no-link"
	LINKSAN="$SAN -fsanitize=fuzzer"
	DRIVER=
else
	CC=cc
	SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
	OBJSAN=$SAN
	LINKSAN=$SAN
	DRIVER=$TOP/tests/fuzz/driver.c
fi
CFLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer -Wall -Wextra -Werror
	-Wno-unused-parameter -iquote $TOP/common -iquote $TOP/ingest -iquote $TOP/replay
	-iquote $OUT/gen"

# extra sources of a harness beside common/ (the parser under test when it is not in common/)
fz_sources() {
	case $1 in
	datascan)	echo ingest/datascan.c ;;
	smtpcmd)	echo ingest/smtp_cmd.c ;;
	reply)		echo replay/deliver.c ;;
	*)		;;
	esac
}

# the instrumented common library, rebuilt when a source is newer than its object
cd "$TOP"
sh scripts/embed.sh "$OUT/gen/embed.c" schema/*.sql replay/assets/*
objs="$OUT/obj/gen_embed.o"
[ "$OUT/obj/gen_embed.o" -nt "$OUT/gen/embed.c" ] ||
	$CC $CFLAGS $OBJSAN -c -o "$OUT/obj/gen_embed.o" "$OUT/gen/embed.c"
for c in common/*.c; do
	o=$OUT/obj/${c%.c}.o
	objs="$objs $o"
	if [ ! "$o" -nt "$c" ] || [ -n "$(find common -name '*.h' -newer "$o")" ]; then
		$CC $CFLAGS $OBJSAN -c -o "$o" "$c"
	fi
done
rm -f "$OUT/libfzcommon.a"
ar rcs "$OUT/libfzcommon.a" $objs

for name in "$@"; do
	# shellcheck disable=SC2046
	$CC $CFLAGS $LINKSAN -o "$OUT/fuzz_$name" "tests/fuzz/fuzz_$name.c" \
		$(fz_sources "$name") $DRIVER "$OUT/libfzcommon.a" $LIBS
done
