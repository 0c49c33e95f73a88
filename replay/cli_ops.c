/*
 * cli_ops.c - commands that change the queue (postsuper's job): hold,
 * release, requeue, quarantine list|release|delete, delete, reindex, and the
 * control of a running `serve`: pause, resume, rate.
 *
 * Each takes message ids, or --all with the list filters.  delete asks for
 * confirmation on a terminal (or --yes) and refuses without --yes when stdin
 * is not a terminal; it marks the row 'deleted' first (no worker will start
 * it again) and then deletes the object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "msgid.h"
#include "ops.h"
#include "rate.h"
#include "store.h"

/* cli_lifetime_ms - [replay] max_lifetime */
static int64_t
cli_lifetime_ms(struct cli *c)
{
	return config_duration(c->cfg, "replay", "max_lifetime", 7 * 86400, 1,
	    365LL * 86400) * 1000;
}

/*
 * cli_do - one operation (ops.c) on one message, its outcome as an exit code;
 * delete marks the row deleted, then deletes the object (again, if an
 * earlier try failed)
 */
static int
cli_do(struct cli *c, enum ops_op op, const char *id, int *changed)
{
	int64_t			life = op == OPS_RELEASE ? cli_lifetime_ms(c) : 0;
	enum store_status	ss;
	int			rc;

	rc = cli_index_exit(c, ops_apply(c->ix, op, id, now_ms(), life, changed), id);
	if (rc != 0 || op != OPS_DELETE)
		return rc;
	if ((ss = store_purge(c->store, id)) != STORE_OK && ss != STORE_NOTFOUND)
		return cli_err(c, CLI_UNAVAILABLE, "%s: marked deleted, but the object could not"
		    " be deleted (storage unreachable); run delete again later", id);
	index_replay_mark_purged(c->ix, id, now_ms());
	*changed = 1;
	return CLI_OK;
}

/*
 * cli_foreach_target - op (cli_do) on the operand ids, or with --all on the
 * filter's matches (state default_state unless --state); the worst exit code
 */
static int
cli_foreach_target(struct cli *c, const char *default_state, enum ops_op op, const char *verb)
{
	char		(*ids)[MSGID_MAX] = NULL;
	size_t		n = 0;
	enum index_status st;
	int		rc, worst = CLI_OK, changed, nchanged = 0;

	if ((rc = cli_index(c)) != 0)
		return rc;
	if (c->all == (c->nargs > 0))
		return cli_err(c, CLI_USAGE, "give message ids or --all [filters], not both");
	if (c->all) {
		if (c->f.state == NULL)
			c->f.state = default_state;
		if ((st = ops_ids(c->ix, &c->f, &ids, &n)) != INDEX_OK) {
			free(ids);
			return cli_index_exit(c, st, "list");
		}
		for (size_t i = 0; i < n; i++) {
			rc = cli_do(c, op, ids[i], &changed);
			worst = rc > worst ? rc : worst;
			nchanged += changed;
		}
		free(ids);
	} else {
		for (int i = 0; i < c->nargs; i++) {
			if (!msgid_valid(c->args[i])) {
				worst = cli_err(c, CLI_USAGE, "%s: not a message id", c->args[i]);
				continue;
			}
			rc = cli_do(c, op, c->args[i], &changed);
			worst = rc > worst ? rc : worst;
			nchanged += changed;
			if (rc == CLI_OK && !changed)
				fprintf(stderr, "mxspool-replay: %s: %s: not in a state to %s\n",
				    c->cmd, c->args[i], verb);
		}
	}
	printf("%s: %d message%s\n", verb, nchanged, nchanged == 1 ? "" : "s");
	return worst;
}

int
cli_hold(struct cli *c)
{
	return cli_foreach_target(c, QS_F_BACKLOG, OPS_HOLD, "hold");
}

int
cli_release(struct cli *c)
{
	return cli_foreach_target(c, QS_HOLD, OPS_RELEASE, "release");
}

int
cli_requeue(struct cli *c)
{
	return cli_foreach_target(c, QS_QUEUED, OPS_REQUEUE, "requeue");
}

/* cli_delete_ids - delete with confirmation */
static int
cli_delete_ids(struct cli *c, const char *state)
{
	char	prompt[128];
	int	rc;

	if ((rc = cli_store(c, 0)) != 0)
		return rc;
	if (c->all)
		snprintf(prompt, sizeof(prompt), "Delete every matching message for good?");
	else
		snprintf(prompt, sizeof(prompt), "Delete %d message%s for good?", c->nargs,
		    c->nargs == 1 ? "" : "s");
	if (c->all == (c->nargs > 0))
		return cli_err(c, CLI_USAGE, "give message ids or --all [filters], not both");
	if (!cli_confirm(c, prompt))
		return c->yes ? CLI_OK : CLI_USAGE;
	return cli_foreach_target(c, state, OPS_DELETE, "delete");
}

int
cli_delete(struct cli *c)
{
	return cli_delete_ids(c, QS_F_BACKLOG);
}

int
cli_quarantine(struct cli *c)
{
	const char *sub;

	if (c->nargs < 1)
		return cli_err(c, CLI_USAGE, "want list, release ID... or delete ID...");
	sub = c->args[0];
	c->nargs--;
	c->args++;
	if (strcmp(sub, "list") == 0) {
		if (c->nargs)
			return cli_err(c, CLI_USAGE, "list takes filters, not ids");
		c->f.state = QS_QUARANTINE;
		return cli_list(c);
	}
	if (c->all)
		c->f.state = QS_QUARANTINE;
	if (strcmp(sub, "release") == 0)
		return cli_foreach_target(c, QS_QUARANTINE, OPS_QRELEASE, "release");
	if (strcmp(sub, "delete") == 0)
		return cli_delete_ids(c, QS_QUARANTINE);
	return cli_err(c, CLI_USAGE, "%s: want list, release or delete", sub);
}

/* cli_reindex_line - store_reindex report callback */
static void
cli_reindex_line(const char *line, void *arg)
{
	printf("%s\n", line);
}

int
cli_reindex(struct cli *c)
{
	struct reindex_result	r;
	enum store_status	ss;
	int			rc;

	if (c->nargs)
		return cli_err(c, CLI_USAGE, "no operands expected");
	/* only a repair may create the index: rebuilding a lost one is its purpose */
	if ((rc = cli_store(c, c->repair)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	ss = store_reindex(c->store, c->node, c->repair, cli_reindex_line, NULL, &r);
	printf("reindex%s: %lld objects, %lld ok, %lld %s, %lld missing, %lld incomplete,"
	    " %lld orphans, %lld temp files removed\n",
	    c->repair ? " --repair" : "", (long long)r.objects, (long long)r.ok,
	    (long long)r.added, c->repair ? "added" : "not indexed", (long long)r.missing,
	    (long long)r.incomplete, (long long)r.orphans, (long long)r.tmp);
	if (ss != STORE_OK)
		return cli_err(c, CLI_UNAVAILABLE, "object storage unreachable: incomplete run");
	return CLI_OK;
}

/* cli_pause_to - pause (1) or resume (0) serve through the control table */
static int
cli_pause_to(struct cli *c, int paused, const char *msg)
{
	int rc;

	if ((rc = cli_index(c)) != 0)
		return rc;
	if ((rc = cli_index_exit(c, ops_pause(c->ix, paused), CTL_PAUSED)) != 0)
		return rc;
	printf("%s\n", msg);
	return CLI_OK;
}

int
cli_pause(struct cli *c)
{
	return cli_pause_to(c, 1, "paused: serve finishes what is in flight, starts"
	    " nothing new");
}

int
cli_resume(struct cli *c)
{
	return cli_pause_to(c, 0, "resumed");
}

int
cli_rate(struct cli *c)
{
	char	*v = NULL;
	double	 d;
	int	 rc;

	if (c->nargs == 0) {
		if ((rc = cli_index(c)) != 0)
			return rc;
		index_kv_get(c->ix, CTL_RATE, &v);
		printf("rate: %s messages/s%s\n", v ? v : config_str(c->cfg, "replay", "rate",
		    "10"), v ? "" : " (from the configuration)");
		free(v);
		return CLI_OK;
	}
	if (c->nargs != 1 || rate_parse(c->args[0], &d) == -1)
		return cli_err(c, CLI_USAGE, "want messages/s like 10, 0.5 or 600/m"
		    " (0 = unlimited)");
	if ((rc = cli_index(c)) != 0)
		return rc;
	if ((rc = cli_index_exit(c, ops_rate(c->ix, d), CTL_RATE)) != 0)
		return rc;
	printf("rate set\n");
	return CLI_OK;
}
