/*
 * test_spf.c - the limits and macros of common/spf.c at their edges, which the
 * RFC 7208 suite (tests/e2e/spf_suite.sh) touches only once or not at all:
 * 10 DNS-querying terms pass and 11 fail, 2 void lookups pass and 3 fail, 10
 * MX names pass and 11 fail, the 11th PTR name is ignored, include and
 * redirect loops end, exp-only macros (c, r, t) and %{p}, IPv4-mapped clients,
 * the deadline of a whole check.
 * DNS is a table (the real resolver is in tests/e2e/dns_resolver.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "spf.h"
#include "testlib.h"

struct zrr {
	const char	*name;
	enum dns_type	 type;
	const char	*value;		/* MX: the exchange (pref 10); TXT: the record */
};

static const struct zrr	*zone;
static size_t		 nzone;

/* zlookup - answer from the table: NXDOMAIN unless the name has records */
static enum dns_status
zlookup(void *arg, const char *name, enum dns_type t, struct dns_answer *ans)
{
	size_t	i;
	int	seen = 0;

	memset(ans, 0, sizeof(*ans));
	ans->rr = calloc(DNS_RR_MAX, sizeof(*ans->rr));
	for (i = 0; i < nzone; i++) {
		if (strcasecmp(zone[i].name, name) != 0)
			continue;
		seen = 1;
		if (zone[i].type != t)
			continue;
		struct dns_rr *rr = &ans->rr[ans->n++];
		switch (t) {
		case DNS_T_A:
			assert_int_equal(inet_pton(AF_INET, zone[i].value, &rr->a), 1);
			break;
		case DNS_T_AAAA:
			assert_int_equal(inet_pton(AF_INET6, zone[i].value, &rr->aaaa), 1);
			break;
		case DNS_T_TXT:
			rr->data = (unsigned char *)strdup(zone[i].value);
			rr->len = strlen(zone[i].value);
			break;
		default:
			rr->pref = 10;
			snprintf(rr->name, sizeof(rr->name), "%s", zone[i].value);
		}
	}
	if (ans->n > 0)
		return ans->status = DNS_OK;
	if (strncmp(name, "tempfail.", 9) == 0)
		return ans->status = DNS_TEMPFAIL;
	return ans->status = seen ? DNS_NODATA : DNS_NXDOMAIN;
}

struct scase {
	const char	*ip;
	const char	*domain;	/* MAIL FROM user@domain */
	const char	*want;
	const char	*exp;		/* the explanation wanted, when not NULL */
};

/* run - every case against the current zone */
static void
run(const struct zrr *z, size_t nz, const struct scase *c, size_t nc)
{
	struct spf_resolver	res = { zlookup, NULL };
	struct spf_request	req;
	struct spf_verdict	v;
	char			sender[300];
	size_t			i;

	zone = z;
	nzone = nz;
	for (i = 0; i < nc; i++) {
		memset(&req, 0, sizeof(req));
		assert_int_equal(spf_request_ip(&req, c[i].ip), 0);
		snprintf(sender, sizeof(sender), "user@%s", c[i].domain);
		req.sender = sender;
		req.helo = "helo.example.org";
		req.receiver = "mx2.example.net";
		req.now = 1234;
		spf_check(&res, &req, &v);
		if (strcmp(spf_result_name(v.result), c[i].want) != 0)
			fail_msg("%s from %s: got %s (%s), want %s", c[i].domain, c[i].ip,
			    spf_result_name(v.result), v.problem, c[i].want);
		if (c[i].exp != NULL && strcmp(v.explanation, c[i].exp) != 0)
			fail_msg("%s: explanation got \"%s\", want \"%s\"", c[i].domain,
			    v.explanation, c[i].exp);
	}
}

#define H(n) { "h" #n ".x.org", DNS_T_A, "192.0.2.99" }
static const struct zrr limits_zone[] = {
	H(1), H(2), H(3), H(4), H(5), H(6), H(7), H(8), H(9), H(10), H(11),
	{ "ten.x.org", DNS_T_TXT, "v=spf1 a:h1.x.org a:h2.x.org a:h3.x.org a:h4.x.org "
	    "a:h5.x.org a:h6.x.org a:h7.x.org a:h8.x.org a:h9.x.org a:h10.x.org "
	    "ip4:192.0.2.1 -all" },
	{ "eleven.x.org", DNS_T_TXT, "v=spf1 a:h1.x.org a:h2.x.org a:h3.x.org a:h4.x.org "
	    "a:h5.x.org a:h6.x.org a:h7.x.org a:h8.x.org a:h9.x.org a:h10.x.org "
	    "a:h11.x.org ip4:192.0.2.1 -all" },
	{ "void2.x.org", DNS_T_TXT, "v=spf1 a:n1.x.org exists:n2.x.org ip4:192.0.2.1 -all" },
	{ "void3.x.org", DNS_T_TXT, "v=spf1 a:n1.x.org exists:n2.x.org mx:n3.x.org "
	    "ip4:192.0.2.1 -all" },
	{ "loop.x.org", DNS_T_TXT, "v=spf1 include:loop.x.org -all" },
	{ "rloop.x.org", DNS_T_TXT, "v=spf1 redirect=rloop2.x.org" },
	{ "rloop2.x.org", DNS_T_TXT, "v=spf1 redirect=rloop.x.org" },
	{ "temp.x.org", DNS_T_TXT, "v=spf1 include:tempfail.x.org -all" },
	{ "mapped.x.org", DNS_T_TXT, "v=spf1 ip6:::ffff:0:0/96 ip4:192.0.2.1 ~all" },
};

static void
test_limits(void **state)
{
	static const struct scase cases[] = {
		{ "192.0.2.1", "ten.x.org", "pass", NULL },
		{ "192.0.2.1", "eleven.x.org", "permerror", NULL },
		{ "192.0.2.1", "void2.x.org", "pass", NULL },
		{ "192.0.2.1", "void3.x.org", "permerror", NULL },
		{ "192.0.2.1", "loop.x.org", "permerror", NULL },
		{ "192.0.2.1", "rloop.x.org", "permerror", NULL },
		{ "192.0.2.1", "temp.x.org", "temperror", NULL },
		{ "::ffff:192.0.2.1", "mapped.x.org", "pass", NULL },
		{ "::ffff:192.0.2.2", "mapped.x.org", "softfail", NULL },
	};

	run(limits_zone, sizeof(limits_zone) / sizeof(*limits_zone), cases,
	    sizeof(cases) / sizeof(*cases));
}

#define MX(d, n) { d, DNS_T_MX, "m" #n ".x.org" }, { "m" #n ".x.org", DNS_T_A, "192.0.2." #n }
static const struct zrr mx_zone[] = {
	MX("mx10.x.org", 1), MX("mx10.x.org", 2), MX("mx10.x.org", 3), MX("mx10.x.org", 4),
	MX("mx10.x.org", 5), MX("mx10.x.org", 6), MX("mx10.x.org", 7), MX("mx10.x.org", 8),
	MX("mx10.x.org", 9), MX("mx10.x.org", 10),
	{ "mx11.x.org", DNS_T_MX, "m1.x.org" }, { "mx11.x.org", DNS_T_MX, "m2.x.org" },
	{ "mx11.x.org", DNS_T_MX, "m3.x.org" }, { "mx11.x.org", DNS_T_MX, "m4.x.org" },
	{ "mx11.x.org", DNS_T_MX, "m5.x.org" }, { "mx11.x.org", DNS_T_MX, "m6.x.org" },
	{ "mx11.x.org", DNS_T_MX, "m7.x.org" }, { "mx11.x.org", DNS_T_MX, "m8.x.org" },
	{ "mx11.x.org", DNS_T_MX, "m9.x.org" }, { "mx11.x.org", DNS_T_MX, "m10.x.org" },
	{ "mx11.x.org", DNS_T_MX, "m11.x.org" },
	{ "mx10.x.org", DNS_T_TXT, "v=spf1 mx -all" },
	{ "mx11.x.org", DNS_T_TXT, "v=spf1 mx -all" },
};

static void
test_mx(void **state)
{
	static const struct scase cases[] = {
		{ "192.0.2.10", "mx10.x.org", "pass", NULL },
		{ "192.0.2.11", "mx10.x.org", "fail", NULL },
		{ "192.0.2.1", "mx11.x.org", "permerror", NULL },
	};

	run(mx_zone, sizeof(mx_zone) / sizeof(*mx_zone), cases, sizeof(cases) / sizeof(*cases));
}

#define P(n) { "5.2.0.192.in-addr.arpa", DNS_T_PTR, "p" #n ".other.org" }, \
	{ "p" #n ".other.org", DNS_T_A, "192.0.2.5" }
static const struct zrr ptr_zone[] = {
	P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9),
	{ "5.2.0.192.in-addr.arpa", DNS_T_PTR, "host.ptr.x.org" },
	{ "5.2.0.192.in-addr.arpa", DNS_T_PTR, "host.late.x.org" },
	{ "host.ptr.x.org", DNS_T_A, "192.0.2.5" },
	{ "host.late.x.org", DNS_T_A, "192.0.2.5" },
	{ "ptr.x.org", DNS_T_TXT, "v=spf1 ptr -all" },
	{ "late.x.org", DNS_T_TXT, "v=spf1 ptr -all" },
	{ "pmacro.x.org", DNS_T_TXT, "v=spf1 exists:%{p}.ok.x.org -all" },
	{ "p1.other.org.ok.x.org", DNS_T_A, "127.0.0.2" },
	{ "exp.x.org", DNS_T_TXT, "v=spf1 -all exp=e.x.org" },
	{ "e.x.org", DNS_T_TXT, "%{c} %{r} %{t} %{v} %{i} %{L} %{o}" },
	{ "defexp.x.org", DNS_T_TXT, "v=spf1 -all exp=nothere.x.org" },
	{ "d0.x.org", DNS_T_TXT, "v=spf1 exists:%{d0}.x.org ?all" },
	{ "d1.x.org", DNS_T_TXT, "v=spf1 exists:%{d1}.ok.x.org -all" },
	{ "org.ok.x.org", DNS_T_A, "127.0.0.2" },
};

static void
test_ptr_and_macros(void **state)
{
	static const struct scase cases[] = {
		/* the 10th PTR name validates; the 11th is ignored (4.6.4) */
		{ "192.0.2.5", "ptr.x.org", "pass", NULL },
		{ "192.0.2.5", "late.x.org", "fail", NULL },
		{ "192.0.2.6", "ptr.x.org", "fail", NULL },
		/* %{p}: p1..p9 validate but are not under pmacro.x.org; the first one
		 * validated is used then: exists:p1.other.org.ok.x.org */
		{ "192.0.2.5", "pmacro.x.org", "pass", NULL },
		{ "192.0.2.6", "pmacro.x.org", "fail", NULL },
		{ "2001:db8::1", "exp.x.org", "fail", "2001:db8::1 mx2.example.net 1234 ip6 "
		    "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1 user "
		    "exp.x.org" },
		{ "192.0.2.7", "exp.x.org", "fail", "192.0.2.7 mx2.example.net 1234 in-addr "
		    "192.0.2.7 user exp.x.org" },
		/* 7.1: a DIGIT transformer of zero is a syntax error */
		{ "192.0.2.7", "d0.x.org", "permerror", NULL },
		{ "192.0.2.7", "d1.x.org", "pass", NULL },
		{ "192.0.2.7", "defexp.x.org", "fail",
		    "SPF fail: 192.0.2.7 is not allowed to send mail for defexp.x.org" },
	};

	run(ptr_zone, sizeof(ptr_zone) / sizeof(*ptr_zone), cases,
	    sizeof(cases) / sizeof(*cases));
}

/* slowlookup - the table, 60 ms a question */
static enum dns_status
slowlookup(void *arg, const char *name, enum dns_type t, struct dns_answer *ans)
{
	struct timespec	ts = { 0, 60 * 1000000L };

	nanosleep(&ts, NULL);
	return zlookup(arg, name, t, ans);
}

static void
test_deadline(void **state)
{
	static const struct zrr z[] = {
		H(1), H(2), H(3), H(4),
		{ "slow.x.org", DNS_T_TXT, "v=spf1 a:h1.x.org a:h2.x.org a:h3.x.org a:h4.x.org "
		    "ip4:192.0.2.1 -all" },
	};
	struct spf_resolver	res = { slowlookup, NULL };
	struct spf_request	req;
	struct spf_verdict	v;

	zone = z;
	nzone = sizeof(z) / sizeof(*z);
	memset(&req, 0, sizeof(req));
	assert_int_equal(spf_request_ip(&req, "192.0.2.1"), 0);
	req.sender = "user@slow.x.org";
	req.helo = "helo.example.org";
	/* 5 questions of 60 ms each: the third starts after 100 ms, so none does */
	req.timeout_ms = 100;
	assert_int_equal(spf_check(&res, &req, &v), SPF_TEMPERROR);
	/* no check deadline: the same check ends */
	req.timeout_ms = 0;
	assert_int_equal(spf_check(&res, &req, &v), SPF_PASS);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_limits),
	cmocka_unit_test(test_mx),
	cmocka_unit_test(test_ptr_and_macros),
	cmocka_unit_test(test_deadline),
)
