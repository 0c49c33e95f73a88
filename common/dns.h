/*
 * dns.h - the one DNS resolver of mxspool (libunbound), and its answer type.
 *
 * Entry points: dns_open() from [dns] (nameserver = IP[:PORT], else the
 * system resolver of /etc/resolv.conf; timeout = per-lookup deadline;
 * trust_anchor = a file of DS/DNSKEY records: DNSSEC validation, each answer
 * then says secure, insecure or bogus),
 * dns_lookup() for one (name, type), dns_answer_free().  One struct dns is
 * shared by all threads: libunbound keeps one cache, and lookups from many
 * threads wait side by side (dns.c says how).
 * Open it after any fork(): libunbound's worker thread does not follow a fork.
 * Error contract: a lookup never blocks past its deadline and always fills
 * the answer with one status; the resolver logs nothing per lookup (callers
 * know what a failure means for them).  dns_open() fails with a reason.
 * dns_reverse_name(), dns_name_check() and dns_name_list_next() are pure
 * helpers for callers that build or read names (SPF, DNSBL, [check] gateways).
 */
#ifndef MXS_DNS_H
#define MXS_DNS_H
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "limits.h"

struct config;
struct dns;

/* what a lookup found; the caller decides what each means (RFC 7208 2.6) */
enum dns_status {
	DNS_OK,		/* at least one record of the type */
	DNS_NXDOMAIN,	/* the name does not exist (rcode 3) */
	DNS_NODATA,	/* the name exists, no record of the type */
	DNS_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, resolver trouble: try later */
	DNS_PERMFAIL,	/* the question or the answer is malformed: retrying won't help */
};

/* DNSSEC state of an answer (RFC 4035 4.3); insecure unless a trust anchor is configured */
enum dns_sec {
	DNS_SEC_INSECURE,	/* not validated: no chain of trust (unsigned zone, no anchor) */
	DNS_SEC_SECURE,		/* validated from the trust anchor (the AD bit of a validator) */
	DNS_SEC_BOGUS,		/* validation failed: status is DNS_TEMPFAIL, why says why */
};

/* record types, by their RFC 1035 / 3596 / 6698 numbers */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
	DNS_T_TLSA = 52,
};

/* one record; which fields are set depends on the lookup's type */
struct dns_rr {
	struct in_addr	 a;				/* A */
	struct in6_addr	 aaaa;				/* AAAA */
	uint16_t	 pref;				/* MX preference */
	char		 name[DNS_NAME_MAX + 1];	/* MX exchange, PTR target: no final dot */
	uint8_t		 usage, selector, mtype;	/* TLSA (RFC 6698 2.1) */
	unsigned char	*data;				/* TXT strings joined (NUL added), TLSA data */
	size_t		 len;
};

struct dns_answer {
	enum dns_status	 status;
	enum dns_sec	 sec;
	uint32_t	 ttl;		/* of the answer (or the negative answer), seconds */
	size_t		 n;		/* records in rr (0 unless DNS_OK) */
	int		 truncated;	/* more than DNS_RR_MAX records were dropped */
	struct dns_rr	*rr;
	char		 why[160];	/* for logs when not DNS_OK: "timeout", "SERVFAIL",
					 * "bogus: <validator's reason>" */
};

/* dns_open - the process's resolver for [dns] (cfg may be NULL: defaults), shared by every
 * caller with the same settings (one cache); each dns_open() is paired with a dns_close();
 * NULL + reason */
struct dns	*dns_open(const struct config *cfg, char *err, size_t errlen);
/* dns_new - a resolver of its own: nameserver "IP[:PORT]" or "[IPv6]:PORT" or NULL
 * (resolv.conf); for tools and checks, not shared */
struct dns	*dns_new(const char *nameserver, long long timeout_ms, char *err, size_t errlen);
void		 dns_close(struct dns *);
/* dns_trust_anchor - validate DNSSEC from the DS/DNSKEY records in file (zone-file syntax,
 * e.g. Debian's /usr/share/dns/root.key); before the first lookup.  0 ok, -1 + err */
int		 dns_trust_anchor(struct dns *, const char *file, char *err, size_t errlen);
/* dns_set_stop - once *stop (read atomically) is nonzero, waits end: TEMPFAIL "interrupted";
 * for a thread that must stop promptly (serve's readiness check at shutdown).  The resolver
 * is shared (dns_open): every user's waits end, so set it only for a stopping process, and
 * set NULL again before *stop goes away */
void		 dns_set_stop(struct dns *, const int *stop);

/* dns_lookup - one question, answer in *ans (free it); returns ans->status.  It ends by
 * [dns] timeout or by deadline_ms (mono_ms(), 0: none), the earlier: an outer budget
 * ([auth] timeout, a connect) is never exceeded by the resolver's */
enum dns_status	 dns_lookup(struct dns *, const char *name, enum dns_type, int64_t deadline_ms,
		    struct dns_answer *ans);
void		 dns_answer_free(struct dns_answer *);
const char	*dns_status_name(enum dns_status);
const char	*dns_sec_name(enum dns_sec);

/*
 * dns_verified_name - a forward-confirmed PTR name of addr that want() accepts (FCrDNS), at
 * most DNS_VERIFY_NAMES_MAX checked, none started after deadline_ms (mono_ms; 0 none).
 * DNS_OK + name in out; NXDOMAIN/NODATA: none; TEMPFAIL: a lookup failed, none confirmed.
 */
enum dns_status	 dns_verified_name(struct dns *, int af, const void *addr,
		    int (*want)(const char *name, void *arg), void *arg, int64_t deadline_ms,
		    char *out, size_t outlen, uint32_t *ttl);
/* dns_deadline - CLOCK_MONOTONIC now + ms; dns_deadline_passed - 1 once reached */
void		 dns_deadline(long long ms, struct timespec *ts);
int		 dns_deadline_passed(const struct timespec *ts);
/* dns_name_check - 0 when name is a syntactically usable DNS name, else -1 */
int		 dns_name_check(const char *name);
/* dns_name_list_next - the next name of a comma/blank separated list at *v (advanced):
 * 1 a usable name in out, 0 the list ended, -1 not a host name (out: what was read) */
int		 dns_name_list_next(const char **v, char *out, size_t outlen);
/* dns_reverse_name - "4.3.2.1.in-addr.arpa" / nibbles ".ip6.arpa"; 0 ok, -1 too small */
int		 dns_reverse_name(int af, const void *addr, char *out, size_t outlen);

#endif
