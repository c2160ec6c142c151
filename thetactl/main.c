/* thetactl: inspect and steer thetad. `thetactl help` lists the commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

/* Before a command runs: --help / -h anywhere among its arguments (before a
 * "--") prints its help; --json anywhere sets ctx->json and is taken out,
 * so every command has it and its usage errors come as JSON too. Returns 1
 * when help was asked for. */
static int ctl_pre_scan(struct ctl_ctx *ctx, int *argc, char **argv)
{
	int help = 0, n = 1;
	bool ended = false;
	for (int i = 1; i < *argc; i++) {
		if (!ended && !strcmp(argv[i], "--"))
			ended = true;
		if (!ended && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")))
			help = 1;
		if (!ended && !strcmp(argv[i], "--json")) {
			ctx->json = true;
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argc = n;
	return help;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runtime-dir", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct ctl_ctx ctx = { .prog = "thetactl" };
	int c;

	ctx.runtime_dir = getenv("THETA_RUNTIME_DIR");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			ctx.runtime_dir = optarg;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 't': {
			char *end;
			unsigned long t = strtoul(optarg, &end, 10);
			if (*end || end == optarg || optarg[0] == '-' || t < 1 || t > CTL_TIMEOUT_MAX_S)
				return ctl_fail(&ctx, CTL_EXIT_USAGE, "EUSAGE",
						"--timeout needs whole seconds from 1 to %d, not '%s' (see '%s help')",
						CTL_TIMEOUT_MAX_S, optarg, ctx.prog);
			ctx.timeout_s = (unsigned)t;
			break;
		}
		case 'h':
			ctl_help_overview(stdout, ctx.prog);
			return CTL_EXIT_OK;
		case 'V':
			return ctl_cmd_version(&ctx, 1, (char *[]){ "version", NULL });
		default: {
			const char *a = argv[optind - 1];
			if (optopt && !strncmp(a, "--", 2) && !strchr(a, '='))
				return ctl_fail(&ctx, CTL_EXIT_USAGE, "EUSAGE", "option '%s' needs a value (see '%s help')", a,
						ctx.prog);
			return ctl_fail(&ctx, CTL_EXIT_USAGE, "EUSAGE", "unknown option '%s' (see '%s help')", a, ctx.prog);
		}
		}
	}
	if (!ctx.runtime_dir || !*ctx.runtime_dir)
		ctx.runtime_dir = "/run/thetad";
	if (optind >= argc) {
		if (ctx.json)
			return ctl_fail(&ctx, CTL_EXIT_USAGE, "EUSAGE", "give a COMMAND (see '%s help')", ctx.prog);
		ctl_help_overview(stderr, ctx.prog);
		return CTL_EXIT_USAGE;
	}
	int n = argc - optind;
	char **args = argv + optind;
	const struct ctl_command *cmd = ctl_command_find(args[0]);
	if (!cmd)
		return ctl_fail(&ctx, CTL_EXIT_USAGE, "EUSAGE", "unknown command '%s' (see '%s help')", args[0], ctx.prog);
	ctx.cmd = cmd->name;
	if (ctl_pre_scan(&ctx, &n, args)) {
		ctl_command_help(stdout, ctx.prog, cmd, n > 1 ? args[1] : NULL); /* "session join --help": join's form */
		return CTL_EXIT_OK;
	}
	return cmd->run(&ctx, n, args);
}
