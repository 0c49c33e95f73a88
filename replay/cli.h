/*
 * cli.h - the operator commands of mxspool-replay (postqueue/postsuper/qshape
 * for the spool), shared option parsing and exit codes.
 *
 * Every command gets a struct cli with the loaded configuration; it opens
 * the index with cli_index() (never creating one) or the whole store with
 * cli_store().  Errors go to stderr as "mxspool-replay: <command>: <why>",
 * and the exit code says what kind of failure it was (sysexits.h values).
 */
#ifndef MXS_CLI_H
#define MXS_CLI_H
#include <stdint.h>
#include <stdio.h>

#include "index_replay.h"

enum cli_exit {
	CLI_OK		= 0,
	CLI_USAGE	= 64,	/* bad command line */
	CLI_DATAERR	= 65,	/* drain: some recipients quarantined (5xx) */
	CLI_NOINPUT	= 66,	/* no such message, or no index file */
	CLI_UNAVAILABLE	= 69,	/* object storage unreachable */
	CLI_SOFTWARE	= 70,	/* index corrupt or newer than this program */
	CLI_CANTCREAT	= 73,	/* serve, reindex --repair: cannot create the data dir or index */
	CLI_TEMPFAIL	= 75,	/* index busy; drain: messages deferred, or interrupted */
	CLI_CONFIG	= 78,	/* configuration file unusable */
};

#define CLI_CONCURRENCY_MAX	256	/* [replay] concurrency, drain --concurrency */

/* which options a command accepts (cli_getopt) */
/* --state --domain --rcpt --sender --since --until --older-than */
#define CLI_O_FILTER	0x0001
#define CLI_O_JSON	0x0002
#define CLI_O_LIMIT	0x0004
#define CLI_O_YES	0x0008
#define CLI_O_ALL	0x0010
#define CLI_O_DRAIN	0x0020	/* --to --rate --concurrency --dry-run */
#define CLI_O_REINDEX	0x0040	/* --repair --node */
#define CLI_O_DOMAIN	0x0080	/* --domain alone (check) */
#define CLI_O_DRILL	0x0100	/* --gateway --canary --deliver */
#define CLI_O_DRYRUN	0x0200	/* --dry-run alone (adopt) */
#define CLI_O_FORCE	0x0400	/* --force (adopt) */
#define CLI_O_FLEET	0x0800	/* --fleet (status) */
#define CLI_GATEWAYS_MAX	16	/* drill --gateway */

struct cli {
	const char		*cmd;		/* for messages */
	const char		*config_path;
	struct config		*cfg;
	struct index		*ix;
	struct store		*store;
	/* options */
	struct index_filter	 f;
	int			 json, yes, all, dry_run, repair;
	const char		*to, *rate, *node;
	int			 concurrency;
	const char		*gateways[CLI_GATEWAYS_MAX], *canary;
	int			 ngateways, deliver;
	int			 force, fleet;
	int			 nargs;
	char			**args;		/* operands after the options */
};

struct cli_cmd {
	const char	*name;
	int		(*fn)(struct cli *);
	int		 opts;
	const char	*usage;
	const char	*help;
};

extern const struct cli_cmd cli_cmds[];

/* cli_getopt - parse argv (after the command name) into c; exit code or 0 */
int	cli_getopt(struct cli *, const struct cli_cmd *, int argc, char **argv);
/* cli_err - print "mxspool-replay: cmd: ..." and return code */
int	cli_err(struct cli *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* cli_index - open the existing index; exit code or 0 */
int	cli_index(struct cli *);
/* cli_store - open the store (and the index: it must exist unless create); exit code or 0 */
int	cli_store(struct cli *, int create);
/* cli_index_exit - exit code for an index status (and print the reason) */
int	cli_index_exit(struct cli *, enum index_status, const char *what);
/* cli_time - "2026-11-23 06:57:09" UTC */
void	cli_time(int64_t ms, char *out, size_t outlen);
/* cli_parse_time - ISO date/time (UTC), @epoch, or a duration meaning that long ago */
int	cli_parse_time(const char *, int64_t now, int64_t *ms);
/* cli_confirm - ask "prompt [y/N]" on a terminal; 1 yes */
int	cli_confirm(struct cli *, const char *prompt);
/* cli_foreach_target - apply fn to the operand ids, or with --all to the filter's matches */
int	cli_foreach_target(struct cli *, const char *default_state,
	    int (*fn)(struct cli *, const char *id, int *changed), const char *verb);

/* commands */
int	cli_status(struct cli *);
int	cli_list(struct cli *);
int	cli_show(struct cli *);
int	cli_export(struct cli *);
int	cli_qshape(struct cli *);
int	cli_hold(struct cli *);
int	cli_release(struct cli *);
int	cli_requeue(struct cli *);
int	cli_quarantine(struct cli *);
int	cli_delete(struct cli *);
int	cli_reindex(struct cli *);
int	cli_pause(struct cli *);
int	cli_resume(struct cli *);
int	cli_rate(struct cli *);
int	cli_drain(struct cli *);
int	cli_serve(struct cli *);
int	cli_verify(struct cli *);
int	cli_check(struct cli *);
int	cli_drill(struct cli *);
int	cli_adopt(struct cli *);
/* cli_status_fleet - status --fleet [--json] (cli_fleet.c) */
int	cli_status_fleet(struct cli *);

#endif
