/* thetactl status, metrics, log-level, reload: the daemon itself. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "cmds.h"

/* Parses the only option most commands take, --json; returns the index of
 * the first operand or -1 after a usage error was printed. */
int ctl_parse_json_flag(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			ctx->json = true;
		else {
			ctl_usage_error(ctx, cmd, "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "-";
}

int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
	int i = ctl_parse_json_flag(ctx, "status", argc, argv);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (i < argc)
		return ctl_usage_error(ctx, "status", "unexpected argument '%s'", argv[i]);
	struct json_object *res;
	int r = ctl_call(ctx, "status", NULL, &res);
	if (r)
		return r;
	if (ctx->json) {
		ctl_print_json(res);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	struct json_object *v;
	char up[64] = "-";
	if (json_object_object_get_ex(res, "uptime_s", &v))
		ctl_format_duration(json_object_get_double(v), up, sizeof(up));
	printf("thetad %s, pid %s, up %s\n", jstr(res, "version"), jstr(res, "pid"), up);
	printf("  state dir:    %s\n", jstr(res, "state_dir"));
	printf("  runtime dir:  %s\n", jstr(res, "runtime_dir"));
	bool present = json_object_object_get_ex(res, "config_present", &v) && json_object_get_boolean(v);
	printf("  config:       %s%s\n", jstr(res, "config"), present ? "" : " (absent: embedded defaults)");
	if (json_object_object_get_ex(res, "host_key", &v))
		printf("  host key:     %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(res, "cert_fingerprint", &v))
		printf("  certificate:  %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(res, "sockets", &v)) {
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			struct json_object *s = json_object_array_get_idx(v, k);
			printf("  %-13s %s (%s)\n", k == 0 ? "sockets:" : "", jstr(s, "address"), jstr(s, "name"));
		}
	}
	printf("  clients:      %s\n", jstr(res, "clients"));
	printf("  sessions:     %s\n", jstr(res, "sessions"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv)
{
	int i = ctl_parse_json_flag(ctx, "metrics", argc, argv);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (i < argc)
		return ctl_usage_error(ctx, "metrics", "unexpected argument '%s'", argv[i]);
	struct json_object *res;
	int r = ctl_call(ctx, "metrics", NULL, &res);
	if (r)
		return r;
	if (ctx->json) {
		ctl_print_json(res);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	static const char *const hdr[] = { "METRIC", "KIND", "VALUE", "DESCRIPTION" };
	struct ctl_table *t = ctl_table_new(4, hdr);
	json_object_object_foreach(res, name, m)
	{
		const char *row[] = { name, jstr(m, "kind"), jstr(m, "value"), jstr(m, "help") };
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_log_level(struct ctl_ctx *ctx, int argc, char **argv)
{
	int i = ctl_parse_json_flag(ctx, "log-level", argc, argv);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (argc - i > 1)
		return ctl_usage_error(ctx, "log-level", "takes at most one LEVEL");
	struct json_object *args = json_object_new_object(), *res;
	if (i < argc)
		json_object_object_add(args, "level", json_object_new_string(argv[i]));
	int r = ctl_call(ctx, "log-level", args, &res);
	json_object_put(args);
	if (r)
		return r;
	if (ctx->json)
		ctl_print_json(res);
	else
		printf("log level: %s\n", jstr(res, "level"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_reload(struct ctl_ctx *ctx, int argc, char **argv)
{
	int i = ctl_parse_json_flag(ctx, "reload", argc, argv);
	if (i < 0)
		return CTL_EXIT_USAGE;
	if (i < argc)
		return ctl_usage_error(ctx, "reload", "unexpected argument '%s'", argv[i]);
	struct json_object *res;
	int r = ctl_call(ctx, "reload", NULL, &res);
	if (r)
		return r;
	if (ctx->json)
		ctl_print_json(res);
	else
		printf("configuration reloaded from %s\n", jstr(res, "config"));
	json_object_put(res);
	return CTL_EXIT_OK;
}
