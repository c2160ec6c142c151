/* thetactl presence: presence between daemons (the daemon's `presence`
 * command, thetad/net/net_pres.c; docs/presence.md "In the daemon"): the
 * [presence] settings, then per session this daemon hosts or has joined
 * its users, receivers, frame rates, the share of irrelevant updates
 * interest kept off the wire and the bytes per pose sent. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_PRES_COLS 10
#define CTL_PRES_ID_SHOWN 8 /* session ids are shown this long (--json: whole) */

static double jdouble(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

int ctl_cmd_presence(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res, *list, *cfg;
	int r = ctl_query(ctx, "presence", argc, argv, &res);
	if (r || !res)
		return r;
	if (!json_object_object_get_ex(res, "sessions", &list) || !json_object_is_type(list, json_type_array) ||
	    !json_object_object_get_ex(res, "config", &cfg)) {
		fprintf(stderr, "%s presence: the daemon's reply has no session list\n", ctx->prog);
		json_object_put(res);
		return CTL_EXIT_ERROR;
	}
	printf("presence: %lld Hz, cells of %g m; every tick within %lld cells (or %lld in a %g° view), "
	       "%lld Hz within %lld cells, culled beyond; voices culled beyond %lld cells\n",
	       ctl_jint(cfg, "tick_hz"), jdouble(cfg, "cell_m"), ctl_jint(cfg, "near_cells"), ctl_jint(cfg, "view_cells"),
	       jdouble(cfg, "view_deg"), ctl_jint(cfg, "far_hz"), ctl_jint(cfg, "far_cells"),
	       ctl_jint(cfg, "voice_cells"));
	size_t n = json_object_array_length(list);
	if (n == 0) {
		printf("no sessions with presence\n");
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	static const char *const hdr[CTL_PRES_COLS] = { "SESSION", "NAME", "ROLE", "USERS", "RECEIVERS", "FRAMES/S OUT",
							"FRAMES/S IN", "FILTERED", "BYTES/POSE", "VOICE CULLED" };
	struct ctl_table *t = ctl_table_new(CTL_PRES_COLS, hdr);
	for (size_t k = 0; k < n; k++) {
		struct json_object *s = json_object_array_get_idx(list, k), *st = NULL;
		json_object_object_get_ex(s, "stats", &st);
		char id[CTL_PRES_ID_SHOWN + 1], users[32], recv[24], fo[24], fi[24], filt[24], bpp[24], vc[48];
		snprintf(id, sizeof id, "%s", ctl_jstr(s, "session"));
		snprintf(users, sizeof users, "%lld+%lld", ctl_jint(s, "local_users"), ctl_jint(s, "remote_users"));
		bool host = !strcmp(ctl_jstr(s, "role"), "host");
		if (host)
			snprintf(recv, sizeof recv, "%lld", ctl_jint(s, "receivers"));
		else
			snprintf(recv, sizeof recv, "%s", json_object_get_boolean(json_object_object_get(s, "linked")) ? "host" : "-");
		snprintf(fo, sizeof fo, "%.1f", jdouble(s, "frames_out_per_s"));
		snprintf(fi, sizeof fi, "%.1f", jdouble(s, "frames_in_per_s"));
		snprintf(filt, sizeof filt, "%.1f%%", jdouble(s, "filtered_pct"));
		snprintf(bpp, sizeof bpp, "%.1f", jdouble(s, "bytes_per_pose"));
		if (host && st)
			snprintf(vc, sizeof vc, "%lld of %lld", ctl_jint(st, "voice_culled"),
				 ctl_jint(st, "voice_culled") + ctl_jint(st, "voice_passed"));
		else
			snprintf(vc, sizeof vc, "-");
		const char *row[CTL_PRES_COLS] = { id, ctl_jstr(s, "name"), ctl_jstr(s, "role"), users, recv, fo, fi, filt,
						   bpp, vc };
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	ctl_table_free(t);
	printf("USERS: local+others; FILTERED: updates for far or culled users never sent, of all such updates; "
	       "BYTES/POSE: frame bytes sent per pose part in them\n");
	json_object_put(res);
	return CTL_EXIT_OK;
}
