/*
 * test_fleet.c - the fleet's bucket layer and node side (common/fleet*.c,
 * common/index_fleet.c) on a file store in a temp dir shared by three nodes
 * mx1, mx2, mx3 (as gateways on separate hosts share a bucket), each with its
 * own index where it needs one.
 *
 *   heartbeats   encode/decode (bad input refused), put, list, the fleet view
 *                (stale node with backlog = problem; an adopted one is not)
 *   ledger       the trigger records final outcomes only while enabled;
 *                batches of ledger_batch, one object each, read back in order;
 *                a batch reserved by a writer killed before its PUT is written
 *                by the next flush with the same seq and rows
 *   claims       two processes claim one node at once: exactly one wins; the
 *                winner's retry is still its own; no self-claim; next epoch;
 *                manifest write/read; the probe, and a store that ignores the
 *                condition refused by it
 *   honour       a claim without manifest blocks; with it the ids become
 *                adopted (never leased again), the epoch acknowledged
 *   agent        start blocks on a claim without manifest; stop writes the
 *                ledger and an exiting heartbeat
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "index.h"
#include "index_fleet.h"
#include "index_replay.h"
#include "objstore.h"
#include "objstore_impl.h"
#include "queue_state.h"
#include "testlib.h"

struct node {
	struct config	*cf;
	struct objstore	*os;
	struct fleet	 f;
};

static char		 dir[] = "/tmp/test_fleet.XXXXXX";
static struct node	 nd[3];		/* mx1, mx2, mx3 */

/* node_open - node mxN's config (batch as ledger_batch), store handle and fleet */
static void
node_open(struct node *n, int i, int batch)
{
	char text[1024], err[512];

	snprintf(text, sizeof(text), "[general]\nnode = mx%d\ndata_dir = %s/mx%d\n"
	    "[storage]\nurl = file://%s/store\n[fleet]\nledger_batch = %d\n"
	    "heartbeat_interval = 5s\nledger_interval = 1s\n", i + 1, dir, i + 1, dir, batch);
	assert_non_null(n->cf = config_from_string("test.conf", text, err, sizeof(err)));
	assert_non_null(n->os = objstore_open(n->cf, err, sizeof(err)));
	assert_int_equal(fleet_init(&n->f, n->cf, n->os, err, sizeof(err)), 0);
}

static void
node_close(struct node *n)
{
	objstore_close(n->os);
	config_free(n->cf);
}

static int
setup(void **state)
{
	char p[128];

	snprintf(dir, sizeof(dir), "/tmp/test_fleet.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/mx%d", dir, i + 1);
		assert_int_equal(mkdir(p, 0700), 0);
		node_open(&nd[i], i, 2);
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];

	for (int i = 0; i < 3; i++)
		node_close(&nd[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* node_index - mxN's index (created) */
static struct index *
node_index(int i)
{
	char path[160], err[256];
	struct index *ix;

	snprintf(path, sizeof(path), "%s/mx%d/index.sqlite", dir, i + 1);
	assert_non_null(ix = index_open(path, err, sizeof(err)));
	return ix;
}

/* add - a message of node mxN received at t with two recipients; its id into id */
static void
add(struct index *ix, int i, int64_t t, char *id)
{
	struct envelope	e;
	char		node[8];

	envelope_init(&e);
	snprintf(node, sizeof(node), "mx%d", i + 1);
	snprintf(e.node, sizeof(e.node), "%s", node);
	assert_int_equal(msgid_new(node, t, e.id, sizeof(e.id)), 0);
	e.received_ms = t;
	e.size = 10;
	memset(e.sha256, '0', 64);
	e.mail_from = strdup("s@example.org");
	e.mail_params = strdup("");
	assert_int_equal(envelope_add_rcpt(&e, "a@example.test", ""), 0);
	assert_int_equal(envelope_add_rcpt(&e, "b@example.test", ""), 0);
	assert_int_equal(index_add_message(ix, &e, "k", INDEX_LOC_STORE, NULL), INDEX_OK);
	memcpy(id, e.id, MSGID_MAX);
	envelope_free(&e);
}

/* deliver - lease id and deliver both its recipients */
static void
deliver(struct index *ix, const char *id, int64_t t)
{
	struct index_outcome o[2] = {
		{ "a@example.test", "p:25", RCPT_DELIVERED, 250, "2.0.0", "ok" },
		{ "b@example.test", "p:25", RCPT_DELIVERED, 250, "2.0.0", "ok" },
	};
	char			ids[16][MSGID_MAX];
	struct index_filter	flt;
	enum queue_state	to;
	int			n;

	memset(&flt, 0, sizeof(flt));
	flt.id = id;
	t = now_ms() + t % 1000;	/* due now: added with next_attempt_ms = now */
	assert_int_equal(index_replay_lease(ix, "h:1", t, 60000, 86400000, 0, &flt, ids, 16, &n),
	    INDEX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(index_replay_finish(ix, id, "h:1", o, 2, "w", t, 0, &to), INDEX_OK);
	assert_int_equal(to, QUEUE_DELIVERED);
}

/* state_of - the message's state name */
static const char *
state_of(struct index *ix, const char *id)
{
	enum queue_state st;

	assert_int_equal(index_get_state(ix, id, &st, NULL), INDEX_OK);
	return queue_state_name(st);
}

static void
test_hb_codec(void **state)
{
	struct fleet_hb	hb = { .node = "mx1", .role = "serve", .version = "0.1.0",
	    .host = "h\"1", .pid = 42, .updated_ms = 1700000000123LL, .backlog = 7,
	    .oldest_ms = 1700000000000LL, .last_delivery_ms = 5, .replay = "paused",
	    .epoch = 3, .exiting = 1 }, got;
	char	*s, why[256];
	static const char *const bad[] = {
		"", "[1]", "{\"node\":\"mx1\",\"role\":\"serve\",\"pid\":\"x\"}",
		"{\"node\":\"MX1!\",\"role\":\"serve\"}", "{\"node\":\"mx1\",\"role\":\"boss\"}",
		"{\"node\":\"mx1\",\"role\":\"serve\",\"node\":\"mx2\"}",
	};

	assert_non_null(s = fleet_hb_encode(&hb));
	assert_int_equal(fleet_hb_decode(s, strlen(s), &got, why, sizeof(why)), 0);
	assert_memory_equal(&hb, &got, sizeof(hb));
	free(s);
	/* a newer writer's extra field is ignored */
	s = "{\"node\":\"mx2\",\"role\":\"ingest\",\"updated_ms\":9,\"future\":[1]}";
	assert_int_equal(fleet_hb_decode(s, strlen(s), &got, why, sizeof(why)), 0);
	assert_string_equal(got.node, "mx2");
	assert_int_equal(got.updated_ms, 9);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fleet_hb_decode(bad[i], strlen(bad[i]), &got, why, sizeof(why)) != -1)
			fail_msg("got accepted, want refused: %s", bad[i]);
	assert_int_equal(fleet_role_parse("drain"), FLEET_ROLE_DRAIN);
	assert_int_equal(fleet_role_parse("x"), -1);
}

static void
test_hb_view(void **state)
{
	struct fleet_hb		 hb, *all;
	struct fleet_node	*v;
	size_t			 n, bad;
	int64_t			 now = now_ms();

	memset(&hb, 0, sizeof(hb));
	snprintf(hb.node, sizeof(hb.node), "mx1");
	snprintf(hb.role, sizeof(hb.role), "serve");
	snprintf(hb.replay, sizeof(hb.replay), "running");
	hb.updated_ms = now;
	hb.backlog = 3;
	assert_int_equal(fleet_hb_put(&nd[0].f, &hb), OBJ_OK);
	snprintf(hb.role, sizeof(hb.role), "ingest");
	snprintf(hb.replay, sizeof(hb.replay), "none");
	assert_int_equal(fleet_hb_put(&nd[0].f, &hb), OBJ_OK);
	/* mx2 silent for 10 minutes with 5 messages: the problem; mx3 exited cleanly */
	snprintf(hb.node, sizeof(hb.node), "mx2");
	hb.updated_ms = now - 600000;
	hb.backlog = 5;
	assert_int_equal(fleet_hb_put(&nd[1].f, &hb), OBJ_OK);
	snprintf(hb.node, sizeof(hb.node), "mx3");
	snprintf(hb.role, sizeof(hb.role), "drain");
	hb.backlog = 0;
	hb.exiting = 1;
	assert_int_equal(fleet_hb_put(&nd[2].f, &hb), OBJ_OK);
	/* a node writes only its own */
	snprintf(hb.node, sizeof(hb.node), "mx1");
	assert_int_equal(fleet_hb_put(&nd[2].f, &hb), OBJ_PERMFAIL);

	assert_int_equal(fleet_hb_list(&nd[2].f, &all, &n, &bad), OBJ_OK);
	assert_int_equal(n, 4);
	assert_int_equal(bad, 0);
	free(all);
	assert_int_equal(fleet_hb_get(&nd[2].f, "mx1", "ingest", &hb), OBJ_OK);
	assert_int_equal(hb.backlog, 3);
	assert_int_equal(fleet_hb_get(&nd[2].f, "mx1", "drain", &hb), OBJ_NOTFOUND);

	assert_int_equal(fleet_nodes(&nd[2].f, now, &v, &n), OBJ_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].node, "mx1");
	assert_false(v[0].stale);
	assert_int_equal(v[0].running, 2);
	assert_string_equal(v[0].roles, "ingest,serve");
	assert_string_equal(v[0].replay, "running");
	assert_false(v[0].problem);
	assert_string_equal(v[1].node, "mx2");
	assert_true(v[1].stale);
	assert_int_equal(v[1].backlog, 5);
	assert_true(v[1].problem);
	assert_true(v[2].stale);
	assert_int_equal(v[2].running, 0);
	assert_string_equal(v[2].replay, "stopped");
	assert_false(v[2].problem);		/* nothing left to deliver */
	free(v);
	/* once mx3 adopts mx2, mx2 is no longer the problem; the claim shows */
	assert_int_equal(fleet_claim_create(&nd[2].f, "mx2", 1, NULL), OBJ_OK);
	assert_int_equal(fleet_nodes(&nd[0].f, now, &v, &n), OBJ_OK);
	assert_int_equal(v[1].claim_epoch, 1);
	assert_string_equal(v[1].claim_adopter, "mx3");
	assert_false(v[1].claim_manifest);
	assert_false(v[1].problem);
	free(v);
}

/* read_cb - collect outcomes as "id/rcpt/outcome/by" lines */
static int
read_cb(const struct fleet_outcome *o, void *arg)
{
	struct buf *b = arg;

	assert_int_equal(buf_printf(b, "%s/%s/%s/%s\n", o->id, o->rcpt, o->outcome, o->by), 0);
	return 0;
}

/* count_ledger - ledger objects of node */
static int
count_ledger(const char *node)
{
	char	cmd[256];
	FILE	*p;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s/store/mail/_fleet/ledger/%s 2>/dev/null | wc -l", dir,
	    node);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void
test_ledger(void **state)
{
	struct index	*ix = node_index(0);
	char		 id[5][MSGID_MAX], want[2048] = "";
	int64_t		 t = now_ms() - 10000, written, pending, seq;
	struct buf	 b;
	size_t		 bad;
	int		 n;

	for (int i = 0; i < 5; i++)
		add(ix, 0, t + i, id[i]);
	/* not enabled: nothing recorded */
	deliver(ix, id[0], t + 100);
	assert_int_equal(index_fleet_pending(ix, &pending), INDEX_OK);
	assert_int_equal(pending, 0);
	assert_int_equal(index_fleet_ledger_enable(ix, 1), INDEX_OK);
	for (int i = 1; i < 5; i++) {
		deliver(ix, id[i], t + 100 + i);
		for (int r = 0; r < 2; r++)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s/%s/"
			    "delivered/mx1\n", id[i], r ? "b@example.test" : "a@example.test");
	}
	assert_int_equal(index_fleet_pending(ix, &pending), INDEX_OK);
	assert_int_equal(pending, 8);
	/* a writer reserves the first batch and is killed before its PUT */
	assert_int_equal(index_fleet_reserve(ix, 2, &seq, &n), INDEX_OK);
	assert_int_equal(seq, 1);
	assert_int_equal(n, 2);
	/* the next flush writes that batch first, same seq; batches of 2: 4 objects */
	assert_int_equal(fleet_ledger_flush(&nd[0].f, ix, &written), OBJ_OK);
	assert_int_equal(written, 8);
	assert_int_equal(count_ledger("mx1"), 4);
	assert_int_equal(index_fleet_pending(ix, &pending), INDEX_OK);
	assert_int_equal(pending, 0);
	buf_init(&b, 1 << 20);
	assert_int_equal(fleet_ledger_read(&nd[1].f, "mx1", read_cb, &b, &bad), OBJ_OK);
	assert_int_equal(bad, 0);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	/* every node's ledger: mx1's plus a line mx2 wrote, and a bad line skipped */
	buf_reset(&b);
	{
		struct fleet_outcome o = { .at_ms = 1 };
		char key[OBJKEY_MAX];

		snprintf(o.id, sizeof(o.id), "%s", id[0]);
		snprintf(o.rcpt, sizeof(o.rcpt), "c@example.test");
		snprintf(o.outcome, sizeof(o.outcome), "expired");
		snprintf(o.by, sizeof(o.by), "mx2");
		assert_int_equal(fleet_ledger_put(&nd[1].f, 1, &o, 1), OBJ_OK);
		snprintf(key, sizeof(key), "mail/_fleet/ledger/mx3/%016d.jsonl", 1);
		assert_int_equal(objstore_put_buf(nd[2].os, key, "{not json\n", 10, NULL), OBJ_OK);
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		    "%s/c@example.test/expired/mx2\n", id[0]);
	}
	assert_int_equal(fleet_ledger_read_all(&nd[2].f, read_cb, &b, &bad), OBJ_OK);
	assert_int_equal(bad, 1);
	assert_string_equal(b.data, want);
	buf_free(&b);
	/* the seq goes on from the index: the next batch is 5 */
	/* a message already delivered cannot be leased again: no new outcome */
	assert_int_equal(index_fleet_pending(ix, &pending), INDEX_OK);
	assert_int_equal(pending, 0);
	index_close(ix);
}

/* claimer - a child process: claim mx1 at epoch 1 as node i with its own handles */
static int
claimer(int i)
{
	struct node	n;
	int		rc;

	node_open(&n, i, 2);
	rc = fleet_claim_create(&n.f, "mx1", 1, NULL);
	node_close(&n);
	return rc == OBJ_OK ? 0 : rc == OBJ_EXISTS ? 1 : 2;
}

/* ids_cb - count manifest ids and keep the last */
static int
ids_cb(const char *id, void *arg)
{
	char *last = arg;

	snprintf(last, MSGID_MAX, "%s", id);
	last[MSGID_MAX - 1]++;		/* a counter in the last byte */
	return 0;
}

static void
test_claims(void **state)
{
	struct fleet_claim	 c, *v;
	pid_t			 pid[2];
	int			 status, code[2], winner;
	int64_t			 epoch;
	size_t			 n;
	char			 ids[2][MSGID_MAX] = { "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1",
				    "01JDAB3K8QW2E5R7T9Y1U3I5O8.mx1" }, last[MSGID_MAX];

	assert_int_equal(fleet_claim_next_epoch(&nd[1].f, "mx1", &epoch), OBJ_OK);
	assert_int_equal(epoch, 1);
	/* mx2 and mx3 claim mx1 at once, from two processes */
	for (int i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0)
			_exit(claimer(i + 1));
		assert_true(pid[i] > 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		code[i] = WEXITSTATUS(status);
	}
	assert_true((code[0] == 0 && code[1] == 1) || (code[0] == 1 && code[1] == 0));
	winner = code[0] == 0 ? 1 : 2;
	assert_int_equal(fleet_claim_get(&nd[0].f, "mx1", 1, &c), OBJ_OK);
	assert_string_equal(c.adopter, nd[winner].f.node);
	/* the winner asking again still holds it; the loser is told who does */
	assert_int_equal(fleet_claim_create(&nd[winner].f, "mx1", 1, &c), OBJ_OK);
	assert_int_equal(fleet_claim_create(&nd[3 - winner].f, "mx1", 1, &c), OBJ_EXISTS);
	assert_string_equal(c.adopter, nd[winner].f.node);
	assert_non_null(strstr(fleet_error(&nd[3 - winner].f), "held by node"));
	/* no node adopts itself */
	assert_int_equal(fleet_claim_create(&nd[0].f, "mx1", 2, NULL), OBJ_PERMFAIL);
	/* the manifest */
	assert_int_equal(fleet_claims_list(&nd[0].f, "mx1", &v, &n), OBJ_OK);
	assert_int_equal(n, 1);
	assert_false(v[0].manifest);
	free(v);
	assert_int_equal(fleet_manifest_read(&nd[0].f, "mx1", 1, ids_cb, last), OBJ_NOTFOUND);
	assert_int_equal(fleet_manifest_put(&nd[winner].f, "mx1", 1,
	    (const char (*)[MSGID_MAX])ids, 2), OBJ_OK);
	memset(last, 0, sizeof(last));
	assert_int_equal(fleet_manifest_read(&nd[0].f, "mx1", 1, ids_cb, last), OBJ_OK);
	assert_int_equal(last[MSGID_MAX - 1], 2);
	last[MSGID_MAX - 1] = '\0';
	assert_string_equal(last, ids[1]);
	assert_int_equal(fleet_claims_list(&nd[0].f, "mx1", &v, &n), OBJ_OK);
	assert_int_equal(n, 1);
	assert_true(v[0].manifest);
	free(v);
	assert_int_equal(fleet_claim_next_epoch(&nd[1].f, "mx1", &epoch), OBJ_OK);
	assert_int_equal(epoch, 2);
}

/* ignoring_create - a store that ignores If-None-Match: every create overwrites */
static enum objstore_status
ignoring_create(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	return o->ops->put(o, key, src, meta);
}

static void
test_probe(void **state)
{
	struct objstore_ops		 lax;
	const struct objstore_ops	*real = nd[0].os->ops;

	assert_int_equal(fleet_probe_conditional(&nd[0].f), OBJ_OK);
	lax = *real;
	lax.create = ignoring_create;
	nd[0].os->ops = &lax;
	assert_int_equal(fleet_probe_conditional(&nd[0].f), OBJ_PERMFAIL);
	assert_non_null(strstr(fleet_error(&nd[0].f), "ignores If-None-Match"));
	nd[0].os->ops = real;
}

static void
test_honour(void **state)
{
	struct index		*ix = node_index(1);	/* mx2's index */
	char			 id[3][MSGID_MAX], why[512], got[4][MSGID_MAX];
	struct index_filter	 flt;
	int64_t			 t = now_ms() - 5000, epoch;
	int			 n;

	for (int i = 0; i < 3; i++)
		add(ix, 1, t + i, id[i]);
	/* mx3 claims mx2 (epoch 2 after test_hb_view's 1) and has not written its manifest */
	assert_int_equal(fleet_claim_create(&nd[2].f, "mx2", 2, NULL), OBJ_OK);
	assert_int_equal(fleet_manifest_put(&nd[2].f, "mx2", 1, NULL, 0), OBJ_OK);
	assert_int_equal(fleet_honour_claims(&nd[1].f, ix, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "node mx3 claimed"));
	assert_string_equal(state_of(ix, id[0]), "queued");
	assert_int_equal(index_fleet_epoch(ix, &epoch), INDEX_OK);
	assert_int_equal(epoch, 1);		/* the empty epoch 1 was acknowledged */
	/* the manifest of epoch 2 takes the first two */
	assert_int_equal(fleet_manifest_put(&nd[2].f, "mx2", 2, (const char (*)[MSGID_MAX])id, 2),
	    OBJ_OK);
	assert_int_equal(fleet_honour_claims(&nd[1].f, ix, why, sizeof(why)), 0);
	assert_string_equal(state_of(ix, id[0]), "adopted");
	assert_string_equal(state_of(ix, id[1]), "adopted");
	assert_string_equal(state_of(ix, id[2]), "queued");
	assert_int_equal(index_fleet_epoch(ix, &epoch), INDEX_OK);
	assert_int_equal(epoch, 2);
	/* only what it still owns is leased; an adopted message cannot be deleted here */
	memset(&flt, 0, sizeof(flt));
	assert_int_equal(index_replay_lease(ix, "h:1", t + 10000, 60000, 86400000, 0, &flt, got,
	    4, &n), INDEX_OK);
	assert_int_equal(n, 1);
	assert_string_equal(got[0], id[2]);
	assert_int_equal(index_replay_delete(ix, id[0], t, &n), INDEX_OK);
	assert_int_equal(n, 0);
	/* applied once: a second pass changes nothing */
	assert_int_equal(fleet_honour_claims(&nd[1].f, ix, why, sizeof(why)), 0);
	index_close(ix);
}

static void
test_agent(void **state)
{
	struct fleet_agent	*a;
	struct index		*ix = node_index(2);	/* mx3's */
	struct fleet_hb		 hb;
	char			 err[256], why[512], id[MSGID_MAX];
	int64_t			 epoch;

	add(ix, 2, now_ms() - 1000, id);
	/* mx1 claims mx3 without a manifest: serve starts blocked */
	assert_int_equal(fleet_claim_create(&nd[0].f, "mx3", 1, NULL), OBJ_OK);
	assert_non_null(a = fleet_agent_start(nd[2].cf, FLEET_ROLE_SERVE, err, sizeof(err)));
	assert_true(fleet_agent_blocked(a, why, sizeof(why)));
	assert_non_null(strstr(why, "node mx1 claimed"));
	assert_int_equal(fleet_hb_get(&nd[0].f, "mx3", "serve", &hb), OBJ_OK);
	assert_string_equal(hb.replay, "blocked");
	assert_int_equal(hb.backlog, 1);
	assert_false(hb.exiting);
	/* what it finishes meanwhile is in the ledger when it stops */
	deliver(ix, id, now_ms());
	fleet_agent_stop(a);
	assert_int_equal(fleet_hb_get(&nd[0].f, "mx3", "serve", &hb), OBJ_OK);
	assert_true(hb.exiting);
	assert_string_equal(hb.replay, "stopped");
	assert_int_equal(count_ledger("mx3"), 1);
	/* the manifest comes: the next start is not blocked and acknowledges epoch 1 */
	assert_int_equal(fleet_manifest_put(&nd[0].f, "mx3", 1, NULL, 0), OBJ_OK);
	assert_non_null(a = fleet_agent_start(nd[2].cf, FLEET_ROLE_DRAIN, err, sizeof(err)));
	assert_false(fleet_agent_blocked(a, why, sizeof(why)));
	fleet_agent_stop(a);
	assert_int_equal(index_fleet_epoch(ix, &epoch), INDEX_OK);
	assert_int_equal(epoch, 1);
	index_close(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hb_codec),
		cmocka_unit_test(test_hb_view),
		cmocka_unit_test(test_ledger),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_honour),
		cmocka_unit_test(test_agent),
	};

	return cmocka_run_group_tests_name("fleet", tests, setup, teardown);
}
