/*
 * log.c - line logging to stderr; see log.h.
 *
 * Each line is written with a single write(2) so lines from threads and
 * processes sharing the stream do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_prog = "mxspool";
static enum log_level	 log_level = LOG_LVL_INFO;
static const char	*log_lead = "";	/* log_setlead() */

void
log_init(const char *progname)
{
	const char *lvl = getenv("MXSPOOL_DEBUG");

	log_prog = progname;
	if (lvl != NULL && *lvl != '\0' && *lvl != '0')
		log_level = LOG_LVL_DEBUG;
}

void
log_setlevel(enum log_level l)
{
	log_level = l;
}

enum log_level
log_getlevel(void)
{
	return log_level;
}

void
log_setlead(const char *lead)
{
	log_lead = lead != NULL ? lead : "";
}

/* log_vwrite - format one line and write it at once */
static void
log_vwrite(const char *tag, const char *fmt, va_list ap, int err)
{
	char		 line[4096], ts[32];
	struct timespec	 now;
	struct tm	 tm;
	int		 n, m;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s%s.%03ldZ %s[%d]: %s", log_lead, ts,
	    now.tv_nsec / 1000000, log_prog, (int)getpid(), tag);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 64)
		n = sizeof(line) - 64;
	if (err)
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}

#define LOG_BODY(tag, err) do {				\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vwrite(tag, fmt, ap, err);			\
	va_end(ap);					\
} while (0)

void
log_debug(const char *fmt, ...)
{
	if (log_level <= LOG_LVL_DEBUG)
		LOG_BODY("debug: ", 0);
}

void
log_info(const char *fmt, ...)
{
	if (log_level <= LOG_LVL_INFO)
		LOG_BODY("", 0);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY("warning: ", 0);
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("warning: ", saved);
	errno = saved;
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;

	LOG_BODY("fatal: ", saved);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal: ", 0);
	exit(1);
}

char *
log_escape(const void *in, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = in;
	size_t			 i, o = 0;
	char			 tmp[5];
	const char		*e;
	size_t			 elen;

	if (outlen == 0)
		return out;
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '\r': e = "\\r"; break;
		case '\n': e = "\\n"; break;
		case '\t': e = "\\t"; break;
		case '\\': e = "\\\\"; break;
		case '"':  e = "\\\""; break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f) {
				tmp[0] = p[i];
				tmp[1] = '\0';
			} else
				snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			e = tmp;
		}
		elen = strlen(e);
		if (o + elen + 4 > outlen) {
			if (outlen >= 4) {
				o = o < outlen - 4 ? o : outlen - 4;
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, e, elen);
		o += elen;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	return out;
}
