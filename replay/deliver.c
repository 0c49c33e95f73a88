/*
 * deliver.c - the SMTP (RFC 5321) / LMTP (RFC 2033) client session to the primary.
 *
 * Entry points: deliver_connect() (greeting, EHLO/LHLO, STARTTLS, AUTH),
 * deliver_send() (one transaction: MAIL, RCPT..., DATA, body, one reply or,
 * for LMTP, one reply per accepted recipient), deliver_usable(), deliver_close().
 * The envelope is passed on faithfully: MAIL and RCPT parameters are sent only
 * where the primary advertised the extension (SIZE, 8BITMIME, SMTPUTF8, DSN).
 * The body is streamed from the fd with pread(), dot-stuffed (RFC 5321
 * 4.5.2) and never held whole in memory; an optional prefix (the ARC set
 * replay adds) goes before it.  Invariant: after any failure in a
 * transaction the connection is marked broken and is never reused; a message
 * whose bytes could not all be read is never terminated with the final dot.
 * Errors: deliver_status plus a one-line reason in err; nothing is logged here
 * but debug lines (the caller logs the outcome once).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "mailaddr.h"
#include "deliver.h"
#include "smtpc.h"

/* RCPT commands per pipelined group (RFC 2920 3.1: keep within the TCP window) */
#define DELIVER_PIPE_GROUP	100
/* body bytes read per pread() */
#define DELIVER_CHUNK		(64 * 1024)
/* header bytes scanned for 8-bit characters (SMTPUTF8 need) */
#define DELIVER_HDRSCAN_MAX	(1024 * 1024)
/* credentials accepted for AUTH */
#define DELIVER_CRED_MAX	512

struct deliver_conn {
	struct smtpc	 io;
	struct smtpc_reply	 rep;
	struct deliver_route	 route;
	struct deliver_opts	 opts;
	int			 broken;
	int			 ntx;
};

/* deliver_fail - reason for the caller; the connection is not reusable; returns -1 */
static int __attribute__((format(printf, 2, 3)))
deliver_fail(struct deliver_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->io.why, sizeof(c->io.why), fmt, ap);
	va_end(ap);
	c->broken = 1;
	return -1;
}

/* deliver_cmd - send one command line (without CRLF); 0 ok, -1 */
static int
deliver_cmd(struct deliver_conn *c, const char *line)
{
	if (smtpc_send(&c->io, line, c->opts.command_timeout * 1000) == -1)
		return c->broken = 1, -1;
	return 0;
}

/* deliver_reply - read one reply (timeout in seconds); 0 ok, -1 */
static int
deliver_reply(struct deliver_conn *c, int timeout, const char *after)
{
	if (smtpc_cmd(&c->io, &c->rep, NULL, timeout * 1000, after) == -1)
		return c->broken = 1, -1;
	if (c->rep.code == 421)
		c->broken = 1;		/* RFC 5321 3.8: the server is closing */
	return 0;
}

/* deliver_quiet - nothing may follow the replies we asked for (RFC 5321 4.1.1, 2920) */
static int
deliver_quiet(struct deliver_conn *c, const char *after)
{
	if (smtpc_quiet(&c->io, after) == -1)
		return c->broken = 1, -1;
	return 0;
}

/* deliver_refused - reason from the current reply: "<what>: 550 5.1.1 text" */
static int
deliver_refused(struct deliver_conn *c, const char *what)
{
	return smtpc_refused(&c->io, &c->rep, what);
}

/* deliver_hello - EHLO (HELO if refused) or LHLO; 0 ok, -1 with *code */
static int
deliver_hello(struct deliver_conn *c, int *code)
{
	if (smtpc_hello(&c->io, &c->rep, c->opts.helo_name, c->route.proto == DELIVER_LMTP,
	    c->opts.command_timeout * 1000) == 0)
		return 0;
	c->broken = 1;
	*code = c->rep.code / 100 == 2 ? 0 : c->rep.code;	/* 2xx: failed after it */
	return -1;
}

/* deliver_starttls - RFC 3207; 0 ok (or TLS not used), -1 with *code */
static int
deliver_starttls(struct deliver_conn *c, int *code)
{
	int rc;

	if (c->opts.tls == DELIVER_TLS_NONE)
		return 0;
	if (!(c->io.caps & SMTPC_CAP_STARTTLS)) {
		if (c->opts.tls == DELIVER_TLS_OPPORTUNISTIC)
			return 0;
		return deliver_fail(c, "primary does not offer STARTTLS (tls = required)");
	}
	rc = smtpc_starttls(&c->io, &c->rep, c->route.host, c->opts.tls_verify, c->opts.ca_file,
	    c->opts.command_timeout * 1000);
	if (rc == 1 && c->opts.tls == DELIVER_TLS_OPPORTUNISTIC && c->rep.code != 421)
		return 0;	/* like Postfix "may": carry on in plaintext */
	if (rc != 0) {
		*code = c->rep.code;
		return c->broken = 1, -1;
	}
	return deliver_hello(c, code);
}

/* deliver_b64 - base64 of n bytes into out */
static void
deliver_b64(const void *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* deliver_auth - AUTH PLAIN or LOGIN (RFC 4954); never logs the secret */
static int
deliver_auth(struct deliver_conn *c, int *code)
{
	const char	*u = c->opts.auth_user, *pw = c->opts.auth_password;
	unsigned char	 raw[2 * DELIVER_CRED_MAX + 2];
	char		 b64[4 * sizeof(raw) / 3 + 8], line[SMTP_CMDLINE_MAX];
	size_t		 ul, pl;
	int		 rc = -1;

	if (u == NULL || u[0] == '\0')
		return 0;
	if (c->io.ssl == NULL && !c->opts.auth_plaintext)
		return deliver_fail(c, "AUTH refused without TLS (auth_plaintext = no)");
	if ((ul = strlen(u)) > DELIVER_CRED_MAX || (pl = strlen(pw)) > DELIVER_CRED_MAX)
		return deliver_fail(c, "auth_user or auth_password longer than %d bytes",
		    DELIVER_CRED_MAX);
	if (c->io.caps & SMTPC_CAP_AUTH_PLAIN) {
		raw[0] = '\0';
		memcpy(raw + 1, u, ul);
		raw[ul + 1] = '\0';
		memcpy(raw + ul + 2, pw, pl);
		deliver_b64(raw, ul + pl + 2, b64);
		snprintf(line, sizeof(line), "AUTH PLAIN %s", b64);
		if (deliver_cmd(c, line) == -1 || deliver_reply(c, c->opts.command_timeout,
		    "AUTH") == -1)
			goto out;
	} else if (c->io.caps & SMTPC_CAP_AUTH_LOGIN) {
		if (deliver_cmd(c, "AUTH LOGIN") == -1 || deliver_reply(c,
		    c->opts.command_timeout, "AUTH") == -1)
			goto out;
		if (c->rep.code == 334) {
			deliver_b64(u, ul, b64);
			if (deliver_cmd(c, b64) == -1 || deliver_reply(c,
			    c->opts.command_timeout, "AUTH") == -1)
				goto out;
		}
		if (c->rep.code == 334) {
			deliver_b64(pw, pl, b64);
			if (deliver_cmd(c, b64) == -1 || deliver_reply(c,
			    c->opts.command_timeout, "AUTH") == -1)
				goto out;
		}
	} else {
		deliver_fail(c, "primary offers neither AUTH PLAIN nor AUTH LOGIN");
		goto out;
	}
	if (c->rep.code != 235) {
		*code = c->rep.code;
		deliver_refused(c, "AUTH");
		goto out;
	}
	rc = deliver_quiet(c, "AUTH");
out:
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	explicit_bzero(line, sizeof(line));
	return rc;
}

struct deliver_conn *
deliver_connect(const struct deliver_route *r, const struct deliver_opts *o, int *code,
    char *err, size_t errlen)
{
	struct deliver_conn *c;

	*code = 0;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	smtpc_init(&c->io);
	smtpc_reply_init(&c->rep);
	c->route = *r;
	c->opts = *o;
	if (smtpc_open(&c->io, &c->rep, r, o->source_address, o->helo_name,
	    o->connect_timeout * 1000, o->command_timeout * 1000) == -1) {
		*code = c->rep.code / 100 == 2 ? 0 : c->rep.code;	/* 2xx: failed after it */
		goto fail;
	}
	if (deliver_starttls(c, code) == -1 || deliver_auth(c, code) == -1)
		goto fail;
	log_debug("- deliver connected target=%s tls=\"%s\"", r->target, c->io.tls_info);
	return c;
fail:
	snprintf(err, errlen, "%s: %s", r->target, c->io.why);
	smtpc_close(&c->io, 0);
	smtpc_reply_free(&c->rep);
	free(c);
	return NULL;
}

/* deliver_param - value of NAME= in a space-separated parameter list, into out */
static int
deliver_param(const char *params, const char *name, char *out, size_t outlen)
{
	const char	*p = params, *e;
	size_t		 n = strlen(name), vl;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " ");
		e = p + strcspn(p, " ");
		if ((size_t)(e - p) >= n && strncasecmp(p, name, n) == 0 &&
		    (p[n] == '=' || (p + n == e && name[n - 1] != '='))) {
			vl = p[n] == '=' ? (size_t)(e - p - n - 1) : 0;
			if (out != NULL) {
				if (vl >= outlen)
					vl = outlen - 1;
				memcpy(out, p + n + (p[n] == '='), vl);
				out[vl] = '\0';
			}
			return 1;
		}
		p = e;
	}
	return 0;
}

/* deliver_clean - 1 if s has no control characters (no command injection) */
static int
deliver_clean(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/*
 * deliver_need_utf8 - RFC 6531 3.2: SMTPUTF8 is needed when the sender asked for it
 * and an envelope address or a header field has 8-bit characters (like Postfix's
 * smtputf8_autodetect).  The header is scanned with pread, bounded.
 */
static int
deliver_need_utf8(struct deliver_msg *m)
{
	char	buf[8192];
	off_t	off = 0;
	ssize_t	n, i;
	size_t	k;
	char	prev2 = 0, prev = 0;

	if (!deliver_param(m->mail_params, "SMTPUTF8", NULL, 0))
		return 0;
	if (mailaddr_8bit(m->mail_from))
		return 1;
	for (k = 0; k < m->nrcpts; k++)
		if (mailaddr_8bit(m->rcpts[k].addr))
			return 1;
	while (off < m->size && off < DELIVER_HDRSCAN_MAX) {
		if ((n = pread(m->fd, buf, sizeof(buf), off)) <= 0)
			return 0;
		for (i = 0; i < n; i++) {
			if ((unsigned char)buf[i] > 0x7f)
				return 1;
			/* end of header: CRLF CRLF (or a blank first line) */
			if (buf[i] == '\n' && prev == '\r' && (prev2 == '\n' || off + i == 1))
				return 0;
			prev2 = prev;
			prev = buf[i];
		}
		off += n;
	}
	return 0;
}

/*
 * deliver_dsn_param - " NAME=value" at line + o when the primary has DSN and
 * params carry NAME (RFC 3461 §4.1-4.4); the line's new length
 */
static size_t
deliver_dsn_param(const struct deliver_conn *c, const char *params, const char *name,
    char *line, size_t len, size_t o)
{
	char	v[DSN_ORCPT_MAX + 1];

	if ((c->io.caps & SMTPC_CAP_DSN) && deliver_param(params, name, v, sizeof(v)) && o < len)
		o += snprintf(line + o, len - o, " %s=%s", name, v);
	return o;
}

/* deliver_mail_cmd - MAIL FROM with the parameters the primary supports */
static void
deliver_mail_cmd(struct deliver_conn *c, struct deliver_msg *m, int utf8, char *line, size_t len)
{
	char	v[DSN_ORCPT_MAX + 1];
	size_t	o;

	o = snprintf(line, len, "MAIL FROM:<%s>", m->mail_from);
	if ((c->io.caps & SMTPC_CAP_SIZE) && o < len)
		o += snprintf(line + o, len - o, " SIZE=%lld",
		    (long long)m->size + (long long)m->prefixlen);
	if ((c->io.caps & SMTPC_CAP_8BITMIME) && deliver_param(m->mail_params, "BODY", v,
	    sizeof(v)) && o < len)
		/* no BDAT here: BINARYMIME goes as 8BITMIME (CRLF lines, checked at ingest) */
		o += snprintf(line + o, len - o, " BODY=%s",
		    strcasecmp(v, "7BIT") == 0 ? "7BIT" : "8BITMIME");
	if (utf8 && (c->io.caps & SMTPC_CAP_SMTPUTF8) && o < len)
		o += snprintf(line + o, len - o, " SMTPUTF8");
	o = deliver_dsn_param(c, m->mail_params, "RET", line, len, o);
	(void)deliver_dsn_param(c, m->mail_params, "ENVID", line, len, o);
}

/* deliver_rcpt_cmd - RCPT TO with NOTIFY/ORCPT when the primary has DSN */
static void
deliver_rcpt_cmd(struct deliver_conn *c, struct deliver_rcpt *r, char *line, size_t len)
{
	size_t	o;

	o = snprintf(line, len, "RCPT TO:<%s>", r->addr);
	o = deliver_dsn_param(c, r->params, "NOTIFY", line, len, o);
	(void)deliver_dsn_param(c, r->params, "ORCPT", line, len, o);
}

/* deliver_set - record the current reply as r's outcome */
static void
deliver_set(struct deliver_conn *c, struct deliver_rcpt *r)
{
	r->code = c->rep.code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", c->rep.enhanced);
	smtpc_reply_text(&c->rep, r->text, sizeof(r->text));
}

/* deliver_set_fixed - a locally decided outcome */
static void
deliver_set_fixed(struct deliver_rcpt *r, int code, const char *enh, const char *text)
{
	r->code = code;
	snprintf(r->enhanced, sizeof(r->enhanced), "%s", enh);
	snprintf(r->text, sizeof(r->text), "%s", text);
}

/* deliver_add - append a command line + CRLF to a pipeline group */
static int
deliver_add(struct deliver_conn *c, struct buf *b, const char *line)
{
	if (strlen(line) > SMTP_CMDLINE_MAX - 2)
		return deliver_fail(c, "command longer than %d bytes", SMTP_CMDLINE_MAX);
	if (buf_addstr(b, line) == -1 || buf_add(b, "\r\n", 2) == -1)
		return deliver_fail(c, "out of memory");
	return 0;
}

/*
 * deliver_envelope - MAIL and RCPTs, in groups when the primary has PIPELINING
 * (RFC 2920: replies are read after each group, so neither side can block).
 * Returns 0 and sets acc[i] for accepted rcpts, 1 when MAIL was refused (every
 * rcpt has its reply), -1 on a connection failure.
 */
static int
deliver_envelope(struct deliver_conn *c, struct deliver_msg *m, int utf8, char *acc)
{
	struct buf	b;
	char		line[SMTP_CMDLINE_MAX + 64];
	size_t		i = 0, j, k, group;
	int		mail_ok = -1, rc = -1;

	group = (c->io.caps & SMTPC_CAP_PIPELINING) ? DELIVER_PIPE_GROUP : 1;
	buf_init(&b, (size_t)(group + 1) * (SMTP_CMDLINE_MAX + 2));
	deliver_mail_cmd(c, m, utf8, line, sizeof(line));
	if (deliver_add(c, &b, line) == -1)
		goto out;
	for (;;) {
		/* without PIPELINING, MAIL goes alone (RFC 5321 4.1.1.2 then 4.1.1.3) */
		for (j = i; j < m->nrcpts && j - i < group && mail_ok != 0 &&
		    (mail_ok == 1 || group > 1); j++) {
			deliver_rcpt_cmd(c, &m->rcpts[j], line, sizeof(line));
			if (deliver_add(c, &b, line) == -1)
				goto out;
		}
		if (smtpc_write(&c->io, b.data, b.len, c->opts.command_timeout * 1000) == -1) {
			c->broken = 1;
			goto out;
		}
		if (mail_ok == -1) {
			if (deliver_reply(c, c->opts.command_timeout, "MAIL FROM") == -1)
				goto out;
			mail_ok = c->rep.code / 100 == 2;
			for (k = 0; !mail_ok && k < m->nrcpts; k++)
				deliver_set(c, &m->rcpts[k]);
			if (c->rep.code == 421) {
				deliver_refused(c, "MAIL FROM");
				goto out;
			}
		}
		for (; i < j; i++) {
			if (deliver_reply(c, c->opts.command_timeout, "RCPT TO") == -1)
				goto out;
			if (mail_ok) {
				deliver_set(c, &m->rcpts[i]);
				acc[i] = c->rep.code / 100 == 2;
			}
			if (c->rep.code == 421) {	/* later rcpts stay without a reply */
				deliver_refused(c, "RCPT TO");
				goto out;
			}
		}
		if (deliver_quiet(c, "RCPT TO") == -1)
			goto out;
		buf_reset(&b);
		if (!mail_ok || i >= m->nrcpts)
			break;
	}
	rc = mail_ok ? 0 : 1;
out:
	buf_free(&b);
	return rc;
}

/* deliver_body - stream, dot-stuffed, ending in CRLF "." CRLF (RFC 5321 4.1.1.4) */
static int
deliver_body(struct deliver_conn *c, struct deliver_msg *m)
{
	char	*in, *out;
	off_t	 off = 0;
	ssize_t	 n, i;
	size_t	 o = 0;
	int	 bol = 1, cr = 0, rc = -1;
	char	 last = '\n';

	in = malloc(DELIVER_CHUNK);
	out = malloc(2 * DELIVER_CHUNK + 8);
	if (in == NULL || out == NULL) {
		deliver_fail(c, "out of memory");
		goto out;
	}
	/* header fields we made (ARC set): whole CRLF lines, none with a leading dot */
	if (m->prefixlen > 0 && smtpc_write(&c->io, m->prefix, m->prefixlen,
	    c->opts.data_timeout * 1000) == -1) {
		c->broken = 1;
		goto out;
	}
	while (off < m->size) {
		n = pread(m->fd, in, m->size - off < DELIVER_CHUNK ? m->size - off : DELIVER_CHUNK,
		    off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* never send the final dot for a short message: drop the connection */
			deliver_fail(c, "reading the message at offset %lld: %s", (long long)off,
			    n == 0 ? "file shorter than its size" : strerror(errno));
			goto out;
		}
		for (i = 0, o = 0; i < n; i++) {
			/*
			 * A dot after a bare CR is stuffed too: such bytes are only
			 * stored with [ingest] bare_newline = keep, and a primary that
			 * takes a bare CR for a line end must not see "\r.\r\n" as the
			 * end of data (SMTP smuggling into the primary).
			 */
			if (cr && in[i] != '\n')
				bol = 1;
			if (bol && in[i] == '.')
				out[o++] = '.';
			out[o++] = in[i];
			bol = in[i] == '\n';
			cr = in[i] == '\r';
		}
		last = in[n - 1];
		off += n;
		if (off >= m->size)
			break;	/* the last chunk goes with the end of data: one write */
		if (smtpc_write(&c->io, out, o, c->opts.data_timeout * 1000) == -1) {
			c->broken = 1;
			goto out;
		}
		o = 0;
	}
	if (last == '\r')
		out[o++] = '\n';
	else if (last != '\n') {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	if (smtpc_write(&c->io, out, o + 3, c->opts.data_timeout * 1000) == -1) {
		c->broken = 1;
		goto out;
	}
	rc = 0;
out:
	free(in);
	free(out);
	return rc;
}

/* deliver_rset - RSET, 250 expected (RFC 5321 4.1.1.5) */
static int
deliver_rset(struct deliver_conn *c)
{
	if (deliver_cmd(c, "RSET") == -1 || deliver_reply(c, c->opts.command_timeout, "RSET") == -1)
		return -1;
	if (c->rep.code / 100 != 2) {
		c->broken = 1;
		return deliver_refused(c, "RSET");
	}
	return deliver_quiet(c, "RSET");
}

/* deliver_check - refuse envelopes that would inject commands (corrupt index) */
static int
deliver_check(struct deliver_msg *m)
{
	size_t i;

	if (m->mail_from == NULL || !deliver_clean(m->mail_from) ||
	    !deliver_clean(m->mail_params))
		return -1;
	for (i = 0; i < m->nrcpts; i++)
		if (m->rcpts[i].addr == NULL || !deliver_clean(m->rcpts[i].addr) ||
		    !deliver_clean(m->rcpts[i].params))
			return -1;
	return 0;
}

/* deliver_final - the end-of-data reply (SMTP) or one per accepted rcpt (RFC 2033 4.2) */
static int
deliver_final(struct deliver_conn *c, struct deliver_msg *m, const char *acc)
{
	size_t i;

	if (c->route.proto == DELIVER_SMTP) {
		if (deliver_reply(c, c->opts.data_timeout, "end of data") == -1)
			return -1;
		for (i = 0; i < m->nrcpts; i++)
			if (acc[i])
				deliver_set(c, &m->rcpts[i]);
	} else {
		for (i = 0; i < m->nrcpts; i++) {
			if (!acc[i])
				continue;
			if (deliver_reply(c, c->opts.data_timeout, "end of data") == -1)
				return -1;
			deliver_set(c, &m->rcpts[i]);
		}
	}
	return deliver_quiet(c, "end of data");
}

enum deliver_status
deliver_send(struct deliver_conn *c, struct deliver_msg *m, char *err, size_t errlen)
{
	enum deliver_status	 st = DELIVER_TEMPFAIL;
	char			*acc = NULL;
	size_t			 i, naccepted = 0;
	int			 utf8, rc;

	for (i = 0; i < m->nrcpts; i++)
		deliver_set_fixed(&m->rcpts[i], 0, "", "");
	err[0] = '\0';
	c->io.why[0] = '\0';
	if (deliver_check(m) == -1) {
		for (i = 0; i < m->nrcpts; i++)
			deliver_set_fixed(&m->rcpts[i], 550, "5.1.3",
			    "control characters in the stored envelope");
		snprintf(err, errlen, "control characters in the stored envelope");
		return DELIVER_PERMFAIL;
	}
	if (!deliver_usable(c)) {
		snprintf(err, errlen, "%s: connection not usable", c->route.target);
		return DELIVER_TEMPFAIL;
	}
	if ((utf8 = deliver_need_utf8(m)) && !(c->io.caps & SMTPC_CAP_SMTPUTF8)) {
		/* RFC 6531 3.2: no downgrade; the operator decides (quarantine) */
		for (i = 0; i < m->nrcpts; i++)
			deliver_set_fixed(&m->rcpts[i], 550, "5.6.7",
			    "SMTPUTF8 is required but the primary does not offer it");
		snprintf(err, errlen, "%s: SMTPUTF8 required, not offered", c->route.target);
		return DELIVER_PERMFAIL;
	}
	if ((acc = calloc(m->nrcpts + 1, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return DELIVER_TEMPFAIL;
	}
	if (c->ntx++ > 0 && deliver_rset(c) == -1)
		goto out;
	if ((rc = deliver_envelope(c, m, utf8, acc)) == -1)
		goto out;
	if (rc == 1) {
		deliver_refused(c, "MAIL FROM");
		st = c->rep.code / 100 == 5 ? DELIVER_PERMFAIL : DELIVER_TEMPFAIL;
		goto out;
	}
	for (i = 0; i < m->nrcpts; i++)
		naccepted += acc[i];
	if (naccepted == 0) {
		st = DELIVER_OK;	/* each rcpt has its refusal; end the transaction */
		(void)deliver_rset(c);
		goto out;
	}
	if (deliver_cmd(c, "DATA") == -1 || deliver_reply(c, c->opts.command_timeout,
	    "DATA") == -1)
		goto out;
	if (c->rep.code != 354) {
		for (i = 0; i < m->nrcpts; i++)
			if (acc[i])
				deliver_set(c, &m->rcpts[i]);
		deliver_refused(c, "DATA");
		if (c->rep.code / 100 == 5)
			st = DELIVER_PERMFAIL;
		else if (c->rep.code / 100 != 4)
			c->broken = 1;	/* 2xx/3xx to DATA: we cannot know what it thinks */
		goto out;
	}
	for (i = 0; i < m->nrcpts; i++)
		if (acc[i])	/* the RCPT 250 is no outcome: unknown until the final reply */
			deliver_set_fixed(&m->rcpts[i], 0, "", "");
	if (deliver_quiet(c, "DATA") == -1 || deliver_body(c, m) == -1 ||
	    deliver_final(c, m, acc) == -1)
		goto out;
	st = DELIVER_OK;
out:
	free(acc);
	/* a failed transaction delivered nothing: a 2xx left from RCPT (or a 2xx to DATA)
	 * is no outcome, the recipient is retried (every caller, the DSN sender too) */
	for (i = 0; st != DELIVER_OK && i < m->nrcpts; i++)
		if (m->rcpts[i].code / 100 == 2)
			deliver_set_fixed(&m->rcpts[i], 0, "", "");
	if (st != DELIVER_OK || c->io.why[0] != '\0')
		snprintf(err, errlen, "%s: %s", c->route.target, c->io.why);
	if (c->broken)
		smtpc_close(&c->io, 0);	/* mid-transaction: nothing more is sent */
	return st;
}

int
deliver_usable(struct deliver_conn *c)
{
	return c != NULL && !c->broken && smtpc_idle(&c->io);
}

void
deliver_close(struct deliver_conn *c)
{
	if (c == NULL)
		return;
	if (deliver_usable(c))
		smtpc_quit(&c->io, &c->rep, (c->opts.command_timeout < 10 ?
		    c->opts.command_timeout : 10) * 1000);
	else
		smtpc_close(&c->io, !c->broken);
	smtpc_reply_free(&c->rep);
	free(c);
}

const char *
deliver_tls_info(struct deliver_conn *c)
{
	return c->io.tls_info;
}
