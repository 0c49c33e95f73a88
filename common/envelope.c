/*
 * envelope.c - the envelope of a message and its JSON form (jansson).
 *
 * Entry points: envelope_init/free, envelope_add_rcpt, envelope_to_json,
 * envelope_from_json.  The JSON comes back from object metadata or a
 * sidecar object, so envelope_from_json() treats it as untrusted: every
 * field is type-checked and bounded, and a failure leaves the envelope
 * empty (freed) with a one-line reason in err.
 * Invariant: after envelope_init() every string pointer is NULL or malloc'd;
 * envelope_free() may be called any number of times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "envelope.h"
#include "msgid.h"

#define ENVELOPE_VERSION	1
/* bound on any one free-text field read back (client name, TLS, params) */
#define ENVELOPE_FIELD_MAX	4096

/* envelope_init - an empty envelope */
void
envelope_init(struct envelope *e)
{
	memset(e, 0, sizeof(*e));
}

/* envelope_free - release every string; leaves an empty envelope */
void
envelope_free(struct envelope *e)
{
	size_t	i;

	for (i = 0; i < e->nrcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].params);
	}
	free(e->rcpts);
	free(e->mail_from);
	free(e->mail_params);
	free(e->client_addr);
	free(e->client_name);
	free(e->helo);
	free(e->tls);
	envelope_init(e);
}

/* envelope_add_rcpt - append a copy of addr and params ("" if NULL) */
int
envelope_add_rcpt(struct envelope *e, const char *addr, const char *params)
{
	struct envelope_rcpt	*r;
	char			*a, *p;

	if (e->nrcpts >= SMTP_RCPT_MAX)
		return -1;
	r = realloc(e->rcpts, (e->nrcpts + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	e->rcpts = r;
	a = strdup(addr);
	p = strdup(params ? params : "");
	if (a == NULL || p == NULL) {
		free(a);
		free(p);
		return -1;
	}
	r[e->nrcpts].addr = a;
	r[e->nrcpts].params = p;
	e->nrcpts++;
	return 0;
}

/* nz - NULL strings are written as "" */
static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* envelope_set_auth - see envelope.h */
void
envelope_set_auth(struct envelope *e, const char *spf, const char *dkim, const char *dmarc,
    int quarantine)
{
	snprintf(e->auth_spf, sizeof(e->auth_spf), "%s", spf ? spf : e->auth_spf);
	snprintf(e->auth_dkim, sizeof(e->auth_dkim), "%s", dkim ? dkim : e->auth_dkim);
	snprintf(e->auth_dmarc, sizeof(e->auth_dmarc), "%s", dmarc ? dmarc : e->auth_dmarc);
	e->auth_quarantine = quarantine;
}

/* envelope_to_json - compact JSON in the documented form, malloc'd, or NULL */
char *
envelope_to_json(const struct envelope *e)
{
	json_t	*o, *rs, *r;
	char	*s = NULL;
	size_t	 i;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((rs = json_array()) == NULL)
		goto done;
	for (i = 0; i < e->nrcpts; i++) {
		r = json_pack("{s:s, s:s}", "addr", nz(e->rcpts[i].addr),
		    "params", nz(e->rcpts[i].params));
		if (r == NULL || json_array_append_new(rs, r) == -1) {
			json_decref(rs);
			goto done;
		}
	}
	if (json_object_set_new(o, "v", json_integer(ENVELOPE_VERSION)) == -1 ||
	    json_object_set_new(o, "id", json_string(e->id)) == -1 ||
	    json_object_set_new(o, "node", json_string(e->node)) == -1 ||
	    json_object_set_new(o, "received_ms", json_integer(e->received_ms)) == -1 ||
	    json_object_set_new(o, "size", json_integer(e->size)) == -1 ||
	    json_object_set_new(o, "sha256", json_string(e->sha256)) == -1 ||
	    json_object_set_new(o, "mail_from", json_string(nz(e->mail_from))) == -1 ||
	    json_object_set_new(o, "mail_params", json_string(nz(e->mail_params))) == -1 ||
	    json_object_set_new(o, "rcpts", rs) == -1 ||
	    json_object_set_new(o, "client_addr", json_string(nz(e->client_addr))) == -1 ||
	    json_object_set_new(o, "client_name", json_string(nz(e->client_name))) == -1 ||
	    json_object_set_new(o, "helo", json_string(nz(e->helo))) == -1 ||
	    json_object_set_new(o, "tls", json_string(nz(e->tls))) == -1)
		goto done;
	if (e->auth_spf[0] != '\0' && json_object_set_new(o, "auth", json_pack("{s:s, s:s, s:s, s:b}",
	    "spf", e->auth_spf, "dkim", e->auth_dkim, "dmarc", e->auth_dmarc, "quarantine",
	    e->auth_quarantine)) == -1)
		goto done;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
	json_decref(o);
	return s;
}

/* get_str - copy string member name of o (bounded); optional ones default to "" */
static int
get_str(json_t *o, const char *name, int required, size_t max, char **out,
    char *err, size_t errlen)
{
	json_t	*v;

	v = json_object_get(o, name);
	if (v == NULL) {
		if (required) {
			snprintf(err, errlen, "missing field \"%s\"", name);
			return -1;
		}
		*out = strdup("");
		goto check;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field \"%s\" is not a string", name);
		return -1;
	}
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(err, errlen, "field \"%s\" too long or contains NUL", name);
		return -1;
	}
	*out = strdup(json_string_value(v));
check:
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* get_fixed - copy a required string member into a fixed buffer */
static int
get_fixed(json_t *o, const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	char	*s;

	if (get_str(o, name, 1, outlen - 1, &s, err, errlen) == -1)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	free(s);
	return 0;
}

/* get_int - a required non-negative integer member */
static int
get_int(json_t *o, const char *name, int64_t *out, char *err, size_t errlen)
{
	json_t	*v;

	v = json_object_get(o, name);
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "field \"%s\" missing or not a non-negative integer", name);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* parse_auth - the optional "auth" object: the verdicts at ingest */
static int
parse_auth(json_t *o, struct envelope *e, char *err, size_t errlen)
{
	json_t	*a = json_object_get(o, "auth"), *q;

	if (a == NULL)
		return 0;
	if (!json_is_object(a) ||
	    get_fixed(a, "spf", e->auth_spf, sizeof(e->auth_spf), err, errlen) == -1 ||
	    get_fixed(a, "dkim", e->auth_dkim, sizeof(e->auth_dkim), err, errlen) == -1 ||
	    get_fixed(a, "dmarc", e->auth_dmarc, sizeof(e->auth_dmarc), err, errlen) == -1) {
		snprintf(err, errlen, "field \"auth\" is not {spf, dkim, dmarc, quarantine}");
		return -1;
	}
	q = json_object_get(a, "quarantine");
	e->auth_quarantine = q != NULL && json_is_true(q);
	return 0;
}

/* parse_rcpts - the "rcpts" array: at least one {addr, params} */
static int
parse_rcpts(json_t *o, struct envelope *e, char *err, size_t errlen)
{
	json_t	*rs, *r;
	char	*addr = NULL, *params = NULL;
	size_t	 i;

	rs = json_object_get(o, "rcpts");
	if (rs == NULL || !json_is_array(rs) || json_array_size(rs) == 0 ||
	    json_array_size(rs) > SMTP_RCPT_MAX) {
		snprintf(err, errlen, "field \"rcpts\" missing, empty or not an array");
		return -1;
	}
	json_array_foreach(rs, i, r) {
		if (!json_is_object(r)) {
			snprintf(err, errlen, "rcpts[%zu] is not an object", i);
			return -1;
		}
		if (get_str(r, "addr", 1, MXS_ADDR_MAX, &addr, err, errlen) == -1)
			return -1;
		if (get_str(r, "params", 0, ENVELOPE_FIELD_MAX, &params, err, errlen) == -1) {
			free(addr);
			return -1;
		}
		if (addr[0] == '\0' || envelope_add_rcpt(e, addr, params) == -1) {
			snprintf(err, errlen, "rcpts[%zu]: empty address or out of memory", i);
			free(addr);
			free(params);
			return -1;
		}
		free(addr);
		free(params);
	}
	return 0;
}

/* envelope_from_json - parse untrusted JSON into e; 0 ok, -1 with err */
int
envelope_from_json(const char *json, size_t len, struct envelope *e, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*o;
	int64_t		 v;
	int		 rc = -1;

	envelope_init(e);
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		snprintf(err, errlen, "bad JSON at line %d column %d: %s", jerr.line, jerr.column,
		    jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "envelope is not a JSON object");
		goto done;
	}
	if (get_int(o, "v", &v, err, errlen) == -1)
		goto done;
	if (v != ENVELOPE_VERSION) {
		snprintf(err, errlen, "unsupported envelope version %lld", (long long)v);
		goto done;
	}
	if (get_fixed(o, "id", e->id, sizeof(e->id), err, errlen) == -1 ||
	    get_fixed(o, "node", e->node, sizeof(e->node), err, errlen) == -1 ||
	    get_fixed(o, "sha256", e->sha256, sizeof(e->sha256), err, errlen) == -1 ||
	    get_int(o, "received_ms", &e->received_ms, err, errlen) == -1 ||
	    get_int(o, "size", &e->size, err, errlen) == -1 ||
	    get_str(o, "mail_from", 1, MXS_ADDR_MAX, &e->mail_from, err, errlen) == -1 ||
	    get_str(o, "mail_params", 0, ENVELOPE_FIELD_MAX, &e->mail_params, err, errlen) == -1 ||
	    get_str(o, "client_addr", 0, ENVELOPE_FIELD_MAX, &e->client_addr, err, errlen) == -1 ||
	    get_str(o, "client_name", 0, ENVELOPE_FIELD_MAX, &e->client_name, err, errlen) == -1 ||
	    get_str(o, "helo", 0, ENVELOPE_FIELD_MAX, &e->helo, err, errlen) == -1 ||
	    get_str(o, "tls", 0, ENVELOPE_FIELD_MAX, &e->tls, err, errlen) == -1 ||
	    parse_rcpts(o, e, err, errlen) == -1 || parse_auth(o, e, err, errlen) == -1)
		goto done;
	if (!msgid_valid(e->id)) {
		snprintf(err, errlen, "field \"id\" is not a message id");
		goto done;
	}
	if (strlen(e->sha256) != 64 || strspn(e->sha256, "0123456789abcdef") != 64) {
		snprintf(err, errlen, "field \"sha256\" is not 64 hex digits");
		goto done;
	}
	rc = 0;
done:
	json_decref(o);
	if (rc == -1)
		envelope_free(e);
	return rc;
}
