/* Convergence of one session across three daemons and four clients, as
 * real processes on loopback (issue 10): host A, members B and C, clients
 * a1 and a2 on A, b1 on B, c1 on C (tests/lib/net_client.h). The clients
 * make scripted edits, mixing mesh.create (cubes: 8 VERTEX_ADD + 6 quads),
 * mesh.patch (vertex moves, face removals, faces added again over existing
 * vertices, loose vertices) and component.write (Transform), plus a few
 * edit.undo / edit.redo of their own entries. Each client builds its
 * picture of the scene from the EVENTs it hears, so patches name elements
 * that another author may have deleted meanwhile: those are refused by the
 * fold, identically everywhere. The members' UDP runs through the
 * impairment layer (10 % loss, reordering, duplication, a little delay and
 * jitter). The run:
 *   1. A hosts, B joins; a1, a2 and b1 edit at once.
 *   2. B is partitioned for 5 s while b1 keeps editing offline (and a1, a2
 *      on the host); the partition heals, edits stop, and the test waits
 *      for A and B to converge: it prints how long that took after the
 *      heal (converge.heal_s, a figure, not an assertion): the same log and
 *      the same world hash on both.
 *   3. a1 fills the log up to THETA_CONVERGE_LATE_ENTRIES entries; then C
 *      joins (the late joiner) and c1 connects to it.
 *   4. All four clients edit; halfway the host A is killed with SIGKILL and
 *      restarted on the same port while b1 and c1 keep editing, a1 and a2
 *      reconnect to it and go on.
 *   5. Every daemon must end with the same log and the same world: the
 *      same entry count, its scene live and folded to the log's end with
 *      the same world hash (the `scene` control command), the same sorted
 *      listing (lamport, author, seq, type, scope, size), and
 *      after a stop, offline, every record valid and every author's chain
 *      head equal (tests/lib/th_logfill.h). No edit a daemon acknowledged
 *      may be missing. Every client must have heard every entry of the log
 *      exactly once, in each author's seq order and each stream in position
 *      order, and folded them (common/th_fold.h, as theta-client does) into
 *      the daemons' world: the same world hash for all, with refused patches
 *      and standing undos among the entries. A real theta-client on each
 *      daemon mirrors the scene too (snapshot, then folded entries; it
 *      reconnects to the restarted host), and `clients` must show every
 *      client that reports its mirror (SCENE_STATE: the theta-clients and
 *      the test's four) at the log's end with the daemon's world hash
 *      ("match"). The test's clients hear a restarted daemon's session
 *      again from the start: positions heard before a restart may name
 *      other entries after it, when recovery cut the log's last batch and
 *      the log grew again.
 *
 * Sizes (environment; make test uses the defaults, make converge-test the
 * issue's full sizes):
 *   THETA_CONVERGE_EDITS         scripted edits in phases 1, 2 and 4
 *                                (default 1500; converge-test 10 000)
 *   THETA_CONVERGE_LATE_ENTRIES  entries the log holds when C joins
 *                                (default 4000; converge-test 100 000)
 *   THETA_CONVERGE_SEED          the clients' script seed (default 1)
 * Figures (JSON lines): converge.heal_s, converge.late_join_s,
 * converge.host_restart_s (from A's restart to every daemon converged),
 * converge.entries, converge.edits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ctl.h" /* thetactl/ctl.h: the control socket's framing */
#include "net_client.h"
#include "net_fixture.h"
#include "th_bench.h"
#include "th_fold.h"
#include "th_hex.h"
#include "th_id.h"
#include "scene_edits.h"
#include "th_logfill.h"

#define CV_EDITS_DEFAULT 1500u
#define CV_LATE_ENTRIES_DEFAULT 4000u
#define CV_IMPAIR "loss=10%,delay=4ms,jitter=2ms,reorder=0.05,dup=0.02"
#define CV_PARTITION_NS (5 * TH_NS_PER_S)
#define CV_HOST_DOWN_NS (2 * TH_NS_PER_S)
/* Edits in flight per client (submitted, not yet answered). */
#define CV_WINDOW 32u
#define CV_BULK_WINDOW 256u
/* Members sign their local users' edits under the log's default token
 * bucket (CLOG_RATE_PER_S_DEFAULT 200/s, burst 1000): their clients stay
 * below it. The host's bucket is raised by its configuration file. */
#define CV_MEMBER_RATE_PER_S 150u
#define CV_MEMBER_BURST 400u
#define CV_CLIENTS 4
/* Undo and redo name an own entry among the last CV_UNDO_REACH entries
 * heard (an undo replays everything after its target, everywhere). */
#define CV_UNDO_REACH 512u
/* Generous: a loaded 2-core machine, impaired links, a rejoin backoff. */
#define CV_CONVERGE_MS 120000
#define CV_WAIT_PER_ENTRY_US 5000u
static int cv_wait_ms = CV_CONVERGE_MS; /* every wait's deadline, set from the sizes */
#define CV_LIST_PAGE 10000u
/* A client's fold keeps every entry it heard within reach of a rollback
 * (entries come in its daemon's position order, not the total order). */
#define CV_FOLD_WINDOW_ENTRIES (1u << 24)
#define CV_FOLD_WINDOW_BYTES ((size_t)4 << 30)

struct cv_client {
	const char *name;
	struct nf_daemon *d;
	struct nc_client c;
	bool up;
	uint64_t sent_conn; /* submitted on the current connection */
	uint64_t next_pos;  /* events heard: every position below */
	uint64_t rng;
	bool paced;
	uint64_t tokens_milli, tokens_ns;
	uint64_t edits, acks, rejects, reconnects;
	uint64_t pos_at_down; /* next_pos when its connection last ended */
	pid_t pid_conn;       /* the daemon process it last connected to */
	struct th_fold *fold; /* the world its EVENTs fold into */
	uint64_t fold_errors;
	unsigned restarts_heard;
	struct se_model m; /* its picture of the scene, from its EVENTs */
	/* every acknowledgement: (lamport, seq) of an entry of its user */
	uint64_t (*acked)[2];
	size_t n_acked, cap_acked;
	uint64_t made[8]; /* per kind of edit, CV_K_* */
};

enum { CV_K_CREATE, CV_K_MOVE, CV_K_REMOVE_FACE, CV_K_FACE_ADD, CV_K_VERTEX, CV_K_WRITE, CV_K_UNDO, CV_K_REDO };
static const char *const cv_kind_name[] = { "mesh.create", "move", "remove-face", "face-add",
					    "loose-vertex", "component.write", "edit.undo", "edit.redo" };

static uint64_t cv_rand(struct cv_client *k)
{
	/* splitmix64 */
	uint64_t z = (k->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned cv_pick(struct cv_client *k, unsigned n)
{
	return (unsigned)(cv_rand(k) % n);
}

static float cv_coord(struct cv_client *k)
{
	return (float)((int)cv_pick(k, 2001) - 1000) / 100.0f; /* -10 .. 10 m, exact in binary32 to 1 cm steps */
}

/* Every daemon's notify socket read (th_daemon_drain_notify: a daemon
 * whose STATUS lines nobody reads stalls after about 100 s). */
static void cv_drain_all(void)
{
	for (int i = 0; i < NF_MAX_DAEMONS; i++)
		if (nf_started[i])
			th_daemon_drain_notify(&nf_started[i]->p);
}

/* ---- the control socket ---------------------------------------------------- */

/* One request over d's control.sock without thetactl (no process per poll);
 * the reply's result into *res. 0, or -errno / -EREMOTEIO (the daemon
 * refused: its sentence in err). */
static int cv_call(struct nf_daemon *d, const char *cmd, struct json_object *args, struct json_object **res,
		   char *err, size_t errlen)
{
	*res = NULL;
	if (err && errlen)
		err[0] = 0;
	cv_drain_all();
	int fd = ctl_connect(d->p.runtime_dir);
	if (fd < 0)
		return fd;
	struct timeval tv = { .tv_sec = 20 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(req, "args", json_object_get(args));
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	char *reply = NULL;
	size_t len = 0;
	int r = ctl_send_frame(fd, s, strlen(s));
	if (r == 0)
		r = ctl_recv_frame(fd, &reply, &len);
	json_object_put(req);
	close(fd);
	if (r < 0)
		return r;
	struct json_object *o = json_tokener_parse(reply), *ok, *v;
	free(reply);
	if (!o || !json_object_object_get_ex(o, "ok", &ok)) {
		json_object_put(o);
		return -EBADMSG;
	}
	if (!json_object_get_boolean(ok)) {
		if (err && json_object_object_get_ex(o, "error", &v))
			snprintf(err, errlen, "%s", json_object_get_string(v));
		json_object_put(o);
		return -EREMOTEIO;
	}
	if (json_object_object_get_ex(o, "result", &v))
		*res = json_object_get(v);
	json_object_put(o);
	return 0;
}

/* The `entries` of d's `sessions` row for id, or -1. */
static int64_t cv_entries(struct nf_daemon *d, const char *id)
{
	struct json_object *r, *arr, *v;
	int64_t n = -1;
	if (cv_call(d, "sessions", NULL, &r, NULL, 0) < 0)
		return -1;
	if (json_object_object_get_ex(r, "sessions", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *s = json_object_array_get_idx(arr, i);
			if (json_object_object_get_ex(s, "id", &v) && !strcmp(json_object_get_string(v), id) &&
			    json_object_object_get_ex(s, "entries", &v))
				n = json_object_get_int64(v);
		}
	json_object_put(r);
	return n;
}

/* The whole log of the session on d as sorted lines "lamport author seq
 * type scope_id size" (each daemon appends in its own order), read page by
 * page over the control socket. The number of lines, or -errno. */
struct cv_listing {
	char **lines;
	size_t n, cap;
};

static void cv_listing_free(struct cv_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	*l = (struct cv_listing){ 0 };
}

static int cv_listing_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cv_list(struct nf_daemon *d, const char *id, struct cv_listing *l)
{
	uint64_t since = 0;
	*l = (struct cv_listing){ 0 };
	for (;;) {
		struct json_object *args = json_object_new_object(), *r, *arr, *v;
		json_object_object_add(args, "session", json_object_new_string(id));
		json_object_object_add(args, "since", json_object_new_uint64(since));
		json_object_object_add(args, "max", json_object_new_uint64(CV_LIST_PAGE));
		int rc = cv_call(d, "log", args, &r, NULL, 0);
		json_object_put(args);
		if (rc < 0)
			return rc;
		if (!json_object_object_get_ex(r, "entries", &arr)) {
			json_object_put(r);
			return -EBADMSG;
		}
		size_t n = json_object_array_length(arr);
		if (l->n + n > l->cap) {
			size_t cap = (l->n + n) * 2;
			char **p = realloc(l->lines, cap * sizeof(char *));
			if (!p) {
				json_object_put(r);
				return -ENOMEM;
			}
			l->lines = p;
			l->cap = cap;
		}
		for (size_t k = 0; k < n; k++) {
			struct json_object *e = json_object_array_get_idx(arr, k), *a, *b, *c, *t, *s, *z;
			json_object_object_get_ex(e, "lamport", &a);
			json_object_object_get_ex(e, "author", &b);
			json_object_object_get_ex(e, "seq", &c);
			json_object_object_get_ex(e, "type", &t);
			json_object_object_get_ex(e, "scope_id", &s);
			json_object_object_get_ex(e, "size", &z);
			if (asprintf(&l->lines[l->n], "%020llu %s %020llu %s %s %s",
				     (unsigned long long)json_object_get_uint64(a), json_object_get_string(b),
				     (unsigned long long)json_object_get_uint64(c), json_object_get_string(t),
				     json_object_get_string(s), json_object_get_string(z)) < 0) {
				json_object_put(r);
				return -ENOMEM;
			}
			l->n++;
		}
		bool more = json_object_object_get_ex(r, "truncated", &v) && json_object_get_boolean(v);
		uint64_t next = json_object_object_get_ex(r, "next_pos", &v) ? json_object_get_uint64(v) : since;
		json_object_put(r);
		if (!more)
			break;
		if (next == since)
			th_sleep_ns(5 * TH_NS_PER_MS); /* the daemon is reading the next window */
		since = next;
	}
	qsort(l->lines, l->n, sizeof(char *), cv_listing_cmp);
	return (int)l->n;
}

/* Per author in the listing: entries and the highest seq (diagnostics). */
static void cv_listing_authors(const struct cv_listing *l, const char *what)
{
	char fprs[8][TH_KEY_FPR_LEN];
	uint64_t n[8] = { 0 }, max[8] = { 0 };
	unsigned na = 0;
	for (size_t i = 0; i < l->n; i++) {
		char fpr[TH_KEY_FPR_LEN];
		unsigned long long lam, seq;
		if (sscanf(l->lines[i], "%llu %50s %llu", &lam, fpr, &seq) != 3)
			continue;
		unsigned k = 0;
		while (k < na && strcmp(fprs[k], fpr))
			k++;
		if (k == na && na < 8)
			snprintf(fprs[na++], TH_KEY_FPR_LEN, "%s", fpr);
		if (k < na) {
			n[k]++;
			max[k] = seq > max[k] ? seq : max[k];
		}
	}
	fprintf(stderr, "%s: %zu entries\n", what, l->n);
	for (unsigned k = 0; k < na; k++)
		fprintf(stderr, "  %s: %" PRIu64 " entries, seq up to %" PRIu64 "\n", fprs[k], n[k], max[k]);
}

/* The fields of d's `scene` for id that convergence compares. */
struct cv_scene {
	char state[24];
	char hash[2 * TH_SCENE_HASH_LEN + 1];
	int64_t log_count, log_position, folded, applied, refused, excluded, rollbacks;
};

static int64_t cv_jint(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static int cv_scene(struct nf_daemon *d, const char *id, struct cv_scene *sc)
{
	struct json_object *args = json_object_new_object(), *r, *v;
	json_object_object_add(args, "session", json_object_new_string(id));
	char err[256];
	int rc = cv_call(d, "scene", args, &r, err, sizeof(err));
	json_object_put(args);
	memset(sc, 0, sizeof(*sc));
	if (rc < 0)
		return rc;
	snprintf(sc->state, sizeof(sc->state), "%s",
		 json_object_object_get_ex(r, "state", &v) ? json_object_get_string(v) : "");
	snprintf(sc->hash, sizeof(sc->hash), "%s",
		 json_object_object_get_ex(r, "world_hash", &v) ? json_object_get_string(v) : "");
	sc->log_count = cv_jint(r, "log_count");
	sc->log_position = cv_jint(r, "log_position");
	sc->folded = cv_jint(r, "folded");
	sc->applied = cv_jint(r, "applied");
	sc->refused = cv_jint(r, "refused");
	sc->excluded = cv_jint(r, "excluded");
	sc->rollbacks = cv_jint(r, "rollbacks");
	json_object_put(r);
	return 0;
}

/* Whether every daemon folded all `count` entries of its log into the
 * same world (the same world hash); *sc gets the first daemon's. */
static bool cv_scenes_equal(struct nf_daemon **ds, int n, const char *id, int64_t count, struct cv_scene *sc,
			    bool report)
{
	bool same = true;
	for (int i = 0; i < n; i++) {
		struct cv_scene x;
		if (cv_scene(ds[i], id, &x) < 0) {
			if (report)
				fprintf(stderr, "daemon %d: no scene\n", i);
			return false;
		}
		if (report)
			fprintf(stderr, "daemon %d: scene %s, log %lld, position %lld, folded %lld (%lld applied, %lld refused, "
					"%lld excluded, %lld rollbacks), world hash %s\n",
				i, x.state, (long long)x.log_count, (long long)x.log_position, (long long)x.folded,
				(long long)x.applied, (long long)x.refused, (long long)x.excluded, (long long)x.rollbacks,
				x.hash);
		if (i == 0)
			*sc = x;
		if (strcmp(x.state, "live") || x.log_position != count || x.folded != count || !x.hash[0] ||
		    strcmp(x.hash, sc->hash))
			same = false;
	}
	return same;
}

/* ---- convergence ----------------------------------------------------------- */

/* Whether every daemon lists the same entry count (cheap: polled). */
static bool cv_counts_equal(struct nf_daemon **ds, int n, const char *id, int64_t *count)
{
	int64_t first = cv_entries(ds[0], id);
	*count = first;
	if (first < 0)
		return false;
	for (int i = 1; i < n; i++)
		if (cv_entries(ds[i], id) != first)
			return false;
	return true;
}

/* Whether every daemon's sorted listing equals the first's; on a
 * difference (report) the first lines that differ go to stderr. */
static bool cv_listings_equal(struct nf_daemon **ds, int n, const char *id, bool report)
{
	struct cv_listing a, b;
	if (cv_list(ds[0], id, &a) < 0)
		return false;
	bool same = true;
	for (int i = 1; i < n && same; i++) {
		if (cv_list(ds[i], id, &b) < 0) {
			same = false;
			break;
		}
		if (a.n != b.n)
			same = false;
		for (size_t k = 0; same && k < a.n; k++)
			if (strcmp(a.lines[k], b.lines[k])) {
				same = false;
				if (report)
					fprintf(stderr, "daemon 0 and %d differ at line %zu:\n  %s\n  %s\n", i, k,
						a.lines[k], b.lines[k]);
			}
		if (!same && report)
			fprintf(stderr, "daemon 0 lists %zu entries, daemon %d %zu\n", a.n, i, b.n);
		cv_listing_free(&b);
	}
	cv_listing_free(&a);
	return same;
}

/* Polls until every daemon holds the same log (counts, then the listings)
 * and has folded all of it into the same world (*sc: its scene). Returns
 * the seconds from t0 to the first poll that saw it, or -1 after printing
 * what differed and the daemons' logs. */
static double cv_wait_converged(struct nf_daemon **ds, int n, const char *id, uint64_t t0, int timeout_ms,
				int64_t *count, struct cv_scene *sc)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	for (;;) {
		uint64_t seen = th_now_ns();
		if (cv_counts_equal(ds, n, id, count) && cv_scenes_equal(ds, n, id, *count, sc, false) &&
		    cv_listings_equal(ds, n, id, false))
			return (double)(seen - t0) / 1e9;
		if (th_now_ns() >= end)
			break;
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
	for (int i = 0; i < n; i++)
		fprintf(stderr, "daemon %d: %lld entries; its log:\n%s\n", i, (long long)cv_entries(ds[i], id),
			th_daemon_log(&ds[i]->p));
	cv_listings_equal(ds, n, id, true);
	cv_scenes_equal(ds, n, id, *count, sc, true);
	return -1;
}

static void cv_fold_reset(struct cv_client *k)
{
	th_fold_destroy(&k->fold);
	struct th_fold_config fc = { .window_entries = CV_FOLD_WINDOW_ENTRIES, .window_bytes = CV_FOLD_WINDOW_BYTES };
	assert_int_equal(th_fold_create(&fc, &k->fold), 0);
}

static void cv_on_event(void *ud, const struct th_logrec_entry *e)
{
	struct cv_client *k = ud;
	se_model_on_entry(&k->m, e);
	int r = th_fold_add(k->fold, e, k->c.next_pos - 1);
	if (r < 0 && k->fold_errors++ < 3)
		fprintf(stderr, "client %s: its fold refused seq %" PRIu64 " lamport %" PRIu64 ": %s\n", k->name, e->seq,
			e->lamport, strerror(-r));
}

/* Whether k's fold holds `count` entries whose world hash is hex. */
static bool cv_client_hash_is(struct cv_client *k, int64_t count, const char *hex, bool report)
{
	struct th_fold_stats st;
	uint8_t h[TH_SCENE_HASH_LEN];
	char mine[2 * TH_SCENE_HASH_LEN + 1] = "";
	th_fold_stats(k->fold, &st);
	if (th_fold_world_hash(k->fold, h) == 0)
		th_hex_encode(h, sizeof(h), mine);
	bool same = (int64_t)st.entries == count && !strcmp(mine, hex) && !k->fold_errors;
	if (!same && report)
		fprintf(stderr, "client %s: folded %" PRIu64 " of %lld entries (%" PRIu64 " applied, %" PRIu64
				" refused, %" PRIu64 " excluded, %" PRIu64 " fold errors), world hash %s, want %s\n",
			k->name, st.entries, (long long)count, st.applied, st.refused, st.excluded, k->fold_errors, mine,
			hex);
	return same;
}

static void cv_on_ack(void *ud, const struct proto_ipc_cmd_ack *a)
{
	struct cv_client *k = ud;
	if (k->n_acked == k->cap_acked) {
		size_t cap = k->cap_acked ? k->cap_acked * 2 : 1024;
		void *p = realloc(k->acked, cap * sizeof(k->acked[0]));
		assert_non_null(p);
		k->acked = p;
		k->cap_acked = cap;
	}
	k->acked[k->n_acked][0] = a->lamport;
	k->acked[k->n_acked++][1] = a->log_index; /* the entry's seq */
}

static int cv_prefix_cmp(const void *key, const void *line)
{
	return strncmp(key, *(char *const *)line, strlen(key));
}

/* Every edit k's daemon acknowledged is in the listing l (sorted): none
 * was lost, by a kill or a partition. The number missing. */
static size_t cv_acked_missing(const struct cv_client *k, const struct cv_listing *l)
{
	size_t missing = 0;
	for (size_t i = 0; i < k->n_acked; i++) {
		char key[160];
		snprintf(key, sizeof(key), "%020llu %s %020llu ", (unsigned long long)k->acked[i][0], k->m.fpr,
			 (unsigned long long)k->acked[i][1]);
		if (!bsearch(key, l->lines, l->n, sizeof(char *), cv_prefix_cmp)) {
			if (missing < 5)
				fprintf(stderr, "client %s: acknowledged entry lamport %llu seq %llu is not in the log\n",
					k->name, (unsigned long long)k->acked[i][0], (unsigned long long)k->acked[i][1]);
			missing++;
		}
	}
	return missing;
}

/* ---- scripted edits --------------------------------------------------------- */

static int cv_cube(struct cv_client *k, uint8_t *buf, size_t cap)
{
	float pos[3] = { cv_coord(k), cv_coord(k), cv_coord(k) };
	return se_cube(pos, 0.25f * (float)(1 + cv_pick(k, 8)), buf, cap);
}

static int cv_transform(struct cv_client *k, uint8_t *buf, size_t cap)
{
	float pos[3] = { cv_coord(k), cv_coord(k), cv_coord(k) };
	return se_transform(pos, buf, cap);
}

/* One mesh.patch on mesh m of kind CV_K_MOVE .. CV_K_VERTEX. */
static int cv_patch(struct cv_client *k, struct se_mesh *m, int kind, uint8_t *buf, size_t cap)
{
	static struct th_pl_mesh_patch mp;
	mp.ops_count = 0;
	switch (kind) {
	case CV_K_MOVE: { /* 1..3 vertices moved in one patch */
		unsigned n = 1 + cv_pick(k, 3);
		for (unsigned i = 0; i < n && m->n_verts; i++) {
			struct th_pl_mesh_op *o = se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_VERTEX_MOVE,
							m->verts[cv_pick(k, m->n_verts)], 0);
			o->position[0] = cv_coord(k);
			o->position[1] = cv_coord(k);
			o->position[2] = cv_coord(k);
		}
		break;
	}
	case CV_K_REMOVE_FACE: /* any face this client heard of: maybe gone already */
		if (m->n_faces)
			se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_REMOVE, m->faces[cv_pick(k, m->n_faces)].id, 0);
		break;
	case CV_K_FACE_ADD: { /* a face's corners again: refused while it (or another over them) stands */
		if (!m->n_faces)
			break;
		const struct se_face *f = &m->faces[cv_pick(k, m->n_faces)];
		for (unsigned i = 0; i < m->n_faces && f->alive; i++) /* prefer a removed one */
			if (!m->faces[i].alive)
				f = &m->faces[i];
		se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 0);
		for (unsigned c = 0; c < 4; c++)
			se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_LOOP, f->loop[c], TH_PL_MESH_REF_ID);
		break;
	}
	case CV_K_VERTEX: { /* a loose vertex added, or one removed (a used one is refused) */
		if (m->n_verts && cv_pick(k, 2)) {
			se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_REMOVE, m->verts[cv_pick(k, m->n_verts)], 0);
		} else {
			struct th_pl_mesh_op *o = se_op(mp.ops, &mp.ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0);
			o->position[0] = cv_coord(k);
			o->position[1] = cv_coord(k);
			o->position[2] = cv_coord(k);
		}
		break;
	}
	}
	if (!mp.ops_count)
		return -ENOENT;
	return th_cmd_payload_encode(TH_CMD_MESH_PATCH, &mp, buf, cap);
}

/* The next scripted edit of k: its type, scope and payload (length). */
static int cv_next_edit(struct cv_client *k, uint16_t *type, uint64_t *scope, uint8_t *buf, size_t cap)
{
	unsigned r = cv_pick(k, 100);
	struct se_mesh *m = k->m.n_meshes ? &k->m.meshes[cv_pick(k, k->m.n_meshes)] : NULL;
	int kind, n = -ENOENT;
	if (!m || r < 10)
		kind = CV_K_CREATE;
	else if (r < 30)
		kind = CV_K_MOVE;
	else if (r < 38)
		kind = CV_K_REMOVE_FACE;
	else if (r < 45)
		kind = CV_K_FACE_ADD;
	else if (r < 50)
		kind = CV_K_VERTEX;
	else if (r < 95)
		kind = CV_K_WRITE;
	else if (r < 98)
		kind = CV_K_UNDO;
	else
		kind = CV_K_REDO;
	if ((kind == CV_K_UNDO && (!k->m.self_known || !k->m.n_own)) ||
	    (kind == CV_K_REDO && (!k->m.self_known || !k->m.n_undos)))
		kind = CV_K_WRITE;
	*scope = 0;
	switch (kind) {
	case CV_K_CREATE:
		*type = TH_CMD_MESH_CREATE;
		n = cv_cube(k, buf, cap);
		break;
	case CV_K_WRITE:
		*type = TH_CMD_COMPONENT_WRITE;
		*scope = m->entity;
		n = cv_transform(k, buf, cap);
		break;
	case CV_K_UNDO:
	case CV_K_REDO: {
		/* undo: one of k's recent entries; redo: one of its recent undos */
		bool undo = kind == CV_K_UNDO;
		uint64_t lamport = se_recent_own(&k->m, !undo, CV_UNDO_REACH, cv_rand(k));
		if (!lamport) {
			n = -ENOENT; /* nothing recent enough */
			break;
		}
		*type = undo ? TH_CMD_EDIT_UNDO : TH_CMD_EDIT_REDO;
		n = se_undo(&k->m, undo, lamport, buf, cap);
		break;
	}
	default:
		*type = TH_CMD_MESH_PATCH;
		*scope = m->id;
		n = cv_patch(k, m, kind, buf, cap);
		break;
	}
	if (n == -ENOENT) { /* nothing for that kind to name yet */
		*type = TH_CMD_COMPONENT_WRITE;
		*scope = m->entity;
		kind = CV_K_WRITE;
		n = cv_transform(k, buf, cap);
	}
	if (n >= 0)
		k->made[kind]++;
	return n;
}

/* ---- the clients ------------------------------------------------------------- */

static void cv_client_init(struct cv_client *k, const char *name, struct nf_daemon *d, uint64_t seed, bool paced)
{
	memset(k, 0, sizeof(*k));
	k->name = name;
	k->d = d;
	k->rng = seed;
	k->paced = paced;
	k->c.sock = k->c.bell_c2d = k->c.bell_d2c = -1;
	struct json_object *r, *v;
	assert_int_equal(cv_call(d, "whoami", NULL, &r, NULL, 0), 0);
	assert_true(json_object_object_get_ex(r, "key", &v));
	se_model_init(&k->m, json_object_get_string(v));
	cv_fold_reset(k);
	json_object_put(r);
}

static void cv_down(struct cv_client *k)
{
	if (k->up) {
		k->pos_at_down = k->next_pos;
		k->acks += k->c.acks;
		k->rejects += k->c.rejects;
		nc_close(&k->c);
	}
	k->up = false;
}

/* Connects (again) and asks for the events it has not heard. */
static bool cv_up(struct cv_client *k)
{
	if (k->up)
		return true;
	if (!th_daemon_alive(&k->d->p) || nc_connect(&k->c, k->d->p.runtime_dir, 2000) < 0)
		return false;
	k->c.on_event = cv_on_event;
	k->c.on_ack = cv_on_ack;
	k->c.ud = k;
	if (k->pid_conn && k->pid_conn != k->d->p.pid) {
		/* A restarted daemon: its recovery may have cut the log's last
		 * batch (docs/command-log.md, "The cut range") and the log may
		 * have grown again since, so positions heard before need not
		 * name the same entries now. Hear the session again from the
		 * start, as theta-client takes a snapshot after a restart. */
		char fpr[TH_KEY_FPR_LEN];
		snprintf(fpr, sizeof(fpr), "%s", k->m.fpr);
		k->restarts_heard++;
		se_model_init(&k->m, fpr);
		cv_fold_reset(k);
		k->next_pos = 0;
	}
	k->pid_conn = k->d->p.pid;
	k->c.next_pos = k->next_pos;
	if (nc_resync(&k->c, k->next_pos) < 0) {
		nc_close(&k->c);
		return false;
	}
	k->up = true;
	k->sent_conn = 0;
	k->reconnects++;
	return true;
}

/* Reads what k's daemon sent (up to wait_ms for the first record). */
static void cv_poll(struct cv_client *k, int wait_ms)
{
	if (!k->up)
		return;
	if (nc_poll(&k->c, wait_ms) < 0)
		cv_down(k);
	else
		k->next_pos = k->c.next_pos;
}

static uint64_t cv_inflight(const struct cv_client *k)
{
	return k->up ? k->sent_conn - k->c.acks - k->c.rejects : 0;
}

/* A member's local users are limited by its log's token bucket: k never
 * asks faster than CV_MEMBER_RATE_PER_S. */
static bool cv_token(struct cv_client *k, uint64_t now)
{
	if (!k->paced)
		return true;
	uint64_t cap = CV_MEMBER_BURST * 1000ull;
	if (!k->tokens_ns) {
		k->tokens_milli = cap;
		k->tokens_ns = now;
	} else {
		uint64_t add = (now - k->tokens_ns) / TH_NS_PER_MS * CV_MEMBER_RATE_PER_S;
		k->tokens_milli = k->tokens_milli + add > cap ? cap : k->tokens_milli + add;
		k->tokens_ns = now;
	}
	if (k->tokens_milli < 1000)
		return false;
	k->tokens_milli -= 1000;
	return true;
}

/* Submits up to `budget` edits while the window has room. */
static unsigned cv_pump(struct cv_client *k, unsigned budget, unsigned window)
{
	unsigned n = 0;
	uint64_t now = th_now_ns();
	while (k->up && n < budget && cv_inflight(k) < window && cv_token(k, now)) {
		uint8_t buf[4096];
		uint16_t type;
		uint64_t scope;
		int len = cv_next_edit(k, &type, &scope, buf, sizeof(buf));
		assert_true(len >= 0);
		if (nc_submit_raw(&k->c, type, scope, buf, (uint32_t)len) <= 0)
			break; /* ring full: later */
		k->sent_conn++;
		k->edits++;
		n++;
	}
	return n;
}

/* The clients in ks make `quota[i]` edits each, spread over at least
 * min_ns (0: as fast as they are answered), reconnecting when their daemon
 * comes back. `hook` (may be NULL) runs between rounds with the edits made
 * so far and says whether it still needs rounds. Returns when every quota
 * is met and the hook is done. */
static void cv_edit(struct cv_client **ks, int n, const unsigned *quota, uint64_t min_ns, unsigned window,
		    bool (*hook)(void *ud, uint64_t made), void *ud)
{
	uint64_t t0 = th_now_ns(), end = t0 + 600 * TH_NS_PER_S + (uint64_t)cv_wait_ms * TH_NS_PER_MS;
	unsigned done[CV_CLIENTS] = { 0 }, total = 0, all = 0;
	bool hook_busy = hook != NULL;
	for (int i = 0; i < n; i++)
		all += quota[i];
	while (total < all || hook_busy) {
		assert_true(th_now_ns() < end);
		for (int i = 0; i < n; i++) {
			struct cv_client *k = ks[i];
			if (!k->up && !cv_up(k))
				continue;
			unsigned budget = quota[i] - done[i];
			if (min_ns) { /* paced: no more than the elapsed share of the quota */
				uint64_t el = th_now_ns() - t0;
				uint64_t share = el >= min_ns ? quota[i] : (uint64_t)quota[i] * el / min_ns;
				budget = share > done[i] ? (unsigned)(share - done[i]) : 0;
			}
			unsigned s = cv_pump(k, budget, window);
			done[i] += s;
			total += s;
			cv_poll(k, 1);
		}
		if (hook)
			hook_busy = hook(ud, total);
		cv_drain_all();
	}
	/* Every client's answers, before the next phase changes the network
	 * (an edit a daemon holds, hold.c, is answered when it is signed). */
	uint64_t wait_end = th_now_ns() + (uint64_t)cv_wait_ms * TH_NS_PER_MS;
	for (bool busy = true; busy && th_now_ns() < wait_end;) {
		busy = false;
		for (int i = 0; i < n; i++) {
			if (!ks[i]->up)
				cv_up(ks[i]);
			cv_poll(ks[i], 2);
			busy |= cv_inflight(ks[i]) > 0;
		}
		cv_drain_all();
	}
	for (int i = 0; i < n; i++) {
		if (cv_inflight(ks[i]))
			fprintf(stderr, "client %s: %" PRIu64 " edits unanswered; its daemon's log:\n%s\n", ks[i]->name,
				cv_inflight(ks[i]), th_daemon_log(&ks[i]->d->p));
		assert_int_equal(cv_inflight(ks[i]), 0);
	}
}

/* Polls every client for a while (their events keep coming). */
static void cv_listen(struct cv_client **ks, int n, int ms)
{
	uint64_t end = th_now_ns() + (uint64_t)ms * TH_NS_PER_MS;
	do {
		for (int i = 0; i < n; i++) {
			if (!ks[i]->up)
				cv_up(ks[i]);
			cv_poll(ks[i], 2);
		}
		cv_drain_all();
	} while (th_now_ns() < end);
}

/* Waits until every client has heard the log's `count` entries (each
 * once, every author's in seq order) and folded them into the daemons'
 * world (sc->hash). */
static void cv_wait_heard(struct cv_client **ks, int n, const char *id, uint64_t count, const struct cv_scene *sc,
			  int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	const char *hash = sc->hash;
	for (;;) {
		bool all = true;
		for (int i = 0; i < n; i++)
			all &= ks[i]->m.heard == count && cv_client_hash_is(ks[i], (int64_t)count, hash, false);
		if (all || th_now_ns() >= end)
			break;
		cv_listen(ks, n, 20);
	}
	for (int i = 0; i < n; i++) {
		if (ks[i]->m.heard != count || ks[i]->m.gaps) {
			struct cv_client *k = ks[i];
			fprintf(stderr, "client %s heard %" PRIu64 " of %" PRIu64 " entries (%" PRIu64
					" duplicates, %" PRIu64 " gaps, up %d); per author:\n",
				k->name, k->m.heard, count, k->m.dups, k->m.gaps, k->up);
			fprintf(stderr, "(it had heard every position below %" PRIu64 " when its last connection ended; "
					"this connection: %" PRIu64 " overflows, %" PRIu64 " position jumps, %" PRIu64
					" events set aside, next_pos %" PRIu64 ")\n",
				k->pos_at_down, k->c.overflows, k->c.pos_jumps, k->c.set_aside, k->c.next_pos);
			for (unsigned j = 0; j < k->m.n_authors; j++) {
				char fpr[TH_KEY_FPR_LEN];
				th_key_fingerprint(k->m.authors[j].key, fpr, sizeof(fpr));
				fprintf(stderr, "  %s seq %" PRIu64 "\n", fpr, k->m.authors[j].seq);
			}
			int rc = nf_ctl(k->d, (const char *const[]){ "sessions", "--json", NULL });
			fprintf(stderr, "its daemon (alive %d) lists %lld entries now; thetactl sessions: %d %s %s\nits log:\n%s\n",
				th_daemon_alive(&k->d->p), (long long)cv_entries(k->d, id), rc, nf_out, nf_err,
				th_daemon_log(&k->d->p));
		}
		assert_int_equal(ks[i]->m.heard, count);
		assert_int_equal(ks[i]->m.gaps, 0);
		assert_int_equal(ks[i]->c.pos_jumps, 0); /* each stream in position order */
		assert_true(cv_client_hash_is(ks[i], (int64_t)count, hash, true));
	}
}

/* ---- theta-client mirrors ---------------------------------------------------------- */

/* A real theta-client per daemon mirrors the scene (a snapshot, then every
 * folded entry) and reports its world hash (SCENE_STATE), which `clients`
 * shows beside the daemon's. Started ones are stopped by the teardown. */
#define CV_MIRRORS 3
static pid_t cv_mirror_pids[CV_MIRRORS];

static pid_t cv_mirror_start(struct nf_daemon *d)
{
	char out[PATH_MAX + 16], err[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/mirror.out", d->p.dir);
	snprintf(err, sizeof(err), "%s/mirror.err", d->p.dir);
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->p.runtime_dir, "--headless", "--renderer", "null",
			       "--require-daemon", "--frames", "100000000", NULL };
	pid_t pid = th_spawn(argv, NULL, out, err);
	assert_true(pid > 0);
	for (int i = 0; i < CV_MIRRORS; i++)
		if (!cv_mirror_pids[i]) {
			cv_mirror_pids[i] = pid;
			break;
		}
	return pid;
}

static void cv_mirrors_stop(void)
{
	for (int i = 0; i < CV_MIRRORS; i++)
		if (cv_mirror_pids[i] > 0) {
			int st;
			kill(cv_mirror_pids[i], SIGTERM);
			if (th_wait_pid(cv_mirror_pids[i], 10000, &st) < 0) {
				kill(cv_mirror_pids[i], SIGKILL);
				th_wait_pid(cv_mirror_pids[i], 10000, &st);
			}
			cv_mirror_pids[i] = 0;
		}
}

static int cv_teardown(void **state)
{
	cv_mirrors_stop();
	return nf_teardown(state);
}

static const char *cv_jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && v ? json_object_get_string(v) : "";
}

/* Whether every client of d that reports a scene stands at `count` with
 * the world hash `hash` (the daemon agreeing: "match"), the mirror and
 * `want` in all among them. */
static bool cv_clients_match(struct nf_daemon *d, pid_t mirror, unsigned want, int64_t count, const char *hash,
			     bool report)
{
	unsigned reporting = 0;
	struct json_object *r, *arr, *v;
	if (cv_call(d, "clients", NULL, &r, NULL, 0) < 0)
		return false;
	bool all = true, seen = false;
	if (!json_object_object_get_ex(r, "clients", &arr))
		all = false;
	for (size_t i = 0; all && i < json_object_array_length(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, i), *scn;
		if (!json_object_object_get_ex(c, "scene", &scn) || !scn)
			continue; /* it does not mirror the scene (the test's own clients) */
		int64_t pid = json_object_object_get_ex(c, "pid", &v) ? json_object_get_int64(v) : 0;
		int64_t at = json_object_object_get_ex(scn, "next_pos", &v) ? json_object_get_int64(v) : -1;
		seen |= pid == mirror;
		reporting++;
		bool ok = at == count && !strcmp(cv_jstr(scn, "hash"), "match") && !strcmp(cv_jstr(scn, "world_hash"), hash);
		if (!ok && report)
			fprintf(stderr, "client pid %lld: scene at %lld, %s, world hash %s (want %lld, %s)\n", (long long)pid,
				(long long)at, cv_jstr(scn, "hash"), cv_jstr(scn, "world_hash"), (long long)count, hash);
		all &= ok;
	}
	if (!seen && report)
		fprintf(stderr, "theta-client pid %d reports no scene to its daemon\n", (int)mirror);
	if (reporting != want && report)
		fprintf(stderr, "%u clients report a scene, want %u\n", reporting, want);
	json_object_put(r);
	return all && seen && reporting == want;
}

/* ---- the test ------------------------------------------------------------------ */

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 10) : def;
}

struct cv_kill {
	struct nf_daemon *a;
	char port[16];
	uint64_t at;     /* edits made when the host dies */
	bool killed, back;
	uint64_t killed_ns, restarted_ns;
};

static bool cv_kill_host(void *ud, uint64_t made)
{
	struct cv_kill *h = ud;
	if (!h->killed && made >= h->at) {
		nf_kill(h->a, SIGKILL);
		h->killed = true;
		h->killed_ns = th_now_ns();
		fprintf(stderr, "host killed with SIGKILL after %" PRIu64 " edits of the phase\n", made);
	} else if (h->killed && !h->back && th_now_ns() - h->killed_ns >= CV_HOST_DOWN_NS) {
		/* B and C edited meanwhile; A comes back on its port */
		h->a->args[1] = h->port;
		int r = th_daemon_respawn(&h->a->p, h->a->args, h->a->env, cv_wait_ms); /* recovery of a long log */
		if (r < 0)
			fprintf(stderr, "the host did not come back: %s; its log:\n%s\n", strerror(-r), th_daemon_log(&h->a->p));
		assert_int_equal(r, 0);
		h->back = true;
		h->restarted_ns = th_now_ns();
	}
	return !h->back;
}

static void three_daemons_and_four_clients_converge(void **state)
{
	uint64_t edits = env_u64("THETA_CONVERGE_EDITS", CV_EDITS_DEFAULT);
	uint64_t late = env_u64("THETA_CONVERGE_LATE_ENTRIES", CV_LATE_ENTRIES_DEFAULT);
	uint64_t seed = env_u64("THETA_CONVERGE_SEED", 1);
	fprintf(stderr, "edits %" PRIu64 ", late join after %" PRIu64 " entries, seed %" PRIu64 "\n", edits, late,
		seed);
	/* Waits grow with the log: a restarted or joining daemon may fold
	 * it all again (a rebuild), on a loaded machine. */
	cv_wait_ms = CV_CONVERGE_MS + (int)(late * CV_WAIT_PER_ENTRY_US / 1000);

	/* The host's own users edit faster than the log's default bucket. */
	static char confdir[80], conf[160];
	assert_int_equal(th_mkdtemp(confdir, sizeof(confdir)), 0);
	snprintf(conf, sizeof(conf), "%s/thetad.conf", confdir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[clog]\nrate_per_s = 1000000\nrate_burst = 10000000\n");
	assert_int_equal(fclose(f), 0);
	static char imp_b[128], imp_c[128];
	snprintf(imp_b, sizeof(imp_b), "%s,seed=%" PRIu64, CV_IMPAIR, seed * 2);
	snprintf(imp_c, sizeof(imp_c), "%s,seed=%" PRIu64, CV_IMPAIR, seed * 2 + 1);

	static struct nf_daemon a, b, c;
	char id[33];
	nf_start(&a, (const char *const[]){ "--config", conf, "--peer-timeout", "1s", NULL }, NULL);
	nf_start(&b, (const char *const[]){ "--impair", imp_b, "--peer-timeout", "1s", NULL }, NULL);
	nf_start(&c, (const char *const[]){ "--impair", imp_c, "--peer-timeout", "1s", NULL }, NULL);
	nf_host(&a, "converge", id);
	nf_invite_join(&a, &b, "converge", "editor");

	static struct cv_client a1, a2, b1, c1;
	cv_client_init(&a1, "a1", &a, seed * 4 + 0, false);
	cv_client_init(&a2, "a2", &a, seed * 4 + 1, false);
	cv_client_init(&b1, "b1", &b, seed * 4 + 2, true);
	cv_client_init(&c1, "c1", &c, seed * 4 + 3, true);
	struct cv_client *ab[] = { &a1, &a2, &b1 }, *all[] = { &a1, &a2, &b1, &c1 };
	struct nf_daemon *two[] = { &a, &b }, *three[] = { &a, &b, &c };
	int64_t count = 0;
	struct cv_scene sc;
	pid_t mirror_a = cv_mirror_start(&a), mirror_b = cv_mirror_start(&b), mirror_c = 0;

	/* 1. Everyone on A and B edits at once. */
	unsigned p1 = (unsigned)(edits * 4 / 10);
	cv_edit(ab, 3, (unsigned[]){ p1 * 3 / 8, p1 * 3 / 8, p1 / 4 }, 0, CV_WINDOW, NULL, NULL);
	assert_true(cv_wait_converged(two, 2, id, th_now_ns(), cv_wait_ms, &count, &sc) >= 0);

	/* 2. B cut off for 5 s; b1 keeps editing offline, a1 and a2 too. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "on", NULL }), 0);
	uint64_t cut = th_now_ns();
	unsigned p2 = (unsigned)(edits / 10);
	cv_edit(ab, 3, (unsigned[]){ p2 / 2, p2 / 2, p2 }, CV_PARTITION_NS * 9 / 10, CV_WINDOW, NULL, NULL);
	while (th_now_ns() - cut < CV_PARTITION_NS)
		cv_listen(ab, 3, 20);
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "off", NULL }), 0);
	uint64_t healed = th_now_ns();
	double heal_s = cv_wait_converged(two, 2, id, healed, cv_wait_ms, &count, &sc);
	assert_true(heal_s >= 0);
	assert_true(nf_metric(&b, "net_rejoin_attempts") >= 1); /* the partition was real */
	th_bench_figure("converge.heal_s", heal_s, "s");
	cv_wait_heard(ab, 3, id, (uint64_t)count, &sc, cv_wait_ms);

	/* 3. The log grows to `late` entries; then C joins late. */
	if ((uint64_t)count < late) {
		/* a2 and b1 keep reading their events meanwhile */
		cv_edit(ab, 3, (unsigned[]){ (unsigned)(late - (uint64_t)count), 0, 0 }, 0, CV_BULK_WINDOW, NULL, NULL);
	}
	uint64_t t_join = th_now_ns();
	nf_invite_join(&a, &c, "converge", "editor");
	mirror_c = cv_mirror_start(&c);
	double join_s = cv_wait_converged(three, 3, id, t_join, cv_wait_ms, &count, &sc);
	assert_true(join_s >= 0);
	th_bench_figure("converge.late_join_s", join_s, "s");
	assert_true((uint64_t)count >= late);
	cv_wait_heard(all, 4, id, (uint64_t)count, &sc, cv_wait_ms);

	/* 4. Everyone edits; the host dies halfway and comes back. */
	unsigned p4 = (unsigned)(edits - p1 - p2 * 2);
	struct cv_kill kill = { .a = &a, .at = p4 / 2 };
	snprintf(kill.port, sizeof(kill.port), "%u", (unsigned)a.port);
	cv_edit(all, 4, (unsigned[]){ p4 / 4, p4 / 4, p4 / 4, p4 / 4 }, 0, CV_WINDOW, cv_kill_host, &kill);
	assert_true(kill.killed && kill.back);

	/* 5. Converged: the same log everywhere, every client heard it all. */
	double back_s = cv_wait_converged(three, 3, id, kill.restarted_ns, cv_wait_ms, &count, &sc);
	assert_true(back_s >= 0);
	th_bench_figure("converge.host_restart_s", back_s, "s");
	struct cv_listing final;
	int listed = cv_list(&a, id, &final);
	if (listed != count) {
		fprintf(stderr, "converged at %lld entries, then A lists %d:\n", (long long)count, listed);
		cv_listing_authors(&final, "A now");
		for (int i = 0; i < 3; i++) {
			struct cv_listing l;
			if (cv_list(three[i], id, &l) >= 0)
				cv_listing_authors(&l, i == 0 ? "A" : i == 1 ? "B" : "C");
			cv_listing_free(&l);
			fprintf(stderr, "its log:\n%s\n", th_daemon_log(&three[i]->p));
		}
	}
	assert_int_equal(listed, count);
	size_t lost = 0;
	for (int i = 0; i < 4; i++)
		lost += cv_acked_missing(all[i], &final);
	cv_listing_free(&final);
	assert_int_equal(lost, 0);
	cv_wait_heard(all, 4, id, (uint64_t)count, &sc, cv_wait_ms);
	/* theta-client on each daemon mirrors that world too (it reconnected to
	 * the restarted host and took a snapshot). */
	pid_t mirrors[] = { mirror_a, mirror_b, mirror_c };
	const unsigned reporting[] = { 3, 2, 2 }; /* the mirror, a1 and a2 / b1 / c1 */
	for (int i = 0; i < 4; i++) { /* the test's clients report their folds (SCENE_STATE) */
		struct cv_client *k = all[i];
		uint8_t h[TH_SCENE_HASH_LEN];
		struct th_scene_stats ss;
		assert_int_equal(th_fold_world_hash(k->fold, h), 0);
		th_scene_stats(th_fold_scene(k->fold), &ss);
		assert_int_equal(nc_scene_state(&k->c, k->c.next_pos, h, (uint32_t)ss.entities), 0);
	}
	uint64_t mend = th_now_ns() + (uint64_t)cv_wait_ms * TH_NS_PER_MS;
	for (int i = 0; i < 3; i++) {
		while (!cv_clients_match(three[i], mirrors[i], reporting[i], count, sc.hash, false) && th_now_ns() < mend)
			cv_listen(all, 4, 50);
		assert_true(cv_clients_match(three[i], mirrors[i], reporting[i], count, sc.hash, true));
	}
	cv_mirrors_stop();
	uint64_t made = 0;
	for (int i = 0; i < 4; i++) {
		struct cv_client *k = all[i];
		cv_down(k);
		made += k->edits;
		fprintf(stderr, "%s: %" PRIu64 " edits, %" PRIu64 " acked, %" PRIu64 " rejected, %" PRIu64
				" connections, heard %" PRIu64 " (+%" PRIu64 " again);",
			k->name, k->edits, k->acks, k->rejects, k->reconnects, k->m.heard, k->m.dups);
		for (int j = 0; j < 8; j++)
			fprintf(stderr, " %s %" PRIu64, cv_kind_name[j], k->made[j]);
		fprintf(stderr, "\n");
	}
	/* The fold refused some patches (they named elements another author
	 * had deleted, or added a face that stood already) and undos stood. */
	struct th_fold_stats fst;
	th_fold_stats(a1.fold, &fst);
	fprintf(stderr, "the world: %" PRIu64 " entries, %" PRIu64 " applied, %" PRIu64 " refused, %" PRIu64
			" excluded by an undo, %" PRIu64 " control\n",
		fst.entries, fst.applied, fst.refused, fst.excluded, fst.control);
	assert_true(fst.refused > 0);
	assert_true(fst.excluded > 0);
	th_bench_figure("converge.entries", (double)count, "entries");
	th_bench_figure("converge.edits", (double)made, "edits");
	/* Every kind of edit was made, undo and redo included. */
	for (int j = 0; j < 8; j++)
		assert_true(a1.made[j] + a2.made[j] + b1.made[j] + c1.made[j] > 0);

	for (int i = 0; i < 4; i++) {
		th_fold_destroy(&all[i]->fold);
		free(all[i]->acked);
	}

	/* Offline: every record valid, every author's chain head equal. */
	char dir_a[PATH_MAX + 64], dir_b[PATH_MAX + 64], dir_c[PATH_MAX + 64];
	snprintf(dir_a, sizeof(dir_a), "%s/sessions/%s/log", a.p.state_dir, id);
	snprintf(dir_b, sizeof(dir_b), "%s/sessions/%s/log", b.p.state_dir, id);
	snprintf(dir_c, sizeof(dir_c), "%s/sessions/%s/log", c.p.state_dir, id);
	nf_kill(&a, SIGTERM);
	nf_kill(&b, SIGTERM);
	nf_kill(&c, SIGTERM);
	assert_int_equal(lf_logs_same(dir_a, dir_b, (uint64_t)count), 0);
	assert_int_equal(lf_logs_same(dir_a, dir_c, (uint64_t)count), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
	th_rm_rf(confdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(three_daemons_and_four_clients_converge, cv_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
