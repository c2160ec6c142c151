/* Commands signed as the caller (thetad/sess/submit.c) and `thetactl undo
 * / redo` on a real daemon: `submit` signs a mesh.create with the caller's
 * own key and answers its lamport, seq and author, and the scene folds it;
 * refusals are the daemon's sentences and change nothing; `thetactl undo`
 * of one's own entry takes the mesh out of the scene and `redo` brings it
 * back; with two real uids (root only), the fold refuses an editor's undo
 * of another's edit (`denied`) and a daemon admin's own key too, while the
 * admin's `--as-host` undo stands. Every wait polls with a deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <grp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_daemontest.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_payload.h"
#include "th_time.h"

static char out[1 << 16], errb[1 << 16];

/* The payload of a mesh.create of one triangle at x (hex into hex). */
static void triangle_hex(float x, char *hex, size_t cap)
{
	static struct th_pl_mesh_create m;
	memset(&m, 0, sizeof(m));
	const float t[10] = { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(m.transform, t, sizeof(t));
	for (unsigned i = 0; i < 3; i++)
		m.ops[i] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_VERTEX_ADD,
						   .position = { x + (i == 1), (float)(i == 2), 0 } };
	m.ops[3] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_ADD };
	for (unsigned i = 0; i < 3; i++)
		m.ops[4 + i] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP, .element = i + 1,
						       .arg = TH_PL_MESH_REF_LOCAL };
	m.ops_count = 7;
	uint8_t buf[512];
	int n = th_cmd_payload_encode(TH_CMD_MESH_CREATE, &m, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n * 2 < cap);
	th_hex_encode(buf, (size_t)n, hex);
}

static struct json_object *submit_json(struct th_daemon_proc *d, const char *args, char *err, size_t errlen)
{
	char json[4096];
	snprintf(json, sizeof(json), "{\"cmd\":\"submit\",\"args\":{%s}}", args);
	return th_ctl_call_err(d, json, err, errlen);
}

static struct json_object *submit_triangle(struct th_daemon_proc *d, float x)
{
	char hex[1024], args[1200], err[512];
	triangle_hex(x, hex, sizeof(hex));
	snprintf(args, sizeof(args), "\"type\":\"mesh.create\",\"payload\":\"%s\"", hex);
	struct json_object *r = submit_json(d, args, err, sizeof(err));
	if (!r)
		fail_msg("submit refused: %s", err);
	return r;
}

/* `entry` for lamport by author (hex key or fingerprint prefix). */
static struct json_object *entry_of(struct th_daemon_proc *d, unsigned long long lamport, const char *author)
{
	char json[512];
	snprintf(json, sizeof(json), "{\"cmd\":\"entry\",\"args\":{\"lamport\":%llu,\"author\":\"%s\"}}", lamport, author);
	return th_ctl_call(d, json);
}

static void wait_outcome(struct th_daemon_proc *d, unsigned long long lamport, const char *author, const char *want)
{
	uint64_t end = th_now_ns() + (uint64_t)DT_WAIT_MS * TH_NS_PER_MS;
	char got[64] = "";
	do {
		struct json_object *e = entry_of(d, lamport, author);
		snprintf(got, sizeof(got), "%s", dt_str(e, "outcome"));
		json_object_put(e);
		if (!strcmp(got, want))
			return;
		th_sleep_ns(20 * TH_NS_PER_MS);
	} while (th_now_ns() < end);
	fail_msg("entry %llu by %s: outcome '%s', expected '%s'", lamport, author, got, want);
}

static int ctl(struct th_daemon_proc *d, const char *const *args)
{
	out[0] = errb[0] = 0;
	return th_ctl(d, args, out, sizeof(out), errb, sizeof(errb));
}

/* ---- submit ---------------------------------------------------------------- */

static void submit_signs_a_command_with_the_callers_own_key(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	struct json_object *r = submit_triangle(d, 0), *me = th_ctl_call(d, "{\"cmd\":\"whoami\",\"args\":{}}");
	assert_non_null(me);
	assert_true(dt_u64(r, "lamport") >= 1);
	assert_int_equal(dt_u64(r, "seq"), 1);
	assert_int_equal(strlen(dt_str(r, "author")), 64);
	assert_string_equal(dt_str(r, "fingerprint"), dt_str(me, "key")); /* the caller's user key, not the host's */
	assert_string_equal(dt_str(r, "state"), "admitted");
	dt_wait_scene(d, "meshes", 1);
	assert_int_equal(dt_scene_count(d, "faces"), 1);
	wait_outcome(d, dt_u64(r, "lamport"), dt_str(r, "author"), "applied");
	/* `entry` finds it by a fingerprint prefix too, and names its type. */
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%.12s", dt_str(r, "fingerprint"));
	struct json_object *e = entry_of(d, dt_u64(r, "lamport"), prefix);
	assert_non_null(e);
	assert_string_equal(dt_str(e, "type"), "mesh.create");
	assert_string_equal(dt_str(e, "author"), dt_str(r, "author"));
	json_object_put(e);
	/* The next one is seq 2 of the same chain. */
	struct json_object *r2 = submit_triangle(d, 5);
	assert_int_equal(dt_u64(r2, "seq"), 2);
	assert_true(dt_u64(r2, "lamport") > dt_u64(r, "lamport"));
	dt_wait_scene(d, "meshes", 2);
	json_object_put(r2);
	json_object_put(r);
	json_object_put(me);
}

static void submit_refusals_are_sentences_and_change_nothing(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	char hex[1024], args[1400], err[512];
	triangle_hex(0, hex, sizeof(hex));
	hex[strlen(hex) - 8] = 0; /* four bytes short */
	snprintf(args, sizeof(args), "\"type\":\"mesh.create\",\"payload\":\"%s\"", hex);
	assert_null(submit_json(d, args, err, sizeof(err)));
	assert_non_null(strstr(err, "malformed mesh.create payload"));
	assert_null(submit_json(d, "\"type\":\"mesh.frobnicate\"", err, sizeof(err)));
	assert_non_null(strstr(err, "needs \"type\""));
	assert_null(submit_json(d, "\"type\":\"mesh.patch\",\"payload\":\"00\"", err, sizeof(err)));
	assert_non_null(strstr(err, "mesh.patch needs \"scope\""));
	assert_null(submit_json(d, "\"type\":\"material.set\",\"scope\":7", err, sizeof(err)));
	assert_non_null(strstr(err, "its scope must be 0"));
	assert_null(submit_json(d, "\"type\":\"mesh.create\",\"payload\":\"zz\"", err, sizeof(err)));
	assert_non_null(strstr(err, "not hex digits"));
	triangle_hex(0, hex, sizeof(hex));
	snprintf(args, sizeof(args), "\"type\":\"mesh.create\",\"as\":\"host\",\"payload\":\"%s\"", hex);
	assert_null(submit_json(d, args, err, sizeof(err)));
	assert_non_null(strstr(err, "the host key signs only edit.undo and edit.redo"));
	snprintf(args, sizeof(args), "\"type\":\"mesh.create\",\"session\":\"nosuch\",\"payload\":\"%s\"", hex);
	assert_null(submit_json(d, args, err, sizeof(err)));
	assert_non_null(strstr(err, "no session 'nosuch'"));
	/* Nothing reached the log. */
	assert_int_equal(dt_scene_count(d, "log_count"), 0);
	assert_int_equal(ctl(d, (const char *const[]){ "undo", "3", NULL }), 1);
	assert_non_null(strstr(errb, "no entry with lamport 3"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", "x3", NULL }), 2);
	assert_non_null(strstr(errb, "is not an entry"));
}

/* ---- thetactl undo / redo ------------------------------------------------------ */

static void undo_and_redo_of_ones_own_edit(void **state)
{
	(void)state;
	struct th_daemon_proc *d = dt_start();
	struct json_object *r = submit_triangle(d, 0);
	dt_wait_scene(d, "meshes", 1);
	char spec[128];
	snprintf(spec, sizeof(spec), "%llu:%.14s", dt_u64(r, "lamport"), dt_str(r, "fingerprint"));
	if (ctl(d, (const char *const[]){ "undo", spec, "--json", NULL }) != 0)
		fail_msg("undo %s: %s", spec, errb);
	struct json_object *u = json_tokener_parse(out);
	assert_non_null(u);
	assert_string_equal(dt_str(u, "outcome"), "control");
	assert_string_equal(dt_str(u, "target_type"), "mesh.create");
	dt_wait_scene(d, "meshes", 0);
	wait_outcome(d, dt_u64(r, "lamport"), dt_str(r, "author"), "excluded");
	/* An undo cannot be undone: redo it instead. */
	char uspec[128];
	snprintf(uspec, sizeof(uspec), "%s", dt_str(u, "entry"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", uspec, NULL }), 1);
	assert_non_null(strstr(errb, "cannot be undone (to bring back what it undid: thetactl redo ENTRY)"));
	/* redo names the undo entry, not the original one. */
	assert_int_equal(ctl(d, (const char *const[]){ "redo", spec, NULL }), 1);
	assert_non_null(strstr(errb, "is a mesh.create, not an edit.undo"));
	assert_int_equal(ctl(d, (const char *const[]){ "redo", uspec, NULL }), 0);
	assert_non_null(strstr(out, "redid"));
	dt_wait_scene(d, "meshes", 1);
	wait_outcome(d, dt_u64(r, "lamport"), dt_str(r, "author"), "applied");
	/* Undo again after the redo: the original entry again. */
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, NULL }), 0);
	assert_non_null(strstr(out, "undid"));
	dt_wait_scene(d, "meshes", 0);
	json_object_put(u);
	json_object_put(r);
}

/* ---- two users ---------------------------------------------------------------- */

/* A control request as uid (group gid) from a child process: the result
 * (NULL on an error reply, its sentence in err). */
static struct json_object *call_as(struct th_daemon_proc *d, int uid, int gid, const char *json, char *err,
				   size_t errlen)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) < 0 || setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0 ||
		    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
			_exit(3);
		char e[512] = "";
		struct json_object *r = th_ctl_call_err(d, json, e, sizeof(e));
		const char *s = r ? json_object_to_json_string(r) : e;
		dprintf(p[1], "%c%s", r ? '+' : '-', s);
		_exit(0);
	}
	close(p[1]);
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t k;
	while (n + 1 < sizeof(buf) && (k = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = 0;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (buf[0] == '+')
		return json_tokener_parse(buf + 1);
	snprintf(err, errlen, "%s", buf + 1);
	return NULL;
}

static void only_the_author_or_an_admin_undoes_an_edit(void **state)
{
	(void)state;
	int gid;
	struct th_daemon_proc *d = dt_start_two_users(&gid);
	char hex[1024], json[1400], err[512];
	triangle_hex(0, hex, sizeof(hex));
	snprintf(json, sizeof(json), "{\"cmd\":\"submit\",\"args\":{\"type\":\"mesh.create\",\"payload\":\"%s\"}}", hex);
	/* Not a member yet: the sentence a client would get. */
	assert_null(call_as(d, DT_UID_OTHER, gid, json, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a member of session"));
	assert_int_equal(ctl(d, (const char *const[]){ "session", "allow", "nobody", "--role", "editor", NULL }), 0);
	struct json_object *theirs = call_as(d, DT_UID_OTHER, gid, json, err, sizeof(err));
	if (!theirs)
		fail_msg("the editor's submit was refused: %s", err);
	struct json_object *mine = submit_triangle(d, 5);
	assert_string_not_equal(dt_str(theirs, "author"), dt_str(mine, "author"));
	dt_wait_scene(d, "meshes", 2);
	/* The editor may not undo the admin's edit: the fold says denied. */
	char spec[128], undo[1400];
	snprintf(spec, sizeof(spec), "%llu:%s", dt_u64(mine, "lamport"), dt_str(mine, "fingerprint"));
	const char *argv[] = { th_bin("thetactl"), "--runtime-dir", d->runtime_dir, "undo", spec, NULL };
	assert_int_equal(dt_run_as_other(gid, argv, out, sizeof(out), errb, sizeof(errb)), 1);
	assert_non_null(strstr(errb, "the session refused the undo"));
	assert_non_null(strstr(errb, "denied"));
	assert_int_equal(dt_scene_count(d, "meshes"), 2);
	/* The admin's own user key is no session admin either ... */
	snprintf(spec, sizeof(spec), "%llu:%s", dt_u64(theirs, "lamport"), dt_str(theirs, "fingerprint"));
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, NULL }), 1);
	assert_non_null(strstr(errb, "denied"));
	assert_non_null(strstr(errb, "--as-host"));
	/* ... but signed with the host key, the undo stands. */
	assert_int_equal(ctl(d, (const char *const[]){ "undo", spec, "--as-host", NULL }), 0);
	assert_non_null(strstr(out, "undid"));
	dt_wait_scene(d, "meshes", 1);
	wait_outcome(d, dt_u64(theirs, "lamport"), dt_str(theirs, "author"), "excluded");
	/* The editor may not sign with the host key. */
	snprintf(undo, sizeof(undo), "{\"cmd\":\"submit\",\"args\":{\"type\":\"edit.undo\",\"as\":\"host\",\"payload\":\"00\"}}");
	assert_null(call_as(d, DT_UID_OTHER, gid, undo, err, sizeof(err)));
	assert_non_null(strstr(err, "needs root or membership of the admin group"));
	json_object_put(theirs);
	json_object_put(mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(submit_signs_a_command_with_the_callers_own_key, dt_teardown),
		cmocka_unit_test_teardown(submit_refusals_are_sentences_and_change_nothing, dt_teardown),
		cmocka_unit_test_teardown(undo_and_redo_of_ones_own_edit, dt_teardown),
		cmocka_unit_test_teardown(only_the_author_or_an_admin_undoes_an_edit, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
