/* theta-client mirrors the scene: a real thetad hosts a session, a test
 * client (tests/lib/net_client.h) makes entities, a mesh, a material,
 * moves, a destroy and one edit the fold refuses; a real theta-client
 * process that connects late gets the scene's snapshot and the entries
 * after it, and reports the world hash the daemon's `scene` command shows
 * (`thetactl clients` says "match"); it follows live edits; after the
 * daemon restarts it is sent a snapshot again and matches again. The
 * refusal reaches the author's client as EVENT REFUSED. Waits poll
 * conditions with generous deadlines; nothing asserts a timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_client.h"
#include "th_harness.h"
#include "th_id.h"
#include "th_logtest.h"
#include "th_scene.h"
#include "th_scenelog.h"
#include "th_time.h"

#define WAIT_MS 60000
#define MAX_CREATED 16

static char out[1 << 20], err[65536];

/* What the test client hears: the ids its creations got, refusals. */
struct heard {
	uint64_t created[MAX_CREATED];
	unsigned n_created;
	unsigned refused, bad_refused;
	struct proto_ipc_refused last;
};

static void on_entry(void *ud, const struct th_logrec_entry *e)
{
	struct heard *h = ud;
	if ((e->type == TH_CMD_ENTITY_CREATE || e->type == TH_CMD_MESH_CREATE) && h->n_created < MAX_CREATED)
		h->created[h->n_created++] = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
}

static void on_other(void *ud, uint32_t kind, const uint8_t *payload, uint32_t len)
{
	struct heard *h = ud;
	if (kind != PROTO_IPC_EVENT_REFUSED)
		return;
	if (proto_ipc_refused_decode(payload, len, &h->last) == 0)
		h->refused++;
	else
		h->bad_refused++;
}

static int teardown(void **state)
{
	(void)state;
	th_daemon_slot_release();
	return 0;
}

/* Sends the payloads of l's entries [from, l->n) as commands (scope from
 * the entry) and waits for every answer. */
static void submit(struct nc_client *c, const struct sh_log *l, size_t from)
{
	uint64_t want = c->acks + c->rejects + (l->n - from);
	for (size_t i = from; i < l->n; i++) {
		const struct th_logrec_entry *e = &l->v[i].e;
		assert_true(nc_submit_raw(c, e->type, e->scope_id, e->payload, e->payload_len) > 0);
	}
	th_ring_flush(&c->out);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (c->acks + c->rejects < want && th_now_ns() < end)
		assert_true(nc_poll(c, 100) >= 0);
	assert_int_equal(c->rejects, 0);
	assert_int_equal(c->acks + c->rejects, want);
}

/* Polls until the heard list has n creations (their events arrived). */
static void wait_created(struct nc_client *c, struct heard *h, unsigned n)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (h->n_created < n && th_now_ns() < end)
		assert_true(nc_poll(c, 100) >= 0);
	assert_int_equal(h->n_created, n);
}

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The daemon's `scene` for the current session: world hash and position. */
static void daemon_scene(struct th_daemon_proc *d, char hash[65], uint64_t *pos)
{
	const char *args[] = { "scene", "--json", NULL };
	assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	const char *h = json_object_get_string(jget(o, "world_hash"));
	assert_non_null(h);
	assert_int_equal(strlen(h), 64);
	memcpy(hash, h, 65);
	*pos = json_object_get_uint64(jget(o, "log_position"));
	json_object_put(o);
}

/* Polls `thetactl clients --json` until theta-client (pid) reports the
 * scene at position `pos` and the daemon says "match"; returns its hash
 * and how many snapshots it was sent. */
static void wait_match(struct th_daemon_proc *d, pid_t pid, uint64_t pos, char hash[65], uint64_t *snapshots)
{
	const char *args[] = { "clients", "--json", NULL };
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	char last[256] = "no report";
	for (;;) {
		assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
		struct json_object *o = json_tokener_parse(out), *list = jget(o, "clients");
		assert_non_null(list);
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *sc = jget(c, "scene");
			if (json_object_get_int64(jget(c, "pid")) != pid || !sc)
				continue;
			const char *verdict = json_object_get_string(jget(sc, "hash"));
			uint64_t at = json_object_get_uint64(jget(sc, "next_pos"));
			snprintf(last, sizeof last, "%s at %llu", verdict, (unsigned long long)at);
			if (at == pos && !strcmp(verdict, "match")) {
				const char *h = json_object_get_string(jget(sc, "world_hash"));
				assert_string_equal(h, json_object_get_string(jget(sc, "daemon_world_hash")));
				memcpy(hash, h, 65);
				*snapshots = json_object_get_uint64(jget(sc, "snapshots"));
				json_object_put(o);
				/* The table says the same. */
				const char *targs[] = { "clients", NULL };
				assert_int_equal(th_ctl(d, targs, out, sizeof out, err, sizeof err), 0);
				char cell[64];
				snprintf(cell, sizeof cell, "match@%llu", (unsigned long long)pos);
				assert_non_null(strstr(out, cell));
				return;
			}
		}
		json_object_put(o);
		if (th_now_ns() >= end)
			fail_msg("theta-client never matched the daemon at position %llu (last: %s)", (unsigned long long)pos,
				 last);
		usleep(50 * 1000);
	}
}

/* Polls until the client of pid `pid` is shown with `verdict` at pos. */
static bool wait_verdict(struct th_daemon_proc *d, pid_t pid, const char *verdict, uint64_t pos)
{
	const char *args[] = { "clients", "--json", NULL };
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
		struct json_object *o = json_tokener_parse(out), *list = jget(o, "clients");
		bool seen = false;
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			struct json_object *c = json_object_array_get_idx(list, i), *sc = jget(c, "scene");
			if (json_object_get_int64(jget(c, "pid")) == pid && sc &&
			    !strcmp(json_object_get_string(jget(sc, "hash")), verdict) &&
			    json_object_get_uint64(jget(sc, "next_pos")) == pos)
				seen = true;
		}
		json_object_put(o);
		if (seen)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* A headless theta-client on the daemon d, its stdout in cout (d->dir/client.out). */
static pid_t spawn_client(struct th_daemon_proc *d, char cout[PATH_MAX])
{
	char cerr[PATH_MAX];
	snprintf(cout, PATH_MAX, "%s/client.out", d->dir);
	snprintf(cerr, sizeof cerr, "%s/client.err", d->dir);
	const char *cargv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--require-daemon",
				"--frames", "100000000", NULL };
	pid_t pid = th_spawn(cargv, NULL, cout, cerr);
	assert_true(pid > 0);
	return pid;
}

/* Stops the client pid with SIGTERM (it exits 0): what it printed to cout (the caller frees it). */
static char *stop_client(pid_t pid, const char *cout)
{
	assert_int_equal(kill(pid, SIGTERM), 0);
	int status;
	assert_int_equal(th_wait_pid(pid, WAIT_MS, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char *text = th_slurp(cout);
	assert_non_null(text);
	return text;
}

static void late_client_mirrors_the_scene_across_a_restart(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);

	struct heard h = { 0 };
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->runtime_dir, WAIT_MS), 0);
	c.on_event = on_entry;
	c.on_other_event = on_other;
	c.ud = &h;

	/* The history: payloads built as any author would (creations do not
	 * depend on the author; the ids they get come back in the events). */
	struct lt_author any;
	lt_author_init(&any, 0x77);
	struct sh_log l;
	sh_init(&l, false);
	struct sh_mesh strip;
	for (int i = 0; i < 3; i++)
		assert_int_equal(sh_entity_create(&l, &any, (const float[3]){ (float)i, 1, 0 }, NULL), 0);
	assert_int_equal(sh_mesh_strip(&l, &any, 4, 0, 1, &strip), 0);
	assert_int_equal(sh_material(&l, &any, 1, "slate", (const float[4]){ 0.3f, 0.3f, 0.35f, 1 }), 0);
	submit(&c, &l, 0);
	wait_created(&c, &h, 4);
	size_t from = l.n;
	assert_int_equal(sh_transform_write(&l, &any, h.created[0], (const float[3]){ 4, 4, 4 }), 0);
	assert_true(sh_add(&l, &any, TH_CMD_ENTITY_DESTROY, TH_SCOPE_ENTITY, h.created[1], NULL, 0, 0) >= 0);
	/* Accepted by the daemon (a valid payload), refused by the fold. */
	assert_int_equal(sh_transform_write(&l, &any, h.created[1] ^ 0x5a5a, (const float[3]){ 1, 1, 1 }), 0);
	submit(&c, &l, from);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (h.refused < 1 && th_now_ns() < end)
		assert_true(nc_poll(&c, 100) >= 0);
	assert_int_equal(h.refused, 1);
	assert_int_equal(h.bad_refused, 0);
	assert_int_equal(h.last.reason, TH_REFUSE_NO_ENTITY);
	assert_true(strlen(h.last.text) > 0);

	/* A theta-client that connects late: a snapshot, then live entries. */
	char cout[PATH_MAX];
	uint64_t t0 = th_now_ns();
	pid_t pid = spawn_client(d, cout);
	char hash[65], want[65];
	uint64_t snaps = 0, pos = 0;
	daemon_scene(d, want, &pos);
	assert_int_equal(pos, l.n);
	wait_match(d, pid, l.n, hash, &snaps);
	assert_string_equal(hash, want);
	assert_int_equal(snaps, 1);
	print_message("late client: position %llu, world hash %s (daemon's scene: the same), %.0f ms from its start to "
		      "the match (printed, not checked)\n",
		      (unsigned long long)l.n, hash, (double)(th_now_ns() - t0) / 1e6);

	/* A client whose world differs, or lags, is shown as such. */
	static const char *const verdicts[2] = { "differs", "behind" };
	for (int k = 0; k < 2; k++) {
		uint8_t zero[PROTO_IPC_SCENE_HASH_LEN] = { 0 };
		struct proto_ipc_scene_state ss = { .next_pos = l.n - (uint64_t)k, .world_hash = zero,
						    .world_hash_len = sizeof zero, .entities = 1 };
		int n = proto_ipc_encode_scene_state(&ss, c.rec, sizeof c.rec);
		assert_true(n > 0);
		assert_int_equal(th_ring_push(&c.out, PROTO_IPC_T_SCENE_STATE, c.rec, (uint32_t)n), 0);
		assert_true(wait_verdict(d, (pid_t)getpid(), verdicts[k], ss.next_pos));
	}

	/* Live edits while it runs. */
	from = l.n;
	assert_int_equal(sh_transform_write(&l, &any, h.created[2], (const float[3]){ -2, 0, 2 }), 0);
	assert_int_equal(sh_entity_create(&l, &any, (const float[3]){ 0, 3, 0 }, NULL), 0);
	submit(&c, &l, from);
	wait_match(d, pid, l.n, hash, &snaps);
	daemon_scene(d, want, &pos);
	assert_string_equal(hash, want);
	assert_int_equal(snaps, 1); /* no second snapshot: entries followed */

	/* The daemon restarts, edits are made before the client is back. */
	nc_close(&c);
	int st;
	assert_int_equal(th_daemon_stop(d, SIGTERM, WAIT_MS, &st), 0);
	assert_int_equal(th_daemon_respawn(d, dargs, NULL, WAIT_MS), 0);
	assert_int_equal(nc_connect(&c, d->runtime_dir, WAIT_MS), 0);
	c.on_event = on_entry;
	c.on_other_event = on_other;
	c.ud = &h;
	from = l.n;
	assert_int_equal(sh_transform_write(&l, &any, h.created[0], (const float[3]){ 8, 0, 8 }), 0);
	submit(&c, &l, from);
	wait_match(d, pid, l.n, hash, &snaps);
	daemon_scene(d, want, &pos);
	assert_int_equal(pos, l.n);
	assert_string_equal(hash, want);
	assert_true(snaps >= 1); /* counted per connection: the new one got its snapshot */
	print_message("after the restart: position %llu, world hash %s\n", (unsigned long long)l.n, hash);

	/* The daemon switches to a new session: its (empty) scene is sent, then
	 * back: the first one's again. */
	const char *host[] = { "session", "host", "--name", "studio", NULL };
	assert_int_equal(th_ctl(d, host, out, sizeof out, err, sizeof err), 0);
	char empty[65];
	wait_match(d, pid, 0, empty, &snaps);
	assert_string_not_equal(empty, want);
	const char *leave[] = { "session", "leave", NULL };
	assert_int_equal(th_ctl(d, leave, out, sizeof out, err, sizeof err), 0);
	wait_match(d, pid, l.n, hash, &snaps);
	assert_string_equal(hash, want);
	assert_int_equal(snaps, 3); /* this connection: its first, studio's, this one's again */

	/* Stopped, it prints the world it ended with. */
	char *text = stop_client(pid, cout);
	char line[128];
	snprintf(line, sizeof line, "scene position %llu, world hash %s", (unsigned long long)l.n, want);
	if (!strstr(text, line))
		fail_msg("theta-client's summary lacks '%s':\n%s", line, text);
	assert_non_null(strstr(text, " 4 snapshots (")); /* one per connection, two for the switches */
	free(text);
	nc_close(&c);
	sh_fini(&l);
}

/* A mesh.create of MESH_VERTS free vertices at random positions (bytes
 * zstd cannot shrink much): payload into buf, its length. */
#define MESH_VERTS 2000u
#define BIG_MESHES 48u
#define BIG_BATCH 4u
static int random_mesh(uint64_t *rng, uint8_t *buf, size_t cap)
{
	static struct th_pl_mesh_create m;
	memset(&m, 0, sizeof m);
	static const float ident[10] = { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(m.transform, ident, sizeof ident);
	for (unsigned i = 0; i < MESH_VERTS; i++) {
		m.ops[i].op = TH_PL_MESH_OP_VERTEX_ADD;
		for (int k = 0; k < 3; k++) {
			*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
			m.ops[i].position[k] = (float)(*rng >> 40) / (float)(1u << 20);
		}
	}
	m.ops_count = MESH_VERTS;
	return th_cmd_payload_encode(TH_CMD_MESH_CREATE, &m, buf, cap);
}

static void a_snapshot_larger_than_the_ring_reaches_a_late_client(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	const char *dargs[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, dargs), 0);
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->runtime_dir, WAIT_MS), 0);
	static uint8_t pl[PROTO_IPC_MAX_PAYLOAD];
	uint64_t rng = 42;
	for (unsigned i = 0; i < BIG_MESHES; i += BIG_BATCH) {
		for (unsigned k = 0; k < BIG_BATCH; k++) {
			int n = random_mesh(&rng, pl, sizeof pl);
			assert_true(n > 0);
			assert_true(nc_submit_raw(&c, TH_CMD_MESH_CREATE, 0, pl, (uint32_t)n) > 0);
		}
		th_ring_flush(&c.out);
		uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
		while (c.acks + c.rejects < i + BIG_BATCH && th_now_ns() < end)
			assert_true(nc_poll(&c, 100) >= 0);
		assert_int_equal(c.rejects, 0);
		assert_int_equal(c.acks, i + BIG_BATCH);
	}
	char cout[PATH_MAX];
	uint64_t t0 = th_now_ns();
	pid_t pid = spawn_client(d, cout);
	char hash[65], want[65];
	uint64_t snaps = 0, pos = 0;
	wait_match(d, pid, BIG_MESHES, hash, &snaps);
	double ms = (double)(th_now_ns() - t0) / 1e6;
	daemon_scene(d, want, &pos);
	assert_string_equal(hash, want);
	assert_int_equal(snaps, 1);
	char *text = stop_client(pid, cout);
	const char *p = strstr(text, " snapshots (");
	assert_non_null(p);
	unsigned long long bytes = strtoull(p + strlen(" snapshots ("), NULL, 10);
	/* Larger than the daemon->client ring (256 KiB): sent as it drained. */
	assert_true(bytes > 4ull * 256 * 1024);
	print_message("late client: a %.1f MiB snapshot (%u meshes of %u vertices) in %.0f ms from its start to the "
		      "match (printed, not checked)\n",
		      (double)bytes / (1 << 20), BIG_MESHES, MESH_VERTS, ms);
	free(text);
	nc_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(late_client_mirrors_the_scene_across_a_restart, teardown),
		cmocka_unit_test_teardown(a_snapshot_larger_than_the_ring_reaches_a_late_client, teardown),
	};
	return cmocka_run_group_tests_name("client_scene", tests, NULL, NULL);
}
