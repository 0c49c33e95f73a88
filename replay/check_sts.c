/*
 * check_sts.c - readiness area "MTA-STS" (RFC 8461) and TLS-RPT (RFC 8460).
 *
 * Entry point: check_sts() per domain.  "mta_sts": when _mta-sts.DOMAIN has a
 * v=STSv1 TXT record, the policy is fetched as a sender would, over HTTPS
 * with certificate verification ([check] ca_file, else the system CAs; no
 * redirects: RFC 8461 3.3), the name resolved by our resolver and pinned
 * with CURLOPT_RESOLVE; every gateway hostname must match an "mx:" pattern
 * (3.4: "*." matches one leftmost label), else FAIL in enforce mode (senders
 * refuse to fail over to it), WARN in testing.  No record: PASS (no policy,
 * nothing to contradict).  "tls_rpt": _smtp._tls.DOMAIN v=TLSRPTv1, else WARN.
 * The body is bounded (CHECK_STS_POLICY_MAX), the fetch by [check] timeout.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "dns.h"
#include "check.h"

/* check_sts_txt - the first TXT record of name starting with prefix, into out; status */
static enum dns_status
check_sts_txt(struct check_ctx *cx, const char *name, const char *prefix, char *out,
    size_t outlen)
{
	struct dns_answer	a;
	enum dns_status		st = dns_lookup(cx->dns, name, DNS_T_TXT, 0, &a);

	out[0] = '\0';
	for (size_t i = 0; st == DNS_OK && i < a.n; i++)
		if (strncasecmp((const char *)a.rr[i].data, prefix, strlen(prefix)) == 0) {
			snprintf(out, outlen, "%s", (const char *)a.rr[i].data);
			break;
		}
	if (st == DNS_OK && out[0] == '\0')
		st = DNS_NODATA;
	snprintf(out + strlen(out), outlen - strlen(out), "%s", st == DNS_OK ? "" :
	    dns_status_name(st));
	dns_answer_free(&a);
	return st;
}

/* check_sts_body - curl write callback into a bounded buffer */
static size_t
check_sts_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, size * n) != 0)
		return 0;	/* over the bound: curl fails the transfer */
	return size * n;
}

/* check_sts_fetch - GET the policy into b; 0 ok, -1 (why) */
static int
check_sts_fetch(struct check_ctx *cx, const char *domain, struct buf *b, char *why,
    size_t whylen)
{
	char			 host[DNS_NAME_MAX + 1], url[DNS_NAME_MAX + 64], pin[DNS_NAME_MAX + 64];
	char			 ip[INET_ADDRSTRLEN], cerr[CURL_ERROR_SIZE] = "";
	long			 port = config_num(cx->cfg, "check", "mta_sts_port", 443, 1, 65535);
	long			 code = 0;
	struct curl_slist	*res = NULL;
	struct dns_answer	 a;
	CURL			*h;
	CURLcode		 rc;

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	if (dns_lookup(cx->dns, host, DNS_T_A, 0, &a) != DNS_OK) {
		snprintf(why, whylen, "%.200s has no A record (%s)", host, dns_status_name(a.status));
		dns_answer_free(&a);
		return -1;
	}
	inet_ntop(AF_INET, &a.rr[0].a, ip, sizeof(ip));
	dns_answer_free(&a);
	snprintf(url, sizeof(url), "https://%s:%ld/.well-known/mta-sts.txt", host, port);
	snprintf(pin, sizeof(pin), "%s:%ld:%s", host, port, ip);
	if ((h = curl_easy_init()) == NULL || (res = curl_slist_append(NULL, pin)) == NULL) {
		snprintf(why, whylen, "out of memory");
		curl_easy_cleanup(h);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_RESOLVE, res);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cx->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, cx->ca_file);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)cx->timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, check_sts_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(res);
	if (rc != CURLE_OK)
		snprintf(why, whylen, "%.150s (%s): %.150s", url, ip, cerr[0] ? cerr :
		    curl_easy_strerror(rc));
	else if (code != 200)
		snprintf(why, whylen, "%.150s (%s): HTTP %ld (a policy needs 200, no redirects)", url,
		    ip, code);
	return rc == CURLE_OK && code == 200 ? 0 : -1;
}

/* check_sts_match - does host match an mx: pattern (RFC 8461 4.1)? */
static int
check_sts_match(const char *pat, const char *host)
{
	const char *dot;

	if (strncmp(pat, "*.", 2) == 0)
		return (dot = strchr(host, '.')) != NULL && dot != host &&
		    strcasecmp(dot + 1, pat + 2) == 0;
	return strcasecmp(pat, host) == 0;
}

struct check_policy {
	char	mode[16];
	char	version[16];
	char	mx[CHECK_EVIDENCE_MAX / 2];	/* patterns, ", "-separated */
	int	nmx;
};

/* check_sts_parse - "key: value" lines (RFC 8461 3.2), mx patterns kept space-separated */
static void
check_sts_parse(char *text, struct check_policy *p)
{
	char *line, *next, *v;

	memset(p, 0, sizeof(*p));
	for (line = text; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		v[strcspn(v, " \t")] = '\0';
		if (strcmp(line, "mode") == 0)
			snprintf(p->mode, sizeof(p->mode), "%s", v);
		else if (strcmp(line, "version") == 0)
			snprintf(p->version, sizeof(p->version), "%s", v);
		else if (strcmp(line, "mx") == 0 && strlen(p->mx) + strlen(v) + 2 < sizeof(p->mx)) {
			check_cat(p->mx, sizeof(p->mx), "%s%s", p->nmx ? " " : "", v);
			p->nmx++;
		}
	}
}

/* check_sts_policy - the gateways against the fetched policy */
static void
check_sts_policy(struct check_ctx *cx, const char *domain, const char *txt, char *body)
{
	struct check_policy	 p;
	char			 missing[CHECK_EVIDENCE_MAX / 2] = "", pats[sizeof(p.mx)], fix[256];
	char			*pat, *sp;
	int			 enforce;

	check_sts_parse(body, &p);
	if (strcmp(p.version, "STSv1") != 0) {
		check_add(cx, "mta_sts", domain, CHECK_FAIL, "serve a policy starting with "
		    "\"version: STSv1\"", "policy of %s has no \"version: STSv1\" (TXT %s)", domain,
		    txt);
		return;
	}
	for (size_t g = 0; g < cx->ngateways; g++) {
		int hit = 0;

		snprintf(pats, sizeof(pats), "%s", p.mx);
		for (pat = pats; pat && *pat && !hit; pat = sp) {
			if ((sp = strchr(pat, ' ')) != NULL)
				*sp++ = '\0';
			hit = check_sts_match(pat, cx->gateways[g]);
		}
		if (!hit)
			check_cat(missing, sizeof(missing), "%s%s", missing[0] ? ", " : "",
			    cx->gateways[g]);
	}
	enforce = strcmp(p.mode, "enforce") == 0;
	snprintf(fix, sizeof(fix), "add \"mx: %s\" to the policy and change its id in the "
	    "_mta-sts TXT record (senders cache the old policy until max_age)", missing);
	if (missing[0])
		check_add(cx, "mta_sts", domain, enforce ? CHECK_FAIL : CHECK_WARN, fix,
		    "mode %s, mx: %s; not matched: %s%s", p.mode, p.mx, missing, enforce ?
		    " (compliant senders will refuse to fail over to it)" : "");
	else
		check_add(cx, "mta_sts", domain, CHECK_PASS, NULL, "mode %s, mx: %s; every "
		    "gateway matches (TXT %s)", p.mode, p.mx, txt);
}

void
check_sts(struct check_ctx *cx, const char *domain)
{
	char		name[DNS_NAME_MAX + 1], txt[256], why[CHECK_EVIDENCE_MAX];
	struct buf	b;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	switch (check_sts_txt(cx, name, "v=STSv1", txt, sizeof(txt))) {
	case DNS_OK:
		buf_init(&b, CHECK_STS_POLICY_MAX);
		if (check_sts_fetch(cx, domain, &b, why, sizeof(why)) != 0)
			check_add(cx, "mta_sts", domain, CHECK_FAIL, "serve the policy at "
			    "https://mta-sts.DOMAIN/.well-known/mta-sts.txt with a valid certificate, "
			    "or remove the _mta-sts record", "TXT %s present, policy not fetched: %s",
			    txt, why);
		else {
			char empty[1] = "";

			check_sts_policy(cx, domain, txt, b.data ? b.data : empty);
		}
		buf_free(&b);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		check_add(cx, "mta_sts", domain, CHECK_PASS, NULL, "no MTA-STS record at %s", name);
		break;
	default:
		check_add(cx, "mta_sts", domain, CHECK_FAIL, "check the zone and [dns] nameserver",
		    "TXT lookup of %s: %s", name, txt);
	}
	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (check_sts_txt(cx, name, "v=TLSRPTv1", txt, sizeof(txt)) == DNS_OK)
		check_add(cx, "tls_rpt", domain, CHECK_PASS, NULL, "%s: %s", name, txt);
	else
		check_add(cx, "tls_rpt", domain, CHECK_WARN, "publish \"v=TLSRPTv1; rua=mailto:...\""
		    " to hear when senders fail TLS to your MX hosts", "no TLS-RPT record at %s (%s)",
		    name, txt);
}
