/*
 * arctool.c - seal one message with mxspool's ARC sealer (replay/arc.c), for
 * the e2e tests that hand the result to independent verifiers.
 *
 *   arctool -c CONF [-r VERDICTS | -u] [-t TIME] FILE   the sealed message on stdout;
 *                                                "i=N cv=... why" on stderr
 * The message is taken as verified at ingest, with VERDICTS (default "none") as the index's
 * verdicts; -u: not verified (arc_seal() verdicts NULL: the AAR says "none").
 * The [arc] and [dns] sections of CONF are used as replay uses them.  Exits 0
 * sealed, 1 not sealed (reason on stderr), 64 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arc.h"
#include "config.h"

int
main(int argc, char **argv)
{
	struct config		*cfg;
	struct arc_conf		*a = NULL;
	struct arc_result	 res;
	struct buf		 out;
	struct stat		 sb;
	const char		*conf = NULL, *results = "none";
	char			 err[ERRSTR_MAX] = "", chunk[65536];
	time_t			 t = time(NULL);
	ssize_t			 n;
	int			 ch, fd, unverified = 0;

	while ((ch = getopt(argc, argv, "c:r:t:u")) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'r')
			results = optarg;
		else if (ch == 'u')
			unverified = 1;
		else if (ch == 't')
			t = (time_t)strtoll(optarg, NULL, 10);
		else
			return 64;
	}
	if (conf == NULL || optind != argc - 1) {
		fprintf(stderr, "usage: arctool -c CONF [-r VERDICTS | -u] [-t TIME] FILE\n");
		return 64;
	}
	if ((cfg = config_load(conf, err, sizeof(err))) == NULL ||
	    arc_conf_load(cfg, &a, err, sizeof(err)) == -1 || a == NULL) {
		fprintf(stderr, "arctool: %s\n", a == NULL && cfg != NULL && !err[0] ?
		    "[arc] not configured" : err);
		return 1;
	}
	if ((fd = open(argv[optind], O_RDONLY)) == -1 || fstat(fd, &sb) == -1) {
		perror(argv[optind]);
		return 1;
	}
	buf_init(&out, 4 * ARC_HEADER_MAX);
	if (arc_seal(a, fd, sb.st_size, unverified ? NULL : results, t, &out, &res, err, sizeof(err)) == -1) {
		fprintf(stderr, "arctool: not sealed: %s\n", err);
		return 1;
	}
	fprintf(stderr, "i=%d cv=%s%s%s\n", res.instance, res.cv, res.why[0] ? " " : "", res.why);
	fwrite(out.data, 1, out.len, stdout);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, (size_t)n, stdout);
	buf_free(&out);
	close(fd);
	arc_conf_free(a);
	config_free(cfg);
	return fflush(stdout) == 0 ? 0 : 1;
}
