/*
 * mailaddr.h - RFC 5321 paths, mailboxes and ESMTP parameters, by a cursor.
 *
 * mailaddr_parse_path() reads "<...>" (RFC 5321 4.1.2): an optional source
 * route "@a,@b:" is parsed and dropped (4.1.1.3: the route is ignored, the
 * final mailbox is what counts), the local part may be a dot-string or a
 * quoted string; with utf8 (SMTPUTF8, RFC 6531 3.3) UTF-8 is allowed in both
 * parts.  The result keeps the wire form (quotes kept) for replay and the
 * unquoted form for recipient verification.  Lengths follow 4.5.3.1.
 * Parameters: "KEY[=VALUE]" words (RFC 5321 4.1.2 esmtp-param); xtext and the
 * DSN values of RFC 3461 4.
 * mailaddr_domain_ascii() gives the one form a domain is looked up in: lower
 * case A-labels (RFC 5890), so a U-label domain of an SMTPUTF8 transaction
 * finds its [domain] section and list entries.
 * All functions are pure: nothing kept allocated, no logging.
 */
#ifndef MXS_MAILADDR_H
#define MXS_MAILADDR_H
#include <stddef.h>

#include "limits.h"

struct mailaddr {
	int	null;				/* "<>" */
	char	addr[MXS_ADDR_MAX + 1];		/* local@domain as on the wire, no route */
	char	unquoted[MXS_ADDR_MAX + 1];	/* local part unquoted, for verification */
	char	local[MXS_LOCALPART_MAX + 1];	/* unquoted local part */
	char	domain[MXS_DOMAIN_MAX + 1];
};

enum mailaddr_status {
	MAILADDR_OK = 0,
	MAILADDR_SYNTAX,	/* not a path */
	MAILADDR_TOOLONG,	/* a part exceeds RFC 5321 4.5.3.1 */
};

/*
 * mailaddr_parse_path - parse a path at s; *end gets the first byte after
 * '>'.  allow_null: "<>" is valid (MAIL FROM).  why: a static reason.
 */
enum mailaddr_status mailaddr_parse_path(const char *s, int allow_null, int utf8,
		    struct mailaddr *, const char **end, const char **why);

/*
 * mailaddr_next_param - split the next "KEY[=VALUE]" from *cur (space
 * separated); key and val are NUL-terminated copies.  Returns 1 with a
 * parameter, 0 at the end, -1 on bad syntax or overlong words.
 */
int	mailaddr_next_param(const char **cur, char *key, size_t keylen, char *val, size_t vallen,
	    int *hasval);

/* mailaddr_xtext_valid - RFC 3461 4: xtext with "+HH" escapes */
int	mailaddr_xtext_valid(const char *);
/* mailaddr_notify_valid - NEVER, or a comma list of SUCCESS FAILURE DELAY, no repeats */
int	mailaddr_notify_valid(const char *);
/* mailaddr_orcpt_valid - "rfc822;xtext" or "utf-8;..." (RFC 6533 3), at most DSN_ORCPT_MAX */
int	mailaddr_orcpt_valid(const char *);
/* mailaddr_size_parse - SIZE= value: 1 ok with *out, 0 number larger than max, -1 syntax */
int	mailaddr_size_parse(const char *, long long max, long long *out);
/* mailaddr_domain_valid - LDH labels (and UTF-8 when utf8), or an IPv4/"IPv6:" literal */
int	mailaddr_domain_valid(const char *, size_t, int utf8);
/* mailaddr_8bit - 1 if s has a byte over 0x7f (UTF-8: SMTPUTF8 needed to send it) */
int	mailaddr_8bit(const char *s);
/* mailaddr_domain_ascii - lower-case A-label form of domain, no final dot; -1 not IDNA2008 / too long */
int	mailaddr_domain_ascii(const char *domain, char *out, size_t outlen);
/*
 * mailaddr_key_compose - the lookup key "local@dom" (recipient lists, hashes,
 * the verification cache) from the llen-byte local part of addr and dom,
 * already in mailaddr_domain_ascii form; the local part ASCII lower-cased
 * unless case_sensitive.  -1: empty or over RFC 5321 4.5.3.1 lengths, or
 * control characters.
 */
int	mailaddr_key_compose(const char *addr, size_t llen, const char *dom, int case_sensitive,
	    char *out, size_t outlen);
/* mailaddr_key - the key of a whole address (split at the last '@'); *local_len gets the
 * local part's length.  -1: no '@', a refused part, or a domain that is no IDNA2008 name */
int	mailaddr_key(const char *addr, int case_sensitive, char *out, size_t outlen,
	    size_t *local_len);

#endif
