/*
 * privileges.c — switch to an unprivileged user/group: the files the sensor created as root
 * (output, pidfile) are handed to the new owner first, then the group (while still root),
 * supplementary groups cleared, then the user, and finally a check that root cannot be
 * regained. A failure to switch is fatal rather than running on as root by surprise.
 */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Gives path to uid/gid so the sensor can still reopen it (log rotation) or remove it (pidfile)
 * once it runs as that user. A failure is only a warning: the open descriptor keeps working. */
static void hand_over(const char *path, uid_t uid, gid_t gid)
{
    if (!path || !*path || strcmp(path, "-") == 0) return;
    if (chown(path, uid, gid) != 0)
        fprintf(stderr,
                "leakwatch: warning: cannot give %s to the --user/--group: %s (a reopen after "
                "log rotation may fail; grant CAP_CHOWN or create it with that owner)\n",
                path, strerror(errno));
}

bool lw_drop_privileges(const char *user, const char *group, const char *const *own, size_t n_own,
                        char *err, size_t errlen)
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
    for (size_t i = 0; i < n_own; i++) hand_over(own[i], uid, gid); /* -1 keeps that id */
    if (gid != (gid_t)-1) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0) {
            snprintf(err, errlen, "cannot switch to group %u: %s (run as root to drop privileges)",
                     (unsigned)gid, strerror(errno));
            return false;
        }
    }
    if (uid != (uid_t)-1) {
        if (setuid(uid) != 0) {
            snprintf(err, errlen, "cannot switch to user %s: %s (run as root to drop privileges)",
                     user, strerror(errno));
            return false;
        }
        /* setuid as root sets every uid; make sure (a non-root uid must not get 0 back) */
        if (uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
            snprintf(err, errlen, "--user %s: root privileges could be regained; not running",
                     user);
            return false;
        }
    }
    return true;
}
