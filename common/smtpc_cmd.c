/*
 * smtpc_cmd.c - the dialogue steps of the SMTP/LMTP client (smtpc.h): a
 * command and its reply, greeting, EHLO/LHLO with its capabilities,
 * STARTTLS, QUIT, and the health probe built from them.
 *
 * Entry points: smtpc_send(), smtpc_cmd(), smtpc_refused(), smtpc_quiet(),
 * smtpc_caps(), smtpc_hello(), smtpc_open(), smtpc_starttls(), smtpc_quit(),
 * smtpc_probe().  Used by the replay's delivery (deliver.c), its primary
 * probe and `check` (check_tls.c), and the ingest's callout and monitor.
 * Invariant: nothing is sent while bytes we did not ask for are waiting
 * (smtpc_quiet after the greeting, EHLO and STARTTLS: RFC 2920, 3207 4.2).
 * Errors: -1 and c->why "<step>: reason"; nothing is logged here.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"
#include "route.h"
#include "smtpc.h"

/* smtpc_send - see smtpc.h */
int
smtpc_send(struct smtpc *c, const char *line, int timeout_ms)
{
	char	buf[SMTP_CMDLINE_MAX + 2];
	size_t	n = strlen(line);

	if (n + 2 > sizeof(buf)) {
		snprintf(c->why, sizeof(c->why), "command longer than %d bytes",
		    SMTP_CMDLINE_MAX);
		return -1;
	}
	memcpy(buf, line, n);
	memcpy(buf + n, "\r\n", 2);
	return smtpc_write(c, buf, n + 2, timeout_ms);
}

/* smtpc_cmd - see smtpc.h */
int
smtpc_cmd(struct smtpc *c, struct smtpc_reply *r, const char *line, int timeout_ms,
    const char *what)
{
	char tmp[ERRSTR_MAX];
	int  n;

	if ((line != NULL && smtpc_send(c, line, timeout_ms) == -1) ||
	    smtpc_read_reply(c, r, timeout_ms) == -1) {
		r->code = 0;	/* no usable reply: never half of a multi-line one */
		memcpy(tmp, c->why, sizeof(tmp));
		n = (int)(sizeof(c->why) - strlen(what) - 3);
		snprintf(c->why, sizeof(c->why), "%s: %.*s", what, n > 0 ? n : 0, tmp);
		return -1;
	}
	return 0;
}

/* smtpc_refused - see smtpc.h */
int
smtpc_refused(struct smtpc *c, const struct smtpc_reply *r, const char *what)
{
	char text[200];

	smtpc_reply_text(r, text, sizeof(text));
	snprintf(c->why, sizeof(c->why), "%s: %d %s%s%s", what, r->code, r->enhanced,
	    r->enhanced[0] ? " " : "", text);
	return -1;
}

/* smtpc_quiet - see smtpc.h */
int
smtpc_quiet(struct smtpc *c, const char *what)
{
	if (smtpc_pending(c) == 0)
		return 0;
	snprintf(c->why, sizeof(c->why), "%s: peer sent %zu unexpected bytes after its reply",
	    what, smtpc_pending(c));
	return -1;
}

/* smtpc_auth_caps - PLAIN / LOGIN in the mechanisms of an "AUTH" or "AUTH=" line */
static unsigned
smtpc_auth_caps(const char *kw)
{
	unsigned caps = 0;

	if (strcasestr(kw, " PLAIN") || strcasestr(kw, "=PLAIN"))
		caps |= SMTPC_CAP_AUTH_PLAIN;
	if (strcasestr(kw, " LOGIN") || strcasestr(kw, "=LOGIN"))
		caps |= SMTPC_CAP_AUTH_LOGIN;
	return caps;
}

/* smtpc_caps - see smtpc.h; the first line is the domain and greeting, not a keyword */
unsigned
smtpc_caps(const struct smtpc_reply *r)
{
	static const struct { const char *kw; unsigned cap; } tab[] = {
		{ "8BITMIME", SMTPC_CAP_8BITMIME }, { "SMTPUTF8", SMTPC_CAP_SMTPUTF8 },
		{ "DSN", SMTPC_CAP_DSN }, { "PIPELINING", SMTPC_CAP_PIPELINING },
		{ "STARTTLS", SMTPC_CAP_STARTTLS },
	};
	const char	*p = r->text.data, *end, *nl;
	char		 kw[256];
	unsigned	 caps = 0;
	size_t		 n, i;
	int		 first = 1;

	end = p != NULL ? p + r->text.len : NULL;	/* "250" alone: no text, no buffer */
	for (; p != NULL && p < end; p = nl + 1, first = 0) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if (first)
			continue;
		n = (size_t)(nl - p) < sizeof(kw) - 1 ? (size_t)(nl - p) : sizeof(kw) - 1;
		memcpy(kw, p, n);
		kw[n] = '\0';
		if (strncasecmp(kw, "SIZE", 4) == 0 && (kw[4] == '\0' || kw[4] == ' '))
			caps |= SMTPC_CAP_SIZE;
		else if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' || kw[4] == '='))
			caps |= smtpc_auth_caps(kw);
		for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
			if (strcasecmp(kw, tab[i].kw) == 0)
				caps |= tab[i].cap;
	}
	return caps;
}

/* smtpc_hello - see smtpc.h; 5xx to EHLO gets HELO (RFC 5321 4.1.4), LMTP has no HELO */
int
smtpc_hello(struct smtpc *c, struct smtpc_reply *r, const char *name, int lmtp,
    int timeout_ms)
{
	char	line[SMTP_CMDLINE_MAX], host[256];

	if (name == NULL || name[0] == '\0') {
		if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		name = host;
	}
	c->caps = 0;
	snprintf(line, sizeof(line), "%s %s", lmtp ? "LHLO" : "EHLO", name);
	if (smtpc_cmd(c, r, line, timeout_ms, "EHLO") == -1)
		return -1;
	if (r->code / 100 == 2) {
		c->caps = smtpc_caps(r);
		return smtpc_quiet(c, "EHLO");
	}
	if (!lmtp && r->code / 100 == 5) {
		snprintf(line, sizeof(line), "HELO %s", name);
		if (smtpc_cmd(c, r, line, timeout_ms, "HELO") == -1)
			return -1;
		if (r->code / 100 == 2)
			return smtpc_quiet(c, "HELO");
	}
	return smtpc_refused(c, r, lmtp ? "LHLO" : "EHLO/HELO");
}

/* smtpc_open - see smtpc.h */
int
smtpc_open(struct smtpc *c, struct smtpc_reply *r, const struct deliver_route *rt,
    const char *source, const char *name, int connect_ms, int timeout_ms)
{
	r->code = 0;
	if (smtpc_connect(c, rt, source, connect_ms) == -1 ||
	    smtpc_cmd(c, r, NULL, timeout_ms, "greeting") == -1)
		return -1;
	if (r->code != 220)
		return smtpc_refused(c, r, "greeting");
	if (smtpc_quiet(c, "greeting") == -1)
		return -1;
	return smtpc_hello(c, r, name, rt->proto == DELIVER_LMTP, timeout_ms);
}

/* smtpc_starttls - see smtpc.h */
int
smtpc_starttls(struct smtpc *c, struct smtpc_reply *r, const char *host, int verify,
    const char *ca_file, int timeout_ms)
{
	if (smtpc_cmd(c, r, "STARTTLS", timeout_ms, "STARTTLS") == -1)
		return -1;
	if (r->code != 220) {
		smtpc_refused(c, r, "STARTTLS");
		return 1;
	}
	/* RFC 3207 4.2: bytes after the 220 came before the handshake: injection */
	if (smtpc_quiet(c, "STARTTLS") == -1 ||
	    smtpc_tls(c, host, verify, ca_file, timeout_ms) == -1)
		return -1;
	c->caps = 0;
	return 0;
}

/* smtpc_quit - see smtpc.h */
void
smtpc_quit(struct smtpc *c, struct smtpc_reply *r, int timeout_ms)
{
	int clean = smtpc_idle(c) && smtpc_send(c, "QUIT", timeout_ms) == 0;

	if (clean)
		(void)smtpc_read_reply(c, r, timeout_ms);
	smtpc_close(c, clean);	/* TLS close_notify only on a connection still sound */
}

/* smtpc_probe - see smtpc.h; one deadline for the whole dialogue */
int
smtpc_probe(const struct deliver_route *rt, const char *helo, int timeout_ms, char *why,
    size_t whylen)
{
	struct smtpc		c;
	struct smtpc_reply	r;
	int			rc;

	smtpc_init(&c);
	smtpc_reply_init(&r);
	c.deadline = mono_ms() + timeout_ms;
	if ((rc = smtpc_open(&c, &r, rt, NULL, helo, timeout_ms, timeout_ms)) == -1)
		snprintf(why, whylen, "%s", c.why);
	if (rc == 0 || r.code != 0)	/* a peer that answered is told goodbye */
		smtpc_quit(&c, &r, timeout_ms);
	else
		smtpc_close(&c, 0);
	smtpc_reply_free(&r);
	return rc;
}
