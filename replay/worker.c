/*
 * worker.c - deliver one leased message (see worker.h).
 *
 * Steps: check the lease is still ours, load the envelope and the pending
 * recipients, expire it if past its deadline, else fetch its bytes into an
 * unlinked temp file, group the recipients by route, one transaction per
 * route, then one index_replay_finish() with every recipient's outcome.
 * Only 'pending' recipients are ever sent, so a re-run after a crash re-sends
 * at most what was in flight.
 *
 * Errors: storage failures defer the message (attempts counted, no recipient rows, note
 * set); a missing object puts it on hold for the operator.  Logged here, once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "anonfile.h"
#include "arc.h"
#include "config.h"
#include "dsn.h"
#include "envelope.h"
#include "index_replay.h"
#include "log.h"
#include "msgid.h"
#include "route_rate.h"
#include "store.h"
#include "worker.h"

#define WORKER_CONNS	4	/* cached connections per worker (distinct targets) */
#define WORKER_FINISH_TRIES	10	/* index busy: retries of recording an outcome */

struct worker_conn {
	char			 target[300];
	struct deliver_conn	*c;
};

struct worker {
	const struct worker_conf *wc;
	struct store		*st;
	struct index		*ix;
	char			 name[160];	/* attempts.worker */
	int64_t			 lease_until;	/* of the message being delivered */
	int			 tmpfd;		/* message bytes, reused (see worker_fetch) */
	struct worker_conn	 conns[WORKER_CONNS];
};

/* a pending recipient as loaded from the index */
struct worker_rcpt {
	char	*addr;
	char	*domain;
	char	*params;
	char	*last_text;
	int	 last_code;
	int	 group;		/* route group index, -1 no route */
	int	 skip;		/* filtered out by drain */
};

/* the ARC set of the message being delivered, made once for all its routes */
struct worker_seal {
	int		tried;
	int		ok;
	struct buf	set;
};

struct worker_job {
	const struct worker_conf *wc;
	struct index_job	 ij;		/* row, envelope, location */
	int			 oom;
	struct worker_rcpt	*r;
	size_t			 n, cap;
};

struct worker *
worker_open(const struct worker_conf *wc, int n, char *err, size_t errlen)
{
	struct worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->wc = wc;
	w->tmpfd = -1;
	if ((w->st = store_open(wc->cfg, err, errlen)) == NULL) {
		free(w);
		return NULL;
	}
	w->ix = store_index(w->st);
	index_set_durable(w->ix, 0);	/* delivery marks: a duplicate at worst (index.h) */
	snprintf(w->name, sizeof(w->name), "%s/w%d", wc->owner, n);
	return w;
}

void
worker_idle(struct worker *w)
{
	for (int i = 0; i < WORKER_CONNS; i++) {
		deliver_close(w->conns[i].c);
		w->conns[i].c = NULL;
	}
}

void
worker_close(struct worker *w)
{
	if (w == NULL)
		return;
	worker_idle(w);
	if (w->tmpfd != -1)
		close(w->tmpfd);
	store_close(w->st);
	free(w);
}

int64_t
worker_backoff_ms(const struct worker_conf *wc, int attempts, uint32_t rnd)
{
	double	d = (double)wc->min_backoff_ms;
	double	u = (double)rnd / 4294967296.0;

	for (int i = 1; i < attempts && d < (double)wc->max_backoff_ms; i++)
		d *= 2;
	d *= 0.75 + 0.5 * u;	/* jitter: workers that failed together do not retry together */
	if (d > (double)wc->max_backoff_ms)
		d = (double)wc->max_backoff_ms;
	if (d < (double)wc->min_backoff_ms)
		d = (double)wc->min_backoff_ms;
	return (int64_t)d;
}

/* worker_collect - index_replay_rcpts callback: keep pending (and filtered) recipients */
static int
worker_collect(const struct index_rcpt_row *row, void *arg)
{
	struct worker_job	*j = arg;
	struct worker_rcpt	*nr;

	if (row->state != RCPT_PENDING)
		return 0;
	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 8;
		if ((nr = reallocarray(j->r, j->cap, sizeof(*nr))) == NULL)
			return 1;
		j->r = nr;
	}
	nr = &j->r[j->n++];
	nr->addr = strdup(row->rcpt);
	nr->domain = strdup(row->domain);
	nr->params = strdup(row->params);
	nr->last_text = strdup(row->last_text);
	nr->last_code = row->last_code;
	nr->group = -1;
	/* drain --domain/--rcpt: the others stay pending for later (not at expiry) */
	nr->skip = (j->wc->only_domain && strcasecmp(row->domain, j->wc->only_domain) != 0) ||
	    (j->wc->only_rcpt && strcasecmp(row->rcpt, j->wc->only_rcpt) != 0);
	if (nr->addr == NULL || nr->domain == NULL || nr->params == NULL || nr->last_text == NULL)
		return 1;
	return 0;
}

/* worker_job_free - free the loaded recipients */
static void
worker_job_free(struct worker_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->r[i].addr);
		free(j->r[i].domain);
		free(j->r[i].params);
		free(j->r[i].last_text);
	}
	free(j->r);
}

/* worker_tmpfile - an unlinked read/write file in $TMPDIR (or /tmp), or -1 */
static int
worker_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");

	return anonfile_open(dir != NULL && *dir != '\0' ? dir : "/tmp");
}

/* worker_conn - a usable connection to route, from the cache or new; NULL + code/err */
static struct deliver_conn *
worker_conn(struct worker *w, const struct deliver_route *rt, int *code, char *err,
    size_t errlen)
{
	struct worker_conn *slot = NULL;

	for (int i = 0; i < WORKER_CONNS; i++)
		if (w->conns[i].c && strcmp(w->conns[i].target, rt->target) == 0) {
			if (deliver_usable(w->conns[i].c))
				return w->conns[i].c;
			deliver_close(w->conns[i].c);
			w->conns[i].c = NULL;
		}
	for (int i = 0; i < WORKER_CONNS && slot == NULL; i++)
		if (w->conns[i].c == NULL)
			slot = &w->conns[i];
	if (slot == NULL) {
		slot = &w->conns[0];
		deliver_close(slot->c);
		slot->c = NULL;
	}
	if ((slot->c = deliver_connect(rt, &w->wc->dopts, code, err, errlen)) != NULL)
		snprintf(slot->target, sizeof(slot->target), "%s", rt->target);
	return slot->c;
}

/* worker_drop - forget a cached connection that is no longer usable */
static void
worker_drop(struct worker *w, struct deliver_conn *c)
{
	for (int i = 0; i < WORKER_CONNS; i++)
		if (w->conns[i].c == c && !deliver_usable(c)) {
			deliver_close(c);
			w->conns[i].c = NULL;
		}
}

/* worker_verdict - recipient state for a reply code */
static enum rcpt_state
worker_verdict(int code)
{
	if (code >= 200 && code < 300)
		return RCPT_DELIVERED;
	if (code >= 500 && code < 600)
		return RCPT_QUARANTINE;
	return RCPT_PENDING;
}

/* worker_log_outcome - one line per recipient outcome */
static void
worker_log_outcome(const char *id, const struct index_outcome *o)
{
	log_info("%s replay rcpt to=<%s> target=%s code=%d enhanced=%s state=%s text=\"%s\"", id,
	    o->rcpt, o->target, o->code, o->enhanced[0] ? o->enhanced : "-",
	    rcpt_state_name(o->state), o->text);
}

/*
 * worker_seal - the ARC set for deliveries to rt, made on first use; 0 with seal->set,
 * -1 for no seal (sealing off, the target opts out, or it failed: the message then goes
 * unsealed, as it would without [arc], and the reason is logged once).
 */
static int
worker_seal(struct worker *w, const char *id, const struct envelope *env, int fd, off_t size,
    const struct deliver_route *rt, struct worker_seal *seal)
{
	struct arc_result	res;
	char			err[ERRSTR_MAX], verdicts[80];

	if (w->wc->arc == NULL || arc_skip(w->wc->arc, rt->target))
		return -1;
	if (!seal->tried) {
		seal->tried = 1;
		/* the verdicts stored at ingest; none ("" each): it did not verify (arc.h) */
		snprintf(verdicts, sizeof(verdicts), "spf=%s; dkim=%s; dmarc=%s",
		    env->auth_spf[0] ? env->auth_spf : "none",
		    env->auth_dkim[0] ? env->auth_dkim : "none",
		    env->auth_dmarc[0] ? env->auth_dmarc : "none");
		seal->ok = arc_seal(w->wc->arc, fd, size, env->auth_spf[0] ? verdicts : NULL,
		    time(NULL), &seal->set, &res, err, sizeof(err)) == 0;
		if (!seal->ok)
			log_warnx("%s replay arc-unsealed reason=\"%s\"", id, err);
		else if (strcmp(res.cv, "fail") == 0)
			log_warnx("%s replay arc-sealed i=%d cv=fail reason=\"%s\"", id,
			    res.instance, res.why);
		else
			log_debug("%s replay arc-sealed i=%d cv=%s", id, res.instance, res.cv);
	}
	return seal->ok ? 0 : -1;
}

/*
 * worker_send_group - one transaction for the recipients of group g over route
 * rt; their outcomes go to all[] (indexed like j->r).  Returns 1 if the
 * primary pushed back (4xx, no reply, connection failure).
 */
static int
worker_send_group(struct worker *w, const char *id, const struct envelope *env, int fd,
    off_t size, struct worker_job *j, int g, const struct deliver_route *rt,
    struct deliver_rcpt *all, struct worker_seal *seal)
{
	struct deliver_rcpt	*tmp;
	struct deliver_msg	 m;
	struct deliver_conn	*c;
	char			 err[ERRSTR_MAX];
	size_t			 i, k = 0;
	int			 code = 0, congested = 0;
	enum deliver_status	 ds;

	if ((tmp = calloc(j->n, sizeof(*tmp))) == NULL)
		return 1;
	for (i = 0; i < j->n; i++)
		if (j->r[i].group == g) {
			tmp[k].addr = j->r[i].addr;
			tmp[k++].params = j->r[i].params;
		}
	memset(&m, 0, sizeof(m));
	m.mail_from = env->mail_from;
	m.mail_params = env->mail_params ? env->mail_params : "";
	m.rcpts = tmp;
	m.nrcpts = k;
	m.fd = fd;
	m.size = size;
	if (worker_seal(w, id, env, fd, size, rt, seal) == 0) {
		m.prefix = seal->set.data;
		m.prefixlen = seal->set.len;
	}
	err[0] = '\0';
	route_rate_wait(w->wc->route_rates, rt->target);
	/* renew only once half the lease is gone: a fresh lease needs no write */
	if (w->lease_until - now_ms() < w->wc->lease_ms / 2) {
		w->lease_until = now_ms() + w->wc->lease_ms;
		(void)index_replay_renew(w->ix, id, w->wc->owner, w->lease_until);
	}
	if ((c = worker_conn(w, rt, &code, err, sizeof(err))) == NULL) {
		for (i = 0; i < k; i++) {
			tmp[i].code = code;
			snprintf(tmp[i].text, sizeof(tmp[i].text), "%s", err);
		}
		congested = 1;
	} else {
		/* a failed transaction leaves no 2xx outcome (deliver_send clears them) */
		ds = deliver_send(c, &m, err, sizeof(err));
		for (i = 0; i < k; i++)
			if (tmp[i].code == 0 && tmp[i].text[0] == '\0')
				snprintf(tmp[i].text, sizeof(tmp[i].text), "%s",
				    err[0] ? err : "no reply");
		if (ds == DELIVER_TEMPFAIL)
			congested = 1;
		worker_drop(w, c);
	}
	for (i = 0, k = 0; i < j->n; i++)
		if (j->r[i].group == g) {
			all[i] = tmp[k++];
			all[i].addr = j->r[i].addr;
			all[i].params = j->r[i].params;
			if (all[i].code == 0 || all[i].code / 100 == 4)
				congested = 1;
		}
	free(tmp);
	route_rate_done(w->wc->route_rates, rt->target, congested);
	return congested;
}

/* worker_group - assign route groups to the recipients to send; routes[] gets them */
static int
worker_group(struct worker *w, struct worker_job *j, struct deliver_route *routes)
{
	struct deliver_route	rt;
	int			ng = 0, g;

	for (size_t i = 0; i < j->n; i++) {
		if (j->r[i].skip)
			continue;
		if (w->wc->has_override)
			rt = w->wc->override;
		else if (deliver_route_lookup(w->wc->routes, j->r[i].domain, &rt) == -1)
			continue;	/* no route: stays pending, recorded below */
		for (g = 0; g < ng && strcmp(routes[g].target, rt.target) != 0; g++)
			;
		if (g == ng)
			routes[ng++] = rt;
		j->r[i].group = g;
	}
	return ng;
}

/* worker_fetch - message bytes into a temp fd; -1 after deferring or holding the message */
static int
worker_fetch(struct worker *w, const char *id, const struct worker_job *j, int attempts,
    off_t *size)
{
	enum store_status	ss;
	struct stat		sb;
	char			why[ERRSTR_MAX];
	int64_t			now = now_ms();
	int			fd;

	/* one temp file per worker, emptied for each message, handed out as a dup (anonfile.c) */
	if (w->tmpfd != -1 && anonfile_empty(w->tmpfd) == -1) {
		close(w->tmpfd);
		w->tmpfd = -1;
	}
	if (w->tmpfd == -1)
		w->tmpfd = worker_tmpfile();
	if (w->tmpfd == -1 || (fd = fcntl(w->tmpfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s replay tmpfile", id);
		index_replay_defer(w->ix, id, w->wc->owner, now, now + w->wc->min_backoff_ms,
		    "cannot create a temporary file");
		return -1;
	}
	if ((ss = store_fetch_at(w->st, j->ij.object_key, j->ij.loc, j->ij.spool_path, fd, why,
	    sizeof(why))) == STORE_OK && fstat(fd, &sb) == 0) {
		*size = sb.st_size;
		return fd;
	}
	if (ss == STORE_OK)
		snprintf(why, sizeof(why), "fstat: %s", strerror(errno));
	close(fd);
	if (ss == STORE_NOTFOUND) {
		log_warnx("%s replay hold reason=\"object missing from the store\" cause=\"%s\"",
		    id, why);
		index_replay_hold_note(w->ix, id, w->wc->owner, now,
		    "object missing from the store (see reindex)");
	} else {
		log_warnx("%s replay defer reason=\"storage unavailable\" cause=\"%s\"", id, why);
		index_replay_defer(w->ix, id, w->wc->owner, now, now +
		    worker_backoff_ms(w->wc, attempts + 1, arc4random()), "storage unavailable");
	}
	return -1;
}

/* worker_deliver - send the pending recipients by route and record the outcome */
static void
worker_deliver(struct worker *w, const char *id, const struct envelope *env, int attempts,
    struct worker_job *j, struct worker_result *res)
{
	struct deliver_route	*routes = NULL;
	struct deliver_rcpt	*all = NULL;
	struct index_outcome	*out = NULL;
	struct worker_seal	 seal;
	off_t			 size = 0;
	size_t			 n = 0;
	int			 fd = -1, ng, g;
	int64_t			 now;
	enum index_status	 ist;
	enum queue_state	 to = QUEUE_UNKNOWN;

	memset(&seal, 0, sizeof(seal));
	buf_init(&seal.set, 4 * ARC_HEADER_MAX);
	routes = calloc(j->n + 1, sizeof(*routes));
	all = calloc(j->n + 1, sizeof(*all));
	out = calloc(j->n + 1, sizeof(*out));
	if (routes == NULL || all == NULL || out == NULL) {
		index_replay_unlease(w->ix, id, w->wc->owner);
		goto done;
	}
	ng = worker_group(w, j, routes);
	if (ng > 0 && (fd = worker_fetch(w, id, j, attempts, &size)) == -1)
		goto done;
	for (g = 0; g < ng; g++)
		res->congested |= worker_send_group(w, id, env, fd, size, j, g, &routes[g], all,
		    &seal);
	for (size_t i = 0; i < j->n; i++) {
		if (j->r[i].skip)
			continue;
		out[n].rcpt = j->r[i].addr;
		if (j->r[i].group < 0) {
			out[n].target = "";
			out[n].state = RCPT_PENDING;
			out[n].enhanced = "";
			out[n].text = "no route for this domain in [routes]";
		} else {
			out[n].target = routes[j->r[i].group].target;
			out[n].code = all[i].code;
			out[n].state = worker_verdict(all[i].code);
			out[n].enhanced = all[i].enhanced;
			out[n].text = all[i].text;
		}
		worker_log_outcome(id, &out[n]);
		res->delivered += out[n].state == RCPT_DELIVERED;
		res->quarantined += out[n].state == RCPT_QUARANTINE;
		res->deferred += out[n].state == RCPT_PENDING;
		n++;
	}
	now = now_ms();
	/* the outcome must land: a lost one means a re-send after the lease expires */
	for (int try = 0; (ist = index_replay_finish(w->ix, id, w->wc->owner, out, n, w->name,
	    now, now + worker_backoff_ms(w->wc, attempts + 1, arc4random()), &to)) ==
	    INDEX_TEMPFAIL && try < WORKER_FINISH_TRIES; try++)
		usleep(200 * 1000);
	if (ist != INDEX_OK)
		log_warnx("%s replay finish reason=\"%s\"", id, index_error(w->ix));
	res->final = ist == INDEX_OK && queue_state_in(to, QUEUE_FINAL_SET);
done:
	if (fd != -1)
		close(fd);
	buf_free(&seal.set);
	free(routes);
	free(all);
	free(out);
}

/* worker_dsn_send - send the DSN in fd to the original sender through dsn_relay; 0 sent */
static int
worker_dsn_send(struct worker *w, const char *id, const struct envelope *env, int fd,
    char *why, size_t whylen)
{
	struct deliver_rcpt	 r;
	struct deliver_msg	 m;
	struct deliver_conn	*c;
	struct stat		 sb;
	int			 code = 0;

	if (fstat(fd, &sb) == -1) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.addr = env->mail_from;
	r.params = "";
	memset(&m, 0, sizeof(m));
	m.mail_from = "";
	m.mail_params = "";
	m.rcpts = &r;
	m.nrcpts = 1;
	m.fd = fd;
	m.size = sb.st_size;
	if ((c = worker_conn(w, &w->wc->dsn_relay, &code, why, whylen)) == NULL)
		return -1;
	(void)deliver_send(c, &m, why, whylen);
	worker_drop(w, c);
	log_info("%s replay dsn to=<%s> relay=%s code=%d text=\"%s\"", id, env->mail_from,
	    w->wc->dsn_relay.target, r.code, r.text);
	if (r.code / 100 == 2)
		return 0;
	if (r.code != 0) {
		/* bounded: the reply text is cut to fit */
		if (snprintf(why, whylen, "%d %.200s", r.code, r.text) < 0)
			why[0] = '\0';
	}
	return -1;
}

/* worker_expired - the result of a message that left the queue as expired (a hold or a
 * deferred DSN is not: its recipients are counted when they do) */
static void
worker_expired(struct worker_result *res, const struct worker_job *j)
{
	res->expired = (int)j->n;
	res->final = 1;
}

/*
 * worker_expire - the deadline passed: DSN for the pending recipients through
 * dsn_relay (none for <> or NOTIFY=NEVER), or hold for the operator without a
 * relay.  A relay failure defers: the DSN is retried like a delivery.
 */
static void
worker_expire(struct worker *w, const char *id, const struct envelope *env, int attempts,
    struct worker_job *j, struct worker_result *res)
{
	struct dsn_rcpt	*dr;
	char		 why[ERRSTR_MAX], note[ERRSTR_MAX + 64];
	off_t		 size;
	int		 fd, out = -1, rc;
	int64_t		 now = now_ms();

	if (env->mail_from[0] == '\0') {
		log_info("%s replay expired dsn=none reason=\"null sender\"", id);
		index_replay_expire(w->ix, id, w->wc->owner, now, 0,
		    "lifetime exceeded; null sender: no DSN", NULL);
		worker_expired(res, j);
		return;
	}
	if (!w->wc->has_dsn_relay) {
		log_warnx("%s replay hold reason=\"lifetime exceeded, no [replay] dsn_relay\"", id);
		index_replay_hold_note(w->ix, id, w->wc->owner, now,
		    "lifetime exceeded; no [replay] dsn_relay: held for the operator");
		return;
	}
	if ((dr = calloc(j->n + 1, sizeof(*dr))) == NULL ||
	    (fd = worker_fetch(w, id, j, attempts, &size)) == -1) {
		free(dr);
		return;
	}
	for (size_t i = 0; i < j->n; i++) {
		dr[i].addr = j->r[i].addr;
		dr[i].params = j->r[i].params;
		dr[i].last_code = j->r[i].last_code;
		dr[i].last_text = j->r[i].last_text;
	}
	rc = -1;
	if ((out = worker_tmpfile()) != -1)
		rc = dsn_build(env, dr, j->n, fd, w->wc->reporting_mta, now, out);
	close(fd);
	free(dr);
	if (rc == 1) {
		log_info("%s replay expired dsn=none reason=\"NOTIFY\"", id);
		index_replay_expire(w->ix, id, w->wc->owner, now, 0,
		    "lifetime exceeded; no DSN requested", NULL);
		worker_expired(res, j);
	} else if (rc == 0 && worker_dsn_send(w, id, env, out, why, sizeof(why)) == 0) {
		snprintf(note, sizeof(note), "lifetime exceeded; DSN sent to <%s>", env->mail_from);
		index_replay_expire(w->ix, id, w->wc->owner, now_ms(), 1, note, NULL);
		worker_expired(res, j);
	} else {
		if (rc != 0)
			snprintf(why, sizeof(why), "cannot build the DSN");
		log_warnx("%s replay dsn defer reason=\"%s\"", id, why);
		snprintf(note, sizeof(note), "lifetime exceeded; DSN not sent: %s", why);
		index_replay_defer(w->ix, id, w->wc->owner, now, now +
		    worker_backoff_ms(w->wc, attempts + 1, arc4random()), note);
		res->congested = 1;
	}
	if (out != -1)
		close(out);
}

void
worker_run(struct worker *w, const char *id, struct worker_result *res)
{
	struct index_msg_row	*row;
	struct worker_job	 j;
	enum index_status	 st;
	int64_t			 deadline;
	int			 attempts;

	memset(res, 0, sizeof(*res));
	memset(&j, 0, sizeof(j));
	j.wc = w->wc;
	row = &j.ij.row;
	st = index_replay_job(w->ix, id, &j.ij, worker_collect, &j);
	if (st == INDEX_NOTFOUND || (st == INDEX_OK && (row->state != QUEUE_ACTIVE ||
	    strcmp(row->lease_owner, w->wc->owner) != 0))) {
		res->lost = 1;
		goto out;
	}
	if (st != INDEX_OK) {
		log_warnx("%s replay load reason=\"%s\"", id, index_error(w->ix));
		index_replay_unlease(w->ix, id, w->wc->owner);
		res->lost = 1;
		goto out;
	}
	attempts = row->attempts;
	w->lease_until = row->lease_until_ms;
	deadline = row->expires_ms ? row->expires_ms : row->received_ms + w->wc->lifetime_ms;
	if (now_ms() >= deadline && j.n > 0)
		worker_expire(w, id, &j.ij.env, attempts, &j, res);
	else
		worker_deliver(w, id, &j.ij.env, attempts, &j, res);
out:
	worker_job_free(&j);
	envelope_free(&j.ij.env);
}
