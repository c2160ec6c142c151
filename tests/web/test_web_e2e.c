/* Browser peers end to end (docs/web.md "Tests in a real browser"): two
 * real thetad processes — host A with [web] listen on 127.0.0.1:0 and
 * member B joined by a theta:// invite — with a native IPC client each
 * that folds the session's log (common/th_fold.h, as theta-client does)
 * and reports its world hash (SCENE_STATE), and Debian's chromium
 * (one per binary, tests/lib/th_webpage.h) joining A by the http link of
 * `thetactl invite`:
 *   - the page shows the model (a screenshot against a golden, with a
 *     tolerance); a face picked with a click and extruded with the
 *     toolbar's button lands everywhere: A's and B's scenes, both native
 *     clients' reported hashes and the browser's own are one world hash;
 *   - a native edit on B reaches the page, whose hash follows to B's;
 *   - avatars both ways: the page shows B's user where its client put its
 *     head, and the native clients hear the page's pose;
 *   - refusals, each a sentence in the page: a viewer's extrude (the
 *     host's refusal), a link whose fp is not the daemon's certificate
 *     (before any channel opens), an expired invite (/offer's sentence);
 *   - WebXR emulated by iwer (a Quest 3, injected before the page's
 *     scripts): Enter VR starts an immersive-vr session and both eyes'
 *     views of the XR framebuffer are drawn (read back per view); B's
 *     client hears the headset's pose with both controllers.
 * The cases run in order on one set of daemons and one browser. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../integration/net_fixture.h"
#include "net_client.h"
#include "scene_edits.h"
#include "th_daemontest.h"
#include "th_fold.h"
#include "th_golden.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_time.h"
#include "th_browser.h"
#include "th_webpage.h"

#define E2E_WAIT_MS 30000    /* every poll for a condition */
#define E2E_CALL_MS 45000    /* one request to the browser (a join folds and draws on a loaded machine) */
#define E2E_POLL_MS 50
#define E2E_EXTRUDE "0.5"
#define E2E_EDITOR "E2E Editor"
#define E2E_LINK_MAX 1024
/* The browser client's code in the build's web folder (web/js, copied by make). */
#define E2E_PAGE "js/main.js"
#define E2E_HASH_HEX (2 * TH_SCENE_HASH_LEN + 1)
#define E2E_SHOT_W 800u
#define E2E_SHOT_H 600u
/* The screenshot's middle half against the page's background
 * (th_browser_model_fraction): the two cubes fill a good part of it. */
#define E2E_MODEL_FRACTION_MIN 0.15
/* SwiftShader draws a frame the same way each time; a chromium update
 * may move edges and shading a little (test_web_page's tolerance). */
#define E2E_TOLERANCE ((struct gfx_png_tolerance){ .max_diff = 24, .max_over_fraction = 0.02 })
/* B's client's head, where the page must show it (metres). */
#define E2E_HEAD_X 0.75f
#define E2E_HEAD_Y 1.5f
#define E2E_HEAD_Z 2.25f
#define E2E_POSE_SLACK 0.01
/* The emulated headset stands back from the model, looking at it (-z). */
#define E2E_XR_X 0.25f
#define E2E_XR_Z 3.5f
#define E2E_XR_AT "{\"x\":0.25,\"y\":0.6,\"z\":3.5}"
#define E2E_XR_SLACK 0.05f
#define E2E_XR_FRAMES 30
/* The share of each eye's viewport the model covers at least (it is ~10%). */
#define E2E_XR_LIT_MIN 0.04
/* An invite that expires this many seconds after it is made. */
#define E2E_EXPIRES "1s"
#define E2E_EXPIRES_WAIT_S 3

#define E2E_HEARD_MAX 8

/* A native client: its fold of the session's log, from its events. */
struct e2e_client {
	const char *name;
	struct nf_daemon *d;
	struct nc_client c;
	struct th_fold *fold;
	uint64_t fold_errors;
	uint64_t browser_poses; /* POSE_UPDATEs of the browser's avatar entity */
	uint64_t browser_entity;
	struct proto_ipc_pose_update last_pose;
	uint64_t other_entity; /* the last pose's entity that was not the browser's */
	/* Every avatar heard: its parts and its last head position. */
	struct e2e_heard {
		uint64_t entity;
		uint32_t parts; /* PROTO_IPC_POSE_F_HEAD | _LEFT | _RIGHT seen */
		float head[3];
	} heard[E2E_HEARD_MAX];
	unsigned n_heard;
};

static struct {
	bool skip;
	char skip_why[TH_WEBPAGE_WHY_MAX];
	struct th_webpage *w;
	struct nf_daemon a, b;
	char conf_dir[80];
	char session[33];
	struct e2e_client ka, kb;
	uint8_t host_key[TH_LOGREC_KEY_LEN];
	bool editor_joined;
	char browser_key[2 * TH_LOGREC_KEY_LEN + 1]; /* the editor page's user key, hex */
	char hash3[E2E_HASH_HEX];                     /* the world hash after the page's extrude */
} g;

static char why[TH_WEBPAGE_WHY_MAX];

/* ---- the browser ---------------------------------------------------------------- */

/* One request to the browser; the test fails with the driver's sentence
 * (and where the page stood) when it fails. The caller puts the value. */
static struct json_object *call(struct json_object *req)
{
	struct json_object *v = NULL;
	int r = th_webpage_call(g.w, req, E2E_CALL_MS, &v, why, sizeof why);
	if (r != 0) {
		fprintf(stderr, "host A's log:\n%s\n", th_daemon_log(&g.a.p));
		fail_msg("the browser: %s", why);
	}
	return v;
}


static struct json_object *rq(const char *op, const char *page, const char *key, const char *value)
{
	struct json_object *o = th_webpage_req(op, page);
	return key ? th_webpage_arg(o, key, value) : o;
}

/* join (or open: the name form only) of link as name. */
static struct json_object *join_req(const char *op, const char *page, const char *link, const char *name)
{
	return th_webpage_arg(th_webpage_arg(th_webpage_req(op, page), "url", link), "name", name);
}

static void call_done(struct json_object *r) { json_object_put(call(r)); }

/* An expression evaluated in the page. */
static struct json_object *eval(const char *page, const char *expr)
{
	return call(rq("eval", page, "expr", expr));
}

static long long eval_ll(const char *page, const char *expr)
{
	struct json_object *v = eval(page, expr);
	long long x = json_object_get_int64(v);
	json_object_put(v);
	return x;
}

static void eval_str(const char *page, const char *expr, char *out, size_t cap)
{
	struct json_object *v = eval(page, expr);
	snprintf(out, cap, "%s", v ? json_object_get_string(v) : "");
	json_object_put(v);
}

/* Polls expr in the page until it is truthy (a value with "error" fails). */
static struct json_object *wait_page(const char *page, const char *what, const char *expr)
{
	struct json_object *r = th_webpage_arg(rq("wait", page, "what", what), "expr", expr);
	json_object_object_add(r, "ms", json_object_new_int(E2E_WAIT_MS));
	return call(r);
}

static void new_page(const char *page, const char *iwer_at)
{
	struct json_object *r = rq("page", page, NULL, NULL);
	if (iwer_at)
		json_object_object_add(r, "iwer", json_tokener_parse(iwer_at));
	call_done(r);
}

/* ---- the daemons and their clients ------------------------------------------ */

static struct json_object *ctl_json(struct nf_daemon *d, const char *const *args)
{
	struct json_object *o = nf_ctl_json(d, args);
	if (!o)
		fail_msg("thetactl %s %s failed: %s", args[0], args[1] ? args[1] : "", nf_err);
	return o;
}

static void on_event(void *ud, const struct th_logrec_entry *e)
{
	struct e2e_client *k = ud;
	if (!k->fold)
		return;
	int r = th_fold_add(k->fold, e, k->c.next_pos - 1);
	if (r < 0 && k->fold_errors++ < 3)
		fprintf(stderr, "client %s: its fold refused seq %" PRIu64 ": %s\n", k->name, e->seq, strerror(-r));
}

static void on_pose(void *ud, const struct proto_ipc_pose_update *p)
{
	struct e2e_client *k = ud;
	struct e2e_heard *h = NULL;
	for (unsigned i = 0; i < k->n_heard && !h; i++)
		if (k->heard[i].entity == p->entity)
			h = &k->heard[i];
	if (!h && k->n_heard < E2E_HEARD_MAX) {
		h = &k->heard[k->n_heard++];
		h->entity = p->entity;
	}
	if (h) {
		h->parts |= p->flags & (PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_LEFT | PROTO_IPC_POSE_F_RIGHT);
		if (p->flags & PROTO_IPC_POSE_F_HEAD) {
			h->head[0] = p->px;
			h->head[1] = p->py;
			h->head[2] = p->pz;
		}
	}
	if (k->browser_entity && p->entity == k->browser_entity) {
		k->browser_poses++;
		k->last_pose = *p;
	} else {
		k->other_entity = p->entity;
	}
}

static void client_connect(struct e2e_client *k, const char *name, struct nf_daemon *d)
{
	k->name = name;
	k->d = d;
	assert_int_equal(nc_connect(&k->c, d->p.runtime_dir, E2E_WAIT_MS), 0);
	k->c.on_event = on_event;
	k->c.on_pose = on_pose;
	k->c.ud = k;
}

/* Both clients read what came. */
static void pump(int ms)
{
	assert_true(nc_poll(&g.ka.c, ms / 2) >= 0);
	assert_true(nc_poll(&g.kb.c, ms / 2) >= 0);
}

/* A fresh fold with the session's host key, the log again from its start. */
static void client_fold(struct e2e_client *k)
{
	th_fold_destroy(&k->fold);
	struct th_fold_config fc = { 0 };
	memcpy(fc.host_key, g.host_key, sizeof fc.host_key);
	assert_int_equal(th_fold_create(&fc, &k->fold), 0);
	k->fold_errors = 0;
	assert_int_equal(nc_resync(&k->c, 0), 0);
}

/* The client's fold at pos entries: its world hash (hex) and a
 * SCENE_STATE saying so; false while it has not got there. */
static bool client_hash(struct e2e_client *k, uint64_t pos, char hex[E2E_HASH_HEX])
{
	struct th_fold_stats st;
	th_fold_stats(k->fold, &st);
	uint8_t h[TH_SCENE_HASH_LEN];
	if (k->c.resyncing || st.next_pos != pos || th_fold_world_hash(k->fold, h) != 0)
		return false;
	th_hex_encode(h, sizeof h, hex);
	struct th_scene_stats ss;
	th_scene_stats(th_fold_scene(k->fold), &ss);
	assert_int_equal(nc_scene_state(&k->c, pos, h, (uint32_t)ss.entities), 0);
	return true;
}

/* The daemon's `clients` row of kind (and, for a browser, name) whose
 * reported scene is at pos with world hash hex, which the daemon says
 * matches its own. */
static bool clients_report(struct nf_daemon *d, const char *kind, const char *name, uint64_t pos, const char *hex)
{
	struct json_object *r = ctl_json(d, (const char *const[]){ "clients", "--json", NULL });
	struct json_object *rows = json_object_object_get(r, "clients");
	bool seen = false;
	for (size_t i = 0; i < json_object_array_length(rows) && !seen; i++) {
		struct json_object *row = json_object_array_get_idx(rows, i), *sc = json_object_object_get(row, "scene");
		if (strcmp(dt_str(row, "kind"), kind) || (name && strcmp(dt_str(row, "user"), name)) || !sc)
			continue;
		seen = strtoull(dt_str(sc, "next_pos"), NULL, 10) == pos && !strcmp(dt_str(sc, "world_hash"), hex) &&
		       !strcmp(dt_str(sc, "hash"), "match");
	}
	json_object_put(r);
	return seen;
}

/* The daemon's scene of the session at pos: its world hash. */
static void daemon_hash(struct nf_daemon *d, uint64_t pos, char hex[E2E_HASH_HEX])
{
	struct json_object *sc = dt_scene_at(&d->p, g.session, pos);
	snprintf(hex, E2E_HASH_HEX, "%s", dt_str(sc, "world_hash"));
	json_object_put(sc);
}

/* The browser link `thetactl invite` prints beside the theta:// one. */
static void browser_link(const char *role, const char *expires, char link[E2E_LINK_MAX])
{
	const char *args[] = { "invite", g.session, "--role", role, "--host", "127.0.0.1", expires ? "--expires" : NULL,
			       expires, NULL };
	if (nf_ctl(&g.a, args) != 0)
		fail_msg("thetactl invite failed: %s", nf_err);
	const char *p = strstr(nf_out, "http://127.0.0.1:");
	if (!p)
		fail_msg("thetactl invite printed no browser link: %s", nf_out);
	size_t n = strcspn(p, " \n");
	assert_true(n < E2E_LINK_MAX);
	memcpy(link, p, n);
	link[n] = 0;
	assert_non_null(strstr(link, "#s="));
	assert_non_null(strstr(link, "&fp="));
}

/* Two cubes from A's native client, acknowledged. */
static void make_model(void)
{
	static const float at[2][3] = { { -1.2f, 0, -0.5f }, { 0.4f, 0, 0 } };
	uint64_t acks = g.ka.c.acks;
	for (unsigned i = 0; i < 2; i++) {
		uint8_t pl[PROTO_IPC_MAX_PAYLOAD];
		int n = se_cube(at[i], 1.0f, pl, sizeof pl);
		assert_true(n > 0);
		assert_true(nc_submit_raw(&g.ka.c, TH_CMD_MESH_CREATE, 0, pl, (uint32_t)n) > 0);
	}
	uint64_t end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	while (g.ka.c.acks + g.ka.c.rejects < acks + 2 && th_now_ns() < end)
		pump(100);
	assert_int_equal(g.ka.c.rejects, 0);
	assert_int_equal(g.ka.c.acks, acks + 2);
}

static int group_teardown(void **state);

static int group_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	char web_root[PATH_MAX], rel[PATH_MAX], wasm[PATH_MAX + 32], page[PATH_MAX + 32];
	const char *b = getenv("THETA_BUILD");
	snprintf(rel, sizeof rel, "%s/web", b && *b ? b : "build");
	snprintf(wasm, sizeof wasm, "%s/wasm/theta.wasm", rel);
	if (access(wasm, R_OK) != 0 || !realpath(rel, web_root)) {
		g.skip = true;
		snprintf(g.skip_why, sizeof g.skip_why,
			 "no %s (the wasm toolchain is missing: make says which part): the page cannot fold", wasm);
		return 0;
	}
	snprintf(page, sizeof page, "%s/%s", rel, E2E_PAGE);
	if (access(page, R_OK) != 0) {
		g.skip = true;
		snprintf(g.skip_why, sizeof g.skip_why, "no %s: this build has no browser client to test", page);
		return 0;
	}
	char missing[TH_WEBPAGE_WHY_MAX];
	if (!th_browser_available(missing, sizeof missing)) {
		g.skip = true;
		snprintf(g.skip_why, sizeof g.skip_why, "%s", missing);
		return 0;
	}
	/* A: [web] listen on a free loopback port, serving the build's page. */
	if (th_mkdtemp(g.conf_dir, sizeof g.conf_dir) < 0)
		return -1;
	static char conf[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/thetad.conf", g.conf_dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[web]\nlisten = \"127.0.0.1:0\"\nroot = \"%s\"\n", web_root);
	fclose(f);
	nf_start(&g.a, (const char *const[]){ "--config", conf, NULL }, NULL);
	nf_start(&g.b, NULL, NULL);
	nf_host(&g.a, "e2e", g.session);
	nf_invite_join(&g.a, &g.b, g.session, "editor");
	client_connect(&g.ka, "A's client", &g.a);
	client_connect(&g.kb, "B's client", &g.b);
	make_model();
	/* The browser last: a failure before it leaves no chromium behind. */
	int r = th_webpage_start(&g.w, g.skip_why, sizeof g.skip_why);
	if (r == -ENOENT) {
		g.skip = true;
		return 0;
	}
	if (r != 0) {
		fprintf(stderr, "%s\n", g.skip_why);
		group_teardown(state);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	th_webpage_stop(&g.w);
	th_fold_destroy(&g.ka.fold);
	th_fold_destroy(&g.kb.fold);
	if (g.ka.d)
		nc_close(&g.ka.c);
	if (g.kb.d)
		nc_close(&g.kb.c);
	nf_teardown(state);
	if (g.conf_dir[0])
		th_rm_rf(g.conf_dir);
	return 0;
}

#define E2E_SKIP()                                         \
	do {                                               \
		if (g.skip) {                              \
			printf("SKIP: %s\n", g.skip_why);  \
			skip();                            \
		}                                          \
	} while (0)

/* ---- the cases ---------------------------------------------------------------- */

/* Every party at pos with world hash want: A's and B's scenes, both
 * native clients (their folds, and their SCENE_STATE as `clients` shows
 * it) and the editor page (its own report on A). */
static void everyone_at(uint64_t pos, const char *want)
{
	char h[E2E_HASH_HEX];
	daemon_hash(&g.a, pos, h);
	assert_string_equal(h, want);
	daemon_hash(&g.b, pos, h);
	assert_string_equal(h, want);
	uint64_t end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	char ha[E2E_HASH_HEX] = "", hb[E2E_HASH_HEX] = "";
	bool ok = false;
	while (!ok && th_now_ns() < end) {
		pump(E2E_POLL_MS);
		ok = client_hash(&g.ka, pos, ha) && client_hash(&g.kb, pos, hb) && !strcmp(ha, want) &&
		     !strcmp(hb, want) && clients_report(&g.a, "local", NULL, pos, want) &&
		     clients_report(&g.b, "local", NULL, pos, want) && clients_report(&g.a, "browser", E2E_EDITOR, pos, want);
	}
	if (!ok) {
		struct json_object *ca = ctl_json(&g.a, (const char *const[]){ "clients", "--json", NULL });
		struct json_object *cb = ctl_json(&g.b, (const char *const[]){ "clients", "--json", NULL });
		fail_msg("not every party is at %" PRIu64 " with world hash %s: A's client %s, B's client %s (fold errors "
			 "%" PRIu64 ", %" PRIu64 "); A's clients %s; B's clients %s",
			 pos, want, ha, hb, g.ka.fold_errors, g.kb.fold_errors, json_object_to_json_string(ca),
			 json_object_to_json_string(cb));
	}
	assert_int_equal(g.ka.fold_errors + g.kb.fold_errors, 0);
}

static void the_page_shows_the_model_and_its_extrude_reaches_every_client(void **state)
{
	(void)state;
	E2E_SKIP();
	char link[E2E_LINK_MAX], model[E2E_HASH_HEX];
	daemon_hash(&g.a, 2, model);
	browser_link("editor", NULL, link);
	new_page("editor", NULL);
	struct json_object *j = call(join_req("join", "editor", link, E2E_EDITOR));
	assert_string_equal(dt_str(j, "role"), "editor");
	assert_int_equal(dt_u64(j, "nextPos"), 2);
	assert_string_equal(dt_str(j, "hash"), model);
	printf("the page joined and drew the model in %s ms (offer answered %.0f ms, channels open %.0f ms after the join)\n",
	       th_json_path(j, "joinedMs"), atof(th_json_path(j, "timings.offerMs")), atof(th_json_path(j, "timings.openMs")));
	json_object_put(j);
	g.editor_joined = true;

	/* The host key from the page's /offer reply: the native clients fold with it. */
	char host[80];
	eval_str("editor", "theta.reply.host", host, sizeof host);
	assert_int_equal(th_hex_decode(host, strlen(host), g.host_key, sizeof g.host_key, false), 0);
	client_fold(&g.ka);
	client_fold(&g.kb);

	/* It shows the model: the middle of its picture, as the golden. */
	char shot[PATH_MAX];
	snprintf(shot, sizeof shot, "%s/e2e.png", g.conf_dir);
	call_done(rq("shot", "editor", "file", shot));
	uint8_t *rgba = NULL;
	uint32_t w = 0, h = 0;
	char pwhy[GFX_PNG_WHY_MAX];
	assert_int_equal(gfx_png_read(shot, &rgba, &w, &h, pwhy, sizeof pwhy), 0);
	assert_int_equal(w, E2E_SHOT_W);
	assert_int_equal(h, E2E_SHOT_H);
	double frac = th_browser_model_fraction(rgba, w, h);
	if (frac < E2E_MODEL_FRACTION_MIN)
		fail_msg("only %.1f%% of the picture's middle is not background: the model is not drawn", frac * 100);
	th_golden_check("web_e2e_model", rgba, w, h, &E2E_TOLERANCE);
	free(rgba);

	/* A face picked with a click, extruded with the toolbar's button. */
	json_object_put(call(rq("pick", "editor", NULL, NULL)));
	call_done(th_webpage_arg(rq("fill", "editor", "selector", "#extrude-dist"), "value", E2E_EXTRUDE));
	call_done(rq("click", "editor", "selector", "#extrude"));
	json_object_put(wait_page("editor", "the extrude to be acknowledged and folded",
				  "(() => { const t = theta; if (t.lastReject()) return { error: t.lastReject() };"
				  " return t.lastAck() && t.nextPos() >= 3 && t.drawnUpToDate(); })()"));
	assert_int_equal(eval_ll("editor", "theta.nextPos()"), 3);
	eval_str("editor", "theta.worldHash()", g.hash3, sizeof g.hash3);
	assert_string_not_equal(g.hash3, model);
	eval_str("editor", "theta.selfKey()", g.browser_key, sizeof g.browser_key);
	assert_int_equal(strlen(g.browser_key), 2 * TH_LOGREC_KEY_LEN);
	everyone_at(3, g.hash3);

	/* B's log has the extrude as the browser signed it. */
	struct json_object *lg = ctl_json(&g.b, (const char *const[]){ "log", "--session", g.session, "--json", "--since",
								       "2", NULL });
	struct json_object *e = json_object_array_get_idx(json_object_object_get(lg, "entries"), 0);
	assert_non_null(e);
	assert_string_equal(dt_str(e, "type"), "mesh.patch");
	json_object_put(lg);
}

static void a_native_edit_on_b_reaches_the_page(void **state)
{
	(void)state;
	E2E_SKIP();
	assert_true(g.editor_joined);
	/* B's client moves the first mesh the page draws. */
	char ent[32];
	eval_str("editor", "theta.meshes()[0].entity", ent, sizeof ent);
	uint64_t entity = strtoull(ent, NULL, 10);
	assert_true(entity != 0);
	uint8_t pl[PROTO_IPC_MAX_PAYLOAD];
	int n = se_transform((const float[3]){ -1.0f, 0.25f, -0.75f }, pl, sizeof pl);
	assert_true(n > 0);
	uint64_t acks = g.kb.c.acks;
	assert_true(nc_submit_raw(&g.kb.c, TH_CMD_COMPONENT_WRITE, entity, pl, (uint32_t)n) > 0);
	uint64_t end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	while (g.kb.c.acks + g.kb.c.rejects == acks && th_now_ns() < end)
		pump(100);
	if (g.kb.c.acks != acks + 1)
		fail_msg("B's move was not acknowledged: %s", g.kb.c.last_reject);
	char want[E2E_HASH_HEX], page[E2E_HASH_HEX];
	daemon_hash(&g.b, 4, want);
	assert_string_not_equal(want, g.hash3);
	json_object_put(wait_page("editor", "B's move to reach the page",
				  "theta.nextPos() >= 4 && theta.drawnUpToDate()"));
	assert_int_equal(eval_ll("editor", "theta.nextPos()"), 4);
	eval_str("editor", "theta.worldHash()", page, sizeof page);
	assert_string_equal(page, want);
	everyone_at(4, want);
}

/* The avatar entity of a user: the first 8 bytes of their key, LE (thetad sess_entity_of). */
static uint64_t entity_of_hex_key(const char *hex)
{
	uint8_t k[TH_LOGREC_KEY_LEN];
	assert_int_equal(th_hex_decode(hex, strlen(hex), k, sizeof k, false), 0);
	uint64_t e = 0;
	for (int i = 7; i >= 0; i--)
		e = (e << 8) | k[i];
	return e;
}

static void avatars_go_both_ways(void **state)
{
	(void)state;
	E2E_SKIP();
	assert_true(g.editor_joined);
	/* The page's pose reaches both native clients (A's on its own daemon, B's over the session). */
	g.ka.browser_entity = g.kb.browser_entity = entity_of_hex_key(g.browser_key);
	uint64_t end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	while ((!g.ka.browser_poses || !g.kb.browser_poses) && th_now_ns() < end) {
		/* The page sends its pose when it changes, and once a second while still. */
		pump(200);
	}
	if (!g.ka.browser_poses || !g.kb.browser_poses)
		fail_msg("the page's pose (entity %" PRIu64 ") did not reach the native clients: A's heard %" PRIu64
			 ", B's %" PRIu64,
			 g.ka.browser_entity, g.ka.browser_poses, g.kb.browser_poses);
	assert_true(g.kb.last_pose.flags & PROTO_IPC_POSE_F_HEAD);

	/* B's client's head reaches the page, where the client put it. */
	long long before = eval_ll("editor", "theta.counters().posesIn");
	struct proto_ipc_pose_update p = { .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED,
					   .px = E2E_HEAD_X, .py = E2E_HEAD_Y, .pz = E2E_HEAD_Z, .qw = 1 };
	char expr[256];
	snprintf(expr, sizeof expr, "theta.counters().posesIn > %lld && theta.counters().avatars >= 1", before);
	end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	bool seen = false;
	while (!seen && th_now_ns() < end) {
		p.t_ns = (uint64_t)th_now_ns();
		assert_int_equal(nc_pose(&g.kb.c, &p), 0);
		pump(100);
		struct json_object *v = eval("editor", expr);
		seen = json_object_get_boolean(v);
		json_object_put(v);
	}
	if (!seen)
		fail_msg("B's client's pose did not reach the page");
	/* Whose: A's client hears B's poses too, under B's user's avatar entity; the page labels that avatar
	 * with the key's first 4 bytes (avatars.js keyPrefix). */
	end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	while (!g.ka.other_entity && th_now_ns() < end) {
		p.t_ns = (uint64_t)th_now_ns();
		assert_int_equal(nc_pose(&g.kb.c, &p), 0);
		pump(100);
	}
	assert_true(g.ka.other_entity != 0);
	char label[64], labels[1024];
	snprintf(label, sizeof label, "user ");
	for (unsigned i = 0; i < 4; i++)
		snprintf(label + strlen(label), sizeof label - strlen(label), "%02x",
			 (unsigned)((g.ka.other_entity >> (8 * i)) & 0xff));
	eval_str("editor", "[...document.querySelectorAll('.avatar-label')].map(l => l.textContent).join('|')", labels,
		 sizeof labels);
	if (!strstr(labels, label))
		fail_msg("the page shows no avatar labelled '%s' (B's user): its labels '%s'", label, labels);
	/* Where: the page's avatar of B's user has its head at the client's spot. */
	struct json_object *av = eval("editor", "theta.avatars()");
	bool at = false;
	for (size_t i = 0; i < json_object_array_length(av); i++) {
		struct json_object *u = json_object_array_get_idx(av, i), *hd = json_object_object_get(u, "head");
		if (strtoull(dt_str(u, "entity"), NULL, 10) != g.ka.other_entity || !hd || json_object_array_length(hd) != 3)
			continue;
		double x = json_object_get_double(json_object_array_get_idx(hd, 0));
		double y = json_object_get_double(json_object_array_get_idx(hd, 1));
		double z = json_object_get_double(json_object_array_get_idx(hd, 2));
		at = fabs(x - E2E_HEAD_X) < E2E_POSE_SLACK && fabs(y - E2E_HEAD_Y) < E2E_POSE_SLACK &&
		     fabs(z - E2E_HEAD_Z) < E2E_POSE_SLACK;
	}
	if (!at)
		fail_msg("the page shows B's user (entity %" PRIu64 ") with no head at (%.2f, %.2f, %.2f): %s", g.ka.other_entity,
			 E2E_HEAD_X, E2E_HEAD_Y, E2E_HEAD_Z, json_object_to_json_string(av));
	json_object_put(av);
}

/* The page's stop sentence (#error's text, the hook's lastError) once it stopped. */
static void stopped_with(const char *page, char *sentence, size_t cap)
{
	json_object_put(wait_page(page, "the page to stop with a sentence",
				  "theta.state === 'stopped' && theta.lastError"));
	eval_str(page, "theta.lastError", sentence, cap);
	char shown[1024];
	eval_str(page, "document.getElementById('error') ? document.getElementById('error').textContent : ''", shown,
		 sizeof shown);
	if (!strstr(shown, sentence))
		fail_msg("the page does not show its sentence '%s' (its #error: '%s')", sentence, shown);
	size_t n = strlen(sentence);
	assert_true(n > 1 && sentence[n - 1] == '.');
}

static void a_viewer_s_extrude_is_refused_in_the_page(void **state)
{
	(void)state;
	E2E_SKIP();
	char link[E2E_LINK_MAX];
	browser_link("viewer", NULL, link);
	uint64_t entries = nf_entries(&g.a, g.session);
	new_page("viewer", NULL);
	struct json_object *j = call(join_req("join", "viewer", link, "E2E Viewer"));
	assert_string_equal(dt_str(j, "role"), "viewer");
	json_object_put(j);
	json_object_put(call(rq("pick", "viewer", NULL, NULL)));
	call_done(rq("click", "viewer", "selector", "#extrude"));
	struct json_object *r = wait_page("viewer", "the host's refusal of the viewer's extrude", "theta.lastReject()");
	json_object_put(r);
	char msgs[2048];
	eval_str("viewer", "[...document.querySelectorAll('.msg')].map(m => m.textContent).join('\\n')", msgs,
		 sizeof msgs);
	if (!strstr(msgs, "The host refused"))
		fail_msg("the page does not say the host refused the edit: %s", msgs);
	assert_int_equal(nf_entries(&g.a, g.session), entries);
	call_done(rq("close", "viewer", NULL, NULL));
}

static void a_link_with_a_wrong_fp_is_refused_before_connecting(void **state)
{
	(void)state;
	E2E_SKIP();
	char link[E2E_LINK_MAX];
	browser_link("editor", NULL, link);
	char *fp = strstr(link, "&fp=") + 4;
	fp[0] = fp[0] == '0' ? '1' : '0'; /* another certificate's fingerprint */
	new_page("badfp", NULL);
	call_done(join_req("open", "badfp", link, "E2E Bad FP"));
	char sentence[1024];
	stopped_with("badfp", sentence, sizeof sentence);
	if (strncmp(sentence, "The host's certificate is not the one this invite names", 55))
		fail_msg("the page stopped for another reason: %s", sentence);
	/* Before connecting: no data channel opened, A lists it open nowhere. */
	assert_int_equal(eval_ll("badfp", "theta.counters().connects || 0"), 0);
	struct json_object *wj = ctl_json(&g.a, (const char *const[]){ "web", "--json", NULL });
	struct json_object *bs = json_object_object_get(wj, "browsers");
	for (size_t i = 0; i < json_object_array_length(bs); i++) {
		struct json_object *b = json_object_array_get_idx(bs, i);
		if (!strcmp(dt_str(b, "name"), "E2E Bad FP"))
			assert_string_not_equal(dt_str(b, "state"), "open");
	}
	json_object_put(wj);
	call_done(rq("close", "badfp", NULL, NULL));
}

static void an_expired_invite_is_refused_with_offer_s_sentence(void **state)
{
	(void)state;
	E2E_SKIP();
	char link[E2E_LINK_MAX];
	time_t made = time(NULL);
	browser_link("editor", E2E_EXPIRES, link);
	/* The token's expiry is wall-clock time: wait for it to pass. */
	while (time(NULL) < made + E2E_EXPIRES_WAIT_S)
		pump(200);
	new_page("expired", NULL);
	call_done(join_req("open", "expired", link, "E2E Late"));
	char sentence[1024];
	stopped_with("expired", sentence, sizeof sentence);
	/* /offer's own sentence, as the page got it (410 expired). */
	struct json_object *offers = call(rq("offers", "expired", NULL, NULL));
	size_t n = json_object_array_length(offers);
	assert_true(n >= 1);
	struct json_object *last = json_object_array_get_idx(offers, n - 1);
	assert_int_equal(dt_u64(last, "status"), 410);
	struct json_object *body = json_object_object_get(last, "body");
	assert_string_equal(dt_str(body, "code"), "expired");
	assert_string_equal(dt_str(body, "error"), sentence);
	json_object_put(offers);
	call_done(rq("close", "expired", NULL, NULL));
}

static void enter_vr_draws_both_eyes(void **state)
{
	(void)state;
	E2E_SKIP();
	char link[E2E_LINK_MAX];
	browser_link("editor", NULL, link);
	new_page("xr", E2E_XR_AT);
	json_object_put(call(join_req("join", "xr", link, "E2E Headset")));
	json_object_put(wait_page("xr", "the page to offer VR (iwer's immersive-vr)", "theta.xrOffered()"));
	call_done(rq("click", "xr", "selector", "#enter-vr"));
	char expr[256];
	snprintf(expr, sizeof expr,
		 "(() => { const x = theta.xr(), r = window.__e2eXr; if (theta.lastError) return { error: theta.lastError };"
		 " return x && x.frames >= %d && r && r.views.length === 2; })()",
		 E2E_XR_FRAMES);
	json_object_put(wait_page("xr", "the immersive-vr session's frames", expr));
	struct json_object *x = eval("xr", "({ stats: theta.xr(), back: window.__e2eXr })");
	if (getenv("E2E_DEBUG"))
		fprintf(stderr, "%s\n", json_object_to_json_string(x));
	struct json_object *st = json_object_object_get(x, "stats");
	/* Every frame drew both views. */
	unsigned long long frames = dt_u64(st, "frames"), views = dt_u64(st, "views");
	if (views < 2 * frames - 2 || views > 2 * frames)
		fail_msg("the VR session drew %llu views in %llu frames: not two a frame", views, frames);
	struct json_object *vs = json_object_object_get(json_object_object_get(x, "back"), "views");
	assert_int_equal(json_object_array_length(vs), 2);
	struct json_object *l = json_object_array_get_idx(vs, 0), *r = json_object_array_get_idx(vs, 1);
	/* Each eye's view has the model in it, and the eyes see it from two places. */
	for (int i = 0; i < 2; i++) {
		struct json_object *v = json_object_array_get_idx(vs, (size_t)i);
		unsigned long long lit = dt_u64(v, "lit"), all = dt_u64(v, "width") * dt_u64(v, "height");
		if (!all)
			fail_msg("the %s eye's viewport is empty (%llu x %llu)", dt_str(v, "eye"), dt_u64(v, "width"),
				 dt_u64(v, "height"));
		if ((double)lit < E2E_XR_LIT_MIN * (double)all)
			fail_msg("the %s eye's view is empty: %llu of %llu pixels drawn", dt_str(v, "eye"), lit, all);
	}
	assert_string_not_equal(dt_str(l, "eye"), dt_str(r, "eye"));
	assert_string_not_equal(dt_str(l, "digest"), dt_str(r, "digest"));
	printf("webxr (iwer metaQuest3, stereo): %llu frames, %llu views; the %s eye %llu of %llu x %llu pixels drawn, "
	       "the %s eye %llu of %llu x %llu\n",
	       frames, views, dt_str(l, "eye"), dt_u64(l, "lit"), dt_u64(l, "width"), dt_u64(l, "height"), dt_str(r, "eye"),
	       dt_u64(r, "lit"), dt_u64(r, "width"), dt_u64(r, "height"));
	json_object_put(x);
	/* In VR the page sends the headset's pose and both controllers': B's client hears an avatar with a head
	 * where iwer's headset stands and two hands. */
	const uint32_t all_parts = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_LEFT | PROTO_IPC_POSE_F_RIGHT;
	const struct e2e_heard *hs = NULL;
	uint64_t end = th_now_ns() + (uint64_t)E2E_WAIT_MS * TH_NS_PER_MS;
	while (!hs && th_now_ns() < end) {
		pump(100);
		for (unsigned i = 0; i < g.kb.n_heard && !hs; i++)
			if (g.kb.heard[i].parts == all_parts && fabsf(g.kb.heard[i].head[0] - E2E_XR_X) < E2E_XR_SLACK &&
			    fabsf(g.kb.heard[i].head[2] - E2E_XR_Z) < E2E_XR_SLACK)
				hs = &g.kb.heard[i];
	}
	if (!hs) {
		for (unsigned i = 0; i < g.kb.n_heard; i++)
			fprintf(stderr, "B's client heard entity %" PRIu64 ": parts 0x%x, head (%.2f, %.2f, %.2f)\n",
				g.kb.heard[i].entity, g.kb.heard[i].parts, g.kb.heard[i].head[0], g.kb.heard[i].head[1],
				g.kb.heard[i].head[2]);
		fail_msg("B's client heard no avatar with a head at iwer's headset (x %.2f, z %.2f) and both hands",
			 E2E_XR_X, E2E_XR_Z);
	}
	call_done(rq("close", "xr", NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_page_shows_the_model_and_its_extrude_reaches_every_client),
		cmocka_unit_test(a_native_edit_on_b_reaches_the_page),
		cmocka_unit_test(avatars_go_both_ways),
		cmocka_unit_test(a_viewer_s_extrude_is_refused_in_the_page),
		cmocka_unit_test(a_link_with_a_wrong_fp_is_refused_before_connecting),
		cmocka_unit_test(an_expired_invite_is_refused_with_offer_s_sentence),
		cmocka_unit_test(enter_vr_draws_both_eyes),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
