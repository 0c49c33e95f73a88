/*
 * check_dns.c - readiness area "MX": does the world route to this gateway?
 *
 * Entry points: check_mx() per domain (checks "mx", "mx_ttl", "mx_hosts"),
 * check_fcrdns() once (check "fcrdns"), check_cat() for the other areas.
 * Rules: every gateway hostname is an MX of the domain with a preference
 * number larger than the primary's (the lowest preference among the other
 * hosts: RFC 5321 5.1, senders try lower numbers first), else FAIL; every MX
 * host has an A or AAAA record, else FAIL (senders skip it); the MX TTL is
 * within 60 s .. 1 day, else WARN (too short: resolver load and flapping;
 * too long: a changed MX takes days to reach senders); each gateway address's
 * PTR names the gateway, else WARN (senders do not require it of an MX, but
 * the DSNs and replay it sends do better with it).
 * Lookups go through common/dns.c ([dns] nameserver); a TEMPFAIL is a FAIL
 * with its reason: a check that cannot see the record cannot vouch for it.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "check.h"

#define CHECK_TTL_MIN	60
#define CHECK_TTL_MAX	86400

/* check_cat - append to a bounded string (truncates silently: evidence only) */
void
check_cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t	n = strlen(buf);
	va_list	ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* check_is_gateway - 1 if host is one of the gateways */
static int
check_is_gateway(const struct check_ctx *cx, const char *host)
{
	for (size_t i = 0; i < cx->ngateways; i++)
		if (strcasecmp(cx->gateways[i], host) == 0)
			return 1;
	return 0;
}

/* check_mx_pref - the listing of one gateway against the primary's preference */
static void
check_mx_pref(struct check_ctx *cx, const char *domain, const struct dns_answer *a,
    const char *gw, const char *list)
{
	const struct dns_rr	*mine = NULL;
	int			 primary = -1;
	char			 fix[CHECK_EVIDENCE_MAX];

	for (size_t i = 0; i < a->n; i++) {
		if (strcasecmp(a->rr[i].name, gw) == 0)
			mine = &a->rr[i];
		else if (!check_is_gateway(cx, a->rr[i].name) &&
		    (primary == -1 || a->rr[i].pref < primary))
			primary = a->rr[i].pref;
	}
	if (mine == NULL) {
		snprintf(fix, sizeof(fix), "add \"%s. MX %d %s.\" to the zone: senders never "
		    "try a host that is not an MX", domain, primary >= 0 ? primary + 10 : 20, gw);
		check_add(cx, "mx", domain, CHECK_FAIL, fix, "%s is not an MX of %s (MX: %s)",
		    gw, domain, list);
	} else if (primary == -1)
		check_add(cx, "mx", domain, CHECK_WARN, "list the primary with a lower preference "
		    "number: as the only MX, this gateway takes all mail, also when the primary "
		    "is up", "%s is an MX of %s at %u, but no primary is listed (MX: %s)", gw,
		    domain, mine->pref, list);
	else if (mine->pref <= primary) {
		snprintf(fix, sizeof(fix), "give %s a preference number above %d (e.g. %d): "
		    "senders use the lowest number first", gw, primary, primary + 10);
		check_add(cx, "mx", domain, CHECK_FAIL, fix, "%s is at preference %u, not above "
		    "the primary's %d: senders would use the backup while the primary is up "
		    "(MX: %s)", gw, mine->pref, primary, list);
	} else
		check_add(cx, "mx", domain, CHECK_PASS, NULL, "%s listed at preference %u, after "
		    "the primary's %d (MX: %s)", gw, mine->pref, primary, list);
}

/* check_host_addrs - "10.0.0.1 ::1" of host into out (else why not); 0 some address, -1 none */
static int
check_host_addrs(struct check_ctx *cx, const char *host, char *out, size_t outlen)
{
	static const enum dns_type types[] = { DNS_T_A, DNS_T_AAAA };
	struct dns_answer	 a;
	char			 ip[INET6_ADDRSTRLEN], why[128] = "";
	int			 naddr = 0;

	out[0] = '\0';
	for (size_t t = 0; t < 2; t++) {
		if (dns_lookup(cx->dns, host, types[t], 0, &a) == DNS_OK) {
			for (size_t i = 0; i < a.n; i++) {
				inet_ntop(types[t] == DNS_T_A ? AF_INET : AF_INET6, types[t] ==
				    DNS_T_A ? (const void *)&a.rr[i].a : (const void *)&a.rr[i].aaaa,
				    ip, sizeof(ip));
				check_cat(out, outlen, "%s%s", naddr++ ? " " : "", ip);
			}
		} else
			check_cat(why, sizeof(why), "%s%s %s%s%s", why[0] ? ", " : "",
			    types[t] == DNS_T_A ? "A" : "AAAA", dns_status_name(a.status),
			    a.why[0] ? ": " : "", a.why);
		dns_answer_free(&a);
	}
	if (naddr == 0)
		snprintf(out, outlen, "%s", why);
	return naddr > 0 ? 0 : -1;
}

void
check_mx(struct check_ctx *cx, const char *domain)
{
	struct dns_answer	a;
	char			list[CHECK_EVIDENCE_MAX] = "", addrs[CHECK_EVIDENCE_MAX];
	char			bad[CHECK_EVIDENCE_MAX] = "", good[CHECK_EVIDENCE_MAX] = "";

	if (dns_lookup(cx->dns, domain, DNS_T_MX, 0, &a) != DNS_OK) {
		check_add(cx, "mx", domain, CHECK_FAIL, "publish MX records for the domain: the "
		    "primary, then this gateway with a larger preference number",
		    "MX lookup of %s: %s%s%s", domain, dns_status_name(a.status),
		    a.why[0] ? ": " : "", a.why);
		dns_answer_free(&a);
		return;
	}
	for (size_t i = 0; i < a.n; i++)
		check_cat(list, sizeof(list), "%s%u %s", i ? ", " : "", a.rr[i].pref,
		    a.rr[i].name);
	for (size_t g = 0; g < cx->ngateways; g++)
		check_mx_pref(cx, domain, &a, cx->gateways[g], list);
	if (a.ttl < CHECK_TTL_MIN || a.ttl > CHECK_TTL_MAX)
		check_add(cx, "mx_ttl", domain, CHECK_WARN, "set the MX TTL between 60 s and "
		    "1 day (3600 is common)", "MX TTL %u s is outside %d s .. %d s", a.ttl,
		    CHECK_TTL_MIN, CHECK_TTL_MAX);
	else
		check_add(cx, "mx_ttl", domain, CHECK_PASS, NULL, "MX TTL %u s", a.ttl);
	for (size_t i = 0; i < a.n; i++) {
		if (check_host_addrs(cx, a.rr[i].name, addrs, sizeof(addrs)) == 0)
			check_cat(good, sizeof(good), "%s%s %s", good[0] ? "; " : "",
			    a.rr[i].name, addrs);
		else
			check_cat(bad, sizeof(bad), "%s%s (%s)", bad[0] ? "; " : "",
			    a.rr[i].name, addrs);
	}
	if (bad[0])
		check_add(cx, "mx_hosts", domain, CHECK_FAIL, "give every MX host an A and/or "
		    "AAAA record (an MX must not point at a CNAME or an address)",
		    "no address for %s", bad);
	else
		check_add(cx, "mx_hosts", domain, CHECK_PASS, NULL, "%s", good);
	dns_answer_free(&a);
}

/* check_ptr_agrees - does the PTR of one address name host?  1 yes, 0 no (why in out) */
static int
check_ptr_agrees(struct check_ctx *cx, int af, const void *addr, const char *host,
    char *out, size_t outlen)
{
	struct dns_answer	a;
	char			rev[DNS_NAME_MAX + 1], ip[INET6_ADDRSTRLEN];
	int			ok = 0;

	inet_ntop(af, addr, ip, sizeof(ip));
	if (dns_reverse_name(af, addr, rev, sizeof(rev)) != 0)
		return 0;
	if (dns_lookup(cx->dns, rev, DNS_T_PTR, 0, &a) != DNS_OK) {
		check_cat(out, outlen, "%s%s: PTR %s", out[0] ? "; " : "", ip,
		    dns_status_name(a.status));
	} else {
		for (size_t i = 0; i < a.n; i++)
			ok |= strcasecmp(a.rr[i].name, host) == 0;
		check_cat(out, outlen, "%s%s -> %s", out[0] ? "; " : "", ip, a.rr[0].name);
	}
	dns_answer_free(&a);
	return ok;
}

void
check_fcrdns(struct check_ctx *cx)
{
	struct dns_answer	a;
	char			ev[CHECK_EVIDENCE_MAX], fix[CHECK_EVIDENCE_MAX];

	for (size_t g = 0; g < cx->ngateways; g++) {
		const char	*host = cx->gateways[g];
		int		 addrs = 0, bad = 0;

		ev[0] = '\0';
		if (dns_lookup(cx->dns, host, DNS_T_A, 0, &a) == DNS_OK)
			for (size_t i = 0; i < a.n; i++, addrs++)
				bad += !check_ptr_agrees(cx, AF_INET, &a.rr[i].a, host, ev,
				    sizeof(ev));
		dns_answer_free(&a);
		if (dns_lookup(cx->dns, host, DNS_T_AAAA, 0, &a) == DNS_OK)
			for (size_t i = 0; i < a.n; i++, addrs++)
				bad += !check_ptr_agrees(cx, AF_INET6, &a.rr[i].aaaa, host, ev,
				    sizeof(ev));
		dns_answer_free(&a);
		snprintf(fix, sizeof(fix), "set the PTR of each address of %s to %s (the owner "
		    "of the address block does that)", host, host);
		if (addrs == 0)
			check_add(cx, "fcrdns", NULL, CHECK_FAIL, "give the gateway an A and/or "
			    "AAAA record", "%s has no A or AAAA record", host);
		else if (bad)
			check_add(cx, "fcrdns", NULL, CHECK_WARN, fix, "%s: forward and reverse "
			    "disagree: %s", host, ev);
		else
			check_add(cx, "fcrdns", NULL, CHECK_PASS, NULL, "%s: %s", host, ev);
	}
}
