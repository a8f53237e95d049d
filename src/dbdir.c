/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * dbdir.c: the dns process's database directory as the parent prepares
 * it before the dns process chroots into it: the directories above it
 * checked to be root's, the directory made or taken, its lock held while
 * the daemon runs, and the directory and map files handed over to the
 * configured user when they belong to another one, as they do after a
 * change of user.  The parent holds CAP_CHOWN for this; what it hands over
 * it first checks to be dns44's: plain files of the map's names, of one
 * link, opened without following a symbolic link.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "map.h"
#include "proc.h"

static int	dbdir_lockfd = -1;	/* held while the daemon runs */

static void	dbdir_check_parent(const char *, const char *);
static void	dbdir_check_parents(const char *);
static void	dbdir_check_foreign(int, const struct stat *, const char *,
		    const char *);
static void	dbdir_handover(int, uid_t, gid_t, const char *, const char *,
		    char *, size_t);

/*
 * A database directory of another user's (a previous user's, as the
 * configuration said before) is handed over only when it is one: it holds
 * the map, and nothing but the map's files, plain, each of one link.
 */
static void
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
static void
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

/* A directory above the database: writable by root only, or sticky. */
static void
dbdir_check_parent(const char *path, const char *dir)
{
	struct stat	st;

	if (stat(dir, &st) == -1)
		fatal("%s", dir);
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		fatalx("database %s: %s is writable by anyone and not "
		    "sticky; refusing it", path, dir);
	if (st.st_uid != 0)
		fatalx("database %s: %s is owned by uid %u, not root; "
		    "refusing it", path, dir, (unsigned)st.st_uid);
}

/*
 * Every directory above path, symbolic links resolved, so that nobody
 * but root can move path away or put another in its place.
 */
static void
dbdir_check_parents(const char *path)
{
	char	copy[PATH_MAX], real[PATH_MAX], *p;
	size_t	i, len;

	if (strlcpy(copy, path, sizeof(copy)) >= sizeof(copy))
		fatalx("database %s: path too long", path);
	if (copy[0] != '/' || (p = strrchr(copy, '/')) == NULL)
		fatalx("database %s: not an absolute path", path);
	*(p == copy ? p + 1 : p) = '\0';
	if (realpath(copy, real) == NULL)
		fatal("database %s: %s", path, copy);
	dbdir_check_parent(path, "/");
	len = strlen(real);
	for (i = 1; i <= len; i++) {
		if (i < len && real[i] != '/')
			continue;
		real[i] = '\0';
		dbdir_check_parent(path, real);
		if (i < len)
			real[i] = '/';
	}
}

/*
 * The dns process's chroot holds its database.  It is made, or taken as
 * it is when it belongs to root or to the user already, or handed over
 * from another user when it holds nothing but dns44's files (what was
 * handed over is said in msg, for the log once it is open), and changed
 * through a descriptor that cannot have followed a symbolic link.
 */
void
dbdir_prepare(const char *dir, const char *user, uid_t uid, gid_t gid,
    char *msg, size_t msglen)
{
	struct stat	st;
	int		fd;

	dbdir_check_parents(dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP || errno == ENOTDIR)
			fatalx("database %s is a symbolic link or not a "
			    "directory; refusing it", dir);
		fatal("database %s", dir);
	}
	if (fstat(fd, &st) == -1)
		fatal("database %s", dir);
	if (st.st_uid != 0 && st.st_uid != uid)
		dbdir_check_foreign(fd, &st, dir, user);
	if ((st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1)
		fatal("chown %s", dir);
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) == -1)
		fatal("chmod %s", dir);
	dbdir_handover(fd, uid, gid, dir, user, msg, msglen);
	close(fd);
}

/*
 * The database is this daemon's for as long as it runs: a second daemon
 * on it would overwrite its records, and dns44ctl dump would read them
 * half-written.  The lock goes with the parent's last descriptor.
 */
void
dbdir_lock(const char *dir)
{
	if ((dbdir_lockfd = map_db_lock(dir, 0)) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("database %s is in use by another dns44 or by "
			    "dns44ctl dump", dir);
		fatal("database %s: lock", dir);
	}
}
