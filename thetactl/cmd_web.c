/* thetactl web: the daemon's web endpoint for browsers (daemon's `web`
 * command, thetad/web/module.c; docs/web.md "The web endpoint"): where it
 * listens, the URL base of its links, then one row per browser peer. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_WEB_COLS 8
#define CTL_WEB_SESSION_SHOWN 8 /* hex digits of the session id in the table (--json: whole) */

int ctl_cmd_web(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res, *list, *v;
	int r = ctl_query(ctx, "web", argc, argv, &res);
	if (r || !res)
		return r;
	if (!json_object_object_get_ex(res, "browsers", &list) || !json_object_is_type(list, json_type_array)) {
		ctl_eprintf(ctx, "%s web: the daemon's reply has no browser list\n", ctx->prog);
		json_object_put(res);
		return CTL_EXIT_ERROR;
	}
	bool tls = json_object_object_get_ex(res, "tls", &v) && json_object_get_boolean(v);
	printf("web: %s over TCP %s, WebRTC on UDP port %lld; links start %s\n", tls ? "HTTPS" : "HTTP",
	       ctl_jstr(res, "listen"), ctl_jint(res, "udp_port"), ctl_jstr(res, "url"));
	size_t n = json_object_array_length(list);
	printf("files from %s; %zu browser%s (at most %lld)\n", ctl_jstr(res, "root"), n, n == 1 ? "" : "s",
	       ctl_jint(res, "max_peers"));
	if (n == 0) {
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	static const char *const hdr[CTL_WEB_COLS] = { "NAME", "SESSION", "ROLE", "STATE", "ADDRESS", "BYTES IN/OUT",
						       "AGE", "CLIENT" };
	struct ctl_table *t = ctl_table_new(CTL_WEB_COLS, hdr);
	for (size_t k = 0; k < n; k++) {
		struct json_object *b = json_object_array_get_idx(list, k);
		char sess[CTL_WEB_SESSION_SHOWN + 1], bin[32], bout[32], bytes[72], age[32], client[32];
		snprintf(sess, sizeof sess, "%s", ctl_jstr(b, "session"));
		ctl_format_bytes((unsigned long long)ctl_jint(b, "bytes_in"), bin, sizeof bin);
		ctl_format_bytes((unsigned long long)ctl_jint(b, "bytes_out"), bout, sizeof bout);
		snprintf(bytes, sizeof bytes, "%s/%s", bin, bout);
		double a = json_object_object_get_ex(b, "age_s", &v) ? json_object_get_double(v) : 0;
		snprintf(age, sizeof age, "%.0f s", a);
		long long c = ctl_jint(b, "client");
		snprintf(client, sizeof client, c ? "%lld" : "-", c);
		const char *addr = ctl_jstr(b, "address");
		const char *row[CTL_WEB_COLS] = { ctl_jstr(b, "name"), sess, ctl_jstr(b, "role"), ctl_jstr(b, "state"),
						  *addr ? addr : "-", bytes, age, client };
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(res);
	return CTL_EXIT_OK;
}
