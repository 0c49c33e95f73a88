/*
 * cli_run.c - the commands that deliver: `serve` (the worker daemon, with the
 * HTTP status server when [http] listen is set) and `drain` (foreground
 * delivery of a selection, like postqueue -f / -s with a rate, a progress
 * bar and a clean Ctrl-C).
 *
 * Both build a struct sched_conf from [replay], [routes] and [deliver] and
 * run the scheduler.  A first SIGINT/SIGTERM stops leasing and lets in-flight
 * messages finish (their leases released); a second one exits at once (the
 * next run reclaims the leases of this dead process).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arc.h"
#include "check.h"
#include "cli.h"
#include "config.h"
#include "log.h"
#include "msgid.h"
#include "rate.h"
#include "route_rate.h"
#include "sched.h"
#include "status.h"

static volatile sig_atomic_t	cli_stop;

/* cli_on_signal - first: stop cleanly; second: leave now */
static void
cli_on_signal(int sig)
{
	static const char msg[] = "mxspool-replay: stopping at once; leases are reclaimed on"
	    " the next run\n";

	if (cli_stop) {
		(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(130);
	}
	cli_stop = 1;
}

/* cli_signals - install the handlers */
static void
cli_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* cli_sched_free - what cli_sched_conf allocated */
static void
cli_sched_free(struct sched_conf *sc)
{
	route_rate_free(sc->wc.route_rates);
	deliver_routes_free(sc->wc.routes);
	arc_conf_free(sc->wc.arc);
}

/* cli_sched_conf - [replay] [routes] [deliver] [arc] into sc; exit code or 0 */
static int
cli_sched_conf(struct cli *c, struct sched_conf *sc)
{
	const struct config	*cfg = c->cfg;
	struct deliver_routes	*routes;
	const char		*v;
	char			 host[256], err[ERRSTR_MAX];

	memset(sc, 0, sizeof(*sc));
	sc->wc.cfg = cfg;
	deliver_opts_load(cfg, &sc->wc.dopts);
	sched_owner(sc->wc.owner, sizeof(sc->wc.owner));
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(sc->wc.reporting_mta, sizeof(sc->wc.reporting_mta), "%s",
	    config_str(cfg, "replay", "hostname", host));
	if ((v = config_str(cfg, "replay", "dsn_relay", NULL)) != NULL && *v) {
		if (route_parse(v, &sc->wc.dsn_relay) == -1)
			return cli_err(c, CLI_CONFIG, "%s: [replay] dsn_relay = %s: want"
			    " smtp://host[:port]", config_path(cfg), v);
		sc->wc.has_dsn_relay = 1;
	}
	sc->wc.min_backoff_ms = config_duration(cfg, "replay", "min_backoff", 60, 1, 86400) * 1000;
	sc->wc.max_backoff_ms = config_duration(cfg, "replay", "max_backoff", 3600, 1,
	    7 * 86400) * 1000;
	if (sc->wc.max_backoff_ms < sc->wc.min_backoff_ms)
		sc->wc.max_backoff_ms = sc->wc.min_backoff_ms;
	sc->wc.lifetime_ms = config_duration(cfg, "replay", "max_lifetime", 7 * 86400, 1,
	    365LL * 86400) * 1000;
	sc->wc.lease_ms = config_duration(cfg, "replay", "lease_time", 600, 10, 86400) * 1000;
	sc->retention_ms = config_duration(cfg, "replay", "retention", 7 * 86400, 0,
	    3650LL * 86400) * 1000;
	sc->forget_ms = config_duration(cfg, "replay", "forget_after", 90 * 86400, 0,
	    3650LL * 86400) * 1000;
	v = config_str(cfg, "replay", "rate", "10");
	if (rate_parse(v, &sc->rate) == -1)
		return cli_err(c, CLI_CONFIG, "%s: [replay] rate = %s: want messages/s like 10,"
		    " 0.5 or 600/m (0 = unlimited)", config_path(cfg), v);
	sc->concurrency = (int)config_num(cfg, "replay", "concurrency", 4, 1, 256);
	sc->ramp_s = (double)config_duration(cfg, "replay", "ramp", 30, 1, 86400);
	sc->poll_ms = config_duration(cfg, "replay", "poll_interval", 1, 1, 3600) * 1000;
	sc->probe_ms = config_duration(cfg, "replay", "probe_interval", 30, 0, 86400) * 1000;
	sc->storage_timeout_s = (int)config_duration(cfg, "replay", "storage_probe_timeout", 5, 1,
	    60);
	sc->start_paused = config_bool(cfg, "replay", "start_paused", 0);
	sc->autostart_probes = (int)config_num(cfg, "replay", "autostart_probes", 0, 0, 100000);
	/* [routes] parsed once here; config_check() has already refused a bad line */
	if ((routes = deliver_routes_load(cfg, err, sizeof(err))) == NULL)
		return cli_err(c, CLI_CONFIG, "%s", err);
	sc->wc.routes = routes;
	if ((sc->wc.route_rates = route_rate_load(cfg, routes, sc->ramp_s, err,
	    sizeof(err))) == NULL && err[0]) {
		deliver_routes_free(routes);
		return cli_err(c, CLI_CONFIG, "%s: %s", config_path(cfg), err);
	}
	if (arc_conf_load(cfg, &sc->wc.arc, err, sizeof(err)) == -1) {
		cli_sched_free(sc);
		return cli_err(c, CLI_CONFIG, "%s: [arc] %s", config_path(cfg), err);
	}
	return 0;
}

int
cli_serve(struct cli *c)
{
	struct sched_conf	 sc;
	struct sched_stats	 st;
	struct status_server	*http = NULL;
	struct check_serve	*cs;
	char			 err[ERRSTR_MAX];
	int			 rc;

	if (c->nargs)
		return cli_err(c, CLI_USAGE, "no operands expected");
	if ((rc = cli_sched_conf(c, &sc)) != 0)
		return rc;
	sc.use_control = 1;
	cli_signals();
	if (config_str(c->cfg, "http", "listen", NULL) != NULL &&
	    (http = status_start(c->cfg, err, sizeof(err))) == NULL) {
		cli_sched_free(&sc);
		return cli_err(c, CLI_UNAVAILABLE, "http: %s", err);
	}
	log_info("- replay start owner=%s rate=%.3f concurrency=%d start_paused=%s",
	    sc.wc.owner, sc.rate, sc.concurrency, sc.start_paused ? "yes" : "no");
	cs = check_serve_start(c->cfg);
	rc = sched_run(&sc, &cli_stop, &st) == -1 ? CLI_UNAVAILABLE : CLI_OK;
	check_serve_stop(cs);
	cli_sched_free(&sc);
	log_info("- replay stop attempts=%lld delivered=%lld deferred=%lld quarantined=%lld",
	    (long long)st.done, (long long)st.delivered, (long long)st.deferred,
	    (long long)st.quarantined);
	status_stop(http);
	return rc;
}

struct cli_progress {
	int	tty;
	int64_t	total;		/* messages selected at the start */
	int64_t	start_ms;
};

/* cli_eta - "h:mm:ss" for secs, "--:--" when unknown (secs < 0) */
static const char *
cli_eta(long secs, char *out, size_t outlen)
{
	if (secs < 0)
		snprintf(out, outlen, "--:--");
	else
		snprintf(out, outlen, "%ld:%02ld:%02ld", secs / 3600, secs / 60 % 60, secs % 60);
	return out;
}

/*
 * cli_bar - redraw the progress bar (terminal): "\r" back to the start of
 * the line and ESC[K to clear what a longer bar left (ECMA-48 EL).
 */
static void
cli_bar(const struct cli_progress *p, const struct sched_stats *st)
{
	char	bar[31], eta[32];
	int	fill = p->total > 0 ? (int)(st->done * 30 / p->total) : 30;
	double	el = (double)(now_ms() - p->start_ms) / 1000.0;
	double	r = el > 0 ? (double)st->done / el : 0;
	int64_t	left = p->total > st->done ? p->total - st->done : 0;

	if (fill > 30)
		fill = 30;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(30 - fill));
	bar[30] = '\0';
	fprintf(stdout, "\r\033[K[%s] %lld/%lld %.1f msg/s ETA %s  delivered=%lld deferred=%lld"
	    " quarantined=%lld", bar, (long long)st->done, (long long)p->total, r,
	    cli_eta(r > 0 ? (long)((double)left / r) : -1, eta, sizeof(eta)),
	    (long long)st->delivered, (long long)st->deferred, (long long)st->quarantined);
	fflush(stdout);
}

/* cli_progress - sched progress callback: a bar on a terminal, else a line per message */
static void
cli_progress(const struct sched_stats *st, const char *id, const struct worker_result *r,
    void *arg)
{
	struct cli_progress *p = arg;

	if (p->tty) {
		cli_bar(p, st);
		return;
	}
	if (id == NULL || r == NULL || r->lost)
		return;
	printf("%s delivered=%d deferred=%d quarantined=%d expired=%d\n", id, r->delivered,
	    r->deferred, r->quarantined, r->expired);
	fflush(stdout);
}

struct cli_dry {
	struct cli			*c;
	const struct deliver_routes	*routes;
	int64_t				 n;
};

/* cli_rcpt_selected - 1 if drain sends to r: pending, and in --domain / --rcpt if given */
static int
cli_rcpt_selected(const struct cli *c, const struct index_rcpt_row *r)
{
	return r->state == RCPT_PENDING && (c->f.domain == NULL ||
	    strcasecmp(r->domain, c->f.domain) == 0) && (c->f.rcpt == NULL ||
	    strcasecmp(r->rcpt, c->f.rcpt) == 0);
}

/* cli_dry_rcpt - dry run: one recipient that would be sent */
static int
cli_dry_rcpt(const struct index_rcpt_row *r, void *arg)
{
	struct cli_dry		*d = arg;
	struct cli		*c = d->c;
	struct deliver_route	 rt;
	const char		*target = "(no route: would stay queued)";

	if (!cli_rcpt_selected(c, r))
		return 0;
	if (c->to)
		target = c->to;
	else if (deliver_route_lookup(d->routes, r->domain, &rt) == 0)
		target = rt.target;
	printf("  -> <%s> via %s\n", r->rcpt, target);
	return 0;
}

/* cli_dry_msg - dry run: one message that would be leased */
static int
cli_dry_msg(const struct index_msg_row *m, void *arg)
{
	struct cli_dry *d = arg;

	printf("would send %s from <%s> (%lld bytes)\n", m->id, m->mail_from,
	    (long long)m->size);
	index_replay_rcpts(d->c->ix, m->id, cli_dry_rcpt, d);
	d->n++;
	return 0;
}

/* cli_drain_dry - print what drain would send; sends nothing, leases nothing */
static int
cli_drain_dry(struct cli *c, const struct deliver_routes *routes)
{
	struct cli_dry		d = { c, routes, 0 };
	enum index_status	st;

	c->f.state = QS_QUEUED;
	if ((st = index_replay_list(c->ix, &c->f, cli_dry_msg, &d)) != INDEX_OK)
		return cli_index_exit(c, st, "list");
	printf("dry run: %lld message%s would be sent; nothing was sent\n", (long long)d.n,
	    d.n == 1 ? "" : "s");
	return CLI_OK;
}

struct cli_left {
	struct cli	*c;
	int64_t		 since_ms;	/* the drain's start */
	int		 rcpt;		/* the message has a selected pending recipient */
	int64_t		 n;
};

/* cli_left_rcpt - index_replay_rcpts callback: stop at a recipient drain would send */
static int
cli_left_rcpt(const struct index_rcpt_row *r, void *arg)
{
	struct cli_left *l = arg;

	l->rcpt = cli_rcpt_selected(l->c, r);
	return l->rcpt;
}

/* cli_left_msg - index_replay_list callback: a queued message this drain tried */
static int
cli_left_msg(const struct index_msg_row *m, void *arg)
{
	struct cli_left *l = arg;

	if (m->last_attempt_ms < l->since_ms)
		return 0;
	l->rcpt = 0;
	if (index_replay_rcpts(l->c->ix, m->id, cli_left_rcpt, l) == INDEX_OK && l->rcpt)
		l->n++;
	return 0;
}

/*
 * cli_drain_left - messages of the selection that this drain attempted and
 * that still wait for a retry of a recipient it would send: the exit code
 * says how the queue ends, not what happened on the way (a 4xx followed by
 * a 250 in the same run leaves nothing deferred).  -1 if the index failed.
 */
static int64_t
cli_drain_left(struct cli *c, const struct index_filter *sel, int64_t since_ms)
{
	struct cli_left		l = { c, since_ms, 0, 0 };
	struct index_filter	f = *sel;

	f.state = QS_QUEUED;
	f.limit = 0;
	if (index_replay_list(c->ix, &f, cli_left_msg, &l) != INDEX_OK)
		return -1;
	return l.n;
}

int
cli_drain(struct cli *c)
{
	struct sched_conf	sc;
	struct sched_stats	st;
	struct cli_progress	p;
	int64_t			bytes, oldest, left;
	int			rc, quiet;

	if (c->nargs)
		return cli_err(c, CLI_USAGE, "no operands expected (use --rcpt, --domain ...)");
	if (c->f.state && strcmp(c->f.state, QS_QUEUED) != 0)
		return cli_err(c, CLI_USAGE, "drain sends queued messages; release held or"
		    " quarantined ones first");
	if ((rc = cli_index(c)) != 0 || (rc = cli_sched_conf(c, &sc)) != 0)
		return rc;
	if (c->to && route_parse(c->to, &sc.wc.override) == -1) {
		cli_sched_free(&sc);
		return cli_err(c, CLI_USAGE, "--to %s: want smtp://host[:port], lmtp://host[:port],"
		    " smtp:unix:/path or lmtp:unix:/path", c->to);
	}
	sc.wc.has_override = c->to != NULL;
	if (c->dry_run) {
		rc = cli_drain_dry(c, sc.wc.routes);
		cli_sched_free(&sc);
		return rc;
	}
	/* like postqueue -f: no rate cap unless asked; [replay] concurrency still bounds it */
	sc.rate = 0;
	if (c->rate)
		rate_parse(c->rate, &sc.rate);
	if (c->concurrency)
		sc.concurrency = c->concurrency;
	sc.wc.only_domain = c->f.domain;
	sc.wc.only_rcpt = c->f.rcpt;
	sc.filter = c->f;
	sc.limit = c->f.limit;
	sc.filter.limit = 0;
	sc.filter.state = NULL;
	sc.exit_when_empty = 1;
	sc.probe_ms = 0;
	sc.poll_ms = 1000;
	sc.flush_before = now_ms();
	memset(&p, 0, sizeof(p));
	p.tty = isatty(STDOUT_FILENO);
	p.start_ms = sc.flush_before;
	c->f.state = QS_QUEUED;
	if (index_replay_count(c->ix, &c->f, &p.total, &bytes, &oldest) != INDEX_OK)
		p.total = 0;
	if (c->f.limit && p.total > c->f.limit)
		p.total = c->f.limit;
	sc.progress = cli_progress;
	sc.progress_arg = &p;
	cli_signals();
	/*
	 * A bar on the terminal that also gets the log: one line per recipient
	 * would scroll it away (and -v asks for them).  Keep warnings, each on
	 * its own line above the redrawn bar; the details stay in the index
	 * (`show ID`).
	 */
	quiet = p.tty && isatty(STDERR_FILENO) && log_getlevel() == LOG_LVL_INFO;
	if (p.tty && isatty(STDERR_FILENO))
		log_setlead("\r\033[K");
	if (quiet)
		log_setlevel(LOG_LVL_WARN);
	rc = sched_run(&sc, &cli_stop, &st);
	log_setlead(NULL);
	if (quiet)
		log_setlevel(LOG_LVL_INFO);
	cli_sched_free(&sc);
	if (rc == -1)
		return cli_err(c, CLI_UNAVAILABLE, "cannot start (see the log above)");
	if (p.tty)
		fputc('\n', stdout);
	if (*st.blocked != '\0' && st.done == 0)
		return cli_err(c, CLI_TEMPFAIL, "delivered nothing: %s", st.blocked);
	left = st.deferred > 0 ? cli_drain_left(c, &sc.filter, sc.flush_before) : 0;
	printf("drain: %lld message%s attempted: %lld recipients delivered, %lld deferred,"
	    " %lld quarantined, %lld expired", (long long)st.done, st.done == 1 ? "" : "s",
	    (long long)st.delivered, (long long)st.deferred, (long long)st.quarantined,
	    (long long)st.expired);
	if (left > 0)
		printf("; %lld message%s left deferred", (long long)left, left == 1 ? "" : "s");
	else if (left < 0)
		printf("; index busy: what is left deferred is unknown");
	printf("%s\n", cli_stop ? " (interrupted: run drain again to resume)" : "");
	if (*st.blocked != '\0')
		return cli_err(c, CLI_TEMPFAIL, "stopped: %s", st.blocked);
	if (cli_stop || left != 0)
		return CLI_TEMPFAIL;
	return st.quarantined > 0 ? CLI_DATAERR : CLI_OK;
}
