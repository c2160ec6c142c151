/* thetactl whoami, sessions, log (listing; `log verify` is cmd_log.c). */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"

int ctl_cmd_whoami(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res;
	int r = ctl_query(ctx, "whoami", argc, argv, &res);
	if (r || !res)
		return r;
	printf("%s (uid %s): %s\n", ctl_jstr(res, "user"), ctl_jstr(res, "uid"), ctl_jstr(res, "key"));
	json_object_put(res);
	return CTL_EXIT_OK;
}

int ctl_cmd_sessions(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res, *arr = NULL;
	int r = ctl_query(ctx, "sessions", argc, argv, &res);
	if (r || !res)
		return r;
	static const char *const hdr[] = { "ID", "NAME", "ROLE", "STATE", "LINK", "PEERS", "CLIENTS", "ENTRIES", "LAMPORT" };
	struct ctl_table *t = ctl_table_new(9, hdr);
	if (json_object_object_get_ex(res, "sessions", &arr) && json_object_is_type(arr, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *s = json_object_array_get_idx(arr, k);
			/* LINK: a member session's connection to its host. */
			const char *row[] = { ctl_jstr(s, "id"), ctl_jstr(s, "name"), ctl_jstr(s, "role"), ctl_jstr(s, "state"),
					      ctl_jstr(s, "link_state"), ctl_jstr(s, "peers"), ctl_jstr(s, "clients"),
					      ctl_jstr(s, "entries"), ctl_jstr(s, "lamport") };
			ctl_table_row(t, row);
		}
	}
	ctl_table_print(t);
	ctl_table_free(t);
	if (arr && json_object_is_type(arr, json_type_array))
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *s = json_object_array_get_idx(arr, k), *e;
			if (json_object_object_get_ex(s, "error", &e))
				fprintf(stderr, "session %s: %s\n", ctl_jstr(s, "id"), json_object_get_string(e));
		}
	json_object_put(res);
	return CTL_EXIT_OK;
}

static volatile sig_atomic_t ctl_stop;
static void ctl_on_sigint(int sig)
{
	ctl_stop = 1;
}

static void ctl_print_entries(struct ctl_ctx *ctx, struct json_object *entries, bool header)
{
	size_t n = json_object_array_length(entries);
	if (ctx->json) {
		for (size_t k = 0; k < n; k++)
			printf("%s\n", json_object_to_json_string_ext(json_object_array_get_idx(entries, k),
								      JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
		return;
	}
	static const char *const hdr[] = { "LAMPORT", "AUTHOR", "SEQ", "TYPE", "SCOPE", "SIZE", "TIME" };
	struct ctl_table *t = ctl_table_new(7, hdr);
	for (size_t k = 0; k < n; k++) {
		struct json_object *e = json_object_array_get_idx(entries, k), *v;
		char scope[64], when[64] = "-";
		snprintf(scope, sizeof(scope), "%s:%s", ctl_jstr(e, "scope"), ctl_jstr(e, "scope_id"));
		if (json_object_object_get_ex(e, "time_ns", &v)) {
			time_t secs = (time_t)(json_object_get_int64(v) / 1000000000);
			struct tm tm;
			if (localtime_r(&secs, &tm))
				strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		}
		const char *row[] = { ctl_jstr(e, "lamport"), ctl_jstr(e, "author"), ctl_jstr(e, "seq"), ctl_jstr(e, "type"), scope,
				      ctl_jstr(e, "size"), when };
		ctl_table_row(t, row);
	}
	if (header || n)
		ctl_table_print(t);
	ctl_table_free(t);
	fflush(stdout);
}

int ctl_cmd_log_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },         { "follow", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },  { "session", required_argument, NULL, 'S' },
		{ "max", required_argument, NULL, 'm' },    { 0 },
	};
	bool follow = false;
	const char *session = NULL;
	uint64_t since = 0, max = 1000;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'j':
			ctx->json = true;
			break;
		case 'f':
			follow = true;
			break;
		case 'S':
			session = optarg;
			break;
		case 's':
		case 'm': {
			unsigned long long x = strtoull(optarg, &end, 10);
			if (*end || end == optarg || optarg[0] == '-')
				return ctl_usage_error(ctx, "log", "--%s needs a number, not '%s'",
						       c == 's' ? "since" : "max", optarg);
			if (c == 's')
				since = x;
			else
				max = x;
			break;
		}
		default:
			return ctl_usage_error(ctx, "log", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_error(ctx, "log", "unexpected argument '%s' (did you mean 'log verify PATH'?)",
				       argv[optind]);
	if (follow) {
		signal(SIGINT, ctl_on_sigint);
		signal(SIGTERM, ctl_on_sigint);
	}
	bool first = true;
	do {
		struct json_object *args = json_object_new_object(), *res, *entries, *v;
		json_object_object_add(args, "since", json_object_new_uint64(since));
		json_object_object_add(args, "max", json_object_new_uint64(max));
		if (session)
			json_object_object_add(args, "session", json_object_new_string(session));
		int r = ctl_call(ctx, "log", args, &res);
		json_object_put(args);
		if (r)
			return r;
		if (!follow && ctx->json) {
			ctl_print_json(res);
		} else if (json_object_object_get_ex(res, "entries", &entries)) {
			if (first && !ctx->json)
				printf("session %s (%s), lamport %s\n", ctl_jstr(res, "session"), ctl_jstr(res, "name"),
				       ctl_jstr(res, "lamport"));
			ctl_print_entries(ctx, entries, first);
		}
		if (json_object_object_get_ex(res, "next_since", &v))
			since = (uint64_t)json_object_get_int64(v);
		json_object_put(res);
		first = false;
		if (follow && !ctl_stop)
			usleep(200 * 1000);
	} while (follow && !ctl_stop);
	return CTL_EXIT_OK;
}
