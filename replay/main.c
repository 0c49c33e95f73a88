/*
 * main.c - mxspool-replay: the replay worker daemon and the operator CLI.
 *
 *   mxspool-replay [-c CONFIG] COMMAND [options] [args]
 *
 * The command table (cli_cmds) is the single place listing the commands,
 * their accepted options, usage and help; `--help` and `help COMMAND` print
 * from it.  Every command first checks the whole configuration file with
 * config_check() (the check `mxspool-ingest -t` makes), and refuses to run
 * with any error: all are printed, exit 78.  `check-config` does only that.
 * Exit codes are the sysexits.h values of enum cli_exit (cli.h).
 * Data directory: only `serve`, `reindex --repair` and `adopt` create the data
 * dir and the index (73 when they cannot); `status --fleet` reads only the
 * bucket; every other command needs them (66).
 * Run as root, the program first becomes the owner of the data dir (else the
 * [ingest] user), as postsuper becomes mail_owner, so that nothing it creates
 * (index, -wal/-shm, spool, store) is root's and unusable by the ingest.
 */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "datadir.h"
#include "dns.h"
#include "index.h"
#include "log.h"
#include "smtpc.h"
#include "store.h"
#include "version.h"

#define F_OPTS	"[--state S] [--domain D] [--rcpt A] [--sender A] [--since T] [--until T]" \
		" [--older-than DUR]"
#define F_HELP	"filters: " F_OPTS "\n"						\
		"  --state S        backlog (default), all, queued, active, hold, quarantine,\n" \
		"                   delivered, expired, deleted, missing\n"			\
		"  --domain D       a recipient in domain D     --rcpt A  recipient A\n"	\
		"  --sender A       sender A (<> for the null sender)\n"			\
		"  --since/--until  received at/after, before: 2026-11-23T06:00, @EPOCH,\n"	\
		"                   or a duration ago (2h)\n"				\
		"  --older-than DUR received more than DUR ago (30m, 2h, 1d)\n"
#define ALL_HELP "  --all --limit N  only the N oldest matching messages\n"

/* main_check_config - `check-config`: the check has passed when this runs */
static int
main_check_config(struct cli *c)
{
	if (c->nargs)
		return cli_err(c, CLI_USAGE, "no operands expected");
	printf("%s: configuration ok\n", c->config_path);
	return CLI_OK;
}

/* main_config_error - one line of config_check() on stderr */
static void
main_config_error(const char *line, void *arg)
{
	fprintf(stderr, "mxspool-replay: %s\n", line);
}

const struct cli_cmd cli_cmds[] = {
	{ "serve", cli_serve, 0, "",
	  "Run the replay worker: deliver the backlog to the primary under [replay] rate\n"
	  "control, obey pause/resume/rate from the index, serve [http] status if set.\n" },
	{ "status", cli_status, CLI_O_JSON | CLI_O_FLEET, "[--fleet] [--json]",
	  "Backlog figures, messages per state, and the control values (paused, rate,\n"
	  "achieved rate, primary health).  --fleet: every gateway sharing the bucket, from\n"
	  "its heartbeats (backlog, oldest, last seen, replay, claims), the fleet's backlog,\n"
	  "and a stale gateway that still holds mail named as the problem (no index needed).\n" },
	{ "list", cli_list, CLI_O_FILTER | CLI_O_JSON | CLI_O_LIMIT,
	  "[filters] [--limit N] [--json]",
	  "List messages like postqueue -p (oldest first). Marks: * active, ! hold,\n"
	  "# quarantine.\n" F_HELP },
	{ "show", cli_show, CLI_O_JSON, "[--json] ID",
	  "Envelope, recipients with their state, every delivery attempt, and the headers.\n" },
	{ "export", cli_export, 0, "ID",
	  "Write the stored message bytes to stdout (e.g. | sendmail -i, > file.eml).\n" },
	{ "drain", cli_drain, CLI_O_FILTER | CLI_O_LIMIT | CLI_O_DRAIN,
	  "[--to TARGET] [--rate R] [--concurrency N] [--limit N] [--dry-run] [filters]",
	  "Deliver queued messages now, in the foreground (postqueue -f / -s), also those\n"
	  "waiting for a retry.  --to smtp://host:port overrides [routes]; --rate 5 or\n"
	  "300/m (default: no cap, [replay] concurrency connections); --dry-run prints\n"
	  "what would be sent and sends nothing.  Ctrl-C stops cleanly; running drain\n"
	  "again resumes.  Exit 0 all delivered, 75 some deferred\n"
	  "or interrupted, 65 some quarantined (5xx).\n" F_HELP },
	{ "hold", cli_hold, CLI_O_FILTER | CLI_O_ALL | CLI_O_LIMIT,
	  "ID... | --all [filters] [--limit N]",
	  "Put messages on hold (postsuper -h): no delivery until release.\n" ALL_HELP F_HELP },
	{ "release", cli_release, CLI_O_FILTER | CLI_O_ALL | CLI_O_LIMIT,
	  "ID... | --all [filters] [--limit N]",
	  "Release held messages (postsuper -H); they are due at once.\n" ALL_HELP F_HELP },
	{ "requeue", cli_requeue, CLI_O_FILTER | CLI_O_ALL | CLI_O_LIMIT,
	  "ID... | --all [filters] [--limit N]",
	  "Make queued (deferred) messages due now (postsuper -r semantics for timing).\n"
	  ALL_HELP F_HELP },
	{ "quarantine", cli_quarantine, CLI_O_FILTER | CLI_O_ALL | CLI_O_JSON | CLI_O_YES |
	  CLI_O_LIMIT, "list [filters] | release ID...|--all | delete ID...|--all [--yes]",
	  "Messages with recipients the primary refused with 5xx.  release: those\n"
	  "recipients are pending again and the message due now; delete: remove them.\n" },
	{ "delete", cli_delete, CLI_O_FILTER | CLI_O_ALL | CLI_O_YES | CLI_O_LIMIT,
	  "[--yes] ID... | --all [filters] [--limit N]",
	  "Delete messages and their stored objects for good (postsuper -d).  Asks on a\n"
	  "terminal; needs --yes when stdin is not a terminal.\n" ALL_HELP F_HELP },
	{ "qshape", cli_qshape, CLI_O_FILTER | CLI_O_JSON | CLI_O_LIMIT, "[filters] [--json]",
	  "Backlog by recipient domain and age in minutes, like Postfix qshape.\n" F_HELP },
	{ "reindex", cli_reindex, CLI_O_REINDEX, "[--repair] [--node N]",
	  "Compare the index with the bucket; --repair adds missing rows and marks rows\n"
	  "without object 'missing' (and may create a lost index).  Orphans of a crash\n"
	  "(no row, node committing here since before the id: never acknowledged) are\n"
	  "reported, never added.\n" },
	{ "verify", cli_verify, CLI_O_FILTER | CLI_O_ALL | CLI_O_JSON,
	  "list [--domain D] [--json] | flush ADDRESS... | flush --domain D | flush --all",
	  "The recipient verification cache: the primary's callout answers ([domain]\n"
	  "callout), kept positive_ttl / negative_ttl.  list shows them; flush forgets\n"
	  "them, so the next RCPT asks the primary again (a mailbox just created there).\n"
	  "A running ingest reads the cache at every RCPT: a flush applies at once.\n"
	  "With subaddress = yes, flush alice@example.com, not alice+tag@example.com.\n" },
	{ "check", cli_check, CLI_O_DOMAIN | CLI_O_JSON, "[--domain D] [--json]",
	  "Would failover to this gateway work right now?  From this gateway's point of\n"
	  "view, for every [domain] (or D): MX (listed above the primary, hosts resolve,\n"
	  "forward/reverse DNS, TTLs), MTA-STS and TLS-RPT, DANE, the certificate served\n"
	  "on STARTTLS (name, chain, > 21 days left), the object store (canary put/get/\n"
	  "delete) and spool room, the recipient sources, the primary's EHLO.  Each line\n"
	  "PASS / WARN / FAIL with the evidence and the fix.  Exit 0 when nothing FAILs,\n"
	  "1 otherwise.  Settings: [check] (docs/runbook.md).\n" },
	{ "drill", cli_drill, CLI_O_DRILL, "[--gateway HOST:PORT ...] [--canary ADDR] [--deliver]",
	  "Rehearse a failover: through each gateway (default: this one), as an outside\n"
	  "sender with STARTTLS, the canary (default postmaster@ the first [domain]) must\n"
	  "get 250, an unknown recipient 550 5.1.1, a foreign domain 554 5.7.1; the canary\n"
	  "(header X-Mxspool-Drill) must be in the index and the store with its bytes\n"
	  "intact.  --deliver replays it to the primary ([routes]) and wants 250.  The\n"
	  "canary is held while the drill runs and purged at the end.  Exit 0 when every\n"
	  "step passed, 1 otherwise.\n" },
	{ "adopt", cli_adopt, CLI_O_DRYRUN | CLI_O_FORCE | CLI_O_YES,
	  "[--dry-run] [--force] [--yes] NODE",
	  "Take over the backlog of NODE, a lost gateway sharing the bucket: claim it (of\n"
	  "two adopters one wins, the other exits 75 naming it), import its messages with\n"
	  "the recipients no gateway's ledger holds as finished into this index; drain or\n"
	  "serve here delivers them, and NODE, if it comes back, delivers none of them.\n"
	  "Prints what it takes (messages, recipients, oldest).  Refuses while NODE's\n"
	  "heartbeat is fresh unless --force.  --dry-run: print only.  Asks on a terminal\n"
	  "(--yes does not); never without one.  Re-run after a crash, it completes its\n"
	  "own claim.  Exit 0, 66 no such node, 69 storage (or no conditional writes),\n"
	  "75 NODE alive or adopted by another.\n" },
	{ "pause", cli_pause, 0, "", "Tell serve to start no new deliveries.\n" },
	{ "resume", cli_resume, 0, "", "Tell serve to deliver again (slow start).\n" },
	{ "rate", cli_rate, 0, "[R]", "Show or set serve's rate cap (messages/s, 600/m; 0 = "
	  "unlimited).\n" },
	{ "check-config", main_check_config, 0, "",
	  "Check the configuration file like mxspool-ingest -t (every command does this\n"
	  "first) and exit: 0 ok, 78 with each error on stderr.\n" },
	{ NULL, NULL, 0, NULL, NULL },
};

/* main_usage - the command list */
static void
main_usage(FILE *f)
{
	fprintf(f, "usage: mxspool-replay [-c CONFIG] COMMAND [options] [args]\n"
	    "       mxspool-replay help COMMAND | COMMAND --help | --version\n\ncommands:\n");
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		fprintf(f, "  %-11s %s\n", c->name, c->usage);
	fprintf(f, "\nCONFIG defaults to $MXSPOOL_CONFIG, else /etc/mxspool/mxspool.conf.\n"
	    "Exit codes: 0 ok, 64 usage, 65 quarantined (drain), 66 no such message or no\n"
	    "index, 69 storage unreachable, 70 index corrupt, 73 cannot create the data dir\n"
	    "or index (serve, reindex --repair, adopt), 75 temporary failure (retry; adopt:\n"
	    "node alive or adopted by another), 78 configuration error.\n");
}

/* main_find - the command named name, or NULL */
static const struct cli_cmd *
main_find(const char *name)
{
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* main_owner - as root: the data dir's owner, else the [ingest] user; 0 none (stay root) */
static int
main_owner(const struct cli *c, struct passwd *out, char *name, size_t namelen)
{
	const char	*dir = config_data_dir(c->cfg);
	struct passwd	*pw = NULL;
	struct stat	 sb;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &sb) == 0)
		pw = sb.st_uid != 0 ? getpwuid(sb.st_uid) : NULL;
	else
		pw = getpwnam(config_str(c->cfg, "ingest", "user", "mxspool"));
	if (pw == NULL || pw->pw_uid == 0)
		return 0;
	*out = *pw;
	snprintf(name, namelen, "%s", pw->pw_name);
	out->pw_name = name;
	return 1;
}

/*
 * main_datadir - the data dir and index as the command needs them (see the
 * file comment); as root, become their owner first.  0 or an exit code.
 */
static int
main_datadir(struct cli *c)
{
	const char	*dir = config_data_dir(c->cfg);
	int		 create = strcmp(c->cmd, "serve") == 0 ||
			    (strcmp(c->cmd, "reindex") == 0 && c->repair) ||
			    (strcmp(c->cmd, "adopt") == 0 && !c->dry_run);
	char		 path[CONFIG_PATH_MAX + 1], err[ERRSTR_MAX], name[256];
	struct passwd	 pw;
	struct index	*ix;
	int		 owned;

	/* these read the config (and, for check, report what is missing themselves) */
	if (strcmp(c->cmd, "check-config") == 0 || strcmp(c->cmd, "check") == 0 ||
	    (strcmp(c->cmd, "status") == 0 && c->fleet))
		return 0;
	owned = main_owner(c, &pw, name, sizeof(name));
	config_index_path(c->cfg, path, sizeof(path));
	if (access(path, F_OK) != 0 && access(dir, F_OK) != 0) {
		if (!create)
			return cli_err(c, CLI_NOINPUT, "data dir %s ([general] data_dir) does not"
			    " exist: nothing was spooled here (another -c config?), or the ingest"
			    " never started", dir);
		if (datadir_mkdir(dir, owned ? pw.pw_uid : (uid_t)-1,
		    owned ? pw.pw_gid : (gid_t)-1) != 0)
			return cli_err(c, CLI_CANTCREAT, "cannot create the data dir %s ([general]"
			    " data_dir): %s", dir, strerror(errno));
	}
	if (owned && datadir_become(pw.pw_name, pw.pw_uid, pw.pw_gid, err, sizeof(err)) != 0)
		return cli_err(c, CLI_CONFIG, "running as root: %s", err);
	/* a missing index: the others get cli_index()'s explanation (66) */
	if (!create || access(path, F_OK) == 0)
		return 0;
	if ((ix = index_open(path, err, sizeof(err))) == NULL)
		return cli_err(c, CLI_CANTCREAT, "cannot create the index: %s", err);
	index_close(ix);
	return 0;
}

int
main(int argc, char *argv[])
{
	const struct cli_cmd	*cmd;
	struct dns		*peer_dns;	/* smtpc_resolver(): [dns] for SMTP peers */
	struct cli		 c;
	char			 err[ERRSTR_MAX];
	const char		*cfgarg = NULL;
	int			 o, rc;

	log_init("mxspool-replay");
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};

	while ((o = getopt_long(argc, argv, "+c:hvV", longopts, NULL)) != -1) {
		switch (o) {
		case 'c':
			cfgarg = optarg;
			break;
		case 'v':
			log_setlevel(LOG_LVL_DEBUG);
			break;
		case 'h':
			main_usage(stdout);
			return CLI_OK;
		case 'V':
			printf("mxspool-replay %s (index schema %d, SQLite %s)\n", MXS_VERSION,
			    index_known_version(), sqlite3_libversion());
			return CLI_OK;
		default:
			main_usage(stderr);
			return CLI_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		main_usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc < 2) {
			main_usage(stdout);
			return CLI_OK;
		}
		if ((cmd = main_find(argv[1])) == NULL) {
			fprintf(stderr, "mxspool-replay: no command %s\n", argv[1]);
			return CLI_USAGE;
		}
		printf("usage: mxspool-replay [-c config] %s %s\n%s", cmd->name, cmd->usage,
		    cmd->help);
		return CLI_OK;
	}
	if ((cmd = main_find(argv[0])) == NULL) {
		fprintf(stderr, "mxspool-replay: no command %s\n", argv[0]);
		main_usage(stderr);
		return CLI_USAGE;
	}
	memset(&c, 0, sizeof(c));
	c.cmd = cmd->name;
	if ((rc = cli_getopt(&c, cmd, argc, argv)) != 0)
		return rc;
	c.config_path = config_path_default(cfgarg);
	if ((c.cfg = config_load(c.config_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mxspool-replay: %s\n", err);
		return CLI_CONFIG;
	}
	if ((rc = config_check(c.cfg, CONFIG_P_REPLAY, main_config_error, NULL)) > 0) {
		fprintf(stderr, "mxspool-replay: %s: %d configuration error%s\n", c.config_path, rc,
		    rc == 1 ? "" : "s");
		config_free(c.cfg);
		return CLI_CONFIG;
	}
	/* SMTP peers by name through [dns] (routes, callout targets, probes) */
	if ((peer_dns = dns_open(c.cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mxspool-replay: %s\n", err);
		config_free(c.cfg);
		return CLI_CONFIG;
	}
	smtpc_resolver(peer_dns);
	if ((rc = main_datadir(&c)) == 0)
		rc = cmd->fn(&c);
	smtpc_resolver(NULL);
	dns_close(peer_dns);
	if (c.store)
		store_close(c.store);
	if (c.ix)
		index_close(c.ix);
	config_free(c.cfg);
	return rc;
}
