/*
 * dkim_key.c - private keys, signing and verifying for DKIM/ARC, and the
 * key lookup through common/dns.c (see dkim_key.h).
 *
 * Entry points: dkim_key_load(), dkim_key_sign(), dkim_key_verify(),
 * dkim_dns_txt().  Keys are OpenSSL 3 EVP keys; Ed25519 signs the SHA-256
 * digest of the data, not the data (RFC 8463 3).  A key record's p= is
 * SubjectPublicKeyInfo DER for RSA and the raw 32-byte key for Ed25519
 * (RFC 8463 4).  An empty p= is a revoked key (RFC 6376 3.6.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "b64.h"
#include "dkim_key.h"
#include "dns.h"


struct dkim_key {
	EVP_PKEY	*pkey;
	enum dkim_alg	 alg;
};

struct dkim_key *
dkim_key_load(const char *path, char *err, size_t errlen)
{
	struct dkim_key	*k;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %m", path);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k->pkey == NULL) {
		snprintf(err, errlen, "%s: not a PEM private key", path);
		goto fail;
	}
	if (EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_RSA) {
		k->alg = DKIM_ALG_RSA_SHA256;
		if (EVP_PKEY_get_bits(k->pkey) < 1024) {	/* RFC 8301 3.2 */
			snprintf(err, errlen, "%s: RSA key shorter than 1024 bits", path);
			goto fail;
		}
	} else if (EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_ED25519)
		k->alg = DKIM_ALG_ED25519_SHA256;
	else {
		snprintf(err, errlen, "%s: want an RSA or Ed25519 private key", path);
		goto fail;
	}
	return k;
fail:
	dkim_key_free(k);
	return NULL;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *k)
{
	return k->alg;
}

const char *
dkim_alg_name(enum dkim_alg a)
{
	return a == DKIM_ALG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

int
dkim_alg_parse(const char *s, enum dkim_alg *a)
{
	if (strcmp(s, "rsa-sha256") == 0)
		*a = DKIM_ALG_RSA_SHA256;
	else if (strcmp(s, "ed25519-sha256") == 0)
		*a = DKIM_ALG_ED25519_SHA256;
	else
		return -1;
	return 0;
}

/* dkim_key_input - what the key algorithm signs: the data (RSA) or its SHA-256 (Ed25519) */
static int
dkim_key_input(enum dkim_alg a, const void *data, size_t len, unsigned char *dg,
    const unsigned char **in, size_t *inlen)
{
	if (a == DKIM_ALG_RSA_SHA256) {
		*in = data;
		*inlen = len;
		return 0;
	}
	if (EVP_Digest(data, len, dg, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	*in = dg;
	*inlen = 32;
	return 0;
}

int
dkim_key_sign(const struct dkim_key *k, const void *data, size_t len, char *sig, size_t siglen)
{
	EVP_MD_CTX		*ctx;
	unsigned char		 raw[DKIM_SIG_MAX], dg[32];
	const unsigned char	*in;
	size_t			 rawlen = sizeof(raw), inlen;
	int			 rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    dkim_key_input(k->alg, data, len, dg, &in, &inlen) == -1)
		goto out;
	if (EVP_DigestSignInit(ctx, NULL, k->alg == DKIM_ALG_RSA_SHA256 ? EVP_sha256() : NULL,
	    NULL, k->pkey) != 1 || EVP_DigestSign(ctx, NULL, &rawlen, in, inlen) != 1 ||
	    rawlen > sizeof(raw) || 4 * ((rawlen + 2) / 3) + 1 > siglen ||
	    EVP_DigestSign(ctx, raw, &rawlen, in, inlen) != 1)
		goto out;
	EVP_EncodeBlock((unsigned char *)sig, raw, (int)rawlen);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* dkim_key_public - the public key of record rec for algorithm a; NULL + err */
static EVP_PKEY *
dkim_key_public(const char *rec, enum dkim_alg a, char *err, size_t errlen)
{
	char			 p[DKIM_KEYREC_MAX], kt[32];
	unsigned char		 der[DKIM_KEYREC_MAX];
	const unsigned char	*q = der;
	EVP_PKEY		*pk = NULL;
	int			 n;

	if (dkim_tag(rec, strlen(rec), "p", p, sizeof(p), 1) != 1) {
		snprintf(err, errlen, "key record without p=");
		return NULL;
	}
	if (p[0] == '\0') {
		snprintf(err, errlen, "key revoked (empty p=)");
		return NULL;
	}
	if (dkim_tag(rec, strlen(rec), "k", kt, sizeof(kt), 1) != 1)
		snprintf(kt, sizeof(kt), "rsa");	/* RFC 6376 3.6.1: default */
	if (strcmp(kt, a == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519") != 0) {
		snprintf(err, errlen, "key type k=%s does not match the signature's a=", kt);
		return NULL;
	}
	if ((n = b64_decode(p, strlen(p), der, sizeof(der))) < 0) {
		snprintf(err, errlen, "key record p= is not base64");
		return NULL;
	}
	if (a == DKIM_ALG_RSA_SHA256)
		pk = d2i_PUBKEY(NULL, &q, n);
	else if (n == 32)
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32);
	if (pk == NULL)
		snprintf(err, errlen, "key record p= is not a usable %s key", kt);
	return pk;
}

int
dkim_key_verify(const char *rec, enum dkim_alg a, const void *data, size_t len, const char *b,
    char *err, size_t errlen)
{
	EVP_PKEY		*pk;
	EVP_MD_CTX		*ctx = NULL;
	unsigned char		 raw[DKIM_SIG_MAX], dg[32];
	const unsigned char	*in;
	size_t			 inlen;
	int			 n, ok = 0;

	if ((pk = dkim_key_public(rec, a, err, errlen)) == NULL)
		return 0;
	if ((n = b64_decode(b, strlen(b), raw, sizeof(raw))) < 0) {
		snprintf(err, errlen, "b= is not base64");
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL || dkim_key_input(a, data, len, dg, &in,
	    &inlen) == -1 || EVP_DigestVerifyInit(ctx, NULL, a == DKIM_ALG_RSA_SHA256 ?
	    EVP_sha256() : NULL, NULL, pk) != 1) {
		snprintf(err, errlen, "cannot set up verification");
		goto out;
	}
	if (a == DKIM_ALG_RSA_SHA256 && EVP_PKEY_get_bits(pk) < 1024)
		snprintf(err, errlen, "RSA key shorter than 1024 bits");
	else if (EVP_DigestVerify(ctx, raw, (size_t)n, in, inlen) == 1)
		ok = 1;
	else
		snprintf(err, errlen, "signature does not verify");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

/* dkim_dns_txt - a dkim_keyfn on the one resolver (common/dns.c); arg is a struct dns */
enum dkim_dns
dkim_dns_txt(void *arg, const char *name, char *txt, size_t txtlen)
{
	struct dns_answer	 ans;
	enum dkim_dns		 st;

	switch (dns_lookup(arg, name, DNS_T_TXT, 0, &ans)) {
	case DNS_OK:
		/* the first TXT record, its strings concatenated (RFC 6376 3.6.2.2) */
		if (ans.rr[0].len >= txtlen) {
			st = DKIM_DNS_TEMPFAIL;
			break;
		}
		memcpy(txt, ans.rr[0].data, ans.rr[0].len);
		txt[ans.rr[0].len] = '\0';
		st = DKIM_DNS_OK;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		st = DKIM_DNS_NOTFOUND;
		break;
	default:
		st = DKIM_DNS_TEMPFAIL;
		break;
	}
	dns_answer_free(&ans);
	return st;
}
