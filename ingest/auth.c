/*
 * auth.c - sender authentication of a staged message: SPF (common/spf.c),
 * DKIM (libopendkim), DMARC (libopendmarc), and our Authentication-Results:.
 *
 * Runs after end-of-data on the staged file, before the commit (smtp_data.c):
 * one read of the message feeds libopendkim and the header scanner of
 * auth_hdr.c (From:, incoming Authentication-Results: that claim our
 * authserv-id), which also writes our header.  Every DNS
 * question - SPF, the DKIM keys (dkim_set_key_lookup), the _dmarc records -
 * goes through the one resolver (common/dns.c, [dns]) and stops at the
 * message's deadline ([auth] timeout): libopendmarc's own libresolv lookups
 * are never used, it is handed the record (opendmarc_policy_store_dmarc) and
 * resolves the organizational domain with the Public Suffix List.
 * Entry points: auth.h.  Thread-safe: the libraries' handles are shared
 * read-only after auth_init(); each message has its own DKIM and DMARC
 * contexts.
 * Error contract: DNS temporary errors give temperror; nothing here rejects,
 * the caller applies v->action.  One log line per message (smtp_data.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <opendkim/dkim.h>
#include <opendmarc/dmarc.h>

#include "auth.h"
#include "auth_impl.h"
#include "clock.h"
#include "config.h"
#include "envelope.h"
#include "log.h"
#include "mailaddr.h"

#define AUTH_READ	65536
#define AUTH_PSL	"/usr/share/publicsuffix/public_suffix_list.dat"

/* not in dmarc.h, exported by libopendmarc: the organizational domain (PSL) */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

struct auth_domain {
	char	 name[DNS_NAME_MAX + 1];
	int	 enforce;
};

static struct {
	int			 verify;
	char			 servid[256];	/* authserv-id */
	long long		 timeout;	/* seconds, per message */
	struct dns		*dns;
	DKIM_LIB		*dkim;
	int			 psl;		/* the Public Suffix List is loaded */
	struct auth_domain	*dom;
	size_t			 ndom;
} auth;

/* one message's lookups share a deadline */
struct auth_ctx {
	int64_t		 deadline;	/* mono_ms(): every lookup ends by it */
	int		 dkim_temp;	/* a key lookup failed temporarily */
};

/* auth_expired - 1 once the message's deadline passed */
static int
auth_expired(const struct auth_ctx *c)
{
	return mono_ms() >= c->deadline;
}

/* auth_lookup - dns_lookup within the message deadline (a spf_resolver too): none starts
 * after it, and a lookup under way ends by it */
static enum dns_status
auth_lookup(void *arg, const char *name, enum dns_type type, struct dns_answer *ans)
{
	struct auth_ctx *c = arg;

	if (auth_expired(c)) {
		memset(ans, 0, sizeof(*ans));
		ans->status = DNS_TEMPFAIL;
		snprintf(ans->why, sizeof(ans->why), "auth timeout");
		return DNS_TEMPFAIL;
	}
	return dns_lookup(auth.dns, name, type, c->deadline, ans);
}

/* auth_domain_load - config_sections callback: [domain NAME] auth_policy */
static void
auth_domain_load(const char *sec, void *arg)
{
	const struct config	*cfg = arg;
	const char		*p = config_str(cfg, sec, "auth_policy", "record");
	struct auth_domain	*d;

	if (strcmp(p, "record") != 0 && strcmp(p, "enforce") != 0)
		fatalx("%s: [%s] auth_policy = %s: want record or enforce", config_path(cfg),
		    sec, p);
	if (strcmp(p, "enforce") != 0)
		return;
	d = &auth.dom[auth.ndom];
	if (mailaddr_domain_ascii(sec + strlen("domain "), d->name, sizeof(d->name)) == -1)
		return;	/* rcpt_verify.c reports a bad domain name */
	d->enforce = 1;
	auth.ndom++;
}

/* auth_domain_count - config_sections callback */
static void
auth_domain_count(const char *sec, void *arg)
{
	(*(size_t *)arg)++;
}

static DKIM_CBSTAT auth_dkim_key(DKIM *, DKIM_SIGINFO *, u_char *, size_t);

/* auth_init - see auth.h */
int
auth_init(const struct config *cfg, const char *hostname, char *err, size_t errlen)
{
	OPENDMARC_LIB_T	 ml;
	size_t		 n = 0;
	const char	*s;

	auth.verify = config_bool(cfg, "auth", "verify", 1);
	s = config_str(cfg, "auth", "authserv_id", hostname);
	if (s[0] == '\0' || strlen(s) >= sizeof(auth.servid) || strpbrk(s, " \t;()\"\\") != NULL) {
		snprintf(err, errlen, "[auth] authserv_id = \"%s\": want a host name", s);
		return -1;
	}
	snprintf(auth.servid, sizeof(auth.servid), "%s", s);
	auth.timeout = config_duration(cfg, "auth", "timeout", AUTH_TIMEOUT_DEFAULT, 1,
	    AUTH_TIMEOUT_MAX);
	config_sections(cfg, "domain ", auth_domain_count, &n);
	if ((auth.dom = calloc(n + 1, sizeof(*auth.dom))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	config_sections(cfg, "domain ", auth_domain_load, (void *)cfg);
	if (!auth.verify)
		return 0;
	if ((auth.dns = dns_open(cfg, err, errlen)) == NULL)
		return -1;
	if ((auth.dkim = dkim_init(NULL, NULL)) == NULL ||
	    dkim_set_key_lookup(auth.dkim, auth_dkim_key) != DKIM_STAT_OK) {
		snprintf(err, errlen, "libopendkim: cannot initialise");
		return -1;
	}
	memset(&ml, 0, sizeof(ml));
	s = config_str(cfg, "auth", "public_suffix_list", AUTH_PSL);
	if (access(s, R_OK) == 0) {
		ml.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		snprintf((char *)ml.tld_source_file, sizeof(ml.tld_source_file), "%s", s);
		auth.psl = 1;
	} else
		log_warnx("- auth config no_public_suffix_list path=%s (DMARC uses the From: "
		    "domain's own record only)", s);
	if (opendmarc_policy_library_init(&ml) != DMARC_PARSE_OKAY) {
		snprintf(err, errlen, "libopendmarc: cannot read %s", s);
		return -1;
	}
	return 0;
}

/* auth_shutdown - release the libraries and the resolver */
void
auth_shutdown(void)
{
	OPENDMARC_LIB_T ml;

	if (auth.dkim != NULL) {
		dkim_close(auth.dkim);
		memset(&ml, 0, sizeof(ml));
		opendmarc_policy_library_shutdown(&ml);
	}
	if (auth.dns != NULL)
		dns_close(auth.dns);
	free(auth.dom);
	memset(&auth, 0, sizeof(auth));
}

int
auth_enabled(void)
{
	return auth.verify;
}

/* auth_enforce - see auth.h; mixed recipients keep the conservative record policy */
int
auth_enforce(const struct envelope *env)
{
	size_t		 i, j;
	const char	*at;
	char		 dom[DNS_NAME_MAX + 1];

	if (env->nrcpts == 0)
		return 0;
	for (i = 0; i < env->nrcpts; i++) {
		if ((at = strrchr(env->rcpts[i].addr, '@')) == NULL ||
		    mailaddr_domain_ascii(at + 1, dom, sizeof(dom)) == -1)
			return 0;
		for (j = 0; j < auth.ndom; j++)
			if (strcmp(auth.dom[j].name, dom) == 0)
				break;
		if (j == auth.ndom)
			return 0;
	}
	return 1;
}

/* auth_dkim_key - libopendkim's key lookup: <s>._domainkey.<d> TXT through dns.c */
static DKIM_CBSTAT
auth_dkim_key(DKIM *dk, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct auth_ctx		*c = dkim_get_user_context(dk);
	struct dns_answer	 ans;
	char			 name[DNS_NAME_MAX + 2];
	const char		*s = (const char *)dkim_sig_getselector(sig);
	const char		*d = (const char *)dkim_sig_getdomain(sig);
	DKIM_CBSTAT		 r;
	int			 n;

	n = snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	if (n < 0 || (size_t)n >= sizeof(name) - 1)
		return DKIM_CBSTAT_NOTFOUND;
	switch (auth_lookup(c, name, DNS_T_TXT, &ans)) {
	case DNS_OK:
		snprintf((char *)buf, buflen, "%s", ans.rr[0].data ? (char *)ans.rr[0].data : "");
		r = DKIM_CBSTAT_CONTINUE;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		r = DKIM_CBSTAT_NOTFOUND;
		break;
	case DNS_TEMPFAIL:
		c->dkim_temp = 1;
		r = DKIM_CBSTAT_TRYAGAIN;
		break;
	default:
		r = DKIM_CBSTAT_ERROR;
		break;
	}
	dns_answer_free(&ans);
	return r;
}

/* auth_dkim_result - RFC 8601 2.7.1 word for one evaluated signature, and why */
static const char *
auth_dkim_result(DKIM_SIGINFO *sig, int temp, char *why, size_t whylen)
{
	int e = dkim_sig_geterror(sig);

	why[0] = '\0';
	if ((dkim_sig_getflags(sig) & DKIM_SIGFLAG_PASSED) != 0 &&
	    dkim_sig_getbh(sig) == DKIM_SIGBH_MATCH)
		return "pass";
	if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) {
		snprintf(why, whylen, "body hash did not verify");
		return "fail";
	}
	/* no key because its lookup failed for now: libopendkim stops there (CBTRYAGAIN) */
	if (e == DKIM_SIGERROR_KEYFAIL || (temp && (dkim_sig_getflags(sig) &
	    DKIM_SIGFLAG_KEYLOADED) == 0 && (e == DKIM_SIGERROR_NOKEY ||
	    e == DKIM_SIGERROR_OK || e == DKIM_SIGERROR_UNKNOWN))) {
		snprintf(why, whylen, "key query failed");
		return "temperror";
	}
	switch (e) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		snprintf(why, whylen, "signature did not verify");
		return "fail";
	case DKIM_SIGERROR_EXPIRED:
	case DKIM_SIGERROR_FUTURE:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_SUBDOMAIN:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_TOOLARGE_L:
		snprintf(why, whylen, "%s", dkim_sig_geterrorstr(e));
		return "fail";
	case DKIM_SIGERROR_NOKEY:
		snprintf(why, whylen, "no key");
		return "permerror";
	default:
		snprintf(why, whylen, "%s", dkim_sig_geterrorstr(e) ? dkim_sig_geterrorstr(e) :
		    "invalid signature");
		return "permerror";
	}
}

/* auth_copy_token - src into dst (printable, no quotes/parens), truncated; lower: fold case */
static void
auth_copy_token(char *dst, size_t len, const unsigned char *src, int lower)
{
	size_t i = 0;

	for (; src != NULL && *src != '\0' && i + 1 < len; src++)
		if (*src > ' ' && *src < 0x7f && strchr("();\"\\", *src) == NULL)
			dst[i++] = lower ? (char)tolower(*src) : (char)*src;
	dst[i] = '\0';
}

/* auth_dkim_collect - after dkim_eom: every signature's verdict into v */
static void
auth_dkim_collect(DKIM *dk, const struct auth_ctx *c, struct auth_verdict *v)
{
	DKIM_SIGINFO	**sigs;
	int		 n, i;
	const u_char	*b;
	struct auth_dkim_sig *s;

	v->dkim = "none";
	if (dkim_getsiglist(dk, &sigs, &n) != DKIM_STAT_OK)
		return;
	for (i = 0; i < n && v->nsig < AUTH_DKIM_MAX; i++) {
		s = &v->sig[v->nsig++];
		s->result = auth_dkim_result(sigs[i], c->dkim_temp, s->why, sizeof(s->why));
		auth_copy_token(s->domain, sizeof(s->domain), dkim_sig_getdomain(sigs[i]), 1);
		auth_copy_token(s->selector, sizeof(s->selector), dkim_sig_getselector(sigs[i]), 1);
		b = dkim_sig_gettagvalue(sigs[i], 0, (u_char *)"b");
		s->b[0] = '\0';
		if (b != NULL) {
			snprintf(s->b, sizeof(s->b), "%.8s", (const char *)b);
			if (strpbrk(s->b, " \t\r\n;()\"\\") != NULL)
				s->b[0] = '\0';
		}
		if (strcmp(s->result, "pass") == 0 || v->nsig == 1)
			v->dkim = s->result;
	}
	for (i = 0; i < v->nsig; i++)
		if (strcmp(v->sig[i].result, "pass") == 0)
			v->dkim = "pass";
}

/* auth_dmarc_record - the v=DMARC1 record of _dmarc.<domain>: 1 found, 0 none, -1 temp */
static int
auth_dmarc_record(struct auth_ctx *c, const char *domain, char *rec, size_t reclen)
{
	struct dns_answer	 ans;
	char			 name[DNS_NAME_MAX + 8];
	size_t			 i;
	int			 found = 0;

	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	switch (auth_lookup(c, name, DNS_T_TXT, &ans)) {
	case DNS_OK:
		for (i = 0; i < ans.n; i++) {
			if (ans.rr[i].data == NULL ||
			    strncasecmp((char *)ans.rr[i].data, "v=DMARC1", 8) != 0)
				continue;
			/* RFC 7489 6.6.3: more than one record is no record */
			found = found ? 2 : 1;
			snprintf(rec, reclen, "%s", (char *)ans.rr[i].data);
		}
		break;
	case DNS_TEMPFAIL:
		found = -1;
		break;
	default:
		break;
	}
	dns_answer_free(&ans);
	return found == 2 ? 0 : found;
}

/* auth_dmarc_p - the published policy word that applies, for the comment */
static void
auth_dmarc_p(DMARC_POLICY_T *pc, int sub, char *out, size_t outlen)
{
	int p = 0, sp = 0;

	opendmarc_policy_fetch_p(pc, &p);
	opendmarc_policy_fetch_sp(pc, &sp);
	if (sub && sp != 0)
		p = sp;
	snprintf(out, outlen, "%s", p == DMARC_RECORD_P_REJECT ? "reject" :
	    p == DMARC_RECORD_P_QUARANTINE ? "quarantine" : "none");
}

/*
 * auth_org_domain - the organizational domain of RFC 7489 3.2 (the Public
 * Suffix List through libopendmarc); 0 ok, -1 none.  libopendmarc 1.4.2
 * leaves tld untouched when no rule matches, where the PSL's default rule
 * "*" makes the last label the public suffix: that case is done here.
 */
static int
auth_org_domain(const char *domain, char *org, size_t orglen)
{
	const char *p;

	org[0] = '\0';
	if (auth.psl && (opendmarc_get_tld((u_char *)domain, (u_char *)org, orglen) != 0 ||
	    memchr(org, '\0', orglen) == NULL))
		org[0] = '\0';
	if (org[0] != '\0')
		return 0;
	if ((p = strrchr(domain, '.')) == NULL)
		return -1;
	while (p > domain && p[-1] != '.')
		p--;
	snprintf(org, orglen, "%s", p);
	return 0;
}

/* auth_dmarc - RFC 7489 for the From: domain with the SPF and DKIM verdicts */
static void
auth_dmarc(struct auth_ctx *c, const struct auth_request *r, const struct auth_scan *sc,
    struct auth_verdict *v)
{
	DMARC_POLICY_T	*pc;
	char		 rec[DNS_TXT_MAX + 1], org[DNS_NAME_MAX + 1];
	const char	*spfdom;
	int		 f, i, pol, sub = 0, ipv6 = strchr(r->addr, ':') != NULL, sres;

	v->dmarc = "none";
	if (sc->nfrom != 1 || sc->from[0] == '\0') {
		/* RFC 7489 6.6.1: no single From: domain, nothing to align with */
		if (sc->nfrom != 0)
			v->dmarc = "permerror";
		return;
	}
	snprintf(v->from_domain, sizeof(v->from_domain), "%s", sc->from);
	if ((f = auth_dmarc_record(c, sc->from, rec, sizeof(rec))) == 0 &&
	    auth_org_domain(sc->from, org, sizeof(org)) == 0 && strcasecmp(org, sc->from) != 0) {
		f = auth_dmarc_record(c, org, rec, sizeof(rec));
		sub = 1;
	}
	if (f < 0)
		v->dmarc = "temperror";
	if (f <= 0)
		return;
	if ((pc = opendmarc_policy_connect_init((u_char *)r->addr, ipv6 ?
	    DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4)) == NULL)
		return;
	v->dmarc = "permerror";
	if (opendmarc_policy_store_from_domain(pc, (u_char *)sc->from) != DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(pc, (u_char *)rec, (u_char *)sc->from,
	    sub ? (u_char *)org : NULL) != DMARC_PARSE_OKAY)
		goto done;
	spfdom = strrchr(v->spf_id, '@') ? strrchr(v->spf_id, '@') + 1 : v->spf_id;
	sres = v->spf == SPF_PASS ? DMARC_POLICY_SPF_OUTCOME_PASS :
	    v->spf == SPF_TEMPERROR ? DMARC_POLICY_SPF_OUTCOME_TMPFAIL :
	    v->spf == SPF_NONE ? DMARC_POLICY_SPF_OUTCOME_NONE : DMARC_POLICY_SPF_OUTCOME_FAIL;
	/* RFC 7489 4.1: the MAIL FROM domain, the HELO identity for the null sender */
	if (spfdom[0] != '\0')
		opendmarc_policy_store_spf(pc, (u_char *)spfdom, sres, v->spf_helo ?
		    DMARC_POLICY_SPF_ORIGIN_HELO : DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
	for (i = 0; i < v->nsig; i++)
		opendmarc_policy_store_dkim(pc, (u_char *)v->sig[i].domain,
		    (u_char *)v->sig[i].selector,
		    strcmp(v->sig[i].result, "pass") == 0 ? DMARC_POLICY_DKIM_OUTCOME_PASS :
		    strcmp(v->sig[i].result, "temperror") == 0 ?
		    DMARC_POLICY_DKIM_OUTCOME_TMPFAIL : DMARC_POLICY_DKIM_OUTCOME_FAIL, NULL);
	pol = opendmarc_get_policy_to_enforce(pc);
	auth_dmarc_p(pc, sub, v->dmarc_p, sizeof(v->dmarc_p));
	switch (pol) {
	case DMARC_POLICY_PASS:
		v->dmarc = "pass";
		break;
	case DMARC_POLICY_REJECT:
	case DMARC_POLICY_QUARANTINE:
	case DMARC_POLICY_NONE:
		/* a failure that a temporary error may have caused is not a failure */
		v->dmarc = v->spf == SPF_TEMPERROR || strcmp(v->dkim, "temperror") == 0 ?
		    "temperror" : "fail";
		if (strcmp(v->dmarc, "fail") == 0 && r->enforce)
			v->action = pol == DMARC_POLICY_REJECT ? AUTH_REJECT :
			    pol == DMARC_POLICY_QUARANTINE ? AUTH_QUARANTINE : AUTH_ACCEPT;
		break;
	default:
		v->dmarc = "none";
		break;
	}
done:
	opendmarc_policy_connect_shutdown(pc);
}

/* auth_spf - the SPF verdict of the client for MAIL FROM, or HELO for <> */
static void
auth_spf(struct auth_ctx *c, const struct auth_request *r, struct auth_verdict *v)
{
	struct spf_resolver	 res = { auth_lookup, c };
	struct spf_request	 q;
	struct spf_verdict	 sv;

	memset(&q, 0, sizeof(q));
	q.sender = r->mail_from;
	q.helo = r->helo;
	q.receiver = auth.servid;
	v->spf_helo = r->mail_from[0] == '\0';
	if (spf_request_ip(&q, r->addr) != 0) {
		v->spf = SPF_NONE;
		return;
	}
	v->spf = spf_check(&res, &q, &sv);
	if (v->spf_helo)
		auth_copy_token(v->spf_id, sizeof(v->spf_id), (const u_char *)r->helo, 0);
	else
		auth_copy_token(v->spf_id, sizeof(v->spf_id), (const u_char *)r->mail_from, 0);
}

/* auth_verify - see auth.h */
int
auth_verify(int fd, off_t start, off_t end, const struct auth_request *r,
    struct auth_verdict *v)
{
	struct auth_ctx	 c;
	struct auth_scan sc;
	DKIM		*dk;
	DKIM_STAT	 st;
	unsigned char	*buf;
	off_t		 off;
	ssize_t		 n;
	int		 rc = 0;

	memset(v, 0, sizeof(*v));
	memset(&c, 0, sizeof(c));
	c.deadline = mono_ms() + auth.timeout * 1000;
	auth_scan_init(&sc, v, auth.servid);
	auth_spf(&c, r, v);
	if ((buf = malloc(AUTH_READ)) == NULL)
		return -1;
	dk = dkim_verify(auth.dkim, (const u_char *)r->id, NULL, &st);
	if (dk != NULL)
		dkim_set_user_context(dk, &c);
	for (off = start; off < end; off += n) {
		n = pread(fd, buf, end - off < AUTH_READ ? end - off : AUTH_READ, off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			rc = -1;
			break;
		}
		auth_scan_run(&sc, buf, n);
		if (dk != NULL && dkim_chunk(dk, buf, n) == DKIM_STAT_NOSIG) {
			dkim_free(dk);
			dk = NULL;
		}
	}
	free(buf);
	auth_scan_finish(&sc);
	if (sc.oom)	/* a forged Authentication-Results: must not go through unrenamed */
		rc = -1;
	v->dkim = "none";
	if (rc == 0 && dk != NULL) {
		/* a key lookup that failed for now ends these early: the signatures are still listed */
		(void)dkim_chunk(dk, NULL, 0);
		(void)dkim_eom(dk, NULL);
		auth_dkim_collect(dk, &c, v);
	}
	if (dk != NULL)
		dkim_free(dk);
	if (rc == 0) {
		auth_dmarc(&c, r, &sc, v);
		auth_header(v, auth.servid);
	}
	return rc;
}

/* auth_verdict_free - see auth.h */
void
auth_verdict_free(struct auth_verdict *v)
{
	free(v->forged);
	v->forged = NULL;
	v->nforged = 0;
}
