/* thetactl whoami, sessions (`log` is cmd_log.c). */
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
	static const char *const hdr[] = { "ID", "NAME", "CURRENT", "ROLE", "STATE", "LINK", "PEERS", "CLIENTS", "ENTRIES", "LAMPORT" };
	struct ctl_table *t = ctl_table_new(10, hdr);
	if (json_object_object_get_ex(res, "sessions", &arr) && json_object_is_type(arr, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *s = json_object_array_get_idx(arr, k);
			/* LINK: a member session's connection to its host. */
			/* CURRENT: the session local clients edit unless they ask for another. */
			struct json_object *cur;
			bool is_cur = json_object_object_get_ex(s, "current", &cur) && json_object_get_boolean(cur);
			const char *row[] = { ctl_jstr(s, "id"), ctl_jstr(s, "name"), is_cur ? "*" : "-", ctl_jstr(s, "role"), ctl_jstr(s, "state"),
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
