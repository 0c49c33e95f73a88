/*
 * fleet_claim.c - claims on a node's backlog (fencing) and their manifests:
 * claims/<node>/<epoch:10 digits>.json and .ids; the store probe for
 * conditional creates.  See fleet.h and docs/storage.md "The fleet".
 *
 * Entry points: fleet_claims_list, fleet_claim_next_epoch, fleet_claim_create,
 * fleet_claim_get, fleet_manifest_put/read, fleet_probe_conditional.
 * Invariant: a claim object is only ever written with objstore_create_buf, so
 * of two adopters of one epoch exactly one wins on a store that honours the
 * condition (fleet_probe_conditional says whether it does).  A claim JSON:
 *   {"adopter":"b","at_ms":MS,"epoch":1,"node":"a"}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "fleet_impl.h"

#define FLEET_EPOCH_FMT	"%010lld"

/* fleet_claim_key - claims/<node>/<epoch>.<ext> */
static int
fleet_claim_key(struct fleet *f, char *key, size_t keylen, const char *node, int64_t epoch,
    const char *ext)
{
	if (!fleet_node_ok(node) || epoch < 1 || epoch > 9999999999LL) {
		fleet_seterr(f, "fleet claim: invalid node id or epoch");
		return -1;
	}
	return fleet_key(f, key, keylen, "claims/%s/" FLEET_EPOCH_FMT ".%s", node,
	    (long long)epoch, ext);
}

/* fleet_claim_decode - a claim object into c; 0 or -1 */
static int
fleet_claim_decode(const struct buf *b, struct fleet_claim *c)
{
	json_t		*j, *e, *at;
	const char	*node, *adopter;
	int		 bad;

	memset(c, 0, sizeof(*c));
	if ((j = json_loadb(b->data, b->len, 0, NULL)) == NULL)
		return -1;
	node = json_string_value(json_object_get(j, "node"));
	adopter = json_string_value(json_object_get(j, "adopter"));
	e = json_object_get(j, "epoch");
	at = json_object_get(j, "at_ms");
	bad = !fleet_node_ok(node) || !fleet_node_ok(adopter) || !json_is_integer(e) ||
	    !json_is_integer(at);
	if (!bad) {
		snprintf(c->node, sizeof(c->node), "%s", node);
		snprintf(c->adopter, sizeof(c->adopter), "%s", adopter);
		c->epoch = json_integer_value(e);
		c->at_ms = json_integer_value(at);
	}
	json_decref(j);
	return bad ? -1 : 0;
}

/* fleet_claim_get - see fleet.h */
enum objstore_status
fleet_claim_get(struct fleet *f, const char *node, int64_t epoch, struct fleet_claim *c)
{
	char			key[OBJKEY_MAX];
	struct buf		b;
	enum objstore_status	st;

	if (fleet_claim_key(f, key, sizeof(key), node, epoch, "json") == -1)
		return OBJ_PERMFAIL;
	if ((st = fleet_get(f, key, &b, FLEET_SMALL_MAX)) != OBJ_OK)
		return st;
	if (fleet_claim_decode(&b, c) == -1 || c->epoch != epoch || strcmp(c->node, node)) {
		buf_free(&b);
		fleet_seterr(f, "fleet claim %s: not a claim of this node and "
		    "epoch", key);
		return OBJ_PERMFAIL;
	}
	buf_free(&b);
	if (fleet_claim_key(f, key, sizeof(key), node, epoch, "ids") == -1)
		return OBJ_PERMFAIL;
	fleet_begin(f);
	st = objstore_head(f->os, key, NULL, NULL);
	if (st != OBJ_OK && st != OBJ_NOTFOUND)
		return fleet_fail(f, st, "claim manifest head", key);
	c->manifest = st == OBJ_OK;
	return OBJ_OK;
}

/* the epochs found in a listing of claims/<node>/ */
struct fleet_epochs {
	int64_t	*e;
	int	*ids;		/* its manifest was listed */
	size_t	 n, cap;
};

/* fleet_epoch_add - objstore_list callback: NNNNNNNNNN.json or .ids */
static void
fleet_epoch_add(const char *key, const struct objinfo *info, void *arg)
{
	struct fleet_epochs	*ep = arg;
	const char		*base = strrchr(key, '/');
	long long		 e;
	char			 num[11];
	int			 ids;

	if (base == NULL || strlen(++base) < 14 || base[10] != '.')
		return;
	if (strcmp(base + 11, "json") == 0)
		ids = 0;
	else if (strcmp(base + 11, "ids") == 0)
		ids = 1;
	else
		return;
	memcpy(num, base, 10);
	num[10] = '\0';
	if (config_parse_num(num, 1, 9999999999LL, &e) == -1)
		return;
	/* listed in key order: "<e>.ids" comes right before "<e>.json" */
	if (ep->n > 0 && ep->e[ep->n - 1] == e) {
		ep->ids[ep->n - 1] |= ids;
		return;
	}
	if (ep->n == ep->cap)
		return;
	ep->e[ep->n] = e;
	ep->ids[ep->n++] = ids;
}

/* fleet_claims_list - see fleet.h */
enum objstore_status
fleet_claims_list(struct fleet *f, const char *node, struct fleet_claim **out, size_t *n)
{
	struct fleet_epochs	 ep = { NULL, NULL, 0, FLEET_CLAIMS_MAX };
	struct fleet_claim	*v = NULL;
	char			 prefix[OBJKEY_MAX];
	enum objstore_status	 st;
	size_t			 i, cnt = 0;

	*out = NULL;
	*n = 0;
	if (!fleet_node_ok(node) || fleet_key(f, prefix, sizeof(prefix), "claims/%s/", node)) {
		fleet_seterr(f, "fleet claims: invalid node id");
		return OBJ_PERMFAIL;
	}
	ep.e = calloc(ep.cap, sizeof(*ep.e));
	ep.ids = calloc(ep.cap, sizeof(*ep.ids));
	v = calloc(ep.cap, sizeof(*v));
	if (ep.e == NULL || ep.ids == NULL || v == NULL) {
		fleet_seterr(f, "fleet claims: out of memory");
		st = OBJ_TEMPFAIL;
		goto out;
	}
	if ((st = fleet_list(f, prefix, fleet_epoch_add, &ep)) != OBJ_OK)
		goto out;
	for (i = 0; i < ep.n; i++) {
		st = fleet_claim_get(f, node, ep.e[i], &v[cnt]);
		if (st == OBJ_NOTFOUND)
			continue;	/* a manifest alone: not a claim */
		if (st != OBJ_OK)
			goto out;
		cnt++;
	}
	st = OBJ_OK;
out:
	free(ep.e);
	free(ep.ids);
	if (st != OBJ_OK) {
		free(v);
		return st;
	}
	*out = v;
	*n = cnt;
	return OBJ_OK;
}

/* fleet_claim_next_epoch - see fleet.h */
enum objstore_status
fleet_claim_next_epoch(struct fleet *f, const char *node, int64_t *epoch)
{
	struct fleet_claim	*v;
	size_t			 n;
	enum objstore_status	 st;

	*epoch = 1;
	if ((st = fleet_claims_list(f, node, &v, &n)) != OBJ_OK)
		return st;
	if (n > 0)
		*epoch = v[n - 1].epoch + 1;
	free(v);
	return OBJ_OK;
}

/* fleet_claim_create - see fleet.h */
enum objstore_status
fleet_claim_create(struct fleet *f, const char *node, int64_t epoch, struct fleet_claim *got)
{
	char			 key[OBJKEY_MAX];
	struct fleet_claim	 c;
	enum objstore_status	 st;
	json_t			*j;
	char			*s;

	if (fleet_claim_key(f, key, sizeof(key), node, epoch, "json") == -1)
		return OBJ_PERMFAIL;
	if (strcmp(node, f->node) == 0) {
		fleet_seterr(f, "fleet claim: node %s cannot adopt itself", node);
		return OBJ_PERMFAIL;
	}
	j = json_pack("{s:s, s:I, s:I, s:s}", "adopter", f->node, "at_ms", (json_int_t)now_ms(),
	    "epoch", (json_int_t)epoch, "node", node);
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (s == NULL) {
		fleet_seterr(f, "fleet claim: out of memory");
		return OBJ_TEMPFAIL;
	}
	fleet_begin(f);
	st = objstore_create_buf(f->os, key, s, strlen(s), NULL);
	free(s);
	if (st != OBJ_OK && st != OBJ_EXISTS)
		return fleet_fail(f, st, "claim create", key);
	/* read back: who holds it (a retry of our own create also answers "exists") */
	if ((st = fleet_claim_get(f, node, epoch, &c)) != OBJ_OK)
		return st;
	if (got != NULL)
		*got = c;
	if (strcmp(c.adopter, f->node) == 0)
		return OBJ_OK;
	fleet_seterr(f, "fleet claim %s: held by node %s", key, c.adopter);
	return OBJ_EXISTS;
}

/* fleet_manifest_put - see fleet.h */
enum objstore_status
fleet_manifest_put(struct fleet *f, const char *node, int64_t epoch,
    const char (*ids)[MSGID_MAX], size_t n)
{
	char			key[OBJKEY_MAX];
	struct buf		b;

	if (fleet_claim_key(f, key, sizeof(key), node, epoch, "ids") == -1)
		return OBJ_PERMFAIL;
	buf_init(&b, FLEET_OBJECT_MAX);
	for (size_t i = 0; i < n; i++)
		if (buf_printf(&b, "%s\n", ids[i]) == -1) {
			buf_free(&b);
			fleet_seterr(f, "fleet manifest %s: too large", key);
			return OBJ_PERMFAIL;
		}
	return fleet_put(f, key, &b, "manifest put");
}

/* fleet_manifest_read - see fleet.h */
enum objstore_status
fleet_manifest_read(struct fleet *f, const char *node, int64_t epoch,
    int (*fn)(const char *, void *), void *arg)
{
	char			 key[OBJKEY_MAX], id[MSGID_MAX];
	struct buf		 b;
	const char		*p, *end, *nl;
	enum objstore_status	 st;

	if (fleet_claim_key(f, key, sizeof(key), node, epoch, "ids") == -1)
		return OBJ_PERMFAIL;
	if ((st = fleet_get(f, key, &b, FLEET_OBJECT_MAX)) != OBJ_OK)
		return st;
	for (p = b.data, end = b.data + b.len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (nl == p || (size_t)(nl - p) >= sizeof(id))
			continue;
		memcpy(id, p, nl - p);
		id[nl - p] = '\0';
		if (fn(id, arg) != 0)
			break;
	}
	buf_free(&b);
	return OBJ_OK;
}

/* fleet_probe_conditional - see fleet.h */
enum objstore_status
fleet_probe_conditional(struct fleet *f)
{
	char			key[OBJKEY_MAX];
	enum objstore_status	st, st2;
	unsigned		r = (unsigned)getpid() ^ (unsigned)now_ms();

	if (fleet_key(f, key, sizeof(key), "probe/%s-%08x", f->node, r) == -1)
		return OBJ_PERMFAIL;
	fleet_begin(f);
	if ((st = objstore_create_buf(f->os, key, "1", 1, NULL)) != OBJ_OK)
		return fleet_fail(f, st == OBJ_EXISTS ? OBJ_TEMPFAIL : st, "probe create", key);
	fleet_begin(f);
	st2 = objstore_create_buf(f->os, key, "2", 1, NULL);
	if (st2 == OBJ_OK || st2 == OBJ_EXISTS) {
		fleet_begin(f);
		(void)objstore_delete(f->os, key);
	}
	if (st2 == OBJ_EXISTS)
		return OBJ_OK;
	if (st2 == OBJ_OK) {
		fleet_seterr(f, "the object store %s ignores If-None-Match "
		    "(a conditional create of %s was accepted twice): claims would not fence "
		    "adopters, use a store that supports conditional writes (Ceph RGW, AWS S3)",
		    objstore_describe(f->os), key);
		return OBJ_PERMFAIL;
	}
	return fleet_fail(f, st2, "probe create", key);
}
