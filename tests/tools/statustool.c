/*
 * statustool.c - the status HTTP server alone, for tests:
 *
 *   statustool -c CONF    status_start(CONF), serve until SIGTERM/SIGINT
 *
 * The status modules come from libmxreplay.a (tools are linked with the
 * programs' modules).  Exit 0 after a clean stop, 1 when the server does not
 * start (the reason on stderr).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "status.h"

int
main(int argc, char *argv[])
{
	struct status_server	*srv;
	struct config		*cfg;
	const char		*path = NULL;
	char			 err[512];
	sigset_t		 set;
	int			 ch, sig;

	log_init("statustool");
	while ((ch = getopt(argc, argv, "c:")) != -1)
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			fprintf(stderr, "usage: statustool -c CONF\n");
			return 64;
		}
	if (path == NULL) {
		fprintf(stderr, "usage: statustool -c CONF\n");
		return 64;
	}
	if ((cfg = config_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "statustool: %s\n", err);
		return 1;
	}
	/* block the signals before any thread starts, then wait for one */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((srv = status_start(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "statustool: %s\n", err);
		config_free(cfg);
		return 1;
	}
	sigwait(&set, &sig);
	status_stop(srv);
	config_free(cfg);
	return 0;
}
