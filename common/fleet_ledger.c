/*
 * fleet_ledger.c - the ledger in the bucket: what a node's replay finished,
 * one object per batch, ledger/<node>/<seq:16 digits>.jsonl; see fleet.h.
 *
 * Entry points: fleet_outcome_encode/decode, fleet_ledger_put,
 * fleet_ledger_read, fleet_ledger_read_all, fleet_ledger_flush (the index's
 * pending rows to the bucket, index_fleet.h).  A line:
 *   {"at":MS,"by":"node","id":"…","outcome":"delivered","rcpt":"…"}
 * Readers skip a line they cannot parse (counted): one bad line never hides
 * the rest of a batch.  Keys sort by seq, so a listing is the write order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "fleet.h"
#include "fleet_impl.h"
#include "index_fleet.h"

/* fleet_outcome_encode - see fleet.h */
int
fleet_outcome_encode(const struct fleet_outcome *o, struct buf *b)
{
	json_t	*j;
	char	*s;
	int	 rc;

	j = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", o->id, "rcpt", o->rcpt, "outcome",
	    o->outcome, "at", (json_int_t)o->at_ms, "by", o->by);
	if (j == NULL)
		return -1;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return -1;
	rc = buf_printf(b, "%s\n", s);
	free(s);
	return rc;
}

/* fleet_outcome_field - j[name] as a string into out; -1 if absent, not a string or long */
static int
fleet_outcome_field(json_t *j, const char *name, char *out, size_t outlen)
{
	json_t *v = json_object_get(j, name);

	if (!json_is_string(v) || json_string_length(v) >= outlen || json_string_length(v) == 0)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* fleet_outcome_decode - see fleet.h */
int
fleet_outcome_decode(const char *line, size_t len, struct fleet_outcome *o)
{
	json_t	*j, *at;
	int	 bad;

	memset(o, 0, sizeof(*o));
	if ((j = json_loadb(line, len, 0, NULL)) == NULL)
		return -1;
	at = json_object_get(j, "at");
	bad = !json_is_object(j) || fleet_outcome_field(j, "id", o->id, sizeof(o->id)) ||
	    fleet_outcome_field(j, "rcpt", o->rcpt, sizeof(o->rcpt)) ||
	    fleet_outcome_field(j, "outcome", o->outcome, sizeof(o->outcome)) ||
	    fleet_outcome_field(j, "by", o->by, sizeof(o->by)) || !json_is_integer(at);
	if (!bad)
		o->at_ms = json_integer_value(at);
	json_decref(j);
	return bad ? -1 : 0;
}

/* fleet_ledger_put - see fleet.h */
enum objstore_status
fleet_ledger_put(struct fleet *f, int64_t seq, const struct fleet_outcome *v, size_t n)
{
	char			key[OBJKEY_MAX];
	struct buf		b;

	if (seq < 1 || fleet_key(f, key, sizeof(key), "ledger/%s/%016lld.jsonl", f->node,
	    (long long)seq) == -1) {
		if (seq < 1)
			fleet_seterr(f, "fleet ledger: seq %lld", (long long)seq);
		return OBJ_PERMFAIL;
	}
	buf_init(&b, FLEET_OBJECT_MAX);
	for (size_t i = 0; i < n; i++)
		if (fleet_outcome_encode(&v[i], &b) == -1) {
			buf_free(&b);
			fleet_seterr(f, "fleet ledger %s: batch too large", key);
			return OBJ_PERMFAIL;
		}
	return fleet_put(f, key, &b, "ledger put");
}

/* the state of one read of ledger objects */
struct fleet_lread {
	struct fleet		*f;
	fleet_outcome_fn	 fn;
	void			*arg;
	size_t			 bad;
	int			 stop;
	enum objstore_status	 st;
};

/* fleet_lread_obj - parse one ledger object line by line into fn */
static void
fleet_lread_obj(struct fleet_lread *r, const struct buf *b)
{
	struct fleet_outcome	 o;
	const char		*p = b->data, *end = b->data + b->len, *nl;

	while (p < end && !r->stop) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl > p) {
			if (fleet_outcome_decode(p, nl - p, &o) == -1)
				r->bad++;
			else if (r->fn(&o, r->arg) != 0)
				r->stop = 1;
		}
		p = nl + 1;
	}
}

/* fleet_lread_key - objstore_list callback: read a .jsonl object (the first failure sticks) */
static void
fleet_lread_key(const char *key, const struct objinfo *info, void *arg)
{
	struct fleet_lread	*r = arg;
	struct buf		 b;
	size_t			 n = strlen(key);
	enum objstore_status	 st;

	if (r->stop || r->st != OBJ_OK || n < 6 || strcmp(key + n - 6, ".jsonl") != 0)
		return;
	/*
	 * Listing and reading use one handle: objstore_list calls back after it
	 * has the page, so a get in between is allowed (the S3 handle is idle).
	 */
	if ((st = fleet_get(r->f, key, &b, FLEET_OBJECT_MAX)) == OBJ_NOTFOUND)
		return;
	if (st != OBJ_OK) {
		r->st = st;
		return;
	}
	fleet_lread_obj(r, &b);
	buf_free(&b);
}

/* fleet_lread_run - read every ledger object under "ledger/<sub>" */
static enum objstore_status
fleet_lread_run(struct fleet *f, const char *sub, fleet_outcome_fn fn, void *arg, size_t *bad)
{
	struct fleet_lread	r = { f, fn, arg, 0, 0, OBJ_OK };
	char			prefix[OBJKEY_MAX];
	enum objstore_status	st;

	if (fleet_key(f, prefix, sizeof(prefix), "ledger/%s", sub) == -1)
		return OBJ_PERMFAIL;
	st = fleet_list(f, prefix, fleet_lread_key, &r);
	if (bad != NULL)
		*bad = r.bad;
	return st != OBJ_OK ? st : r.st;
}

/* fleet_ledger_read - see fleet.h */
enum objstore_status
fleet_ledger_read(struct fleet *f, const char *node, fleet_outcome_fn fn, void *arg,
    size_t *bad)
{
	char sub[FLEET_NODE_MAX + 2];

	if (!fleet_node_ok(node)) {
		fleet_seterr(f, "fleet ledger: invalid node id");
		return OBJ_PERMFAIL;
	}
	snprintf(sub, sizeof(sub), "%s/", node);
	return fleet_lread_run(f, sub, fn, arg, bad);
}

/* fleet_ledger_read_all - see fleet.h */
enum objstore_status
fleet_ledger_read_all(struct fleet *f, fleet_outcome_fn fn, void *arg, size_t *bad)
{
	return fleet_lread_run(f, "", fn, arg, bad);
}

/* a batch being gathered from the index */
struct fleet_gather {
	struct fleet_outcome	*v;
	size_t			 n, cap;
	const char		*by;
};

/* fleet_gather_row - index_fleet_batch_rows callback */
static int
fleet_gather_row(const char *id, const char *rcpt, const char *outcome, int64_t at_ms,
    void *arg)
{
	struct fleet_gather	*g = arg;
	struct fleet_outcome	*o;

	if (g->n == g->cap)
		return 1;
	o = &g->v[g->n++];
	snprintf(o->id, sizeof(o->id), "%s", id);
	snprintf(o->rcpt, sizeof(o->rcpt), "%s", rcpt);
	snprintf(o->outcome, sizeof(o->outcome), "%s", outcome);
	snprintf(o->by, sizeof(o->by), "%s", g->by);
	o->at_ms = at_ms;
	return 0;
}

/*
 * fleet_ledger_write - batches until every outcome there at the start is
 * written (the last batch may be short), or with whole only full batches: a
 * drain at full speed then writes objects of ledger_batch outcomes, not one
 * small object per second of trickle.
 */
static enum objstore_status
fleet_ledger_write(struct fleet *f, struct index *ix, int whole, int64_t *written)
{
	struct fleet_gather	g;
	enum objstore_status	st = OBJ_OK;
	int64_t			seq, pending, target = 0;
	int			n;

	*written = 0;
	if (!whole && index_fleet_pending(ix, &target) != INDEX_OK) {
		fleet_seterr(f, "fleet ledger: index: %s", index_error(ix));
		return OBJ_TEMPFAIL;
	}
	for (;;) {
		if (whole && (index_fleet_pending(ix, &pending) != INDEX_OK ||
		    pending < f->conf.ledger_batch))
			return OBJ_OK;
		if (index_fleet_reserve(ix, f->conf.ledger_batch, &seq, &n) != INDEX_OK) {
			fleet_seterr(f, "fleet ledger: index: %s", index_error(ix));
			return OBJ_TEMPFAIL;
		}
		if (n == 0)
			return OBJ_OK;
		memset(&g, 0, sizeof(g));
		g.by = f->node;
		g.cap = (size_t)n;
		if ((g.v = calloc(g.cap, sizeof(*g.v))) == NULL) {
			fleet_seterr(f, "fleet ledger: out of memory");
			return OBJ_TEMPFAIL;
		}
		if (index_fleet_batch_rows(ix, seq, fleet_gather_row, &g) != INDEX_OK) {
			fleet_seterr(f, "fleet ledger: index: %s", index_error(ix));
			st = OBJ_TEMPFAIL;
		} else if ((st = fleet_ledger_put(f, seq, g.v, g.n)) == OBJ_OK &&
		    index_fleet_batch_done(ix, seq) != INDEX_OK) {
			/* put again next time: the same rows, the same object */
			fleet_seterr(f, "fleet ledger: index: %s", index_error(ix));
			st = OBJ_TEMPFAIL;
		}
		free(g.v);
		if (st != OBJ_OK)
			return st;
		*written += (int64_t)g.n;
		if (!whole && *written >= target)
			return OBJ_OK;	/* what came meanwhile waits for the next call */
	}
}

/* fleet_ledger_flush - see fleet.h */
enum objstore_status
fleet_ledger_flush(struct fleet *f, struct index *ix, int64_t *written)
{
	return fleet_ledger_write(f, ix, 0, written);
}

/* fleet_ledger_flush_whole - see fleet.h */
enum objstore_status
fleet_ledger_flush_whole(struct fleet *f, struct index *ix, int64_t *written)
{
	return fleet_ledger_write(f, ix, 1, written);
}
