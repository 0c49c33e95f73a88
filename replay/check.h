/*
 * check.h - the failover readiness check: "would failover work right now?"
 *
 * Entry points: check_run() runs every area for every configured domain (or
 * one) from this gateway's point of view and fills a struct check_report;
 * check_report_print() / check_report_json() show it; cli_check() is the
 * `mxspool-replay check` command.  Areas, one file each:
 *   check_dns.c    MX (listed, preference, hosts resolve, FCrDNS, TTLs)
 *   check_sts.c    MTA-STS policy (RFC 8461), TLS-RPT (RFC 8460)
 *   check_tls.c    STARTTLS certificate of the gateway, primary EHLO
 *   check_dane.c   DANE (RFC 7672): DNSSEC-validated TLSA records against that certificate
 *   check_local.c  object store canary, fallback spool room, recipient sources
 * Every result is PASS, WARN or FAIL with its evidence (records, dates,
 * replies) and, unless PASS, what to do about it.  Every network wait is
 * bounded ([dns] timeout, [check] timeout).  Nothing is logged: the report is
 * the output.
 *
 * Configuration ([check] section, all optional):
 *   gateways       other gateway hostnames of a fleet (this one: [ingest] hostname)
 *   ca_file        CA bundle the gateway certificate and the MTA-STS host must chain to
 *                  (default: the system's)
 *   connect        where to reach this gateway's SMTP (default: the first [ingest] listen,
 *                  a wildcard address meaning loopback)
 *   timeout        per connection step (default 10s)
 *   recipients_max_age  warn when a recipient list is older (default 7d)
 *   mta_sts_port   port of the HTTPS policy host (default 443; tests)
 */
#ifndef MXS_CHECK_H
#define MXS_CHECK_H
#include <stddef.h>

#include <jansson.h>

#include "limits.h"

struct config;
struct dns;

enum check_status { CHECK_PASS = 0, CHECK_WARN = 1, CHECK_FAIL = 2 };

struct check_result {
	char			name[32];	/* "mx", "tls", ...: the metrics label */
	char			domain[MXS_DOMAIN_MAX + 1];	/* "" for gateway-wide checks */
	enum check_status	status;
	char			evidence[CHECK_EVIDENCE_MAX];
	char			fix[CHECK_EVIDENCE_MAX];
};

struct check_report {
	struct check_result	*r;
	size_t			 n, cap;
	size_t			 max;		/* CHECK_RESULTS_MAX + CHECK_RESULTS_DOMAIN_MAX
						 * per domain of the run */
	int			 overflow;	/* more than max: the rest dropped (a FAIL) */
};

/* what the areas share during one run */
struct check_ctx {
	const struct config	*cfg;
	struct dns		*dns;
	struct check_report	*rep;
	const char		*hostname;	/* [ingest] hostname */
	const char		*gateways[CHECK_GATEWAYS_MAX];	/* this one first */
	size_t			 ngateways;
	char			 gwbuf[CHECK_GATEWAYS_MAX * (MXS_DOMAIN_MAX + 1)];
	int			 timeout;	/* seconds */
	const char		*ca_file;	/* NULL: system default */
	unsigned char		*cert_der;	/* the gateway's certificate, once TLS ran */
	size_t			 cert_len;
	unsigned char		 spki_der[CHECK_SPKI_MAX];
	size_t			 spki_len;
	int			 verify_state;	/* recipient tables: 0 not read, 1 load, -1 fail */
	char			 verify_err[ERRSTR_MAX];	/* why not (verify_load) */
};

/* check_add - one result; fix may be NULL for PASS */
void	check_add(struct check_ctx *, const char *name, const char *domain,
	    enum check_status, const char *fix, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/* check_run - every area; domain NULL: all [domain X] sections.  0 ok, -1 + err.
 * stop (NULL for none, read atomically): once nonzero, DNS waits end and no further
 * area starts (-1, err "stopped"); the other waits stay bounded by [check] timeout */
int	check_run(const struct config *, const char *domain, const int *stop,
	    struct check_report *, char *err, size_t errlen);
void	check_report_free(struct check_report *);
/* check_report_worst - the worst status in the report; FAIL when it was cut short */
enum check_status check_report_worst(const struct check_report *);
const char *check_status_name(enum check_status);
/* check_report_json - {"status":..,"checks":[{check,domain,status,evidence,fix}]} */
json_t	*check_report_json(const struct check_report *);

struct deliver_route;
/* check_listen_addr - this gateway's SMTP: [check] connect, else the first [ingest] listen
 * (a wildcard address meaning loopback); 0 ok, -1 unusable */
int	check_listen_addr(const struct config *, struct deliver_route *);

/* check_cat - append to a bounded evidence string */
void	check_cat(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* serve's refresh (check_serve.c): [replay] check_interval; the report in the control table */
#define CHECK_KV_KEY	"check_report"
struct check_serve;
struct check_serve *check_serve_start(const struct config *);	/* NULL: off or failed */
void	check_serve_stop(struct check_serve *);
/* check_serve_worst - fn per distinct (check, domain) of a stored report, worst status
 * (0 pass, 1 warn, 2 fail); -1 when report has no "checks" */
int	check_serve_worst(json_t *report, void (*fn)(const char *check, const char *domain,
	    int status, void *), void *arg);

/* areas (check_*.c) */
void	check_mx(struct check_ctx *, const char *domain);
void	check_fcrdns(struct check_ctx *);
void	check_sts(struct check_ctx *, const char *domain);
void	check_tls(struct check_ctx *);
void	check_dane(struct check_ctx *);
void	check_primary(struct check_ctx *);
void	check_store(struct check_ctx *);
void	check_recipients(struct check_ctx *, const char *domain);

#endif
