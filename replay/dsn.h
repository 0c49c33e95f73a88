/*
 * dsn.h - delivery status notifications (RFC 3464) for expired messages.
 *
 * dsn_build() writes a multipart/report message: a human-readable part, a
 * message/delivery-status part (Reporting-MTA, Arrival-Date, per recipient
 * Final-Recipient, Action: failed, Status: 4.4.7, Diagnostic-Code of the last
 * reply, Original-Recipient from ORCPT), and the original headers (RET=HDRS,
 * the default) or the whole message (RET=FULL).  Never to the null sender:
 * the caller checks mail_from is not "".  NOTIFY=NEVER recipients are left out;
 * with none left, no DSN is sent.
 */
#ifndef MXS_DSN_H
#define MXS_DSN_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

struct dsn_rcpt {
	const char	*addr;
	const char	*params;	/* NOTIFY= ORCPT= */
	int		 last_code;
	const char	*last_text;
};

/*
 * dsn_build - write the DSN for env's failed recipients to out_fd; msg_fd holds
 * the original message (pread from 0).  reporting_mta is our host name.
 * Returns 0, 1 when nothing is to be sent (null sender, all NOTIFY=NEVER), -1 on I/O error.
 */
int	dsn_build(const struct envelope *, const struct dsn_rcpt *, size_t n, int msg_fd,
	    const char *reporting_mta, int64_t now_ms, int out_fd);

#endif
