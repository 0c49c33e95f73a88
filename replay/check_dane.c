/*
 * check_dane.c - readiness area "DANE" (RFC 7672): do this gateway's TLSA
 * records, as a DANE sender sees them, match the certificate it serves?
 *
 * Entry point: check_dane(), after check_tls() kept the served certificate
 * (cx->cert_der, cx->spki_der).  The records are those of _25._tcp.HOSTNAME
 * (RFC 7672 3.1).  They count only when DNSSEC-validated (RFC 7672 2.2): the
 * resolver validates with [dns] trust_anchor (common/dns.c), and
 *   secure   - compared: one DANE-EE/PKIX-EE record (usage 3/1) matching the
 *              served key or certificate is a PASS, none a FAIL;
 *   insecure - senders ignore the records, DANE is not in effect: WARN (with
 *              whether they would match), never a PASS;
 *   bogus    - senders that do DANE must not deliver to an MX whose TLSA
 *              lookup fails validation: FAIL with the validator's reason.
 * No TLSA records: PASS (DANE not in use).  Usage 0/2 records (trust anchors)
 * name a CA, not the leaf: not compared, WARN.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "dns.h"
#include "check.h"

/* check_tlsa_match - does one TLSA record match the kept certificate? */
static int
check_tlsa_match(const struct check_ctx *cx, const struct dns_rr *rr)
{
	const unsigned char	*data = rr->selector == 0 ? cx->cert_der : cx->spki_der;
	size_t			 len = rr->selector == 0 ? cx->cert_len : cx->spki_len;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen = 0;

	if (rr->usage != 1 && rr->usage != 3)	/* trust-anchor records: not the leaf */
		return 0;
	if (rr->mtype == 0)
		return rr->len == len && memcmp(rr->data, data, len) == 0;
	if ((rr->mtype != 1 && rr->mtype != 2) || EVP_Digest(data, len, md, &mdlen,
	    rr->mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL) != 1)
		return 0;
	return rr->len == mdlen && memcmp(rr->data, md, mdlen) == 0;
}

/* check_dane_insecure - records a sender ignores: say why, and whether they would match */
static void
check_dane_insecure(struct check_ctx *cx, const char *name, const struct dns_answer *a,
    int match)
{
	const char	*ta = config_str(cx->cfg, "dns", "trust_anchor", "");

	if (*ta == '\0')
		check_add(cx, "dane", NULL, CHECK_WARN, "set [dns] trust_anchor (e.g. "
		    "/usr/share/dns/root.key) so that the check can validate them like a DANE "
		    "sender", "%s has %zu TLSA records, not DNSSEC-validated: no [dns] "
		    "trust_anchor (they %s the served certificate)", name, a->n,
		    match ? "match" : "do not match");
	else
		check_add(cx, "dane", NULL, CHECK_WARN, "sign the zone and publish its DS in the "
		    "parent zone, or remove the TLSA records", "%s has %zu TLSA records in an "
		    "unsigned zone (DNSSEC: insecure): DANE senders ignore them (RFC 7672 2.2), "
		    "DANE is not in effect (they %s the served certificate)", name, a->n,
		    match ? "match" : "do not match");
}

void
check_dane(struct check_ctx *cx)
{
	struct dns_answer	a;
	char			name[DNS_NAME_MAX + 1], fix[CHECK_EVIDENCE_MAX], hex[2 * 32 + 1];
	unsigned char		md[32];
	unsigned int		mdlen = 0;
	size_t			i, ee = 0;

	snprintf(name, sizeof(name), "_25._tcp.%s", cx->hostname);
	dns_lookup(cx->dns, name, DNS_T_TLSA, 0, &a);
	if (a.sec == DNS_SEC_BOGUS)
		check_add(cx, "dane", NULL, CHECK_FAIL, "fix the zone's signatures or its DS in "
		    "the parent zone (e.g. `delv -t TLSA` shows the failure): DANE senders will "
		    "not deliver to this gateway meanwhile", "TLSA lookup of %s failed DNSSEC "
		    "validation (%s)", name, a.why);
	else if (a.status == DNS_NXDOMAIN || a.status == DNS_NODATA)
		check_add(cx, "dane", NULL, CHECK_PASS, NULL, "no TLSA at %s: DANE not in use",
		    name);
	else if (a.status != DNS_OK)
		check_add(cx, "dane", NULL, CHECK_WARN, "check the zone's TLSA records",
		    "TLSA lookup of %s: %s %s", name, dns_status_name(a.status), a.why);
	else if (cx->cert_der == NULL)
		check_add(cx, "dane", NULL, CHECK_FAIL, "fix the TLS check first", "%s has %zu "
		    "TLSA records but no certificate could be fetched to compare", name, a.n);
	else {
		for (i = 0; i < a.n && !check_tlsa_match(cx, &a.rr[i]); i++)
			;
		for (size_t k = 0; k < a.n; k++)
			ee += a.rr[k].usage == 1 || a.rr[k].usage == 3;
		EVP_Digest(cx->spki_der, cx->spki_len, md, &mdlen, EVP_sha256(), NULL);
		for (unsigned int k = 0; k < mdlen && k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", md[k]);
		snprintf(fix, sizeof(fix), "publish \"%s. TLSA 3 1 1 %s\" (the served key) before "
		    "removing the old record: DANE senders refuse a gateway no record matches",
		    name, hex);
		if (a.sec != DNS_SEC_SECURE)
			check_dane_insecure(cx, name, &a, i < a.n);
		else if (i < a.n)
			check_add(cx, "dane", NULL, CHECK_PASS, NULL, "TLSA %u %u %u at %s matches "
			    "the served certificate (DNSSEC: secure)", a.rr[i].usage,
			    a.rr[i].selector, a.rr[i].mtype, name);
		else if (ee == 0)	/* only trust-anchor records: they name a CA, not the leaf */
			check_add(cx, "dane", NULL, CHECK_WARN, "compare the CA of the served chain "
			    "with the TLSA records by hand, or publish a 3 1 1 record", "%s has only "
			    "trust-anchor TLSA records (usage 0/2): not compared by this check", name);
		else
			check_add(cx, "dane", NULL, CHECK_FAIL, fix, "none of the %zu TLSA records "
			    "at %s matches the served certificate (DNSSEC: secure)", a.n, name);
	}
	dns_answer_free(&a);
}
