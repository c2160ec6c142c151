#include <stddef.h>

#include "srv/module.h"

/* One line per module, in start order; they stop in reverse. */
const struct srv_module *const srv_modules[] = {
	NULL,
};
