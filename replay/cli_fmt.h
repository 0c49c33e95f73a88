/*
 * cli_fmt.h - numbers for people in the operator CLI: sizes in binary units
 * ("47.5 GiB") and durations as their two largest units ("3d 0h").
 *
 * Used by list, show, status and qshape text output; --json keeps raw numbers
 * (bytes, milliseconds) for scripts.  Each function writes into the caller's
 * buffer (CLI_FMT_MAX is always enough), never fails, and returns it so it can
 * be an argument of printf.
 */
#ifndef MXS_CLI_FMT_H
#define MXS_CLI_FMT_H
#include <stddef.h>
#include <stdint.h>

#define CLI_FMT_MAX	32

/* cli_fmt_size - "512 B", "1.5 KiB", "47.5 GiB", "312 MiB" (one decimal under 100) */
char	*cli_fmt_size(int64_t bytes, char *out, size_t outlen);
/* cli_fmt_age - a duration: "42s", "7m 30s", "5h 12m", "3d 0h"; negative counts as 0 */
char	*cli_fmt_age(int64_t ms, char *out, size_t outlen);

#endif
