/*
 * spf.c - RFC 7208 check_host(): record selection, parsing, mechanisms,
 * modifiers, macros, limits.
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

enum spf_kind {
	SPF_K_ALL, SPF_K_INCLUDE, SPF_K_A, SPF_K_MX, SPF_K_PTR, SPF_K_IP4, SPF_K_IP6,
	SPF_K_EXISTS,
};

struct spf_term {
	enum spf_kind	 kind;
	enum spf_result	 qual;
	const char	*spec;		/* domain-spec (unexpanded), NULL: current domain */
	size_t		 speclen;
	int		 cidr4, cidr6;
	unsigned char	 net[16];	/* ip4/ip6 */
	const char	*text;		/* the term as written, for the verdict */
	size_t		 textlen;
};

struct spf_record {
	char		*buf;		/* the record's copy, NUL-split into terms */
	struct spf_term	 t[SPF_TERMS_MAX];
	int		 n;
	const char	*redirect, *exp;
	size_t		 redirlen, explen;
};

struct spf_ctx {
	const struct spf_resolver	*res;
	const struct spf_request	*req;
	struct spf_verdict		*v;
	int				 v4;		/* client is IPv4 */
	unsigned char			 ip[16];	/* 4 or 16 bytes */
	const char			*sender;
	char				 local[MXS_LOCALPART_MAX + 1];
	char				 odomain[DNS_NAME_MAX + 1];
	struct timespec			 deadline;	/* CLOCK_MONOTONIC; 0: none */
};

#define SPF_SYNTAX	(-1)	/* macro or term syntax: permerror */

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
static int
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

/* spf_macro_value - the value of macro letter l (lower case) into out */
static int
spf_macro_value(struct spf_ctx *c, int l, const char *domain, int check, char *out,
    size_t outlen)
{
	const unsigned char	*b = c->ip;
	size_t			 o = 0;
	int			 i;

	switch (l) {
	case 's': snprintf(out, outlen, "%s", c->sender); break;
	case 'l': snprintf(out, outlen, "%s", c->local); break;
	case 'o': snprintf(out, outlen, "%s", c->odomain); break;
	case 'd': snprintf(out, outlen, "%s", domain); break;
	case 'h': snprintf(out, outlen, "%s", c->req->helo ? c->req->helo : ""); break;
	case 'v': snprintf(out, outlen, "%s", c->v4 ? "in-addr" : "ip6"); break;
	case 'r':
		snprintf(out, outlen, "%s", c->req->receiver ? c->req->receiver : "unknown");
		break;
	case 't':
		snprintf(out, outlen, "%lld", (long long)(c->req->now ? c->req->now :
		    time(NULL)));
		break;
	case 'i':
		if (c->v4) {
			snprintf(out, outlen, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
			break;
		}
		/* 7.3: IPv6 as dot-separated nibbles */
		for (i = 0; i < 16 && o + 4 < outlen; i++) {
			o += (size_t)snprintf(out + o, outlen - o, "%s%X.%X", i ? "." : "",
			    b[i] >> 4, b[i] & 15);
		}
		break;
	case 'c':
		if (inet_ntop(c->v4 ? AF_INET : AF_INET6, b, out, (socklen_t)outlen) == NULL)
			return -1;
		break;
	case 'p':
		/* 7.3: discouraged but defined; not counted as a term lookup */
		if (check || !spf_ptr_validated(c, domain, out, outlen))
			snprintf(out, outlen, "unknown");
		break;
	default:
		return -1;
	}
	return 0;
}

/* spf_macro_transform - split on delims, maybe reverse, keep n rightmost, join with '.' */
static size_t
spf_macro_transform(const char *val, const char *delims, int rev, long n, char *out,
    size_t outlen)
{
	const char	*part[SPF_EXPAND_MAX / 2 + 1];
	size_t		 plen[SPF_EXPAND_MAX / 2 + 1];
	size_t		 np = 0, o = 0, i, k;
	const char	*p = val, *q;

	for (;;) {
		q = p + strcspn(p, delims);
		if (np < sizeof(part) / sizeof(*part)) {
			part[np] = p;
			plen[np++] = (size_t)(q - p);
		}
		if (*q == '\0')
			break;
		p = q + 1;
	}
	if (rev)
		for (i = 0; i < np / 2; i++) {
			const char *tp = part[i];
			size_t tl = plen[i];
			part[i] = part[np - 1 - i];
			plen[i] = plen[np - 1 - i];
			part[np - 1 - i] = tp;
			plen[np - 1 - i] = tl;
		}
	k = n > 0 && (size_t)n < np ? np - (size_t)n : 0;
	for (i = k; i < np; i++) {
		if (o + plen[i] + 2 > outlen)
			break;
		if (i > k)
			out[o++] = '.';
		memcpy(out + o, part[i], plen[i]);
		o += plen[i];
	}
	out[o] = '\0';
	return o;
}

/* spf_url_escape - 7.3: upper-case macro letters escape all but unreserved characters */
static size_t
spf_url_escape(const char *in, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 4 < outlen; in++) {
		unsigned char ch = (unsigned char)*in;
		if (isalnum(ch) || strchr("-._~", ch) != NULL)
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outlen - o, "%%%02X", ch);
	}
	out[o] = '\0';
	return o;
}

/*
 * spf_macro - one macro-expand "{" letter *DIGIT ["r"] *delimiter "}" (7.1)
 * from s[*i] (just after the "{"), its value into out; *i moves past "}".
 */
static int
spf_macro(struct spf_ctx *c, const char *s, size_t len, size_t *i, const char *domain,
    int exp, int check, char *out, size_t outlen)
{
	char	val[SPF_EXPAND_MAX + 1], tv[SPF_EXPAND_MAX + 1], delims[8] = "";
	size_t	k = *i, nd = 0;
	long	n = -1;
	int	letter, upper, rev = 0;

	if (k >= len)
		return SPF_SYNTAX;
	letter = tolower((unsigned char)s[k]);
	upper = isupper((unsigned char)s[k]);
	/* c, r and t only in an explanation (7.1) */
	if (letter == '\0' || (strchr("slodiphv", letter) == NULL &&
	    !(exp && strchr("crt", letter) != NULL)))
		return SPF_SYNTAX;
	k++;
	if (k < len && isdigit((unsigned char)s[k])) {
		n = 0;
		while (k < len && isdigit((unsigned char)s[k]) && n < 1000)
			n = n * 10 + (s[k++] - '0');
		/* 7.1: the DIGIT transformer MUST be nonzero */
		if (n == 0 || n >= 1000)
			return SPF_SYNTAX;
	}
	if (k < len && (s[k] == 'r' || s[k] == 'R')) {
		rev = 1;
		k++;
	}
	for (; k < len && s[k] != '\0' && strchr(".-+,/_=", s[k]) != NULL; k++)
		if (nd < sizeof(delims) - 1 && strchr(delims, s[k]) == NULL)
			delims[nd++] = s[k];
	if (k >= len || s[k] != '}')
		return SPF_SYNTAX;
	*i = k + 1;
	if (nd == 0)
		delims[0] = '.';
	if (spf_macro_value(c, letter, domain, check, val, sizeof(val)) != 0)
		return SPF_SYNTAX;
	spf_macro_transform(val, delims, rev, n, tv, sizeof(tv));
	if (upper)
		spf_url_escape(tv, out, outlen);
	else
		snprintf(out, outlen, "%s", tv);
	return 0;
}

/*
 * spf_expand - RFC 7208 7: expand macro-string s[0..len) into out.
 * exp: an explanation string (c, r, t allowed, spaces literal).  check:
 * syntax only (no lookups).  Returns the length, or SPF_SYNTAX.
 */
static int
spf_expand(struct spf_ctx *c, const char *s, size_t len, const char *domain, int exp,
    int check, char *out, size_t outlen)
{
	char		 mac[3 * SPF_EXPAND_MAX + 1];
	size_t		 i = 0, o = 0, w;
	const char	*add;

	while (i < len) {
		unsigned char ch = (unsigned char)s[i++];
		if (ch != '%') {
			/* macro-literal %x21-24 / %x26-7E; an explanation allows spaces */
			if ((ch < 0x21 || ch > 0x7e) && !(exp && ch == ' '))
				return SPF_SYNTAX;
			if (o + 1 >= outlen)
				return SPF_SYNTAX;
			out[o++] = (char)ch;
			continue;
		}
		if (i >= len)
			return SPF_SYNTAX;
		switch (s[i++]) {
		case '%': add = "%"; break;
		case '_': add = " "; break;
		case '-': add = "%20"; break;
		case '{':
			if (spf_macro(c, s, len, &i, domain, exp, check, mac, sizeof(mac)) != 0)
				return SPF_SYNTAX;
			add = mac;
			break;
		default: return SPF_SYNTAX;
		}
		if (o + (w = strlen(add)) >= outlen)
			return SPF_SYNTAX;
		memcpy(out + o, add, w);
		o += w;
	}
	out[o] = '\0';
	return (int)o;
}

/* spf_toplabel - RFC 7208 7.1 toplabel: alphanumerics with a letter, or with an inner '-' */
static int
spf_toplabel(const char *l, size_t n)
{
	size_t	i;
	int	alpha = 0;

	if (n == 0 || !isalnum((unsigned char)l[0]) || !isalnum((unsigned char)l[n - 1]))
		return 0;
	for (i = 0; i < n; i++) {
		if (isalpha((unsigned char)l[i]))
			alpha = 1;
		else if (!isdigit((unsigned char)l[i]) && l[i] != '-')
			return 0;
	}
	return alpha || memchr(l, '-', n) != NULL;
}

/* spf_domain_spec_ok - domain-spec = macro-string domain-end (7.1), syntax only */
static int
spf_domain_spec_ok(struct spf_ctx *c, const char *s, size_t n)
{
	char		 buf[SPF_EXPAND_MAX + 1];
	const char	*dot;
	size_t		 end = n;

	if (n == 0 || spf_expand(c, s, n, "", 0, 1, buf, sizeof(buf)) < 0)
		return 0;
	/* domain-end = macro-expand, or "." toplabel ["."] */
	if (s[n - 1] == '}' || (n >= 2 && s[n - 2] == '%'))
		return 1;
	if (s[end - 1] == '.')
		end--;
	for (dot = s + end; dot > s && dot[-1] != '.'; dot--)
		;
	if (dot == s)
		return 0;
	return spf_toplabel(dot, (size_t)(s + end - dot));
}

/* spf_cidr - "/" digits without a leading zero, at most max; -1 bad */
static int
spf_cidr(const char *s, size_t n, int max)
{
	long long	v = 0;
	size_t		i;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > max ? -1 : (int)v;
}

/* spf_dual_cidr - strip "[/n4][//n6]" from the end of [s, *n) (a and mx, 5.3, 5.4) */
static int
spf_dual_cidr(const char *s, size_t *n, struct spf_term *t)
{
	const char	*p;
	size_t		 len = *n;

	t->cidr4 = 32;
	t->cidr6 = 128;
	for (p = s + len; p > s && isdigit((unsigned char)p[-1]); p--)
		;
	if (p >= s + 2 && p[-1] == '/' && p[-2] == '/') {
		if ((t->cidr6 = spf_cidr(p, (size_t)(s + len - p), 128)) < 0)
			return -1;
		len = (size_t)(p - 2 - s);
		for (p = s + len; p > s && isdigit((unsigned char)p[-1]); p--)
			;
	}
	if (p > s && p[-1] == '/' && p < s + len) {
		if ((t->cidr4 = spf_cidr(p, (size_t)(s + len - p), 32)) < 0)
			return -1;
		len = (size_t)(p - 1 - s);
	} else if (p > s && p[-1] == '/')
		return -1;
	*n = len;
	return 0;
}

/* spf_term_spec - ":" domain-spec into t */
static int
spf_term_spec(struct spf_ctx *c, const char *s, size_t n, struct spf_term *t)
{
	if (n < 2 || s[0] != ':' || !spf_domain_spec_ok(c, s + 1, n - 1))
		return SPF_SYNTAX;
	t->spec = s + 1;
	t->speclen = n - 1;
	return 0;
}

/* spf_parse_mech - one mechanism (qualifier already taken) into t */
static int
spf_parse_mech(struct spf_ctx *c, const char *s, size_t n, struct spf_term *t)
{
	static const struct { const char *name; enum spf_kind kind; } mechs[] = {
		{ "all", SPF_K_ALL }, { "include", SPF_K_INCLUDE }, { "a", SPF_K_A },
		{ "mx", SPF_K_MX }, { "ptr", SPF_K_PTR }, { "ip4", SPF_K_IP4 },
		{ "ip6", SPF_K_IP6 }, { "exists", SPF_K_EXISTS },
	};
	size_t	nl = strcspn(s, ":/"), i;
	char	addr[INET6_ADDRSTRLEN + 1];

	if (nl > n)
		nl = n;
	for (i = 0; i < sizeof(mechs) / sizeof(*mechs); i++)
		if (strlen(mechs[i].name) == nl && strncasecmp(s, mechs[i].name, nl) == 0)
			break;
	if (i == sizeof(mechs) / sizeof(*mechs))
		return SPF_SYNTAX;
	t->kind = mechs[i].kind;
	s += nl;
	n -= nl;
	switch (t->kind) {
	case SPF_K_ALL:
		return n == 0 ? 0 : SPF_SYNTAX;
	case SPF_K_INCLUDE:
	case SPF_K_EXISTS:
		return spf_term_spec(c, s, n, t);
	case SPF_K_A:
	case SPF_K_MX:
	case SPF_K_PTR:
		if (t->kind != SPF_K_PTR && spf_dual_cidr(s, &n, t) != 0)
			return SPF_SYNTAX;
		return n == 0 ? 0 : spf_term_spec(c, s, n, t);
	case SPF_K_IP4:
	case SPF_K_IP6:
		if (n < 2 || s[0] != ':')
			return SPF_SYNTAX;
		s++;
		n--;
		t->cidr4 = 32;
		t->cidr6 = 128;
		/* ip4-cidr-length / ip6-cidr-length: one "/n", no dual-cidr (5.6) */
		const char *sl = memchr(s, '/', n);
		if (sl != NULL) {
			int bits = spf_cidr(sl + 1, n - (size_t)(sl + 1 - s),
			    t->kind == SPF_K_IP4 ? 32 : 128);
			if (bits < 0)
				return SPF_SYNTAX;
			*(t->kind == SPF_K_IP4 ? &t->cidr4 : &t->cidr6) = bits;
			n = (size_t)(sl - s);
		}
		if (n >= sizeof(addr))
			return SPF_SYNTAX;
		memcpy(addr, s, n);
		addr[n] = '\0';
		if (inet_pton(t->kind == SPF_K_IP4 ? AF_INET : AF_INET6, addr, t->net) != 1)
			return SPF_SYNTAX;
		return 0;
	}
	return SPF_SYNTAX;
}

/* spf_parse - the record after "v=spf1" into r; 0 or SPF_SYNTAX */
static int
spf_parse(struct spf_ctx *c, char *p, struct spf_record *r)
{
	char	*tok;
	size_t	 n, nl;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return 0;
		tok = p;
		p += strcspn(p, " ");
		n = (size_t)(p - tok);
		if (*p == ' ')
			*p++ = '\0';
		/* terms are printable US-ASCII (3.1, 4.6.1) */
		for (nl = 0; nl < n; nl++)
			if ((unsigned char)tok[nl] < 0x21 || (unsigned char)tok[nl] > 0x7e)
				return SPF_SYNTAX;
		/* modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / - _ . ) */
		nl = strspn(tok, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.");
		if (nl > 0 && nl < n && tok[nl] == '=' && isalpha((unsigned char)tok[0])) {
			const char *val = tok + nl + 1;
			size_t vl = n - nl - 1;
			char buf[SPF_EXPAND_MAX + 1];

			if (nl == 8 && strncasecmp(tok, "redirect", 8) == 0) {
				if (r->redirect != NULL || !spf_domain_spec_ok(c, val, vl))
					return SPF_SYNTAX;
				r->redirect = val;
				r->redirlen = vl;
			} else if (nl == 3 && strncasecmp(tok, "exp", 3) == 0) {
				if (r->exp != NULL || !spf_domain_spec_ok(c, val, vl))
					return SPF_SYNTAX;
				r->exp = val;
				r->explen = vl;
			} else if (spf_expand(c, val, vl, "", 0, 1, buf, sizeof(buf)) < 0)
				return SPF_SYNTAX;	/* unknown modifiers are ignored if well-formed */
			continue;
		}
		if (r->n >= SPF_TERMS_MAX)
			return SPF_SYNTAX;
		struct spf_term *t = &r->t[r->n];
		memset(t, 0, sizeof(*t));
		t->text = tok;
		t->textlen = n;
		t->qual = SPF_PASS;
		switch (*tok) {
		case '+': t->qual = SPF_PASS; tok++; n--; break;
		case '-': t->qual = SPF_FAIL; tok++; n--; break;
		case '~': t->qual = SPF_SOFTFAIL; tok++; n--; break;
		case '?': t->qual = SPF_NEUTRAL; tok++; n--; break;
		}
		if (spf_parse_mech(c, tok, n, t) != 0)
			return SPF_SYNTAX;
		r->n++;
	}
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
	if (spf_expand(c, spec, len, domain, 0, 0, buf, sizeof(buf)) < 0)
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
		    spf_expand(c, (char *)ans.rr[0].data, ans.rr[0].len, domain, 1, 0, out,
		    outlen) >= 0;
		dns_answer_free(&ans);
		if (ok)
			return;
	}
	if (spf_expand(c, def, strlen(def), domain, 1, 0, out, outlen) < 0)
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
