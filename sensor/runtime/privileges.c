/*
 * privileges.c — switch to an unprivileged user/group: the group first (while still root),
 * supplementary groups cleared, then the user; a failure is fatal rather than running on as
 * root by surprise.
 */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool lw_drop_privileges(const char *user, const char *group, char *err, size_t errlen)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (user) {
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            snprintf(err, errlen, "--user %s: no such user", user);
            return false;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            snprintf(err, errlen, "--group %s: no such group", group);
            return false;
        }
        gid = gr->gr_gid;
    }
    if (gid != (gid_t)-1) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0) {
            snprintf(err, errlen, "cannot switch to group %u: %s (run as root to drop privileges)",
                     (unsigned)gid, strerror(errno));
            return false;
        }
    }
    if (uid != (uid_t)-1 && setuid(uid) != 0) {
        snprintf(err, errlen, "cannot switch to user %s: %s (run as root to drop privileges)", user,
                 strerror(errno));
        return false;
    }
    return true;
}
