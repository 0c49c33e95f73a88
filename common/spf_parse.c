/*
 * spf_parse.c - the syntax of an SPF record (RFC 7208 4.6, 5, 6, 7.1): terms,
 * qualifiers, dual CIDR lengths, domain-specs, modifiers.
 *
 * Entry point: spf_parse (spf_int.h).  A record is parsed whole before any
 * term is evaluated (4.6: a syntax error anywhere is permerror, without
 * further interpretation); terms keep pointers into the record's copy, which
 * the parse NUL-splits.  Domain-specs are checked with spf_macro_expand in
 * check mode (no lookups).  Errors: SPF_SYNTAX, nothing logged.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_int.h"

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

	if (n == 0 || spf_macro_expand(c, s, n, "", 0, 1, buf, sizeof(buf)) < 0)
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
int
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
			} else if (spf_macro_expand(c, val, vl, "", 0, 1, buf, sizeof(buf)) < 0)
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
