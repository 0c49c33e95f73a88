/*
 * datadir.h - the data directory and the user that owns what mxspool creates.
 *
 * Started as root, a program creates the directories it needs (their parents
 * may be root's, e.g. /var/lib) owned by the service user, then becomes that
 * user before it opens the index, spool or store, so every file it creates
 * (index.sqlite, its -wal/-shm, spool and store files) is that user's.
 */
#ifndef MXS_DATADIR_H
#define MXS_DATADIR_H
#include <stddef.h>
#include <sys/types.h>

/* datadir_mkdir - mkdir -p dir (0750); directories created are chowned to uid/gid unless
 * uid is (uid_t)-1; 0 or -1 (errno) */
int	datadir_mkdir(const char *dir, uid_t uid, gid_t gid);
/* datadir_become - setgid/initgroups/setuid to uid (name for initgroups); 0 or -1 + err */
int	datadir_become(const char *name, uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
