/*
 * auth_hdr.c - the header block of a message at ingest: the scanner of what
 * arrived (auth_impl.h says what it finds) and our Authentication-Results:
 * field (RFC 8601 2.2).
 * Entry points: auth_scan_init(), auth_scan_run(), auth_scan_finish(),
 * auth_header().  Pure: no I/O, no DNS; bounded by AUTH_FIELD_MAX and
 * AUTH_HEADER_MAX (sized for the longest possible header: AUTH_DKIM_MAX
 * signatures with 253-octet domains).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_impl.h"
#include "dns.h"
#include "mailaddr.h"

/* auth_scan_init - a scanner filling v; servid: our authserv-id */
void
auth_scan_init(struct auth_scan *sc, struct auth_verdict *v, const char *servid)
{
	memset(sc, 0, sizeof(*sc));
	sc->v = v;
	sc->servid = servid;
	sc->bol = 1;
}

/* auth_skip_cfws - past white space and (nested) comments */
static const char *
auth_skip_cfws(const char *p)
{
	int depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if (depth == 0 && *p != ' ' && *p != '\t')
			break;
	}
	return p;
}

/* auth_from_domain - the one domain of a From: value, or "" (none, several, bad) */
static void
auth_from_domain(const char *val, char *out, size_t outlen)
{
	const char	*p, *at = NULL, *end = NULL;
	int		 q = 0, angle = 0, depth = 0, naddr = 0;
	char		 dom[DNS_NAME_MAX + 2];
	size_t		 n;

	out[0] = '\0';
	/* the last '@' of each address, outside quotes and comments */
	for (p = val; *p != '\0'; p++) {
		if (q) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				q = 0;
			continue;
		}
		if (depth > 0) {
			depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
			continue;
		}
		if (*p == '"')
			q = 1;
		else if (*p == '(')
			depth = 1;
		else if (*p == '<')
			angle = 1;
		else if (*p == '>' && angle) {
			angle = 0;
			end = p;
		} else if (*p == ',' && !angle)
			naddr++;
		else if (*p == '@') {
			at = p;
			end = NULL;
		} else if (at != NULL && end == NULL && (*p == ' ' || *p == '\t' || *p == ';'))
			end = p;
	}
	if (at == NULL || naddr > 0)
		return;
	if (end == NULL || end < at)
		end = p;
	n = end - at - 1;
	if (n == 0 || n >= sizeof(dom))
		return;
	memcpy(dom, at + 1, n);
	dom[n] = '\0';
	while (n > 0 && (dom[n - 1] == ' ' || dom[n - 1] == '>' || dom[n - 1] == '.'))
		dom[--n] = '\0';
	if (dns_name_check(dom) != 0 || mailaddr_domain_ascii(dom, out, outlen) == -1)
		out[0] = '\0';
}

/* auth_scan_field - one complete field: From:, Authentication-Results: */
static void
auth_scan_field(struct auth_scan *sc)
{
	char		*colon, *name = sc->field, *val;
	const char	*p;
	size_t		 n;
	off_t		*f;

	sc->field[sc->flen] = '\0';
	if ((colon = strchr(name, ':')) == NULL)
		return;
	*colon = '\0';
	for (n = strlen(name); n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'); n--)
		name[n - 1] = '\0';
	val = colon + 1;
	if (strcasecmp(name, "From") == 0) {
		if (++sc->nfrom == 1)
			auth_from_domain(val, sc->from, sizeof(sc->from));
		else
			sc->from[0] = '\0';
	} else if (strcasecmp(name, "Authentication-Results") == 0) {
		/* RFC 8601 5: ours only if we wrote it; anything else claiming it is forged */
		p = auth_skip_cfws(val);
		n = strcspn(p, " \t;(");
		if (n != strlen(sc->servid) || strncasecmp(p, sc->servid, n) != 0)
			return;
		if ((f = realloc(sc->v->forged, (sc->v->nforged + 1) * sizeof(*f))) == NULL) {
			sc->oom = 1;
			return;
		}
		sc->v->forged = f;
		f[sc->v->nforged++] = sc->field_off;
	}
}

/* auth_scan_run - n more bytes of the message */
void
auth_scan_run(struct auth_scan *sc, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && !sc->done; i++, sc->off++) {
		if (p[i] == '\r')
			continue;
		if (sc->bol) {
			if (p[i] == '\n') {	/* the empty line: end of the header block */
				if (sc->infield)
					auth_scan_field(sc);
				sc->done = 1;
				break;
			}
			if (p[i] != ' ' && p[i] != '\t') {
				if (sc->infield)
					auth_scan_field(sc);
				sc->infield = 1;
				sc->field_off = sc->off;
				sc->flen = 0;
			}
			sc->bol = 0;
		}
		if (p[i] == '\n') {
			sc->bol = 1;
			continue;
		}
		if (sc->flen < AUTH_FIELD_MAX)
			sc->field[sc->flen++] = (char)p[i];
	}
}

/* auth_scan_finish - a message without a body ends its last field */
void
auth_scan_finish(struct auth_scan *sc)
{
	if (!sc->done && sc->infield)
		auth_scan_field(sc);
	sc->done = 1;
}

/* auth_hdr_add - append formatted text to v->header; overflow leaves it unchanged */
static void
auth_hdr_add(struct auth_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
auth_hdr_add(struct auth_verdict *v, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(v->header + v->headerlen, sizeof(v->header) - v->headerlen, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(v->header) - v->headerlen)
		v->headerlen += n;
	else
		v->header[v->headerlen] = '\0';
}

/* auth_header - the Authentication-Results: field of RFC 8601 2.2, folded per method */
void
auth_header(struct auth_verdict *v, const char *servid)
{
	int i;

	v->headerlen = 0;
	auth_hdr_add(v, "Authentication-Results: %s;\r\n\tspf=%s %s=%s", servid,
	    spf_result_name(v->spf), v->spf_helo ? "smtp.helo" : "smtp.mailfrom",
	    v->spf_id[0] ? v->spf_id : "unknown");
	if (v->nsig == 0)
		auth_hdr_add(v, ";\r\n\tdkim=none");
	for (i = 0; i < v->nsig; i++) {
		auth_hdr_add(v, ";\r\n\tdkim=%s", v->sig[i].result);
		if (v->sig[i].why[0] != '\0')
			auth_hdr_add(v, " (%s)", v->sig[i].why);
		auth_hdr_add(v, " header.d=%s header.s=%s", v->sig[i].domain, v->sig[i].selector);
		if (v->sig[i].b[0] != '\0')
			auth_hdr_add(v, " header.b=\"%s\"", v->sig[i].b);
	}
	auth_hdr_add(v, ";\r\n\tdmarc=%s", v->dmarc);
	if (v->dmarc_p[0] != '\0')
		auth_hdr_add(v, " (p=%s)", v->dmarc_p);
	if (v->from_domain[0] != '\0')
		auth_hdr_add(v, " header.from=%s", v->from_domain);
	auth_hdr_add(v, "\r\n");
}
