/* The offline scene agrees with the daemon's: a real thetad opens a log of
 * scene edits by two authors in a session it hosts, and `thetactl scene`
 * (the daemon's fold) and `thetactl log verify` / `scene diff` (rebuilt
 * offline from the same files, the host key read from the daemon's
 * keys/host.key) print the same world hash and counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_daemontest.h"
#include "th_harness.h"
#include "th_scenelog.h"

#define WAIT_MS 30000

static char out[1 << 18], err[1 << 14];

static struct json_object *ctl_json(struct th_daemon_proc *d, const char *const *args)
{
	int rc = th_ctl(d, args, out, sizeof(out), err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "thetactl %s: exit %d: %s", args[0], rc, err);
	assert_int_equal(rc, 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static void the_offline_rebuild_prints_the_daemons_world_hash(void **state)
{
	char logdir[PATH_MAX + 128];
	struct th_daemon_proc *d = dt_host_stopped("studio", logdir, sizeof(logdir));

	/* Two authors' scene edits, written as the session's log. */
	struct sh_log l;
	struct lt_author a, b;
	struct sh_mesh m;
	uint64_t e;
	lt_author_init(&a, 0x11);
	lt_author_init(&b, 0x22);
	sh_init(&l, true);
	assert_int_equal(sh_mesh_strip(&l, &a, 3, 0, 0, &m), 0);
	assert_int_equal(sh_entity_create(&l, &b, (float[3]){ 1, 2, 3 }, &e), 0);
	assert_int_equal(sh_vertex_move(&l, &b, &m, 1, (float[3]){ 1, 0, 1 }), 0);
	assert_int_equal(sh_transform_write(&l, &a, e, (float[3]){ 4, 5, 6 }), 0);
	assert_int_equal(sh_material(&l, &b, 3, "glass", (float[4]){ 0.5f, 0.5f, 1, 0.3f }), 0);
	assert_int_equal(sh_undo(&l, &a, 2), 0); /* A undoes B's move: A is no admin, refused */
	assert_int_equal(sh_undo(&l, &b, 2), 0); /* B undoes its own: stands */
	assert_int_equal(sh_mesh_strip(&l, &b, 2, 1, 3, NULL), 0);
	assert_int_equal(sh_write_log(&l, l.n, logdir), 0);
	assert_int_equal(th_daemon_respawn(d, NULL, NULL, WAIT_MS), 0);

	struct json_object *live = dt_scene_at(d, "studio", l.n);
	const char *verify[] = { "log", "verify", "--json", logdir, NULL };
	struct json_object *off = ctl_json(d, verify);
	assert_string_equal(th_json_path(off, "scene.world_hash"), th_json_path(live, "world_hash"));
	assert_non_null(strstr(th_json_path(off, "scene.host_key_source"), "host.key"));
	static const char *const same[] = { "entities", "meshes", "faces", "vertices", "edges", "materials",
					    "applied", "refused", "excluded" };
	for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
		char path[64];
		snprintf(path, sizeof(path), "scene.%s", same[k]);
		assert_non_null(th_json_path(live, same[k]));
		assert_string_equal(th_json_path(off, path), th_json_path(live, same[k]));
	}
	assert_string_equal(th_json_path(live, "refused"), "1");
	assert_string_equal(th_json_path(live, "excluded"), "1");

	/* scene diff finds the log through the daemon and ends at its hash. */
	const char *diff[] = { "--json", "scene", "diff", "0", "8", "--session", "studio", NULL };
	struct json_object *dj = ctl_json(d, diff);
	assert_string_equal(th_json_path(dj, "world_hash_to"), th_json_path(live, "world_hash"));
	json_object_put(dj);
	/* For people: the same hash in the table. */
	const char *human[] = { "scene", "--session", "studio", NULL };
	assert_int_equal(th_ctl(d, human, out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, th_json_path(live, "world_hash")));
	assert_non_null(strstr(out, "state:         live"));
	json_object_put(live);
	json_object_put(off);
	sh_fini(&l);
}

static int teardown(void **state)
{
	th_daemon_slot_release();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_offline_rebuild_prints_the_daemons_world_hash, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
