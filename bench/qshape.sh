#!/bin/bash
# qshape.sh - time `mxspool-replay qshape` and `status` on a generated index of
# N messages (default 1,000,000): 1-3 recipients each in 50 domains, arrivals
# spread over 3 days, states mixed (70% queued, 10% hold, 5% quarantine, 15%
# delivered with their recipients delivered).  The index is filled with SQL
# (recursive CTEs) after the program created the schema, so a 1M index takes
# seconds, not a real ingest.  Prints CPU seconds per command; asserts nothing.
#
#   bash bench/qshape.sh [N]        BUILD=dir for another build (default build/)
#   KEEP_INDEX=dir                  reuse/keep the filled index in dir
set -eu
BTOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$BTOP/build}
N=${1:-1000000}
D=${KEEP_INDEX:-$(mktemp -d /tmp/mxs-qshape.XXXXXX)}
mkdir -p "$D/data" "$D/store"
printf '[general]\nnode = mx1\ndata_dir = %s/data\n[storage]\nurl = file://%s/store\n' \
	"$D" "$D" > "$D/mx.conf"
R() { "$BUILD/mxspool-replay" -c "$D/mx.conf" "$@"; }
if [ ! -s "$D/data/index.sqlite" ]; then
	"$BUILD/tests/tools/storetool" -c "$D/mx.conf" fill 1 >/dev/null
	now=$(($(date +%s) * 1000))
	sqlite3 "$D/data/index.sqlite" <<SQL
DELETE FROM recipients; DELETE FROM messages;
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO messages (id, node, object_key, received_ms, size, sha256, mail_from, state,
    next_attempt_ms, state_ms)
SELECT printf('%026d.mx1', i), 'mx1', printf('mail/%026d.eml', i),
    $now - 3 * 86400000 + (3 * 86400000 * i) / $N, 1000 + (i * 7919) % 100000, 'x',
    'sender@example.org',
    CASE WHEN i % 20 < 14 THEN 'queued' WHEN i % 20 < 16 THEN 'hold'
         WHEN i % 20 = 16 THEN 'quarantine' ELSE 'delivered' END,
    $now, $now FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N),
k(j) AS (VALUES (0), (1), (2))
INSERT INTO recipients (message_id, rcpt, domain, state, seq)
SELECT printf('%026d.mx1', i), printf('user%d@d%02d.example', (i * 31 + j) % 1000,
    (i * 13 + j * 17) % 50), printf('d%02d.example', (i * 13 + j * 17) % 50),
    CASE WHEN i % 20 >= 17 THEN 'delivered' WHEN i % 20 = 16 AND j = 0 THEN 'quarantine'
         ELSE 'pending' END, j
FROM n, k WHERE j < 1 + i % 3;
COMMIT;
ANALYZE;
SQL
fi
echo "index: $D/data/index.sqlite ($N messages, $(sqlite3 "$D/data/index.sqlite" \
	'SELECT count(*) FROM recipients') recipients)"
for cmd in "status" "qshape" "qshape --domain d07.example" "qshape --older-than 1d"; do
	/usr/bin/time -f "%U %S %e" -o "$D/time" bash -c \
		"\"$BUILD/mxspool-replay\" -c \"$D/mx.conf\" $cmd > \"$D/out\""
	read -r u s e < "$D/time"
	printf '%-32s user %5ss sys %5ss wall %5ss\n' "$cmd" "$u" "$s" "$e"
done
[ -n "${KEEP_INDEX:-}" ] || rm -rf "$D"
