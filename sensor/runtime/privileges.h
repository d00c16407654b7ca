/*
 * privileges.h — dropping root once the capture handle is open (--user / --group).
 */
#ifndef LW_PRIVILEGES_H
#define LW_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>

bool lw_drop_privileges(const char *user, const char *group, char *err, size_t errlen);

#endif
