/* cmocka helpers for integration tests against one daemon (th_daemontest.h). */
#include "th_daemontest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_time.h"

#define DT_SETPRIV "/usr/bin/setpriv"
#define DT_ARGS_MAX 32 /* arguments of one dt_run_as_other */
#define DT_POLL_NS (20 * TH_NS_PER_MS)
#define DT_OUT_MAX (1u << 18) /* bytes of thetactl's output kept */

static char dt_conf[PATH_MAX];

int dt_teardown(void **state)
{
	(void)state;
	th_daemon_slot_release();
	return 0;
}

struct th_daemon_proc *dt_start(void)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, NULL), 0);
	return d;
}

struct th_daemon_proc *dt_host_stopped(const char *name, char *logdir, size_t cap)
{
	static char out[DT_OUT_MAX], err[DT_OUT_MAX];
	static const char hosting[] = "hosting session ";
	char id[64] = "";
	struct th_daemon_proc *d = dt_start();
	const char *host[] = { "session", "host", "--name", name, NULL };
	assert_int_equal(th_ctl(d, host, out, sizeof(out), err, sizeof(err)), 0);
	const char *p = strstr(out, hosting);
	assert_non_null(p);
	sscanf(p + strlen(hosting), "%32[0-9a-f]", id);
	assert_int_equal(strlen(id), 32);
	int status;
	assert_int_equal(th_daemon_stop(d, SIGTERM, DT_WAIT_MS, &status), 0);
	int n = snprintf(logdir, cap, "%s/sessions/%s/log", d->state_dir, id);
	assert_true(n > 0 && (size_t)n < cap);
	th_rm_rf(logdir);
	return d;
}

struct th_daemon_proc *dt_start_two_users(int *gid)
{
	struct group *g = getgrnam("nogroup");
	if (!th_is_root() || !g || access(DT_SETPRIV, X_OK) < 0) {
		print_message("SKIP: two users need root, " DT_SETPRIV " and group nogroup\n");
		skip();
	}
	*gid = (int)g->gr_gid;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	assert_int_equal(th_daemon_start_query_group(d, "nogroup", dt_conf, sizeof(dt_conf), DT_WAIT_MS), 0);
	return d;
}

int dt_run_as_other(int gid, const char *const *argv, char *out, size_t outlen, char *err, size_t errlen)
{
	char reuid[32], regid[32];
	snprintf(reuid, sizeof(reuid), "--reuid=%d", DT_UID_OTHER);
	snprintf(regid, sizeof(regid), "--regid=%d", gid);
	const char *args[DT_ARGS_MAX] = { DT_SETPRIV, reuid, regid, "--clear-groups" };
	size_t k = 4;
	for (size_t i = 0; argv[i]; i++) {
		assert_true(k + 1 < DT_ARGS_MAX);
		args[k++] = argv[i];
	}
	args[k] = NULL;
	out[0] = err[0] = 0;
	return th_run(args, NULL, -1, out, outlen, err, errlen, DT_WAIT_MS);
}

const char *dt_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

unsigned long long dt_u64(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in the answer", key);
	return json_object_get_uint64(v);
}

long long dt_scene_count(struct th_daemon_proc *d, const char *key)
{
	struct json_object *r = th_ctl_call(d, "{\"cmd\":\"scene\",\"args\":{}}"), *v;
	long long n = r && json_object_object_get_ex(r, key, &v) ? json_object_get_int64(v) : -1;
	json_object_put(r);
	return n;
}

void dt_wait_scene(struct th_daemon_proc *d, const char *key, long long want)
{
	uint64_t end = th_now_ns() + (uint64_t)DT_WAIT_MS * TH_NS_PER_MS;
	while (dt_scene_count(d, key) != want && th_now_ns() < end)
		th_sleep_ns(DT_POLL_NS);
	assert_int_equal(dt_scene_count(d, key), want);
}

struct json_object *dt_scene_at(struct th_daemon_proc *d, const char *session, uint64_t want)
{
	static char out[DT_OUT_MAX], err[DT_OUT_MAX];
	uint64_t end = th_now_ns() + (uint64_t)DT_WAIT_MS * TH_NS_PER_MS;
	for (;;) {
		const char *args[] = { "--json", "scene", "--session", session, NULL };
		int rc = th_ctl(d, args, out, sizeof(out), err, sizeof(err));
		struct json_object *o = rc == 0 ? json_tokener_parse(out) : NULL;
		const char *state = o ? th_json_path(o, "state") : NULL, *pos = o ? th_json_path(o, "log_position") : NULL;
		if (state && !strcmp(state, "live") && pos && strtoull(pos, NULL, 10) == want)
			return o;
		json_object_put(o);
		if (th_now_ns() > end)
			fail_msg("the daemon's scene did not reach position %llu: %s%s", (unsigned long long)want, out, err);
		th_sleep_ns(DT_POLL_NS);
	}
}
