/* A real browser against a real thetad (make bench-web): Debian's
 * chromium (tests/lib/th_webpage.h, one for the run) joins a thetad with
 * [web] listen = 127.0.0.1:0 by the http link of `thetactl invite`, a
 * fresh browser context (a new identity) each time, then edits; a native
 * IPC client of the same daemon watches the log. The baseline is a second
 * native client's edits, taking turns with the browser's in the same run
 * (the same log, disk and moment).
 *
 *   web.browser_setup_ms_{p50,p99}  the page's RTCPeerConnection made ->
 *                                   both data channels open (offer,
 *                                   POST /offer, ICE, DTLS, SCTP, DCEP:
 *                                   the page's own clock), BENCH_WEB_BROWSER_JOINS times
 *   web.browser_offer_ms_p50        -> the /offer reply (the page's offer,
 *                                   its ICE gathering, the POST)
 *   web.browser_offer_post_ms_p50   the POST /offer round trip alone (the
 *                                   page's resource timing)
 *   web.browser_edit_ms_{p50,p99}   the page submits a move (the Move
 *                                   tool's builder, actions.move) -> the
 *                                   watching native client has its EVENT,
 *                                   BENCH_WEB_BROWSER_EDITS times
 *   web.native_edit_ms_{p50,p99}    baseline: a native client's move ->
 *                                   the watching client has its EVENT
 *   web.browser_vs_native_edit      browser p50 over native p50
 *   web.browser_clock_offset_ms     the page's clock (timeOrigin + now)
 *                                   against CLOCK_REALTIME, measured and
 *                                   taken off the browser's edit times
 * Prints a SKIP line without node, chromium, playwright-core or theta.wasm. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net_client.h"
#include "scene_edits.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_time.h"
#include "th_webpage.h"

#define WAIT_MS 30000
#define CALL_MS 45000
#define JOINS_DEFAULT 8u
#define EDITS_DEFAULT 40u
#define CLOCK_PROBES 20u
#define MOVE_M "0.01"

static struct th_daemon_proc D;
static struct th_webpage *W;
static char why[TH_WEBPAGE_WHY_MAX];

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_web_browser: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	if (D.pid > 0)
		fprintf(stderr, "%s\n", th_daemon_log(&D));
	th_webpage_stop(&W);
	th_daemon_cleanup(&D);
	exit(1);
}

static unsigned env_n(const char *name, unsigned def, unsigned max)
{
	const char *e = getenv(name);
	unsigned long v = e && *e ? strtoul(e, NULL, 10) : def;
	return v >= 1 && v <= max ? (unsigned)v : def;
}

static uint64_t wall_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * TH_NS_PER_S + (uint64_t)t.tv_nsec;
}

static struct json_object *call(struct json_object *req)
{
	struct json_object *v = NULL;
	if (th_webpage_call(W, req, CALL_MS, &v, why, sizeof why) != 0)
		die("the browser", why);
	return v;
}

static double eval_double(const char *page, const char *expr)
{
	struct json_object *v = call(th_webpage_arg(th_webpage_req("eval", page), "expr", expr));
	double x = json_object_get_double(v);
	json_object_put(v);
	return x;
}

static void wait_page(const char *page, const char *what, const char *expr)
{
	json_object_put(call(th_webpage_arg(th_webpage_arg(th_webpage_req("wait", page), "what", what), "expr", expr)));
}

/* The watching client, on its own thread: when each EVENT came (wall clock). */
static struct {
	struct nc_client c;
	pthread_mutex_t mu;
	uint64_t events, last_ns;
	atomic_bool stop;
} watch = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_watch_event(void *ud, const struct th_logrec_entry *e)
{
	(void)ud;
	(void)e;
	uint64_t t = wall_ns();
	pthread_mutex_lock(&watch.mu);
	watch.events++;
	watch.last_ns = t;
	pthread_mutex_unlock(&watch.mu);
}

static void *watch_loop(void *arg)
{
	(void)arg;
	while (!atomic_load(&watch.stop))
		if (nc_poll(&watch.c, 20) < 0)
			break;
	return NULL;
}

static uint64_t watched(uint64_t *last_ns)
{
	pthread_mutex_lock(&watch.mu);
	uint64_t n = watch.events;
	if (last_ns)
		*last_ns = watch.last_ns;
	pthread_mutex_unlock(&watch.mu);
	return n;
}

/* Waits for the watcher's event count to pass n: the wall time it came. */
static uint64_t wait_watched(uint64_t n, const char *what)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS, t = 0;
	while (watched(&t) <= n) {
		if (th_now_ns() > end)
			die("the watching client did not see", what);
		th_sleep_ns(TH_NS_PER_MS / 4);
	}
	return t;
}

/* The browser link of an editor invite. */
static void browser_link(const char *session, char *link, size_t cap)
{
	static char out[8192], err[4096];
	const char *args[] = { "invite", session, "--role", "editor", "--host", "127.0.0.1", NULL };
	if (th_ctl(&D, args, out, sizeof out, err, sizeof err) != 0)
		die("thetactl invite", err);
	const char *p = strstr(out, "http://127.0.0.1:");
	if (!p)
		die("thetactl invite printed no browser link", out);
	size_t n = strcspn(p, " \n");
	if (n >= cap)
		die("the browser link is too long", NULL);
	memcpy(link, p, n);
	link[n] = 0;
}

/* The page's clock minus CLOCK_REALTIME (ns), from the probe with the
 * shortest round trip. */
static double clock_offset_ns(const char *page)
{
	double best_rtt = INFINITY, off = 0;
	for (unsigned i = 0; i < CLOCK_PROBES; i++) {
		uint64_t t0 = wall_ns();
		double pm = eval_double(page, "performance.timeOrigin + performance.now()");
		uint64_t t1 = wall_ns();
		double rtt = (double)(t1 - t0);
		if (rtt < best_rtt) {
			best_rtt = rtt;
			off = pm * 1e6 - ((double)t0 + rtt / 2);
		}
	}
	return off;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	unsigned joins = env_n("BENCH_WEB_BROWSER_JOINS", JOINS_DEFAULT, 200),
		 edits = env_n("BENCH_WEB_BROWSER_EDITS", EDITS_DEFAULT, 10000);
	char web_root[PATH_MAX], rel[PATH_MAX], wasm[PATH_MAX + 32], page[PATH_MAX + 32];
	const char *b = getenv("THETA_BUILD");
	snprintf(rel, sizeof rel, "%s/web", b && *b ? b : "build");
	snprintf(wasm, sizeof wasm, "%s/wasm/theta.wasm", rel);
	if (access(wasm, R_OK) != 0 || !realpath(rel, web_root)) {
		printf("SKIP: no %s (the wasm toolchain is missing): the page cannot fold\n", wasm);
		return 0;
	}
	snprintf(page, sizeof page, "%s/js/main.js", rel);
	if (access(page, R_OK) != 0) {
		printf("SKIP: no %s: this build has no browser client to measure\n", page);
		return 0;
	}
	int r = th_webpage_start(&W, why, sizeof why);
	if (r == -ENOENT) {
		printf("SKIP: %s\n", why);
		return 0;
	}
	if (r != 0)
		die("the browser did not start", why);

	if (th_daemon_prepare(&D) < 0)
		die("cannot prepare a daemon", NULL);
	char conf[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/thetad.conf", D.dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		die("cannot write thetad.conf", NULL);
	fprintf(f, "[web]\nlisten = \"127.0.0.1:0\"\nroot = \"%s\"\nmax_peers = 1024\n", web_root);
	fclose(f);
	const char *args[] = { "--config", conf, NULL };
	if (th_daemon_spawn(&D, args, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&D, "READY=1", WAIT_MS) < 0)
		die("thetad did not start", NULL);
	struct json_object *h = th_ctl_call(&D, "{\"cmd\":\"session_host\",\"args\":{\"name\":\"bench\"}}");
	char sid[33] = "";
	if (h && th_json_path(h, "session"))
		snprintf(sid, sizeof sid, "%s", th_json_path(h, "session"));
	json_object_put(h);
	if (!sid[0])
		die("no session", NULL);

	/* The model: one cube from the native editor, which the page moves. */
	struct nc_client ed;
	if (nc_connect(&ed, D.runtime_dir, WAIT_MS) < 0 || nc_connect(&watch.c, D.runtime_dir, WAIT_MS) < 0)
		die("the native clients cannot connect", NULL);
	watch.c.on_event = on_watch_event;
	if (nc_resync(&watch.c, 0) < 0)
		die("the watching client's resync", NULL);
	pthread_t th;
	if (pthread_create(&th, NULL, watch_loop, NULL) != 0)
		die("cannot start the watching thread", NULL);
	uint8_t pl[PROTO_IPC_MAX_PAYLOAD];
	int n = se_cube((const float[3]){ 0, 0, 0 }, 1.0f, pl, sizeof pl);
	uint64_t seen = watched(NULL);
	if (n <= 0 || nc_submit_raw(&ed, TH_CMD_MESH_CREATE, 0, pl, (uint32_t)n) <= 0)
		die("the cube", NULL);
	wait_watched(seen, "the cube");
	uint64_t entity = 0; /* the cube's, read from the page below */

	char link[1024];
	browser_link(sid, link, sizeof link);

	/* Set-up: a fresh context (a new identity) joins, the channels open. */
	uint64_t *setup = calloc(joins, sizeof *setup), *offer = calloc(joins, sizeof *offer),
		 *post = calloc(joins, sizeof *post);
	if (!setup || !offer || !post)
		die("out of memory", NULL);
	for (unsigned i = 0; i < joins; i++) {
		char name[32];
		snprintf(name, sizeof name, "bench %u", i);
		json_object_put(call(th_webpage_req("page", "join")));
		struct json_object *j =
			call(th_webpage_arg(th_webpage_arg(th_webpage_req("join", "join"), "url", link), "name", name));
		setup[i] = (uint64_t)(atof(th_json_path(j, "timings.openMs")) * 1e6);
		offer[i] = (uint64_t)(atof(th_json_path(j, "timings.offerMs")) * 1e6);
		struct json_object *posts = json_object_object_get(j, "offerPosts");
		size_t np = json_object_array_length(posts);
		post[i] = np ? (uint64_t)(json_object_get_double(json_object_array_get_idx(posts, np - 1)) * 1e6) : 0;
		json_object_put(j);
		if (i + 1 < joins)
			json_object_put(call(th_webpage_req("close", "join")));
	}
	th_bench_figure("web.browser_setup_ms_p50", th_bench_pct_u64(setup, joins, 0.5) / 1e6, "ms");
	th_bench_figure("web.browser_setup_ms_p99", th_bench_pct_u64(setup, joins, 0.99) / 1e6, "ms");
	th_bench_figure("web.browser_offer_ms_p50", th_bench_pct_u64(offer, joins, 0.5) / 1e6, "ms");
	th_bench_figure("web.browser_offer_post_ms_p50", th_bench_pct_u64(post, joins, 0.5) / 1e6, "ms");

	/* Edits: the last page selects the cube (a click on it) and moves it
	 * back and forth; the native editor moves it too, each right after. */
	json_object_put(call(th_webpage_req("pick", "join")));
	struct json_object *sel = call(th_webpage_arg(th_webpage_req("eval", "join"), "expr", "theta.selection().entity"));
	entity = strtoull(json_object_get_string(sel), NULL, 10);
	json_object_put(sel);
	double off_ns = clock_offset_ns("join");
	th_bench_figure("web.browser_clock_offset_ms", off_ns / 1e6, "ms");
	uint64_t *bro = calloc(edits, sizeof *bro), *nat = calloc(edits, sizeof *nat);
	if (!bro || !nat)
		die("out of memory", NULL);
	for (unsigned i = 0; i < edits; i++) {
		char expr[256];
		snprintf(expr, sizeof expr,
			 "(() => { const t = performance.timeOrigin + performance.now();"
			 " if (theta.actions.move([%s%s, 0, 0]) < 0) throw new Error('the move was not made'); return t; })()",
			 i % 2 ? "-" : "", MOVE_M);
		seen = watched(NULL);
		double t_page_ms = eval_double("join", expr);
		uint64_t t_seen = wait_watched(seen, "the browser's move");
		double d = (double)t_seen - (t_page_ms * 1e6 - off_ns);
		bro[i] = d > 0 ? (uint64_t)d : 0;
		wait_page("join", "the move to be acknowledged",
			  "(() => { const c = theta.counters(); if (theta.lastReject()) return { error: theta.lastReject() };"
			  " return c.pending === 0 && c.acks === c.submits; })()");

		float pos[3] = { i % 2 ? 0.0f : 0.01f, 0, 0 };
		n = se_transform(pos, pl, sizeof pl);
		seen = watched(NULL);
		uint64_t t0 = wall_ns();
		if (n <= 0 || nc_submit_raw(&ed, TH_CMD_COMPONENT_WRITE, entity, pl, (uint32_t)n) <= 0)
			die("the native move", NULL);
		nat[i] = wait_watched(seen, "the native move") - t0;
		if (nc_poll(&ed, 0) < 0)
			die("the native editor lost the daemon", NULL);
	}
	double bp50 = th_bench_pct_u64(bro, edits, 0.5) / 1e6, np50 = th_bench_pct_u64(nat, edits, 0.5) / 1e6;
	th_bench_figure("web.browser_edit_ms_p50", bp50, "ms");
	th_bench_figure("web.browser_edit_ms_p99", th_bench_pct_u64(bro, edits, 0.99) / 1e6, "ms");
	th_bench_figure("web.native_edit_ms_p50", np50, "ms");
	th_bench_figure("web.native_edit_ms_p99", th_bench_pct_u64(nat, edits, 0.99) / 1e6, "ms");
	th_bench_figure("web.browser_vs_native_edit", np50 > 0 ? bp50 / np50 : 0, "x");

	atomic_store(&watch.stop, true);
	pthread_join(th, NULL);
	nc_close(&watch.c);
	nc_close(&ed);
	th_webpage_stop(&W);
	free(setup);
	free(offer);
	free(post);
	free(bro);
	free(nat);
	int st;
	th_daemon_stop(&D, SIGTERM, WAIT_MS, &st);
	th_daemon_cleanup(&D);
	return 0;
}
