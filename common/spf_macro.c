/*
 * spf_macro.c - RFC 7208 7 macro expansion for check_host() (spf.c).
 *
 * Entry point: spf_macro_expand (spf_int.h), for domain-specs and exp=
 * texts; with check set it only checks the syntax (the parser, spf_parse.c)
 * and looks nothing up.  Invariants: every value and result is bounded by
 * SPF_EXPAND_MAX (7.3: longer results lose labels from the left, done by the
 * caller); the exp-only letters c, r, t are a syntax error elsewhere.  The
 * only lookup is %{p} (spf_ptr_validated, 5.5), which counts as one.
 * Errors: SPF_SYNTAX for a malformed macro (permerror), nothing logged.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf.h"
#include "spf_int.h"

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
 * spf_macro_expand - RFC 7208 7: expand macro-string s[0..len) into out.
 * exp: an explanation string (c, r, t allowed, spaces literal).  check:
 * syntax only (no lookups).  Returns the length, or SPF_SYNTAX.
 */
int
spf_macro_expand(struct spf_ctx *c, const char *s, size_t len, const char *domain, int exp,
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
