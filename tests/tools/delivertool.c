/*
 * delivertool.c - send one file through the replay delivery client (e2e tests).
 *
 *   delivertool [-c CONF] [--to ROUTE] --from A --rcpt "B [NOTIFY=.. ORCPT=..]" ...
 *       [--params "BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x"] [--tls none|opportunistic|required]
 *       [--ca FILE] [--verify] [--helo NAME] [--timeout SECS] [--repeat N] FILE
 *
 * Prints one line per recipient and send: "RCPT CODE ENHANCED TEXT" (ENHANCED "-" when
 * none), and "status ok|tempfail|permfail: reason" plus the TLS info on stderr.
 * Exit 0 when the transaction(s) ran (whatever the codes), 75 on a temporary failure,
 * 64 on usage errors.  ROUTE defaults to [routes] of the first recipient's domain.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "limits.h"
#include "deliver.h"

#define DT_RCPTS_MAX	64

/* dt_usage - print usage and exit 64 */
static void __attribute__((noreturn))
dt_usage(void)
{
	fprintf(stderr, "usage: delivertool [-c CONF] [--to ROUTE] --from A --rcpt B ... "
	    "[--params P] [--tls none|opportunistic|required] [--ca FILE] [--verify] "
	    "[--helo NAME] [--timeout SECS] [--repeat N] FILE\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' }, { "from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "params", required_argument, NULL, 'p' },
		{ "tls", required_argument, NULL, 'T' }, { "ca", required_argument, NULL, 'a' },
		{ "verify", no_argument, NULL, 'V' }, { "helo", required_argument, NULL, 'h' },
		{ "timeout", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 } };
	struct deliver_rcpt	 rcpts[DT_RCPTS_MAX];
	struct deliver_route	 route;
	struct deliver_routes	*routes = NULL;
	struct deliver_opts	 opts;
	struct deliver_msg	 msg;
	struct deliver_conn	*c;
	struct config		*cfg = NULL;
	struct stat		 st;
	const char		*to = NULL, *conf = NULL, *dom;
	char			 err[ERRSTR_MAX * 2], *sp;
	long long		 n;
	int			 ch, code, rc = 0, repeat = 1, i;
	size_t			 k;
	enum deliver_status	 ds;

	log_init("delivertool");
	signal(SIGPIPE, SIG_IGN);
	memset(&msg, 0, sizeof(msg));
	memset(&opts, 0, sizeof(opts));
	msg.mail_from = "";
	msg.mail_params = "";
	msg.rcpts = rcpts;
	opts.tls = DELIVER_TLS_NONE;
	opts.connect_timeout = 10;
	opts.command_timeout = opts.data_timeout = 30;
	for (i = 1; i < argc - 1; i++)	/* -c first: the flags below override the file */
		if (strcmp(argv[i], "-c") == 0)
			conf = argv[i + 1];
	if (conf != NULL) {
		if ((cfg = config_load(conf, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		deliver_opts_load(cfg, &opts);
	}
	while ((ch = getopt_long(argc, argv, "c:", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': break;
		case 't': to = optarg; break;
		case 'f': msg.mail_from = optarg; break;
		case 'p': msg.mail_params = optarg; break;
		case 'a': opts.ca_file = optarg; break;
		case 'V': opts.tls_verify = 1; break;
		case 'h': opts.helo_name = optarg; break;
		case 'r':
			if (msg.nrcpts == DT_RCPTS_MAX)
				dt_usage();
			memset(&rcpts[msg.nrcpts], 0, sizeof(rcpts[0]));
			rcpts[msg.nrcpts].params = "";
			if ((sp = strchr(optarg, ' ')) != NULL) {
				*sp = '\0';
				rcpts[msg.nrcpts].params = sp + 1;
			}
			rcpts[msg.nrcpts++].addr = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "none") == 0)
				opts.tls = DELIVER_TLS_NONE;
			else if (strcmp(optarg, "opportunistic") == 0)
				opts.tls = DELIVER_TLS_OPPORTUNISTIC;
			else if (strcmp(optarg, "required") == 0)
				opts.tls = DELIVER_TLS_REQUIRED;
			else
				dt_usage();
			break;
		case 'o':
			if (config_parse_num(optarg, 1, 3600, &n) == -1)
				dt_usage();
			opts.connect_timeout = opts.command_timeout = opts.data_timeout = (int)n;
			break;
		case 'n':
			if (config_parse_num(optarg, 1, 1000, &n) == -1)
				dt_usage();
			repeat = (int)n;
			break;
		default:
			dt_usage();
		}
	}
	if (optind != argc - 1 || msg.nrcpts == 0)
		dt_usage();
	if ((msg.fd = open(argv[optind], O_RDONLY)) == -1 || fstat(msg.fd, &st) == -1)
		fatal("%s", argv[optind]);
	msg.size = st.st_size;
	if (to != NULL) {
		if (route_parse(to, &route) == -1)
			fatalx("bad route %s", to);
	} else {
		dom = strrchr(rcpts[0].addr, '@');
		if (cfg == NULL || (routes = deliver_routes_load(cfg, err, sizeof(err))) == NULL ||
		    deliver_route_lookup(routes, dom ? dom + 1 : "", &route) == -1)
			fatalx("no --to and no [routes] entry for %s", rcpts[0].addr);
		deliver_routes_free(routes);
	}
	if ((c = deliver_connect(&route, &opts, &code, err, sizeof(err))) == NULL) {
		fprintf(stderr, "status tempfail: connect code=%d: %s\n", code, err);
		close(msg.fd);
		config_free(cfg);
		return 75;
	}
	fprintf(stderr, "tls \"%s\"\n", deliver_tls_info(c));
	for (i = 0; i < repeat && rc == 0; i++) {
		ds = deliver_send(c, &msg, err, sizeof(err));
		for (k = 0; k < msg.nrcpts; k++)
			printf("%s %d %s %s\n", rcpts[k].addr, rcpts[k].code,
			    rcpts[k].enhanced[0] ? rcpts[k].enhanced : "-", rcpts[k].text);
		fflush(stdout);
		fprintf(stderr, "status %s: %s\n", ds == DELIVER_OK ? "ok" :
		    ds == DELIVER_TEMPFAIL ? "tempfail" : "permfail", err);
		if (ds == DELIVER_TEMPFAIL)
			rc = 75;
	}
	fprintf(stderr, "usable %d\n", deliver_usable(c));
	deliver_close(c);
	close(msg.fd);
	config_free(cfg);
	return rc;
}
