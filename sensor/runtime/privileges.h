/*
 * privileges.h — dropping root once the capture handle is open (--user / --group).
 */
#ifndef LW_PRIVILEGES_H
#define LW_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

/* Switches to user (and its primary group) and/or group. The n_own paths (NULL or "-"
 * entries skipped) are chowned to the new ids first; a chown failure is a warning on stderr.
 * false with one line in err when the switch itself fails. */
bool lw_drop_privileges(const char *user, const char *group, const char *const *own, size_t n_own,
                        char *err, size_t errlen);

#endif
