/*
 * test_mailaddr.c - RFC 5321 paths and ESMTP parameters (common/mailaddr.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mailaddr.h"
#include "testlib.h"

struct path_case {
	const char	*in;
	int		 allow_null, utf8;
	int		 want;		/* enum mailaddr_status */
	const char	*addr;		/* wire form */
	const char	*unquoted;
	const char	*rest;		/* what follows '>' */
};

static const struct path_case paths[] = {
	{ "<alice@example.test>", 0, 0, MAILADDR_OK, "alice@example.test", "alice@example.test",
	  "" },
	{ "<alice@example.test> SIZE=1", 0, 0, MAILADDR_OK, "alice@example.test", NULL, " SIZE=1" },
	{ "<>", 1, 0, MAILADDR_OK, "", "", "" },
	/* source routes are dropped: only the final mailbox counts */
	{ "<@relay.test:alice@example.test>", 0, 0, MAILADDR_OK, "alice@example.test", NULL, "" },
	{ "<@a.test,@b.test:bob@other.test>", 0, 0, MAILADDR_OK, "bob@other.test", NULL, "" },
	/* quoted local parts: wire form kept, unquoted for verification */
	{ "<\"john doe\"@example.test>", 0, 0, MAILADDR_OK, "\"john doe\"@example.test",
	  "john doe@example.test", "" },
	{ "<\"a@b.test\"@example.test>", 0, 0, MAILADDR_OK, "\"a@b.test\"@example.test",
	  "a@b.test@example.test", "" },
	{ "<\"a\\\"b\"@example.test>", 0, 0, MAILADDR_OK, "\"a\\\"b\"@example.test",
	  "a\"b@example.test", "" },
	{ "<\"a>b\"@example.test>", 0, 0, MAILADDR_OK, "\"a>b\"@example.test", NULL, "" },
	/* '%' and '!' are atext: parsed, refused later by the verifier */
	{ "<a%b.test@example.test>", 0, 0, MAILADDR_OK, "a%b.test@example.test", NULL, "" },
	{ "<b.test!a@example.test>", 0, 0, MAILADDR_OK, "b.test!a@example.test", NULL, "" },
	{ "<a@[192.0.2.1]>", 0, 0, MAILADDR_OK, "a@[192.0.2.1]", NULL, "" },
	{ "<a@[IPv6:2001:db8::1]>", 0, 0, MAILADDR_OK, "a@[IPv6:2001:db8::1]", NULL, "" },
	{ "<@[192.0.2.9]:a@[ipv6:::1]>", 0, 0, MAILADDR_OK, "a@[ipv6:::1]", NULL, "" },
	/* UTF-8 only with SMTPUTF8 (without: syntax_errors); invalid UTF-8 never */
	{ "<b\xc3\xb8@\xc3\xa9x.test>", 0, 1, MAILADDR_OK, "b\xc3\xb8@\xc3\xa9x.test", NULL, "" },
	{ "<b\xc3@example.test>", 0, 1, MAILADDR_SYNTAX, NULL, NULL, NULL },
	{ "<b\xc0\x80@example.test>", 0, 1, MAILADDR_SYNTAX, NULL, NULL, NULL },
	/* RFC 5321 4.5.3.1: local part 64 */
	{ "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.test>", 0, 0,
	  MAILADDR_OK, NULL, NULL, "" },
	{ "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.test>", 0, 0,
	  MAILADDR_TOOLONG, NULL, NULL, NULL },
};

/* refused as MAILADDR_SYNTAX, the null path not allowed, without SMTPUTF8 */
static const char *const syntax_errors[] = {
	"<>", "alice@example.test", "<alice>", "<alice@>", "<a..b@example.test>",
	"<.a@example.test>", "<a.@example.test>", "<a@-example.test>", "<a@example-.test>",
	"<a@example..test>", "<a@ex ample.test>", "<a b@example.test>", "<a@example.test",
	/* one source route only, ended by ':' */
	"<@a.test:@b.test:bob@other.test>", "<@:bob@other.test>",
	"<\"unterminated@example.test>",
	/* only IPv4 and IPv6 literals: a General-address-literal could carry '<' '"' '@' */
	"<a@[IP<a@d\"c@es:::2]>", "<a@[x-tag:stuff]>", "<a@[300.0.0.1]>", "<a@[]>",
	"<b\xc3\xb8@example.test>",
};

static void
test_paths(void **state)
{
	struct mailaddr	 m;
	const char	*end, *why;
	size_t		 i;
	int		 r;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct path_case *c = &paths[i];

		r = mailaddr_parse_path(c->in, c->allow_null, c->utf8, &m, &end, &why);
		if (r != c->want)
			fail_msg("%s: got status %d, want %d (%s)", c->in, r, c->want, why);
		if (r != MAILADDR_OK)
			continue;
		if (c->addr != NULL && strcmp(m.addr, c->addr) != 0)
			fail_msg("%s: got addr %s, want %s", c->in, m.addr, c->addr);
		if (c->unquoted != NULL && strcmp(m.unquoted, c->unquoted) != 0)
			fail_msg("%s: got unquoted %s, want %s", c->in, m.unquoted, c->unquoted);
		if (c->rest != NULL && strcmp(end, c->rest) != 0)
			fail_msg("%s: got rest \"%s\", want \"%s\"", c->in, end, c->rest);
	}
	for (i = 0; i < sizeof(syntax_errors) / sizeof(syntax_errors[0]); i++) {
		r = mailaddr_parse_path(syntax_errors[i], 0, 0, &m, &end, &why);
		if (r != MAILADDR_SYNTAX)
			fail_msg("%s: got status %d, want %d", syntax_errors[i], r,
			    MAILADDR_SYNTAX);
	}
}

static void
test_long_domain(void **state)
{
	char		 in[400];
	struct mailaddr	 m;
	const char	*end, *why;

	/* 250 octets of domain in 63-octet labels, path over 256 octets */
	memset(in, 0, sizeof(in));
	memcpy(in, "<aaaaaaaaaa@", 12);
	for (int i = 0; i < 4; i++) {
		memset(in + 12 + i * 64, 'b', 63);
		in[12 + i * 64 + 63] = '.';
	}
	memcpy(in + 12 + 4 * 64, "test>", 5);
	assert_int_not_equal(mailaddr_parse_path(in, 0, 0, &m, &end, &why), MAILADDR_OK);
}

static void
test_size(void **state)
{
	long long v = -1;

	assert_int_equal(mailaddr_size_parse("12345", 100000, &v), 1);
	assert_int_equal(v, 12345);
	assert_int_equal(mailaddr_size_parse("100001", 100000, &v), 0);
	assert_int_equal(mailaddr_size_parse("99999999999999999999999", 100000, &v), 0);
	assert_int_equal(mailaddr_size_parse("18446744073709551617", 1LL << 62, &v), 0);
	assert_int_equal(mailaddr_size_parse("9223372036854775807", 1LL << 62, &v), 0);
	assert_int_equal(mailaddr_size_parse("", 100, &v), -1);
	assert_int_equal(mailaddr_size_parse("-1", 100, &v), -1);
	assert_int_equal(mailaddr_size_parse("1k", 100, &v), -1);
	assert_int_equal(mailaddr_size_parse("0", 100, &v), 1);
	assert_int_equal(v, 0);
}

static void
test_dsn(void **state)
{
	assert_true(mailaddr_xtext_valid("abc+2Bdef"));
	assert_false(mailaddr_xtext_valid("a+2b"));
	assert_false(mailaddr_xtext_valid("a+2"));
	assert_false(mailaddr_xtext_valid("a=b"));
	assert_false(mailaddr_xtext_valid("a b"));
	assert_true(mailaddr_notify_valid("NEVER"));
	assert_true(mailaddr_notify_valid("success,failure,delay"));
	assert_false(mailaddr_notify_valid("NEVER,SUCCESS"));
	assert_false(mailaddr_notify_valid("SUCCESS,SUCCESS"));
	assert_false(mailaddr_notify_valid("SUCCESS,"));
	assert_false(mailaddr_notify_valid("SOMETIMES"));
	assert_true(mailaddr_orcpt_valid("rfc822;alice@example.test"));
	assert_true(mailaddr_orcpt_valid("RFC822;a+2Bb@example.test"));
	assert_true(mailaddr_orcpt_valid("utf-8;\xc3\xa5@example.test"));
	assert_false(mailaddr_orcpt_valid("alice@example.test"));
	assert_false(mailaddr_orcpt_valid("x400;foo"));
	assert_false(mailaddr_orcpt_valid("rfc822;"));
}

static void
test_params(void **state)
{
	const char	*p = " SIZE=100  body=8BITMIME SMTPUTF8";
	char		 k[32], v[64];
	int		 hv;

	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), 1);
	assert_string_equal(k, "SIZE");
	assert_string_equal(v, "100");
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), 1);
	assert_string_equal(k, "BODY");
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), 1);
	assert_string_equal(k, "SMTPUTF8");
	assert_int_equal(hv, 0);
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), 0);
	p = "SIZE=";
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), -1);
	p = "=x";
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), -1);
	p = "A=b=c";
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), -1);
	p = "ENVID=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	assert_int_equal(mailaddr_next_param(&p, k, sizeof(k), v, sizeof(v), &hv), -1);
}

/* the lookup form of a domain: lower-case A-labels, no final dot */
static void
test_domain_ascii(void **state)
{
	static const struct { const char *in, *want; } ok[] = {
		{ "Example.TEST.", "example.test" },
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "B\xc3\x9c" "CHER.Example.", "xn--bcher-kva.example" },	/* UTS #46 folds case */
		{ "XN--BCHER-KVA.example", "xn--bcher-kva.example" },
		{ "fa\xc3\x9f.de", "xn--fa-hia.de" },	/* non-transitional: not "fass.de" */
	};
	static const char *const bad[] = { "", ".", "b\xff.example", "a\xc3.example",
	    "mx-1.ex\x01", "a b.example", "b\xc3\xbc" "cher\x7f.example" };
	char	out[MXS_DOMAIN_MAX + 1], small[8];
	size_t	i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(mailaddr_domain_ascii(ok[i].in, out, sizeof(out)), 0);
		assert_string_equal(out, ok[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mailaddr_domain_ascii(bad[i], out, sizeof(out)), -1);
	assert_int_equal(mailaddr_domain_ascii("example.test", small, sizeof(small)), -1);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_paths),
	cmocka_unit_test(test_long_domain),
	cmocka_unit_test(test_size),
	cmocka_unit_test(test_dsn),
	cmocka_unit_test(test_params),
	cmocka_unit_test(test_domain_ascii),
)
