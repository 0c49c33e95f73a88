/*
 * arc_chain.c - the ARC sets already on a message: structure (RFC 8617 5.2
 * steps 1-4) and validation of the latest ARC-Message-Signature and of every
 * ARC-Seal (steps 5-7), the input to the cv= of the set replay adds.
 *
 * Entry points: arc_chain_scan(), arc_chain_validate(), and the signing-input
 * helpers arc_canon_add() and arc_hsel() that arc.c shares.  Key records come
 * through a dkim_keyfn; a lookup that fails (even temporarily) fails the
 * chain: a seal must say what this gateway saw, and it saw no valid chain.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc.h"

/* signing input of a seal: every ARC set's text (at most 50 x 3 fields) */
#define ARC_INPUT_MAX	(ARC_HEADER_MAX + 64 * 1024)

int
arc_canon_add(struct buf *out, enum dkim_canon c, const struct dkim_hdr *h)
{
	if (dkim_canon_header(out, c, h->raw, h->len) == -1 || buf_add(out, "\r\n", 2) == -1)
		return -1;
	return 0;
}

int
arc_hsel(struct buf *out, enum dkim_canon c, const struct dkim_hdr *h, int nh,
    const char *hlist)
{
	const char	*p = hlist, *e, *n0, *n1;
	char		*used, name[128];
	int		 i, rc = -1;

	if ((used = calloc((size_t)nh + 1, 1)) == NULL)
		return -1;
	for (; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ":");
		for (n0 = p; n0 < e && strchr(" \t\r\n", *n0) != NULL; n0++)
			;	/* folding whitespace around the names */
		for (n1 = e; n1 > n0 && strchr(" \t\r\n", n1[-1]) != NULL; n1--)
			;
		if (n1 == n0 || (size_t)(n1 - n0) >= sizeof(name))
			continue;
		memcpy(name, n0, (size_t)(n1 - n0));
		name[n1 - n0] = '\0';
		/* each listing takes the next instance from the bottom; none left: nothing */
		for (i = nh - 1; i >= 0; i--)
			if (!used[i] && dkim_hdr_is(&h[i], name)) {
				used[i] = 1;
				if (arc_canon_add(out, c, &h[i]) == -1)
					goto out;
				break;
			}
	}
	rc = 0;
out:
	free(used);
	return rc;
}

/* arc_chain_broken - mark the structure invalid with a reason (the first one wins) */
static void __attribute__((format(printf, 2, 3)))
arc_chain_broken(struct arc_chain *ch, const char *fmt, ...)
{
	va_list ap;

	if (ch->broken)
		return;
	ch->broken = 1;
	va_start(ap, fmt);
	vsnprintf(ch->why, sizeof(ch->why), fmt, ap);
	va_end(ap);
}

/* arc_chain_tag - a tag of field h into out; 1 found */
static int
arc_chain_tag(const struct dkim_hdr *h, const char *tag, char *out, size_t outlen, int strip)
{
	const char	*v;
	size_t		 vl;

	v = dkim_hdr_value(h, &vl);
	return dkim_tag(v, vl, tag, out, outlen, strip) == 1;
}

void
arc_chain_scan(const struct dkim_hdr *h, int nh, struct arc_chain *ch)
{
	const struct dkim_hdr	**slot;
	char			  v[16], cv[16], c[64];
	char			 *end;
	long			  i;

	memset(ch, 0, sizeof(*ch));
	for (int k = 0; k < nh; k++) {
		if (dkim_hdr_is(&h[k], "ARC-Authentication-Results"))
			slot = ch->aar;
		else if (dkim_hdr_is(&h[k], "ARC-Message-Signature"))
			slot = ch->ams;
		else if (dkim_hdr_is(&h[k], "ARC-Seal"))
			slot = ch->as;
		else
			continue;
		if (!arc_chain_tag(&h[k], "i", v, sizeof(v), 1) || v[0] < '1' || v[0] > '9' ||
		    (i = strtol(v, &end, 10)) < 1 || *end != '\0') {
			arc_chain_broken(ch, "an ARC field without a valid i=");
			continue;
		}
		if (i > ARC_INSTANCE_MAX) {
			arc_chain_broken(ch, "i=%ld over the limit of %d", i, ARC_INSTANCE_MAX);
			ch->n = ARC_INSTANCE_MAX;
			continue;
		}
		if (slot[i] != NULL)
			arc_chain_broken(ch, "two %.*s with i=%ld", (int)h[k].namelen, h[k].name, i);
		slot[i] = &h[k];
		if (i > ch->n)
			ch->n = (int)i;
	}
	for (i = 1; i <= ch->n; i++) {
		if (ch->aar[i] == NULL || ch->ams[i] == NULL || ch->as[i] == NULL) {
			arc_chain_broken(ch, "ARC set i=%ld incomplete", i);
			continue;
		}
		if (!arc_chain_tag(ch->as[i], "cv", cv, sizeof(cv), 1))
			cv[0] = '\0';
		if (i == ch->n && strcmp(cv, "fail") == 0)
			arc_chain_broken(ch, "the chain already failed (ARC-Seal i=%ld cv=fail)", i);
		else if (strcmp(cv, i == 1 ? "none" : "pass") != 0)
			arc_chain_broken(ch, "ARC-Seal i=%ld has cv=%s", i, cv);
	}
	ch->ams_hcanon = ch->ams_bcanon = DKIM_CANON_RELAXED;
	if (ch->n > 0 && ch->ams[ch->n] != NULL && arc_chain_tag(ch->ams[ch->n], "c", c,
	    sizeof(c), 1)) {
		ch->ams_hcanon = strncmp(c, "simple", 6) == 0 ? DKIM_CANON_SIMPLE :
		    DKIM_CANON_RELAXED;
		ch->ams_bcanon = strstr(c, "/simple") != NULL || strcmp(c, "simple") == 0 ?
		    DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	}
}

/* arc_chain_verify - signature of field sig over input in (its b= and key via keyfn); 1 valid */
static int
arc_chain_verify(struct arc_chain *ch, const struct dkim_hdr *sig, const struct buf *in,
    dkim_keyfn keyfn, void *keyarg)
{
	char		d[MXS_DOMAIN_MAX + 1], s[64], a[32], b[DKIM_SIG_MAX], name[400];
	char		rec[DKIM_KEYREC_MAX], err[ERRSTR_MAX];
	enum dkim_alg	alg;
	enum dkim_dns	st;

	if (!arc_chain_tag(sig, "d", d, sizeof(d), 1) || !arc_chain_tag(sig, "s", s, sizeof(s), 1) ||
	    !arc_chain_tag(sig, "a", a, sizeof(a), 1) || !arc_chain_tag(sig, "b", b, sizeof(b), 1) ||
	    dkim_alg_parse(a, &alg) == -1) {
		snprintf(ch->why, sizeof(ch->why), "%.*s: missing or unknown d=, s=, a= or b=",
		    (int)sig->namelen, sig->name);
		return 0;
	}
	snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	if ((st = keyfn(keyarg, name, rec, sizeof(rec))) != DKIM_DNS_OK) {
		snprintf(ch->why, sizeof(ch->why), "key %.120s: %s", name, st == DKIM_DNS_NOTFOUND ?
		    "no such record" : "DNS temporary failure");
		return 0;
	}
	if (!dkim_key_verify(rec, alg, in->data, in->len, b, err, sizeof(err))) {
		snprintf(ch->why, sizeof(ch->why), "%.*s d=%.60s s=%.30s: %.100s", (int)sig->namelen,
		    sig->name, d, s, err);
		return 0;
	}
	return 1;
}

/* arc_chain_ams - the latest ARC-Message-Signature (RFC 8617 5.2 step 5); 1 valid */
static int
arc_chain_ams(struct arc_chain *ch, const struct dkim_hdr *h, int nh, const unsigned char bh[32],
    dkim_keyfn keyfn, void *keyarg)
{
	const struct dkim_hdr	*ams = ch->ams[ch->n];
	char			 hl[4096], bhtag[128], bh64[64];
	struct buf		 in, stripped;
	struct dkim_hdr		 sh;
	int			 ok = 0;

	EVP_EncodeBlock((unsigned char *)bh64, bh, 32);
	if (!arc_chain_tag(ams, "bh", bhtag, sizeof(bhtag), 1) || strcmp(bhtag, bh64) != 0) {
		snprintf(ch->why, sizeof(ch->why), "ARC-Message-Signature i=%d: body hash"
		    " mismatch", ch->n);
		return 0;
	}
	if (!arc_chain_tag(ams, "h", hl, sizeof(hl), 0)) {
		snprintf(ch->why, sizeof(ch->why), "ARC-Message-Signature i=%d: no h=", ch->n);
		return 0;
	}
	buf_init(&in, ARC_INPUT_MAX);
	buf_init(&stripped, ARC_INPUT_MAX);
	if (arc_hsel(&in, ch->ams_hcanon, h, nh, hl) == 0 &&
	    dkim_strip_b(&stripped, ams->raw, ams->len) == 0) {
		sh = *ams;
		sh.raw = stripped.data;
		sh.len = stripped.len;
		if (dkim_canon_header(&in, ch->ams_hcanon, sh.raw, sh.len) == 0)
			ok = arc_chain_verify(ch, ams, &in, keyfn, keyarg);
	}
	buf_free(&in);
	buf_free(&stripped);
	return ok;
}

/* arc_chain_seal - ARC-Seal i (RFC 8617 5.1.1: the sets 1..i, its own b= empty); 1 valid */
static int
arc_chain_seal(struct arc_chain *ch, int i, dkim_keyfn keyfn, void *keyarg)
{
	struct buf	in, stripped;
	int		ok = 0, j;

	buf_init(&in, ARC_INPUT_MAX);
	buf_init(&stripped, ARC_INPUT_MAX);
	for (j = 1; j <= i; j++)
		if (arc_canon_add(&in, DKIM_CANON_RELAXED, ch->aar[j]) == -1 ||
		    arc_canon_add(&in, DKIM_CANON_RELAXED, ch->ams[j]) == -1 ||
		    (j < i && arc_canon_add(&in, DKIM_CANON_RELAXED, ch->as[j]) == -1))
			goto out;
	if (dkim_strip_b(&stripped, ch->as[i]->raw, ch->as[i]->len) == -1 ||
	    dkim_canon_header(&in, DKIM_CANON_RELAXED, stripped.data, stripped.len) == -1)
		goto out;
	ok = arc_chain_verify(ch, ch->as[i], &in, keyfn, keyarg);
out:
	buf_free(&in);
	buf_free(&stripped);
	return ok;
}

const char *
arc_chain_validate(struct arc_chain *ch, const struct dkim_hdr *h, int nh,
    const unsigned char bh[32], dkim_keyfn keyfn, void *keyarg)
{
	if (ch->n == 0)
		return "none";
	if (ch->broken || !arc_chain_ams(ch, h, nh, bh, keyfn, keyarg))
		return "fail";
	for (int i = ch->n; i >= 1; i--)
		if (!arc_chain_seal(ch, i, keyfn, keyarg))
			return "fail";
	return "pass";
}
