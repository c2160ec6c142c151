/* thetactl: inspect and steer thetad. `thetactl help` lists the commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

static void ctl_usage(FILE *f, const char *prog)
{
	fprintf(f, "Usage: %s [--runtime-dir DIR] [--timeout SECONDS] [--json] COMMAND [ARGS...]\n\n", prog);
	fprintf(f, "Commands:\n");
	for (const struct ctl_command *c = ctl_commands; c->name; c++) {
		if (!c->summary)
			continue; /* hidden */
		char left[256];
		snprintf(left, sizeof(left), "%s %s", c->name, c->args);
		if (strlen(left) <= 28)
			fprintf(f, "  %-28s %s\n", left, c->summary);
		else
			fprintf(f, "  %s\n  %-28s %s\n", left, "", c->summary);
	}
	fprintf(f, "\nThe daemon is found at DIR/control.sock: --runtime-dir, else $THETA_RUNTIME_DIR,\n"
		   "else /run/thetad. --timeout: how long to wait for the daemon to answer (default %d s;\n"
		   "a reply that keeps arriving, or log --follow, never times out).\n"
		   "Exit status: 0 success, 1 error, 2 usage.\n", CTL_TIMEOUT_DEFAULT_S);
}

int ctl_cmd_help(struct ctl_ctx *ctx, int argc, char **argv)
{
	ctl_usage(stdout, ctx->prog);
	return CTL_EXIT_OK;
}

int ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv)
{
	printf("thetactl %s\n", THETA_VERSION);
	return CTL_EXIT_OK;
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
			if (*end || end == optarg || optarg[0] == '-' || t < 1 || t > CTL_TIMEOUT_MAX_S) {
				fprintf(stderr, "%s: --timeout needs whole seconds from 1 to %d, not '%s'\n", ctx.prog,
					CTL_TIMEOUT_MAX_S, optarg);
				return CTL_EXIT_USAGE;
			}
			ctx.timeout_s = (unsigned)t;
			break;
		}
		case 'h':
			ctl_usage(stdout, ctx.prog);
			return CTL_EXIT_OK;
		case 'V':
			return ctl_cmd_version(&ctx, 0, NULL);
		default:
			if (optopt == 't')
				fprintf(stderr, "%s: --timeout needs a number of seconds\n", ctx.prog);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", ctx.prog, argv[optind - 1]);
			ctl_usage(stderr, ctx.prog);
			return CTL_EXIT_USAGE;
		}
	}
	if (!ctx.runtime_dir || !*ctx.runtime_dir)
		ctx.runtime_dir = "/run/thetad";
	if (optind >= argc) {
		ctl_usage(stderr, ctx.prog);
		return CTL_EXIT_USAGE;
	}
	const char *name = argv[optind];
	for (const struct ctl_command *cmd = ctl_commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd->run(&ctx, argc - optind, argv + optind);
	fprintf(stderr, "%s: unknown command '%s' (see '%s help')\n", ctx.prog, name, ctx.prog);
	return CTL_EXIT_USAGE;
}
