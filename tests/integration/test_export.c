/* thetactl export against a real thetad: a session's log of two authors'
 * scene edits (tests/lib/th_exportscene.h) folded by the daemon, exported
 * as .glb, .gltf and .obj (+ .mtl) into files thetactl opened and passed
 * over control.sock; each glTF file passes the Khronos glTF-Validator
 * with no errors and no warnings (SKIP with the reason when node or the
 * npm package is not installed); counts and per-face provenance read back
 * from the files; --at N exports the scene as it stood at position N
 * (folded in the writer's child: the daemon answers other requests while
 * a large one runs, and its bytes are the live export's); bad requests
 * get one sentence and leave no file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "ctlproto.h"
#include "th_exportscene.h"
#include "th_fdpass.h"
#include "th_gltfcheck.h"
#include "th_daemontest.h"
#include "th_harness.h"
#include "th_logrec.h"
#include "th_logfile.h"
#include "th_logtest.h"

#define WAIT_MS 30000

static char out[1 << 16], err[1 << 14];

/* The scene of `scene --session studio` once the daemon folded want entries. */
static void scene_wait(struct th_daemon_proc *d, uint64_t want) { json_object_put(dt_scene_at(d, "studio", want)); }

struct fx {
	struct th_daemon_proc *d;
	struct sh_log l;
	struct xs_scene x;
	char dir[PATH_MAX];
	char logdir[PATH_MAX + 128];
};

/* A daemon hosting "studio" whose log is the export scene's history, and
 * then `big` triangles more of A's strips (xs_big_strips). */
static void start_big(struct fx *f, uint64_t big)
{
	f->d = dt_host_stopped("studio", f->logdir, sizeof(f->logdir));
	sh_init(&f->l, true);
	assert_int_equal(xs_build(&f->l, &f->x), 0);
	if (big)
		assert_int_equal(xs_big_strips(&f->l, &f->x.a, big), 0);
	assert_int_equal(sh_write_log(&f->l, f->l.n, f->logdir), 0);
	assert_int_equal(th_daemon_respawn(f->d, NULL, NULL, WAIT_MS), 0);
	scene_wait(f->d, f->l.n);
	snprintf(f->dir, sizeof(f->dir), "%s/exports", f->d->state_dir);
	assert_int_equal(mkdir(f->dir, 0700), 0);
}

static void start(struct fx *f) { start_big(f, 0); }

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sh_fini(&f->l);
	th_daemon_slot_release();
	free(f);
	return 0;
}

/* thetactl --json export [extra...] NAME; the result object. */
static struct json_object *export_ok(struct fx *f, const char *name, const char *at)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	const char *args[] = { "--json", "export", "--session", "studio", path, at ? "--at" : NULL, at, NULL };
	int rc = th_ctl(f->d, args, out, sizeof(out), err, sizeof(err));
	if (rc != 0)
		fail_msg("thetactl export %s: exit %d: %s", name, rc, err);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("%s was not written: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	b[n] = 0;
	fclose(fp);
	*len = (size_t)n;
	return b;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* The JSON of a .glb (its JSON chunk) or a .gltf. */
static struct json_object *gltf_json(const char *b, size_t len, bool glb)
{
	if (!glb)
		return json_tokener_parse(b);
	assert_true(len >= 20 && !memcmp(b, "glTF", 4) && le32((const uint8_t *)b + 8) == len);
	uint32_t jl = le32((const uint8_t *)b + 12);
	struct json_tokener *t = json_tokener_new();
	struct json_object *o = json_tokener_parse_ex(t, b + 20, (int)jl);
	json_tokener_free(t);
	return o;
}

/* Faces, triangles and faces per author (by fingerprint) in a glTF's extras. */
static void count_faces(struct json_object *j, const struct xs_scene *x, uint64_t *faces, uint64_t *tris,
			uint64_t *by_a, uint64_t *by_b)
{
	char fa[TH_KEY_FPR_LEN], fb[TH_KEY_FPR_LEN];
	assert_int_equal(th_key_fingerprint(x->a.kp.pk, fa, sizeof(fa)), 0);
	assert_int_equal(th_key_fingerprint(x->b.kp.pk, fb, sizeof(fb)), 0);
	struct json_object *ex, *th, *authors, *meshes;
	assert_true(json_object_object_get_ex(j, "extras", &ex) && json_object_object_get_ex(ex, "theta", &th) &&
		    json_object_object_get_ex(th, "authors", &authors));
	*faces = *tris = *by_a = *by_b = 0;
	if (!json_object_object_get_ex(j, "meshes", &meshes))
		return;
	for (size_t k = 0; k < json_object_array_length(meshes); k++) {
		struct json_object *prims;
		assert_true(json_object_object_get_ex(json_object_array_get_idx(meshes, k), "primitives", &prims));
		for (size_t i = 0; i < json_object_array_length(prims); i++) {
			struct json_object *p = json_object_array_get_idx(prims, i), *e, *tf, *t, *a;
			assert_true(json_object_object_get_ex(p, "extras", &e) &&
				    json_object_object_get_ex(e, "theta_faces", &tf) &&
				    json_object_object_get_ex(tf, "triangles", &t) &&
				    json_object_object_get_ex(tf, "author", &a));
			for (size_t q = 0; q < json_object_array_length(t); q++) {
				int64_t ai = json_object_get_int64(json_object_array_get_idx(a, q));
				assert_true(ai >= 0 && (size_t)ai < json_object_array_length(authors));
				const char *fp = json_object_get_string(json_object_array_get_idx(authors, (size_t)ai));
				*by_a += !strcmp(fp, fa);
				*by_b += !strcmp(fp, fb);
				*tris += (uint64_t)json_object_get_int64(json_object_array_get_idx(t, q));
				(*faces)++;
			}
		}
	}
}

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);
	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += !strncmp(p, prefix, pl);
	return n;
}

static void the_daemon_exports_its_scene_in_every_format(void **state)
{
	struct fx *f = *state;
	start(f);
	static const char *const names[] = { "scene.glb", "scene.gltf" };
	for (int k = 0; k < 2; k++) {
		struct json_object *r = export_ok(f, names[k], NULL);
		assert_string_equal(th_json_path(r, "faces"), "6");
		assert_string_equal(th_json_path(r, "triangles"), "13");
		assert_string_equal(th_json_path(r, "authors"), "2");
		assert_int_equal(strtoull(th_json_path(r, "position"), NULL, 10), f->l.n);
		size_t len;
		char *b = slurp(f->dir, names[k], &len);
		assert_int_equal(strtoull(th_json_path(r, "bytes"), NULL, 10), len);
		struct json_object *j = gltf_json(b, len, k == 0);
		assert_non_null(j);
		uint64_t faces, tris, by_a, by_b;
		count_faces(j, &f->x, &faces, &tris, &by_a, &by_b);
		assert_int_equal(faces, XS_FACES);
		assert_int_equal(tris, XS_TRIANGLES);
		assert_int_equal(by_a, 3); /* A's strip */
		assert_int_equal(by_b, 3); /* B's pentagon and strip */
		assert_non_null(memmem(b, len, "\"session\":\"", 11));
		json_object_put(j);
		json_object_put(r);
		free(b);
		gv_assert_valid(f->dir, names[k]);
	}
	/* OBJ with its MTL beside it; no temporary file left. */
	struct json_object *r = export_ok(f, "scene.obj", NULL);
	json_object_put(r);
	size_t len, mlen;
	char *o = slurp(f->dir, "scene.obj", &len), *m = slurp(f->dir, "scene.mtl", &mlen);
	assert_int_equal(count_lines(o, "f "), XS_FACES);
	assert_int_equal(count_lines(o, "v "), XS_OBJ_VERTICES);
	assert_int_equal(count_lines(o, "# theta-face "), XS_FACES);
	assert_int_equal(count_lines(o, "# theta-author "), 2);
	assert_non_null(strstr(o, "\nmtllib scene.mtl\n"));
	assert_int_equal(count_lines(m, "newmtl "), XS_MATERIALS);
	free(o);
	free(m);
	DIR *dp = opendir(f->dir);
	assert_non_null(dp);
	for (struct dirent *de; (de = readdir(dp));)
		if (strstr(de->d_name, ".tmp-"))
			fail_msg("a temporary file was left behind: %s", de->d_name);
	closedir(dp);
}

static void at_exports_the_scene_as_it_stood(void **state)
{
	struct fx *f = *state;
	start(f);
	/* Position 3: A's strip and B's two materials, before the pentagon. */
	struct json_object *r = export_ok(f, "at3.glb", "3");
	assert_string_equal(th_json_path(r, "position"), "3");
	json_object_put(r);
	size_t len;
	char *b = slurp(f->dir, "at3.glb", &len);
	struct json_object *j = gltf_json(b, len, true);
	uint64_t faces, tris, by_a, by_b;
	count_faces(j, &f->x, &faces, &tris, &by_a, &by_b);
	assert_int_equal(faces, 3);
	assert_int_equal(tris, 6);
	assert_int_equal(by_a, 3);
	assert_int_equal(by_b, 0);
	json_object_put(j);
	free(b);
	gv_assert_valid(f->dir, "at3.glb");
	/* Position 0: nothing yet, still a valid file. */
	json_object_put(export_ok(f, "at0.gltf", "0"));
	gv_assert_valid(f->dir, "at0.gltf");
	/* The live scene did not move. */
	scene_wait(f->d, f->l.n);
}

#define BIG_TRIANGLES 100000u /* a .glb of about 6 MB: far more than a pipe holds */

/* An --at export of the whole (large) log into a pipe the test does not
 * read yet: the writer (which folds the log in its child) fills the pipe
 * and waits, so the export cannot be done while the daemon is asked for
 * its status and the session's scene, and both are answered. Drained, the
 * pipe holds exactly the bytes of a live export of the same position. */
static void the_daemon_answers_while_an_at_export_runs(void **state)
{
	struct fx *f = *state;
	start_big(f, BIG_TRIANGLES);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	int sock = ctl_connect(f->d->runtime_dir);
	assert_true(sock >= 0);
	char req[256];
	uint8_t frame[PROTO_CTL_HEADER_BYTES + sizeof(req)];
	int n = snprintf(req, sizeof(req),
			 "{\"cmd\":\"export\",\"args\":{\"session\":\"studio\",\"at\":%zu,\"format\":\"glb\"}}",
			 f->l.n);
	proto_ctl_frame_header(frame, (uint32_t)n);
	memcpy(frame + PROTO_CTL_HEADER_BYTES, req, (size_t)n);
	assert_int_equal(th_fdpass_send(sock, frame, PROTO_CTL_HEADER_BYTES + (size_t)n, &p[1], 1), 0);
	close(p[1]);
	/* The child folded the log and is writing. */
	struct pollfd pp = { .fd = p[0], .events = POLLIN };
	assert_int_equal(poll(&pp, 1, WAIT_MS), 1);
	/* Meanwhile the loop answers. */
	const char *status[] = { "--json", "status", NULL };
	if (th_ctl(f->d, status, out, sizeof(out), err, sizeof(err)) != 0)
		fail_msg("status while an export runs: %s", err);
	scene_wait(f->d, f->l.n);
	struct pollfd ps = { .fd = sock, .events = POLLIN };
	assert_int_equal(poll(&ps, 1, 0), 0); /* the export waits on the pipe */
	size_t len = 0, cap = 1 << 20;
	char *got = malloc(cap);
	assert_non_null(got);
	for (;;) {
		if (len == cap)
			assert_non_null(got = realloc(got, cap *= 2));
		ssize_t k = read(p[0], got + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		assert_true(k >= 0);
		if (k == 0)
			break;
		len += (size_t)k;
	}
	close(p[0]);
	char *reply = NULL;
	size_t rlen;
	assert_int_equal(ctl_recv_frame(sock, &reply, &rlen), 0);
	close(sock);
	struct json_object *o = json_tokener_parse(reply);
	assert_non_null(o);
	const char *ok = th_json_path(o, "ok");
	if (!ok || strcmp(ok, "true"))
		fail_msg("the export failed: %s", reply);
	assert_int_equal(strtoull(th_json_path(o, "result.bytes"), NULL, 10), len);
	assert_int_equal(strtoull(th_json_path(o, "result.triangles"), NULL, 10), XS_TRIANGLES + BIG_TRIANGLES);
	json_object_put(o);
	free(reply);
	/* The live scene's export at the same position: the same bytes. */
	json_object_put(export_ok(f, "live.glb", NULL));
	size_t llen;
	char *live = slurp(f->dir, "live.glb", &llen);
	assert_int_equal(llen, len);
	assert_memory_equal(live, got, len);
	free(live);
	free(got);
}

static void bad_requests_get_one_sentence_and_no_file(void **state)
{
	struct fx *f = *state;
	start(f);
	char path[PATH_MAX + 64], at[32];
	snprintf(path, sizeof(path), "%s/late.glb", f->dir);
	snprintf(at, sizeof(at), "%zu", f->l.n + 5);
	const char *past[] = { "export", "--session", "studio", "--at", at, path, NULL };
	assert_int_equal(th_ctl(f->d, past, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "past the end of the log"));
	assert_int_equal(access(path, F_OK), -1);
	const char *nosession[] = { "export", "--session", "nowhere", path, NULL };
	assert_int_equal(th_ctl(f->d, nosession, out, sizeof(out), err, sizeof(err)), 1);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/scene.fbx", f->dir);
	const char *ext[] = { "export", "--session", "studio", path, NULL };
	assert_int_equal(th_ctl(f->d, ext, out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "must end in .glb, .gltf or .obj"));
	snprintf(path, sizeof(path), "%s/scene.glb", f->dir);
	const char *badat[] = { "export", "--at", "-1", path, NULL };
	assert_int_equal(th_ctl(f->d, badat, out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--at needs a log position"));
	snprintf(path, sizeof(path), "%s/no/such/dir/x.glb", f->dir);
	const char *nodir[] = { "export", "--session", "studio", path, NULL };
	assert_int_equal(th_ctl(f->d, nodir, out, sizeof(out), err, sizeof(err)), 1);
	assert_non_null(strstr(err, "cannot create"));
	/* A log damaged under the running daemon: the child's rebuild for
	 * --at reads it, fails, and its sentence comes back. */
	char seg[PATH_MAX + 192];
	struct stat sb;
	th_logseg_path(f->logdir, 1, seg, sizeof(seg));
	assert_int_equal(stat(seg, &sb), 0);
	assert_int_equal(lt_flip_byte(seg, (uint64_t)sb.st_size / 2, 0xff), 0);
	snprintf(path, sizeof(path), "%s/damaged.glb", f->dir);
	const char *damaged[] = { "export", "--session", "studio", "--at", "2", path, NULL };
	assert_int_equal(th_ctl(f->d, damaged, out, sizeof(out), err, sizeof(err)), 1);
	if (!strstr(err, "the scene at position 2 could not be rebuilt: "))
		fail_msg("no rebuild sentence: %s", err);
	assert_int_equal(access(path, F_OK), -1);
	/* The loop still answers. */
	scene_wait(f->d, f->l.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_daemon_exports_its_scene_in_every_format, setup, teardown),
		cmocka_unit_test_setup_teardown(at_exports_the_scene_as_it_stood, setup, teardown),
		cmocka_unit_test_setup_teardown(the_daemon_answers_while_an_at_export_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_get_one_sentence_and_no_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
