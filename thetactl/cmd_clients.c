/* thetactl clients: the theta-clients connected to the daemon's client.sock
 * and their ring figures (daemon's `clients` command, thetad/ipc/module.c).
 * A caller other than root or the daemon's user sees only its own clients. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_CLIENTS_COLS 15

static struct json_object *cobj(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_object) ? v : NULL;
}

/* "records/bytes" of one direction. */
static void fmt_flow(struct json_object *ring, char *buf, size_t len)
{
	char b[32];
	ctl_format_bytes((unsigned long long)ctl_jint(ring, "bytes"), b, sizeof b);
	snprintf(buf, len, "%lld/%s", ctl_jint(ring, "records"), b);
}

/* The client's scene mirror beside the daemon's: "match@POS" /
 * "differs@POS" (same position, the two world hashes compared),
 * "behind POS/DAEMON_POS", "ahead ...", "-" before its first report. */
static void fmt_scene(struct json_object *c, char *buf, size_t len)
{
	struct json_object *sc = cobj(c, "scene");
	if (!sc) {
		snprintf(buf, len, "-");
		return;
	}
	const char *verdict = ctl_jstr(sc, "hash");
	if (!strcmp(verdict, "match") || !strcmp(verdict, "differs") || !strcmp(verdict, "unknown"))
		snprintf(buf, len, "%s@%lld", verdict, ctl_jint(sc, "next_pos"));
	else
		snprintf(buf, len, "%s %lld/%lld", verdict, ctl_jint(sc, "next_pos"), ctl_jint(sc, "daemon_next_pos"));
}

/* An interaction profile path shortened for the table: its last component
 * without "_controller" ("/interaction_profiles/oculus/touch_controller"
 * -> "touch"), "-" when empty. */
static void short_profile(const char *path, char *buf, size_t len)
{
	static const char suffix[] = "_controller";
	const char *last = strrchr(path, '/');
	last = last ? last + 1 : path;
	size_t n = strlen(last), sl = sizeof suffix - 1;
	if (n > sl && !strcmp(last + n - sl, suffix))
		n -= sl;
	if (n == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*s", (int)n, last);
}

/* The client's input: its source, and for OpenXR (or any source reporting
 * a profile) "LEFT/RIGHT" shortened: "openxr touch/touch", "desktop";
 * "-" before its first INPUT_INFO. */
static void fmt_input(struct json_object *c, char *buf, size_t len)
{
	struct json_object *in = cobj(c, "input");
	if (!in) {
		snprintf(buf, len, "-");
		return;
	}
	const char *src = ctl_jstr(in, "source"), *left = ctl_jstr(in, "left"), *right = ctl_jstr(in, "right");
	if (strcmp(src, "openxr") && !*left && !*right) {
		snprintf(buf, len, "%s", src);
		return;
	}
	char l[64], r[64];
	short_profile(left, l, sizeof l);
	short_profile(right, r, sizeof r);
	snprintf(buf, len, "%s %s/%s", src, l, r);
}

/* "to-daemon/to-client" of one counter. */
static void fmt_pair(struct json_object *c2d, struct json_object *d2c, const char *k, char *buf, size_t len)
{
	snprintf(buf, len, "%lld/%lld", ctl_jint(c2d, k), ctl_jint(d2c, k));
}

int ctl_cmd_clients(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res;
	int r = ctl_query(ctx, "clients", argc, argv, &res);
	if (r || !res)
		return r;
	struct json_object *list;
	if (!json_object_object_get_ex(res, "clients", &list) || !json_object_is_type(list, json_type_array)) {
		ctl_eprintf(ctx, "%s clients: the daemon's reply has no client list\n", ctx->prog);
		json_object_put(res);
		return CTL_EXIT_ERROR;
	}
	size_t n = json_object_array_length(list);
	if (n == 0) {
		printf("no clients connected\n");
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	static const char *const hdr[CTL_CLIENTS_COLS] = { "ID", "PID", "USER", "NAME", "SESSION", "INPUT", "CONNECTED", "FRAMES",
							   "P50/P99 MS", "TO-DAEMON", "TO-CLIENT", "DROPS", "WAKEUPS", "VIOLATIONS", "SCENE" };
	struct ctl_table *t = ctl_table_new(CTL_CLIENTS_COLS, hdr);
	struct json_object *empty = json_object_new_object();
	for (size_t k = 0; k < n; k++) {
		struct json_object *c = json_object_array_get_idx(list, k);
		struct json_object *c2d = cobj(c, "to_daemon"), *d2c = cobj(c, "to_client");
		c2d = c2d ? c2d : empty;
		d2c = d2c ? d2c : empty;
		char conn[32] = "-", input[160], frames[24], scene[64], ft[48] = "-", up[48], down[48], drops[48], wake[48], viol[48];
		struct json_object *v, *fto = cobj(c, "frame_time"), *p50, *p99;
		if (fto && json_object_object_get_ex(fto, "p50_us", &p50) && json_object_object_get_ex(fto, "p99_us", &p99))
			snprintf(ft, sizeof ft, "%.2f/%.2f", json_object_get_double(p50) / 1e3,
				 json_object_get_double(p99) / 1e3);
		if (json_object_object_get_ex(c, "connected_s", &v))
			ctl_format_duration(json_object_get_double(v), conn, sizeof conn);
		snprintf(frames, sizeof frames, "%lld", ctl_jint(c, "frames"));
		fmt_flow(c2d, up, sizeof up);
		fmt_flow(d2c, down, sizeof down);
		fmt_pair(c2d, d2c, "drops", drops, sizeof drops);
		fmt_pair(c2d, d2c, "wakeups", wake, sizeof wake);
		fmt_pair(c2d, d2c, "violations", viol, sizeof viol);
		fmt_scene(c, scene, sizeof scene);
		fmt_input(c, input, sizeof input);
		/* PID: the process, or for a remote client its kind ("browser"). */
		struct json_object *pid;
		const char *who = json_object_object_get_ex(c, "pid", &pid) ? ctl_jstr(c, "pid") : ctl_jstr(c, "kind");
		/* SESSION: its name, "+" when the client chose it (--session, a browser's link). */
		char sess[80];
		struct json_object *pin;
		snprintf(sess, sizeof sess, "%s%s", ctl_jstr(c, "session_name"),
			 json_object_object_get_ex(c, "session_pinned", &pin) && json_object_get_boolean(pin) ? "+" : "");
		const char *row[CTL_CLIENTS_COLS] = { ctl_jstr(c, "id"), who, ctl_jstr(c, "user"), ctl_jstr(c, "name"), sess,
						      input, conn, frames, ft, up, down, drops, wake, viol, scene };
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	ctl_table_free(t);
	json_object_put(empty);
	printf("PID: the client's process, or \"browser\" for a browser peer (docs/web.md)\n"
	       "SESSION: the session it edits; + when it chose it (theta-client --session, a browser's link), else it "
	       "follows thetactl session use\n"
	       "INPUT: the client's input source and its left/right interaction profiles (--json: the full paths)\n"
	       "TO-DAEMON/TO-CLIENT: ring records/bytes each way; DROPS, WAKEUPS, VIOLATIONS: to daemon/to client\n"
	       "SCENE: the client's world hash against the daemon's at the same log position (match/differs), or how far "
	       "behind it is\n");
	json_object_put(res);
	return CTL_EXIT_OK;
}
