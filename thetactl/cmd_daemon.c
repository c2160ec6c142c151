/* thetactl status, metrics, log-level, reload: the daemon itself. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "cmds.h"

int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res;
	int r = ctl_query(ctx, "status", argc, argv, &res);
	if (r || !res)
		return r;
	struct json_object *v;
	char up[64] = "-";
	if (json_object_object_get_ex(res, "uptime_s", &v))
		ctl_format_duration(json_object_get_double(v), up, sizeof(up));
	printf("thetad %s, pid %s, up %s\n", ctl_jstr(res, "version"), ctl_jstr(res, "pid"), up);
	printf("  state dir:    %s\n", ctl_jstr(res, "state_dir"));
	printf("  runtime dir:  %s\n", ctl_jstr(res, "runtime_dir"));
	bool present = json_object_object_get_ex(res, "config_present", &v) && json_object_get_boolean(v);
	printf("  config:       %s%s\n", ctl_jstr(res, "config"), present ? "" : " (absent: embedded defaults)");
	if (json_object_object_get_ex(res, "host_key", &v))
		printf("  host key:     %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(res, "cert_fingerprint", &v))
		printf("  certificate:  %s\n", json_object_get_string(v));
	if (json_object_object_get_ex(res, "sockets", &v)) {
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			struct json_object *s = json_object_array_get_idx(v, k);
			printf("  %-13s %s (%s)\n", k == 0 ? "sockets:" : "", ctl_jstr(s, "address"), ctl_jstr(s, "name"));
		}
	}
	printf("  clients:      %s\n", ctl_jstr(res, "clients"));
	printf("  sessions:     %s\n", ctl_jstr(res, "sessions"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

/* One row's VALUE for a histogram: count, mean and the bucket its median
 * falls in ("3, mean 1.2 ms, median <= 2.5 ms"; "0 observations"). */
static void ctl_hist_cell(struct json_object *m, char *buf, size_t len)
{
	struct json_object *b, *v;
	long long count = ctl_jint(m, "count");
	double sum = json_object_object_get_ex(m, "sum", &v) ? json_object_get_double(v) : 0;
	if (count <= 0) {
		snprintf(buf, len, "0 observations");
		return;
	}
	char med[48] = "median unknown", bound[32];
	if (json_object_object_get_ex(m, "buckets", &b))
		for (size_t i = 0; i < json_object_array_length(b); i++) {
			struct json_object *x = json_object_array_get_idx(b, i), *le;
			if (ctl_jint(x, "count") * 2 >= count && json_object_object_get_ex(x, "le", &le)) {
				if (json_object_is_type(le, json_type_double) || json_object_is_type(le, json_type_int)) {
					ctl_format_duration(json_object_get_double(le), bound, sizeof bound);
					snprintf(med, sizeof med, "median <= %s", bound);
				} else {
					snprintf(med, sizeof med, "median above the last bound");
				}
				break;
			}
		}
	char mean[32];
	ctl_format_duration(sum / (double)count, mean, sizeof mean);
	snprintf(buf, len, "%lld, mean %s, %s", count, mean, med);
}

int ctl_cmd_metrics(struct ctl_ctx *ctx, int argc, char **argv)
{
	/* --prometheus is ours; the rest is the common [--json]. */
	bool prom = false;
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--prometheus"))
			prom = true;
		else
			argv[n++] = argv[i];
	}
	struct json_object *res;
	if (prom) {
		if (n > 1 || ctx->json) /* main.c took --json off argv into ctx->json */
			return ctl_usage_error(ctx, "metrics", "--prometheus takes no operands and no --json");
		struct json_object *args = json_object_new_object();
		json_object_object_add(args, "format", json_object_new_string("prometheus"));
		bool json = ctx->json;
		ctx->json = false; /* the text itself, not the reply around it */
		int r = ctl_request(ctx, "metrics", args, &res);
		ctx->json = json;
		if (r || !res)
			return r;
		fputs(ctl_jstr(res, "text"), stdout);
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	int r = ctl_query(ctx, "metrics", n, argv, &res);
	if (r || !res)
		return r;
	static const char *const hdr[] = { "METRIC", "KIND", "VALUE", "DESCRIPTION" };
	struct ctl_table *t = ctl_table_new(4, hdr);
	json_object_object_foreach(res, name, m)
	{
		struct json_object *samples;
		const char *kind = ctl_jstr(m, "kind");
		if (!strcmp(kind, "histogram")) {
			char cell[128];
			ctl_hist_cell(m, cell, sizeof cell);
			const char *row[] = { name, kind, cell, ctl_jstr(m, "help") };
			ctl_table_row(t, row);
		} else if (json_object_object_get_ex(m, "samples", &samples)) {
			/* A labelled family: a row per sample, its labels after the name. */
			for (size_t i = 0; i < json_object_array_length(samples); i++) {
				struct json_object *x = json_object_array_get_idx(samples, i), *labels, *v;
				char label[512] = "", value[64] = "-";
				size_t off = 0;
				if (json_object_object_get_ex(x, "labels", &labels)) {
					json_object_object_foreach(labels, k, lv)
					{
						int w = snprintf(label + off, sizeof label - off, "%s%s=%s", off ? "," : "{", k,
								 json_object_get_string(lv));
						if (w > 0 && (size_t)w < sizeof label - off)
							off += (size_t)w;
					}
					if (off && off < sizeof label - 1)
						label[off++] = '}', label[off] = 0;
				}
				if (json_object_object_get_ex(x, "value", &v))
					snprintf(value, sizeof value, "%.6g", json_object_get_double(v));
				char full[640];
				snprintf(full, sizeof full, "%s%s", name, label);
				const char *row[] = { full, kind, value, ctl_jstr(m, "help") };
				ctl_table_row(t, row);
			}
		} else {
			const char *row[] = { name, kind, ctl_jstr(m, "value"), ctl_jstr(m, "help") };
			ctl_table_row(t, row);
		}
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
	int r = ctl_request(ctx, "log-level", args, &res);
	if (r || !res)
		return r;
	printf("log level: %s\n", ctl_jstr(res, "level"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_reload(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res;
	int r = ctl_query(ctx, "reload", argc, argv, &res);
	if (r || !res)
		return r;
	struct json_object *v, *restart = NULL;
	bool file = !json_object_object_get_ex(res, "file", &v) || json_object_get_boolean(v);
	if (file)
		printf("configuration reloaded from %s\n", ctl_jstr(res, "config"));
	else
		printf("there is no configuration file at %s: the defaults stay\n", ctl_jstr(res, "config"));
	if (json_object_object_get_ex(res, "changed", &v) && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		if (!n && !(json_object_object_get_ex(res, "restart_needed", &restart) &&
			    json_object_array_length(restart) > 0))
			printf("nothing changed\n");
		for (size_t i = 0; i < n; i++)
			printf("%s: taken now\n", json_object_get_string(json_object_array_get_idx(v, i)));
	}
	if (json_object_object_get_ex(res, "restart_needed", &restart) && json_object_is_type(restart, json_type_array))
		for (size_t i = 0; i < json_object_array_length(restart); i++)
			printf("%s: changed in the file, takes effect when thetad restarts (systemctl restart thetad)\n",
			       json_object_get_string(json_object_array_get_idx(restart, i)));
	json_object_put(res);
	return CTL_EXIT_OK;
}
