/*
 * cli_fleet.c - `mxspool-replay status --fleet [--json]`: every gateway of
 * the fleet as its heartbeats in the bucket show it (docs/replay.md).
 *
 * Entry point: cli_status_fleet().  It reads the bucket now (fleet_nodes(),
 * each call bounded by [fleet] call_deadline) and needs no index: it works on
 * a host whose own gateway is gone.  --json prints the object /status has
 * under "fleet" (status_fleet_json).  A stale node that still holds backlog
 * and that nobody adopted is the problem this view exists for: it is marked
 * in its row and named below the table with the command that solves it.
 * Exit: 0 (problems are reported, not an error), 69 bucket unreadable, 78.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fmt.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "objstore.h"
#include "status.h"

/* cli_fleet_claim - "by mx2 #1", " (in progress)", " acked" */
static const char *
cli_fleet_claim(const struct fleet_node *n, char *out, size_t outlen)
{
	if (n->claim_epoch == 0)
		snprintf(out, outlen, "-");
	else
		snprintf(out, outlen, "by %s #%lld%s%s", n->claim_adopter,
		    (long long)n->claim_epoch, n->claim_manifest ? "" : " (in progress)",
		    n->epoch >= n->claim_epoch ? " acked" : "");
	return out;
}

/* cli_fleet_row - one node of the table */
static void
cli_fleet_row(const struct fleet_node *n, int64_t now)
{
	char seen[CLI_FMT_MAX + 8], old[CLI_FMT_MAX], cl[2 * FLEET_NODE_MAX + 48];
	char rp[FLEET_WORD_MAX + 2];

	if (n->seen_ms > 0)
		snprintf(seen, sizeof(seen), "%s ago", cli_fmt_age(now - n->seen_ms, old,
		    sizeof(old)));
	else
		snprintf(seen, sizeof(seen), "never");
	if (n->oldest_ms > 0)
		cli_fmt_age(now - n->oldest_ms, old, sizeof(old));
	else
		snprintf(old, sizeof(old), "-");
	/* a stale node's last word on its replay, in parentheses: nobody knows it now */
	snprintf(rp, sizeof(rp), n->stale ? "(%s)" : "%s", n->replay);
	printf("%-16s %-13s %9lld %-9s %-10s %-20s %s%s\n", n->node, seen, (long long)n->backlog,
	    old, rp, *n->roles && !n->stale ? n->roles : "-",
	    cli_fleet_claim(n, cl, sizeof(cl)),
	    n->problem ? "  << STALE WITH BACKLOG" : n->stale ? "  (stale)" : "");
}

/* cli_fleet_text - the table, the fleet's figures and the problems */
static void
cli_fleet_text(const struct fleet_node *nodes, size_t nn, json_t *o, int64_t now,
    int64_t stale_ms)
{
	char	t[32], age[CLI_FMT_MAX], sa[CLI_FMT_MAX];
	int64_t	oldest = json_integer_value(json_object_get(o, "oldest_ms"));
	size_t	i;

	cli_time(now, t, sizeof(t));
	printf("Fleet: %zu node%s, backlog %lld message%s", nn, nn == 1 ? "" : "s",
	    (long long)json_integer_value(json_object_get(o, "backlog")),
	    json_integer_value(json_object_get(o, "backlog")) == 1 ? "" : "s");
	if (oldest > 0)
		printf(", oldest %s ago", cli_fmt_age(now - oldest, age, sizeof(age)));
	printf(" (heartbeats read %s UTC; stale after %s)\n", t, cli_fmt_age(stale_ms, sa,
	    sizeof(sa)));
	if (nn == 0) {
		printf("No heartbeat in the bucket: no gateway of this fleet runs with [fleet]"
		    " enabled, or [storage] points elsewhere.\n");
		return;
	}
	printf("%-16s %-13s %9s %-9s %-10s %-20s %s\n", "NODE", "LAST SEEN", "BACKLOG", "OLDEST",
	    "REPLAY", "RUNNING", "CLAIM");
	for (i = 0; i < nn; i++)
		cli_fleet_row(&nodes[i], now);
	for (i = 0; i < nn; i++) {
		if (!nodes[i].problem)
			continue;
		printf("PROBLEM: %s was last seen %s ago and holds %lld message%s that no"
		    " gateway delivers.\n  If it is lost, on another gateway run:"
		    " mxspool-replay adopt %s\n", nodes[i].node, nodes[i].seen_ms > 0 ?
		    cli_fmt_age(now - nodes[i].seen_ms, age, sizeof(age)) : "never",
		    (long long)nodes[i].backlog, nodes[i].backlog == 1 ? "" : "s", nodes[i].node);
	}
}

int
cli_status_fleet(struct cli *c)
{
	struct fleet		 f;
	struct fleet_node	*nodes = NULL;
	struct objstore		*os;
	size_t			 nn = 0;
	char			 err[ERRSTR_MAX];
	int64_t			 now = now_ms();
	json_t			*o;
	int			 rc = CLI_OK;

	if (c->nargs)
		return cli_err(c, CLI_USAGE, "no operands expected");
	if ((os = objstore_open(c->cfg, err, sizeof(err))) == NULL)
		return cli_err(c, CLI_CONFIG, "storage: %s", err);
	if (fleet_init(&f, c->cfg, os, err, sizeof(err)) == -1) {
		objstore_close(os);
		return cli_err(c, CLI_CONFIG, "%s", err);
	}
	if (fleet_nodes(&f, now, &nodes, &nn) != OBJ_OK) {
		rc = cli_err(c, CLI_UNAVAILABLE, "reading the fleet's heartbeats: %s",
		    fleet_error(&f));
		goto done;
	}
	o = status_fleet_json(nodes, nn, now, f.conf.stale_ms);
	if (c->json) {
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else
		cli_fleet_text(nodes, nn, o, now, f.conf.stale_ms);
	json_decref(o);
done:
	free(nodes);
	objstore_close(os);
	return rc;
}
