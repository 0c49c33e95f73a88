/*
 * dnsbl.h - reputation screening of a client address against weighted
 * DNSBL/DNSWL zones, as Postfix postscreen (postscreen_dnsbl_sites).
 *
 * Entry points: dnsbl_open() reads [dnsbl] (off, *out NULL, when no site is
 * configured); dnsbl_start() starts the lookups of one client (all zones in
 * parallel, one deadline) and dnsbl_finish() waits for them and scores, so
 * the caller can do something else meanwhile (the greet_delay wait);
 * dnsbl_site_parse() parses one "zone[=filter][*weight]" (unit tests).
 * Invariants: one struct dnsbl is shared by all sessions (its cache has a
 * lock); a query is finished exactly once.
 * Error contract: configuration errors name the key; at run time a dead
 * list or an error answer (127.255.255.0/24) scores 0 and is logged (rate
 * limited per zone) -- screening never blocks mail because a list failed.
 */
#ifndef MXS_DNSBL_H
#define MXS_DNSBL_H
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct config;
struct dnsbl;
struct dnsbl_query;

/* one entry of [dnsbl] sites: zone, optional return-code filter, weight */
struct dnsbl_site {
	char		 zone[DNS_NAME_MAX + 1];
	int		 weight;		/* negative: an allowlist (DNSWL) */
	int		 filtered;		/* 0: any answer counts */
	uint8_t		 octet[4][32];		/* filtered: allowed values, one bit each */
};

/* what one screening found */
struct dnsbl_result {
	int		 score;
	int		 threshold;
	int		 listed;		/* score >= threshold */
	int		 allowlisted;		/* the client is in [dnsbl] allowlist */
	char		 allowed_by[DNS_NAME_MAX + 1];	/* "network", the verified name, or
						 * "name" (a verified name, cached) */
	int		 cached;		/* from the result cache: no lookup */
	long long	 ms;			/* from dnsbl_start to dnsbl_finish */
	char		 top[DNS_NAME_MAX + 1];	/* the highest-weighted listing ("" none) */
	char		 listings[512];		/* "zone*weight,..." of every match */
	char		 errors[256];		/* "zone:why,..." of lists that failed */
};

/* dnsbl_spec_check - [dnsbl] sites / allowlist syntax (config_check); 0 ok, -1 + why */
int		 dnsbl_spec_check(const char *sites, const char *allow, char *err, size_t errlen);
/* dnsbl_open - [dnsbl] of cfg into *out (NULL: screening off); -1 + err naming the key */
int		 dnsbl_open(const struct config *cfg, struct dnsbl **out, char *err, size_t errlen);
void		 dnsbl_close(struct dnsbl *);

/* dnsbl_start - begin screening addr (numeric); NULL only when out of memory */
struct dnsbl_query *dnsbl_start(struct dnsbl *, const char *addr);
/* dnsbl_finish - wait (bounded by [dnsbl] timeout), score, free q; q may be NULL */
void		 dnsbl_finish(struct dnsbl_query *q, struct dnsbl_result *res);

/* dnsbl_site_parse - "zone[=a.b.c.d][*weight]"; 0 ok, -1 with a reason in err */
int		 dnsbl_site_parse(const char *spec, struct dnsbl_site *site, char *err,
		    size_t errlen);
/* dnsbl_site_match - 1 if the answer address a (network order) counts for site */
int		 dnsbl_site_match(const struct dnsbl_site *, const uint8_t a[4]);

#endif
