/*
 * main.c - mxspool-ingest: the backup-MX SMTP server.
 *
 * Start-up: config, [ingest] snapshot (verify tables, TLS), bind the SMTP and
 * health sockets, create the data and staging directories (owned by [ingest]
 * user: their parents may be root's), drop root, then open the index, spool
 * and store (so whatever they create is the user's), start the commit
 * workers, the housekeeping thread (fallback spool flush, counters to the
 * index, crash leftovers: store_reconcile) and the accept thread.  The main
 * thread then waits for signals: SIGHUP reloads (the new file goes through
 * the same check as `-t` and start-up, ingest_conf_read(), in this process:
 * with any error it is refused, every error logged, and the running
 * configuration kept; else a new snapshot is swapped in and running sessions
 * keep theirs), SIGTERM/SIGINT shut down:
 * stop accepting, idle sessions get 421 4.3.2, transactions in flight may
 * finish during [ingest] shutdown_grace, then the rest get 421.
 * Usage: mxspool-ingest [-c config] [-t] [-d]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "datadir.h"
#include "dns.h"
#include "index_ingest.h"
#include "ingest.h"
#include "fleet.h"
#include "log.h"
#include "msgid.h"
#include "rcpt_verify.h"
#include "smtpc.h"
#include "store.h"
#include "version.h"

struct ingest_global ingest;

static struct store	*hk_store;	/* housekeeping thread's handle */
static struct store	*health_store;	/* the health thread's handle */
static pthread_t	 hk_thread;
static struct fleet_agent *fleet;	/* this node's heartbeat in the bucket (NULL: off) */
static int		 hk_pipe[2] = { -1, -1 };
static int		 stop_pipe[2], hard_pipe[2];
static const char	*conf_path;
static struct dns	*peer_dns;	/* smtpc_resolver(): [dns] of the start-up config */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: mxspool-ingest [-c config] [-t] [-d] | -V\n"
	    "  -c FILE  configuration (default $MXSPOOL_CONFIG or /etc/mxspool/mxspool.conf)\n"
	    "  -t       check the configuration and exit\n"
	    "  -d       debug logging (every reply)\n"
	    "  -V       print the version and exit (also --version)\n");
	exit(64);
}

/*
 * ingest_healthy - see ingest.h; runs on the health thread only.  Nothing here
 * waits on the object store (store_healthy reads the breaker); the index check
 * waits at most the health handle's short busy timeout.
 */
int
ingest_healthy(char *why, size_t whylen)
{
	struct ingest_rt	*rt;
	struct statvfs		 sv;
	int			 full;

	if (health_store == NULL) {
		snprintf(why, whylen, "starting");
		return 0;
	}
	rt = ingest_rt_get();
	full = statvfs(rt->conf->staging_dir, &sv) == 0 && (long long)sv.f_bavail *
	    (long long)sv.f_frsize <= rt->conf->min_free_space;
	if (full)
		snprintf(why, whylen, "staging %s: file system full (min_free_space %lld)",
		    rt->conf->staging_dir, (long long)rt->conf->min_free_space);
	ingest_rt_put(rt);
	if (full || !store_healthy(health_store, why, whylen))
		return 0;
	if (index_ingest_writable(store_index(health_store)) != INDEX_OK) {
		snprintf(why, whylen, "index not writable");
		return 0;
	}
	return 1;
}

/* hk_main - flush the fallback spool and the counters periodically; reconcile hourly */
static void *
hk_main(void *arg)
{
	const struct ingest_conf	*ic;
	struct ingest_rt		*rt;
	struct reconcile_result		 rr;
	struct pollfd			 pfd;
	time_t				 now, next_flush = 0, next_counters = 0, next_reconcile = 0;
	int				 stop = 0, left;

	pfd.fd = hk_pipe[0];
	pfd.events = POLLIN;
	while (!stop) {
		stop = poll(&pfd, 1, 1000) > 0;
		rt = ingest_rt_get();
		ic = rt->conf;
		now = time(NULL);
		if (now >= next_counters || stop) {
			if (counters_flush(store_index(hk_store)) != 0)
				log_warnx("- ingest counters_flush failed (kept for the next try)"
				    " reason=\"%s\"", index_error(store_index(hk_store)));
			next_counters = now + ic->counters_interval;
		}
		if (!stop)
			store_probe(hk_store);
		if (now >= next_flush && !stop) {
			left = store_spool_flush(hk_store);
			if (left > 0)
				log_info("- ingest spool_flush remaining=%d", left);
			next_flush = now + ic->flush_interval;
		}
		/* at start-up, what a crash left; then hourly: orphans younger than
		 * [storage] orphan_age at start-up are taken on a later run */
		if (now >= next_reconcile && !stop) {
			(void)store_reconcile(hk_store, config_node(ingest.config), now_ms(), &rr);
			next_reconcile = now + RECONCILE_INTERVAL;
		}
		ingest_rt_put(rt);
	}
	return NULL;
}

/* make_dir - mkdir -p dir; as root, those created are the [ingest] user's */
static void
make_dir(const struct ingest_conf *ic, const char *dir, const char *what)
{
	const struct passwd	*pw = NULL;

	if (geteuid() == 0 && ic->user[0] != '\0' && (pw = getpwnam(ic->user)) == NULL)
		fatalx("[ingest] user %s: no such user", ic->user);
	if (datadir_mkdir(dir, pw ? pw->pw_uid : (uid_t)-1, pw ? pw->pw_gid : (gid_t)-1) != 0)
		fatal("%s: %s %s", conf_path, what, dir);
}

/* drop_privileges - when started as root: become [ingest] user ("": stay root) */
static void
drop_privileges(const struct ingest_conf *ic)
{
	struct passwd	*pw;
	char		 err[ERRSTR_MAX];

	if (geteuid() != 0)
		return;
	if (ic->user[0] == '\0') {
		log_warnx("- ingest running as root: [ingest] user is empty");
		return;
	}
	if ((pw = getpwnam(ic->user)) == NULL)
		fatalx("[ingest] user %s: no such user", ic->user);
	if (chown(ic->staging_dir, pw->pw_uid, pw->pw_gid) != 0)
		fatal("chown %s", ic->staging_dir);
	if (datadir_become(pw->pw_name, pw->pw_uid, pw->pw_gid, err, sizeof(err)) != 0)
		fatalx("[ingest] user %s: %s", ic->user, err);
	log_info("- ingest privileges user=%s", ic->user);
}

/* conf_report_log - a configuration error, as a log line */
static void
conf_report_log(const char *line, void *arg)
{
	(*(int *)arg)++;
	log_warnx("- ingest config_error %s", line);
}

/* conf_report_stderr - a configuration error, for -t */
static void
conf_report_stderr(const char *line, void *arg)
{
	(*(int *)arg)++;
	fprintf(stderr, "%s\n", line);
}

/* reload - SIGHUP: the new file through ingest_conf_read(), then swap the snapshot */
static void
reload(void)
{
	struct config		*c;
	struct ingest_rt	*rt;
	int			 nerr = 0;

	if ((rt = ingest_conf_read(conf_path, &c, conf_report_log, &nerr)) == NULL) {
		log_warnx("- ingest reload refused errors=%d config=%s: keeping the running "
		    "configuration", nerr, conf_path);
		return;
	}
	config_free(c);
	ingest_rt_install(rt);
	log_info("- ingest reload ok config=%s", conf_path);
}

/* wait_sessions - until no session runs or secs passed */
static void
wait_sessions(int secs)
{
	int i;

	for (i = 0; i < secs * 10 && listen_sessions() > 0; i++)
		usleep(100000);
}

/* raise_nofile - a thousand sessions need more than the usual 1024 descriptors */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* start - everything after the config is loaded */
static void
start(struct ingest_rt *rt)
{
	const struct ingest_conf	*ic = rt->conf;
	char				 err[512];

	if (listen_open(ic->listen, err, sizeof(err)) != 0 ||
	    health_start(ic->health_listen, err, sizeof(err)) != 0)
		fatalx("%s: %s", conf_path, err);
	/* as root, only the directories whose parents the user may not write to */
	make_dir(ic, config_data_dir(ingest.config), "[general] data_dir");
	make_dir(ic, ic->staging_dir, "[ingest] staging_dir");
	drop_privileges(ic);
	if (pipe2(stop_pipe, O_CLOEXEC) != 0 || pipe2(hard_pipe, O_CLOEXEC) != 0 ||
	    pipe2(hk_pipe, O_CLOEXEC) != 0)
		fatal("pipe");
	ingest.stop_fd = stop_pipe[0];
	ingest.hard_fd = hard_pipe[0];
	/* callout and monitor targets by name through [dns], for the process's life */
	if ((peer_dns = dns_open(ingest.config, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	smtpc_resolver(peer_dns);
	err[0] = '\0';
	if ((ingest.monitor = monitor_start(ingest.config, err, sizeof(err))) == NULL &&
	    err[0] != '\0')
		fatalx("%s: %s", conf_path, err);
	if (auth_init(ingest.config, ic->hostname, err, sizeof(err)) != 0)
		fatalx("%s: %s", conf_path, err);
	if (commit_start(ingest.config, ic->commit_workers, err, sizeof(err)) != 0)
		fatalx("%s: storage: %s", conf_path, err);
	if ((hk_store = store_open(ingest.config, err, sizeof(err))) == NULL ||
	    (health_store = store_open(ingest.config, err, sizeof(err))) == NULL)
		fatalx("%s: storage: %s", conf_path, err);
	/* before accepting: from now on this node's objects without a row are orphans */
	(void)store_register_node(hk_store, config_node(ingest.config), now_ms());
	/* /healthz answers within a second even when a writer holds the index */
	index_set_busy_timeout(store_index(health_store), 1000);
	if (pthread_create(&hk_thread, NULL, hk_main, NULL) != 0 || listen_start() != 0)
		fatalx("cannot start threads");
	log_info("- ingest started hostname=%s listen=%s node=%s", ic->hostname, ic->listen,
	    config_node(ingest.config));
	/* after accepting: a hanging bucket delays no session (its own thread afterwards) */
	if ((fleet = fleet_agent_start(ingest.config, FLEET_ROLE_INGEST, err,
	    sizeof(err))) == NULL && err[0] != '\0')
		log_warnx("- ingest fleet reason=\"%s\" (no heartbeat)", err);
}

/* shutdown_all - graceful stop (see the file comment) */
static void
shutdown_all(void)
{
	struct ingest_rt	*rt = ingest_rt_get();
	int			 grace = rt->conf->shutdown_grace;

	ingest_rt_put(rt);
	log_info("- ingest stopping sessions=%d grace=%ds", listen_sessions(), grace);
	ingest.stopping = 1;
	listen_stop();
	(void)!write(stop_pipe[1], "x", 1);
	wait_sessions(grace);
	(void)!write(hard_pipe[1], "x", 1);
	wait_sessions(10);
	commit_stop();
	if (listen_sessions() == 0)	/* a session still verifying keeps the libraries */
		auth_shutdown();
	staging_drain();
	(void)!write(hk_pipe[1], "x", 1);
	pthread_join(hk_thread, NULL);
	fleet_agent_stop(fleet);	/* the last heartbeat says exiting */
	health_stop();
	if (ingest.monitor != NULL)
		monitor_stop(ingest.monitor);
	store_close(hk_store);
	store_close(health_store);
	log_info("- ingest stopped");
}

int
main(int argc, char *argv[])
{
	struct ingest_rt	*rt;
	sigset_t		 set;
	int			 ch, check = 0, sig, nerr = 0;

	log_init("mxspool-ingest");
	if (argc == 2 && strcmp(argv[1], "--version") == 0)
		argv[1] = "-V";
	while ((ch = getopt(argc, argv, "c:dtV")) != -1) {
		switch (ch) {
		case 'V':
			printf("mxspool-ingest %s (index schema %d, SQLite %s)\n", MXS_VERSION,
			    index_known_version(), sqlite3_libversion());
			return 0;
		case 'c': conf_path = optarg; break;
		case 'd': log_setlevel(LOG_LVL_DEBUG); break;
		case 't': check = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	conf_path = config_path_default(conf_path);
	rt = ingest_conf_read(conf_path, &ingest.config, check ? conf_report_stderr :
	    conf_report_log, &nerr);
	if (rt == NULL) {
		fprintf(stderr, "%s: %d configuration error%s\n", conf_path, nerr,
		    nerr == 1 ? "" : "s");
		return 78;	/* EX_CONFIG */
	}
	if (check) {
		/* [auth] and auth_policy too: a typo must not wait for the real start */
		char err[ERRSTR_MAX];

		if (auth_init(ingest.config, rt->conf->hostname, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n%s: 1 configuration error\n", conf_path, err,
			    conf_path);
			return 78;	/* EX_CONFIG */
		}
		auth_shutdown();
		printf("%s: configuration ok\n", conf_path);
		ingest_rt_put(rt);
		config_free(ingest.config);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	raise_nofile();
	ingest_rt_install(rt);
	start(rt);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		break;
	}
	shutdown_all();
	ingest_rt_clear();
	config_free(ingest.config);
	return 0;
}
