/*
 * spf.h - Sender Policy Framework evaluation, RFC 7208.
 *
 * Entry points: spf_check() checks the identity a receiver checks (MAIL FROM,
 * or HELO when MAIL FROM is "<>", RFC 7208 2.4), spf_check_host() is the
 * RFC's check_host() itself.  DNS goes through a struct spf_resolver (a
 * function pointer): spf_resolver_dns() in production, a table in the tests
 * that run the RFC's published test suite.
 * Invariants: every buffer is bounded (limits.h SPF_*); include/redirect
 * nest at most SPF_LOOKUP_MAX + 1 deep (the lookup limit ends it first);
 * the 10-lookup and 2-void-lookup limits of 4.6.4 are enforced.
 * Error contract: the result is the RFC's; DNS temporary errors give
 * SPF_TEMPERROR, never a failure.  Nothing is logged: the verdict carries
 * a reason (problem) for the caller's log line and Authentication-Results.
 */
#ifndef MXS_SPF_H
#define MXS_SPF_H
#include <netinet/in.h>
#include <time.h>

#include "dns.h"
#include "limits.h"

enum spf_result {
	SPF_NONE,
	SPF_NEUTRAL,
	SPF_PASS,
	SPF_FAIL,
	SPF_SOFTFAIL,
	SPF_TEMPERROR,
	SPF_PERMERROR,
};

/* the lookups SPF makes: fill ans, return its status (like dns_lookup) */
struct spf_resolver {
	enum dns_status	(*lookup)(void *arg, const char *name, enum dns_type,
			    struct dns_answer *ans);
	void		 *arg;
};

struct spf_request {
	int		 af;		/* AF_INET or AF_INET6 (IPv4-mapped is taken as IPv4) */
	struct in6_addr	 ip;		/* the client; for AF_INET the first 4 bytes */
	const char	*sender;	/* MAIL FROM address, "" for <> */
	const char	*helo;		/* HELO/EHLO argument */
	const char	*receiver;	/* %{r} in explanations; NULL: "unknown" */
	const char	*default_exp;	/* explanation when the domain gives none; NULL: ours */
	time_t		 now;		/* %{t}; 0: time(NULL) */
};

struct spf_verdict {
	enum spf_result	 result;
	char		 domain[DNS_NAME_MAX + 1];	/* the domain checked */
	char		 explanation[SPF_EXPAND_MAX + 1];	/* fail only */
	char		 problem[160];			/* mechanism matched, or why an error */
	int		 lookups, voids;		/* DNS-querying terms, void lookups */
};

/* spf_check - the receiver's check: MAIL FROM's domain, or postmaster@HELO for <> */
enum spf_result	 spf_check(const struct spf_resolver *, const struct spf_request *,
		    struct spf_verdict *);
/* spf_check_host - RFC 7208 4: check_host(ip, domain, sender) */
enum spf_result	 spf_check_host(const struct spf_resolver *, const struct spf_request *,
		    const char *domain, const char *sender, struct spf_verdict *);
/* spf_result_name - "pass", "fail", ... as RFC 8601 and Received-SPF write them */
const char	*spf_result_name(enum spf_result);
/* spf_request_ip - set req->af/ip from text ("192.0.2.1", "2001:db8::1", "::ffff:..") */
int		 spf_request_ip(struct spf_request *, const char *ip);
/* spf_resolver_dns - the production resolver over a struct dns */
struct spf_resolver spf_resolver_dns(struct dns *);

#endif
