#include <stddef.h>

#include "srv/module.h"

extern const struct srv_module ipc_module; /* thetad/ipc/module.c */

/* One line per module, in start order; they stop in reverse. */
const struct srv_module *const srv_modules[] = {
	&ipc_module,
	NULL,
};
