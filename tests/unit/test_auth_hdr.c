/*
 * test_auth_hdr.c - ingest/auth_hdr.c: the From: domain, the incoming
 * Authentication-Results: that claim our authserv-id (and their offsets), fed
 * whole and byte by byte, and our Authentication-Results: field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth_impl.h"
#include "testlib.h"

/* scan - run the scanner over msg, whole or one byte at a time */
static void
scan(const char *msg, int bytewise, struct auth_scan *sc, struct auth_verdict *v)
{
	size_t i, n = strlen(msg);

	memset(v, 0, sizeof(*v));
	auth_scan_init(sc, v, "mx.test");
	if (bytewise)
		for (i = 0; i < n; i++)
			auth_scan_run(sc, (const unsigned char *)msg + i, 1);
	else
		auth_scan_run(sc, (const unsigned char *)msg, n);
	auth_scan_finish(sc);
}

/* from_of - the From: domain the scanner finds in a one-field header */
static void
from_is(const char *field, const char *want)
{
	char			 msg[512];
	struct auth_scan	 sc;
	struct auth_verdict	 v;
	int			 b;

	snprintf(msg, sizeof(msg), "Subject: x\r\n%s\r\n\r\nbody\r\n", field);
	for (b = 0; b < 2; b++) {
		scan(msg, b, &sc, &v);
		if (strcmp(sc.from, want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\" (bytewise %d)", field, sc.from, want, b);
		auth_verdict_free(&v);
	}
}

static void
test_from_domain(void **state)
{
	from_is("From: a@Example.COM", "example.com");
	from_is("From: \"Name, Jr\" <a@sender.example>", "sender.example");
	from_is("From: (x@evil.example) <a@good.example>", "good.example");
	from_is("From: \"a@evil.example\"@real.example", "real.example");
	from_is("From: Name\r\n <a@folded.example>", "folded.example");
	from_is("From: a@one.example, b@two.example", "");	/* two authors: no single domain */
	from_is("From: undisclosed", "");
	from_is("From: a@bad..example", "");
}

static void
test_two_from_fields(void **state)
{
	struct auth_scan	sc;
	struct auth_verdict	v;

	scan("From: a@one.example\r\nFrom: b@two.example\r\n\r\n", 0, &sc, &v);
	assert_int_equal(sc.nfrom, 2);
	assert_string_equal(sc.from, "");
	auth_verdict_free(&v);
}

static void
test_forged(void **state)
{
	static const char msg[] =
	    "Authentication-Results: mx.test; spf=pass\r\n"		/* ours */
	    "authentication-results:\r\n (c) MX.TEST; dkim=pass\r\n"	/* ours, folded */
	    "Authentication-Results: mx.test.evil; spf=pass\r\n"	/* another id */
	    "Authentication-Results: other.example; spf=pass\r\n"
	    "X-Authentication-Results: mx.test; spf=pass\r\n"		/* another field */
	    "Authentication-Results:mx.test\r\n"			/* ours, no space */
	    "\r\n"
	    "Authentication-Results: mx.test; in the body\r\n";
	struct auth_scan	sc;
	struct auth_verdict	v;
	off_t			second = strstr(msg, "authentication-results:") - msg;
	off_t			third = strstr(msg, "Authentication-Results:mx.test") - msg;
	int			b;

	for (b = 0; b < 2; b++) {
		scan(msg, b, &sc, &v);
		assert_int_equal(v.nforged, 3);
		assert_int_equal(v.forged[0], 0);
		assert_int_equal(v.forged[1], second);
		assert_int_equal(v.forged[2], third);
		auth_verdict_free(&v);
	}
}

static void
test_header(void **state)
{
	struct auth_verdict v;

	memset(&v, 0, sizeof(v));
	v.spf = SPF_PASS;
	snprintf(v.spf_id, sizeof(v.spf_id), "a@sender.example");
	v.nsig = 2;
	v.sig[0].result = "pass";
	snprintf(v.sig[0].domain, sizeof(v.sig[0].domain), "sender.example");
	snprintf(v.sig[0].selector, sizeof(v.sig[0].selector), "s1");
	snprintf(v.sig[0].b, sizeof(v.sig[0].b), "AbC+/dEf");
	v.sig[1].result = "fail";
	snprintf(v.sig[1].why, sizeof(v.sig[1].why), "body hash did not verify");
	snprintf(v.sig[1].domain, sizeof(v.sig[1].domain), "esp.example");
	snprintf(v.sig[1].selector, sizeof(v.sig[1].selector), "k");
	v.dmarc = "pass";
	snprintf(v.dmarc_p, sizeof(v.dmarc_p), "reject");
	snprintf(v.from_domain, sizeof(v.from_domain), "sender.example");
	auth_header(&v, "mx.test");
	assert_string_equal(v.header,
	    "Authentication-Results: mx.test;\r\n"
	    "\tspf=pass smtp.mailfrom=a@sender.example;\r\n"
	    "\tdkim=pass header.d=sender.example header.s=s1 header.b=\"AbC+/dEf\";\r\n"
	    "\tdkim=fail (body hash did not verify) header.d=esp.example header.s=k;\r\n"
	    "\tdmarc=pass (p=reject) header.from=sender.example\r\n");
	assert_int_equal(v.headerlen, strlen(v.header));
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_from_domain),
	cmocka_unit_test(test_two_from_fields),
	cmocka_unit_test(test_forged),
	cmocka_unit_test(test_header),
)
