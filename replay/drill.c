/*
 * drill.c - `mxspool-replay drill`: rehearse a failover end to end.
 *
 * Entry point: cli_drill().  For each gateway (--gateway HOST:PORT, default
 * where `check` connects: [check] connect or the first [ingest] listen), as
 * an outside sender (the replay SMTP client, deliver.h: STARTTLS when offered,
 * certificate not verified: `check` judges it), one transaction with three
 * recipients: the canary (--canary, default postmaster@ the first [domain])
 * must get 250, an unknown local part 550 5.1.1, a foreign domain 554 5.7.1.
 * The canary carries "X-Mxspool-Drill: TAG" and ENVID=mxspool-drill-TAG; the
 * drill registers TAG in the index first, so the ingest inserts the canary's
 * row already marked a drill canary and held (schema 007, index_drill.h), in
 * the same transaction: a running serve never sees it as mail.  The 250 names
 * its id ("queued as ID"); its stored bytes must end
 * with the bytes sent (the ingest prepends Received:) and hash to the index
 * row's SHA-256.  --deliver replays it to the canary domain's [routes] target
 * and wants 250.  Then the object and the row are removed for good.
 * Output: one PASS/FAIL line per step; exit 0 when every step passed, 1
 * otherwise, 64 usage, 66/69/75 when the index or store cannot be opened.
 * A gateway that did not take the ENVID (no DSN, or another index) leaves the
 * row unmarked: the drill marks it after the 250 and says so (WARN: a running
 * serve could have leased it in between).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anonfile.h"
#include "route.h"
#include "cli.h"
#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "envelope.h"
#include "index.h"
#include "index_drill.h"
#include "store.h"
#include "check.h"

#define DRILL_HOST_MAX	300

struct drill {
	struct cli	*c;
	const char	*canary, *domain, *helo;
	char		 tag[DRILL_TAG_LEN + 1];
	char		 envid[sizeof("ENVID=" DRILL_ENVID_PREFIX) + DRILL_TAG_LEN];
	char		 unknown[MXS_ADDR_MAX + 1], foreign[MXS_ADDR_MAX + 1];
	char		*msg;
	size_t		 msglen;
	int		 fd;		/* the message sent, for deliver_send */
	int		 failed;
	struct deliver_opts o;
};

/* drill_say - one report line; FAIL marks the drill failed */
static void __attribute__((format(printf, 4, 5)))
drill_say(struct drill *d, enum check_status st, const char *gw, const char *fmt, ...)
{
	va_list ap;

	if (st == CHECK_FAIL)
		d->failed = 1;
	printf("%s  %-21s ", check_status_name(st), gw);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* drill_sha256 - hex SHA-256 of p */
static void
drill_sha256(const void *p, size_t n, char hex[65])
{
	unsigned char	md[32];
	unsigned int	len = 0;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* drill_message - the canary's bytes, in d->msg and the file d->fd; 0 or -1 */
static int
drill_message(struct drill *d)
{
	char		date[64];
	time_t		now = time(NULL);
	struct tm	tm;
	int		n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	n = asprintf(&d->msg, "Date: %s\r\nFrom: mxspool drill <postmaster@%s>\r\nTo: <%s>\r\n"
	    "Subject: mxspool failover drill %s\r\nMessage-ID: <drill-%s@%s>\r\n"
	    "X-Mxspool-Drill: %s\r\n\r\nA failover rehearsal by mxspool-replay drill on %s.\r\n"
	    "It is not real mail; the drill deletes it when it ends.\r\n", date, d->helo,
	    d->canary, d->tag, d->tag, d->helo, d->tag, d->helo);
	if (n < 0)
		return -1;
	d->msglen = (size_t)n;
	if ((d->fd = anonfile_open(config_data_dir(d->c->cfg))) == -1 ||
	    pwrite(d->fd, d->msg, d->msglen, 0) != (ssize_t)d->msglen)
		return -1;
	return 0;
}

/* drill_expect - did rcpt get want (class or code) and enhanced code enh? */
static void
drill_expect(struct drill *d, const char *gw, const struct deliver_rcpt *r, int want,
    const char *enh, const char *what)
{
	int ok = want < 10 ? r->code / 100 == want : r->code == want;

	if (enh && strcmp(r->enhanced, enh) != 0)
		ok = 0;
	drill_say(d, ok ? CHECK_PASS : CHECK_FAIL, gw, "%s <%s>: %d %s%s%s%s%s%s", what,
	    r->addr, r->code, r->enhanced, r->enhanced[0] ? " " : "", r->text, ok ? "" :
	    " (want ", ok ? "" : want == 2 ? "250" : enh, ok ? "" : ")");
}

/*
 * drill_verify - the canary in the index (marked) and the store (bytes intact); 0 ok,
 * -1 marked but not intact (the caller purges it all the same), -2 not marked (it
 * cannot be told from real mail: left for the operator)
 */
static int
drill_verify(struct drill *d, const char *gw, const char *id, int *outfd)
{
	struct envelope		env;
	enum index_location	loc;
	char			key[OBJKEY_MAX], spool[SPOOL_PATH_MAX], hex[65], why[ERRSTR_MAX] = "";
	char			*got = NULL;
	off_t			size;
	int			fd, marked = 0;

	if (index_get_message(d->c->ix, id, &env, key, sizeof(key), &loc, spool,
	    sizeof(spool)) != INDEX_OK) {
		drill_say(d, CHECK_FAIL, gw, "canary %s: not in the index", id);
		return -2;
	}
	if (index_drill_marked(d->c->ix, id, &marked) == INDEX_OK && marked)
		drill_say(d, CHECK_PASS, gw, "canary %s: marked a drill canary and held by the "
		    "ingest, in the transaction that indexed it", id);
	else if (index_drill_mark(d->c->ix, id, now_ms()) != INDEX_OK) {
		drill_say(d, CHECK_FAIL, gw, "canary %s: cannot mark it a drill canary (%s): hold "
		    "or delete it with mxspool-replay hold %s / delete %s", id,
		    index_error(d->c->ix), id, id);
		envelope_free(&env);
		return -2;
	} else
		drill_say(d, CHECK_WARN, gw, "canary %s: marked after its 250, not by the ingest "
		    "(the gateway did not take ENVID=%s%s: no DSN, or another index): a running "
		    "serve could have leased it first", id, DRILL_ENVID_PREFIX, d->tag);
	if ((fd = anonfile_open(config_data_dir(d->c->cfg))) == -1 ||
	    store_fetch(d->c->store, id, fd, why, sizeof(why)) != STORE_OK ||
	    (size = lseek(fd, 0, SEEK_END)) < (off_t)d->msglen || size > (off_t)d->msglen + 65536 ||
	    (got = malloc((size_t)size)) == NULL ||
	    pread(fd, got, (size_t)size, 0) != (ssize_t)size) {
		drill_say(d, CHECK_FAIL, gw, "canary %s: indexed, but not readable from the store "
		    "(%s%s%s)", id, key, why[0] != '\0' ? ": " : "", why);
		goto fail;
	}
	drill_sha256(got, (size_t)size, hex);
	if (memcmp(got + size - d->msglen, d->msg, d->msglen) != 0 ||
	    strcmp(hex, env.sha256) != 0) {
		drill_say(d, CHECK_FAIL, gw, "canary %s: stored bytes differ (sha256 %s, index "
		    "says %s)", id, hex, env.sha256);
		goto fail;
	}
	drill_say(d, CHECK_PASS, gw, "canary %s: indexed (marked drill, held) and stored "
	    "intact: %s, %lld bytes, sha256 %.16s...", id, loc == INDEX_LOC_STORE ? key : spool,
	    (long long)size, hex);
	free(got);
	envelope_free(&env);
	*outfd = fd;
	return 0;
fail:
	free(got);
	envelope_free(&env);
	if (fd != -1)
		close(fd);
	return -1;
}

/* drill_deliver - replay the stored canary to the canary domain's primary */
static void
drill_deliver(struct drill *d, const char *gw, int fd)
{
	struct deliver_route	 rt;
	struct deliver_opts	 o;
	struct deliver_conn	*conn;
	struct deliver_rcpt	 r = { .addr = d->canary, .params = "" };
	struct deliver_msg	 m = { .mail_from = "", .mail_params = "", .rcpts = &r,
				    .nrcpts = 1, .fd = fd };
	char			 err[ERRSTR_MAX];
	int			 code = 0;

	struct deliver_routes	*routes;
	int			 found;

	m.size = lseek(fd, 0, SEEK_END);
	if ((routes = deliver_routes_load(d->c->cfg, err, sizeof(err))) == NULL) {
		drill_say(d, CHECK_FAIL, gw, "--deliver: %s", err);
		return;
	}
	found = deliver_route_lookup(routes, d->domain, &rt) == 0;
	deliver_routes_free(routes);
	if (!found) {
		drill_say(d, CHECK_FAIL, gw, "--deliver: no [routes] entry for %s", d->domain);
		return;
	}
	deliver_opts_load(d->c->cfg, &o);
	if ((conn = deliver_connect(&rt, &o, &code, err, sizeof(err))) == NULL) {
		drill_say(d, CHECK_FAIL, gw, "--deliver: %s: %s", rt.target, err);
		return;
	}
	if (deliver_send(conn, &m, err, sizeof(err)) != DELIVER_OK || r.code / 100 != 2)
		drill_say(d, CHECK_FAIL, gw, "--deliver: %s refused the canary: %d %s %s",
		    rt.target, r.code, r.text, err);
	else
		drill_say(d, CHECK_PASS, gw, "--deliver: %s accepted the canary for <%s>: %d %s",
		    rt.target, d->canary, r.code, r.text);
	deliver_close(conn);
}

/* drill_gateway - the whole rehearsal through one gateway */
static void
drill_gateway(struct drill *d, const struct deliver_route *rt, int deliver)
{
	struct deliver_rcpt	 r[3] = {
		{ .addr = d->canary, .params = "" }, { .addr = d->unknown, .params = "" },
		{ .addr = d->foreign, .params = "" } };
	struct deliver_msg	 m = { .mail_from = "", .mail_params = d->envid, .rcpts = r,
				    .nrcpts = 3, .fd = d->fd, .size = (off_t)d->msglen };
	struct deliver_conn	*conn;
	const char		*gw = rt->target + strlen("smtp://"), *q;
	char			 err[ERRSTR_MAX], id[MSGID_MAX];
	int			 code = 0, fd = -1, v;

	/* registered per gateway: the ingest consumes it with the canary it marks */
	if (index_drill_expect(d->c->ix, d->tag, now_ms()) != INDEX_OK)
		drill_say(d, CHECK_WARN, gw, "cannot register the drill in the index (%s): the "
		    "canary will be marked only after its 250", index_error(d->c->ix));
	if ((conn = deliver_connect(rt, &d->o, &code, err, sizeof(err))) == NULL) {
		drill_say(d, CHECK_FAIL, gw, "connect: %s", err);
		return;
	}
	/* plaintext still delivers (unless MTA-STS/DANE): `check` judges TLS, here a WARN */
	drill_say(d, deliver_tls_info(conn)[0] ? CHECK_PASS : CHECK_WARN, gw, "STARTTLS: %s",
	    deliver_tls_info(conn)[0] ? deliver_tls_info(conn) : "not offered (senders that "
	    "require TLS will not deliver here: mxspool-replay check)");
	if (deliver_send(conn, &m, err, sizeof(err)) == DELIVER_TEMPFAIL && r[0].code == 0) {
		drill_say(d, CHECK_FAIL, gw, "transaction: %s", err);
		deliver_close(conn);
		return;
	}
	deliver_close(conn);
	drill_expect(d, gw, &r[1], 550, "5.1.1", "unknown recipient");
	drill_expect(d, gw, &r[2], 554, "5.7.1", "foreign domain");
	drill_expect(d, gw, &r[0], 2, NULL, "canary");
	if (r[0].code / 100 != 2)
		return;
	if ((q = strstr(r[0].text, "queued as ")) == NULL ||
	    snprintf(id, sizeof(id), "%.*s", (int)strcspn(q + 10, " \r\n"), q + 10) >=
	    (int)sizeof(id)) {
		drill_say(d, CHECK_FAIL, gw, "canary: the 250 names no id (\"queued as ID\")");
		return;
	}
	/* a marked canary is purged whatever the checks found: never left for serve */
	if ((v = drill_verify(d, gw, id, &fd)) == -2)
		return;
	if (v == 0) {
		if (deliver)
			drill_deliver(d, gw, fd);
		close(fd);
	}
	if (store_purge(d->c->store, id) != STORE_OK)	/* store_purge logged why */
		drill_say(d, CHECK_FAIL, gw, "canary %s: could not be purged: delete it with "
		    "mxspool-replay delete %s", id, id);
	else if (index_drill_forget(d->c->ix, id) != INDEX_OK)
		drill_say(d, CHECK_FAIL, gw, "canary %s: could not be purged (%s): delete it with "
		    "mxspool-replay delete %s", id, index_error(d->c->ix), id);
	else
		drill_say(d, CHECK_PASS, gw, "canary %s purged (object and index row)", id);
}

/* drill_first_domain - config_sections callback: keep the first [domain NAME] */
static void
drill_first_domain(const char *sec, void *arg)
{
	const char **first = arg;

	if (*first == NULL)
		*first = sec + strlen("domain ");
}

int
cli_drill(struct cli *c)
{
	struct drill		 d;
	struct deliver_route	 rt;
	unsigned char		 rnd[16];
	char			 canary[MXS_ADDR_MAX + 1], spec[DRILL_HOST_MAX + 8];
	const char		*at;
	int			 rc;

	memset(&d, 0, sizeof(d));
	d.c = c;
	d.fd = -1;
	d.helo = config_str(c->cfg, "ingest", "hostname", "localhost");
	if (c->nargs != 0)
		return cli_err(c, CLI_USAGE, "no operands expected (--gateway HOST:PORT)");
	if ((rc = cli_store(c, 0)) != 0)
		return rc;
	config_sections(c->cfg, "domain ", drill_first_domain, &d.domain);
	if (c->canary == NULL && d.domain == NULL)
		return cli_err(c, CLI_CONFIG, "no [domain NAME] section: give --canary ADDR");
	snprintf(canary, sizeof(canary), "%s%s", c->canary ? "" : "postmaster@",
	    c->canary ? c->canary : d.domain);
	if ((at = strrchr(canary, '@')) == NULL || at == canary || at[1] == '\0')
		return cli_err(c, CLI_USAGE, "--canary %s: want local@domain", canary);
	d.canary = canary;
	d.domain = at + 1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return cli_err(c, CLI_TEMPFAIL, "no random bytes");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(d.tag + 2 * i, 3, "%02x", rnd[i]);
	snprintf(d.envid, sizeof(d.envid), "ENVID=%s%s", DRILL_ENVID_PREFIX, d.tag);
	snprintf(d.unknown, sizeof(d.unknown), "mxspool-drill-nobody-%.12s@%s", d.tag, d.domain);
	snprintf(d.foreign, sizeof(d.foreign), "drill@mxspool-drill-%.12s.invalid", d.tag);
	if (drill_message(&d) != 0) {
		free(d.msg);
		return cli_err(c, CLI_TEMPFAIL, "cannot write the canary in %s",
		    config_data_dir(c->cfg));
	}
	memset(&d.o, 0, sizeof(d.o));
	d.o.tls = DELIVER_TLS_OPPORTUNISTIC;	/* as a sender: STARTTLS when offered */
	d.o.helo_name = d.helo;
	d.o.connect_timeout = d.o.command_timeout = d.o.data_timeout =
	    (int)config_duration(c->cfg, "check", "timeout", 10, 1, 300);
	printf("drill %s: canary <%s>, unknown <%s>, foreign <%s>\n", d.tag, d.canary, d.unknown,
	    d.foreign);
	for (int i = 0; i < (c->ngateways ? c->ngateways : 1); i++) {
		snprintf(spec, sizeof(spec), "smtp://%s", c->ngateways ? c->gateways[i] : "");
		if (c->ngateways ? route_parse(spec, &rt) != 0 :
		    check_listen_addr(c->cfg, &rt) != 0) {
			drill_say(&d, CHECK_FAIL, c->ngateways ? c->gateways[i] : "-",
			    "not a gateway address (want HOST:PORT)");
			continue;
		}
		drill_gateway(&d, &rt, c->deliver);
		index_drill_unexpect(c->ix, d.tag);	/* one the gateway did not consume */
	}
	printf("drill %s: %s\n", d.tag, d.failed ? "FAILED" : "passed");
	close(d.fd);
	free(d.msg);
	return d.failed ? 1 : 0;
}
