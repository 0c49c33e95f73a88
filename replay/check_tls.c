/*
 * check_tls.c - readiness areas "TLS" and "Primary".
 *
 * Entry points: check_tls() connects to this gateway's SMTP listener as a
 * sending MTA would (EHLO, STARTTLS) and checks the certificate it serves:
 * valid for the [ingest] hostname ("tls_name"), chaining to [check] ca_file
 * or the system CAs ("tls_chain"), not expiring within CHECK_CERT_DAYS days
 * ("tls_expiry"; FAIL inside: renewal must happen before an outage finds it);
 * it keeps the certificate for check_dane() (check_dane.c).  check_primary() asks each
 * [routes] target for EHLO: WARN at most, the primary is down in an outage.
 * The SMTP conversation is the one client's (common/smtpc.h: connect,
 * EHLO, STARTTLS; deliver.h for the primary): every step bounded by
 * [check] timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "route.h"
#include "dns.h"
#include "deliver.h"
#include "smtpc.h"
#include "check.h"

#define CHECK_CERT_DAYS	21	/* renew before this; Let's Encrypt renews at 30 */

/* check_listen_addr - [check] connect, else the first [ingest] listen; wildcard -> loopback */
int
check_listen_addr(const struct config *cfg, struct deliver_route *r)
{
	const char	*v = config_str(cfg, "check", "connect", NULL);
	char		 first[300], spec[320];
	size_t		 n;

	if (v == NULL)
		v = config_str(cfg, "ingest", "listen", "0.0.0.0:25");
	v += strspn(v, " \t");
	n = strcspn(v, ", \t");
	if (n == 0 || n >= sizeof(first))
		return -1;
	memcpy(first, v, n);
	first[n] = '\0';
	if (strncmp(first, "0.0.0.0:", 8) == 0)
		snprintf(spec, sizeof(spec), "smtp://127.0.0.1:%s", first + 8);
	else if (strncmp(first, "[::]:", 5) == 0)
		snprintf(spec, sizeof(spec), "smtp://[::1]:%s", first + 5);
	else
		snprintf(spec, sizeof(spec), "smtp://%s", first);
	return route_parse(spec, r);
}

/* check_starttls - connect, EHLO, STARTTLS, handshake without verifying; 0 or -1 (why) */
static int
check_starttls(struct check_ctx *cx, struct smtpc *io, const struct deliver_route *rt)
{
	struct smtpc_reply	r;
	int			rc = -1, t = cx->timeout * 1000;

	smtpc_reply_init(&r);
	if (smtpc_open(io, &r, rt, NULL, cx->hostname, t, t) == -1)
		goto out;
	if (!(io->caps & SMTPC_CAP_STARTTLS)) {
		snprintf(io->why, sizeof(io->why), "EHLO reply does not offer STARTTLS");
		goto out;
	}
	if (smtpc_starttls(io, &r, cx->hostname, 0, NULL, t) != 0)
		goto out;
	rc = 0;
out:
	smtpc_reply_free(&r);
	return rc;
}

/* check_cert_chain - verify cert + the peer's chain against the CA bundle; 0 or -1 (why) */
static int
check_cert_chain(struct check_ctx *cx, X509 *cert, STACK_OF(X509) *chain, char *why,
    size_t whylen)
{
	X509_STORE	*st = X509_STORE_new();
	X509_STORE_CTX	*sc = X509_STORE_CTX_new();
	int		 rc = -1;

	if (st == NULL || sc == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (cx->ca_file ? X509_STORE_load_file(st, cx->ca_file) != 1 :
	    X509_STORE_set_default_paths(st) != 1) {
		snprintf(why, whylen, "cannot load the CA bundle %s", cx->ca_file ? cx->ca_file :
		    "(system default)");
		goto out;
	}
	if (X509_STORE_CTX_init(sc, st, cert, chain) != 1)
		goto out;
	if (X509_verify_cert(sc) == 1)
		rc = 0;
	else
		snprintf(why, whylen, "%s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(sc)));
out:
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	return rc;
}

/* check_cert_keep - the DER certificate and public key for check_dane() */
static void
check_cert_keep(struct check_ctx *cx, X509 *cert)
{
	unsigned char	*p = NULL, *q;
	int		 n;

	if ((n = i2d_X509(cert, &p)) > 0) {
		cx->cert_der = p;
		cx->cert_len = (size_t)n;
	}
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), NULL);
	if (n > 0 && (size_t)n <= sizeof(cx->spki_der)) {
		q = cx->spki_der;
		cx->spki_len = (size_t)i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &q);
	}
}

/* check_cert - the three certificate checks */
static void
check_cert(struct check_ctx *cx, X509 *cert, STACK_OF(X509) *chain, const char *where)
{
	char		 subj[256], why[ERRSTR_MAX], fix[CHECK_EVIDENCE_MAX];
	const ASN1_TIME	*na = X509_get0_notAfter(cert);
	int		 days = 0, secs = 0;
	BIO		*b = BIO_new(BIO_s_mem());
	char		 exp[64] = "?";

	X509_NAME_oneline(X509_get_subject_name(cert), subj, sizeof(subj));
	if (b && ASN1_TIME_print(b, na) == 1)
		exp[BIO_read(b, exp, sizeof(exp) - 1) > 0 ? strcspn(exp, "\n") : 0] = '\0';
	BIO_free(b);
	snprintf(fix, sizeof(fix), "install a certificate whose subjectAltName includes %s "
	    "([ingest] tls_cert): senders verifying MTA-STS or DANE refuse this one",
	    cx->hostname);
	if (X509_check_host(cert, cx->hostname, 0, 0, NULL) == 1)
		check_add(cx, "tls_name", NULL, CHECK_PASS, NULL, "%s serves %s, valid for %s",
		    where, subj, cx->hostname);
	else
		check_add(cx, "tls_name", NULL, CHECK_FAIL, fix, "%s serves %s: not valid for %s",
		    where, subj, cx->hostname);
	if (check_cert_chain(cx, cert, chain, why, sizeof(why)) == 0)
		check_add(cx, "tls_chain", NULL, CHECK_PASS, NULL, "chains to %s",
		    cx->ca_file ? cx->ca_file : "the system CAs");
	else
		check_add(cx, "tls_chain", NULL, CHECK_FAIL, "serve the full chain (certificate "
		    "then intermediates in [ingest] tls_cert) from a CA senders trust",
		    "does not chain to %s: %s", cx->ca_file ? cx->ca_file : "the system CAs",
		    why);
	if (ASN1_TIME_diff(&days, &secs, NULL, na) != 1)
		days = secs = -1;
	if (days < CHECK_CERT_DAYS)
		check_add(cx, "tls_expiry", NULL, CHECK_FAIL, "renew the certificate now and "
		    "reload the ingest (kill -HUP)", "expires %s: %s (less than %d days)", exp,
		    days < 0 || secs < 0 ? "already expired" : "soon", CHECK_CERT_DAYS);
	else
		check_add(cx, "tls_expiry", NULL, CHECK_PASS, NULL, "expires %s, in %d days", exp,
		    days);
}

void
check_tls(struct check_ctx *cx)
{
	struct deliver_route	rt;
	struct smtpc		io;
	struct smtpc_reply	r;
	X509			*cert;

	if (check_listen_addr(cx->cfg, &rt) != 0) {
		check_add(cx, "tls", NULL, CHECK_FAIL, "set [check] connect = HOST:PORT of this "
		    "gateway's SMTP listener", "cannot tell where this gateway listens");
		return;
	}
	smtpc_init(&io);
	smtpc_reply_init(&r);
	if (check_starttls(cx, &io, &rt) == -1) {
		check_add(cx, "tls", NULL, CHECK_FAIL, "start the ingest with [ingest] tls_cert "
		    "and tls_key; senders enforcing MTA-STS or DANE need STARTTLS",
		    "%s: %s", rt.target, io.why);
		smtpc_close(&io, 0);
		smtpc_reply_free(&r);
		return;
	}
	check_add(cx, "tls", NULL, CHECK_PASS, NULL, "%s: STARTTLS %s", rt.target, io.tls_info);
	if ((cert = SSL_get1_peer_certificate(io.ssl)) != NULL) {
		check_cert(cx, cert, SSL_get_peer_cert_chain(io.ssl), rt.target);
		check_cert_keep(cx, cert);
		X509_free(cert);
	}
	smtpc_quit(&io, &r, cx->timeout * 1000);
	smtpc_reply_free(&r);
}

/* check_route_cb - config_foreach over [routes]: EHLO each target once */
static void
check_route_cb(const char *key, const char *val, void *arg)
{
	struct check_ctx	*cx = arg;
	struct deliver_route	 rt;
	struct deliver_opts	 o;
	struct deliver_conn	*conn;
	char			 err[ERRSTR_MAX];
	int			 code = 0;

	if (route_parse(val, &rt) != 0) {
		check_add(cx, "primary", NULL, CHECK_WARN, "fix the [routes] entry",
		    "[routes] %s = %s: not a route", key, val);
		return;
	}
	deliver_opts_load(cx->cfg, &o);
	o.tls = DELIVER_TLS_NONE;	/* the question is "does it answer", not TLS */
	o.auth_user = NULL;
	o.connect_timeout = o.command_timeout = cx->timeout;
	if ((conn = deliver_connect(&rt, &o, &code, err, sizeof(err))) == NULL) {
		check_add(cx, "primary", NULL, CHECK_WARN, "expected during an outage; otherwise "
		    "check the primary and the route", "%s (%s): no EHLO: %s", key, rt.target,
		    err);
		return;
	}
	check_add(cx, "primary", NULL, CHECK_PASS, NULL, "%s (%s) answers EHLO", key, rt.target);
	deliver_close(conn);
}

void
check_primary(struct check_ctx *cx)
{
	size_t n = cx->rep->n;

	config_foreach(cx->cfg, "routes", check_route_cb, cx);
	if (cx->rep->n == n)
		check_add(cx, "primary", NULL, CHECK_WARN, "add [routes] DOMAIN = smtp://primary:25",
		    "no [routes]: replay has nowhere to deliver");
}
