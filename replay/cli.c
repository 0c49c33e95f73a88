/*
 * cli.c - shared plumbing of the operator commands: option parsing, opening
 * the index or the store, times, confirmation, per-id or --all operations.
 *
 * Invariant: no command creates an index file (index_open_existing); only
 * `reindex --repair` may, to rebuild a lost index from the bucket.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "msgid.h"
#include "ops.h"
#include "queue_state.h"
#include "objstore.h"
#include "rate.h"
#include "store.h"

enum {
	OPT_STATE = 256, OPT_DOMAIN, OPT_RCPT, OPT_SENDER, OPT_SINCE, OPT_UNTIL, OPT_OLDER,
	OPT_JSON, OPT_LIMIT, OPT_YES, OPT_ALL, OPT_TO, OPT_RATE, OPT_CONC, OPT_DRY, OPT_REPAIR,
	OPT_NODE, OPT_HELP, OPT_GATEWAY, OPT_CANARY, OPT_DELIVER, OPT_FORCE, OPT_FLEET,
};

static const struct option cli_longopts[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "rcpt", required_argument, NULL, OPT_RCPT },
	{ "sender", required_argument, NULL, OPT_SENDER },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "older-than", required_argument, NULL, OPT_OLDER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "yes", no_argument, NULL, OPT_YES },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "to", required_argument, NULL, OPT_TO },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "concurrency", required_argument, NULL, OPT_CONC },
	{ "dry-run", no_argument, NULL, OPT_DRY },
	{ "repair", no_argument, NULL, OPT_REPAIR },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "canary", required_argument, NULL, OPT_CANARY },
	{ "deliver", no_argument, NULL, OPT_DELIVER },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "fleet", no_argument, NULL, OPT_FLEET },
	{ NULL, 0, NULL, 0 },
};

int
cli_err(struct cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxspool-replay: %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* cli_optmask - which option bit an option belongs to */
static int
cli_optmask(int o)
{
	switch (o) {
	case OPT_DOMAIN:
		return CLI_O_FILTER | CLI_O_DOMAIN;
	case OPT_STATE: case OPT_RCPT: case OPT_SENDER: case OPT_SINCE:
	case OPT_UNTIL: case OPT_OLDER:
		return CLI_O_FILTER;
	case OPT_JSON:
		return CLI_O_JSON;
	case OPT_LIMIT:
		return CLI_O_LIMIT;
	case OPT_YES:
		return CLI_O_YES;
	case OPT_ALL:
		return CLI_O_ALL;
	case OPT_DRY:
		return CLI_O_DRAIN | CLI_O_DRYRUN;
	case OPT_TO: case OPT_RATE: case OPT_CONC:
		return CLI_O_DRAIN;
	case OPT_FORCE:
		return CLI_O_FORCE;
	case OPT_FLEET:
		return CLI_O_FLEET;
	case OPT_REPAIR: case OPT_NODE:
		return CLI_O_REINDEX;
	case OPT_GATEWAY: case OPT_CANARY: case OPT_DELIVER:
		return CLI_O_DRILL;
	}
	return 0;
}

/* cli_usage - the command's usage line and help to f */
static void
cli_usage(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: mxspool-replay [-c config] %s %s\n%s", cmd->name, cmd->usage,
	    cmd->help);
}

/* cli_setopt - apply one parsed option; exit code or 0 */
static int
cli_setopt(struct cli *c, int o, const char *arg, int64_t now)
{
	long long	v;
	double		d;
	int64_t		t;
	int		i;

	switch (o) {
	case OPT_STATE:
		if (!queue_filter_valid(arg)) {
			char	want[256];
			size_t	len;

			len = (size_t)snprintf(want, sizeof(want), "%s, %s", QS_F_BACKLOG, QS_F_ALL);
			for (i = 0; i < QUEUE_NSTATES && len < sizeof(want); i++)
				len += (size_t)snprintf(want + len, sizeof(want) - len, "%s %s",
				    i == QUEUE_NSTATES - 1 ? " or" : ",", queue_state_name(i));
			return cli_err(c, CLI_USAGE, "--state %s: want %s", arg, want);
		}
		c->f.state = arg;
		break;
	case OPT_DOMAIN: c->f.domain = arg; break;
	case OPT_RCPT: c->f.rcpt = arg; break;
	case OPT_SENDER:
		c->f.sender = strcmp(arg, "<>") == 0 ? "" : arg;
		break;
	case OPT_SINCE: case OPT_UNTIL:
		if (cli_parse_time(arg, now, &t) == -1)
			return cli_err(c, CLI_USAGE, "%s %s: want YYYY-MM-DD[THH:MM[:SS]] (UTC),"
			    " @EPOCH or a duration ago like 2h", o == OPT_SINCE ? "--since" :
			    "--until", arg);
		if (o == OPT_SINCE)
			c->f.since_ms = t;
		else
			c->f.until_ms = t;
		break;
	case OPT_OLDER:
		if (config_parse_duration(arg, &v) == -1)
			return cli_err(c, CLI_USAGE, "--older-than %s: want a duration like 30m",
			    arg);
		c->f.until_ms = now - v * 1000;
		break;
	case OPT_JSON: c->json = 1; break;
	case OPT_LIMIT:
		if (config_parse_num(arg, 1, 1LL << 40, &v) == -1)
			return cli_err(c, CLI_USAGE, "--limit %s: want a positive number", arg);
		c->f.limit = v;
		break;
	case OPT_YES: c->yes = 1; break;
	case OPT_ALL: c->all = 1; break;
	case OPT_TO: c->to = arg; break;
	case OPT_RATE:
		if (rate_parse(arg, &d) == -1)
			return cli_err(c, CLI_USAGE, "--rate %s: want messages/s like 10, 0.5,"
			    " 600/m (0 = unlimited)", arg);
		c->rate = arg;
		break;
	case OPT_CONC:
		if (config_parse_num(arg, 1, CLI_CONCURRENCY_MAX, &v) == -1)
			return cli_err(c, CLI_USAGE, "--concurrency %s: want 1 to %d", arg,
			    CLI_CONCURRENCY_MAX);
		c->concurrency = (int)v;
		break;
	case OPT_DRY: c->dry_run = 1; break;
	case OPT_GATEWAY:
		if (c->ngateways == CLI_GATEWAYS_MAX)
			return cli_err(c, CLI_USAGE, "--gateway: at most %d", CLI_GATEWAYS_MAX);
		c->gateways[c->ngateways++] = arg;
		break;
	case OPT_CANARY: c->canary = arg; break;
	case OPT_DELIVER: c->deliver = 1; break;
	case OPT_FORCE: c->force = 1; break;
	case OPT_FLEET: c->fleet = 1; break;
	case OPT_REPAIR: c->repair = 1; break;
	case OPT_NODE:
		if (!msgid_node_valid(arg))
			return cli_err(c, CLI_USAGE, "--node %s: not a node id ([a-z0-9-])", arg);
		c->node = arg;
		break;
	}
	return 0;
}

int
cli_getopt(struct cli *c, const struct cli_cmd *cmd, int argc, char **argv)
{
	int64_t	now = now_ms();
	int	o, rc;

	optind = 0;	/* 0: glibc re-initialises (main parsed with "+") */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "h", cli_longopts, NULL)) != -1) {
		if (o == 'h' || o == OPT_HELP) {
			cli_usage(cmd, stdout);
			exit(CLI_OK);
		}
		if (o == '?' || o == ':' || (cli_optmask(o) & cmd->opts) == 0) {
			fprintf(stderr, "mxspool-replay: %s: unknown or misplaced option %s\n",
			    cmd->name, argv[optind - 1]);
			cli_usage(cmd, stderr);
			return CLI_USAGE;
		}
		if ((rc = cli_setopt(c, o, optarg, now)) != 0)
			return rc;
	}
	c->nargs = argc - optind;
	c->args = argv + optind;
	return 0;
}

int
cli_index_exit(struct cli *c, enum index_status st, const char *what)
{
	switch (st) {
	case INDEX_OK:
		return CLI_OK;
	case INDEX_NOTFOUND:
		return cli_err(c, CLI_NOINPUT, "%s: not found", what);
	case INDEX_TEMPFAIL:
		return cli_err(c, CLI_TEMPFAIL, "%s: index busy or unavailable (%s); try again",
		    what, index_error(c->ix));
	default:
		return cli_err(c, CLI_SOFTWARE, "%s: %s", what, index_error(c->ix));
	}
}

/* cli_open_exit - exit code for an index that would not open (index_open_status) */
static int
cli_open_exit(struct cli *c, const char *path, const char *err)
{
	switch (index_open_status()) {
	case INDEX_NOTFOUND:
		return cli_err(c, CLI_NOINPUT, "no index at %s ([general] index); nothing is"
		    " spooled here, or rebuild it with: mxspool-replay reindex --repair", path);
	case INDEX_PERMFAIL:	/* not a database, corrupt, a newer schema: a retry won't help */
		return cli_err(c, CLI_SOFTWARE, "%s", err);
	default:
		return cli_err(c, CLI_TEMPFAIL, "%s", err);
	}
}

int
cli_index(struct cli *c)
{
	char path[CONFIG_PATH_MAX + 1], err[ERRSTR_MAX];

	if (c->ix)
		return 0;
	config_index_path(c->cfg, path, sizeof(path));
	if ((c->ix = index_open_existing(path, err, sizeof(err))) == NULL)
		return cli_open_exit(c, path, err);
	return 0;
}

/*
 * cli_store - open the store; when that fails, tell a bad [storage] setting
 * (78: the url, bucket, keys...) and an unusable index from storage that is
 * really unreachable (69), by opening the parts again one by one
 */
int
cli_store(struct cli *c, int create)
{
	struct objstore	*os;
	char		 err[ERRSTR_MAX], why[ERRSTR_MAX], path[CONFIG_PATH_MAX + 1];
	int		 rc;

	if (c->store)
		return 0;
	if (!create && (rc = cli_index(c)) != 0)
		return rc;
	if ((c->store = store_open(c->cfg, err, sizeof(err))) != NULL)
		return 0;
	if ((os = objstore_open(c->cfg, why, sizeof(why))) == NULL)
		return cli_err(c, CLI_CONFIG, "storage: %s", why);
	objstore_close(os);
	if (index_open_status() != INDEX_OK) {
		config_index_path(c->cfg, path, sizeof(path));
		return cli_open_exit(c, path, err);
	}
	return cli_err(c, CLI_UNAVAILABLE, "storage: %s", err);
}

void
cli_time(int64_t ms, char *out, size_t outlen)
{
	time_t		t = (time_t)(ms / 1000);
	struct tm	tm;

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d %H:%M:%S",
	    &tm) == 0)
		snprintf(out, outlen, "-");
}

int
cli_parse_time(const char *s, int64_t now, int64_t *ms)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d", NULL,
	};
	struct tm	tm;
	long long	v;
	const char	*end;

	if (s[0] == '@')
		return config_parse_num(s + 1, 0, 1LL << 40, &v) == 0 ? (*ms = v * 1000, 0) : -1;
	if (config_parse_duration(s, &v) == 0) {
		*ms = now - v * 1000;
		return 0;
	}
	for (int i = 0; fmts[i]; i++) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, fmts[i], &tm)) != NULL && *end == '\0') {
			*ms = (int64_t)timegm(&tm) * 1000;
			return 0;
		}
	}
	return -1;
}

int
cli_confirm(struct cli *c, const char *prompt)
{
	char line[16];

	if (c->yes)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		cli_err(c, CLI_USAGE, "refusing without --yes: stdin is not a terminal");
		return 0;
	}
	fprintf(stderr, "%s [y/N] ", prompt);
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

