/*
 * test_envelope.c - envelope JSON round trip and rejection of bad JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "envelope.h"
#include "testlib.h"

#define ID	"01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1"
#define SHA	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
make(struct envelope *e)
{
	envelope_init(e);
	snprintf(e->id, sizeof(e->id), "%s", ID);
	snprintf(e->node, sizeof(e->node), "mx1");
	snprintf(e->sha256, sizeof(e->sha256), "%s", SHA);
	e->received_ms = 1732000000123LL;
	e->size = 4242;
	e->mail_from = strdup("");
	e->mail_params = strdup("SIZE=4242 BODY=8BITMIME");
	e->client_addr = strdup("192.0.2.1");
	e->client_name = strdup("mail.example.org");
	e->helo = strdup("mail.example.org \"quoted\" \\ é");
	e->tls = strdup("TLSv1.3 TLS_AES_256_GCM_SHA384");
	assert_int_equal(envelope_add_rcpt(e, "a@Example.TEST", "NOTIFY=FAILURE"), 0);
	assert_int_equal(envelope_add_rcpt(e, "b@example.test", NULL), 0);
}

static void
test_roundtrip(void **state)
{
	struct envelope	 e, g;
	char		*j, *j2, err[256];

	make(&e);
	j = envelope_to_json(&e);
	assert_non_null(j);
	assert_int_equal(envelope_from_json(j, strlen(j), &g, err, sizeof(err)), 0);
	assert_string_equal(g.id, ID);
	assert_string_equal(g.node, "mx1");
	assert_string_equal(g.sha256, SHA);
	assert_int_equal(g.received_ms, 1732000000123LL);
	assert_int_equal(g.size, 4242);
	assert_string_equal(g.mail_from, "");
	assert_string_equal(g.mail_params, "SIZE=4242 BODY=8BITMIME");
	assert_string_equal(g.helo, e.helo);
	assert_string_equal(g.tls, e.tls);
	assert_int_equal(g.nrcpts, 2);
	assert_string_equal(g.rcpts[0].addr, "a@Example.TEST");
	assert_string_equal(g.rcpts[0].params, "NOTIFY=FAILURE");
	assert_string_equal(g.rcpts[1].params, "");
	j2 = envelope_to_json(&g);
	assert_string_equal(j, j2);	/* stable form */
	free(j);
	free(j2);
	envelope_free(&g);
	envelope_free(&g);		/* idempotent */
	envelope_free(&e);
}

static void
test_bad_json(void **state)
{
	static const struct { const char *json; const char *want; } bad[] = {
		{ "", "bad JSON" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"v\":2}", "version" },
		{ "{\"v\":1}", "\"id\"" },
		{ "{\"v\":1,\"id\":5}", "\"id\" is not a string" },
		{ "{\"v\":1,\"id\":\"x\",\"node\":\"mx1\",\"sha256\":\"" SHA "\","
		  "\"received_ms\":1,\"size\":1,\"mail_from\":\"\",\"rcpts\":[{\"addr\":\"a@b\"}]}",
		  "not a message id" },
		{ "{\"v\":1,\"id\":\"" ID "\",\"node\":\"mx1\",\"sha256\":\"" SHA "\","
		  "\"received_ms\":-1,\"size\":1,\"mail_from\":\"\",\"rcpts\":[]}", "received_ms" },
		{ "{\"v\":1,\"id\":\"" ID "\",\"node\":\"mx1\",\"sha256\":\"" SHA "\","
		  "\"received_ms\":1,\"size\":1,\"mail_from\":\"\",\"rcpts\":[]}", "rcpts" },
		{ "{\"v\":1,\"id\":\"" ID "\",\"node\":\"mx1\",\"sha256\":\"" SHA "\","
		  "\"received_ms\":1,\"size\":1,\"mail_from\":\"\",\"rcpts\":[{\"addr\":3}]}",
		  "\"addr\" is not a string" },
		{ "{\"v\":1,\"id\":\"" ID "\",\"node\":\"mx1\",\"sha256\":\"xyz\","
		  "\"received_ms\":1,\"size\":1,\"mail_from\":\"\",\"rcpts\":[{\"addr\":\"a@b\"}]}",
		  "sha256" },
		{ "{\"v\":1,\"id\":\"" ID "\",\"node\":\"mx1\",\"sha256\":\"" SHA "\","
		  "\"received_ms\":1,\"size\":1,\"mail_from\":\"a\\u0000b\","
		  "\"rcpts\":[{\"addr\":\"a@b\"}]}", "NUL" },
		{ "{\"v\":1,\"v\":1}", "bad JSON" },
	};
	struct envelope	e;
	char		err[256];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (envelope_from_json(bad[i].json, strlen(bad[i].json), &e, err,
		    sizeof(err)) != -1)
			fail_msg("case %zu: got success, want error", i);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: got error \"%s\", want \"%s\"", i, err, bad[i].want);
		assert_null(e.rcpts);	/* nothing leaks out of a failed parse */
	}
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_roundtrip),
	cmocka_unit_test(test_bad_json),
)
