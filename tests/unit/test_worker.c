/*
 * test_worker.c - the replay worker (replay/worker.c) through worker.h: a
 * message committed to a real file object store and index (store_commit),
 * leased as the scheduler leases it, run by worker_run against a scripted
 * SMTP peer on 127.0.0.1 (a port the kernel picks); then the states it left
 * in the index (index_replay_get, _rcpts, _attempts, _purgeable) and what the
 * peer heard:
 *
 *   both recipients 250         delivered, lease gone, purgeable once retention
 *                               has passed since the delivery
 *   both 451                    queued, due after the backoff, attempts recorded,
 *                               leased again when due
 *   550 for one of two          it quarantined, the other delivered, no DSN
 *   the object gone             held for the operator, nothing sent
 *   a peer that never answers   (greeting, end of data) the timeout ends the
 *                               attempt: queued, never delivered nor lost
 *   leases                      another owner's message, one no longer
 *                               active, one finished already: not sent (lost)
 *   past its lifetime           null sender: expired, no DSN; no dsn_relay:
 *                               held; a relay: DSN through it, expired; the
 *                               relay refuses: queued to retry the DSN
 * "got X, want Y" on failure.  The same worker against real peers:
 * tests/e2e/replay_sink.sh (smtp-sink), replay_lmtp.sh (Dovecot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "index_replay.h"
#include "store.h"
#include "worker.h"
#include "testlib.h"

#define OWNER		"test:1"		/* the worker's lease owner */
#define MIN_BACKOFF_MS	60000
#define LIFETIME_MS	3600000
#define NRCPT		4			/* recipients a test looks at, at most */
#define PEER_LINE_MAX	8192

/* a recipient the peer answers with reply (every other RCPT gets 250) */
struct peer_rcpt {
	const char	*addr;
	const char	*reply;
};

/*
 * The scripted peer: one thread, one connection at a time (the worker holds
 * one per target), answering by verb; stopped through the quit pipe even
 * while it waits on a client.
 */
struct peer {
	const char		*greeting;	/* NULL: never says a word (a hung primary) */
	const char		*eod;		/* reply to the end of data; NULL: none */
	struct peer_rcpt	 rcpt[NRCPT];
	int			 lfd, port, quit[2];
	pthread_t		 th;
	pthread_mutex_t		 mu;		/* guards what follows */
	int			 conns;		/* connections accepted */
	int			 msgs;		/* ends of data seen */
	struct buf		 heard;		/* every command line */
	struct buf		 data;		/* the last message, dot-unstuffed */
};

/* peer_in - a connection's read side */
struct peer_in {
	int	fd;
	size_t	n;
	char	b[PEER_LINE_MAX];
};

/* peer_readable - wait for fd; 0 readable, -1 when told to quit */
static int
peer_readable(struct peer *p, int fd)
{
	struct pollfd	pf[2] = { { .fd = fd, .events = POLLIN },
	    { .fd = p->quit[0], .events = POLLIN } };

	while (poll(pf, 2, -1) == -1)
		;
	return (pf[1].revents & POLLIN) ? -1 : 0;
}

/* peer_getline - the next line with its CRLF into line; -1 at EOF, quit or overlong */
static int
peer_getline(struct peer *p, struct peer_in *in, char *line)
{
	char	*nl;
	ssize_t	 r;
	size_t	 len;

	while ((nl = memchr(in->b, '\n', in->n)) == NULL) {
		if (in->n == sizeof(in->b) || peer_readable(p, in->fd) == -1 ||
		    (r = read(in->fd, in->b + in->n, sizeof(in->b) - in->n)) <= 0)
			return -1;
		in->n += (size_t)r;
	}
	len = (size_t)(nl - in->b) + 1;
	memcpy(line, in->b, len);
	line[len] = '\0';
	memmove(in->b, in->b + len, in->n - len);
	in->n -= len;
	return 0;
}

/* peer_note - append text to one of the peer's records */
static void
peer_note(struct peer *p, struct buf *b, const char *text)
{
	pthread_mutex_lock(&p->mu);
	buf_addstr(b, text);
	pthread_mutex_unlock(&p->mu);
}

/* peer_data - take the message up to the lone dot; -1 if the client went away first */
static int
peer_data(struct peer *p, struct peer_in *in)
{
	char	line[PEER_LINE_MAX + 1];

	pthread_mutex_lock(&p->mu);
	buf_reset(&p->data);
	pthread_mutex_unlock(&p->mu);
	for (;;) {
		if (peer_getline(p, in, line) == -1)
			return -1;
		if (strcmp(line, ".\r\n") == 0)
			break;
		peer_note(p, &p->data, line[0] == '.' ? line + 1 : line);
	}
	pthread_mutex_lock(&p->mu);
	p->msgs++;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* peer_reply - what the peer says to a command line; NULL: nothing, ever again */
static const char *
peer_reply(struct peer *p, struct peer_in *in, const char *line)
{
	if (strncasecmp(line, "EHLO", 4) == 0)
		return "250-peer.example\r\n250 8BITMIME\r\n";
	if (strncasecmp(line, "RCPT", 4) == 0) {
		for (int i = 0; i < NRCPT && p->rcpt[i].addr != NULL; i++)
			if (strstr(line, p->rcpt[i].addr) != NULL)
				return p->rcpt[i].reply;
		return "250 2.1.5 ok\r\n";
	}
	if (strncasecmp(line, "DATA", 4) == 0) {
		if (write(in->fd, "354 go ahead\r\n", 14) != 14 || peer_data(p, in) == -1)
			return NULL;
		return p->eod;
	}
	if (strncasecmp(line, "QUIT", 4) == 0)
		return "221 2.0.0 bye\r\n";
	return "250 2.0.0 ok\r\n";	/* MAIL, RSET, NOOP */
}

/* peer_serve - one connection, until the client leaves (or QUIT, or quit) */
static void
peer_serve(struct peer *p, int fd)
{
	struct peer_in	*in;
	const char	*say = p->greeting;
	char		 line[PEER_LINE_MAX + 1];

	/* no cmocka assertion off the test's thread: the client sees EOF */
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return;
	in->fd = fd;
	while (say != NULL && write(fd, say, strlen(say)) == (ssize_t)strlen(say) &&
	    strncmp(say, "221", 3) != 0 && peer_getline(p, in, line) == 0) {
		peer_note(p, &p->heard, line);
		say = peer_reply(p, in, line);
	}
	while (say == NULL && peer_getline(p, in, line) == 0)
		;	/* silent: let the client's own deadline end it */
	free(in);
}

static void *
peer_main(void *arg)
{
	struct peer	*p = arg;
	int		 fd;

	while (peer_readable(p, p->lfd) == 0) {
		if ((fd = accept(p->lfd, NULL, NULL)) == -1)
			continue;
		pthread_mutex_lock(&p->mu);
		p->conns++;
		pthread_mutex_unlock(&p->mu);
		peer_serve(p, fd);
		close(fd);
	}
	return NULL;
}

/* peer_start - listen on 127.0.0.1, port from the kernel, and answer as scripted */
static void
peer_start(struct peer *p)
{
	struct addrinfo		 hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
				    .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo		*ai;
	struct sockaddr_in	 bound;
	socklen_t		 len = sizeof(bound);

	assert_int_equal(getaddrinfo("127.0.0.1", "0", &hints, &ai), 0);
	p->lfd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	assert_true(p->lfd != -1 && bind(p->lfd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    listen(p->lfd, 4) == 0);
	freeaddrinfo(ai);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&bound, &len), 0);
	p->port = ntohs(bound.sin_port);
	assert_int_equal(pipe(p->quit), 0);
	buf_init(&p->heard, 1 << 16);
	buf_init(&p->data, 1 << 20);
	pthread_mutex_init(&p->mu, NULL);
	assert_int_equal(pthread_create(&p->th, NULL, peer_main, p), 0);
}

/* peer_stop - end the thread (whatever it waits on), close, free the records */
static void
peer_stop(struct peer *p)
{
	if (p->port == 0)
		return;
	assert_int_equal(write(p->quit[1], "q", 1), 1);
	pthread_join(p->th, NULL);
	close(p->lfd);
	close(p->quit[0]);
	close(p->quit[1]);
	pthread_mutex_destroy(&p->mu);
	buf_free(&p->heard);
	buf_free(&p->data);
	p->port = 0;
}

/* peer_count - connections or messages so far (which: &p->conns or &p->msgs) */
static int
peer_count(struct peer *p, const int *which)
{
	int	n;

	pthread_mutex_lock(&p->mu);
	n = *which;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* peer_saw - fail unless the record b (heard or data) holds text */
static void
peer_saw(struct peer *p, const struct buf *b, const char *text)
{
	int	found;

	pthread_mutex_lock(&p->mu);
	found = b->data != NULL && strstr(b->data, text) != NULL;
	pthread_mutex_unlock(&p->mu);
	if (!found)
		fail_msg("the peer got no \"%s\"", text);
}

/* one test's world: a scratch directory with the index, a file store and the spool */
struct world {
	struct testlib_index	 db;
	struct config		*cfg;
	struct store		*st;	/* the test's own handles: commit, purge, look */
	struct index		*ix;
	struct worker_conf	 wc;
	struct worker		*w;
	struct peer		 primary, relay;
};

/* world_script - the usual peers: a greeting, every command 250, the data taken */
static void
world_script(struct world *x)
{
	memset(&x->primary, 0, sizeof(x->primary));
	memset(&x->relay, 0, sizeof(x->relay));
	x->primary.greeting = x->relay.greeting = "220 peer.example ESMTP\r\n";
	x->primary.eod = x->relay.eod = "250 2.0.0 queued\r\n";
}

/* world_setup - a fresh directory, its index migrated, the usual script; nothing running */
static int
world_setup(void **state)
{
	struct world	*x;

	assert_non_null(x = calloc(1, sizeof(*x)));
	index_close(testlib_index_open(&x->db, "test_worker"));
	world_script(x);
	*state = x;
	return 0;
}

/* world_open - start the peers as scripted, then the config, the stores and the worker */
static void
world_open(struct world *x, int relay, int timeout_s)
{
	char	text[1024], err[ERRSTR_MAX];

	peer_start(&x->primary);
	peer_start(&x->relay);
	snprintf(text, sizeof(text), "[general]\nnode = mx1\ndata_dir = %s\n[storage]\n"
	    "url = file://%s/store\n[routes]\n* = smtp://127.0.0.1:%d\n", x->db.dir, x->db.dir,
	    x->primary.port);
	assert_non_null(x->cfg = config_from_string("test.conf", text, err, sizeof(err)));
	if ((x->st = store_open(x->cfg, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	x->ix = store_index(x->st);
	memset(&x->wc, 0, sizeof(x->wc));
	x->wc.cfg = x->cfg;
	assert_non_null(x->wc.routes = deliver_routes_load(x->cfg, err, sizeof(err)));
	x->wc.dopts.tls = DELIVER_TLS_NONE;
	x->wc.dopts.helo_name = "gw.example";
	x->wc.dopts.connect_timeout = timeout_s;
	x->wc.dopts.command_timeout = timeout_s;
	x->wc.dopts.data_timeout = timeout_s;
	if (relay) {
		snprintf(text, sizeof(text), "smtp://127.0.0.1:%d", x->relay.port);
		assert_int_equal(route_parse(text, &x->wc.dsn_relay), 0);
		x->wc.has_dsn_relay = 1;
	}
	snprintf(x->wc.owner, sizeof(x->wc.owner), OWNER);
	snprintf(x->wc.reporting_mta, sizeof(x->wc.reporting_mta), "gw.example");
	x->wc.min_backoff_ms = MIN_BACKOFF_MS;
	x->wc.max_backoff_ms = 60 * MIN_BACKOFF_MS;
	x->wc.lifetime_ms = LIFETIME_MS;
	x->wc.lease_ms = 600000;
	if ((x->w = worker_open(&x->wc, 0, err, sizeof(err))) == NULL)
		fail_msg("worker_open: %s", err);
}

/* world_close - undo world_open (any part of it); the directory stays, the usual script back */
static void
world_close(struct world *x)
{
	worker_close(x->w);
	x->w = NULL;
	deliver_routes_free(x->wc.routes);
	x->wc.routes = NULL;
	store_close(x->st);
	x->st = NULL;
	x->ix = NULL;
	config_free(x->cfg);
	x->cfg = NULL;
	peer_stop(&x->primary);
	peer_stop(&x->relay);
	world_script(x);
}

static int
world_teardown(void **state)
{
	struct world	*x = *state;

	world_close(x);
	testlib_rm_rf(x->db.dir);
	free(x);
	return 0;
}

/* msg_queue - commit a message of nrcpt recipients received age_ms ago, leased by owner */
static void
msg_queue(struct world *x, int nrcpt, const char *mail_from, int64_t age_ms, const char *owner,
    char *id)
{
	struct index_filter	 f;
	struct envelope		 e;
	char			 err[ERRSTR_MAX], ids[1][MSGID_MAX];
	int			 fd, n;

	fd = testlib_message(x->db.dir, &e, "mx1", now_ms() - age_ms, nrcpt);
	if (mail_from != NULL) {
		free(e.mail_from);
		assert_non_null(e.mail_from = strdup(mail_from));
	}
	if (store_commit(x->st, &e, fd, 20, err, sizeof(err)) != STORE_OK)
		fail_msg("store_commit: %s", err);
	snprintf(id, MSGID_MAX, "%s", e.id);
	close(fd);
	envelope_free(&e);
	memset(&f, 0, sizeof(f));
	f.id = id;
	assert_int_equal(index_replay_lease(x->ix, owner, now_ms(), x->wc.lease_ms,
	    x->wc.lifetime_ms, 0, &f, ids, 1, &n), INDEX_OK);
	assert_int_equal(n, 1);
}

/* what the index holds of one message after the worker ran */
struct look {
	enum queue_state	 state;
	char			 note[256], owner[128];
	int64_t			 next_ms, last_ms;
	int			 attempts;
	int			 nr;
	struct {
		char		 rcpt[64], text[256];
		enum rcpt_state	 state;
		int		 code;
		int64_t		 dsn_ms;
	} r[NRCPT];
	int			 na;		/* attempts rows */
	int			 acode;		/* the last one's code and worker */
	char			 aworker[160];
};

/* look_rcpt - index_replay_rcpts callback */
static int
look_rcpt(const struct index_rcpt_row *row, void *arg)
{
	struct look	*l = arg;

	if (l->nr == NRCPT)
		return 1;
	snprintf(l->r[l->nr].rcpt, sizeof(l->r[0].rcpt), "%s", row->rcpt);
	snprintf(l->r[l->nr].text, sizeof(l->r[0].text), "%s", row->last_text);
	l->r[l->nr].state = row->state;
	l->r[l->nr].code = row->last_code;
	l->r[l->nr++].dsn_ms = row->dsn_ms;
	return 0;
}

/* look_attempt - index_replay_attempts callback */
static int
look_attempt(const struct index_attempt_row *row, void *arg)
{
	struct look	*l = arg;

	l->na++;
	l->acode = row->code;
	snprintf(l->aworker, sizeof(l->aworker), "%s", row->worker);
	return 0;
}

/* look - read message id back through a handle of the test's own */
static void
look(struct world *x, const char *id, struct look *l)
{
	struct index_msg_row	row;

	memset(l, 0, sizeof(*l));
	assert_int_equal(index_replay_get(x->ix, id, &row), INDEX_OK);
	l->state = row.state;
	snprintf(l->note, sizeof(l->note), "%s", row.note);
	snprintf(l->owner, sizeof(l->owner), "%s", row.lease_owner);
	l->next_ms = row.next_attempt_ms;
	l->last_ms = row.last_attempt_ms;
	l->attempts = row.attempts;
	assert_int_equal(index_replay_rcpts(x->ix, id, look_rcpt, l), INDEX_OK);
	assert_int_equal(index_replay_attempts(x->ix, id, look_attempt, l), INDEX_OK);
}

/* what one worker_run is to come to: its worker_result and the message's state after it */
struct want {
	int		 delivered, deferred, quarantined, congested, final, lost, expired;
	enum queue_state state;
};

/*
 * run - worker_run on id, then l read back; fail unless the result and the state are
 * as w says and no lease is left (unless the worker found the message was not its own)
 */
static void
run(struct world *x, const char *id, const struct want *w, struct look *l)
{
	struct worker_result	r;

	worker_run(x->w, id, &r);
	if (r.delivered != w->delivered || r.deferred != w->deferred ||
	    r.quarantined != w->quarantined || r.congested != w->congested ||
	    r.final != w->final || r.lost != w->lost || r.expired != w->expired)
		fail_msg("result: got delivered %d deferred %d quarantined %d congested %d"
		    " final %d lost %d expired %d; want %d %d %d %d %d %d %d", r.delivered,
		    r.deferred, r.quarantined, r.congested, r.final, r.lost, r.expired,
		    w->delivered, w->deferred, w->quarantined, w->congested, w->final, w->lost,
		    w->expired);
	look(x, id, l);
	if (l->state != w->state)
		fail_msg("message: got %s (note \"%s\"), want %s", queue_state_name(l->state),
		    l->note, queue_state_name(w->state));
	if (!w->lost && l->owner[0] != '\0')
		fail_msg("lease: got owner \"%s\", want none", l->owner);
}

/* want_rcpt - recipient i's state, last code and a piece of its last text */
static void
want_rcpt(const struct look *l, int i, enum rcpt_state state, int code, const char *text)
{
	if (i >= l->nr)
		fail_msg("recipients: got %d, want more than %d", l->nr, i);
	if (l->r[i].state != state || l->r[i].code != code || strstr(l->r[i].text, text) == NULL)
		fail_msg("%s: got %s %d \"%s\", want %s %d \"%s\"", l->r[i].rcpt,
		    rcpt_state_name(l->r[i].state), l->r[i].code, l->r[i].text,
		    rcpt_state_name(state), code, text);
}

/* want_retry - one attempt at or after t0, due again no sooner than the least backoff */
static void
want_retry(const struct look *l, int64_t t0)
{
	if (l->attempts != 1 || l->last_ms < t0 || l->next_ms < t0 + MIN_BACKOFF_MS)
		fail_msg("retry: got attempts %d, last %lld, next %lld; want 1, >= %lld,"
		    " >= %lld", l->attempts, (long long)l->last_ms, (long long)l->next_ms,
		    (long long)t0, (long long)(t0 + MIN_BACKOFF_MS));
}

/* purge_hit - index_replay_purgeable callback: count, keep the last id and key */
struct purge_hit {
	int	n;
	char	id[MSGID_MAX], key[OBJKEY_MAX];
};

static int
purge_hit(const char *id, const char *key, void *arg)
{
	struct purge_hit	*h = arg;

	h->n++;
	snprintf(h->id, sizeof(h->id), "%s", id);
	snprintf(h->key, sizeof(h->key), "%s", key);
	return 0;
}

/* purgeable - what the retention purge would take with this cutoff */
static void
purgeable(struct world *x, int64_t cutoff, struct purge_hit *h)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(index_replay_purgeable(x->ix, cutoff, 100, purge_hit, h), INDEX_OK);
}

/* test_delivered - every recipient 250: delivered, the bytes sent, purgeable after retention */
static void
test_delivered(void **state)
{
	struct world		*x = *state;
	struct purge_hit	 h;
	struct envelope		 e;
	struct look		 l;
	enum index_location	 loc;
	char			 id[MSGID_MAX], key[OBJKEY_MAX], sp[SPOOL_PATH_MAX];
	int64_t			 t0;

	world_open(x, 0, 10);
	msg_queue(x, 2, NULL, 1000, OWNER, id);
	assert_int_equal(index_get_message(x->ix, id, &e, key, sizeof(key), &loc, sp,
	    sizeof(sp)), INDEX_OK);
	envelope_free(&e);
	t0 = now_ms();
	purgeable(x, t0 + LIFETIME_MS, &h);
	assert_int_equal(h.n, 0);	/* not delivered yet */
	run(x, id, &(struct want){ .delivered = 2, .final = 1, .state = QUEUE_DELIVERED }, &l);
	want_rcpt(&l, 0, RCPT_DELIVERED, 250, "queued");
	want_rcpt(&l, 1, RCPT_DELIVERED, 250, "queued");
	if (l.attempts != 1 || l.na != 2 || strcmp(l.aworker, OWNER "/w0") != 0)
		fail_msg("attempts: got %d, %d rows by \"%s\"; want 1, 2 by \"" OWNER "/w0\"",
		    l.attempts, l.na, l.aworker);
	assert_int_equal(peer_count(&x->primary, &x->primary.msgs), 1);
	peer_saw(&x->primary, &x->primary.heard, "RCPT TO:<user0@example.test>");
	peer_saw(&x->primary, &x->primary.heard, "RCPT TO:<user1@example.test>");
	peer_saw(&x->primary, &x->primary.data, "Subject: r\r\n\r\nbody\r\n");
	/* retention counts from the delivery: not before it, then by the row's own key */
	purgeable(x, t0, &h);
	assert_int_equal(h.n, 0);
	purgeable(x, now_ms() + 1, &h);
	if (h.n != 1 || strcmp(h.id, id) != 0 || strcmp(h.key, key) != 0)
		fail_msg("purgeable: got %d, %s %s; want 1, %s %s", h.n, h.id, h.key, id, key);
}

/* test_tempfail - 451 for both: queued after the backoff, attempts recorded, due again */
static void
test_tempfail(void **state)
{
	struct world		*x = *state;
	struct look		 l;
	char			 id[MSGID_MAX], ids[1][MSGID_MAX];
	int64_t			 t0;
	int			 n;

	x->primary.rcpt[0] = (struct peer_rcpt){ "user0@", "451 4.2.1 mailbox busy\r\n" };
	x->primary.rcpt[1] = (struct peer_rcpt){ "user1@", "451 4.2.1 mailbox busy\r\n" };
	world_open(x, 0, 10);
	msg_queue(x, 2, NULL, 1000, OWNER, id);
	t0 = now_ms();
	run(x, id, &(struct want){ .deferred = 2, .congested = 1, .state = QUEUE_QUEUED }, &l);
	want_retry(&l, t0);
	want_rcpt(&l, 0, RCPT_PENDING, 451, "mailbox busy");
	want_rcpt(&l, 1, RCPT_PENDING, 451, "mailbox busy");
	if (l.na != 2 || l.acode != 451)
		fail_msg("attempts rows: got %d (last code %d), want 2 (451)", l.na, l.acode);
	assert_int_equal(peer_count(&x->primary, &x->primary.msgs), 0);	/* no DATA */
	/* the lease was given back: not due now, leased again once due */
	assert_int_equal(index_replay_lease(x->ix, OWNER, now_ms(), x->wc.lease_ms,
	    x->wc.lifetime_ms, 0, NULL, ids, 1, &n), INDEX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(index_replay_lease(x->ix, OWNER, l.next_ms, x->wc.lease_ms,
	    x->wc.lifetime_ms, 0, NULL, ids, 1, &n), INDEX_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], id);
}

/* test_one_refused - 550 for one of two: it is quarantined (no bounce), the other delivered */
static void
test_one_refused(void **state)
{
	struct world		*x = *state;
	struct look		 l;
	char			 id[MSGID_MAX];

	x->primary.rcpt[0] = (struct peer_rcpt){ "user1@", "550 5.1.1 no such user\r\n" };
	world_open(x, 1, 10);
	msg_queue(x, 2, NULL, 1000, OWNER, id);
	run(x, id, &(struct want){ .delivered = 1, .quarantined = 1, .final = 1,
	    .state = QUEUE_QUARANTINE }, &l);
	want_rcpt(&l, 0, RCPT_DELIVERED, 250, "queued");
	want_rcpt(&l, 1, RCPT_QUARANTINE, 550, "no such user");
	assert_int_equal(peer_count(&x->primary, &x->primary.msgs), 1);
	/* a 5xx waits for the operator (worker.h): nothing to the dsn_relay */
	assert_int_equal(peer_count(&x->relay, &x->relay.conns), 0);
}

/*
 * test_object_missing - the store lost the object: held for the operator, nothing sent;
 * one log line says so, with the store's cause (the store logged a second one before)
 */
static void
test_object_missing(void **state)
{
	struct world		*x = *state;
	struct look		 l;
	char			 id[MSGID_MAX], path[] = "/tmp/test_worker.log.XXXXXX", buf[4096];
	char			*p, *save;
	ssize_t			 n;
	int			 fd, saved, lines = 0;

	world_open(x, 0, 10);
	msg_queue(x, 2, NULL, 1000, OWNER, id);
	assert_int_equal(store_purge(x->st, id), STORE_OK);
	/* the run's log lines, from fd 2 into a file */
	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	fflush(stderr);
	assert_true((saved = dup(2)) != -1);
	assert_int_equal(dup2(fd, 2), 2);
	run(x, id, &(struct want){ .state = QUEUE_HOLD }, &l);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	for (p = strtok_r(buf, "\n", &save); p != NULL; p = strtok_r(NULL, "\n", &save))
		if (strstr(p, id) != NULL)
			lines += strstr(p, "no such key") != NULL ? 1 : 100;
	if (lines != 1)
		fail_msg("log: got %d lines of the message with the store's cause and %d without,"
		    " want one with it", lines % 100, lines / 100);
	if (strstr(l.note, "object missing from the store") == NULL)
		fail_msg("note: got \"%s\", want \"object missing from the store\"", l.note);
	want_rcpt(&l, 0, RCPT_PENDING, 0, "");
	assert_int_equal(peer_count(&x->primary, &x->primary.conns), 0);
}

/* test_silent_peer - no greeting, or no reply to the data: the timeout ends it, queued */
static void
test_silent_peer(void **state)
{
	static const struct {
		const char	*what;
		int		 greet;		/* 0: silent from the start */
		int		 msgs;		/* messages the peer took */
	} tc[] = {
		{ "no greeting", 0, 0 },
		/* it may have taken the message: sent again later, never lost */
		{ "no reply after the data", 1, 1 },
	};
	struct world		*x = *state;
	struct look		 l;
	char			 id[MSGID_MAX];
	int64_t			 t0;

	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		print_message("%s\n", tc[i].what);
		if (!tc[i].greet)
			x->primary.greeting = NULL;
		x->primary.eod = NULL;
		world_open(x, 0, 1);
		msg_queue(x, 2, NULL, 1000, OWNER, id);
		t0 = now_ms();
		run(x, id, &(struct want){ .deferred = 2, .congested = 1,
		    .state = QUEUE_QUEUED }, &l);
		want_retry(&l, t0);
		want_rcpt(&l, 0, RCPT_PENDING, 0, "timeout");
		want_rcpt(&l, 1, RCPT_PENDING, 0, "timeout");
		assert_int_equal(l.na, 2);
		assert_int_equal(peer_count(&x->primary, &x->primary.msgs), tc[i].msgs);
		world_close(x);
	}
}

/* test_lease - only a message active under our lease is delivered, and only once */
static void
test_lease(void **state)
{
	struct world		*x = *state;
	struct look		 l;
	char			 other[MSGID_MAX], gone[MSGID_MAX], id[MSGID_MAX];
	int			 n;

	world_open(x, 0, 10);
	/* another worker's lease: left to it, untouched */
	msg_queue(x, 1, NULL, 2000, "other:9", other);
	run(x, other, &(struct want){ .lost = 1, .state = QUEUE_ACTIVE }, &l);
	assert_string_equal(l.owner, "other:9");
	assert_int_equal(l.attempts, 0);
	/* ours, but no longer active: reindex marked it missing (it leaves the lease) */
	msg_queue(x, 1, NULL, 1500, OWNER, gone);
	assert_int_equal(index_replay_mark_missing(x->ix, gone, now_ms(), &n), INDEX_OK);
	assert_int_equal(n, 1);
	run(x, gone, &(struct want){ .lost = 1, .state = QUEUE_MISSING }, &l);
	assert_int_equal(peer_count(&x->primary, &x->primary.conns), 0);
	/* ours, delivered; a second run (a stale hand-out) sends nothing again */
	msg_queue(x, 1, NULL, 1000, OWNER, id);
	run(x, id, &(struct want){ .delivered = 1, .final = 1, .state = QUEUE_DELIVERED }, &l);
	run(x, id, &(struct want){ .lost = 1, .state = QUEUE_DELIVERED }, &l);
	assert_int_equal(l.attempts, 1);
	assert_int_equal(peer_count(&x->primary, &x->primary.msgs), 1);
}

/* test_expired - past its lifetime: DSN through the relay, or none, or held */
static void
test_expired(void **state)
{
	static const struct {
		const char	*what;
		const char	*mail_from;	/* NULL: s@example.org */
		int		 relay;		/* [replay] dsn_relay set */
		const char	*relay_rcpt;	/* its RCPT reply; NULL: 250 */
		enum queue_state state;
		enum rcpt_state	 rstate;
		int		 dsn;		/* a DSN: dsn_ms set, the relay took it */
		const char	*note;
	} tc[] = {
		{ "null sender", "", 1, NULL, QUEUE_EXPIRED, RCPT_EXPIRED, 0,
		    "null sender: no DSN" },
		{ "no relay", NULL, 0, NULL, QUEUE_HOLD, RCPT_PENDING, 0,
		    "no [replay] dsn_relay: held" },
		{ "relay", NULL, 1, NULL, QUEUE_EXPIRED, RCPT_EXPIRED, 1,
		    "DSN sent to <s@example.org>" },
		{ "relay refuses", NULL, 1, "550 5.7.1 not from you\r\n", QUEUE_QUEUED,
		    RCPT_PENDING, 0, "DSN not sent: 550 not from you" },
	};
	struct world		*x = *state;
	struct look		 l;
	char			 id[MSGID_MAX];

	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		print_message("%s\n", tc[i].what);
		if (tc[i].relay_rcpt != NULL)
			x->relay.rcpt[0] = (struct peer_rcpt){ "s@example.org", tc[i].relay_rcpt };
		world_open(x, tc[i].relay, 10);
		msg_queue(x, 2, tc[i].mail_from, 2 * LIFETIME_MS, OWNER, id);
		/* expired counts recipients only once they are (held or deferred: none) */
		run(x, id, &(struct want){ .final = tc[i].state == QUEUE_EXPIRED,
		    .congested = tc[i].relay_rcpt != NULL, .state = tc[i].state,
		    .expired = tc[i].state == QUEUE_EXPIRED ? 2 : 0 }, &l);
		if (strstr(l.note, tc[i].note) == NULL)
			fail_msg("%s: note: got \"%s\", want \"%s\"", tc[i].what, l.note,
			    tc[i].note);
		assert_int_equal(l.nr, 2);
		for (int k = 0; k < l.nr; k++)
			if (l.r[k].state != tc[i].rstate || (l.r[k].dsn_ms != 0) != tc[i].dsn)
				fail_msg("%s: %s: got %s, dsn_ms %lld; want %s%s", tc[i].what,
				    l.r[k].rcpt, rcpt_state_name(l.r[k].state),
				    (long long)l.r[k].dsn_ms, rcpt_state_name(tc[i].rstate),
				    tc[i].dsn ? ", dsn_ms set" : "");
		/* nothing goes to the primary once the lifetime is over */
		assert_int_equal(peer_count(&x->primary, &x->primary.conns), 0);
		assert_int_equal(peer_count(&x->relay, &x->relay.msgs), tc[i].dsn);
		if (tc[i].dsn) {
			peer_saw(&x->relay, &x->relay.heard, "MAIL FROM:<>");
			peer_saw(&x->relay, &x->relay.heard, "RCPT TO:<s@example.org>");
			peer_saw(&x->relay, &x->relay.data, "Status: 4.4.7");
			peer_saw(&x->relay, &x->relay.data, "user1@example.test");
		}
		world_close(x);
	}
}

/* every test in its own world */
#define T(f)	cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_delivered), T(test_tempfail), T(test_one_refused), T(test_object_missing),
		T(test_silent_peer), T(test_lease), T(test_expired),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
