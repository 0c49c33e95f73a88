/*
 * smtp_data.c - the message of a transaction: stage, check, commit, reply;
 * and the DATA command's data phase.
 *
 * The message is streamed to an anonymous file in the staging directory
 * (never whole in memory; staging.c reuses them), behind our Received: header (RFC 5321 4.4); size
 * and SHA-256 are of exactly the stored bytes.  Only CR LF "." CR LF ends the
 * data (the byte state machine is datascan.c); a bare CR or LF never starts
 * a line, so no smuggling variant ("\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", ...)
 * can end a message early, and by default (bare_newline = reject) the whole
 * message is refused.  Limits (size, line length, NUL) are checked while
 * reading; the rest is read and discarded to the terminating dot so the
 * session stays in sync.  250 only when store_commit() said STORE_OK
 * (commit.c runs it on a worker thread).
 * Entry points: smtp_data_run() (DATA; -1 ends the session); for BDAT
 * (smtp_bdat.c) the same message state: smtp_msg_open(), smtp_msg_feed(),
 * smtp_msg_wait(), smtp_msg_check(), smtp_msg_end(), smtp_msg_free().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "auth.h"
#include "config.h"
#include "datascan.h"
#include "log.h"
#include "msgid.h"
#include "smtp.h"

#define DATA_OUTBUF	16384

struct smtp_msg {
	int		 fd;
	EVP_MD_CTX	*md;
	unsigned char	*out;
	size_t		 outlen;
	off_t		 size;		/* bytes written to the file */
	long long	 body;		/* message bytes (after unstuffing) */
	long long	 max;
	struct datascan	 scan;		/* end of data, unstuffing, bare CR/LF, NUL */
	int		 toobig, werr;
	char		 id[MSGID_MAX];
	int64_t		 rcv_ms;
	off_t		 rcvlen;	/* our Received: header at the start of the file */
};

/* data_flush - buffered bytes to the staging file and the hash */
static void
data_flush(struct smtp_msg *d)
{
	size_t	off = 0;
	ssize_t	n;

	if (d->werr || d->outlen == 0) {
		d->outlen = 0;
		return;
	}
	EVP_DigestUpdate(d->md, d->out, d->outlen);
	while (off < d->outlen) {
		n = write(d->fd, d->out + off, d->outlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			d->werr = errno ? errno : EIO;
			break;
		}
		off += n;
	}
	d->size += d->outlen;
	d->outlen = 0;
}

/* data_raw - append bytes that do not count against the size limit */
static void
data_raw(struct smtp_msg *d, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t k;

	while (n > 0) {
		if (d->outlen == DATA_OUTBUF)
			data_flush(d);
		k = DATA_OUTBUF - d->outlen < n ? DATA_OUTBUF - d->outlen : n;
		memcpy(d->out + d->outlen, b, k);
		d->outlen += k;
		b += k;
		n -= k;
	}
}

/* data_put - message bytes: once over the limit, stop storing (keep reading) */
static void
data_put(struct smtp_msg *d, const void *p, size_t n)
{
	if (d->toobig || d->werr)
		return;
	if (d->body + (long long)n > d->max) {
		d->toobig = 1;
		return;
	}
	d->body += n;
	data_raw(d, p, n);
}

/* data_put_cb - datascan output: message bytes */
static void
data_put_cb(void *arg, const void *p, size_t n)
{
	data_put(arg, p, n);
}

/* data_received - the Received: header of RFC 5321 4.4 (trace information) */
static void
data_received(struct smtp_session *s, struct smtp_msg *d, const char *id)
{
	char		 date[64], hdr[2048];
	struct tm	 tm;
	time_t		 t = time(NULL);
	const char	*proto;
	int		 n;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (s->tx->utf8)
		proto = s->ssl ? "UTF8SMTPS" : "UTF8SMTP";
	else if (s->helo_kind == SMTP_HELO_EHLO)
		proto = s->ssl ? "ESMTPS" : "ESMTP";
	else
		proto = "SMTP";
	n = snprintf(hdr, sizeof(hdr), "Received: from %s ([%s%s])\r\n", s->helo,
	    strchr(s->addr, ':') ? "IPv6:" : "", s->addr);
	if (s->ssl != NULL)
		n += snprintf(hdr + n, sizeof(hdr) - n, "\t(using %s)\r\n", s->tls_desc);
	n += snprintf(hdr + n, sizeof(hdr) - n, "\tby %s (mxspool) with %s id %s\r\n",
	    s->ic->hostname, proto, id);
	if (s->tx->env.nrcpts == 1)
		n += snprintf(hdr + n, sizeof(hdr) - n, "\tfor <%s>", s->tx->env.rcpts[0].addr);
	else
		n += snprintf(hdr + n, sizeof(hdr) - n, "\t");
	n += snprintf(hdr + n, sizeof(hdr) - n, "; %s\r\n", date);
	if (n > 0 && (size_t)n < sizeof(hdr))
		data_raw(d, hdr, n);
	else
		d->werr = EOVERFLOW;
}

/*
 * smtp_msg_wait - wait for more input of a message whose reading began at start
 * (monotonic s) and has brought got bytes: data_timeout per read, and as
 * Postfix smtpd_min_data_rate each byte buys 1/rate s more in total.  1 more
 * input, 0 EOF, -1 timeout (421 sent)
 */
int
smtp_msg_wait(struct smtp_session *s, time_t start, long long got)
{
	long long	left = smtp_msg_left(s, start, got);

	if (left <= 0) {
		smtp_gone(s, 0);
		return -1;
	}
	return smtp_fill(s, (int)left);
}

/*
 * smtp_msg_left - seconds a message begun at start (monotonic s) with got
 * octets so far may still wait for more: data_timeout, or less under
 * min_data_rate (data_timeout + got / rate since start; Postfix
 * smtpd_min_data_rate)
 */
long long
smtp_msg_left(struct smtp_session *s, time_t start, long long got)
{
	long long	left = s->ic->data_timeout;

	if (s->ic->min_data_rate > 0) {
		left = start + s->ic->data_timeout + got / s->ic->min_data_rate - mono_ms() / 1000;
		if (left > s->ic->data_timeout)
			left = s->ic->data_timeout;
	}
	return left;
}

/* smtp_msg_feed - n wire bytes through the state machine into the message; bytes consumed */
size_t
smtp_msg_feed(struct smtp_msg *d, const unsigned char *p, size_t n)
{
	return datascan_run(&d->scan, p, n, data_put_cb, d);
}

/* data_read - until the terminating dot; 0 done, -1 session over */
static int
data_read(struct smtp_session *s, struct smtp_msg *d)
{
	time_t	start = (time_t)(mono_ms() / 1000);

	for (;;) {
		s->inpos += smtp_msg_feed(d, s->in + s->inpos, s->inlen - s->inpos);
		if (d->scan.end)
			return 0;
		if (smtp_msg_wait(s, start, d->body) <= 0)
			return -1;
	}
}

/* data_commit - envelope complete; store it; the reply */
static int
data_commit(struct smtp_session *s, struct smtp_msg *d)
{
	struct envelope		*env = &s->tx->env;
	unsigned char		 md[32];
	unsigned int		 mdlen = 0, i;
	char			 reason[ERRSTR_MAX];
	const char		*id = d->id;
	enum store_status	 st;

	EVP_DigestFinal_ex(d->md, md, &mdlen);
	for (i = 0; i < 32; i++)
		snprintf(env->sha256 + 2 * i, 3, "%02x", md[i]);
	snprintf(env->id, sizeof(env->id), "%s", id);
	snprintf(env->node, sizeof(env->node), "%s", config_node(ingest.config));
	env->received_ms = d->rcv_ms;
	env->size = d->size;
	if ((env->client_addr = strdup(s->addr)) == NULL ||
	    (env->client_name = strdup("")) == NULL || (env->helo = strdup(s->helo)) == NULL ||
	    (env->tls = strdup(s->tls_desc)) == NULL)
		return smtp_reply(s, "451 4.3.0 Error: out of memory");
	reason[0] = '\0';
	st = commit_submit(env, d->fd, d->size, reason, sizeof(reason));
	switch (st) {
	case STORE_OK:
		counters_inc(COUNTERS_ACCEPTED);
		s->junk = 0;	/* as Postfix: a delivered message resets the junk count */
		log_info("%s ingest queued session=%s from=<%s> nrcpt=%zu size=%lld sha256=%s",
		    id, s->id, env->mail_from, env->nrcpts, (long long)d->size, env->sha256);
		return smtp_reply(s, "250 2.0.0 Ok: queued as %s", id);
	case STORE_NOSPACE:
		counters_inc(COUNTERS_REJ_STORE_NOSPACE);
		log_warnx("%s ingest store_nospace session=%s reason=\"%s\"", id, s->id, reason);
		return smtp_reply(s, "452 4.3.1 Error: insufficient system storage, try later");
	default:
		counters_inc(COUNTERS_REJ_STORE_TEMPFAIL);
		log_warnx("%s ingest store_tempfail session=%s reason=\"%s\"", id, s->id, reason);
		return smtp_reply(s, "451 4.3.0 Error: queue file write error, try later");
	}
}

/*
 * smtp_msg_check - the reply for a message that failed a check, into text;
 * 1 if one applied (counted and logged), 0 if the message is fine so far
 */
int
smtp_msg_check(struct smtp_session *s, struct smtp_msg *d, char *text, size_t len)
{
	const struct ingest_conf *ic = s->ic;

	if (d->werr) {
		log_warnx("%s ingest staging_error session=%s error=\"%s\"", d->id, s->id,
		    strerror(d->werr));
		counters_inc(COUNTERS_REJ_STORE_TEMPFAIL);
		snprintf(text, len, "451 4.3.0 Error: local error in processing");
	} else if (d->toobig) {
		counters_inc(COUNTERS_REJ_SIZE);
		snprintf(text, len, "552 5.3.4 Error: message size exceeds fixed limit");
	} else if (d->scan.bare && ic->bare_newline == INGEST_BARE_REJECT) {
		counters_inc(COUNTERS_REJ_BARE_NEWLINE);
		snprintf(text, len, "550 5.6.0 Error: bare CR or LF in message data "
		    "(RFC 5321 2.3.8)");
	} else if (d->scan.nul && ic->nul_policy == INGEST_BARE_REJECT) {
		counters_inc(COUNTERS_REJ_NUL);
		snprintf(text, len, "550 5.6.0 Error: NUL byte in message data");
	} else if (d->scan.longline) {
		counters_inc(COUNTERS_REJ_LONG_LINE);
		snprintf(text, len, "550 5.6.0 Error: message line longer than %d octets",
		    ic->max_data_line);
	} else
		return 0;
	log_info("%s ingest reject session=%s reason=%s size=%lld", d->id, s->id,
	    d->werr ? "staging" : d->toobig ? "size" : d->scan.bare ? "bare_newline" :
	    d->scan.nul ? "nul" : "line_length", d->body);
	return 1;
}

/*
 * data_copy - bytes [from, to) of the staging file src into the message d,
 * "X-Original-" before each field at a message offset in ins (sorted,
 * relative to base); -1 read error
 */
static int
data_copy(struct smtp_msg *d, int src, off_t from, off_t to, off_t base,
    const off_t *ins, size_t nins)
{
	static const char	 pfx[] = "X-Original-";
	unsigned char		 buf[DATA_OUTBUF];
	off_t			 stop;
	ssize_t			 n;
	size_t			 k = 0;

	while (from < to) {
		while (k < nins && base + ins[k] < from)
			k++;
		if (k < nins && base + ins[k] == from) {
			data_raw(d, pfx, sizeof(pfx) - 1);
			k++;
		}
		stop = k < nins && base + ins[k] < to ? base + ins[k] : to;
		if (stop - from > (off_t)sizeof(buf))
			stop = from + sizeof(buf);
		n = pread(src, buf, stop - from, from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data_raw(d, buf, n);
		from += n;
	}
	return 0;
}

/*
 * data_annotate - the staged message again, into a new staging file: our
 * Received:, the Authentication-Results: of v, then the message with the
 * incoming fields that claim our authserv-id renamed (RFC 8601 5); the size
 * and the hash become those of the new bytes.  -1: staging error (451)
 */
static int
data_annotate(struct smtp_session *s, struct smtp_msg *d, const struct auth_verdict *v)
{
	int	old = d->fd;
	off_t	end = d->size;

	if ((d->fd = staging_get(s->ic->staging_dir)) < 0) {
		d->werr = errno ? errno : EIO;	/* the log line says why */
		d->fd = old;
		return -1;
	}
	d->size = 0;
	d->outlen = 0;
	if (EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1 ||
	    data_copy(d, old, 0, d->rcvlen, 0, NULL, 0) != 0) {
		staging_put(old, s->ic->staging_dir);
		d->werr = EIO;
		return -1;
	}
	data_raw(d, v->header, v->headerlen);
	if (data_copy(d, old, d->rcvlen, end, d->rcvlen, v->forged, v->nforged) != 0)
		d->werr = EIO;
	data_flush(d);
	staging_put(old, s->ic->staging_dir);
	return d->werr ? -1 : 0;
}

/*
 * data_auth - verify the staged message (auth.c), annotate it; the reply when
 * it must not be committed (written into text).  1 replied, 0 go on commit
 */
static int
data_auth(struct smtp_session *s, struct smtp_msg *d, char *text, size_t len)
{
	struct auth_verdict	*v;
	struct auth_request	 r = { d->id, s->addr, s->helo, s->tx->env.mail_from,
				    auth_enforce(&s->tx->env) };
	int			 rc = 0;

	if ((v = malloc(sizeof(*v))) == NULL || auth_verify(d->fd, d->rcvlen, d->size, &r, v)) {
		if (v != NULL)
			auth_verdict_free(v);
		free(v);
		counters_inc(COUNTERS_REJ_STORE_TEMPFAIL);
		log_warnx("%s ingest auth_error session=%s error=\"staging file unreadable or out "
		    "of memory\"", d->id, s->id);
		snprintf(text, len, "451 4.3.0 Error: local error in processing");
		return 1;
	}
	log_info("%s ingest auth session=%s spf=%s dkim=%s dmarc=%s from_domain=%s action=%s "
	    "forged_ar=%zu", d->id, s->id, spf_result_name(v->spf), v->dkim, v->dmarc,
	    v->from_domain[0] ? v->from_domain : "-", v->action == AUTH_REJECT ? "reject" :
	    v->action == AUTH_QUARANTINE ? "quarantine" : "accept", v->nforged);
	counters_auth(0, spf_result_name(v->spf));
	counters_auth(1, v->dkim);
	counters_auth(2, v->dmarc);
	if (v->action == AUTH_REJECT) {
		counters_inc(COUNTERS_REJ_DMARC);
		snprintf(text, len, "550 5.7.1 Error: rejected by the DMARC policy of %s",
		    v->from_domain);
		rc = 1;
	} else if (data_annotate(s, d, v) != 0) {
		counters_inc(COUNTERS_REJ_STORE_TEMPFAIL);
		log_warnx("%s ingest staging_error session=%s error=\"%s\"", d->id, s->id,
		    strerror(d->werr));
		snprintf(text, len, "451 4.3.0 Error: local error in processing");
		rc = 1;
	} else
		envelope_set_auth(&s->tx->env, spf_result_name(v->spf), v->dkim, v->dmarc,
		    v->action == AUTH_QUARANTINE);
	auth_verdict_free(v);
	free(v);
	return rc;
}

/* smtp_msg_end - all bytes are in: check, verify, then commit; the reply.  0 ok, -1 over */
int
smtp_msg_end(struct smtp_session *s, struct smtp_msg *d)
{
	char	text[384];

	data_flush(d);
	if (smtp_msg_check(s, d, text, sizeof(text)) ||
	    (auth_enabled() && data_auth(s, d, text, sizeof(text))))
		return smtp_reply(s, "%s", text) == 0 ? 0 : -1;
	return data_commit(s, d) == 0 ? 0 : -1;
}

/* smtp_msg_free - release the staging file (emptied for reuse) and buffers */
void
smtp_msg_free(struct smtp_session *s, struct smtp_msg *d)
{
	if (d == NULL)
		return;
	if (d->md != NULL)
		EVP_MD_CTX_free(d->md);
	free(d->out);
	staging_put(d->fd, s->ic->staging_dir);
	free(d);
}

/*
 * smtp_msg_open - a new message for the transaction: id, staging file, hash and
 * our Received: header; chunked for BDAT (datascan.h).  NULL (logged) when the
 * staging directory fails: the caller says 451.
 */
struct smtp_msg *
smtp_msg_open(struct smtp_session *s, int chunked)
{
	struct smtp_msg	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->fd = -1;
	d->max = s->ic->max_message_size;
	d->rcv_ms = now_ms();
	if (chunked)
		datascan_init_chunked(&d->scan, s->ic->max_data_line);
	else
		datascan_init(&d->scan, s->ic->max_data_line);
	if (msgid_new(config_node(ingest.config), d->rcv_ms, d->id, sizeof(d->id)) != 0 ||
	    (d->fd = staging_get(s->ic->staging_dir)) < 0 ||
	    (d->out = malloc(DATA_OUTBUF)) == NULL || (d->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(d->md, EVP_sha256(), NULL) != 1) {
		log_warn("%s ingest staging_error dir=%s", s->id, s->ic->staging_dir);
		smtp_msg_free(s, d);
		return NULL;
	}
	data_received(s, d, d->id);
	d->rcvlen = d->outlen;
	return d;
}

/* smtp_msg_finish - BDAT LAST: a CR pending at the very end is a bare CR */
void
smtp_msg_finish(struct smtp_msg *d)
{
	datascan_finish(&d->scan, data_put_cb, d);
}

/* smtp_msg_body - message bytes so far (for logs and the BDAT replies) */
long long
smtp_msg_body(const struct smtp_msg *d)
{
	return d->body;
}

/* smtp_data_run - 354, read, check, commit; the transaction ends here */
int
smtp_data_run(struct smtp_session *s)
{
	struct smtp_msg	*d;
	int		 r;

	if ((d = smtp_msg_open(s, 0)) == NULL) {
		r = smtp_reply(s, "451 4.3.0 Error: local error in processing");
		goto out;
	}
	if ((r = smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>")) != 0)
		goto out;
	if (data_read(s, d) != 0) {
		smtp_log(s, "data_aborted", "addr=%s msg=%s bytes=%lld", s->addr, d->id, d->body);
		r = -1;
		goto out;
	}
	r = smtp_msg_end(s, d);
out:
	smtp_msg_free(s, d);
	smtp_tx_free(s);
	return r == 0 ? 0 : -1;
}
