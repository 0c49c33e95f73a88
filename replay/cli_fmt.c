/*
 * cli_fmt.c - sizes and durations for people (see cli_fmt.h).
 *
 * Entry points: cli_fmt_size, cli_fmt_age.  Binary units as du -h and the
 * dashboard use them (1 KiB = 1024 bytes).  A duration keeps its two largest
 * units, truncated, so "3d 0h" is at least 3 days and less than 3 days 1 hour:
 * an age never looks younger than the message is by more than the unit shown.
 */
#include <stdio.h>

#include "cli_fmt.h"

/* cli_fmt_size - bytes in the largest binary unit under 1024 of it */
char *
cli_fmt_size(int64_t bytes, char *out, size_t outlen)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double	v = (double)(bytes < 0 ? 0 : bytes);
	size_t	i = 0;

	if (bytes < 1024) {
		snprintf(out, outlen, "%lld B", (long long)(bytes < 0 ? 0 : bytes));
		return out;
	}
	while (v >= 1024 && i + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		i++;
	}
	/* truncate, not round: 1023.96 KiB is "1023 KiB", never a "1024 KiB" */
	if (v < 100)
		snprintf(out, outlen, "%.1f %s", (double)(int64_t)(v * 10) / 10, unit[i]);
	else
		snprintf(out, outlen, "%lld %s", (long long)v, unit[i]);
	return out;
}

/* cli_fmt_age - the two largest units of ms: days+hours, hours+minutes, ... */
char *
cli_fmt_age(int64_t ms, char *out, size_t outlen)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s >= 86400)
		snprintf(out, outlen, "%lldd %lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, outlen, "%lldh %lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, outlen, "%lldm %llds", s / 60, s % 60);
	else
		snprintf(out, outlen, "%llds", s);
	return out;
}
