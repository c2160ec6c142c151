/* The browser client in Debian's chromium (docs/web.md "The browser
 * client"): one thetad with [web] listen on 127.0.0.1:0 hosts a session, a
 * native client makes a model (two cubes), `thetactl invite` gives the
 * browser link, and tests/web/page.mjs opens it: the page joins through
 * its name form over WebRTC, folds the log with the C fold in WebAssembly
 * (its world hash is the daemon's at the same position), draws the model
 * (a screenshot against a golden, with a tolerance), picks a face with a
 * click where it is drawn and extrudes it with the toolbar's button; the
 * extrude lands in the daemon's log signed by the browser's own key, and
 * the daemon's world hash follows; reloaded, the page is the same browser
 * (its resume secret) and its paint lands under the same key, as do a
 * drag with the Move tool, Add cube and Undo; the daemon's world hash at the
 * end is the page's. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net_client.h"
#include "scene_edits.h"
#include "th_browser.h"
#include "th_daemontest.h"
#include "th_golden.h"
#include "th_harness.h"

#define WP_SHOT_W 800u
#define WP_SHOT_H 600u
#define WP_DRIVER_MS 45000
#define WP_EXTRUDE "0.5"
#define WP_NAME "Page Tester"
/* Pixels of the screenshot's middle half that are not the background
 * (th_browser_model_fraction): the two cubes fill most of it, the grid's
 * lines a few per cent. */
#define WP_MODEL_FRACTION_MIN 0.15
/* SwiftShader draws the same frame the same way; an update of chromium
 * may move edges and shading a little. */
#define WP_TOLERANCE ((struct gfx_png_tolerance){ .max_diff = 24, .max_over_fraction = 0.02 })

static char out[1 << 18], err[1 << 16];

static struct json_object *ctl_json(struct th_daemon_proc *d, const char *const *args)
{
	int rc = th_ctl(d, args, out, sizeof out, err, sizeof err);
	if (rc != 0)
		fail_msg("thetactl %s failed (%d): %s%s", args[0], rc, out, err);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

/* The daemon's [web] listen on a free loopback port, serving the page as
 * the build made it (web_root). */
static struct th_daemon_proc *start_web_daemon(const char *web_root)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	char conf[PATH_MAX], root[PATH_MAX];
	assert_non_null(realpath(web_root, root));
	snprintf(conf, sizeof conf, "%s/thetad.conf", d->dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[web]\nlisten = \"127.0.0.1:0\"\nroot = \"%s\"\n", root);
	assert_int_equal(fclose(f), 0);
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(d, args, NULL, NULL, 0), 0);
	int r = th_daemon_wait_notify(d, "READY=1", DT_WAIT_MS);
	if (r != 0)
		fail_msg("thetad with [web] listen did not start (%d): %s", r, th_daemon_log(d));
	return d;
}

/* Two cubes from a native client, acknowledged. */
static void make_model(struct th_daemon_proc *d)
{
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->runtime_dir, DT_WAIT_MS), 0);
	static const float at[2][3] = { { -1.2f, 0, -0.5f }, { 0.4f, 0, 0 } };
	for (unsigned i = 0; i < 2; i++) {
		uint8_t pl[PROTO_IPC_MAX_PAYLOAD];
		int n = se_cube(at[i], 1.0f, pl, sizeof pl);
		assert_true(n > 0);
		assert_true(nc_submit_raw(&c, TH_CMD_MESH_CREATE, 0, pl, (uint32_t)n) > 0);
	}
	uint64_t end = th_now_ns() + (uint64_t)DT_WAIT_MS * TH_NS_PER_MS;
	while (c.acks + c.rejects < 2 && th_now_ns() < end)
		assert_true(nc_poll(&c, 100) >= 0);
	assert_int_equal(c.rejects, 0);
	assert_int_equal(c.acks, 2);
	nc_close(&c);
}

/* The browser link `thetactl invite` prints beside the theta:// one. */
static void browser_link(struct th_daemon_proc *d, const char *session, char *link, size_t cap)
{
	const char *args[] = { "invite", session, "--role", "editor", "--host", "127.0.0.1", NULL };
	int rc = th_ctl(d, args, out, sizeof out, err, sizeof err);
	if (rc != 0)
		fail_msg("thetactl invite failed (%d): %s", rc, err);
	const char *p = strstr(out, "http://127.0.0.1:");
	if (!p)
		fail_msg("thetactl invite printed no browser link: %s", out);
	size_t n = strcspn(p, " \n");
	assert_true(n < cap);
	memcpy(link, p, n);
	link[n] = 0;
	assert_non_null(strstr(link, "#s="));
}

static const char *jstr(struct json_object *o, const char *path)
{
	const char *v = th_json_path(o, path);
	if (!v)
		fail_msg("the driver's result has no %s", path);
	return v;
}

/* The log's name of the key whose 64 hex digits hex gives. */
static void key_of_hex(const char *hex, char fpr[TH_KEY_FPR_LEN])
{
	uint8_t key[TH_LOGREC_KEY_LEN];
	assert_int_equal(strlen(hex), 2 * TH_LOGREC_KEY_LEN);
	for (unsigned i = 0; i < TH_LOGREC_KEY_LEN; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &key[i]), 1);
	assert_true(th_key_fingerprint(key, fpr, TH_KEY_FPR_LEN) >= 0);
}

static void the_page_joins_draws_the_model_and_its_extrude_lands(void **state)
{
	(void)state;
	if (th_browser_skip())
		skip();
	char web_root[PATH_MAX], wasm[PATH_MAX + 32];
	const char *b = getenv("THETA_BUILD");
	snprintf(web_root, sizeof web_root, "%s/web", b && *b ? b : "build");
	snprintf(wasm, sizeof wasm, "%s/wasm/theta.wasm", web_root);
	if (access(wasm, R_OK) != 0) {
		printf("SKIP: no %s (the wasm toolchain is missing: make says which part): the page cannot fold\n", wasm);
		skip();
	}
	struct th_daemon_proc *d = start_web_daemon(web_root);
	struct json_object *h = ctl_json(d, (const char *const[]){ "session", "host", "--name", "web-page", "--json", NULL });
	char session[33];
	snprintf(session, sizeof session, "%s", jstr(h, "session"));
	json_object_put(h);
	make_model(d);
	struct json_object *me = ctl_json(d, (const char *const[]){ "whoami", "--json", NULL });
	char native_key[128];
	snprintf(native_key, sizeof native_key, "%s", jstr(me, "key"));
	json_object_put(me);

	/* The daemon's world hash of the model, before the page's edit moves it on. */
	struct json_object *sc = dt_scene_at(d, session, 2);
	char model_hash[65];
	snprintf(model_hash, sizeof model_hash, "%s", jstr(sc, "world_hash"));
	json_object_put(sc);

	char link[1024], shot[PATH_MAX];
	browser_link(d, session, link, sizeof link);
	snprintf(shot, sizeof shot, "%s/page.png", d->dir);
	struct json_object *r = NULL;
	char why[TH_BROWSER_WHY_MAX];
	const char *args[] = { "--url", link, "--name", WP_NAME, "--shot", shot, "--extrude", WP_EXTRUDE, NULL };
	int rc = th_browser_run("page.mjs", args, WP_DRIVER_MS, &r, why, sizeof why);
	if (rc != 0) {
		fprintf(stderr, "the daemon's log:\n%s\n", th_daemon_log(d));
		fail_msg("%s", why);
	}
	const char *ok = th_json_path(r, "ok");
	if (!ok || strcmp(ok, "true") != 0) {
		fprintf(stderr, "the page: %s\nits console: %s\nthe daemon's log:\n%s\n",
			json_object_to_json_string(json_object_object_get(r, "page")),
			json_object_to_json_string(json_object_object_get(r, "console")), th_daemon_log(d));
		fail_msg("the page failed at %s: %s", th_json_path(r, "stage"), th_json_path(r, "error"));
	}

	/* The page folded what the daemon did: two cubes, same world hash. */
	uint64_t before = strtoull(jstr(r, "before.nextPos"), NULL, 10);
	assert_int_equal(before, 2);
	assert_string_equal(jstr(r, "before.hash"), model_hash);
	assert_int_equal(json_object_array_length(json_object_object_get(json_object_object_get(r, "before"), "meshes")),
			 2);

	/* It drew them: the middle of the picture is the model, as the golden. */
	uint8_t *rgba = NULL;
	uint32_t w = 0, hh = 0;
	char pwhy[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_read(shot, &rgba, &w, &hh, pwhy, sizeof pwhy), 0);
	assert_int_equal(w, WP_SHOT_W);
	assert_int_equal(hh, WP_SHOT_H);
	double frac = th_browser_model_fraction(rgba, w, hh);
	if (frac < WP_MODEL_FRACTION_MIN)
		fail_msg("only %.1f%% of the picture's middle is not background: the model is not drawn", frac * 100);
	th_golden_check("web_page_model", rgba, w, hh, &WP_TOLERANCE);
	free(rgba);

	/* Its extrude is in the log, signed by the browser's key (not the native user's). */
	uint64_t after = strtoull(jstr(r, "after.nextPos"), NULL, 10);
	assert_int_equal(after, before + 1);
	assert_string_not_equal(jstr(r, "after.hash"), jstr(r, "before.hash"));
	struct json_object *lg = ctl_json(d, (const char *const[]){ "log", "--json", "--since", "2", NULL });
	struct json_object *entries = json_object_object_get(lg, "entries");
	assert_true(json_object_array_length(entries) >= 1); /* the extrude first, the paint after it */
	struct json_object *e = json_object_array_get_idx(entries, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "type")), "mesh.patch");
	const char *author = json_object_get_string(json_object_object_get(e, "author"));
	assert_non_null(author);
	assert_string_not_equal(author, native_key);
	/* ... the key the page learnt from its ack is that author. */
	char browser_key[TH_KEY_FPR_LEN];
	key_of_hex(jstr(r, "selfKey"), browser_key);
	assert_string_equal(author, browser_key);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "lamport")), jstr(r, "ack.lamport"));
	json_object_put(lg);
	/* That key is the browser member's, by the name it gave. */
	struct json_object *mb = ctl_json(d, (const char *const[]){ "session", "members", "--session", session, "--json", NULL });
	struct json_object *members = json_object_object_get(mb, "members");
	bool listed = false;
	for (size_t i = 0; i < json_object_array_length(members); i++) {
		struct json_object *m = json_object_array_get_idx(members, i);
		listed |= !strcmp(dt_str(m, "kind"), "browser") && !strcmp(dt_str(m, "user"), WP_NAME) &&
			  !strcmp(dt_str(m, "role"), "editor");
	}
	if (!listed)
		fail_msg("the session's members do not list the browser '%s' as an editor: %s", WP_NAME,
			 json_object_to_json_string(members));
	json_object_put(mb);

	/* Reloaded, the page came back as the same browser (its resume secret), folded the same log, and its paint
	 * (palette, Paint tool, a click) is in the log under the same key. */
	assert_string_equal(jstr(r, "resumed.hash"), jstr(r, "after.hash"));
	assert_string_equal(jstr(r, "resumed.nextPos"), jstr(r, "after.nextPos"));
	assert_string_equal(jstr(r, "painted.selfKey"), jstr(r, "selfKey"));
	uint64_t painted = strtoull(jstr(r, "painted.nextPos"), NULL, 10);
	assert_true(painted > after);
	char since[24];
	snprintf(since, sizeof since, "%llu", (unsigned long long)after);
	lg = ctl_json(d, (const char *const[]){ "log", "--json", "--since", since, NULL });
	entries = json_object_object_get(lg, "entries");
	size_t n = (size_t)(painted - after); /* the paint's (a material.set first when the slot's is new) */
	assert_true(json_object_array_length(entries) >= n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(dt_str(json_object_array_get_idx(entries, i), "author"), browser_key);
	assert_string_equal(dt_str(json_object_array_get_idx(entries, n - 1), "type"), "mesh.patch");
	json_object_put(lg);

	/* Move (a drag), Add cube and Undo: their entries in order, the browser's, the cube drawn and gone again;
	 * the daemon's world hash at the end is the page's. */
	uint64_t final = strtoull(jstr(r, "final.nextPos"), NULL, 10);
	assert_int_equal(final, painted + 3);
	assert_string_equal(jstr(r, "meshesWithCube"), "3");
	assert_string_equal(jstr(r, "final.meshes"), "2");
	snprintf(since, sizeof since, "%llu", (unsigned long long)painted);
	lg = ctl_json(d, (const char *const[]){ "log", "--json", "--since", since, NULL });
	entries = json_object_object_get(lg, "entries");
	assert_int_equal(json_object_array_length(entries), 3);
	static const char *const tools[] = { "component.write", "mesh.create", "edit.undo" };
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(dt_str(json_object_array_get_idx(entries, i), "type"), tools[i]);
		assert_string_equal(dt_str(json_object_array_get_idx(entries, i), "author"), browser_key);
	}
	json_object_put(lg);
	sc = dt_scene_at(d, session, final);
	assert_string_equal(jstr(r, "final.hash"), jstr(sc, "world_hash"));
	json_object_put(sc);

	printf("web page: model shown %s ms after the page's start (its code and theta.wasm loaded and the name given at %s ms; "
	       "the offer answered %s ms and the data channels open %s ms after the join), a frame %s ms in headless "
	       "chromium on %s\n",
	       jstr(r, "before.timings.shownMs"), jstr(r, "before.timings.loadMs"), jstr(r, "before.timings.offerMs"),
	       jstr(r, "before.timings.openMs"), jstr(r, "frameMs"), jstr(r, "before.renderer"));
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_page_joins_draws_the_model_and_its_extrude_lands, dt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
