/*
 * auth_impl.h - between auth.c (the checks) and auth_hdr.c (the header block:
 * scanning what arrived, writing our Authentication-Results:).
 *
 * The scanner sees the message's header fields one by one, unfolded, each in
 * its first AUTH_FIELD_MAX octets (enough for a name, an authserv-id and a
 * From: address), streamed, so a header block of any size costs no memory;
 * it finds the From: domain and the incoming Authentication-Results: fields
 * that claim our authserv-id (their offsets go to v->forged, RFC 8601 5).
 */
#ifndef MXS_AUTH_IMPL_H
#define MXS_AUTH_IMPL_H
#include <sys/types.h>

#include "auth.h"

struct auth_scan {
	struct auth_verdict	*v;
	const char		*servid;	/* our authserv-id */
	off_t			 off;		/* message offset of the next byte */
	off_t			 field_off;	/* of the current field */
	int			 bol;		/* at the beginning of a line */
	int			 done;		/* the header block ended */
	int			 infield;
	int			 nfrom;
	int			 oom;
	char			 field[AUTH_FIELD_MAX + 1];
	size_t			 flen;
	char			 from[DNS_NAME_MAX + 1];	/* "" unless exactly one domain */
};

void	auth_scan_init(struct auth_scan *, struct auth_verdict *v, const char *servid);
void	auth_scan_run(struct auth_scan *, const unsigned char *, size_t);
void	auth_scan_finish(struct auth_scan *);
/* auth_header - v->header from the verdicts */
void	auth_header(struct auth_verdict *v, const char *servid);

#endif
