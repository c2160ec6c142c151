/* thetactl's scene, run as processes: `log verify` rebuilds the scene of a
 * log file offline (whole, --at N, the host key from the session directory,
 * the -ERANGE fallback), `scene diff A B` lists what changed, `scene` shows
 * the daemon's reply; each printed hash equals a th_fold built here from
 * the same entries. The daemon side of `scene` is a stand-in control
 * socket answering the reply shape of docs/scene.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctlproto.h"
#include "th_buf.h"
#include "th_fold.h"
#include "th_ctlfake.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_id.h"
#include "th_scenelog.h"

#define RUN_MS 20000
#define SESSION_ID "00112233445566778899aabbccddeeff"

static char out[1 << 18], err[1 << 16];

struct fx {
	char dir[256];
	char log[512];
	struct sh_log l;
	struct lt_author a, b;
	struct sh_mesh ma, ma2, missing;
	uint64_t eb, ea2, ec;
};

/* Two authors editing one scene (the index is the log position):
 *  0 A material 1 "red"       1 A mesh.create MA (4 quads)
 *  2 B entity.create EB       3 B Transform of EB
 *  4 A moves a vertex of MA   5 B moves another vertex of MA
 *  6 A mesh.create MA2 (2)    7 B patches a mesh that does not exist (refused)
 *  8 A Transform of EB        9 B material 1 "blue"
 * 10 B undoes entry 4 (stands only when B is the host: an admin)
 * 11 A entity.create EC */
#define HISTORY 12

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const float red[4] = { 1, 0, 0, 1 }, blue[4] = { 0, 0, 1, 1 };
	assert_int_equal(th_mkdtemp(f->dir, sizeof(f->dir)), 0);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	lt_author_init(&f->a, 0x11);
	lt_author_init(&f->b, 0x22);
	sh_init(&f->l, true);
	assert_int_equal(sh_material(&f->l, &f->a, 1, "red", red), 0);
	assert_int_equal(sh_mesh_strip(&f->l, &f->a, 4, 0, 0, &f->ma), 0);
	assert_int_equal(sh_entity_create(&f->l, &f->b, (float[3]){ 1, 2, 3 }, &f->eb), 0);
	assert_int_equal(sh_transform_write(&f->l, &f->b, f->eb, (float[3]){ 4, 5, 6 }), 0);
	assert_int_equal(sh_vertex_move(&f->l, &f->a, &f->ma, 0, (float[3]){ 0, 0, 0.5f }), 0);
	assert_int_equal(sh_vertex_move(&f->l, &f->b, &f->ma, 3, (float[3]){ 3, 0, -0.5f }), 0);
	assert_int_equal(sh_mesh_strip(&f->l, &f->a, 2, 2, 1, &f->ma2), 0);
	f->ea2 = f->ma2.entity;
	f->missing = f->ma;
	f->missing.mesh = th_id_derive(TH_ID_MESH_ELEMENT, f->b.kp.pk, 999, 0);
	assert_int_equal(sh_vertex_move(&f->l, &f->b, &f->missing, 0, (float[3]){ 0, 0, 0 }), 0);
	assert_int_equal(sh_transform_write(&f->l, &f->a, f->eb, (float[3]){ 7, 8, 9 }), 0);
	assert_int_equal(sh_material(&f->l, &f->b, 1, "blue", blue), 0);
	assert_int_equal(sh_undo(&f->l, &f->b, 4), 0);
	assert_int_equal(sh_entity_create(&f->l, &f->a, (float[3]){ 0, 0, 0 }, &f->ec), 0);
	assert_int_equal(f->l.n, HISTORY);
	assert_int_equal(sh_write_log(&f->l, f->l.n, f->log), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sh_fini(&f->l);
	th_rm_rf(f->dir);
	free(f);
	return 0;
}

/* The fold of entries [0, n) with this host: hash (hex) and figures. */
struct expect {
	char hash[2 * TH_SCENE_HASH_LEN + 1];
	struct th_fold_stats fs;
	struct th_scene_stats ss;
};

static void fold_prefix(const struct sh_log *l, size_t n, const uint8_t host[32], struct expect *x)
{
	struct th_fold_config c = { 0 };
	struct th_fold *fold;
	uint8_t h[TH_SCENE_HASH_LEN];
	memcpy(c.host_key, host, 32);
	assert_int_equal(th_fold_create(&c, &fold), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(th_fold_add(fold, &l->v[i].e, i), 0);
	assert_int_equal(th_fold_world_hash(fold, h), 0);
	th_hex_encode(h, sizeof(h), x->hash);
	th_fold_stats(fold, &x->fs);
	th_scene_stats(th_fold_scene(fold), &x->ss);
	th_fold_destroy(&fold);
}

static int ctl(const char *const *args)
{
	const char *argv[24] = { th_bin("thetactl") };
	unsigned n = 1;
	for (; args[n - 1] && n < 23; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	out[0] = err[0] = 0;
	return th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), RUN_MS);
}

static struct json_object *ctl_json(const char *const *args)
{
	assert_int_equal(ctl(args), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static long long jnum(struct json_object *o, const char *path)
{
	const char *s = th_json_path(o, path);
	assert_non_null(s);
	return strtoll(s, NULL, 10);
}

static struct json_object *list_at(struct json_object *d, const char *a, const char *b)
{
	struct json_object *x, *y;
	assert_true(json_object_object_get_ex(d, a, &x));
	assert_true(json_object_object_get_ex(x, b, &y));
	return y;
}

static void assert_one_line(const char *s)
{
	assert_non_null(strchr(s, '\n'));
	assert_int_equal(strchr(s, '\n') - s + 1, (long)strlen(s));
}

/* args asks for position 13 of the fixture's 12-entry log: exit 1, one line that says so. */
static void assert_past_the_end(const char *const *args)
{
	assert_int_equal(ctl(args), 1);
	assert_non_null(strstr(err, "position 13 is past the end of the log (12 entries"));
	assert_one_line(err);
}

/* ---- log verify -------------------------------------------------------- */

static void verify_prints_the_world_hash_of_the_fold(void **state)
{
	struct fx *f = *state;
	struct expect x;
	char line[256];
	fold_prefix(&f->l, HISTORY, f->a.kp.pk, &x); /* no session dir: the first author hosts */
	assert_true(x.fs.refused >= 2); /* the missing mesh, and B's undo of A's edit */
	assert_int_equal(ctl((const char *[]){ "log", "verify", f->log, NULL }), 0);
	assert_non_null(strstr(out, "ok: 12 records"));
	snprintf(line, sizeof(line), "scene at position 12 of 12: world hash %s\n", x.hash);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "  %" PRIu64 " entities, %" PRIu64 " meshes, %" PRIu64 " faces, %" PRIu64 " vertices",
		 x.ss.entities, x.ss.meshes, x.ss.faces, x.ss.vertices);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "%" PRIu64 " refused", x.fs.refused);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "the author at position 0"));
	assert_int_equal(x.ss.entities, 4); /* EA, EB, EA2, EC */
	assert_int_equal(x.ss.meshes, 2);
	assert_int_equal(x.ss.faces, 6);
	/* --quiet: exit status only. */
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--quiet", f->log, NULL }), 0);
	assert_string_equal(out, "");
}

static void verify_json_carries_the_same_fields(void **state)
{
	struct fx *f = *state;
	struct expect x;
	fold_prefix(&f->l, HISTORY, f->a.kp.pk, &x);
	/* Both places for --json: before the command and after it. */
	struct json_object *o = ctl_json((const char *[]){ "--json", "log", "verify", f->log, NULL });
	struct json_object *p = ctl_json((const char *[]){ "log", "verify", "--json", f->log, NULL });
	assert_string_equal(json_object_to_json_string(o), json_object_to_json_string(p));
	assert_string_equal(th_json_path(o, "ok"), "true");
	assert_int_equal(jnum(o, "records"), HISTORY);
	assert_string_equal(th_json_path(o, "scene.world_hash"), x.hash);
	assert_int_equal(jnum(o, "scene.position"), HISTORY);
	assert_int_equal(jnum(o, "scene.entities"), (long long)x.ss.entities);
	assert_int_equal(jnum(o, "scene.meshes"), (long long)x.ss.meshes);
	assert_int_equal(jnum(o, "scene.faces"), (long long)x.ss.faces);
	assert_int_equal(jnum(o, "scene.vertices"), (long long)x.ss.vertices);
	assert_int_equal(jnum(o, "scene.refused"), (long long)x.fs.refused);
	assert_int_equal(jnum(o, "scene.applied"), (long long)x.fs.applied);
	char key[65];
	th_hex_encode(f->a.kp.pk, 32, key);
	assert_string_equal(th_json_path(o, "scene.host_key"), key);
	json_object_put(o);
	json_object_put(p);
}

static void verify_at_n_gives_the_hash_of_the_prefix(void **state)
{
	struct fx *f = *state;
	char at[16];
	struct expect whole;
	fold_prefix(&f->l, HISTORY, f->a.kp.pk, &whole);
	const size_t ns[] = { 0, 1, 3, 7, 11, HISTORY };
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct expect x;
		fold_prefix(&f->l, ns[k], f->a.kp.pk, &x);
		snprintf(at, sizeof(at), "%zu", ns[k]);
		struct json_object *o = ctl_json((const char *[]){ "log", "verify", "--json", "--at", at, f->log, NULL });
		assert_string_equal(th_json_path(o, "scene.world_hash"), x.hash);
		assert_int_equal(jnum(o, "scene.position"), (long long)ns[k]);
		assert_int_equal(jnum(o, "scene.entities"), (long long)x.ss.entities);
		assert_int_equal(jnum(o, "records"), HISTORY); /* the whole log still verified */
		if (ns[k] < HISTORY)
			assert_string_not_equal(x.hash, whole.hash);
		json_object_put(o);
	}
	/* The human form names the position. */
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--at", "3", f->log, NULL }), 0);
	assert_non_null(strstr(out, "scene at position 3 of 12: world hash "));
}

static void verify_errors_are_one_sentence_and_exit_non_zero(void **state)
{
	struct fx *f = *state;
	char path[600];
	assert_past_the_end((const char *[]){ "log", "verify", "--at", "13", f->log, NULL });
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--at", "-1", f->log, NULL }), 2);
	assert_non_null(strstr(err, "--at needs a position"));
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--at", NULL }), 2);
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--host-key", "abc", f->log, NULL }), 2);
	assert_non_null(strstr(err, "64 hex digits"));
	snprintf(path, sizeof(path), "%s/nothing-here", f->dir);
	assert_int_equal(ctl((const char *[]){ "log", "verify", path, NULL }), 1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	assert_one_line(err);
	/* A file that is no log at all. */
	snprintf(path, sizeof(path), "%s/junk.seg", f->dir);
	assert_int_equal(lt_write_file(path, "this is not a command log segment\n", 34), 0);
	assert_int_equal(ctl((const char *[]){ "log", "verify", path, NULL }), 1);
	assert_non_null(strstr(err, "is not a command log segment (it does not start with \"THETALOG\")"));
	assert_non_null(strstr(err, path));
	assert_one_line(err);
	/* A directory that cannot be read (only checks where permissions bind). */
	if (!th_is_root()) {
		snprintf(path, sizeof(path), "%s/closed", f->dir);
		assert_int_equal(mkdir(path, 0), 0);
		assert_int_equal(ctl((const char *[]){ "log", "verify", path, NULL }), 1);
		assert_non_null(strstr(err, "ermission denied"));
		chmod(path, 0700);
	}
}

/* --refusals lists each refused entry with the reason the fold gives. */
static void verify_refusals_lists_the_refused_entries(void **state)
{
	struct fx *f = *state;
	struct th_fold_config c = { 0 };
	struct th_fold *fold;
	memcpy(c.host_key, f->a.kp.pk, 32);
	assert_int_equal(th_fold_create(&c, &fold), 0);
	for (size_t i = 0; i < HISTORY; i++)
		assert_int_equal(th_fold_add(fold, &f->l.v[i].e, i), 0);
	struct json_object *o = ctl_json((const char *[]){ "log", "verify", "--json", "--refusals", f->log, NULL });
	struct json_object *list = list_at(o, "scene", "refusals");
	assert_int_equal(json_object_array_length(list), 2);
	const size_t refused[2] = { 7, 10 };
	const char *types[2] = { "mesh.patch", "edit.undo" };
	for (size_t k = 0; k < 2; k++) {
		struct json_object *r = json_object_array_get_idx(list, k);
		struct th_fold_outcome oc;
		const struct th_logrec_entry *e = &f->l.v[refused[k]].e;
		assert_int_equal(th_fold_outcome_of(fold, e->lamport, e->author, &oc), 0);
		assert_int_equal(oc.status, TH_FOLD_REFUSED);
		assert_int_equal(jnum(r, "position"), (long long)refused[k]);
		assert_int_equal(jnum(r, "seq"), (long long)e->seq);
		assert_string_equal(th_json_path(r, "type"), types[k]);
		assert_string_equal(th_json_path(r, "reason"), th_refusal_name(oc.reason));
		assert_string_equal(th_json_path(r, "why"), oc.why);
	}
	json_object_put(o);
	th_fold_destroy(&fold);
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--refusals", f->log, NULL }), 0);
	assert_non_null(strstr(out, "refused entries: 2\n"));
	assert_non_null(strstr(out, "mesh.patch"));
	assert_non_null(strstr(out, "edit.undo"));
}

/* The host key from the session directory around the log: a member
 * session's session.conf, or the hosting daemon's keys/host.key. With B
 * as the host, B's undo of A's entry stands and the hash differs. */
static void verify_takes_the_host_key_from_the_session_directory(void **state)
{
	struct fx *f = *state;
	char dir[600], path[700], text[512], key[65], b64[64];
	struct expect host_a, host_b;
	fold_prefix(&f->l, HISTORY, f->a.kp.pk, &host_a);
	fold_prefix(&f->l, HISTORY, f->b.kp.pk, &host_b);
	assert_string_not_equal(host_a.hash, host_b.hash);
	assert_true(host_b.fs.excluded >= 1);

	/* STATE/sessions/ID/log with a member session.conf naming B. */
	snprintf(dir, sizeof(dir), "%s/state/sessions/" SESSION_ID, f->dir);
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(sh_write_log(&f->l, f->l.n, path), 0);
	th_hex_encode(f->b.kp.pk, 32, key);
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	int n = snprintf(text, sizeof(text), "# thetad session\nname = studio\nrole = member\nhost = h\nport = 1\nhost_key = %s\n", key);
	assert_int_equal(lt_write_file(path, text, (size_t)n), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	struct json_object *o = ctl_json((const char *[]){ "log", "verify", "--json", path, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), host_b.hash);
	assert_string_equal(th_json_path(o, "scene.host_key"), key);
	assert_non_null(strstr(th_json_path(o, "scene.host_key_source"), "session.conf"));
	json_object_put(o);
	/* The same from one segment file of that log. */
	snprintf(path, sizeof(path), "%s/log/%016x.seg", dir, 1);
	o = ctl_json((const char *[]){ "log", "verify", "--json", path, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), host_b.hash);
	json_object_put(o);

	/* A session this daemon hosts: the public line of STATE/keys/host.key. */
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	assert_int_equal(lt_write_file(path, "name = studio\nrole = host\n", 26), 0);
	snprintf(path, sizeof(path), "%s/state/keys", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	sodium_bin2base64(b64, sizeof(b64), f->b.kp.pk, 32, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(text, sizeof(text), "theta-ed25519-key v1\nseed %s\npublic %s\n", b64, b64);
	snprintf(path, sizeof(path), "%s/state/keys/host.key", f->dir);
	assert_int_equal(lt_write_file(path, text, (size_t)n), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	o = ctl_json((const char *[]){ "log", "verify", "--json", path, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), host_b.hash);
	assert_non_null(strstr(th_json_path(o, "scene.host_key_source"), "host.key"));
	json_object_put(o);
	/* --host-key wins over the directory. */
	th_hex_encode(f->a.kp.pk, 32, key);
	o = ctl_json((const char *[]){ "log", "verify", "--json", "--host-key", key, path, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), host_a.hash);
	json_object_put(o);
	/* A member session.conf without the host's key is an error, not a guess. */
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	assert_int_equal(lt_write_file(path, "role = member\n", 14), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(ctl((const char *[]){ "log", "verify", path, NULL }), 1);
	assert_non_null(strstr(err, "host_key"));
	assert_one_line(err);
}

/* An entry that sorts below the fold's rollback window (a late entry with
 * a low lamport, after --window entries): the rebuild folds again in one
 * window and prints the hash of the set, as an in-order fold gives it. */
static void an_entry_below_the_window_is_folded_again(void **state)
{
	struct fx *f = *state;
	struct sh_log l;
	struct lt_author c, p, q;
	char dir[600];
	lt_author_init(&c, 0x33);
	lt_author_init(&p, 0x44);
	lt_author_init(&q, 0x55);
	sh_init(&l, true);
	l.lamport = 100;
	for (int i = 0; i < 6; i++)
		assert_int_equal(sh_entity_create(&l, i % 2 ? &p : &q, (float[3]){ (float)i, 0, 0 }, NULL), 0);
	l.lamport_next = 5; /* C edited offline long ago */
	assert_int_equal(sh_entity_create(&l, &c, (float[3]){ 9, 9, 9 }, NULL), 0);
	snprintf(dir, sizeof(dir), "%s/late", f->dir);
	assert_int_equal(sh_write_log(&l, l.n, dir), 0);
	struct expect x;
	fold_prefix(&l, l.n, q.kp.pk, &x);
	assert_int_equal(x.ss.entities, 7);
	struct json_object *o = ctl_json((const char *[]){ "log", "verify", "--json", "--window", "2", dir, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), x.hash);
	assert_string_equal(th_json_path(o, "scene.refolded"), "true");
	json_object_put(o);
	o = ctl_json((const char *[]){ "log", "verify", "--json", dir, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), x.hash);
	assert_string_equal(th_json_path(o, "scene.refolded"), "false");
	json_object_put(o);
	assert_int_equal(ctl((const char *[]){ "log", "verify", "--window", "2", dir, NULL }), 0);
	assert_non_null(strstr(out, "folded again in one window"));
	sh_fini(&l);
}

/* An undo of an entry more than a window below the top is -ERANGE too: the
 * rebuild folds again in one window, and the undo stands. */
static void an_undo_of_an_entry_below_the_window_is_folded_again(void **state)
{
	struct fx *f = *state;
	struct sh_log l;
	struct lt_author p;
	char dir[600];
	lt_author_init(&p, 0x44);
	sh_init(&l, true);
	for (int i = 0; i < 6; i++)
		assert_int_equal(sh_entity_create(&l, &p, (float[3]){ (float)i, 0, 0 }, NULL), 0);
	assert_int_equal(sh_undo(&l, &p, 0), 0);
	snprintf(dir, sizeof(dir), "%s/old-undo", f->dir);
	assert_int_equal(sh_write_log(&l, l.n, dir), 0);
	struct expect x;
	fold_prefix(&l, l.n, p.kp.pk, &x);
	assert_int_equal(x.ss.entities, 5);
	assert_int_equal(x.fs.excluded, 1);
	struct json_object *o = ctl_json((const char *[]){ "log", "verify", "--json", "--window", "2", dir, NULL });
	assert_string_equal(th_json_path(o, "scene.world_hash"), x.hash);
	assert_string_equal(th_json_path(o, "scene.refolded"), "true");
	assert_int_equal(jnum(o, "scene.entities"), 5);
	assert_int_equal(jnum(o, "scene.excluded"), 1);
	json_object_put(o);
	sh_fini(&l);
}

/* ---- scene diff ----------------------------------------------------------- */

static bool list_has_id(struct json_object *d, const char *path, uint64_t id)
{
	char buf[128], want[24];
	snprintf(buf, sizeof(buf), "%s", path);
	snprintf(want, sizeof(want), "%016" PRIx64, id);
	struct json_object *v = d;
	for (char *save, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(v, k, &v))
			return false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!strcmp(th_json_path(json_object_array_get_idx(v, i), "id"), want))
			return true;
	return false;
}


static void diff_lists_created_destroyed_and_changed(void **state)
{
	struct fx *f = *state;
	struct expect x2, x9;
	fold_prefix(&f->l, 2, f->a.kp.pk, &x2);
	fold_prefix(&f->l, 9, f->a.kp.pk, &x9);
	struct json_object *d = ctl_json((const char *[]){ "scene", "diff", "2", "9", f->log, "--json", NULL });
	assert_string_equal(th_json_path(d, "world_hash_from"), x2.hash);
	assert_string_equal(th_json_path(d, "world_hash_to"), x9.hash);
	assert_true(list_has_id(d, "entities.created", f->eb));
	assert_true(list_has_id(d, "entities.created", f->ea2));
	assert_int_equal(json_object_array_length(list_at(d, "entities", "created")), 2);
	assert_int_equal(json_object_array_length(list_at(d, "entities", "destroyed")), 0);
	struct json_object *mc = list_at(d, "meshes", "created"), *mh = list_at(d, "meshes", "changed");
	assert_int_equal(json_object_array_length(mc), 1);
	assert_true(list_has_id(d, "meshes.created", f->ma2.mesh));
	assert_int_equal(jnum(json_object_array_get_idx(mc, 0), "faces_after"), 2);
	assert_int_equal(jnum(json_object_array_get_idx(mc, 0), "vertices_after"), 6);
	assert_int_equal(jnum(json_object_array_get_idx(mc, 0), "faces_before"), 0);
	assert_int_equal(json_object_array_length(mh), 1); /* MA's vertices moved */
	assert_true(list_has_id(d, "meshes.changed", f->ma.mesh));
	assert_int_equal(jnum(json_object_array_get_idx(mh, 0), "vertices_before"), 10);
	assert_int_equal(jnum(json_object_array_get_idx(mh, 0), "vertices_after"), 10);
	assert_int_equal(jnum(json_object_array_get_idx(mh, 0), "faces_after"), 4);
	assert_int_equal(json_object_array_length(list_at(d, "materials", "changed")), 0);
	json_object_put(d);

	/* One component write: EB's Transform changed, nothing else. */
	d = ctl_json((const char *[]){ "scene", "diff", "3", "4", f->log, "--json", NULL });
	struct json_object *eh = list_at(d, "entities", "changed");
	assert_int_equal(json_object_array_length(eh), 1);
	assert_true(list_has_id(d, "entities.changed", f->eb));
	struct json_object *names = NULL;
	assert_true(json_object_object_get_ex(json_object_array_get_idx(eh, 0), "changed", &names));
	assert_int_equal(json_object_array_length(names), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(names, 0)), "Transform");
	assert_int_equal(json_object_array_length(list_at(d, "meshes", "changed")), 0);
	json_object_put(d);

	/* Backwards: what was created is destroyed. */
	d = ctl_json((const char *[]){ "scene", "diff", "9", "2", "--json", f->log, NULL });
	assert_true(list_has_id(d, "entities.destroyed", f->eb));
	assert_true(list_has_id(d, "meshes.destroyed", f->ma2.mesh));
	assert_string_equal(th_json_path(d, "world_hash_from"), x9.hash);
	json_object_put(d);

	/* Materials: none at 0, "blue" at index 1 at the end. */
	d = ctl_json((const char *[]){ "scene", "diff", "0", "12", f->log, "--json", NULL });
	struct json_object *xc = list_at(d, "materials", "changed");
	assert_int_equal(json_object_array_length(xc), 1);
	assert_int_equal(jnum(json_object_array_get_idx(xc, 0), "index"), 1);
	assert_null(th_json_path(json_object_array_get_idx(xc, 0), "before"));
	assert_string_equal(th_json_path(json_object_array_get_idx(xc, 0), "after.name"), "blue");
	json_object_put(d);

	/* For people. */
	char line[128];
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "2", "9", f->log, NULL }), 0);
	assert_non_null(strstr(out, "scene diff 2 -> 9: world hash "));
	assert_non_null(strstr(out, "entities: 2 created, 0 destroyed"));
	snprintf(line, sizeof(line), "  + %016" PRIx64 " Transform MeshRef\n", f->ea2);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "  ~ %016" PRIx64 "  vertices 10 -> 10, faces 4 -> 4\n", f->ma.mesh);
	assert_non_null(strstr(out, line));
}

static void diff_errors_are_clear(void **state)
{
	struct fx *f = *state;
	char rt[600];
	assert_past_the_end((const char *[]){ "scene", "diff", "0", "13", f->log, NULL });
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "4", f->log, NULL }), 2);
	assert_non_null(strstr(err, "needs two positions"));
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "x", "4", f->log, NULL }), 2);
	assert_non_null(strstr(err, "'x'"));
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "1", "4", f->log, "--session", "s", NULL }), 2);
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "1", "4", "/nonexistent/theta/log", NULL }), 1);
	assert_non_null(strstr(err, "/nonexistent/theta/log"));
	/* No LOGFILE: the daemon names the log, and it is not running. */
	snprintf(rt, sizeof(rt), "%s/no-daemon", f->dir);
	assert_int_equal(mkdir(rt, 0700), 0);
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", rt, "scene", "diff", "1", "4", NULL }), 1);
	assert_non_null(strstr(err, "thetad is not running"));
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", rt, "scene", NULL }), 1);
	assert_non_null(strstr(err, "thetad is not running"));
	assert_one_line(err);
}

/* A live log being appended ends in an incomplete batch: diff uses the
 * positions before it and says so; log verify still reports it. */
static void diff_of_a_log_with_an_incomplete_last_batch(void **state)
{
	struct fx *f = *state;
	char seg[700];
	struct expect x11;
	fold_prefix(&f->l, 11, f->a.kp.pk, &x11);
	snprintf(seg, sizeof(seg), "%s/%016x.seg", f->log, 1);
	assert_int_equal(lt_truncate(seg, (uint64_t)lt_file_size(seg) - 10), 0);
	struct json_object *d = ctl_json((const char *[]){ "scene", "diff", "3", "11", f->log, "--json", NULL });
	assert_string_equal(th_json_path(d, "world_hash_to"), x11.hash);
	assert_non_null(strstr(err, "last batch is incomplete"));
	assert_non_null(strstr(err, "from position 11"));
	json_object_put(d);
	assert_int_equal(ctl((const char *[]){ "scene", "diff", "3", "12", f->log, NULL }), 1);
	assert_non_null(strstr(err, "position 12 is past the end of the log (11 entries"));
	assert_int_equal(ctl((const char *[]){ "log", "verify", f->log, NULL }), 1);
	assert_non_null(strstr(out, "record 11 at byte"));
}

/* ---- against a control socket --------------------------------------------- */

/* Answers status, sessions and scene like the daemon; remembers the last
 * scene request's arguments. */
struct fake {
	struct th_ctlfake ctl;
	char state_dir[512];
	char last_args[512];
	bool refuse_scene;
};

static int fake_answer(void *ud, const char *req, char *body, size_t cap)
{
	struct fake *f = ud;
	struct json_object *r = json_tokener_parse(req), *cmd = NULL, *args = NULL;
	if (!r || !json_object_object_get_ex(r, "cmd", &cmd)) {
		json_object_put(r);
		return -1;
	}
	const char *name = json_object_get_string(cmd);
	int k;
	if (!strcmp(name, "status")) {
		k = snprintf(body, cap, "{\"ok\": true, \"result\": {\"state_dir\": \"%s\"}}", f->state_dir);
	} else if (!strcmp(name, "sessions")) {
		k = snprintf(body, cap,
			     "{\"ok\": true, \"result\": {\"sessions\": [{\"id\": \"ffeeddccbbaa99887766554433221100\", "
			     "\"name\": \"other\", \"current\": false}, {\"id\": \"" SESSION_ID "\", \"name\": \"studio\", "
			     "\"current\": true}]}}");
	} else if (!strcmp(name, "scene") && f->refuse_scene) {
		k = snprintf(body, cap, "{\"ok\": false, \"error\": \"no session 'nope' on this daemon\"}");
	} else if (!strcmp(name, "scene")) {
		if (json_object_object_get_ex(r, "args", &args))
			snprintf(f->last_args, sizeof(f->last_args), "%s", json_object_to_json_string(args));
		k = snprintf(body, cap,
			     "{\"ok\": true, \"result\": {\"session\": \"" SESSION_ID "\", \"name\": \"studio\", "
			     "\"state\": \"live\", \"log_count\": 120, "
			     "\"entities\": 41, \"meshes\": 7, \"vertices\": 3333, \"faces\": 2222, \"edges\": 5555, "
			     "\"materials\": 3, \"world_hash\": \"%064d\", \"log_position\": 120, \"folded\": 120, "
			     "\"applied\": 110, \"refused\": 9, \"excluded\": 1, \"rollbacks\": 4, \"rebuilds\": 0, "
			     "\"checkpoint\": {\"position\": 90, \"world_hash\": \"%064d\", \"age_s\": 12.5}}}",
			     7, 9);
	} else {
		k = snprintf(body, cap, "{\"ok\": false, \"error\": \"unknown command\"}");
	}
	json_object_put(r);
	return k;
}

static void fake_start(struct fake *f, const char *state_dir)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->state_dir, sizeof(f->state_dir), "%s", state_dir);
	th_ctlfake_start(&f->ctl, fake_answer, f);
}

static void fake_stop(struct fake *f)
{
	th_ctlfake_stop(&f->ctl);
}

static void scene_prints_the_daemons_figures(void **state)
{
	struct fake fk;
	fake_start(&fk, "/nonexistent");
	char hash[65];
	snprintf(hash, sizeof(hash), "%064d", 7);
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", fk.ctl.dir, "scene", NULL }), 0);
	assert_non_null(strstr(out, "session " SESSION_ID " (studio)"));
	assert_non_null(strstr(out, "state:         live (the log holds 120 entries)"));
	assert_non_null(strstr(out, hash));
	assert_non_null(strstr(out, "log position:  120 (folded 120: 110 applied, 9 refused, 1 excluded by undo; 4 rollbacks"));
	assert_non_null(strstr(out, "ENTITIES"));
	assert_non_null(strstr(out, "41"));
	assert_non_null(strstr(out, "2222"));
	assert_non_null(strstr(out, "3333"));
	assert_non_null(strstr(out, "checkpoint:    position 90, 12.5s old"));
	/* --session reaches the daemon; --json prints its reply. */
	struct json_object *o =
		ctl_json((const char *[]){ "--runtime-dir", fk.ctl.dir, "scene", "--session", "studio", "--json", NULL });
	assert_string_equal(th_json_path(o, "world_hash"), hash);
	assert_int_equal(jnum(o, "faces"), 2222);
	assert_non_null(strstr(fk.last_args, "\"session\""));
	assert_non_null(strstr(fk.last_args, "studio"));
	json_object_put(o);
	/* The daemon's refusal is the one line. */
	fk.refuse_scene = true;
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", fk.ctl.dir, "scene", "--session", "nope", NULL }), 1);
	assert_non_null(strstr(err, "no session 'nope' on this daemon"));
	assert_one_line(err);
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", fk.ctl.dir, "scene", "--bogus", NULL }), 2);
	fake_stop(&fk);
}

/* diff without a LOGFILE: the daemon's state directory and session list
 * name the log (STATE/sessions/ID/log); its session.conf the host. */
static void diff_of_a_session_reads_the_daemons_log(void **state)
{
	struct fx *f = *state;
	char state_dir[600], dir[700], path[800], text[256], key[65];
	struct expect x4, x12;
	snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
	snprintf(dir, sizeof(dir), "%s/sessions/" SESSION_ID, state_dir);
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(sh_write_log(&f->l, f->l.n, path), 0);
	th_hex_encode(f->b.kp.pk, 32, key);
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	int n = snprintf(text, sizeof(text), "name = studio\nrole = member\nhost_key = %s\n", key);
	assert_int_equal(lt_write_file(path, text, (size_t)n), 0);
	fold_prefix(&f->l, 4, f->b.kp.pk, &x4);
	fold_prefix(&f->l, HISTORY, f->b.kp.pk, &x12);
	struct fake fk;
	fake_start(&fk, state_dir);
	const char *const by_name[] = { "--runtime-dir", fk.ctl.dir, "scene", "diff", "4", "12", "--session", "studio", "--json", NULL };
	const char *const current[] = { "--runtime-dir", fk.ctl.dir, "--json", "scene", "diff", "4", "12", NULL };
	const char *const *forms[] = { by_name, current };
	for (int k = 0; k < 2; k++) {
		struct json_object *d = ctl_json(forms[k]);
		assert_string_equal(th_json_path(d, "world_hash_from"), x4.hash);
		assert_string_equal(th_json_path(d, "world_hash_to"), x12.hash);
		assert_non_null(strstr(th_json_path(d, "log"), SESSION_ID "/log"));
		json_object_put(d);
	}
	assert_int_equal(ctl((const char *[]){ "--runtime-dir", fk.ctl.dir, "scene", "diff", "1", "2", "--session", "nope", NULL }), 1);
	assert_non_null(strstr(err, "unknown session 'nope'"));
	assert_one_line(err);
	fake_stop(&fk);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(verify_prints_the_world_hash_of_the_fold),
		T(verify_json_carries_the_same_fields),
		T(verify_at_n_gives_the_hash_of_the_prefix),
		T(verify_errors_are_one_sentence_and_exit_non_zero),
		T(verify_refusals_lists_the_refused_entries),
		T(verify_takes_the_host_key_from_the_session_directory),
		T(an_entry_below_the_window_is_folded_again),
		T(an_undo_of_an_entry_below_the_window_is_folded_again),
		T(diff_lists_created_destroyed_and_changed),
		T(diff_errors_are_clear),
		T(diff_of_a_log_with_an_incomplete_last_batch),
		T(scene_prints_the_daemons_figures),
		T(diff_of_a_session_reads_the_daemons_log),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
