/*
 * fuzz_mailaddr.c - libFuzzer harness for common/mailaddr.c (RFC 5321 paths,
 * ESMTP parameters, RFC 3461 xtext/NOTIFY/ORCPT, SIZE).
 *
 * Input: byte 0 selects the mode and flags, the rest is the text (cut at the
 * first NUL, as the command loop refuses NUL).  Beyond "no crash, no
 * sanitizer report" it checks what the SMTP layer relies on:
 *   - an accepted path has no control character, space outside quotes, or
 *     (without SMTPUTF8) 8-bit byte; it fits 4.5.3.1 limits; "<" addr ">"
 *     parses again to the same result (what replay sends is what we took);
 *   - the unquoted form is local "@" domain and the domain is valid; an ASCII
 *     domain is valid with and without SMTPUTF8 alike;
 *   - the domain's lookup form (A-labels) is lower-case LDH, or refused;
 *   - the parameter splitter always advances and yields esmtp-keyword and
 *     esmtp-value words;
 *   - NOTIFY: NEVER only alone; SIZE: the decimal value, never above max.
 * Any violation abort()s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailaddr.h"

#define FZ_NAME "fuzz_mailaddr"
#include "fz.h"

/* fz_addr_clean - no controls; spaces only inside the quoted local part */
static void
fz_addr_clean(const char *a, int utf8)
{
	const unsigned char *p = (const unsigned char *)a;
	int inq = 0, esc = 0;

	for (; *p != '\0'; p++) {
		fz_check(*p >= 32 && *p != 127, "control character in address");
		fz_check(utf8 || *p < 0x80, "8-bit address without SMTPUTF8");
		if (esc) {
			esc = 0;
			continue;
		}
		if (inq && *p == '\\')
			esc = 1;
		else if (*p == '"')
			inq = !inq;
		else if (!inq)
			fz_check(*p != ' ' && *p != '<' && *p != '>', "space or bracket outside quotes");
	}
}

/* fz_ascii - the A-label lookup form: NUL-terminated, lower-case, 7-bit, within limits */
static void
fz_ascii(const char *d)
{
	char	out[MXS_DOMAIN_MAX + 1];
	size_t	i, n;

	if (mailaddr_domain_ascii(d, out, sizeof(out)) == -1)
		return;
	n = strlen(out);
	fz_check(n > 0 && n <= MXS_DOMAIN_MAX, "A-label form length");
	for (i = 0; i < n; i++)
		fz_check((unsigned char)out[i] > 32 && (unsigned char)out[i] < 0x7f &&
		    !(out[i] >= 'A' && out[i] <= 'Z'), "A-label form not lower-case 7-bit");
}

/* fz_path - parse, check, re-parse */
static void
fz_path(const char *s, int allow_null, int utf8)
{
	struct mailaddr	 m, m2;
	const char	*end, *end2, *why;
	char		 again[MXS_ADDR_MAX + 8];
	size_t		 n = strlen(s);

	if (mailaddr_parse_path(s, allow_null, utf8, &m, &end, &why) != MAILADDR_OK) {
		fz_check(why != NULL && *why != '\0', "no reason");
		return;
	}
	fz_check(end > s && end <= s + n && end[-1] == '>', "end not after '>'");
	if (m.null) {
		fz_check(allow_null && m.addr[0] == '\0', "null path");
		return;
	}
	fz_check(strlen(m.addr) + 2 <= MXS_PATH_MAX, "path longer than 256");
	fz_check(strlen(m.local) <= MXS_LOCALPART_MAX, "local part too long");
	fz_check(strlen(m.domain) <= MXS_DOMAIN_MAX, "domain too long");
	fz_check(mailaddr_domain_valid(m.domain, strlen(m.domain), utf8), "domain invalid");
	/* SMTPUTF8 widens what a domain may hold (U-labels), never the ASCII rules */
	fz_check(mailaddr_8bit(m.domain) || mailaddr_domain_valid(m.domain, strlen(m.domain), 0),
	    "ASCII domain valid only with SMTPUTF8");
	fz_ascii(m.domain);
	fz_addr_clean(m.addr, utf8);
	snprintf(again, sizeof(again), "%s@%s", m.local, m.domain);
	fz_check(strcmp(again, m.unquoted) == 0, "unquoted != local@domain");
	snprintf(again, sizeof(again), "<%s>", m.addr);
	fz_check(mailaddr_parse_path(again, allow_null, utf8, &m2, &end2, &why) == MAILADDR_OK,
	    "re-parse failed");
	fz_check(*end2 == '\0', "re-parse end");
	fz_check(strcmp(m.addr, m2.addr) == 0 && strcmp(m.unquoted, m2.unquoted) == 0 &&
	    strcmp(m.local, m2.local) == 0 && strcmp(m.domain, m2.domain) == 0,
	    "re-parse differs");
}

/* fz_notify_ref - RFC 3461 4.1 from scratch */
static int
fz_notify_ref(const char *v)
{
	char	 buf[600], *w, *save = NULL;
	int	 seen = 0, bit;

	if (strlen(v) >= sizeof(buf))
		return -1;	/* not checked */
	snprintf(buf, sizeof(buf), "%s", v);
	if (strcasecmp(buf, "NEVER") == 0)
		return 1;
	if (buf[0] == ',' || buf[0] == '\0' || buf[strlen(buf) - 1] == ',' ||
	    strstr(buf, ",,") != NULL)
		return 0;
	for (w = strtok_r(buf, ",", &save); w != NULL; w = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(w, "SUCCESS") == 0)
			bit = 1;
		else if (strcasecmp(w, "FAILURE") == 0)
			bit = 2;
		else if (strcasecmp(w, "DELAY") == 0)
			bit = 4;
		else
			return 0;
		if (seen & bit)
			return 0;
		seen |= bit;
	}
	return 1;
}

/* fz_params - split all parameters; check each word and feed the value checkers */
static void
fz_params(const char *s, long long max)
{
	const char	*cur = s, *before;
	char		 key[32], val[DSN_ORCPT_MAX + 2];
	int		 hasval, r, ref, steps = 0;
	long long	 size;
	size_t		 i;

	for (;;) {
		before = cur;
		r = mailaddr_next_param(&cur, key, sizeof(key), val, sizeof(val), &hasval);
		if (r <= 0)
			break;
		fz_check(cur > before, "parameter cursor did not advance");
		fz_check(++steps <= 4096, "too many parameters");
		fz_check(key[0] != '\0' && strlen(key) < sizeof(key), "key");
		for (i = 0; key[i] != '\0'; i++)
			fz_check((key[i] >= 'A' && key[i] <= 'Z') || (key[i] >= '0' &&
			    key[i] <= '9') || key[i] == '-', "key character");
		if (!hasval) {
			fz_check(val[0] == '\0', "value without '='");
			continue;
		}
		fz_check(val[0] != '\0', "empty value");
		for (i = 0; val[i] != '\0'; i++)
			fz_check((unsigned char)val[i] > 32 && val[i] != '=' && val[i] != 127,
			    "value character");
		(void)mailaddr_xtext_valid(val);
		(void)mailaddr_orcpt_valid(val);
		ref = fz_notify_ref(val);
		if (ref >= 0)
			fz_check(mailaddr_notify_valid(val) == ref, "NOTIFY differs from reference");
		r = mailaddr_size_parse(val, max, &size);
		if (r == 1) {
			fz_check(size >= 0 && size <= max, "SIZE above max");
			fz_check(strspn(val, "0123456789") == strlen(val), "SIZE not digits");
			if (strlen(val) <= 18)
				fz_check(size == strtoll(val, NULL, 10), "SIZE value");
		} else if (r == 0) {
			fz_check(strspn(val, "0123456789") == strlen(val), "SIZE big not digits");
			if (strlen(val) <= 18)
				fz_check(strtoll(val, NULL, 10) > max, "SIZE wrongly too big");
		} else
			fz_check(strspn(val, "0123456789") != strlen(val), "SIZE digits refused");
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - mode from byte 0: path, parameters, domain, path+params */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long long	 maxes[] = { 0, 9, 10240, 52428800, 0x7fffffffffffffffLL };
	char			*s;
	const char		*end, *why;
	struct mailaddr		 m;
	int			 mode;

	if (size < 1)
		return 0;
	mode = data[0];
	if ((s = malloc(size)) == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (mode & 3) {
	case 0:
		fz_path(s, mode & 4, mode & 8);
		break;
	case 1:
		fz_params(s, maxes[(mode >> 2) % 5]);
		break;
	case 2:
		/* raw bytes with their length, NUL included */
		(void)mailaddr_domain_valid((const char *)data + 1, size - 1, mode & 4);
		fz_ascii(s);
		break;
	default:
		/* what MAIL FROM: hands over: a path, then parameters after it */
		if (mailaddr_parse_path(s, 1, mode & 8, &m, &end, &why) == MAILADDR_OK &&
		    (*end == '\0' || *end == ' '))
			fz_params(end, maxes[(mode >> 4) % 5]);
		break;
	}
	free(s);
	return 0;
}
