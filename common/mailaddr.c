/*
 * mailaddr.c - RFC 5321 path and ESMTP parameter parsing (see mailaddr.h).
 *
 * A cursor walks the input once; every write is bounded by the struct
 * fields.  Source routes are parsed for syntax and dropped.  '%', '!' and a
 * quoted '@' are kept in the local part: it is the recipient verifier's job
 * to refuse them (they never route elsewhere here).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>

#include "mailaddr.h"

/* atext (RFC 5322 3.2.3) */
static int
mailaddr_atext(unsigned char c, int utf8)
{
	if (c >= 0x80)
		return utf8;
	if (isalnum(c))
		return 1;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != '\0';
}

/* mailaddr_utf8_ok - bytes s..s+n form valid UTF-8 (no overlongs, no surrogates) */
static int
mailaddr_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;
	unsigned int cp;

	while (i < n) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1; cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2; cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3; cp = s[i] & 0x07;
		} else
			return 0;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += need + 1;
	}
	return 1;
}

/*
 * mailaddr_literal_valid - the inside of "[...]": an IPv4 or "IPv6:" address
 * (RFC 5321 4.1.3).  A General-address-literal (tag ":" dcontent) has no
 * registered tag and its dcontent admits '<', '"' and '@', which would then
 * reach replies, the index and replay: refused.
 */
static int
mailaddr_literal_valid(const char *s, size_t n)
{
	char		 ip[64];
	unsigned char	 bin[16];

	if (n == 0 || n >= sizeof(ip))
		return 0;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (memchr(s, '\0', n) != NULL)
		return 0;
	if (n > 5 && strncasecmp(ip, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, ip + 5, bin) == 1;
	return inet_pton(AF_INET, ip, bin) == 1;
}

/* mailaddr_domain_valid - sub-domain *("." sub-domain), or "[...]" literal */
int
mailaddr_domain_valid(const char *d, size_t n, int utf8)
{
	size_t i, lab = 0;
	const unsigned char *u = (const unsigned char *)d;
	int lab8 = 0;	/* the label has UTF-8: its A-label length is checked by IDNA */

	if (n == 0 || n > MXS_DOMAIN_MAX)
		return 0;
	if (u[0] == '[') {
		if (n < 3 || u[n - 1] != ']')
			return 0;
		return mailaddr_literal_valid(d + 1, n - 2);
	}
	for (i = 0; i < n; i++) {
		if (u[i] == '.') {
			if (lab == 0 || u[i - 1] == '-')
				return 0;
			lab = lab8 = 0;
			continue;
		}
		if (u[i] >= 0x80) {
			if (!utf8)
				return 0;
			lab8 = 1;
		} else if (!isalnum(u[i]) && !(u[i] == '-' && lab > 0))
			return 0;
		if (++lab > 63 && !lab8)
			return 0;
	}
	if (lab == 0 || u[n - 1] == '-')
		return 0;
	return utf8 ? mailaddr_utf8_ok(u, n) : 1;
}

/* mailaddr_8bit - see mailaddr.h */
int
mailaddr_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/*
 * mailaddr_domain_ascii - see mailaddr.h.  ASCII names are only lowered (an
 * "xn--" label is taken as it is); a name with UTF-8 goes through IDNA2008
 * with the UTS #46 non-transitional mapping (case folding, NFC), as the
 * sending side's libidn2 would have, so "BÜCHER.example" and
 * "xn--bcher-kva.example" are one domain.
 */
int
mailaddr_domain_ascii(const char *domain, char *out, size_t outlen)
{
	char		 in[MXS_DOMAIN_MAX + 2], *a = NULL;
	const char	*src = in;
	size_t		 n = strlen(domain), i;

	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || n > MXS_DOMAIN_MAX)
		return -1;
	memcpy(in, domain, n);
	in[n] = '\0';
	if (mailaddr_8bit(in)) {
		if (idn2_to_ascii_8z(in, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) != IDN2_OK)
			return -1;
		src = a;
		n = strlen(a);
	}
	if (n == 0 || n > MXS_DOMAIN_MAX || n >= outlen) {
		idn2_free(a);
		return -1;
	}
	for (i = 0; i < n; i++) {
		/* a lookup key is printable 7-bit: controls and spaces are no name */
		if ((unsigned char)src[i] <= ' ' || (unsigned char)src[i] >= 0x7f) {
			idn2_free(a);
			return -1;
		}
		out[i] = (char)tolower((unsigned char)src[i]);
	}
	out[n] = '\0';
	idn2_free(a);
	return 0;
}

/* mailaddr_route - skip "@dom,@dom:" at *p; -1 on bad syntax */
static int
mailaddr_route(const char **p, int utf8)
{
	const char *s = *p, *e;

	if (*s != '@')
		return 0;
	for (;;) {
		if (*s != '@')
			return -1;
		s++;
		for (e = s; *e != '\0' && *e != ',' && *e != ':' && *e != '>'; e++)
			;
		if (!mailaddr_domain_valid(s, e - s, utf8))
			return -1;
		if (*e == ':') {
			*p = e + 1;
			return 0;
		}
		if (*e != ',')
			return -1;
		s = e + 1;
	}
}

/* mailaddr_local - dot-string or quoted-string at *p into m; -1 syntax, -2 too long */
static int
mailaddr_local(const char **p, int utf8, struct mailaddr *m, size_t *wirelen)
{
	const unsigned char *s = (const unsigned char *)*p;
	size_t w = 0, u = 0;
	int quoted = (*s == '"'), prevdot = 1;

	if (quoted) {
		m->addr[w++] = '"';
		s++;
		for (; *s != '"'; s++) {
			if (*s == '\0' || *s == '\r' || *s == '\n')
				return -1;
			if (*s == '\\') {
				if (s[1] < 32 || s[1] > 126)
					return -1;
				if (w + 2 > MXS_LOCALPART_MAX + 2)
					return -2;
				m->addr[w++] = '\\';
				m->addr[w++] = s[1];
				m->local[u++] = s[1];
				s++;
				continue;
			}
			if (*s < 32 || *s == 127 || (*s >= 0x80 && !utf8))
				return -1;
			if (w + 1 > MXS_LOCALPART_MAX + 2 || u >= MXS_LOCALPART_MAX)
				return -2;
			m->addr[w++] = *s;
			m->local[u++] = *s;
		}
		m->addr[w++] = '"';
		s++;
		if (u > MXS_LOCALPART_MAX)
			return -2;
	} else {
		for (; *s != '@'; s++) {
			if (*s == '.') {
				if (prevdot)
					return -1;
				prevdot = 1;
			} else if (mailaddr_atext(*s, utf8))
				prevdot = 0;
			else
				return -1;
			if (u >= MXS_LOCALPART_MAX)
				return -2;
			m->addr[w++] = *s;
			m->local[u++] = *s;
		}
		if (u == 0 || prevdot)
			return -1;
	}
	m->local[u] = '\0';
	if (utf8 && !mailaddr_utf8_ok((const unsigned char *)m->local, u))
		return -1;
	*wirelen = w;
	*p = (const char *)s;
	return 0;
}

/* mailaddr_parse_path - see mailaddr.h */
enum mailaddr_status
mailaddr_parse_path(const char *s, int allow_null, int utf8, struct mailaddr *m,
    const char **end, const char **why)
{
	const char *p = s, *d;
	size_t w = 0, dl;
	int r;

	memset(m, 0, sizeof(*m));
	*why = "syntax error in address";
	if (*p != '<') {
		*why = "address must be in angle brackets";
		return MAILADDR_SYNTAX;
	}
	p++;
	if (*p == '>') {
		if (!allow_null) {
			*why = "null address not allowed here";
			return MAILADDR_SYNTAX;
		}
		m->null = 1;
		*end = p + 1;
		return MAILADDR_OK;
	}
	if (mailaddr_route(&p, utf8) != 0) {
		*why = "bad source route";
		return MAILADDR_SYNTAX;
	}
	if ((r = mailaddr_local(&p, utf8, m, &w)) != 0) {
		if (r == -2) {
			*why = "local part too long";
			return MAILADDR_TOOLONG;
		}
		return MAILADDR_SYNTAX;
	}
	if (*p != '@') {
		*why = "address without domain";
		return MAILADDR_SYNTAX;
	}
	d = ++p;
	for (; *p != '>' && *p != '\0'; p++)
		;
	if (*p != '>')
		return MAILADDR_SYNTAX;
	dl = p - d;
	if (dl > MXS_DOMAIN_MAX) {
		*why = "domain too long";
		return MAILADDR_TOOLONG;
	}
	if (!mailaddr_domain_valid(d, dl, utf8)) {
		*why = "bad domain";
		return MAILADDR_SYNTAX;
	}
	/* RFC 5321 4.5.3.1.3: the whole path is at most 256 octets */
	if (w + 1 + dl + 2 > MXS_PATH_MAX) {
		*why = "path too long";
		return MAILADDR_TOOLONG;
	}
	memcpy(m->domain, d, dl);
	m->domain[dl] = '\0';
	m->addr[w] = '@';
	memcpy(m->addr + w + 1, d, dl);
	m->addr[w + 1 + dl] = '\0';
	/* local (<= 64) + '@' + domain (<= 255) always fits MXS_ADDR_MAX */
	w = strlen(m->local);
	memcpy(m->unquoted, m->local, w);
	m->unquoted[w] = '@';
	memcpy(m->unquoted + w + 1, d, dl);
	m->unquoted[w + 1 + dl] = '\0';
	*end = p + 1;
	return MAILADDR_OK;
}

/* mailaddr_next_param - see mailaddr.h */
int
mailaddr_next_param(const char **cur, char *key, size_t keylen, char *val, size_t vallen,
    int *hasval)
{
	const unsigned char *s = (const unsigned char *)*cur;
	size_t k = 0, v = 0;

	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*cur = (const char *)s;
		return 0;
	}
	/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
	if (!isalnum(*s))
		return -1;
	for (; *s != '\0' && *s != ' ' && *s != '='; s++) {
		if (!isalnum(*s) && *s != '-')
			return -1;
		if (k + 1 >= keylen)
			return -1;
		key[k++] = toupper(*s);
	}
	key[k] = '\0';
	*hasval = 0;
	if (*s == '=') {
		*hasval = 1;
		s++;
		/* esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 allowed (RFC 6531 3.3) */
		for (; *s != '\0' && *s != ' '; s++) {
			if (*s < 33 || *s == '=' || *s == 127)
				return -1;
			if (v + 1 >= vallen)
				return -1;
			val[v++] = *s;
		}
		if (v == 0)
			return -1;
	}
	val[v] = '\0';
	*cur = (const char *)s;
	return 1;
}

/* mailaddr_xtext_valid - xchar or "+" 2 upper-case hex digits */
int
mailaddr_xtext_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '+') {
			if (!isxdigit(p[1]) || !isxdigit(p[2]) || islower(p[1]) || islower(p[2]))
				return 0;
			p += 2;
		} else if (*p < 33 || *p > 126 || *p == '=')
			return 0;
	}
	return 1;
}

/* mailaddr_notify_valid - RFC 3461 4.1 */
int
mailaddr_notify_valid(const char *s)
{
	static const char *kw[] = { "SUCCESS", "FAILURE", "DELAY" };
	int seen = 0, i;
	const char *e;
	size_t n;

	if (strcasecmp(s, "NEVER") == 0)
		return 1;
	for (;;) {
		e = strchr(s, ',');
		n = e ? (size_t)(e - s) : strlen(s);
		for (i = 0; i < 3; i++)
			if (strlen(kw[i]) == n && strncasecmp(s, kw[i], n) == 0)
				break;
		if (i == 3 || (seen & (1 << i)))
			return 0;
		seen |= 1 << i;
		if (e == NULL)
			return 1;
		s = e + 1;
	}
}

/* mailaddr_orcpt_valid - addr-type ";" xtext (RFC 3461 4.2), utf-8 type (RFC 6533 3) */
int
mailaddr_orcpt_valid(const char *s)
{
	const char *semi = strchr(s, ';');

	if (semi == NULL || strlen(s) > DSN_ORCPT_MAX || semi[1] == '\0')
		return 0;
	if ((size_t)(semi - s) == 6 && strncasecmp(s, "rfc822", 6) == 0)
		return mailaddr_xtext_valid(semi + 1);
	if ((size_t)(semi - s) == 5 && strncasecmp(s, "utf-8", 5) == 0)
		return mailaddr_utf8_ok((const unsigned char *)semi + 1, strlen(semi + 1));
	return 0;
}

/* mailaddr_size_parse - digits only; no overflow: stop counting once above max */
int
mailaddr_size_parse(const char *s, long long max, long long *out)
{
	long long v = 0;
	int big = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (!big) {
			if (v > (max - (*s - '0')) / 10)
				big = 1;
			else
				v = v * 10 + (*s - '0');
		}
	}
	if (big || v > max)
		return 0;
	*out = v;
	return 1;
}

/* mailaddr_key_compose - lookup key from a local part and a converted domain */
int
mailaddr_key_compose(const char *addr, size_t llen, const char *dom, int case_sensitive,
    char *out, size_t outlen)
{
	size_t	dlen = strlen(dom), i;

	if (llen == 0 || llen > MXS_LOCALPART_MAX || llen + 1 + dlen >= outlen)
		return -1;
	for (i = 0; i < llen; i++)
		if ((unsigned char)addr[i] < 0x20 || addr[i] == 0x7f)
			return -1;
	memcpy(out, addr, llen);
	/* ASCII only: 8-bit bytes are kept as they are */
	for (i = 0; !case_sensitive && i < llen; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = out[i] - 'A' + 'a';
	out[llen] = '@';
	memcpy(out + llen + 1, dom, dlen + 1);
	return 0;
}

/* mailaddr_key - lookup key of a whole address */
int
mailaddr_key(const char *addr, int case_sensitive, char *out, size_t outlen,
    size_t *local_len)
{
	const char	*at = strrchr(addr, '@');
	char		 dom[MXS_DOMAIN_MAX + 1];

	if (at == NULL || mailaddr_domain_ascii(at + 1, dom, sizeof(dom)) == -1 ||
	    mailaddr_key_compose(addr, at - addr, dom, case_sensitive, out, outlen) == -1)
		return -1;
	*local_len = at - addr;
	return 0;
}
