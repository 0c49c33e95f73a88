/*
 * test_sched_reclaim.c - the scheduler's reclaim of leases held by dead
 * processes of this host (sched_reclaim, replay/sched_housekeep.c): at most
 * SCHED_RECLAIM_MAX owners per pass, and the limit, when hit, is counted
 * (replay_cap_hits{cap="dead_owners"}, shown in /metrics) instead of being
 * silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "envelope.h"
#include "index_replay.h"
#include "index_verify.h"
#include "msgid.h"
#include "sched.h"
#include "testlib.h"

#define NOWNERS	20	/* dead owners, more than the 16 one pass reclaims */

static void
test_reclaim_cap_counted(void **state)
{
	struct testlib_index db;
	struct index	*ix = testlib_index_open(&db, "test_sched_reclaim");
	struct envelope	 e;
	char		 host[160], owner[200], ids[1][MSGID_MAX];
	int64_t		 t0 = now_ms();
	long long	 hits = -1;
	int		 n;

	sched_owner(host, sizeof(host));
	*strrchr(host, ':') = '\0';
	for (int i = 0; i < NOWNERS; i++) {
		testlib_envelope(&e, t0 - 10000 + i);
		e.mail_from = strdup("s@x.test");
		e.mail_params = strdup("");
		assert_int_equal(envelope_add_rcpt(&e, "a@one.test", ""), 0);
		assert_int_equal(index_add_message(ix, &e, "k", INDEX_LOC_STORE, NULL), INDEX_OK);
		envelope_free(&e);
		/* a pid beyond any pid_max: that process is gone */
		snprintf(owner, sizeof(owner), "%s:%d", host, 2000000000 + i);
		assert_int_equal(index_replay_lease(ix, owner, now_ms() + 1000, 600000, 86400000LL, 0, NULL,
		    ids, 1, &n), INDEX_OK);
		assert_int_equal(n, 1);
	}
	assert_int_equal(sched_reclaim(ix), 16);
	assert_int_equal(index_counter_get(ix, "replay_cap_hits", "dead_owners", &hits),
	    INDEX_OK);
	assert_int_equal(hits, NOWNERS - 16);
	/* the next pass takes the rest, under the limit: nothing more counted */
	assert_int_equal(sched_reclaim(ix), NOWNERS - 16);
	assert_int_equal(index_counter_get(ix, "replay_cap_hits", "dead_owners", &hits),
	    INDEX_OK);
	assert_int_equal(hits, NOWNERS - 16);
	index_close(ix);
	testlib_index_remove(&db);
}

/*
 * test_verify_error_channel - the verify cache and the counters report a
 * failure in index_error(), the one channel every caller logs (sched_cap_hit,
 * mxspool-replay verify, the ingest): they logged it themselves and left
 * index_error() empty, so those callers printed no reason
 */
static void
test_verify_error_channel(void **state)
{
	struct testlib_index db;
	struct index	*ix = testlib_index_open(&db, "test_sched_reclaim");
	struct index_verify_entry e = { .result = 1 };
	long long	 n;

	assert_int_equal(index_verify_put(ix, "a@one.test", &e), INDEX_OK);
	assert_int_equal(index_verify_get(ix, "a@one.test", &e), INDEX_OK);
	assert_int_equal(index_verify_get(ix, "b@one.test", &e), INDEX_NOTFOUND);
	assert_int_equal(sqlite3_exec(index_db(ix), "DROP TABLE counters; DROP TABLE verify_cache",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(index_counter_add(ix, "replay_cap_hits", "x", 1), INDEX_OK);
	assert_non_null(strstr(index_error(ix), "no such table: counters"));
	assert_int_not_equal(index_verify_get(ix, "a@one.test", &e), INDEX_OK);
	assert_non_null(strstr(index_error(ix), "no such table: verify_cache"));
	assert_int_not_equal(index_verify_flush(ix, NULL, "one.test", &n), INDEX_OK);
	assert_non_null(strstr(index_error(ix), "verify_flush"));
	index_close(ix);
	testlib_index_remove(&db);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_reclaim_cap_counted),
	cmocka_unit_test(test_verify_error_channel),
)
