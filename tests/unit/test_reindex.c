/*
 * test_reindex.c - store_reindex (common/reindex.c) over a file store holding
 * one message of each kind reindex must tell apart, table-driven: for each,
 * the finding it reports, whether its row exists and its state, after a dry
 * run, a repair and a second repair ("got X, want Y" on failure).
 *
 *   both        object and row                      ok, left alone
 *   old         object, no row, id older than mx1's registration: a lost
 *               index being rebuilt                 added (repair)
 *   sidecar     the same with a 200-recipient envelope in "<id>.env.json"
 *   foreign     object, no row, node mx2 never registered here (a lost
 *               host's, being adopted)              added (repair)
 *   orphan      object, no row, id younger than mx1's registration: never
 *               committed, so never acknowledged    reported, never added
 *   gone        row, object deleted                 missing (repair marks it)
 *   spooled     row, message in the local spool     expected without object
 *   broken      object whose envelope metadata is not JSON   incomplete
 *   aside       an object under "<prefix>/_orphaned/"  no message: not seen
 *   fleet       the fleet's objects naming the id (a ledger batch, a claim's
 *               manifest, a heartbeat) and one shaped like a message under
 *               "<prefix>/_fleet/"                  no message: not seen
 * Rows deleted by the operator or purged are not covered here (their states
 * are set by the replay queue; see test_index_replay.c).  The same against
 * RGW: tests/e2e/reindex_rgw.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "index.h"
#include "fleet.h"
#include "msgid.h"
#include "objstore.h"
#include "store.h"
#include "store_impl.h"
#include "testlib.h"
#include "testlib_store.h"

enum kind { BOTH, OLD, SIDECAR, FOREIGN, ORPHAN, GONE, SPOOLED, BROKEN, ASIDE, FLEET };

/* what reindex must make of one message */
struct want {
	const char	*name;
	enum kind	 kind;
	const char	*dry;		/* word in its report line of a dry run; NULL: no line */
	const char	*repair;	/* the same for a repair */
	int		 row_dry;	/* row exists after the dry run */
	const char	*state;		/* row's state after repair; NULL: no row */
};

static const struct want	want[] = {
	{ "both", BOTH, NULL, NULL, 1, "queued" },
	{ "old", OLD, "unindexed", "added", 0, "queued" },
	{ "sidecar", SIDECAR, "unindexed", "added", 0, "queued" },
	{ "foreign", FOREIGN, "unindexed", "added", 0, "queued" },
	{ "orphan", ORPHAN, "orphan", "orphan", 0, NULL },
	{ "gone", GONE, "--repair marks it missing", "marked missing", 1, "missing" },
	{ "spooled", SPOOLED, NULL, NULL, 1, "queued" },
	{ "broken", BROKEN, "incomplete", "incomplete", 0, NULL },
	{ "aside", ASIDE, NULL, NULL, 0, NULL },
	{ "fleet", FLEET, NULL, NULL, 0, NULL },
};
#define NWANT	(sizeof(want) / sizeof(want[0]))

static char	dir[] = "/tmp/test_reindex.XXXXXX";
static char	ids[NWANT][MSGID_MAX];

/* line_of - the report line naming id, copied to out; 0 if none */
static int
line_of(const struct testlib_lines *l, const char *id, char *out, size_t outlen)
{
	const char	*p = strstr(l->text, id), *e;

	if (p == NULL)
		return 0;
	while (p > l->text && p[-1] != '\n')
		p--;
	e = strchr(p, '\n');
	snprintf(out, outlen, "%.*s", (int)(e - p), p);
	return 1;
}

/* fleet_objects - what the fleet keeps under mail/_fleet/, naming id */
static void
fleet_objects(struct store *st, const char *id)
{
	struct fleet		f;
	struct fleet_outcome	o = { .at_ms = 1 };
	struct fleet_hb		hb = { .node = "mx1", .role = "serve", .replay = "running" };
	struct config		*c;
	char			err[256], key[OBJKEY_MAX], ids1[1][MSGID_MAX];

	assert_non_null(c = config_from_string("f.conf", "[general]\nnode = mx2\n[storage]\n"
	    "url = file:///nonexistent\nprefix = mail\n", err, sizeof(err)));
	assert_int_equal(fleet_init(&f, c, store_objstore(st), err, sizeof(err)), 0);
	snprintf(o.id, sizeof(o.id), "%.*s", MSGID_MAX - 1, id);
	snprintf(o.rcpt, sizeof(o.rcpt), "user0@example.test");
	snprintf(o.outcome, sizeof(o.outcome), "delivered");
	snprintf(o.by, sizeof(o.by), "mx2");
	assert_int_equal(fleet_ledger_put(&f, 1, &o, 1), OBJ_OK);
	snprintf(ids1[0], sizeof(ids1[0]), "%.*s", MSGID_MAX - 1, id);
	assert_int_equal(fleet_claim_create(&f, "mx1", 1, NULL), OBJ_OK);
	assert_int_equal(fleet_manifest_put(&f, "mx1", 1, (const char (*)[MSGID_MAX])ids1, 1),
	    OBJ_OK);
	snprintf(f.node, sizeof(f.node), "mx1");
	assert_int_equal(fleet_hb_put(&f, &hb), OBJ_OK);
	/* shaped like a message key, but under _fleet: not a node's segment */
	msgid_key("mail/_fleet/x", id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_put_buf(store_objstore(st), key, "x", 1, NULL), OBJ_OK);
	config_free(c);
}

/* store_swap - the file store's root away (a file in its place) and back */
static void
store_swap(int away)
{
	char	a[64], b[64];

	snprintf(a, sizeof(a), "%s/store", dir);
	snprintf(b, sizeof(b), "%s/store.away", dir);
	if (away) {
		assert_int_equal(rename(a, b), 0);
		close(open(a, O_CREAT | O_WRONLY, 0600));
	} else {
		assert_int_equal(unlink(a), 0);
		assert_int_equal(rename(b, a), 0);
	}
}

/* build - one message of each kind; mx1 registered at now - 60 s */
static void
build(struct store *st)
{
	struct objmeta	m;
	char		key[OBJKEY_MAX];
	int64_t		now = now_ms(), old = now - 3600 * 1000, reg = now - 60 * 1000;
	size_t		i;

	for (i = 0; i < NWANT; i++) {
		switch (want[i].kind) {
		case BOTH:
			testlib_commit(st, dir, "mx1", old + i, ids[i]);
			break;
		case OLD:		/* objects without rows: ours from before, */
		case FOREIGN:		/* another node's, */
		case ORPHAN:		/* ours and recent */
			testlib_put_object(st, dir, want[i].kind == FOREIGN ? "mx2" : "mx1",
			    want[i].kind == OLD ? old + i : now + i, 2, ids[i]);
			break;
		case SIDECAR:
			testlib_put_object(st, dir, "mx1", old + i, 200, ids[i]);
			msgid_key("mail", ids[i], ".env.json", key, sizeof(key));
			assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL),
			    OBJ_OK);
			break;
		case GONE:
			testlib_commit(st, dir, "mx1", old + i, ids[i]);
			msgid_key("mail", ids[i], ".eml", key, sizeof(key));
			assert_int_equal(objstore_delete(store_objstore(st), key), OBJ_OK);
			break;
		case SPOOLED:
			store_swap(1);
			testlib_commit(st, dir, "mx1", old + i, ids[i]);
			store_swap(0);
			break;
		case BROKEN:
			assert_int_equal(msgid_new("mx1", old + i, ids[i], sizeof(ids[i])), 0);
			msgid_key("mail", ids[i], ".eml", key, sizeof(key));
			objmeta_init(&m);
			objmeta_set(&m, "envelope", "bm90IGpzb24=");	/* "not json" */
			assert_int_equal(objstore_put_buf(store_objstore(st), key, "x", 1, &m),
			    OBJ_OK);
			objmeta_free(&m);
			break;
		case ASIDE:
			assert_int_equal(msgid_new("mx1", old + i, ids[i], sizeof(ids[i])), 0);
			msgid_key("mail/_orphaned", ids[i], ".eml", key, sizeof(key));
			assert_int_equal(objstore_put_buf(store_objstore(st), key, "x", 1, NULL),
			    OBJ_OK);
			break;
		case FLEET:
			assert_int_equal(msgid_new("mx1", old + i, ids[i], sizeof(ids[i])), 0);
			fleet_objects(st, ids[i]);
			break;
		}
	}
	assert_int_equal(store_register_node(st, "mx1", reg), STORE_OK);
}

/* check - each message's report line and row after one run; counts errors */
static int
check(struct store *st, const char *run, const struct testlib_lines *l, int repaired)
{
	char		 line[1024];
	const char	*word, *wstate, *state;
	enum queue_state qs;
	int64_t		 purged;
	enum index_status is;
	size_t		 i;
	int		 bad = 0, has;

	for (i = 0; i < NWANT; i++) {
		word = repaired ? want[i].repair : want[i].dry;
		has = line_of(l, ids[i], line, sizeof(line));
		if (word == NULL && has) {
			print_error("%s %s: got line \"%s\", want none\n", run, want[i].name, line);
			bad++;
		} else if (word != NULL && (!has || strstr(line, word) == NULL)) {
			print_error("%s %s: got line \"%s\", want one with \"%s\"\n", run,
			    want[i].name, has ? line : "(none)", word);
			bad++;
		}
		qs = QUEUE_UNKNOWN;
		is = index_get_state(store_index(st), ids[i], &qs, &purged);
		state = queue_state_name(qs);
		wstate = repaired ? want[i].state : want[i].row_dry ? "queued" : NULL;
		if (wstate == NULL && is != INDEX_NOTFOUND) {
			print_error("%s %s: got row state %s, want no row\n", run, want[i].name,
			    is == INDEX_OK ? state : "(error)");
			bad++;
		} else if (wstate != NULL && (is != INDEX_OK || strcmp(state, wstate) != 0)) {
			print_error("%s %s: got row state %s, want %s\n", run, want[i].name,
			    is == INDEX_OK ? state : "(none)", wstate);
			bad++;
		}
	}
	return bad;
}

/* count - messages of the table whose kind is in mask (1 << kind) */
static int64_t
count(unsigned mask)
{
	int64_t	n = 0;
	size_t	i;

	for (i = 0; i < NWANT; i++)
		n += (mask >> want[i].kind) & 1;
	return n;
}

#define K(k)	(1u << (k))

static void
test_reindex_kinds(void **state)
{
	struct reindex_result	 r;
	struct testlib_lines	 l;
	struct config		*c;
	struct store		*st = testlib_store_open(dir, "prefix = mail\n", &c);
	int			 bad = 0, pass;
	const unsigned		 unindexed = K(OLD) | K(SIDECAR) | K(FOREIGN);
	const unsigned		 objects = K(BOTH) | unindexed | K(ORPHAN) | K(BROKEN);

	build(st);

	for (pass = 0; pass < 3; pass++) {
		static const char *const runs[] = { "dry run", "repair", "repair again" };
		const char	*run = runs[pass];
		size_t		 i;

		memset(&l, 0, sizeof(l));
		assert_int_equal(store_reindex(st, NULL, pass > 0, testlib_collect, &l, &r),
		    STORE_OK);
		/* got, want per field of the result */
		const struct { const char *f; int64_t got, want; } tc[] = {
			{ "objects", r.objects, count(objects) },
			{ "ok", r.ok, count(K(BOTH)) + (pass == 2 ? count(unindexed) : 0) },
			{ "added", r.added, pass == 2 ? 0 : count(unindexed) },
			{ "orphans", r.orphans, count(K(ORPHAN)) },
			{ "missing", r.missing, count(K(GONE)) },
			{ "incomplete", r.incomplete, count(K(BROKEN)) },
		};

		for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++)
			if (tc[i].got != tc[i].want) {
				print_error("%s: %s got %lld, want %lld\n", run, tc[i].f,
				    (long long)tc[i].got, (long long)tc[i].want);
				bad++;
			}
		if (pass < 2)
			bad += check(st, run, &l, pass == 1);
		if (bad) {
			print_error("%s report:\n%s", run, l.text);
			break;
		}
	}
	/* a node given: only its objects and rows */
	assert_int_equal(store_reindex(st, "mx2", 0, NULL, NULL, &r), STORE_OK);
	if (r.objects != count(K(FOREIGN)) || r.missing != 0) {
		print_error("node mx2: got objects %lld missing %lld, want %lld 0\n",
		    (long long)r.objects, (long long)r.missing, (long long)count(K(FOREIGN)));
		bad++;
	}
	testlib_store_close(st, c, dir);
	if (bad)
		fail_msg("%d differences", bad);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_reindex_kinds),
)
