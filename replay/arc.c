/*
 * arc.c - add an ARC set to a message at replay (RFC 8617 5.1): see arc.h.
 *
 * Entry points: arc_conf_load(), arc_skip(), arc_seal().  Steps: read the
 * header block (bounded), find the existing sets (arc_chain.c), hash the body
 * once streaming (relaxed for our AMS, plus the latest AMS's form when that
 * differs), validate the chain for cv=, then sign the AMS and the seal.
 * A chain over 50 sets cannot take another one and is not sealed.
 * ARC-Authentication-Results: the Authentication-Results: the ingest wrote,
 * kept in the stored object, rather than a text rebuilt from the index's
 * verdict columns: RFC 8617 4.1.1 makes the AAR a copy of the A-R the sealer
 * made, and that field has what the columns lose (smtp.mailfrom, header.d
 * and header.s of each signature, header.from, the DMARC policy), which the
 * primary's ARC override and its operators read.  The index decides whether
 * the header may be used at all: a message the ingest did not verify gets
 * "none" (its ingest renamed no forged header), and a verified one whose
 * header is not where the ingest puts it gets the index's words.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "arc.h"
#include "config.h"
#include "dns.h"

/* body bytes per pread() while hashing */
#define ARC_CHUNK	(64 * 1024)
/* header fields our ARC-Message-Signature covers when present (RFC 6376 5.4.1) */
static const char *const arc_sign_names[] = {
	"From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "In-Reply-To",
	"References", "List-Id", "DKIM-Signature", "Authentication-Results",
};

int
arc_conf_load(const struct config *cfg, struct arc_conf **out, char *err, size_t errlen)
{
	struct arc_conf	*a;
	const char	*d, *s, *k, *v, *iv;
	char		 host[256], why[ERRSTR_MAX - 16];

	*out = NULL;
	d = config_str(cfg, "arc", "domain", NULL);
	s = config_str(cfg, "arc", "selector", NULL);
	k = config_str(cfg, "arc", "key_file", NULL);
	if (d == NULL && s == NULL && k == NULL)
		return 0;
	if (d == NULL || s == NULL || k == NULL || !*d || !*s || !*k) {
		snprintf(err, errlen, "domain, selector and key_file go together");
		return -1;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	/* the authserv-id the ingest writes (ingest/auth.c), unless set for the seals alone */
	iv = config_str(cfg, "auth", "authserv_id", config_str(cfg, "ingest", "hostname", host));
	v = config_str(cfg, "arc", "authserv_id", iv);
	snprintf(a->ingest_id, sizeof(a->ingest_id), "%s", iv);
	if ((size_t)snprintf(a->domain, sizeof(a->domain), "%s", d) >= sizeof(a->domain) ||
	    (size_t)snprintf(a->selector, sizeof(a->selector), "%s", s) >= sizeof(a->selector) ||
	    (size_t)snprintf(a->authserv_id, sizeof(a->authserv_id), "%s", v) >=
	    sizeof(a->authserv_id) || strpbrk(d, " \t;=") || strpbrk(s, " \t;=") ||
	    strpbrk(v, " \t;\r\n")) {
		snprintf(err, errlen, "domain, selector or authserv_id too long or with"
		    " spaces, ';' or '='");
		goto fail;
	}
	if ((a->skip = strdup(config_str(cfg, "arc", "skip_targets", ""))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (char *p = a->skip; *p; p++)
		if (*p == ',' || *p == '\t')
			*p = ' ';
	/* key records of an existing chain come through the one resolver ([dns]) */
	if ((a->dns = dns_open(cfg, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	a->keyfn = dkim_dns_txt;
	a->keyarg = a->dns;
	if ((a->key = dkim_key_load(k, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "key_file %s", why);
		goto fail;
	}
	*out = a;
	return 0;
fail:
	arc_conf_free(a);
	return -1;
}

void
arc_conf_free(struct arc_conf *a)
{
	if (a == NULL)
		return;
	dkim_key_free(a->key);
	if (a->dns != NULL)
		dns_close(a->dns);
	free(a->skip);
	free(a);
}

int
arc_skip(const struct arc_conf *a, const char *target)
{
	const char	*p = a->skip, *e;
	size_t		 n = strlen(target);

	for (; *p; p = e) {
		p += strspn(p, " ");
		e = p + strcspn(p, " ");
		if ((size_t)(e - p) == n && n > 0 && strncmp(p, target, n) == 0)
			return 1;
	}
	return 0;
}

/* arc_read_header - the header block into hb; *body gets the body's offset; 0 ok, -1 */
static int
arc_read_header(int fd, off_t size, struct buf *hb, off_t *body, char *err, size_t errlen)
{
	char	chunk[8192];
	ssize_t	n;
	size_t	from;
	char	*e;

	*body = size;
	if (size >= 2) {	/* an empty header block: the message starts with CRLF */
		if ((n = pread(fd, chunk, 2, 0)) == 2 && memcmp(chunk, "\r\n", 2) == 0) {
			*body = 2;
			return 0;
		}
	}
	while ((off_t)hb->len < size) {
		if ((n = pread(fd, chunk, sizeof(chunk), (off_t)hb->len)) <= 0) {
			snprintf(err, errlen, "reading the message: %s", n == 0 ? "short file" :
			    strerror(errno));
			return -1;
		}
		if (buf_add(hb, chunk, (size_t)n) == -1) {
			snprintf(err, errlen, "header block over %d bytes", ARC_HEADER_MAX);
			return -1;
		}
		/* look again from 3 bytes before the new ones: the blank line may straddle */
		from = hb->len - (size_t)n > 3 ? hb->len - (size_t)n - 3 : 0;
		e = memmem(hb->data + from, hb->len - from, "\r\n\r\n", 4);
		if (e != NULL) {
			*body = (off_t)(e - hb->data) + 4;
			hb->len = (size_t)(e - hb->data) + 2;	/* the last field keeps its CRLF */
			return 0;
		}
	}
	return 0;	/* no body */
}

/* arc_hash_body - one pass over the body into our hasher and, if set, the chain's */
static int
arc_hash_body(int fd, off_t off, off_t size, struct dkim_body *ours, struct dkim_body *theirs,
    char *err, size_t errlen)
{
	char	*chunk;
	ssize_t	 n;
	int	 rc = -1;

	if ((chunk = malloc(ARC_CHUNK)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (off < size) {
		n = pread(fd, chunk, size - off < ARC_CHUNK ? (size_t)(size - off) : ARC_CHUNK,
		    off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "reading the body: %s", n == 0 ? "short file" :
			    strerror(errno));
			goto out;
		}
		if (dkim_body_feed(ours, chunk, (size_t)n) == -1 ||
		    (theirs != NULL && dkim_body_feed(theirs, chunk, (size_t)n) == -1)) {
			snprintf(err, errlen, "hashing the body failed");
			goto out;
		}
		off += n;
	}
	rc = 0;
out:
	free(chunk);
	return rc;
}

/*
 * arc_ingest_results - the resinfo of the Authentication-Results: the ingest wrote, or NULL.
 * It prepends exactly two fields, its Received: then its Authentication-Results: (RFC 8601
 * 2.2: authserv-id [version] ";" resinfo), so only the second field of the stored object
 * qualifies, and only for a message the ingest verified (the caller knows from the index).
 * An Authentication-Results: anywhere else came with the message: never ours to seal, even
 * with our authserv-id (the ingest renames those only when it verifies, RFC 8601 5).
 */
static const char *
arc_ingest_results(const struct arc_conf *a, const struct dkim_hdr *h, int nh, size_t *len)
{
	const char	*v, *e, *semi;
	size_t		 vl, idl = strlen(a->ingest_id);

	if (nh < 2 || !dkim_hdr_is(&h[0], "Received") ||
	    !dkim_hdr_is(&h[1], "Authentication-Results"))
		return NULL;
	v = dkim_hdr_value(&h[1], &vl);
	e = v + vl;
	while (v < e && strchr(" \t\r\n", *v))
		v++;
	/* and it names the ingest's authserv-id: a config that changed since says so */
	if ((size_t)(e - v) <= idl || strncasecmp(v, a->ingest_id, idl) != 0 ||
	    strchr("; \t\r\n", v[idl]) == NULL || (semi = memchr(v, ';', (size_t)(e - v))) == NULL)
		return NULL;
	for (v = semi + 1; v < e && strchr(" \t\r\n", *v); v++)
		;
	while (e > v && strchr(" \t\r\n", e[-1]))
		e--;
	*len = (size_t)(e - v);
	return v < e ? v : NULL;
}

/* arc_fold_list - h= value: names joined by ':', folded before a line passes 78 columns */
static int
arc_fold_list(struct buf *out, const struct dkim_hdr *h, int nh)
{
	size_t	col = 3, i, k;
	int	first = 1, rc = 0, n;

	for (i = 0; i < sizeof(arc_sign_names) / sizeof(arc_sign_names[0]); i++) {
		/* every instance present, From once more: no From can be added (RFC 6376 8.15) */
		n = strcasecmp(arc_sign_names[i], "From") == 0;
		for (k = 0; k < (size_t)nh; k++)
			n += dkim_hdr_is(&h[k], arc_sign_names[i]);
		for (; n > 0; n--) {
			if (!first && col + strlen(arc_sign_names[i]) + 1 > 78) {
				rc |= buf_addstr(out, "\r\n\t");
				col = 1;
			}
			rc |= buf_printf(out, "%s%s", first ? "" : ":", arc_sign_names[i]);
			col += strlen(arc_sign_names[i]) + 1;
			first = 0;
		}
	}
	return rc;
}

/* arc_sign_field - sign in (the signing input so far) + field f canonicalized, then append b= */
static int
arc_sign_field(const struct arc_conf *a, struct buf *in, struct buf *f)
{
	char	sig[DKIM_SIG_MAX];
	size_t	mark = in->len;
	int	rc;

	if (dkim_canon_header(in, DKIM_CANON_RELAXED, f->data, f->len) == -1)
		return -1;
	rc = dkim_key_sign(a->key, in->data, in->len, sig, sizeof(sig));
	in->len = mark;		/* the field goes in again, complete, if another signature needs it */
	if (rc == -1 || buf_addstr(f, sig) == -1)
		return -1;
	return 0;
}

/* arc_make - build and sign the three fields of instance i into out (seal on top) */
static int
arc_make(const struct arc_conf *a, struct arc_chain *ch, const struct dkim_hdr *h, int nh,
    int i, const char *cv, const char *results, const unsigned char bh[32], time_t now,
    struct buf *out)
{
	struct buf	aar, ams, as, in, hl;
	char		bh64[64];
	const char	*alg = dkim_alg_name(dkim_key_alg(a->key));
	int		rc = -1, fail = strcmp(cv, "fail") == 0;

	buf_init(&aar, ARC_HEADER_MAX);
	buf_init(&ams, ARC_HEADER_MAX);
	buf_init(&as, ARC_HEADER_MAX);
	buf_init(&in, 2 * ARC_HEADER_MAX);
	buf_init(&hl, ARC_HEADER_MAX);
	EVP_EncodeBlock((unsigned char *)bh64, bh, 32);
	if (buf_printf(&aar, "ARC-Authentication-Results: i=%d; %s;\r\n\t%s", i, a->authserv_id,
	    results) == -1)
		goto out;
	/* AMS: the selected fields, then itself with b= empty (RFC 8617 4.1.2, RFC 6376 3.7) */
	if (arc_fold_list(&hl, h, nh) == -1 || buf_add(&hl, "", 0) == -1 ||
	    buf_printf(&ams, "ARC-Message-Signature: i=%d; a=%s; c=relaxed/relaxed;\r\n\t"
	    "d=%s; s=%s; t=%lld;\r\n\th=%s;\r\n\tbh=%s;\r\n\tb=", i, alg, a->domain, a->selector,
	    (long long)now, hl.data, bh64) == -1 ||
	    arc_hsel(&in, DKIM_CANON_RELAXED, h, nh, hl.data) == -1 ||
	    arc_sign_field(a, &in, &ams) == -1)
		goto out;
	/* AS: every set 1..i in order, AAR AMS AS, its own b= empty (RFC 8617 5.1.1);
	 * a failed chain is not covered: only the new set (as OpenARC and dkimpy do) */
	buf_reset(&in);
	for (int j = 1; !fail && j < i; j++) {
		if (arc_canon_add(&in, DKIM_CANON_RELAXED, ch->aar[j]) == -1 ||
		    arc_canon_add(&in, DKIM_CANON_RELAXED, ch->ams[j]) == -1 ||
		    arc_canon_add(&in, DKIM_CANON_RELAXED, ch->as[j]) == -1)
			goto out;
	}
	if (dkim_canon_header(&in, DKIM_CANON_RELAXED, aar.data, aar.len) == -1 ||
	    buf_add(&in, "\r\n", 2) == -1 ||
	    dkim_canon_header(&in, DKIM_CANON_RELAXED, ams.data, ams.len) == -1 ||
	    buf_add(&in, "\r\n", 2) == -1 ||
	    buf_printf(&as, "ARC-Seal: i=%d; a=%s; t=%lld; cv=%s;\r\n\td=%s; s=%s;\r\n\tb=", i,
	    alg, (long long)now, cv, a->domain, a->selector) == -1 ||
	    arc_sign_field(a, &in, &as) == -1)
		goto out;
	if (buf_add(out, as.data, as.len) == -1 || buf_add(out, "\r\n", 2) == -1 ||
	    buf_add(out, ams.data, ams.len) == -1 || buf_add(out, "\r\n", 2) == -1 ||
	    buf_add(out, aar.data, aar.len) == -1 || buf_add(out, "\r\n", 2) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&as);
	buf_free(&in);
	buf_free(&hl);
	return rc;
}

/* arc_clean_results - a caller's resinfo on one line: CR and LF become spaces */
static int
arc_clean_results(struct buf *out, const char *results)
{
	for (const char *p = results; *p; p++)
		if (buf_add(out, *p == '\r' || *p == '\n' ? " " : p, 1) == -1)
			return -1;
	return out->len == 0 ? buf_addstr(out, "none") : 0;
}

int
arc_seal(const struct arc_conf *a, int fd, off_t size, const char *verdicts, time_t now,
    struct buf *out, struct arc_result *res, char *err, size_t errlen)
{
	const char		*ar;
	size_t			 arlen;
	struct buf		 hb, rs;
	struct dkim_hdr		*h = NULL;
	struct dkim_body	 ours, theirs;
	struct arc_chain	*ch = NULL;
	unsigned char		 bh[32], bh2[32];
	off_t			 body;
	int			 nh, rc = -1, two = 0;
	const char		*cv;

	memset(res, 0, sizeof(*res));
	memset(&ours, 0, sizeof(ours));
	memset(&theirs, 0, sizeof(theirs));
	buf_init(&hb, ARC_HEADER_MAX);
	buf_init(&rs, ARC_HEADER_MAX);
	if ((h = calloc(ARC_FIELDS_MAX, sizeof(*h))) == NULL ||
	    (ch = malloc(sizeof(*ch))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (arc_read_header(fd, size, &hb, &body, err, errlen) == -1)
		goto out;
	if ((nh = dkim_split(hb.data, hb.len, h, ARC_FIELDS_MAX)) < 0) {
		snprintf(err, errlen, "header block does not parse (or over %d fields)",
		    ARC_FIELDS_MAX);
		goto out;
	}
	arc_chain_scan(h, nh, ch);
	if (ch->n >= ARC_INSTANCE_MAX) {
		snprintf(err, errlen, "ARC chain at its limit of %d sets", ARC_INSTANCE_MAX);
		goto out;
	}
	/* the latest AMS may hash the body in the simple form: hash both in one pass */
	two = ch->n > 0 && !ch->broken && ch->ams_bcanon != DKIM_CANON_RELAXED;
	if (dkim_body_init(&ours, DKIM_CANON_RELAXED) == -1 ||
	    (two && dkim_body_init(&theirs, ch->ams_bcanon) == -1)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (arc_hash_body(fd, body, size, &ours, two ? &theirs : NULL, err, errlen) == -1 ||
	    dkim_body_final(&ours, bh) == -1 || (two && dkim_body_final(&theirs, bh2) == -1))
		goto out;
	cv = arc_chain_validate(ch, h, nh, two ? bh2 : bh, a->keyfn, a->keyarg);
	/* not verified: "none"; verified: the ingest's own header, else the stored words */
	if (verdicts == NULL)
		rc = buf_addstr(&rs, "none");
	else if ((ar = arc_ingest_results(a, h, nh, &arlen)) != NULL)
		rc = buf_add(&rs, ar, arlen);
	else
		rc = arc_clean_results(&rs, verdicts);
	if (rc == -1 || buf_add(&rs, "", 0) == -1 ||
	    (rc = arc_make(a, ch, h, nh, ch->n + 1, cv, rs.data, bh, now, out)) == -1) {
		snprintf(err, errlen, "building the ARC set failed");
		rc = -1;
		goto out;
	}
	res->instance = ch->n + 1;
	snprintf(res->cv, sizeof(res->cv), "%s", cv);
	snprintf(res->why, sizeof(res->why), "%s", strcmp(cv, "fail") == 0 ? ch->why : "");
out:
	dkim_body_free(&ours);
	dkim_body_free(&theirs);
	free(ch);
	free(h);
	buf_free(&hb);
	buf_free(&rs);
	return rc;
}
