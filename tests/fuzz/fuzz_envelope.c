/*
 * fuzz_envelope.c - libFuzzer harness for the envelope metadata reader: what
 * reindex and the spool flush read back from a bucket or a spool directory that
 * may have been tampered with (common/envelope.c envelope_from_json, and
 * common/store.c store_unb64 for the base64 "x-amz-meta-envelope" value).
 *
 * Input: byte 0 selects the path, the rest is the stored bytes:
 *   even: a sidecar "<id>.env.json" / spool ".env.json": JSON, read as
 *         reindex and the spool flush do (up to the first NUL, strlen);
 *         also given with its exact length (NUL bytes included);
 *   odd:  the metadata value (up to the first NUL, as a header value is):
 *         store_unb64, then the JSON it decodes to.
 * Beyond "no crash, no sanitizer report" it checks, when the input is
 * accepted: every field NUL-terminated within its bound, the id a message
 * id, sha256 64 lower-case hex, sizes non-negative, 1..SMTP_RCPT_MAX
 * recipients with non-empty addresses; and the round trip: envelope_to_json
 * of what was read parses again to the same envelope, and writes the same
 * JSON again.  A refusal always leaves an empty envelope and a reason.
 * Any violation abort()s.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "msgid.h"
#include "store_impl.h"

#define FZ_NAME "fuzz_envelope"
#include "fz.h"

/* the reader's bound on free-text fields (ENVELOPE_FIELD_MAX in envelope.c) */
#define FZ_FIELD_MAX	4096

/* fz_str - a malloc'd field: present, NUL-terminated within max */
static void
fz_str(const char *s, size_t max, const char *what)
{
	fz_check(s != NULL, what);
	fz_check(strnlen(s, max + 1) <= max, what);
}

/* fz_same - two envelopes hold the same values */
static void
fz_same(const struct envelope *a, const struct envelope *b)
{
	size_t	i;

	fz_check(strcmp(a->id, b->id) == 0 && strcmp(a->node, b->node) == 0 &&
	    strcmp(a->sha256, b->sha256) == 0, "round trip: id, node or sha256 differ");
	fz_check(a->received_ms == b->received_ms && a->size == b->size,
	    "round trip: received_ms or size differ");
	fz_check(strcmp(a->mail_from, b->mail_from) == 0 &&
	    strcmp(a->mail_params, b->mail_params) == 0 &&
	    strcmp(a->client_addr, b->client_addr) == 0 &&
	    strcmp(a->client_name, b->client_name) == 0 && strcmp(a->helo, b->helo) == 0 &&
	    strcmp(a->tls, b->tls) == 0, "round trip: a string field differs");
	fz_check(a->nrcpts == b->nrcpts, "round trip: recipient count differs");
	for (i = 0; i < a->nrcpts; i++)
		fz_check(strcmp(a->rcpts[i].addr, b->rcpts[i].addr) == 0 &&
		    strcmp(a->rcpts[i].params, b->rcpts[i].params) == 0,
		    "round trip: a recipient differs");
}

/* fz_read - envelope_from_json on [json, len); check what it gives */
static void
fz_read(const char *json, size_t len)
{
	struct envelope	 e, g;
	char		 err[ERRSTR_MAX], *j, *j2;
	size_t		 i;

	err[0] = '\0';
	if (envelope_from_json(json, len, &e, err, sizeof(err)) == -1) {
		fz_check(err[0] != '\0' && strnlen(err, sizeof(err)) < sizeof(err),
		    "refused without a reason");
		fz_check(e.nrcpts == 0 && e.rcpts == NULL && e.mail_from == NULL &&
		    e.helo == NULL && e.tls == NULL, "refused envelope not left empty");
		return;
	}
	fz_check(strnlen(e.id, sizeof(e.id)) < sizeof(e.id) && msgid_valid(e.id), "id");
	fz_check(strnlen(e.node, sizeof(e.node)) < sizeof(e.node), "node not terminated");
	fz_check(strlen(e.sha256) == 64 && strspn(e.sha256, "0123456789abcdef") == 64,
	    "sha256");
	fz_check(e.received_ms >= 0 && e.size >= 0, "negative received_ms or size");
	fz_str(e.mail_from, MXS_ADDR_MAX, "mail_from");
	fz_str(e.mail_params, FZ_FIELD_MAX, "mail_params");
	fz_str(e.client_addr, FZ_FIELD_MAX, "client_addr");
	fz_str(e.client_name, FZ_FIELD_MAX, "client_name");
	fz_str(e.helo, FZ_FIELD_MAX, "helo");
	fz_str(e.tls, FZ_FIELD_MAX, "tls");
	fz_check(e.nrcpts >= 1 && e.nrcpts <= SMTP_RCPT_MAX, "recipient count");
	for (i = 0; i < e.nrcpts; i++) {
		fz_str(e.rcpts[i].addr, MXS_ADDR_MAX, "rcpt addr");
		fz_check(e.rcpts[i].addr[0] != '\0', "empty rcpt addr");
		fz_str(e.rcpts[i].params, FZ_FIELD_MAX, "rcpt params");
	}
	/* what reindex would write back reads back the same */
	fz_check((j = envelope_to_json(&e)) != NULL, "envelope_to_json failed");
	fz_check(envelope_from_json(j, strlen(j), &g, err, sizeof(err)) == 0,
	    "round trip: the written JSON is refused");
	fz_same(&e, &g);
	fz_check((j2 = envelope_to_json(&g)) != NULL && strcmp(j, j2) == 0,
	    "round trip: JSON differs");
	free(j);
	free(j2);
	envelope_free(&g);
	envelope_free(&e);
	envelope_free(&e);	/* any number of times */
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - byte 0: even a sidecar, odd a metadata value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *json;
	size_t	 n;

	if (size < 1)
		return 0;
	/* an exact-size copy: a read past the stored bytes is a sanitizer report */
	n = size - 1;
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	if ((data[0] & 1) == 0) {
		fz_read(s, strlen(s));
		if (memchr(s, '\0', n) != NULL)
			fz_read(s, n);
	} else if ((json = store_unb64(s, &n)) != NULL) {
		fz_check(strlen(json) <= n && n <= strlen(s) / 4 * 3, "decoded length");
		fz_read(json, strlen(json));
		free(json);
	}
	free(s);
	return 0;
}
