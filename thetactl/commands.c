#include <stddef.h>

#include "cmd_log.h"
#include "cmds.h"
#include "ctl.h"

#include <stdio.h>
#include <string.h>

/* thetactl log verify PATH works offline; other forms ask the daemon. */
static int ctl_cmd_log(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "verify"))
		return ctl_cmd_log_verify(argc - 1, argv + 1);
	return ctl_cmd_log_list(ctx, argc, argv);
}

/* One line per subcommand, in the order `thetactl help` lists them. */
const struct ctl_command ctl_commands[] = {
	{ "status", "[--json]", "the daemon: version, pid, uptime, directories, sockets, counts", ctl_cmd_status },
	{ "metrics", "[--json]", "every counter and gauge the daemon keeps", ctl_cmd_metrics },
	{ "clients", "[--json]", "connected theta-clients: pid, user, frames, ring figures", ctl_cmd_clients },
	{ "log-level", "[LEVEL]", "show or (admin) set the daemon's log level", ctl_cmd_log_level },
	{ "reload", "", "(admin) re-read the configuration file, like SIGHUP", ctl_cmd_reload },
	{ "whoami", "[--json]", "your signing key's fingerprint (created on first use)", ctl_cmd_whoami },
	{ "sessions", "[--json]", "sessions this daemon keeps", ctl_cmd_sessions },
	{ "log", "[--session S] [--since N] [--follow] [--json] | verify PATH", "the command log; verify works offline", ctl_cmd_log },
	{ "version", "", "thetactl's version", ctl_cmd_version },
	{ "help", "", "this list", ctl_cmd_help },
	{ NULL, NULL, NULL, NULL },
};
