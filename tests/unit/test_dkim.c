/*
 * test_dkim.c - common/dkim.c: the canonicalization examples of RFC 6376 3.4.5,
 * the body hash fed in every chunking (streamed bodies split anywhere, even
 * between CR and LF), empty bodies (RFC 6376 3.4.3/3.4.4 and RFC 8463's erratum
 * example), header splitting with folded fields, tag lists and b= stripping.
 * The expected digests are computed here from the canonical text the RFC gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "dkim.h"
#include "testlib.h"

/* body_hash - our streamed digest of body fed in chunks of n bytes */
static void
body_hash(enum dkim_canon c, const char *body, size_t n, unsigned char out[32])
{
	struct dkim_body	b;
	size_t			len = strlen(body), o;

	assert_int_equal(dkim_body_init(&b, c), 0);
	for (o = 0; o < len; o += n)
		assert_int_equal(dkim_body_feed(&b, body + o, len - o < n ? len - o : n), 0);
	assert_int_equal(dkim_body_final(&b, out), 0);
}

/* want_hash - SHA-256 of the canonical text */
static void
want_hash(const char *canon, unsigned char out[32])
{
	assert_int_equal(EVP_Digest(canon, strlen(canon), out, NULL, EVP_sha256(), NULL), 1);
}

static const struct {
	enum dkim_canon	 c;
	const char	*in;
	const char	*want;
} body_cases[] = {
	/* RFC 6376 3.4.5 */
	{ DKIM_CANON_RELAXED, " C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n" },
	{ DKIM_CANON_SIMPLE, " C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n" },
	/* empty bodies: simple is CRLF, relaxed is empty (RFC 6376 errata 3133/5252) */
	{ DKIM_CANON_SIMPLE, "", "\r\n" },
	{ DKIM_CANON_RELAXED, "", "" },
	{ DKIM_CANON_RELAXED, "\r\n\r\n", "" },
	/* no final line end: one is added */
	{ DKIM_CANON_RELAXED, "a  b\t", "a b\r\n" },
	{ DKIM_CANON_SIMPLE, "a  b", "a  b\r\n" },
	/* whitespace-only lines in the middle stay as empty lines (relaxed) */
	{ DKIM_CANON_RELAXED, "x\r\n \t \r\ny\r\n", "x\r\n\r\ny\r\n" },
	/* a bare CR is content, not a line end */
	{ DKIM_CANON_RELAXED, "a\rb\r\n", "a\rb\r\n" },
};

static void
test_body(void **state)
{
	unsigned char	got[32], want[32];
	size_t		i, n;

	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		want_hash(body_cases[i].want, want);
		for (n = 1; n <= 8; n++) {	/* every split point, CR|LF included */
			body_hash(body_cases[i].c, body_cases[i].in, n, got);
			if (memcmp(got, want, 32) != 0)
				fail_msg("case %zu chunk %zu: got another digest than of \"%s\"", i,
				    n, body_cases[i].want);
		}
	}
}

static void
test_header(void **state)
{
	const char	 blk[] = "A: X\r\nB : Y\t\r\n\tZ  \r\nSubject:\r\n  folded  text \r\n";
	struct dkim_hdr	 h[4];
	struct buf	 b;

	assert_int_equal(dkim_split(blk, sizeof(blk) - 1, h, 4), 3);
	assert_true(dkim_hdr_is(&h[1], "b"));
	buf_init(&b, 1024);
	/* RFC 6376 3.4.5: "a:X" and "b:Y Z" */
	assert_int_equal(dkim_canon_header(&b, DKIM_CANON_RELAXED, h[0].raw, h[0].len), 0);
	assert_int_equal(dkim_canon_header(&b, DKIM_CANON_RELAXED, h[1].raw, h[1].len), 0);
	assert_int_equal(dkim_canon_header(&b, DKIM_CANON_RELAXED, h[2].raw, h[2].len), 0);
	buf_add(&b, "", 0);
	assert_string_equal(b.data, "a:Xb:Y Zsubject:folded text");
	buf_reset(&b);
	assert_int_equal(dkim_canon_header(&b, DKIM_CANON_SIMPLE, h[1].raw, h[1].len), 0);
	assert_int_equal(b.len, strlen("B : Y\t\r\n\tZ  "));
	buf_free(&b);
	/* a continuation before any field, or a line without a colon, does not parse */
	assert_int_equal(dkim_split(" x\r\n", 4, h, 4), -1);
	assert_int_equal(dkim_split("nocolon\r\n", 9, h, 4), -1);
	assert_int_equal(dkim_split("A: 1\r\nB: 2\r\n", 12, h, 1), -1);
}

static void
test_tags(void **state)
{
	const char	 sig[] = "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=x.test;\r\n"
			    "\tbh=ab c; b=AAAA\r\n\t BBBB==";
	char		 v[64];
	struct buf	 b;

	assert_int_equal(dkim_tag(sig + 9, strlen(sig + 9), "cv", v, sizeof(v), 1), 1);
	assert_string_equal(v, "pass");
	assert_int_equal(dkim_tag(sig + 9, strlen(sig + 9), "b", v, sizeof(v), 1), 1);
	assert_string_equal(v, "AAAABBBB==");
	assert_int_equal(dkim_tag(sig + 9, strlen(sig + 9), "bh", v, sizeof(v), 1), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(dkim_tag(sig + 9, strlen(sig + 9), "s", v, sizeof(v), 1), 0);
	assert_int_equal(dkim_tag(sig + 9, strlen(sig + 9), "d", v, 3, 1), -1);
	buf_init(&b, 1024);
	assert_int_equal(dkim_strip_b(&b, sig, strlen(sig)), 0);
	buf_add(&b, "", 0);
	/* only b='s value goes, bh= stays (RFC 6376 3.7) */
	assert_string_equal(b.data, "ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=x.test;\r\n"
	    "\tbh=ab c; b=");
	buf_free(&b);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_body),
	cmocka_unit_test(test_header),
	cmocka_unit_test(test_tags),
)
