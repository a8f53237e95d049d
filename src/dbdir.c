/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dbdir.c: the parent's handing over of the dns process's database
 * directory and map files to the configured user, when they belong to
 * another one, as they do after a change of user.  The parent holds
 * CAP_CHOWN for this; what it hands over it first checks to be dns44's:
 * plain files of the map's names, of one link, opened without following
 * a symbolic link.  dns44.c opens the directory and checks the path.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/*
 * A database directory of another user's (a previous user's, as the
 * configuration said before) is handed over only when it is one: it holds
 * the map, and nothing but the map's files, plain, each of one link.
 */
void
dbdir_check_foreign(int fd, const struct stat *dst, const char *dir,
    const char *user)
{
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;
	int		 dfd, map = 0;

	if ((dfd = dup(fd)) == -1 || (d = fdopendir(dfd)) == NULL)
		fatal("database %s", dir);
	/* The copy shares its offset with fd: from the start. */
	rewinddir(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, DNS44_DB_FILE,
		    strlen(DNS44_DB_FILE)) != 0 ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_nlink != 1)
			fatalx("database %s is owned by uid %u and holds %s, "
			    "which is not dns44's; refusing to take it over",
			    dir, (unsigned)dst->st_uid, de->d_name);
		map |= strcmp(de->d_name, DNS44_DB_FILE) == 0;
	}
	if (errno != 0)
		fatal("database %s", dir);
	closedir(d);
	if (!map)
		fatalx("database %s is owned by uid %u, not by %s or root; "
		    "refusing to take it over", dir,
		    (unsigned)dst->st_uid, user);
}

/*
 * The map's files go to the user too, so that the dns process can open
 * them: after a change of user they are the previous one's.  Only plain
 * files of one link are changed; the line saying so is logged at start.
 */
void
dbdir_handover(int fd, uid_t uid, gid_t gid, const char *dir,
    const char *user, char *msg, size_t msglen)
{
	struct dirent	*de;
	struct passwd	*pw;
	struct stat	 st;
	DIR		*d;
	uid_t		 old = uid;
	int		 dfd, ffd, n = 0;

	if ((dfd = dup(fd)) == -1 || (d = fdopendir(dfd)) == NULL)
		fatal("database %s", dir);
	/* The copy shares its offset with fd: from the start. */
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, DNS44_DB_FILE,
		    strlen(DNS44_DB_FILE)) != 0)
			continue;
		if ((ffd = openat(fd, de->d_name, O_RDONLY | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
			if (errno == ELOOP)
				fatalx("database %s/%s is a symbolic link; "
				    "refusing it", dir, de->d_name);
			fatal("database %s/%s", dir, de->d_name);
		}
		if (fstat(ffd, &st) == -1)
			fatal("database %s/%s", dir, de->d_name);
		if (st.st_uid != uid || st.st_gid != gid) {
			if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
				fatalx("database %s/%s is owned by uid %u and "
				    "is not a plain file of one link; refusing "
				    "to hand it over", dir, de->d_name,
				    (unsigned)st.st_uid);
			if (fchown(ffd, uid, gid) == -1)
				fatal("chown %s/%s", dir, de->d_name);
			if (st.st_uid != uid)
				old = st.st_uid;
			n++;
		}
		close(ffd);
	}
	closedir(d);
	if (n > 0) {
		pw = getpwuid(old);
		snprintf(msg, msglen,
		    "database %s: %d file(s) of uid %u%s%s%s handed over to "
		    "user %s", dir, n, (unsigned)old,
		    pw != NULL ? " (" : "", pw != NULL ? pw->pw_name : "",
		    pw != NULL ? ")" : "", user);
	}
}
