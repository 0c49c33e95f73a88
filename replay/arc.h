/*
 * arc.h - ARC sealing at replay (RFC 8617): each delivered message gets an
 * ARC set (ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal) so a
 * primary that trusts this gateway as a sealer keeps the verdicts made at the
 * door although the message now comes from the gateway's address.
 *
 * [arc] domain, selector, key_file turn sealing on (key: RSA or Ed25519 PEM);
 * authserv_id (default [auth] authserv_id, else [ingest] hostname) names the AAR;
 * skip_targets lists route targets (as written in [routes] or drain --to)
 * that get no seal.  Key records of an existing chain are looked up through a
 * dkim_keyfn ([dns] nameserver, else the system resolver).
 *
 * Invariant: the message bytes are never changed; the set is a prefix that
 * the delivery client sends before them.  The body is hashed streaming from
 * the fd; only the header block (ARC_HEADER_MAX) is held in memory.
 * Errors: arc_conf_load() is a start-up error with a reason; arc_seal()
 * returns -1 with a reason and the caller delivers unsealed (logged there).
 */
#ifndef MXS_ARC_H
#define MXS_ARC_H
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "dkim.h"
#include "dkim_key.h"
#include "limits.h"

struct dns;
struct config;

struct arc_conf {
	char		 domain[MXS_DOMAIN_MAX + 1];
	char		 selector[64];
	char		 authserv_id[MXS_DOMAIN_MAX + 1];
	char		 ingest_id[MXS_DOMAIN_MAX + 1];	/* the one the ingest writes ([auth]) */
	struct dkim_key	*key;
	dkim_keyfn	 keyfn;		/* key records of an existing chain */
	void		*keyarg;
	struct dns	*dns;		/* the resolver of [dns] for keyfn */
	char		*skip;		/* skip_targets, space-separated, "" none */
};

/* what arc_seal() decided, for the log line */
struct arc_result {
	int	instance;	/* i= of the new set */
	char	cv[8];		/* none, pass, fail */
	char	why[ERRSTR_MAX];	/* why the chain failed, or "" */
};

/* arc_conf_load - [arc]; *out NULL when sealing is off; -1 + err on a bad setting */
int	arc_conf_load(const struct config *, struct arc_conf **out, char *err, size_t errlen);
void	arc_conf_free(struct arc_conf *);
/* arc_skip - 1 if deliveries to target get no seal */
int	arc_skip(const struct arc_conf *, const char *target);
/*
 * arc_seal - the ARC set for the message in fd (size bytes) appended to out, header fields
 * ending in CRLF, ready to go before the message.  verdicts: NULL when the ingest did not
 * verify the message (the AAR says "none"); else the verdicts stored in the index as RFC
 * 8601 resinfo ("spf=pass; dkim=pass; dmarc=pass"), and the AAR carries the
 * Authentication-Results: the ingest wrote (the second field, under its Received:), or
 * verdicts when that is missing.  0 ok, -1 + err (no seal).
 */
int	arc_seal(const struct arc_conf *, int fd, off_t size, const char *verdicts, time_t now,
	    struct buf *out, struct arc_result *, char *err, size_t errlen);

/* the ARC sets found in a message (arc_chain.c) */
struct arc_chain {
	int			 n;		/* highest instance; 0: no chain */
	int			 broken;	/* structure invalid (RFC 8617 5.2 steps 2-4) */
	const struct dkim_hdr	*aar[ARC_INSTANCE_MAX + 1];
	const struct dkim_hdr	*ams[ARC_INSTANCE_MAX + 1];
	const struct dkim_hdr	*as[ARC_INSTANCE_MAX + 1];
	enum dkim_canon		 ams_hcanon, ams_bcanon;	/* c= of the latest AMS */
	char			 why[ERRSTR_MAX];
};

/* arc_chain_scan - find and check the structure of the ARC sets among h[0..nh) */
void	arc_chain_scan(const struct dkim_hdr *h, int nh, struct arc_chain *);
/*
 * arc_chain_validate - RFC 8617 5.2: the latest AMS (bh the body hash in its c= body form)
 * and every AS; returns "none", "pass" or "fail" (why in ch->why).
 */
const char *arc_chain_validate(struct arc_chain *, const struct dkim_hdr *h, int nh,
	    const unsigned char bh[32], dkim_keyfn, void *keyarg);
/* arc_canon_add - h canonicalized (c) and CRLF appended to out (the signing input) */
int	arc_canon_add(struct buf *out, enum dkim_canon c, const struct dkim_hdr *h);
/* arc_hsel - RFC 6376 5.4.2: the fields named in h= (colon-separated), bottom-up, into out */
int	arc_hsel(struct buf *out, enum dkim_canon c, const struct dkim_hdr *h, int nh,
	    const char *hlist);

#endif
