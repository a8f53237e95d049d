/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The dns44 authors; see the file LICENSE.
 */
/*
 * privdrop.c: how each process gives up what it does not need.  A child
 * ends as the unprivileged user, chrooted, with no capability at all (the
 * bounding set included) and no way to gain one.  The parent keeps root's
 * uid but only CAP_NET_ADMIN and CAP_NET_BIND_SERVICE.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/*
 * The uid and gid of user.  When the built-in default user does not exist
 * fall back to nobody, with a warning; a user the operator named must exist.
 */
int
privdrop_lookup(const char *user, int may_fall_back, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL && may_fall_back) {
		log_warnx("user %s does not exist, running as %s", user,
		    DNS44_USER_FALLBACK);
		pw = getpwnam(DNS44_USER_FALLBACK);
		user = DNS44_USER_FALLBACK;
	}
	if (pw == NULL) {
		log_warnx("unknown user %s", user);
		return (-1);
	}
	if (pw->pw_uid == 0) {
		log_warnx("user %s is root: refusing to run children as root",
		    user);
		return (-1);
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return (0);
}

/*
 * For dns44 -n: the user the children would run as and the control
 * socket's groups exist, as the start would find them; silent about the
 * fallback to nobody, which the start warns of.
 */
int
privdrop_check(const struct dns44_conf *c)
{
	struct passwd	*pw;
	int		 rv = 0;

	if ((pw = getpwnam(c->user)) == NULL && !c->user_set)
		pw = getpwnam(DNS44_USER_FALLBACK);
	if (pw == NULL) {
		log_warnx("dns44: user %s does not exist%s", c->user,
		    c->user_set ? "" : ", nor does " DNS44_USER_FALLBACK);
		rv = -1;
	} else if (pw->pw_uid == 0) {
		log_warnx("dns44: user %s is root: refusing to run children "
		    "as root", c->user);
		rv = -1;
	}
	if (c->control_group[0] != '\0' && getgrnam(c->control_group) ==
	    NULL) {
		log_warnx("dns44: control socket group %s does not exist",
		    c->control_group);
		rv = -1;
	}
	if (c->control_admin_group[0] != '\0' &&
	    getgrnam(c->control_admin_group) == NULL) {
		log_warnx("dns44: control admin-group %s does not exist",
		    c->control_admin_group);
		rv = -1;
	}
	return (rv);
}

static void
privdrop_verify_none(void)
{
	int	cap;

	capng_get_caps_process();
	if (capng_have_capabilities(CAPNG_SELECT_BOTH) != CAPNG_NONE)
		fatalx("%s: capabilities remain", __func__);
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			fatalx("%s: capability %d remains in the bounding set",
			    __func__, cap);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("%s: could regain root", __func__);
}

void
privdrop_child(const char *user, const char *root, int may_fall_back)
{
	uid_t	uid;
	gid_t	gid;

	/* Before chroot: /etc/passwd is out of reach afterwards. */
	if (privdrop_lookup(user, may_fall_back, &uid, &gid) == -1)
		fatalx("cannot drop privileges");
	if (sandbox_leakcheck()) {
		log_warnx("leak check mode: no chroot to %s", root);
		if (chdir(root) == -1)
			fatal("chdir %s", root);
	} else {
		if (chroot(root) == -1)
			fatal("chroot %s", root);
		if (chdir("/") == -1)
			fatal("chdir /");
	}

	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_change_id(uid, gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0)
		fatalx("%s: cannot change to uid %u gid %u", __func__,
		    (unsigned)uid, (unsigned)gid);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("%s: clear ambient capabilities", __func__);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	privdrop_verify_none();
}

void
privdrop_parent(void)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_updatev(CAPNG_ADD,
	    CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
	    CAP_NET_ADMIN, CAP_NET_BIND_SERVICE, -1) != 0)
		fatalx("%s: capng_updatev", __func__);
	if (capng_apply(CAPNG_SELECT_ALL) != 0)
		fatalx("%s: cannot drop capabilities", __func__);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
}
