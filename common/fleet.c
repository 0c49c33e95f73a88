/*
 * fleet.c - the fleet's bucket layer: configuration, keys, heartbeats and
 * the fleet view (fleet_nodes); see fleet.h and docs/storage.md "The fleet".
 *
 * Entry points: fleet_conf_read, fleet_init, fleet_hb_encode/decode/put/get/
 * list, fleet_nodes; and for fleet_ledger.c / fleet_claim.c / fleet_agent.c
 * the helpers of fleet_impl.h.  Every bucket call is armed with the call
 * deadline first (fleet_begin), so none waits longer than [fleet]
 * call_deadline.  Heartbeats are JSON through jansson; a reader skips what it
 * cannot parse (another version's field it does not know is ignored).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "fleet.h"
#include "fleet_impl.h"
#include "msgid.h"
#include "store.h"

static const char *const fleet_roles[FLEET_NROLES] = { "ingest", "serve", "drain" };

/* fleet_conf_read - see fleet.h */
void
fleet_conf_read(const struct config *cf, struct fleet_conf *c)
{
	c->enabled = config_bool(cf, "fleet", "enabled", 1);
	c->ledger = config_bool(cf, "fleet", "ledger", 1);
	c->heartbeat_ms = config_duration(cf, "fleet", "heartbeat_interval",
	    FLEET_HEARTBEAT_DEFAULT, 5, 3600) * 1000;
	c->stale_ms = config_duration(cf, "fleet", "stale_after", FLEET_STALE_DEFAULT, 10,
	    7 * 86400LL) * 1000;
	c->ledger_ms = config_duration(cf, "fleet", "ledger_interval", FLEET_LEDGER_INT_DEFAULT,
	    1, 3600) * 1000;
	c->ledger_batch = (int)config_num(cf, "fleet", "ledger_batch",
	    FLEET_LEDGER_BATCH_DEFAULT, 1, FLEET_LEDGER_BATCH_MAX);
	c->call_ms = config_duration(cf, "fleet", "call_deadline", FLEET_CALL_DEFAULT, 1,
	    300) * 1000;
}

/* fleet_init - see fleet.h */
int
fleet_init(struct fleet *f, const struct config *cf, struct objstore *os, char *err,
    size_t errlen)
{
	int n;

	memset(f, 0, sizeof(*f));
	f->os = os;
	fleet_conf_read(cf, &f->conf);
	snprintf(f->node, sizeof(f->node), "%s", config_node(cf));
	n = snprintf(f->base, sizeof(f->base), "%s/%s", store_conf_prefix(cf), FLEET_DIR);
	if (n < 0 || (size_t)n >= sizeof(f->base)) {
		snprintf(err, errlen, "[storage] prefix too long for the fleet's keys");
		return -1;
	}
	return 0;
}

/* fleet_error - see fleet.h */
const char *
fleet_error(const struct fleet *f)
{
	return f->err;
}

/* fleet_role_name - see fleet.h */
const char *
fleet_role_name(enum fleet_role r)
{
	return r >= 0 && r < FLEET_NROLES ? fleet_roles[r] : "unknown";
}

/* fleet_role_parse - see fleet.h */
int
fleet_role_parse(const char *s)
{
	for (int i = 0; s != NULL && i < FLEET_NROLES; i++)
		if (strcmp(s, fleet_roles[i]) == 0)
			return i;
	return -1;
}

/* fleet_node_ok - see fleet_impl.h */
int
fleet_node_ok(const char *node)
{
	return node != NULL && msgid_node_valid(node);
}

/* fleet_key - see fleet_impl.h */
int
fleet_key(struct fleet *f, char *out, size_t outlen, const char *fmt, ...)
{
	va_list	ap;
	int	n, m;

	n = snprintf(out, outlen, "%s/", f->base);
	if (n < 0 || (size_t)n >= outlen)
		goto toolong;
	va_start(ap, fmt);
	m = vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
	if (m >= 0 && (size_t)m < outlen - n)
		return 0;
toolong:
	fleet_seterr(f, "fleet: key too long under %s", f->base);
	return -1;
}

/* fleet_seterr - see fleet_impl.h */
void
fleet_seterr(struct fleet *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

/* fleet_begin - see fleet_impl.h */
void
fleet_begin(struct fleet *f)
{
	objstore_set_deadline(f->os, f->conf.call_ms);
}

/* fleet_fail - see fleet_impl.h */
enum objstore_status
fleet_fail(struct fleet *f, enum objstore_status st, const char *what, const char *key)
{
	fleet_seterr(f, "fleet %s %s: %s", what, key, objstore_error(f->os));
	return st;
}

/* fleet_put - see fleet_impl.h */
enum objstore_status
fleet_put(struct fleet *f, const char *key, struct buf *b, const char *what)
{
	enum objstore_status st;

	fleet_begin(f);
	st = objstore_put_buf(f->os, key, b->data, b->len, NULL);
	buf_free(b);
	return st == OBJ_OK ? OBJ_OK : fleet_fail(f, st, what, key);
}

/* fleet_get - see fleet_impl.h; read through a memfd, bounded by max */
enum objstore_status
fleet_get(struct fleet *f, const char *key, struct buf *out, size_t max)
{
	enum objstore_status	 st;
	struct stat		 sb;
	char			 chunk[8192];
	ssize_t			 r;
	int			 fd;

	buf_init(out, max);
	if ((fd = memfd_create("fleet", MFD_CLOEXEC)) == -1) {
		fleet_seterr(f, "fleet read %s: memfd: %s", key, strerror(errno));
		return OBJ_TEMPFAIL;
	}
	fleet_begin(f);
	if ((st = objstore_get_fd(f->os, key, fd, NULL, NULL)) != OBJ_OK) {
		close(fd);
		return fleet_fail(f, st, "read", key);
	}
	if (fstat(fd, &sb) == -1 || (size_t)sb.st_size > max) {
		close(fd);
		fleet_seterr(f, "fleet read %s: larger than %zu bytes", key, max);
		return OBJ_PERMFAIL;
	}
	while ((r = pread(fd, chunk, sizeof(chunk), (off_t)out->len)) > 0)
		if (buf_add(out, chunk, (size_t)r) == -1)
			break;
	close(fd);
	if (r != 0) {
		buf_free(out);
		fleet_seterr(f, "fleet read %s: reading back failed", key);
		return OBJ_TEMPFAIL;
	}
	return OBJ_OK;
}

/* fleet_list - see fleet_impl.h */
enum objstore_status
fleet_list(struct fleet *f, const char *prefix, void (*fn)(const char *,
    const struct objinfo *, void *), void *arg)
{
	char			token[OBJSTORE_TOKEN_MAX] = "", next[OBJSTORE_TOKEN_MAX];
	enum objstore_status	st;

	do {
		fleet_begin(f);
		if ((st = objstore_list(f->os, prefix, token, 1000, fn, arg, next,
		    sizeof(next))) != OBJ_OK)
			return fleet_fail(f, st, "list", prefix);
		memcpy(token, next, sizeof(token));
	} while (*token != '\0');
	return OBJ_OK;
}

/* fleet_hb_encode - see fleet.h */
char *
fleet_hb_encode(const struct fleet_hb *hb)
{
	json_t	*o;
	char	*s;

	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:b}",
	    "node", hb->node, "role", hb->role, "version", hb->version, "host", hb->host,
	    "pid", (json_int_t)hb->pid, "updated_ms", (json_int_t)hb->updated_ms,
	    "backlog", (json_int_t)hb->backlog, "oldest_ms", (json_int_t)hb->oldest_ms,
	    "last_delivery_ms", (json_int_t)hb->last_delivery_ms, "replay", hb->replay,
	    "epoch", (json_int_t)hb->epoch, "exiting", hb->exiting);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* fleet_json_str - o[name] as a string into out, "" if absent; -1 if not a string or long */
static int
fleet_json_str(json_t *o, const char *name, char *out, size_t outlen)
{
	json_t *v = json_object_get(o, name);

	*out = '\0';
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= outlen)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* fleet_json_int - o[name] as an integer, 0 if absent; -1 if not an integer */
static int
fleet_json_int(json_t *o, const char *name, int64_t *v)
{
	json_t *j = json_object_get(o, name);

	*v = 0;
	if (j == NULL)
		return 0;
	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

/* fleet_hb_decode - see fleet.h */
int
fleet_hb_decode(const char *json, size_t len, struct fleet_hb *hb, char *why, size_t whylen)
{
	json_error_t	 je;
	json_t		*o, *ex;
	int		 bad = 0;

	memset(hb, 0, sizeof(*hb));
	if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(why, whylen, "not JSON: %s", je.text);
		return -1;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	bad |= fleet_json_str(o, "node", hb->node, sizeof(hb->node));
	bad |= fleet_json_str(o, "role", hb->role, sizeof(hb->role));
	bad |= fleet_json_str(o, "version", hb->version, sizeof(hb->version));
	bad |= fleet_json_str(o, "host", hb->host, sizeof(hb->host));
	bad |= fleet_json_str(o, "replay", hb->replay, sizeof(hb->replay));
	bad |= fleet_json_int(o, "pid", &hb->pid);
	bad |= fleet_json_int(o, "updated_ms", &hb->updated_ms);
	bad |= fleet_json_int(o, "backlog", &hb->backlog);
	bad |= fleet_json_int(o, "oldest_ms", &hb->oldest_ms);
	bad |= fleet_json_int(o, "last_delivery_ms", &hb->last_delivery_ms);
	bad |= fleet_json_int(o, "epoch", &hb->epoch);
	ex = json_object_get(o, "exiting");
	hb->exiting = json_is_true(ex);
	json_decref(o);
	if (bad || !fleet_node_ok(hb->node) || fleet_role_parse(hb->role) < 0) {
		snprintf(why, whylen, "a field has the wrong type, or node/role is invalid");
		return -1;
	}
	return 0;
}

/* fleet_hb_put - see fleet.h */
enum objstore_status
fleet_hb_put(struct fleet *f, const struct fleet_hb *hb)
{
	char			 key[OBJKEY_MAX];
	char			*s;
	struct buf		 b;

	if (strcmp(hb->node, f->node) != 0 || fleet_role_parse(hb->role) < 0) {
		fleet_seterr(f, "fleet heartbeat: node %s role %s is not ours",
		    hb->node, hb->role);
		return OBJ_PERMFAIL;
	}
	if (fleet_key(f, key, sizeof(key), "hb/%s/%s.json", hb->node, hb->role) == -1)
		return OBJ_PERMFAIL;
	if ((s = fleet_hb_encode(hb)) == NULL) {
		fleet_seterr(f, "fleet heartbeat: out of memory");
		return OBJ_TEMPFAIL;
	}
	buf_init(&b, FLEET_SMALL_MAX);
	if (buf_addstr(&b, s) == -1) {
		free(s);
		buf_free(&b);
		fleet_seterr(f, "fleet heartbeat: larger than %d bytes", FLEET_SMALL_MAX);
		return OBJ_PERMFAIL;
	}
	free(s);
	return fleet_put(f, key, &b, "heartbeat put");
}

/* fleet_hb_get - see fleet.h */
enum objstore_status
fleet_hb_get(struct fleet *f, const char *node, const char *role, struct fleet_hb *hb)
{
	char			key[OBJKEY_MAX], why[ERRSTR_MAX];
	struct buf		b;
	enum objstore_status	st;

	if (!fleet_node_ok(node) || fleet_role_parse(role) < 0) {
		fleet_seterr(f, "fleet heartbeat: bad node or role");
		return OBJ_PERMFAIL;
	}
	if (fleet_key(f, key, sizeof(key), "hb/%s/%s.json", node, role) == -1)
		return OBJ_PERMFAIL;
	if ((st = fleet_get(f, key, &b, FLEET_SMALL_MAX)) != OBJ_OK)
		return st;
	if (fleet_hb_decode(b.data, b.len, hb, why, sizeof(why)) == -1) {
		buf_free(&b);
		fleet_seterr(f, "fleet heartbeat %s: %s", key, why);
		return OBJ_PERMFAIL;
	}
	buf_free(&b);
	return OBJ_OK;
}

/* the keys of one listing, copied out of the callback */
struct fleet_keys {
	char	(*k)[OBJKEY_MAX];
	size_t	  n, cap;
	size_t	  over;		/* keys beyond cap, not kept */
};

/* fleet_keys_add - objstore_list callback: keep the key */
static void
fleet_keys_add(const char *key, const struct objinfo *info, void *arg)
{
	struct fleet_keys *ks = arg;

	if (ks->n == ks->cap) {
		ks->over++;
		return;
	}
	snprintf(ks->k[ks->n++], OBJKEY_MAX, "%s", key);
}

/* fleet_keys_list - the keys under prefix, at most cap (the rest counted in over) */
static enum objstore_status
fleet_keys_list(struct fleet *f, const char *prefix, struct fleet_keys *ks, size_t cap)
{
	enum objstore_status st;

	memset(ks, 0, sizeof(*ks));
	if ((ks->k = calloc(cap, OBJKEY_MAX)) == NULL) {
		fleet_seterr(f, "fleet list: out of memory");
		return OBJ_TEMPFAIL;
	}
	ks->cap = cap;
	if ((st = fleet_list(f, prefix, fleet_keys_add, ks)) != OBJ_OK) {
		free(ks->k);
		ks->k = NULL;
	}
	return st;
}

/* fleet_hb_list - see fleet.h */
enum objstore_status
fleet_hb_list(struct fleet *f, struct fleet_hb **out, size_t *n, size_t *bad)
{
	struct fleet_keys	 ks;
	struct fleet_hb		*hbs;
	struct buf		 b;
	char			 prefix[OBJKEY_MAX], why[ERRSTR_MAX];
	enum objstore_status	 st;
	size_t			 i, cnt = 0, nbad = 0;

	*out = NULL;
	*n = 0;
	if (fleet_key(f, prefix, sizeof(prefix), "hb/") == -1)
		return OBJ_PERMFAIL;
	if ((st = fleet_keys_list(f, prefix, &ks, FLEET_NODES_MAX * FLEET_NROLES)) != OBJ_OK)
		return st;
	if ((hbs = calloc(ks.n + 1, sizeof(*hbs))) == NULL) {
		free(ks.k);
		fleet_seterr(f, "fleet heartbeats: out of memory");
		return OBJ_TEMPFAIL;
	}
	for (i = 0; i < ks.n; i++) {
		st = fleet_get(f, ks.k[i], &b, FLEET_SMALL_MAX);
		if (st == OBJ_NOTFOUND)
			continue;	/* removed since the listing */
		if (st == OBJ_TEMPFAIL) {
			free(hbs);
			free(ks.k);
			return st;
		}
		if (st != OBJ_OK || fleet_hb_decode(b.data, b.len, &hbs[cnt], why,
		    sizeof(why)) == -1)
			nbad++;
		else
			cnt++;
		if (st == OBJ_OK)
			buf_free(&b);
	}
	free(ks.k);
	if (bad != NULL)
		*bad = nbad + ks.over;
	*out = hbs;
	*n = cnt;
	return OBJ_OK;
}

/* fleet_node_at - the entry of node in v[0..*n), added (zeroed) if absent; NULL if full */
static struct fleet_node *
fleet_node_at(struct fleet_node *v, size_t *n, size_t cap, const char *node)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].node, node) == 0)
			return &v[i];
	if (*n == cap)
		return NULL;
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].node, sizeof(v[*n].node), "%s", node);
	snprintf(v[*n].replay, sizeof(v[*n].replay), "none");
	return &v[(*n)++];
}

/* fleet_node_hb - fold one heartbeat into its node's entry */
static void
fleet_node_hb(struct fleet_node *nd, const struct fleet_hb *hb)
{
	int role = fleet_role_parse(hb->role);

	if (hb->updated_ms >= nd->seen_ms) {
		nd->seen_ms = hb->updated_ms;
		nd->backlog = hb->backlog;
		nd->oldest_ms = hb->oldest_ms;
	}
	if (hb->last_delivery_ms > nd->last_delivery_ms)
		nd->last_delivery_ms = hb->last_delivery_ms;
	if (hb->epoch > nd->epoch)
		nd->epoch = hb->epoch;
	if (!hb->exiting) {
		nd->running++;
		if (*nd->roles)
			strncat(nd->roles, ",", sizeof(nd->roles) - strlen(nd->roles) - 1);
		strncat(nd->roles, hb->role, sizeof(nd->roles) - strlen(nd->roles) - 1);
	}
	/* serve's word wins over drain's; drain's over ingest's "none" */
	if (role == FLEET_ROLE_SERVE || (role == FLEET_ROLE_DRAIN &&
	    strcmp(nd->replay, "none") == 0))
		snprintf(nd->replay, sizeof(nd->replay), "%s", hb->exiting ? "stopped" :
		    hb->replay);
}

/* fleet_node_cmp - qsort by node id */
static int
fleet_node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fleet_node *)a)->node, ((const struct fleet_node *)b)->node);
}

/* fleet_node_claims - the highest claim on nd's node (and its manifest flag) */
static enum objstore_status
fleet_node_claims(struct fleet *f, struct fleet_node *nd)
{
	struct fleet_claim	*c;
	size_t			 nc;
	enum objstore_status	 st;

	if ((st = fleet_claims_list(f, nd->node, &c, &nc)) != OBJ_OK)
		return st;
	if (nc > 0) {
		nd->claim_epoch = c[nc - 1].epoch;
		snprintf(nd->claim_adopter, sizeof(nd->claim_adopter), "%s", c[nc - 1].adopter);
		nd->claim_manifest = c[nc - 1].manifest;
	}
	free(c);
	return OBJ_OK;
}

/* fleet_claim_nodes - objstore_list callback: the node of claims/<node>/... */
static void
fleet_claim_nodes(const char *key, const struct objinfo *info, void *arg)
{
	struct fleet_keys *ks = arg;
	const char *p = strstr(key, "/claims/"), *e;

	if (p == NULL || (e = strchr(p + 8, '/')) == NULL || e - (p + 8) >= MSGID_NODE_MAX + 1)
		return;
	if (ks->n > 0 && strncmp(ks->k[ks->n - 1], p + 8, e - (p + 8)) == 0 &&
	    ks->k[ks->n - 1][e - (p + 8)] == '\0')
		return;
	if (ks->n == ks->cap) {
		ks->over++;
		return;
	}
	snprintf(ks->k[ks->n++], OBJKEY_MAX, "%.*s", (int)(e - (p + 8)), p + 8);
}

/* fleet_nodes - see fleet.h */
enum objstore_status
fleet_nodes(struct fleet *f, int64_t now_ms, struct fleet_node **out, size_t *n)
{
	struct fleet_hb		*hbs;
	struct fleet_node	*v, *nd;
	struct fleet_keys	 cn;
	char			 prefix[OBJKEY_MAX];
	size_t			 nhb, i, cnt = 0;
	enum objstore_status	 st;

	*out = NULL;
	*n = 0;
	if ((st = fleet_hb_list(f, &hbs, &nhb, NULL)) != OBJ_OK)
		return st;
	memset(&cn, 0, sizeof(cn));
	if ((v = calloc(FLEET_NODES_MAX, sizeof(*v))) == NULL ||
	    (cn.k = calloc(FLEET_NODES_MAX, OBJKEY_MAX)) == NULL) {
		free(v);
		free(hbs);
		fleet_seterr(f, "fleet view: out of memory");
		return OBJ_TEMPFAIL;
	}
	cn.cap = FLEET_NODES_MAX;
	for (i = 0; i < nhb; i++)
		if ((nd = fleet_node_at(v, &cnt, FLEET_NODES_MAX, hbs[i].node)) != NULL)
			fleet_node_hb(nd, &hbs[i]);
	free(hbs);
	/* nodes with claims but no heartbeat left are part of the picture too */
	if (fleet_key(f, prefix, sizeof(prefix), "claims/") == -1 ||
	    (st = fleet_list(f, prefix, fleet_claim_nodes, &cn)) != OBJ_OK)
		goto fail;
	for (i = 0; i < cn.n; i++)
		(void)fleet_node_at(v, &cnt, FLEET_NODES_MAX, cn.k[i]);
	for (i = 0; i < cnt; i++) {
		nd = &v[i];
		nd->stale = now_ms - nd->seen_ms > f->conf.stale_ms;
		if ((st = fleet_node_claims(f, nd)) != OBJ_OK)
			goto fail;
		nd->problem = nd->stale && nd->backlog > 0 && nd->claim_epoch <= nd->epoch;
	}
	free(cn.k);
	qsort(v, cnt, sizeof(*v), fleet_node_cmp);
	*out = v;
	*n = cnt;
	return OBJ_OK;
fail:
	free(cn.k);
	free(v);
	return st == OBJ_OK ? OBJ_PERMFAIL : st;
}
