/*
 * datadir.c - create the data directories owned by the service user, and
 * become that user; see datadir.h.
 *
 * Entry points: datadir_mkdir(), datadir_become().
 * Invariant: a directory that existed is never chowned (it may be an
 * administrator's, e.g. /var/lib); only those created here are.
 * Errors: -1 with errno (datadir_mkdir) or a message (datadir_become); the
 * caller names the configuration key.
 */
#include <errno.h>
#include <grp.h>
#include <linux/limits.h>	/* PATH_MAX; <limits.h> is common/limits.h here */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"

/* datadir_mkdir_one - mkdir path (0750) and chown it when created here */
static int
datadir_mkdir_one(const char *path, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0750) != 0)
		return errno == EEXIST ? 0 : -1;
	return uid != (uid_t)-1 && chown(path, uid, gid) != 0 ? -1 : 0;
}

/* datadir_mkdir - dir and its missing parents; see datadir.h */
int
datadir_mkdir(const char *dir, uid_t uid, gid_t gid)
{
	char	path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (datadir_mkdir_one(path, uid, gid) != 0)
			return -1;
		*p = '/';
	}
	return datadir_mkdir_one(path, uid, gid);
}

/* datadir_become - drop root for good: groups, gid, uid, and check it cannot come back */
int
datadir_become(const char *name, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (initgroups(name, gid) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "cannot become %s (uid %ld): %s", name, (long)uid,
		    strerror(errno));
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "privileges could be regained after dropping them");
		return -1;
	}
	return 0;
}
