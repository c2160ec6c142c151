#include <stddef.h>

#include "srv/module.h"

extern const struct srv_module ipc_module;  /* thetad/ipc/module.c */
extern const struct srv_module sess_module; /* thetad/sess/module.c: needs ipc */
extern const struct srv_module net_module;  /* thetad/net/module.c: needs sessions */
extern const struct srv_module voice_module; /* thetad/voice/module.c: needs ipc, sessions, net */
extern const struct srv_module web_module;   /* thetad/web/module.c: needs ipc, sessions (off without [web] listen) */

/* One line per module, in start order; they stop in reverse. */
const struct srv_module *const srv_modules[] = {
	&ipc_module,
	&sess_module,
	&net_module,
	&voice_module,
	&web_module,
	NULL,
};
