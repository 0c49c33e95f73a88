/*
 * log.h - one line per event, to stderr (and so to journald/docker logs).
 *
 * Format: "<time> <prog>[pid]: <text>"; events use
 * "<id> <component> <event> key=value ...".  Bytes that came from a peer are
 * passed through log_escape() first.  Secrets are never logged.
 * fatal()/fatalx() are for start-up failures and broken invariants only.
 */
#ifndef MXS_LOG_H
#define MXS_LOG_H
#include <stddef.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN };

void	log_init(const char *progname);
void	log_setlevel(enum log_level);
enum log_level	log_getlevel(void);
/*
 * log_setlead - bytes written before each line (default none): drain's
 * progress bar sets "\r\033[K" on a terminal so that a line replaces the
 * bar instead of being appended to it.
 */
void	log_setlead(const char *);
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_warn - like log_warnx, with ": strerror(errno)" appended */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_escape - copy len bytes of peer input into out as printable ASCII:
 * \r \n \t \\ \" and \xHH for anything else outside 0x20..0x7e; truncated
 * with "..." to fit outlen.  Returns out.
 */
char	*log_escape(const void *in, size_t len, char *out, size_t outlen);

#endif
