#!/bin/sh
# embed.sh OUT.c FILE... - compile files (SQL migrations, dashboard assets)
# into the binaries, so that a deployed program needs nothing beside it.
# Emits: const struct embed_file embed_files[] = {{name, data, len}, ...};
# where name is the path as given.  See common/embed.h.
set -eu
out=$1; shift
tmp=$out.tmp
{
	echo '#include <stddef.h>'
	echo '#include "embed.h"'
	i=0
	for f in "$@"; do
		echo "static const unsigned char embed_$i[] = {"
		xxd -i < "$f"
		echo ", 0x00 };"
		i=$((i + 1))
	done
	echo 'const struct embed_file embed_files[] = {'
	i=0
	for f in "$@"; do
		echo "	{ \"$f\", embed_$i, sizeof(embed_$i) - 1 },"
		i=$((i + 1))
	done
	echo '	{ NULL, NULL, 0 }'
	echo '};'
} > "$tmp"
mv "$tmp" "$out"
