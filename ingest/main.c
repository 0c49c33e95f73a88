/*
 * main.c - mxspool-ingest: the backup-MX SMTP server.
 *
 * Start-up: config, [ingest] snapshot (verify tables, TLS), bind the SMTP and
 * health sockets, drop root ([ingest] user), create the staging directory,
 * start the commit workers, the housekeeping thread (fallback spool flush,
 * counters to the index) and the accept thread.  The main thread then waits
 * for signals: SIGHUP reloads (the new config is first checked in a child
 * process, since the config getters exit on a bad value; then a new snapshot
 * is swapped in and running sessions keep theirs), SIGTERM/SIGINT shut down:
 * stop accepting, idle sessions get 421 4.3.2, transactions in flight may
 * finish during [ingest] shutdown_grace, then the rest get 421.
 * Usage: mxspool-ingest [-c config] [-t] [-d]
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "index_ingest.h"
#include "ingest.h"
#include "log.h"
#include "rcpt_verify.h"
#include "store.h"
#include "version.h"

struct ingest_global ingest;

static struct store	*hk_store;	/* housekeeping thread's handle */
static struct store	*health_store;	/* the health thread's handle */
static pthread_t	 hk_thread;
static int		 hk_pipe[2] = { -1, -1 };
static int		 stop_pipe[2], hard_pipe[2];
static const char	*conf_path;

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

/* ingest_healthy - see ingest.h; runs on the health thread only */
int
ingest_healthy(char *why, size_t whylen)
{
	if (health_store == NULL) {
		snprintf(why, whylen, "starting");
		return 0;
	}
	if (!store_healthy(health_store, why, whylen))
		return 0;
	if (index_ingest_writable(store_index(health_store)) != INDEX_OK) {
		snprintf(why, whylen, "index not writable");
		return 0;
	}
	return 1;
}

/* hk_main - flush the fallback spool and the counters periodically */
static void *
hk_main(void *arg)
{
	const struct ingest_conf	*ic;
	struct ingest_rt		*rt;
	struct pollfd			 pfd;
	time_t				 now, next_flush = 0, next_counters = 0;
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
				log_warnx("- ingest counters_flush failed (kept for the next try)");
			next_counters = now + ic->counters_interval;
		}
		if (now >= next_flush && !stop) {
			left = store_spool_flush(hk_store);
			if (left > 0)
				log_info("- ingest spool_flush remaining=%d", left);
			next_flush = now + ic->flush_interval;
		}
		ingest_rt_put(rt);
	}
	return NULL;
}

/* mkdir_p - create dir and its parents (mode 0750) */
static int
mkdir_p(const char *dir)
{
	char	path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -1;
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

/* drop_privileges - when started as root: become [ingest] user ("": stay root) */
static void
drop_privileges(const struct ingest_conf *ic)
{
	struct passwd *pw;

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
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		fatal("cannot drop privileges to %s", ic->user);
	if (setuid(0) == 0)
		fatalx("privileges could be regained after dropping them");
	log_info("- ingest privileges user=%s", ic->user);
}

/* reload - SIGHUP: check the new config in a child, then swap the snapshot */
static void
reload(void)
{
	struct config		*c;
	struct ingest_rt	*rt;
	char			 err[512];
	pid_t			 pid;
	int			 status;

	if ((pid = fork()) < 0) {
		log_warn("- ingest reload failed: fork");
		return;
	}
	if (pid == 0) {
		/* the getters fatalx() on a bad value: let that happen here */
		if ((c = config_load(conf_path, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		if ((rt = ingest_rt_build(c, err, sizeof(err))) == NULL)
			fatalx("%s", err);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_warnx("- ingest reload refused: configuration error (see above); "
		    "keeping the running configuration");
		return;
	}
	if ((c = config_load(conf_path, err, sizeof(err))) == NULL ||
	    (rt = ingest_rt_build(c, err, sizeof(err))) == NULL) {
		log_warnx("- ingest reload refused: %s", err);
		if (c != NULL)
			config_free(c);
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
	if (mkdir_p(ic->staging_dir) != 0)
		fatal("%s: [ingest] staging_dir %s", conf_path, ic->staging_dir);
	drop_privileges(ic);
	if (pipe2(stop_pipe, O_CLOEXEC) != 0 || pipe2(hard_pipe, O_CLOEXEC) != 0 ||
	    pipe2(hk_pipe, O_CLOEXEC) != 0)
		fatal("pipe");
	ingest.stop_fd = stop_pipe[0];
	ingest.hard_fd = hard_pipe[0];
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
	if (pthread_create(&hk_thread, NULL, hk_main, NULL) != 0 || listen_start() != 0)
		fatalx("cannot start threads");
	log_info("- ingest started hostname=%s listen=%s node=%s", ic->hostname, ic->listen,
	    config_node(ingest.config));
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
	char			 err[512];
	int			 ch, check = 0, sig;

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
	if ((ingest.config = config_load(conf_path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((rt = ingest_rt_build(ingest.config, err, sizeof(err))) == NULL)
		fatalx("%s: %s", conf_path, err);
	if (check) {
		/* [auth] and auth_policy too: a typo must not wait for the real start */
		if (auth_init(ingest.config, rt->conf->hostname, err, sizeof(err)) != 0)
			fatalx("%s: %s", conf_path, err);
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
