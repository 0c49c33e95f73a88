/*
 * dkim_key.c - private keys, signing and verifying for DKIM/ARC, and the
 * libc-resolver key lookup (see dkim_key.h).
 *
 * Entry points: dkim_key_load(), dkim_key_sign(), dkim_key_verify(),
 * dkim_dns_txt().  Keys are OpenSSL 3 EVP keys; Ed25519 signs the SHA-256
 * digest of the data, not the data (RFC 8463 3).  A key record's p= is
 * SubjectPublicKeyInfo DER for RSA and the raw 32-byte key for Ed25519
 * (RFC 8463 4).  An empty p= is a revoked key (RFC 6376 3.6.1).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dkim.h"
#include "dkim_key.h"

/* DNS answer bytes for one key record query */
#define DKIM_DNS_ANSWER_MAX	8192

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

/* dkim_b64 - decode base64 s (whitespace already removed) into out; length or -1 */
static int
dkim_b64(const char *s, unsigned char *out, size_t outlen)
{
	size_t	n = strlen(s);
	int	len;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outlen)
		return -1;
	if ((len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n)) < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes */
	len -= (s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	return len;
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
	if ((n = dkim_b64(p, der, sizeof(der))) < 0) {
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
	if ((n = dkim_b64(b, raw, sizeof(raw))) < 0) {
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

/* dkim_dns_server - point a resolver state at "IP[:PORT]" (IPv4); -1 if it does not parse */
static int
dkim_dns_server(res_state rs, const char *spec)
{
	char		 ip[64];
	const char	*colon = strrchr(spec, ':');
	long		 port = 53;
	char		*end;
	size_t		 n = colon != NULL ? (size_t)(colon - spec) : strlen(spec);

	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, spec, n);
	ip[n] = '\0';
	if (colon != NULL) {
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || port < 1 || port > 65535)
			return -1;
	}
	memset(&rs->nsaddr_list[0], 0, sizeof(rs->nsaddr_list[0]));
	rs->nsaddr_list[0].sin_family = AF_INET;
	rs->nsaddr_list[0].sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, ip, &rs->nsaddr_list[0].sin_addr) != 1)
		return -1;
	rs->nscount = 1;
	return 0;
}

int
dkim_dns_spec_ok(const char *spec)
{
	struct __res_state rs;

	memset(&rs, 0, sizeof(rs));
	return dkim_dns_server(&rs, spec) == 0;
}

enum dkim_dns
dkim_dns_txt(void *arg, const char *name, char *txt, size_t txtlen)
{
	struct __res_state	 rs;
	unsigned char		 ans[DKIM_DNS_ANSWER_MAX];
	ns_msg			 msg;
	ns_rr			 rr;
	const unsigned char	*rd, *end;
	size_t			 o = 0;
	int			 n, i, found = 0;
	enum dkim_dns		 st = DKIM_DNS_TEMPFAIL;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0)
		return DKIM_DNS_TEMPFAIL;
	rs.retrans = 2;		/* seconds per try: a verdict never waits long (DNS deadline) */
	rs.retry = 2;
	if (arg != NULL && dkim_dns_server(&rs, arg) == -1)
		goto out;
	if ((n = res_nquery(&rs, name, ns_c_in, ns_t_txt, ans, sizeof(ans))) < 0) {
		st = rs.res_h_errno == HOST_NOT_FOUND || rs.res_h_errno == NO_DATA ?
		    DKIM_DNS_NOTFOUND : DKIM_DNS_TEMPFAIL;
		goto out;
	}
	if (ns_initparse(ans, n, &msg) == -1)
		goto out;
	/* the first TXT record, its strings concatenated (RFC 6376 3.6.2.2) */
	for (i = 0; !found && i < ns_msg_count(msg, ns_s_an); i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) == -1 || ns_rr_type(rr) != ns_t_txt)
			continue;
		rd = ns_rr_rdata(rr);
		end = rd + ns_rr_rdlen(rr);
		while (rd < end && rd + 1 + *rd <= end) {
			if (o + *rd + 1 > txtlen)
				goto out;
			memcpy(txt + o, rd + 1, *rd);
			o += *rd;
			rd += 1 + *rd;
		}
		found = 1;
	}
	txt[o] = '\0';
	st = found ? DKIM_DNS_OK : DKIM_DNS_NOTFOUND;
out:
	res_nclose(&rs);
	return st;
}
