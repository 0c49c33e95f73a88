/*
 * adopt.c - `mxspool-replay adopt NODE [--dry-run] [--force] [--yes]`: take
 * over the backlog of a lost gateway of the fleet (docs/storage.md, "The
 * fleet"; docs/replay.md, "adopt").
 *
 * Entry point: cli_adopt().  Steps: read NODE's heartbeats and claims
 * (fleet.h); refuse while NODE is alive (a fresh heartbeat of a running
 * process) unless --force; list NODE's message objects and the manifests of
 * claims NODE itself made (a chain of adoptions loses nothing), less the ids
 * earlier claims on NODE took; drop every recipient some ledger of the fleet
 * holds as finished; print what that leaves (messages, recipients, oldest);
 * then claim (conditional create: of two adopters one wins, the other exits
 * 75 naming the winner), write the manifest, and import the messages with
 * their pending recipients through reindex's add path (store_import).
 * Idempotent for its adopter: re-run after a crash, it finds its own claim
 * (the highest on NODE) and completes it; imported rows are left as they are.
 * --dry-run reads and prints only.  A terminal is asked once (unless --yes);
 * without one adopt never asks.
 * Exit codes (cli.h): 0 done, 64 usage, 66 no such node, 69 storage
 * unreachable or a store that ignores conditional writes (no fencing), 73
 * cannot create the index, 75 NODE alive, claimed by another adopter, or a
 * temporary failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_fmt.h"
#include "config.h"
#include "fleet.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "store.h"

/* a finished recipient of a message adopt may take (from the fleet's ledgers) */
struct adopt_done {
	char	id[MSGID_MAX];
	char	rcpt[FLEET_RCPT_MAX];
};

/* a growable list of ids, kept sorted for lookups once filled */
struct adopt_ids {
	char	(*v)[MSGID_MAX];
	size_t	  n, cap;
};

struct adopt {
	struct cli		*c;
	struct fleet		 f;
	const char		*node;		/* the node adopted */
	const char		*prefix;	/* [storage] prefix */
	char			**keys;		/* candidate .eml keys */
	size_t			 nkeys, capkeys;
	struct adopt_ids	 cand;		/* their ids, sorted */
	struct adopt_ids	 taken;		/* ids earlier claims on node took, sorted */
	struct adopt_done	*done;
	size_t			 ndone, capdone;
	char			**take;		/* pass 1: keys with recipients pending */
	size_t			 ntake, captake;
	int64_t			 rcpts, oldest_ms, bytes;
	int			 oom;
};

static int
adopt_idcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
adopt_donecmp(const void *a, const void *b)
{
	const struct adopt_done	*x = a, *y = b;
	int			 r = strcmp(x->id, y->id);

	return r != 0 ? r : strcmp(x->rcpt, y->rcpt);
}

/* adopt_grow - room for one more element of size sz in *v (n used, *cap); -1 no memory */
static int
adopt_grow(void *vp, size_t n, size_t *cap, size_t sz)
{
	void	**v = vp, *p;
	size_t	  nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 256;
	if ((p = reallocarray(*v, nc, sz)) == NULL)
		return -1;
	*v = p;
	*cap = nc;
	return 0;
}

/* adopt_ids_add - append id; -1 no memory */
static int
adopt_ids_add(struct adopt_ids *l, const char *id)
{
	if (adopt_grow(&l->v, l->n, &l->cap, MSGID_MAX) == -1)
		return -1;
	snprintf(l->v[l->n++], MSGID_MAX, "%s", id);
	return 0;
}

/* adopt_ids_sort - for adopt_ids_has (an empty list has no array: qsort wants one) */
static void
adopt_ids_sort(struct adopt_ids *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, MSGID_MAX, adopt_idcmp);
}

static int
adopt_ids_has(const struct adopt_ids *l, const char *id)
{
	return l->n > 0 && bsearch(id, l->v, l->n, MSGID_MAX, adopt_idcmp) != NULL;
}

/* adopt_key_add - append a strdup of key to *v; -1 no memory */
static int
adopt_key_add(char ***v, size_t *n, size_t *cap, const char *key)
{
	char *k;

	if (adopt_grow(v, *n, cap, sizeof(char *)) == -1 || (k = strdup(key)) == NULL)
		return -1;
	(*v)[(*n)++] = k;
	return 0;
}

/* adopt_taken_cb - fleet_manifest_read: an id an earlier claim took */
static int
adopt_taken_cb(const char *id, void *arg)
{
	struct adopt *a = arg;

	if (adopt_ids_add(&a->taken, id) == -1) {
		a->oom = 1;
		return 1;
	}
	return 0;
}

/*
 * adopt_manifest_id - an id read from a manifest, as the key of its object
 * appended to *v; 0 (a line that is no id is skipped), 1 stop (no memory)
 */
static int
adopt_manifest_id(struct adopt *a, const char *id, char ***v, size_t *n, size_t *cap)
{
	char key[OBJKEY_MAX];

	if (!msgid_valid(id) || msgid_key(a->prefix, id, ".eml", key, sizeof(key)) == -1)
		return 0;
	if (adopt_key_add(v, n, cap, key) == -1) {
		a->oom = 1;
		return 1;
	}
	return 0;
}

/* adopt_chain_cb - fleet_manifest_read: an id node took by an adoption of its own */
static int
adopt_chain_cb(const char *id, void *arg)
{
	struct adopt *a = arg;

	return adopt_manifest_id(a, id, &a->keys, &a->nkeys, &a->capkeys);
}

/*
 * adopt_chain - the manifests of claims node made on other nodes: what it
 * adopted is its backlog too, stored under the other nodes' prefixes
 */
static enum objstore_status
adopt_chain(struct adopt *a, const struct fleet_node *nodes, size_t nn)
{
	struct fleet_claim	*cl = NULL;
	enum objstore_status	 s;
	size_t			 i, k, ncl;

	for (i = 0; i < nn; i++) {
		if (strcmp(nodes[i].node, a->node) == 0 || nodes[i].claim_epoch == 0)
			continue;
		if ((s = fleet_claims_list(&a->f, nodes[i].node, &cl, &ncl)) != OBJ_OK)
			return s;
		for (k = 0; k < ncl && s == OBJ_OK; k++)
			if (cl[k].manifest && strcmp(cl[k].adopter, a->node) == 0)
				s = fleet_manifest_read(&a->f, nodes[i].node, cl[k].epoch,
				    adopt_chain_cb, a);
		free(cl);
		if (s != OBJ_OK && s != OBJ_NOTFOUND)
			return s;
	}
	return OBJ_OK;
}

/*
 * adopt_candidates - node's objects and chain, less the ids of the manifests
 * of node's claims below epoch (taken by earlier adoptions).  The store's
 * status; *why set on failure.
 */
static int
adopt_candidates(struct adopt *a, const struct fleet_claim *cl, size_t ncl, int64_t epoch,
    const struct fleet_node *nodes, size_t nn)
{
	enum objstore_status	 s = OBJ_OK;
	char			 id[MSGID_MAX];
	size_t			 i, n;

	for (i = 0; i < ncl && s == OBJ_OK; i++)
		if (cl[i].epoch < epoch && cl[i].manifest &&
		    (s = fleet_manifest_read(&a->f, a->node, cl[i].epoch, adopt_taken_cb, a)) ==
		    OBJ_NOTFOUND)
			s = OBJ_OK;
	if (s != OBJ_OK || a->oom)
		return cli_err(a->c, CLI_UNAVAILABLE, "claims of %s: %s", a->node,
		    a->oom ? "out of memory" : fleet_error(&a->f));
	if (store_message_keys(a->c->store, a->node, &a->keys, &a->nkeys) != STORE_OK)
		return cli_err(a->c, CLI_UNAVAILABLE, "listing the objects of %s failed"
		    " (storage unreachable)", a->node);
	a->capkeys = a->nkeys;
	if ((s = adopt_chain(a, nodes, nn)) != OBJ_OK || a->oom)
		return cli_err(a->c, CLI_UNAVAILABLE, "manifests of %s's own adoptions: %s",
		    a->node, a->oom ? "out of memory" : fleet_error(&a->f));
	adopt_ids_sort(&a->taken);
	for (i = n = 0; i < a->nkeys; i++) {
		if (msgid_from_key(a->keys[i], ".eml", id, sizeof(id)) == -1 ||
		    adopt_ids_has(&a->taken, id)) {
			free(a->keys[i]);
			continue;
		}
		a->keys[n++] = a->keys[i];
		if (adopt_ids_add(&a->cand, id) == -1)
			return cli_err(a->c, CLI_TEMPFAIL, "out of memory");
	}
	a->nkeys = n;
	adopt_ids_sort(&a->cand);
	return 0;
}

/* adopt_ledger_cb - fleet_ledger_read_all: keep the outcomes of candidate ids */
static int
adopt_ledger_cb(const struct fleet_outcome *o, void *arg)
{
	struct adopt *a = arg;

	if (!adopt_ids_has(&a->cand, o->id))
		return 0;
	if (adopt_grow(&a->done, a->ndone, &a->capdone, sizeof(*a->done)) == -1) {
		a->oom = 1;
		return 1;
	}
	snprintf(a->done[a->ndone].id, sizeof(a->done->id), "%s", o->id);
	snprintf(a->done[a->ndone].rcpt, sizeof(a->done->rcpt), "%s", o->rcpt);
	a->ndone++;
	return 0;
}

/* adopt_ledgers - what every ledger of the fleet holds as finished for the candidates */
static int
adopt_ledgers(struct adopt *a)
{
	enum objstore_status	s;
	size_t			bad = 0;

	s = fleet_ledger_read_all(&a->f, adopt_ledger_cb, a, &bad);
	if (s != OBJ_OK || a->oom)
		return cli_err(a->c, CLI_UNAVAILABLE, "reading the fleet's ledgers: %s",
		    a->oom ? "out of memory" : fleet_error(&a->f));
	if (bad > 0)
		fprintf(stderr, "mxspool-replay: adopt: %zu ledger lines unreadable (ignored:"
		    " those recipients may be delivered once more)\n", bad);
	if (a->ndone > 1)
		qsort(a->done, a->ndone, sizeof(*a->done), adopt_donecmp);
	return 0;
}

/* adopt_keep - store_import filter: a recipient no ledger holds as finished */
static int
adopt_keep(const char *id, const char *rcpt, void *arg)
{
	struct adopt		*a = arg;
	struct adopt_done	 k;

	snprintf(k.id, sizeof(k.id), "%s", id);
	snprintf(k.rcpt, sizeof(k.rcpt), "%s", rcpt);
	return a->ndone == 0 || bsearch(&k, a->done, a->ndone, sizeof(k), adopt_donecmp) == NULL;
}

/* adopt_seen - store_import, pass 1: a message with recipients pending */
static void
adopt_seen(const char *key, const struct envelope *e, void *arg)
{
	struct adopt *a = arg;

	if (adopt_key_add(&a->take, &a->ntake, &a->captake, key) == -1) {
		a->oom = 1;
		return;
	}
	a->rcpts += (int64_t)e->nrcpts;
	a->bytes += e->size;
	if (a->oldest_ms == 0 || e->received_ms < a->oldest_ms)
		a->oldest_ms = e->received_ms;
}

/* adopt_report - store_import report: findings (incomplete objects) on stderr */
static void
adopt_report(const char *line, void *arg)
{
	if (strstr(line, " incomplete ") != NULL)
		fprintf(stderr, "mxspool-replay: adopt: %s (left to its node)\n", line);
}

/* adopt_summary - "N messages, R recipients, SIZE, oldest T (AGE ago)" */
static void
adopt_summary(const struct adopt *a, int64_t now)
{
	char t[32], age[CLI_FMT_MAX], size[CLI_FMT_MAX];

	printf("%zu message%s, %lld recipient%s, %s", a->ntake, a->ntake == 1 ? "" : "s",
	    (long long)a->rcpts, a->rcpts == 1 ? "" : "s", cli_fmt_size(a->bytes, size,
	    sizeof(size)));
	if (a->oldest_ms > 0) {
		cli_time(a->oldest_ms, t, sizeof(t));
		printf(", oldest %s UTC (%s ago)", t, cli_fmt_age(now - a->oldest_ms, age,
		    sizeof(age)));
	}
}

/* adopt_manifest - the manifest of claim epoch: the ids of the keys taken */
static int
adopt_manifest(struct adopt *a, int64_t epoch)
{
	char			(*ids)[MSGID_MAX];
	enum objstore_status	 s;

	if ((ids = calloc(a->ntake ? a->ntake : 1, MSGID_MAX)) == NULL)
		return cli_err(a->c, CLI_TEMPFAIL, "out of memory");
	for (size_t i = 0; i < a->ntake; i++)
		msgid_from_key(a->take[i], ".eml", ids[i], MSGID_MAX);
	s = fleet_manifest_put(&a->f, a->node, epoch, (const char (*)[MSGID_MAX])ids, a->ntake);
	free(ids);
	if (s != OBJ_OK)
		return cli_err(a->c, CLI_UNAVAILABLE, "claim %lld on %s won, but its manifest"
		    " could not be written (%s): run adopt %s again to complete it",
		    (long long)epoch, a->node, fleet_error(&a->f), a->node);
	return 0;
}

/* adopt_import - the messages taken into this index, pending recipients only */
static int
adopt_import(struct adopt *a, int64_t epoch)
{
	struct store_import	imp = { adopt_keep, NULL, a };
	struct reindex_result	r;

	if (store_import(a->c->store, a->take, a->ntake, 1, &imp, adopt_report, a, &r) !=
	    STORE_OK)
		return cli_err(a->c, CLI_TEMPFAIL, "import stopped (storage or index failed):"
		    " run adopt %s again to complete claim %lld", a->node, (long long)epoch);
	log_info("- adopt node=%s epoch=%lld imported=%lld present=%lld finished=%lld"
	    " incomplete=%lld", a->node, (long long)epoch, (long long)r.added,
	    (long long)r.ok, (long long)r.finished, (long long)r.incomplete);
	printf("adopt: %s: claim %lld is ours; imported %lld message%s (%lld already in this"
	    " index)\n", a->node, (long long)epoch, (long long)r.added, r.added == 1 ? "" : "s",
	    (long long)r.ok);
	if (r.incomplete > 0)
		printf("adopt: %lld object%s without a readable envelope left out (see above)\n",
		    (long long)r.incomplete, r.incomplete == 1 ? "" : "s");
	printf("adopt: `mxspool-replay drain` (or a running serve) delivers them\n");
	return CLI_OK;
}

/* adopt_resume_cb - fleet_manifest_read: an id of our own manifest, as a key to import */
static int
adopt_resume_cb(const char *id, void *arg)
{
	struct adopt *a = arg;

	if (adopt_manifest_id(a, id, &a->take, &a->ntake, &a->captake) != 0)
		return 1;
	if (msgid_valid(id) && adopt_ids_add(&a->cand, id) == -1) {
		a->oom = 1;
		return 1;
	}
	return 0;
}

/* adopt_resume - our claim has its manifest: import what it lists (again) */
static int
adopt_resume(struct adopt *a, int64_t epoch)
{
	enum objstore_status	s;
	int			rc;

	s = fleet_manifest_read(&a->f, a->node, epoch, adopt_resume_cb, a);
	if (s != OBJ_OK || a->oom)
		return cli_err(a->c, CLI_UNAVAILABLE, "manifest of claim %lld: %s",
		    (long long)epoch, a->oom ? "out of memory" : fleet_error(&a->f));
	adopt_ids_sort(&a->cand);
	if ((rc = adopt_ledgers(a)) != 0)
		return rc;
	printf("adopt: %s: claim %lld and its manifest (%zu messages) are ours already;"
	    " completing the import\n", a->node, (long long)epoch, a->ntake);
	if (a->c->dry_run)
		return CLI_OK;
	return adopt_import(a, epoch);
}

/* adopt_find - node's entry in the fleet view, or NULL */
static const struct fleet_node *
adopt_find(const struct fleet_node *nodes, size_t nn, const char *node)
{
	for (size_t i = 0; i < nn; i++)
		if (strcmp(nodes[i].node, node) == 0)
			return &nodes[i];
	return NULL;
}

/*
 * adopt_gate - may this adoption go on?  0 yes (*alive set when node runs
 * and --force or --dry-run let it pass), else an exit code (message printed)
 */
static int
adopt_gate(struct adopt *a, const struct fleet_node *me, const struct fleet_claim *h,
    const struct fleet_node *by, int64_t now, int *alive)
{
	char	t[32], age[CLI_FMT_MAX];

	*alive = me != NULL && !me->stale && me->running > 0;
	/*
	 * A claim without manifest: its adopter imported nothing yet (the manifest
	 * comes first).  Only once that adopter is lost too may --force take over
	 * with the next epoch (the node then honours the newer claim); while it
	 * lives, two adoptions would deliver twice.
	 */
	if (h != NULL && !h->manifest && (!a->c->force || (by != NULL && !by->stale)))
		return cli_err(a->c, CLI_TEMPFAIL, "%s is being adopted by %s (claim %lld has no"
		    " manifest yet); if %s died meanwhile, `mxspool-replay adopt %s` there"
		    " completes it, or once %s is stale --force here takes over", a->node,
		    h->adopter, (long long)h->epoch, h->adopter, a->node, h->adopter);
	if (h != NULL && !h->manifest)
		return 0;
	if (h != NULL && (me == NULL || h->at_ms >= me->seen_ms) && !a->c->force) {
		cli_time(h->at_ms, t, sizeof(t));
		return cli_err(a->c, CLI_TEMPFAIL, "%s was adopted by %s (claim %lld, %s UTC)"
		    " and has not been seen since: nothing new to adopt (--force takes what"
		    " that claim left)", a->node, h->adopter, (long long)h->epoch, t);
	}
	if (*alive && !a->c->force && !a->c->dry_run)
		return cli_err(a->c, CLI_TEMPFAIL, "%s is alive: heartbeat %s ago (%s); adopt"
		    " a node that is lost, or stop it first (--force adopts anyway; it stops"
		    " delivering what was adopted at its next heartbeat)", a->node,
		    cli_fmt_age(now - me->seen_ms, age, sizeof(age)), me->roles);
	return 0;
}

/*
 * adopt_claim - probe the store, then claim node at epoch: 0 won (or ours
 * already), else an exit code
 */
static int
adopt_claim(struct adopt *a, int64_t epoch)
{
	struct fleet_claim	got;
	enum objstore_status	s;

	memset(&got, 0, sizeof(got));
	if ((s = fleet_probe_conditional(&a->f)) == OBJ_PERMFAIL)
		return cli_err(a->c, CLI_UNAVAILABLE, "%s; refusing to claim (two adopters could"
		    " both win and deliver twice)", fleet_error(&a->f));
	if (s != OBJ_OK)
		return cli_err(a->c, CLI_UNAVAILABLE, "storage unreachable: %s",
		    fleet_error(&a->f));
	s = fleet_claim_create(&a->f, a->node, epoch, &got);
	if (s == OBJ_EXISTS)
		return cli_err(a->c, CLI_TEMPFAIL, "lost: %s adopted %s first (claim %lld);"
		    " nothing was taken here", *got.adopter ? got.adopter : "another node",
		    a->node, (long long)epoch);
	if (s != OBJ_OK)
		return cli_err(a->c, CLI_UNAVAILABLE, "claim %lld on %s: %s", (long long)epoch,
		    a->node, fleet_error(&a->f));
	return 0;
}

/* adopt_free - everything struct adopt holds */
static void
adopt_free(struct adopt *a)
{
	store_keys_free(a->keys, a->nkeys);
	store_keys_free(a->take, a->ntake);
	free(a->cand.v);
	free(a->taken.v);
	free(a->done);
}

/* adopt_run - see the file comment; the store is open */
static int
adopt_run(struct adopt *a, const struct fleet_node *nodes, size_t nn,
    const struct fleet_claim *cl, size_t ncl, int64_t now)
{
	const struct fleet_node		*me = adopt_find(nodes, nn, a->node);
	const struct fleet_claim	*h = ncl > 0 ? &cl[ncl - 1] : NULL;
	struct store_import		 imp = { adopt_keep, adopt_seen, a };
	struct reindex_result		 r;
	int64_t				 epoch;
	int				 mine, alive = 0, rc;
	char				 prompt[160];

	mine = h != NULL && strcmp(h->adopter, a->f.node) == 0;
	if (mine && h->manifest)
		return adopt_resume(a, h->epoch);
	if (!mine && (rc = adopt_gate(a, me, h, h != NULL ? adopt_find(nodes, nn, h->adopter) :
	    NULL, now, &alive)) != 0)
		return rc;
	epoch = mine ? h->epoch : h != NULL ? h->epoch + 1 : 1;
	if ((rc = adopt_candidates(a, cl, ncl, epoch, nodes, nn)) != 0)
		return rc;
	if (me == NULL && ncl == 0 && a->nkeys == 0)
		return cli_err(a->c, CLI_NOINPUT, "no node %s in the fleet (no heartbeat, claim"
		    " or message object under it)", a->node);
	if ((rc = adopt_ledgers(a)) != 0)
		return rc;
	if (store_import(a->c->store, a->keys, a->nkeys, 0, &imp, adopt_report, a, &r) !=
	    STORE_OK || a->oom)
		return cli_err(a->c, CLI_UNAVAILABLE, "reading the envelopes of %s failed"
		    " (storage unreachable)", a->node);
	printf("adopt%s: %s: ", a->c->dry_run ? " --dry-run" : "", a->node);
	adopt_summary(a, now);
	printf(" to take\n  (%lld object%s: %lld finished per the fleet's ledgers, %lld"
	    " already in this index, %lld without a readable envelope)\n",
	    (long long)r.objects, r.objects == 1 ? "" : "s", (long long)r.finished,
	    (long long)r.ok, (long long)r.incomplete);
	if (a->c->dry_run) {
		if (!mine && alive)
			printf("adopt --dry-run: %s is alive: adopt refuses it without --force\n",
			    a->node);
		printf("adopt --dry-run: nothing claimed, nothing imported\n");
		return CLI_OK;
	}
	snprintf(prompt, sizeof(prompt), "Adopt %zu message%s of %s (claim %lld)?", a->ntake,
	    a->ntake == 1 ? "" : "s", a->node, (long long)epoch);
	/* a script or a compose exec without -t: the command line was the decision */
	if (!mine && isatty(STDIN_FILENO) && !cli_confirm(a->c, prompt))
		return CLI_USAGE;
	if (!mine && (rc = adopt_claim(a, epoch)) != 0)
		return rc;
	if ((rc = adopt_manifest(a, epoch)) != 0)
		return rc;
	return adopt_import(a, epoch);
}

int
cli_adopt(struct cli *c)
{
	struct adopt		 a;
	struct objstore		*os;
	struct fleet_node	*nodes = NULL;
	struct fleet_claim	*cl = NULL;
	size_t			 nn = 0, ncl = 0;
	char			 err[ERRSTR_MAX];
	int64_t			 now = now_ms();
	int			 rc;

	if (c->nargs != 1)
		return cli_err(c, CLI_USAGE, "want one node id");
	if (!msgid_node_valid(c->args[0]))
		return cli_err(c, CLI_USAGE, "%s: not a node id ([a-z0-9-])", c->args[0]);
	if (strcmp(c->args[0], config_node(c->cfg)) == 0)
		return cli_err(c, CLI_USAGE, "%s is this node ([general] node): adopt another",
		    c->args[0]);
	if ((rc = cli_store(c, !c->dry_run)) != 0)
		return rc;
	if ((os = objstore_open(c->cfg, err, sizeof(err))) == NULL)
		return cli_err(c, CLI_CONFIG, "storage: %s", err);
	memset(&a, 0, sizeof(a));
	a.c = c;
	a.node = c->args[0];
	a.prefix = store_conf_prefix(c->cfg);
	if (fleet_init(&a.f, c->cfg, os, err, sizeof(err)) == -1) {
		objstore_close(os);
		return cli_err(c, CLI_CONFIG, "%s", err);
	}
	if (fleet_nodes(&a.f, now, &nodes, &nn) != OBJ_OK ||
	    fleet_claims_list(&a.f, a.node, &cl, &ncl) != OBJ_OK)
		rc = cli_err(c, CLI_UNAVAILABLE, "reading the fleet: %s", fleet_error(&a.f));
	else
		rc = adopt_run(&a, nodes, nn, cl, ncl, now);
	free(nodes);
	free(cl);
	adopt_free(&a);
	objstore_close(os);
	return rc;
}
