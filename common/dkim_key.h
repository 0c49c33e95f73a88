/*
 * dkim_key.h - the keys of DKIM/ARC signatures: a private key from a PEM file
 * (RSA, RFC 6376 3.3.1, or Ed25519, RFC 8463), signing, and verifying against
 * a published key record "v=DKIM1; k=rsa|ed25519; p=..." (RFC 6376 3.6.1).
 *
 * The data signed is the canonicalized header text; the signature algorithm
 * hashes it with SHA-256 (rsa-sha256: PKCS#1 v1.5 of the digest; ed25519-sha256:
 * PureEdDSA over the 32-byte SHA-256 digest, RFC 8463 3).  Key records are
 * fetched through a lookup function so the caller chooses the resolver.
 * Errors: -1 with a one-line reason in err, never logged here.
 */
#ifndef MXS_DKIM_KEY_H
#define MXS_DKIM_KEY_H
#include <stddef.h>

#include "buf.h"

/* key records: "selector._domainkey.domain" TXT (RFC 6376 3.6.2.2) */
#define DKIM_KEYREC_MAX	4096
/* a base64 signature (Ed25519 88, RSA 4096 bits 684) */
#define DKIM_SIG_MAX	1024

enum dkim_alg { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };

enum dkim_dns { DKIM_DNS_OK, DKIM_DNS_NOTFOUND, DKIM_DNS_TEMPFAIL };

/*
 * dkim_keyfn - fetch the TXT record of name (strings concatenated) into txt; the interface
 * a resolver plugs into.  NOTFOUND for NXDOMAIN or no TXT, TEMPFAIL for a timeout or SERVFAIL.
 */
typedef enum dkim_dns (*dkim_keyfn)(void *arg, const char *name, char *txt, size_t txtlen);

struct dkim_key;

/* dkim_key_load - private key from a PEM file; NULL + err */
struct dkim_key	*dkim_key_load(const char *path, char *err, size_t errlen);
void		 dkim_key_free(struct dkim_key *);
enum dkim_alg	 dkim_key_alg(const struct dkim_key *);
/* dkim_alg_name - "rsa-sha256" or "ed25519-sha256" */
const char	*dkim_alg_name(enum dkim_alg);
/* dkim_alg_parse - a= value; 0 ok, -1 unknown */
int		 dkim_alg_parse(const char *, enum dkim_alg *);
/* dkim_key_sign - base64 signature of data into sig (NUL-terminated); 0 ok, -1 */
int		 dkim_key_sign(const struct dkim_key *, const void *data, size_t len, char *sig,
		    size_t siglen);
/*
 * dkim_key_verify - verify the base64 signature b of data under the key record rec;
 * 1 valid, 0 invalid (bad signature, revoked or unusable key), reason in err.
 */
int		 dkim_key_verify(const char *rec, enum dkim_alg, const void *data, size_t len,
		    const char *b, char *err, size_t errlen);

/* dkim_dns_txt - a dkim_keyfn on the one resolver: arg is the struct dns (common/dns.h) */
enum dkim_dns	 dkim_dns_txt(void *arg, const char *name, char *txt, size_t txtlen);

#endif
