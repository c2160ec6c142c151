#include <stddef.h>

#include "cmds.h"

/* One line per subcommand, in the order `thetactl help` lists them. */
const struct ctl_command ctl_commands[] = {
	{ "status", "[--json]", "the daemon: version, pid, uptime, directories, sockets, counts", ctl_cmd_status },
	{ "metrics", "[--json]", "every counter and gauge the daemon keeps", ctl_cmd_metrics },
	{ "log-level", "[LEVEL]", "show or (admin) set the daemon's log level", ctl_cmd_log_level },
	{ "reload", "", "(admin) re-read the configuration file, like SIGHUP", ctl_cmd_reload },
	{ "version", "", "thetactl's version", ctl_cmd_version },
	{ "help", "", "this list", ctl_cmd_help },
	{ NULL, NULL, NULL, NULL },
};
