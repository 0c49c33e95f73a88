/*
 * spf.c - RFC 7208 check_host(): record selection, mechanisms, modifiers,
 * limits; the record's syntax is spf_parse.c, macro expansion spf_macro.c.
 *
 * Entry points: spf_check, spf_check_host (spf.h).  A record is parsed
 * whole before any term is evaluated (4.6: a syntax error anywhere is
 * permerror, without further interpretation); terms keep pointers into
 * the record's copy.  include and redirect re-enter spf_eval() with depth
 * + 1, bounded by SPF_LOOKUP_MAX (each one counts as a lookup first).
 * Macros (7) expand into bounded buffers; the exp-only letters c, r, t
 * are a syntax error elsewhere.  The client address is kept as 4 or 16
 * bytes: an IPv4-mapped IPv6 client is IPv4 (5: "IPv4-mapped").
 * Error contract: DNS TEMPFAIL is temperror (5, 4.4) except where the RFC
 * says a lookup error just fails to match (ptr, 5.5; the exp TXT, 6.2).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf.h"
#include "spf_int.h"


static enum spf_result spf_eval(struct spf_ctx *, const char *domain, int depth, int want_exp);

static const char *const spf_names[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
};

/* spf_result_name - RFC 8601 2.7.2 result words */
const char *
spf_result_name(enum spf_result r)
{
	return (unsigned)r < sizeof(spf_names) / sizeof(*spf_names) ? spf_names[r] : "?";
}

/* spf_problem - note why (the first reason wins: it is the cause) */
static enum spf_result
spf_problem(struct spf_ctx *c, enum spf_result r, const char *what, const char *arg,
    size_t arglen)
{
	if (c->v->problem[0] == '\0')
		snprintf(c->v->problem, sizeof(c->v->problem), "%s%s%.*s", what,
		    arg ? ": " : "", arg ? (int)arglen : 0, arg ? arg : "");
	return r;
}

/* spf_lookup - one DNS question through the caller's resolver */
static enum dns_status
spf_lookup(struct spf_ctx *c, const char *name, enum dns_type t, struct dns_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	/* up to ~100 lookups per check (4.6.4): the whole check has a deadline too */
	if (c->deadline.tv_sec != 0 && dns_deadline_passed(&c->deadline)) {
		snprintf(ans->why, sizeof(ans->why), "SPF check deadline");
		return ans->status = DNS_TEMPFAIL;
	}
	return c->res->lookup(c->res->arg, name, t, ans);
}

/* spf_void - count a void lookup (4.6.4); -1 once over the limit */
static int
spf_void(struct spf_ctx *c, enum dns_status s)
{
	if (s != DNS_NXDOMAIN && s != DNS_NODATA)
		return 0;
	return ++c->v->voids > SPF_VOID_MAX ? -1 : 0;
}

/* spf_count - count a DNS-querying term (4.6.4); -1 once over the limit */
static int
spf_count(struct spf_ctx *c)
{
	return ++c->v->lookups > SPF_LOOKUP_MAX ? -1 : 0;
}

/* spf_domain_ok - 4.3: a usable FQDN (labels 1..63, a dot, not a literal) */
static int
spf_domain_ok(const char *d)
{
	return dns_name_check(d) == 0 && strchr(d, '.') != NULL && d[0] != '[' &&
	    strchr(d, '.') != d + strlen(d) - 1;
}

/* spf_addr_match - the first bits of a and b agree */
static int
spf_addr_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int	full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* spf_ptr_validated - a validated name of the client (5.5), the best for target */
int
spf_ptr_validated(struct spf_ctx *c, const char *target, char *out, size_t outlen)
{
	struct dns_answer	 ptr, addr;
	char			 rev[80];
	size_t			 i, j, tl = strlen(target);
	int			 found = 0;

	if (dns_reverse_name(c->v4 ? AF_INET : AF_INET6, c->ip, rev, sizeof(rev)) != 0)
		return 0;
	if (spf_lookup(c, rev, DNS_T_PTR, &ptr) != DNS_OK) {
		dns_answer_free(&ptr);
		return 0;
	}
	for (i = 0; i < ptr.n && i < SPF_MXPTR_MAX; i++) {
		const char *nm = ptr.rr[i].name;
		size_t nl = strlen(nm);
		int good = 0;

		if (spf_lookup(c, nm, c->v4 ? DNS_T_A : DNS_T_AAAA, &addr) == DNS_OK)
			for (j = 0; j < addr.n && !good; j++)
				good = memcmp(c->v4 ? (void *)&addr.rr[j].a :
				    (void *)&addr.rr[j].aaaa, c->ip, c->v4 ? 4 : 16) == 0;
		dns_answer_free(&addr);
		if (!good)
			continue;
		if (strcasecmp(nm, target) == 0 || (nl > tl && nm[nl - tl - 1] == '.' &&
		    strcasecmp(nm + nl - tl, target) == 0)) {
			snprintf(out, outlen, "%s", nm);
			found = 2;
			break;
		}
		if (!found) {
			snprintf(out, outlen, "%s", nm);
			found = 1;
		}
	}
	dns_answer_free(&ptr);
	return found;
}

/* spf_target - expand a term's domain-spec (or take domain), truncated per 7.3 */
static int
spf_target(struct spf_ctx *c, const char *spec, size_t len, const char *domain, char *out,
    size_t outlen)
{
	char	buf[SPF_EXPAND_MAX + 1];
	char	*p = buf;

	if (spec == NULL) {
		snprintf(out, outlen, "%s", domain);
		return 0;
	}
	if (spf_macro_expand(c, spec, len, domain, 0, 0, buf, sizeof(buf)) < 0)
		return SPF_SYNTAX;
	/* 7.3: drop labels from the left until it fits in 253 characters */
	while (strlen(p) > DNS_NAME_MAX && strchr(p, '.') != NULL)
		p = strchr(p, '.') + 1;
	snprintf(out, outlen, "%s", p);
	return 0;
}

/* spf_match_addrs - look up A/AAAA of name; 1 match, 0 none, or a result */
static int
spf_match_addrs(struct spf_ctx *c, const char *name, const struct spf_term *t, int isvoid)
{
	struct dns_answer	ans;
	enum dns_status		s;
	size_t			i;
	int			m = 0;

	s = spf_lookup(c, name, c->v4 ? DNS_T_A : DNS_T_AAAA, &ans);
	if (s == DNS_TEMPFAIL) {
		dns_answer_free(&ans);
		return -(int)spf_problem(c, SPF_TEMPERROR, "DNS temporary error", name,
		    strlen(name));
	}
	if (isvoid && spf_void(c, s) != 0)
		return -(int)spf_problem(c, SPF_PERMERROR, "too many void lookups", name,
		    strlen(name));
	for (i = 0; s == DNS_OK && i < ans.n && !m; i++)
		m = c->v4 ? spf_addr_match((unsigned char *)&ans.rr[i].a, c->ip, t->cidr4) :
		    spf_addr_match((unsigned char *)&ans.rr[i].aaaa, c->ip, t->cidr6);
	dns_answer_free(&ans);
	return m;
}

/*
 * spf_mech - evaluate one mechanism: 1 match, 0 no match, or -(result)
 * for temperror/permerror.
 */
static int
spf_mech(struct spf_ctx *c, const struct spf_term *t, const char *domain, int depth)
{
	char			 target[DNS_NAME_MAX + 1], vname[DNS_NAME_MAX + 1];
	struct dns_answer	 ans;
	enum dns_status		 s;
	enum spf_result		 r;
	size_t			 i;
	int			 m;

	if (t->kind != SPF_K_ALL && t->kind != SPF_K_IP4 && t->kind != SPF_K_IP6) {
		if (spf_count(c) != 0)
			return -(int)spf_problem(c, SPF_PERMERROR, "more than 10 DNS lookups",
			    NULL, 0);
		if (spf_target(c, t->spec, t->speclen, domain, target, sizeof(target)) != 0)
			return -(int)spf_problem(c, SPF_PERMERROR, "bad macro", t->text,
			    t->textlen);
		/* an empty or over-long label (even through a macro) names nothing */
		if (dns_name_check(target) != 0)
			return 0;
	}
	switch (t->kind) {
	case SPF_K_ALL:
		return 1;
	case SPF_K_IP4:
		return c->v4 && spf_addr_match(t->net, c->ip, t->cidr4);
	case SPF_K_IP6:
		return !c->v4 && spf_addr_match(t->net, c->ip, t->cidr6);
	case SPF_K_A:
		return spf_match_addrs(c, target, t, 1);
	case SPF_K_EXISTS:
		/* 5.7: always an A lookup, whatever the client's family */
		s = spf_lookup(c, target, DNS_T_A, &ans);
		dns_answer_free(&ans);
		if (s == DNS_TEMPFAIL)
			return -(int)spf_problem(c, SPF_TEMPERROR, "DNS temporary error", target,
			    strlen(target));
		if (spf_void(c, s) != 0)
			return -(int)spf_problem(c, SPF_PERMERROR, "too many void lookups", target,
			    strlen(target));
		return s == DNS_OK;
	case SPF_K_MX:
		s = spf_lookup(c, target, DNS_T_MX, &ans);
		if (s == DNS_TEMPFAIL) {
			dns_answer_free(&ans);
			return -(int)spf_problem(c, SPF_TEMPERROR, "DNS temporary error", target,
			    strlen(target));
		}
		if (spf_void(c, s) != 0 || ans.n > SPF_MXPTR_MAX) {
			dns_answer_free(&ans);
			return -(int)spf_problem(c, SPF_PERMERROR, s == DNS_OK ?
			    "more than 10 MX names" : "too many void lookups", target,
			    strlen(target));
		}
		for (i = 0, m = 0; s == DNS_OK && i < ans.n && m == 0; i++)
			if (ans.rr[i].name[0] != '\0')
				m = spf_match_addrs(c, ans.rr[i].name, t, 0);
		dns_answer_free(&ans);
		return m;
	case SPF_K_PTR:
		return spf_ptr_validated(c, target, vname, sizeof(vname)) == 2;
	case SPF_K_INCLUDE:
		r = spf_eval(c, target, depth + 1, 0);
		switch (r) {
		case SPF_PASS:
			return 1;
		case SPF_FAIL:
		case SPF_SOFTFAIL:
		case SPF_NEUTRAL:
			return 0;
		case SPF_TEMPERROR:
			return -(int)SPF_TEMPERROR;
		default:
			/* 5.2: none or permerror of the included domain is permerror */
			return -(int)spf_problem(c, SPF_PERMERROR, "include without a record",
			    target, strlen(target));
		}
	}
	return 0;
}

/* spf_explain - 6.2: the exp= text of a failing record, else the default */
static void
spf_explain(struct spf_ctx *c, const struct spf_record *r, const char *domain)
{
	char			 target[DNS_NAME_MAX + 1];
	struct dns_answer	 ans;
	const char		*def = c->req->default_exp ? c->req->default_exp :
				    "SPF fail: %{i} is not allowed to send mail for %{d}";
	char			*out = c->v->explanation;
	size_t			 outlen = sizeof(c->v->explanation);

	if (r != NULL && r->exp != NULL &&
	    spf_target(c, r->exp, r->explen, domain, target, sizeof(target)) == 0) {
		/* exactly one record; a bad one means no explanation (6.2) */
		int ok = spf_lookup(c, target, DNS_T_TXT, &ans) == DNS_OK && ans.n == 1 &&
		    strlen((char *)ans.rr[0].data) == ans.rr[0].len &&
		    spf_macro_expand(c, (char *)ans.rr[0].data, ans.rr[0].len, domain, 1, 0, out,
		    outlen) >= 0;
		dns_answer_free(&ans);
		if (ok)
			return;
	}
	if (spf_macro_expand(c, def, strlen(def), domain, 1, 0, out, outlen) < 0)
		snprintf(out, outlen, "%s", def);
}

/* spf_select - 4.5: the one "v=spf1" TXT record of domain, into *rec (malloc'd) */
static enum spf_result
spf_select(struct spf_ctx *c, const char *domain, char **rec)
{
	struct dns_answer	ans;
	enum dns_status		s;
	size_t			i;
	int			found = -1;

	*rec = NULL;
	s = spf_lookup(c, domain, DNS_T_TXT, &ans);
	if (s == DNS_TEMPFAIL) {
		dns_answer_free(&ans);
		return spf_problem(c, SPF_TEMPERROR, "DNS temporary error", domain,
		    strlen(domain));
	}
	for (i = 0; s == DNS_OK && i < ans.n; i++) {
		const char *d = (const char *)ans.rr[i].data;
		if (ans.rr[i].len >= 6 && strncasecmp(d, "v=spf1", 6) == 0 &&
		    (ans.rr[i].len == 6 || d[6] == ' ')) {
			if (found >= 0) {
				dns_answer_free(&ans);
				return spf_problem(c, SPF_PERMERROR, "more than one SPF record",
				    domain, strlen(domain));
			}
			found = (int)i;
		}
	}
	if (found < 0) {
		dns_answer_free(&ans);
		return SPF_NONE;
	}
	/* a NUL inside the record is not printable ASCII: the parser sees it cut */
	if (strlen((char *)ans.rr[found].data) != ans.rr[found].len ||
	    (*rec = strdup((char *)ans.rr[found].data + 6)) == NULL) {
		dns_answer_free(&ans);
		return spf_problem(c, SPF_PERMERROR, "bad record", domain, strlen(domain));
	}
	dns_answer_free(&ans);
	return SPF_PASS;
}

/* spf_eval - check_host() for domain at nesting depth; want_exp fills the explanation */
static enum spf_result
spf_eval(struct spf_ctx *c, const char *domain, int depth, int want_exp)
{
	struct spf_record	*r;
	enum spf_result		 res;
	char			 target[DNS_NAME_MAX + 1];
	int			 i, m;

	if (depth > SPF_LOOKUP_MAX)
		return spf_problem(c, SPF_PERMERROR, "nesting too deep", domain, strlen(domain));
	/* 4.3: a malformed domain has no record */
	if (!spf_domain_ok(domain))
		return SPF_NONE;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return spf_problem(c, SPF_TEMPERROR, "out of memory", NULL, 0);
	if ((res = spf_select(c, domain, &r->buf)) != SPF_PASS)
		goto done;
	if (spf_parse(c, r->buf, r) != 0) {
		res = spf_problem(c, SPF_PERMERROR, "syntax error in the record of", domain,
		    strlen(domain));
		goto done;
	}
	for (i = 0; i < r->n; i++) {
		if ((m = spf_mech(c, &r->t[i], domain, depth)) < 0) {
			res = (enum spf_result)-m;
			goto done;
		}
		if (m > 0) {
			res = r->t[i].qual;
			if (depth == 0 && c->v->problem[0] == '\0')
				snprintf(c->v->problem, sizeof(c->v->problem), "matched %.*s",
				    (int)r->t[i].textlen, r->t[i].text);
			if (res == SPF_FAIL && want_exp)
				spf_explain(c, r, domain);
			goto done;
		}
	}
	if (r->redirect != NULL) {
		/* 6.1: evaluate the target as if it were this domain's record */
		if (spf_count(c) != 0) {
			res = spf_problem(c, SPF_PERMERROR, "more than 10 DNS lookups", NULL, 0);
			goto done;
		}
		if (spf_target(c, r->redirect, r->redirlen, domain, target, sizeof(target)) != 0) {
			res = spf_problem(c, SPF_PERMERROR, "bad macro in redirect", NULL, 0);
			goto done;
		}
		res = spf_eval(c, target, depth + 1, want_exp);
		if (res == SPF_NONE)
			res = spf_problem(c, SPF_PERMERROR, "redirect to a domain without a record",
			    target, strlen(target));
		goto done;
	}
	res = SPF_NEUTRAL;
done:
	free(r->buf);
	free(r);
	return res;
}

/* spf_check_host - RFC 7208 4 check_host(ip, domain, sender) */
enum spf_result
spf_check_host(const struct spf_resolver *res, const struct spf_request *req,
    const char *domain, const char *sender, struct spf_verdict *v)
{
	struct spf_ctx	 c;
	const char	*at = strrchr(sender, '@');

	memset(v, 0, sizeof(*v));
	memset(&c, 0, sizeof(c));
	c.res = res;
	c.req = req;
	c.v = v;
	c.sender = sender;
	/* 4.3: no local part means "postmaster" */
	if (at == NULL || at == sender)
		snprintf(c.local, sizeof(c.local), "postmaster");
	else
		snprintf(c.local, sizeof(c.local), "%.*s", (int)(at - sender), sender);
	snprintf(c.odomain, sizeof(c.odomain), "%s", at ? at + 1 : sender);
	/* an IPv4-mapped IPv6 client is checked as IPv4 */
	if (req->af == AF_INET || IN6_IS_ADDR_V4MAPPED(&req->ip)) {
		c.v4 = 1;
		memcpy(c.ip, req->af == AF_INET ? req->ip.s6_addr : req->ip.s6_addr + 12, 4);
	} else
		memcpy(c.ip, req->ip.s6_addr, 16);
	if (req->timeout_ms > 0)
		dns_deadline(req->timeout_ms, &c.deadline);
	snprintf(v->domain, sizeof(v->domain), "%s", domain);
	v->result = spf_eval(&c, domain, 0, 1);
	return v->result;
}

/* spf_check - 2.4: MAIL FROM's domain; for "<>", postmaster@HELO (2.3) */
enum spf_result
spf_check(const struct spf_resolver *res, const struct spf_request *req,
    struct spf_verdict *v)
{
	char		 sender[MXS_ADDR_MAX + 1];
	const char	*at;

	if (req->sender != NULL && req->sender[0] != '\0') {
		at = strrchr(req->sender, '@');
		snprintf(sender, sizeof(sender), "%s%s", at == req->sender ? "postmaster" : "",
		    req->sender);
		return spf_check_host(res, req, at ? at + 1 : req->sender, sender, v);
	}
	snprintf(sender, sizeof(sender), "postmaster@%s", req->helo ? req->helo : "");
	return spf_check_host(res, req, req->helo ? req->helo : "", sender, v);
}

/* spf_request_ip - the client address from text */
int
spf_request_ip(struct spf_request *req, const char *ip)
{
	memset(&req->ip, 0, sizeof(req->ip));
	if (inet_pton(AF_INET, ip, &req->ip) == 1) {
		req->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &req->ip) == 1) {
		req->af = AF_INET6;
		return 0;
	}
	return -1;
}

/* spf_dns_lookup - the production lookup: dns_lookup() */
static enum dns_status
spf_dns_lookup(void *arg, const char *name, enum dns_type t, struct dns_answer *ans)
{
	return dns_lookup(arg, name, t, 0, ans);
}

/* spf_resolver_dns - SPF over the shared resolver */
struct spf_resolver
spf_resolver_dns(struct dns *d)
{
	struct spf_resolver r = { spf_dns_lookup, d };

	return r;
}
