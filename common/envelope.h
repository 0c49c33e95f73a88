/*
 * envelope.h - everything about a message except its bytes, and its JSON form.
 *
 * The JSON form is stored with the object (S3 metadata "x-amz-meta-envelope",
 * base64, when it fits in S3_META_INLINE_MAX; else a sidecar object
 * "<id>.env.json" and metadata "envelope=sidecar"), so that the bucket alone
 * rebuilds the index.  JSON is produced and parsed with jansson.
 *
 * {"v":1,"id":..,"node":..,"received_ms":..,"size":..,"sha256":"hex",
 *  "mail_from":"a@b" ("" for <>),"mail_params":"SIZE=123 BODY=8BITMIME ...",
 *  "rcpts":[{"addr":..,"params":"NOTIFY=.. ORCPT=.."}],
 *  "client_addr":..,"client_name":..,"helo":..,"tls":"TLSv1.3 TLS_AES_..." or "",
 *  "auth":{"spf":..,"dkim":..,"dmarc":..,"quarantine":true|false} (only when verified)}
 */
#ifndef MXS_ENVELOPE_H
#define MXS_ENVELOPE_H
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct envelope_rcpt {
	char	*addr;		/* as accepted, without angle brackets */
	char	*params;	/* RFC 3461 NOTIFY=... ORCPT=...; "" if none */
};

struct envelope {
	char			 id[MSGID_MAX];
	char			 node[MSGID_NODE_MAX + 1];
	int64_t			 received_ms;
	int64_t			 size;		/* bytes of the stored object */
	char			 sha256[65];	/* hex of the stored object */
	char			*mail_from;	/* "" for the null sender <> */
	char			*mail_params;	/* SIZE= BODY= SMTPUTF8 RET= ENVID= */
	struct envelope_rcpt	*rcpts;
	size_t			 nrcpts;
	char			*client_addr;
	char			*client_name;
	char			*helo;
	char			*tls;		/* "" when plaintext */
	/* verdicts at ingest (ingest/auth.c), RFC 8601 words; "" when not verified */
	char			 auth_spf[16], auth_dkim[16], auth_dmarc[16];
	int			 auth_quarantine;	/* DMARC p=quarantine failure, enforced */
};

void	envelope_init(struct envelope *);
void	envelope_free(struct envelope *);
/* envelope_add_rcpt - append a copy; 0 ok, -1 no memory */
int	envelope_add_rcpt(struct envelope *, const char *addr, const char *params);
/* envelope_set_auth - the verdicts of ingest/auth.c (NULL: leave) */
void	envelope_set_auth(struct envelope *, const char *spf, const char *dkim,
	    const char *dmarc, int quarantine);
/* envelope_to_json - malloc'd compact JSON, or NULL */
char	*envelope_to_json(const struct envelope *);
/* envelope_from_json - 0 ok; -1 with a reason in err */
int	envelope_from_json(const char *json, size_t len, struct envelope *, char *err, size_t errlen);

#endif
