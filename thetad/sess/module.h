/* The sessions daemon module: sessions on disk, their command logs, and the
 * path from a client's command submit to a durable, acknowledged entry. */
#pragma once

struct srv_module;
extern const struct srv_module sess_module;
