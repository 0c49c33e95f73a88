/*
 * test_store_import.c - store_message_keys and store_import (replay/reindex.c),
 * the import path of `adopt`, over a file store holding node mx2's messages:
 *
 *   keep        2 recipients, none finished          imported with both
 *   partial     2 recipients, user0 finished          imported with user1 only
 *   finished    2 recipients, both finished           counted finished, no row
 *   present     already indexed here                  left as it is
 *   back        indexed here, adopted by another node, taken back by this
 *               one (a chain of adoptions): user0 finished   queued again,
 *               user1 pending
 *   other       a message of node mx3                 not listed for mx2
 *
 * A dry run (repair 0) reads and counts, calls seen() with the filtered
 * envelope and writes nothing; a repair adds the rows; a second repair adds
 * nothing ("got X, want Y" on failure).  The whole of adopt: fleet_rgw.sh.
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

#include "clock.h"
#include "config.h"
#include "index.h"
#include "index_fleet.h"
#include "msgid.h"
#include "store.h"
#include "store_impl.h"
#include "testlib.h"
#include "testlib_store.h"

enum kind { KEEP, PARTIAL, FINISHED, PRESENT, BACK, NKINDS };

static char	dir[] = "/tmp/test_store_import.XXXXXX";
static char	ids[NKINDS][MSGID_MAX];
static int	nseen;
static size_t	seen_rcpts[NKINDS];

/* keep - the ledger of this test: partial's user0 and both of finished's are done */
static int
keep(const char *id, const char *rcpt, void *arg)
{
	if (strcmp(id, ids[FINISHED]) == 0)
		return 0;
	return !((strcmp(id, ids[PARTIAL]) == 0 || strcmp(id, ids[BACK]) == 0) &&
	    strcmp(rcpt, "user0@example.test") == 0);
}

/* seen - remember how many recipients each message kept */
static void
seen(const char *key, const struct envelope *e, void *arg)
{
	for (int k = 0; k < NKINDS; k++)
		if (strcmp(e->id, ids[k]) == 0)
			seen_rcpts[k] = e->nrcpts;
	nseen++;
}

/* state - 1 if id's row is in state want */
static int
state_is(struct store *st, const char *id, const char *want)
{
	enum queue_state s;

	return index_get_state(store_index(st), id, &s, NULL) == INDEX_OK &&
	    strcmp(queue_state_name(s), want) == 0;
}

/* rcpts - recipients of id's row, -1 if no row */
static int
rcpts(struct store *st, const char *id)
{
	struct envelope		e;
	char			key[OBJKEY_MAX], sp[256];
	enum index_location	loc;
	int			n;

	envelope_init(&e);
	if (index_get_message(store_index(st), id, &e, key, sizeof(key), &loc, sp,
	    sizeof(sp)) != INDEX_OK)
		return -1;
	n = (int)e.nrcpts;
	envelope_free(&e);
	return n;
}

static void
test_store_import(void **state)
{
	struct store_import	 imp = { keep, seen, NULL };
	struct reindex_result	 r;
	struct config		*c;
	struct store		*st = testlib_store_open(dir, "", &c);
	char			 other[MSGID_MAX], **keys;
	size_t			 nkeys;
	int64_t			 t = now_ms() - 3600 * 1000;
	int			 fd, pass, bad = 0;

	for (int k = KEEP; k < PRESENT; k++)
		testlib_put_object(st, dir, "mx2", t + k, 2, ids[k]);
	for (int k = PRESENT; k <= BACK; k++)
		testlib_commit(st, dir, "mx2", t + k, ids[k]);
	/* mx9 adopted it from here: both recipients 'adopted' */
	assert_int_equal(index_fleet_adopt(store_index(st), (const char (*)[MSGID_MAX])&ids[BACK],
	    1, "mx9", t, &fd), INDEX_OK);
	assert_int_equal(fd, 1);
	testlib_put_object(st, dir, "mx3", t, 2, other);

	assert_int_equal(store_message_keys(st, "mx2", &keys, &nkeys), STORE_OK);
	if (nkeys != NKINDS) {
		print_error("store_message_keys mx2: got %zu keys, want %d\n", nkeys, NKINDS);
		bad++;
	}
	for (pass = 0; pass < 3 && !bad; pass++) {
		nseen = 0;
		assert_int_equal(store_import(st, keys, nkeys, pass > 0, &imp, NULL, NULL, &r),
		    STORE_OK);
		/* got, want per figure: dry run, repair, repair again */
		const struct { const char *f; int64_t got, want[3]; } tc[] = {
			{ "objects", r.objects, { 5, 5, 5 } },
			{ "ok", r.ok, { 1, 1, 4 } },
			{ "added", r.added, { 3, 3, 0 } },
			{ "finished", r.finished, { 1, 1, 1 } },
			{ "incomplete", r.incomplete, { 0, 0, 0 } },
			{ "seen", nseen, { 3, 3, 0 } },
			{ "rows of keep (recipients)", rcpts(st, ids[KEEP]), { -1, 2, 2 } },
			{ "rows of partial (recipients)", rcpts(st, ids[PARTIAL]), { -1, 1, 1 } },
			{ "rows of finished", rcpts(st, ids[FINISHED]), { -1, -1, -1 } },
			{ "back is queued", state_is(st, ids[BACK], "queued"), { 0, 1, 1 } },
		};

		for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++)
			if (tc[i].got != tc[i].want[pass]) {
				print_error("pass %d: %s got %lld, want %lld\n", pass, tc[i].f,
				    (long long)tc[i].got, (long long)tc[i].want[pass]);
				bad++;
			}
		if (pass == 0 && (seen_rcpts[KEEP] != 2 || seen_rcpts[PARTIAL] != 1 ||
		    seen_rcpts[BACK] != 1 || !state_is(st, ids[BACK], "adopted"))) {
			print_error("seen: got keep %zu partial %zu back %zu recipients, want 2 1 1"
			    " (back still adopted after the dry run)\n", seen_rcpts[KEEP],
			    seen_rcpts[PARTIAL], seen_rcpts[BACK]);
			bad++;
		}
	}
	store_keys_free(keys, nkeys);
	testlib_store_close(st, c, dir);
	if (bad)
		fail_msg("%d differences", bad);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_store_import),
)
