/*
 * verifytool.c - ask the recipient verification of mxspool-ingest from the
 * command line (e2e tests and operators).
 *
 *   verifytool [-c CONF] ADDR...           "ADDR ok|nodomain|nouser|tempfail TEXT"
 *   verifytool [-c CONF] --cache ADDR...   "ADDR positive|negative|none [expired]"
 *   verifytool [-c CONF] --flush ADDR...   forget cached callout answers
 *   verifytool [-c CONF] --monitor [N]     wait for N probes (default: enough for
 *                                          the hysteresis), print healthy|unhealthy|unknown
 * Exits 0 when the answers were printed (whatever they are), 1 on a config
 * or index error, 64 on usage.  The verification code is ingest/'s own, linked
 * from libmxingest.a through rcpt_verify.h (no private part of it is used).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "index.h"
#include "index_verify.h"
#include "limits.h"
#include "log.h"
#include "mailaddr.h"
#include "rcpt_verify.h"
#include "smtpc_health.h"

static const char *const verifytool_names[] = { "ok", "nodomain", "nouser", "tempfail" };

/* verifytool_cache - print (or delete) cache rows; addresses as verify_rcpt keys them */
static int
verifytool_cache(const struct config *cfg, char **addrs, int n, int flush)
{
	struct index_verify_entry	 e;
	struct index			*idx;
	char				 path[CONFIG_PATH_MAX + 1], err[ERRSTR_MAX];
	char				 norm[MXS_ADDR_MAX + 2];
	const char			*key;
	size_t				 llen;
	int				 i, cs;
	enum index_status		 s;

	config_index_path(cfg, path, sizeof(path));
	if ((idx = index_open_existing(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "verifytool: %s\n", err);
		return 1;
	}
	cs = config_bool(cfg, "ingest", "case_sensitive_local", 0);
	for (i = 0; i < n; i++) {
		key = mailaddr_key(addrs[i], cs, norm, sizeof(norm), &llen) == 0 ? norm :
		    addrs[i];
		if (flush) {
			s = index_verify_delete(idx, key);
			printf("%s %s\n", key, s == INDEX_OK ? "flushed" : "error");
			continue;
		}
		s = index_verify_get(idx, key, &e);
		if (s == INDEX_NOTFOUND)
			printf("%s none\n", key);
		else if (s == INDEX_OK)
			printf("%s %s%s %d %s\n", key, e.result ? "positive" : "negative",
			    e.expires_ms <= now_ms() ? " expired" : "", e.code, e.text);
		else
			printf("%s error\n", key);
	}
	index_close(idx);
	return 0;
}

/* verifytool_monitor - run the monitor until it has probed n times */
static int
verifytool_monitor(const struct config *cfg, long n)
{
	struct monitor		*m;
	struct smtpc_health	 h;
	char			 err[ERRSTR_MAX];
	long long	 waited = 0, limit;

	if ((m = monitor_start(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "verifytool: %s\n", err[0] ? err : "[ingest] monitor is not set");
		return 1;
	}
	h = monitor_snapshot(m);
	if (n <= 0)
		n = h.up_after > h.down_after ? h.up_after : h.down_after;
	/* a bound against a wedged thread, not a timing assertion */
	limit = (n + 1) * monitor_period_ms(m) + 10000;
	while (monitor_probes(m) < n && waited < limit) {
		usleep(20000);
		waited += 20;
	}
	printf("%s\n", smtpc_health_name(monitor_snapshot(m).state));
	monitor_stop(m);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config		*cfg;
	struct verify		*v;
	const char		*conf = NULL;
	char			 err[ERRSTR_MAX], text[256];
	enum verify_result	 r;
	long long		 n = 0;
	int			 i = 1, rc = 0;

	log_init("verifytool");
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		conf = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: verifytool [-c conf] [--cache|--flush] addr...\n"
		    "       verifytool [-c conf] --monitor [probes]\n");
		return 64;
	}
	if ((cfg = config_load(config_path_default(conf), err, sizeof(err))) == NULL) {
		fprintf(stderr, "verifytool: %s\n", err);
		return 1;
	}
	if (strcmp(argv[i], "--monitor") == 0) {
		if (i + 1 < argc && config_parse_num(argv[i + 1], 1, 1000, &n) == -1) {
			fprintf(stderr, "verifytool: --monitor %s: want 1 to 1000\n", argv[i + 1]);
			rc = 64;
		} else
			rc = verifytool_monitor(cfg, (long)n);
	} else if (strcmp(argv[i], "--cache") == 0 || strcmp(argv[i], "--flush") == 0) {
		rc = verifytool_cache(cfg, argv + i + 1, argc - i - 1,
		    strcmp(argv[i], "--flush") == 0);
	} else if ((v = verify_load(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "verifytool: %s\n", err);
		rc = 1;
	} else {
		for (; i < argc; i++) {
			r = verify_rcpt(v, argv[i], text, sizeof(text));
			printf("%s %s %s\n", argv[i], verifytool_names[r], text);
		}
		verify_free(v);
	}
	config_free(cfg);
	return rc;
}
