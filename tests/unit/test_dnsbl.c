/*
 * test_dnsbl.c - the [dnsbl] sites syntax of common/dnsbl.c (postscreen's
 * postscreen_dnsbl_sites): zone, weight, return-code filter with lists and
 * ranges, and the errors; then which answers a parsed filter counts, and the
 * [dnsbl] keys that dnsbl_open refuses.  The lookups themselves run against a
 * real DNS server in tests/e2e/ingest_dnsbl.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "dnsbl.h"
#include "testlib.h"

struct parse_case {
	const char	*spec;
	int		 rc;		/* 0 ok, -1 refused */
	const char	*zone;		/* ok: the zone */
	int		 weight;
	int		 filtered;
	const char	*err;		/* refused: a part of the reason */
};

static const struct parse_case parse_cases[] = {
	{ "zen.example", 0, "zen.example", 1, 0, NULL },
	{ "zen.example.", 0, "zen.example", 1, 0, NULL },
	{ "zen.example*2", 0, "zen.example", 2, 0, NULL },
	{ "list.dnswl.example*-5", 0, "list.dnswl.example", -5, 0, NULL },
	{ "zen.example=127.0.0.2", 0, "zen.example", 1, 1, NULL },
	{ "zen.example=127.0.0.[2..11]*2", 0, "zen.example", 2, 1, NULL },
	{ "zen.example=127.0.0.[2;4;10]", 0, "zen.example", 1, 1, NULL },
	{ "zen.example=127.0.0.[2..4;10;20..21]*3", 0, "zen.example", 3, 1, NULL },
	{ "list.dnswl.example=127.0.[0..255].[1..3]*-5", 0, "list.dnswl.example", -5, 1, NULL },
	{ "b.example*0", 0, "b.example", 0, 0, NULL },
	{ "b.example*1000", 0, "b.example", 1000, 0, NULL },
	{ "", -1, NULL, 0, 0, "want zone" },
	{ "=127.0.0.2", -1, NULL, 0, 0, "want zone" },
	{ "*2", -1, NULL, 0, 0, "want zone" },
	{ "a..example", -1, NULL, 0, 0, "not a DNS name" },
	{ "b.example*", -1, NULL, 0, 0, "bad weight" },
	{ "b.example*x", -1, NULL, 0, 0, "bad weight" },
	{ "b.example*1001", -1, NULL, 0, 0, "bad weight" },
	{ "b.example*-1001", -1, NULL, 0, 0, "bad weight" },
	{ "b.example*2*3", -1, NULL, 0, 0, "bad weight" },
	{ "b.example=", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.2.5", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.256", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.[11..2]", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.[2..300]", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.[2", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.[]", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.[2;]", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.x", -1, NULL, 0, 0, "bad return-code filter" },
	{ "b.example=127.0.0.2..3", -1, NULL, 0, 0, "bad return-code filter" },
};

/* test_parse - every row: the result, or the reason for a refusal */
static void
test_parse(void **state)
{
	struct dnsbl_site	site;
	char			err[128];
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(parse_cases) / sizeof(*parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];

		err[0] = '\0';
		rc = dnsbl_site_parse(c->spec, &site, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("\"%s\": got rc %d (%s), want %d", c->spec, rc, err, c->rc);
		if (rc != 0) {
			if (strstr(err, c->err) == NULL)
				fail_msg("\"%s\": got \"%s\", want \"%s\"", c->spec, err, c->err);
			continue;
		}
		if (strcmp(site.zone, c->zone) != 0 || site.weight != c->weight ||
		    site.filtered != c->filtered)
			fail_msg("\"%s\": got %s*%d filtered=%d, want %s*%d filtered=%d", c->spec,
			    site.zone, site.weight, site.filtered, c->zone, c->weight, c->filtered);
	}
}

struct match_case {
	const char	*spec;
	uint8_t		 a[4];
	int		 want;
};

static const struct match_case match_cases[] = {
	{ "b.example", { 127, 0, 0, 2 }, 1 },
	{ "b.example", { 10, 1, 2, 3 }, 1 },
	{ "b.example=127.0.0.2", { 127, 0, 0, 2 }, 1 },
	{ "b.example=127.0.0.2", { 127, 0, 0, 3 }, 0 },
	{ "b.example=127.0.0.2", { 127, 0, 1, 2 }, 0 },
	{ "b.example=127.0.0.[2..11]", { 127, 0, 0, 1 }, 0 },
	{ "b.example=127.0.0.[2..11]", { 127, 0, 0, 2 }, 1 },
	{ "b.example=127.0.0.[2..11]", { 127, 0, 0, 11 }, 1 },
	{ "b.example=127.0.0.[2..11]", { 127, 0, 0, 12 }, 0 },
	{ "b.example=127.0.0.[2;4;10]", { 127, 0, 0, 4 }, 1 },
	{ "b.example=127.0.0.[2;4;10]", { 127, 0, 0, 3 }, 0 },
	{ "b.example=127.0.0.[2;4;10]", { 127, 0, 0, 10 }, 1 },
	{ "b.example=127.0.[0..255].[1..3]", { 127, 0, 200, 3 }, 1 },
	{ "b.example=127.0.[0..255].[1..3]", { 127, 0, 200, 4 }, 0 },
	{ "b.example=127.0.[0..255].[1..3]", { 127, 1, 0, 1 }, 0 },
	{ "b.example=127.0.0.[0..255]", { 127, 0, 0, 255 }, 1 },
	{ "b.example=127.0.0.[0..255]", { 127, 0, 0, 0 }, 1 },
};

/* site_of - site parsed from spec, which must be valid */
static void
site_of(const char *spec, struct dnsbl_site *site)
{
	char	err[128];

	if (dnsbl_site_parse(spec, site, err, sizeof(err)) != 0)
		fail_msg("\"%s\": %s", spec, err);
}

/* test_match - which answers a filter counts */
static void
test_match(void **state)
{
	struct dnsbl_site	site;
	size_t			i;
	int			got;

	for (i = 0; i < sizeof(match_cases) / sizeof(*match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		site_of(c->spec, &site);
		got = dnsbl_site_match(&site, c->a);
		if (got != c->want)
			fail_msg("\"%s\" %u.%u.%u.%u: got %d, want %d", c->spec, c->a[0], c->a[1],
			    c->a[2], c->a[3], got, c->want);
	}
}

struct open_case {
	const char	*text;		/* [dnsbl] lines */
	int		 rc;
	int		 on;		/* rc 0: screening on */
	const char	*err;
};

static const struct open_case open_cases[] = {
	{ "", 0, 0, NULL },
	{ "sites =\n", 0, 0, NULL },
	{ "sites = , ,\n", 0, 0, NULL },
	{ "sites = a.example, b.example=127.0.0.2*2 c.example*-1\n", 0, 1, NULL },
	{ "sites = a.example\nallowlist = 10.0.0.0/8, 192.0.2.1, 2001:db8::/32, ::1\n", 0, 1,
	    NULL },
	{ "sites = a.example, b.example*x\n", -1, 0, "[dnsbl] sites: \"b.example*x\": bad weight" },
	{ "sites = a.example\nallowlist = 10.0.0.0/33\n", -1, 0,
	    "[dnsbl] allowlist: \"10.0.0.0/33\"" },
	{ "sites = a.example\nallowlist = 2001:db8::/129\n", -1, 0,
	    "[dnsbl] allowlist: \"2001:db8::/129\"" },
	/* names: exact, .domain (every name under it), a final dot */
	{ "sites = a.example\nallowlist = 10.0.0.0/8, mx1.partner.example, .probe.example, "
	    "Mon-1.Example.\n", 0, 1, NULL },
	/* a mistyped address is not taken for a name (the last label is all digits) */
	{ "sites = a.example\nallowlist = 192.0.2.300\n", -1, 0,
	    "[dnsbl] allowlist: \"192.0.2.300\": want an IPv4 or IPv6 address" },
	{ "sites = a.example\nallowlist = partner.123\n", -1, 0,
	    "[dnsbl] allowlist: \"partner.123\": want a host name" },
	{ "sites = a.example\nallowlist = part*ner.example\n", -1, 0,
	    "[dnsbl] allowlist: \"part*ner.example\": want a host name" },
	{ "sites = a.example\nallowlist = a..example\n", -1, 0,
	    "[dnsbl] allowlist: \"a..example\": want a host name" },
	{ "sites = a.example\nallowlist = .\n", -1, 0, "[dnsbl] allowlist: \".\"" },
	{ "sites = a.example\nallowlist = 10.0.0.0/\n", -1, 0, "[dnsbl] allowlist: \"10.0.0.0/\"" },
};

/* test_open - [dnsbl] as a whole: off without sites; errors name the key */
static void
test_open(void **state)
{
	struct config	*cfg;
	struct dnsbl	*d;
	char		 text[512], err[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(open_cases) / sizeof(*open_cases); i++) {
		const struct open_case *c = &open_cases[i];

		snprintf(text, sizeof(text), "[dns]\nnameserver = 127.0.0.1:9\n[dnsbl]\n%s",
		    c->text);
		cfg = config_from_string("test.conf", text, err, sizeof(err));
		assert_non_null(cfg);
		err[0] = '\0';
		rc = dnsbl_open(cfg, &d, err, sizeof(err));
		if (rc != c->rc)
			fail_msg("%s: got rc %d (%s), want %d", c->text, rc, err, c->rc);
		if (rc == 0 && (d != NULL) != c->on)
			fail_msg("%s: got on=%d, want %d", c->text, d != NULL, c->on);
		if (rc != 0 && strstr(err, c->err) == NULL)
			fail_msg("%s: got \"%s\", want \"%s\"", c->text, err, c->err);
		dnsbl_close(d);
		config_free(cfg);
	}
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_match),
	cmocka_unit_test(test_open),
)
