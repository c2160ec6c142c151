/* The scene mirror (app/scene.h): a snapshot in chunks and the log entries
 * after it, fed as the link delivers them, rebuild the daemon's world in
 * the ECS (entities, their components, despawn on destroy) with the same
 * world hash as the daemon's fold; own edits show at once and are
 * reconciled (acked, rejected); entries the fold cannot take, and
 * snapshots out of order, make it ask for a fresh snapshot. The "daemon"
 * here is a real th_fold over real chained entries (tests/lib/th_scenelog). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/scene.h"
#include "ipc.h"
#include "sim/world.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_fold.h"
#include "th_gfxscene.h"
#include "th_hash.h"
#include "th_logrec.h"
#include "th_logtest.h"
#include "th_scenelog.h"
#include "th_schema.h"

#define SESSION_TAG 0x5e55101dull
#define SMALL_CHUNK 97u /* bytes per chunk: many chunks even for a small scene */

struct io_seen {
	unsigned resyncs, reports;
	uint64_t pos;
	uint8_t hash[TH_SCENE_HASH_LEN];
	uint32_t entities;
	uint64_t next_seq;
};

static void io_resync(void *ud)
{
	((struct io_seen *)ud)->resyncs++;
}

static int io_report(void *ud, uint64_t next_pos, const uint8_t hash[TH_SCENE_HASH_LEN], uint32_t entities)
{
	struct io_seen *s = ud;
	s->reports++;
	s->pos = next_pos;
	memcpy(s->hash, hash, TH_SCENE_HASH_LEN);
	s->entities = entities;
	return 0;
}

static uint64_t io_next_seq(void *ud)
{
	return ((struct io_seen *)ud)->next_seq;
}

struct fx {
	struct lt_author host, alice, me, late;
	struct sh_log log;
	struct th_fold *daemon; /* the daemon's fold of log[0, folded) */
	size_t folded;
	struct sim_world *w;
	struct app_scene *m;
	struct io_seen io;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	lt_author_init(&f->host, 0x11);
	lt_author_init(&f->alice, 0x22);
	lt_author_init(&f->me, 0x33);
	lt_author_init(&f->late, 0x44);
	sh_init(&f->log, false);
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, f->host.kp.pk, sizeof c.host_key);
	assert_int_equal(th_fold_create(&c, &f->daemon), 0);
	assert_int_equal(sim_world_create(NULL, &f->w), 0);
	struct app_scene_io io = { .resync = io_resync, .report = io_report, .next_seq = io_next_seq, .ud = &f->io };
	assert_int_equal(app_scene_create(f->w, &io, &f->m), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	app_scene_destroy(&f->m);
	sim_world_destroy(&f->w);
	th_fold_destroy(&f->daemon);
	sh_fini(&f->log);
	free(f);
	return 0;
}

/* The daemon folds what the log has so far. */
static void daemon_fold(struct fx *f)
{
	for (; f->folded < f->log.n; f->folded++)
		assert_true(th_fold_add(f->daemon, &f->log.v[f->folded].e, f->folded) >= 0);
}

/* The daemon's answer with the SCENE flag and its snapshot in chunks of
 * `chunk` bytes. */
static void send_snapshot(struct fx *f, uint32_t chunk)
{
	daemon_fold(f);
	assert_int_equal(gs_send_snapshot(f->m, f->daemon, SESSION_TAG, f->folded, f->host.kp.pk, chunk, 1), 0);
}

/* Log entries [from, log.n) as the link delivers them, then the daemon folds them too. */
static void send_events(struct fx *f, size_t from)
{
	static uint8_t enc[TH_LOGREC_BODY_MAX + TH_LOGREC_SIG_LEN];
	for (size_t i = from; i < f->log.n; i++) {
		int n = th_logrec_encode(&f->log.v[i].e, enc, sizeof enc);
		assert_true(n > 0);
		struct proto_ipc_event ev = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = i, .lamport = f->log.v[i].e.lamport,
					      .author = f->log.v[i].e.author, .author_len = 32, .payload = enc,
					      .payload_len = (uint32_t)n };
		app_scene_on_event(f->m, &ev, 2);
	}
	daemon_fold(f);
}

static void assert_same_world(struct fx *f)
{
	uint8_t a[TH_SCENE_HASH_LEN], b[TH_SCENE_HASH_LEN];
	assert_int_equal(th_fold_world_hash(f->daemon, a), 0);
	assert_int_equal(app_scene_world_hash(f->m, b), 0);
	assert_memory_equal(a, b, sizeof a);
	assert_int_equal(app_scene_next_pos(f->m), f->folded);
}

static void ecs_position(struct fx *f, uint64_t id, float out[3])
{
	sim_entity e = app_scene_entity(f->m, id);
	assert_true(sim_alive(f->w, e));
	struct th_c_transform t;
	assert_int_equal(sim_get(f->w, e, TH_COMP_TRANSFORM, &t), 0);
	memcpy(out, t.position, sizeof t.position);
}

static void snapshot_then_entries_rebuild_the_world_in_the_ecs(void **state)
{
	struct fx *f = *state;
	uint64_t e1, e3;
	struct sh_mesh strip;
	const float p1[3] = { 1, 2, 3 }, p3[3] = { -1, 0, 4 };
	assert_int_equal(sh_entity_create(&f->log, &f->alice, p1, &e1), 0);
	assert_int_equal(sh_mesh_strip(&f->log, &f->alice, 3, 0.5f, 0, &strip), 0);
	assert_int_equal(sh_material(&f->log, &f->alice, 2, "clay", (const float[4]){ 0.8f, 0.4f, 0.2f, 1 }), 0);

	send_snapshot(f, SMALL_CHUNK);
	assert_true(app_scene_ready(f->m));
	assert_int_equal(app_scene_stats(f->m)->snapshots, 1);
	assert_int_equal(app_scene_sync(f->m, 10, false), 0);
	assert_same_world(f);
	/* Two entities: the plain one and the strip's, with their components. */
	assert_int_equal(app_scene_entities(f->m), 2);
	float got[3];
	ecs_position(f, e1, got);
	assert_memory_equal(got, p1, sizeof got);
	sim_entity es = app_scene_entity(f->m, strip.entity);
	struct th_c_mesh_ref mr;
	assert_int_equal(sim_get(f->w, es, TH_COMP_MESH_REF, &mr), 0);
	assert_int_equal(mr.mesh, strip.mesh);
	assert_false(sim_has(f->w, app_scene_entity(f->m, e1), TH_COMP_MESH_REF));
	uint64_t sid = 0;
	assert_int_equal(sim_get(f->w, es, (unsigned)sim_component_find(f->w, th_siphash_str(APP_SCENE_COMPONENT)), &sid),
			 0);
	assert_int_equal(sid, strip.entity);
	/* The mesh store is the scene's: 8 vertices, 3 faces. */
	const struct th_mesh *mesh = app_scene_mesh(f->m, strip.mesh);
	assert_non_null(mesh);
	assert_int_equal(mesh->live_verts, 8);
	assert_int_equal(mesh->live_faces, 3);
	assert_string_equal(app_scene_material(f->m, 2)->name, "clay");
	assert_null(app_scene_mesh(f->m, strip.mesh + 1));
	/* The first sync reports: position, hash, entities. */
	assert_int_equal(f->io.reports, 1);
	assert_int_equal(f->io.pos, f->folded);
	assert_int_equal(f->io.entities, 2);

	/* Entries after the snapshot: a move, a new entity, a destroy. */
	size_t from = f->log.n;
	const float p1b[3] = { 7, 7, 7 };
	assert_int_equal(sh_transform_write(&f->log, &f->alice, e1, p1b), 0);
	assert_int_equal(sh_entity_create(&f->log, &f->alice, p3, &e3), 0);
	assert_true(sh_add(&f->log, &f->alice, TH_CMD_ENTITY_DESTROY, TH_SCOPE_ENTITY, strip.entity, NULL, 0, 0) >= 0);
	send_events(f, from);
	assert_int_equal(app_scene_stats(f->m)->entries, 3);
	assert_int_equal(app_scene_sync(f->m, 20, false), 0);
	assert_same_world(f);
	ecs_position(f, e1, got);
	assert_memory_equal(got, p1b, sizeof got);
	ecs_position(f, e3, got);
	assert_memory_equal(got, p3, sizeof got);
	/* Destroyed in the scene: gone from the ECS (its mesh stays, for undo). */
	assert_false(sim_alive(f->w, es));
	assert_int_equal(app_scene_entity(f->m, strip.entity), SIM_ENTITY_NULL);
	assert_int_equal(app_scene_entities(f->m), 2);
	assert_int_equal(app_scene_stats(f->m)->despawned, 1);
	/* Within 100 ms of the last report nothing is sent; forced, it is. */
	assert_int_equal(f->io.reports, 1);
	assert_int_equal(app_scene_sync(f->m, 20, true), 0);
	assert_int_equal(f->io.reports, 2);
	assert_int_equal(f->io.pos, f->folded);
	uint8_t h[TH_SCENE_HASH_LEN];
	assert_int_equal(th_fold_world_hash(f->daemon, h), 0);
	assert_memory_equal(f->io.hash, h, sizeof h);
	/* An entry delivered again changes nothing. */
	send_events(f, from);
	assert_int_equal(app_scene_stats(f->m)->duplicates, 3);
	assert_int_equal(f->io.resyncs, 0);
}

static void own_edits_show_at_once_and_are_reconciled(void **state)
{
	struct fx *f = *state;
	uint64_t e1;
	const float p1[3] = { 1, 1, 1 };
	assert_int_equal(sh_entity_create(&f->log, &f->alice, p1, &e1), 0);
	send_snapshot(f, PROTO_IPC_SCENE_CHUNK_MAX);
	assert_int_equal(app_scene_sync(f->m, 10, false), 0);

	/* My edit: its entry exists only as the one the daemon will log. */
	const float mine[3] = { 5, 5, 5 };
	size_t at = f->log.n;
	f->log.lamport_next = 10;
	assert_int_equal(sh_transform_write(&f->log, &f->me, e1, mine), 0);
	const struct th_logrec_entry *real = &f->log.v[at].e;
	struct app_command cmd = { .type = real->type, .scope = e1, .len = real->payload_len, .payload = real->payload };
	assert_int_equal(app_scene_tentative(f->m, 1, &cmd), 0);
	assert_int_equal(app_scene_sync(f->m, 11, false), 0);
	float got[3];
	ecs_position(f, e1, got);
	assert_memory_equal(got, mine, sizeof got); /* shown at once */
	assert_int_equal(app_scene_tentatives(f->m), 1);
	uint8_t h[TH_SCENE_HASH_LEN], before[TH_SCENE_HASH_LEN];
	assert_int_equal(th_fold_world_hash(f->daemon, before), 0);
	assert_int_equal(app_scene_world_hash(f->m, h), 0);
	assert_memory_equal(h, before, sizeof h); /* the hash leaves tentatives out */

	/* A remote edit of the same entity, earlier in the total order, folds
	 * under it: mine stays on top. */
	size_t from = f->log.n;
	const float theirs[3] = { 2, 2, 2 };
	f->log.lamport_next = 5;
	assert_int_equal(sh_transform_write(&f->log, &f->alice, e1, theirs), 0);
	/* (the remote entry is delivered first; mine is later in the log) */
	struct sh_entry tmp = f->log.v[at];
	f->log.v[at] = f->log.v[from];
	f->log.v[from] = tmp;
	send_events(f, at);
	assert_int_equal(app_scene_sync(f->m, 12, false), 0);
	ecs_position(f, e1, got);
	assert_memory_equal(got, mine, sizeof got);
	assert_int_equal(app_scene_tentatives(f->m), 1);
	/* The ack names my entry; the event for it came already: dropped. */
	struct proto_ipc_cmd_ack ack = { .client_seq = 1, .lamport = f->log.v[from].e.lamport,
					 .log_index = f->log.v[from].e.seq };
	app_scene_on_answer(f->m, &ack, NULL);
	assert_int_equal(app_scene_tentatives(f->m), 0);
	assert_int_equal(app_scene_sync(f->m, 13, false), 0);
	ecs_position(f, e1, got);
	assert_memory_equal(got, mine, sizeof got); /* the log agrees: mine is newer */
	assert_same_world(f);

	/* Ack first, event after: dropped when the event comes. */
	const float again[3] = { 6, 0, 6 };
	from = f->log.n;
	assert_int_equal(sh_transform_write(&f->log, &f->me, e1, again), 0);
	const struct th_logrec_entry *r2 = &f->log.v[from].e;
	cmd = (struct app_command){ .type = r2->type, .scope = e1, .len = r2->payload_len, .payload = r2->payload };
	assert_int_equal(app_scene_tentative(f->m, 2, &cmd), 0);
	ack = (struct proto_ipc_cmd_ack){ .client_seq = 2, .lamport = r2->lamport, .log_index = r2->seq };
	app_scene_on_answer(f->m, &ack, NULL);
	assert_int_equal(app_scene_tentatives(f->m), 1);
	send_events(f, from);
	assert_int_equal(app_scene_tentatives(f->m), 0);
	assert_int_equal(app_scene_sync(f->m, 14, false), 0);
	ecs_position(f, e1, got);
	assert_memory_equal(got, again, sizeof got);
	assert_same_world(f);

	/* Rejected by the daemon: the world goes back. */
	struct sh_log scratch;
	sh_init(&scratch, false);
	struct lt_author me2 = f->me;
	const float no[3] = { 9, 9, 9 };
	assert_int_equal(sh_transform_write(&scratch, &me2, e1, no), 0);
	cmd = (struct app_command){ .type = scratch.v[0].e.type, .scope = e1, .len = scratch.v[0].e.payload_len,
				    .payload = scratch.v[0].e.payload };
	assert_int_equal(app_scene_tentative(f->m, 3, &cmd), 0);
	assert_int_equal(app_scene_sync(f->m, 15, false), 0);
	ecs_position(f, e1, got);
	assert_memory_equal(got, no, sizeof got);
	struct proto_ipc_cmd_reject rej = { .client_seq = 3, .reason = PROTO_IPC_REJECT_DENIED };
	app_scene_on_answer(f->m, NULL, &rej);
	assert_int_equal(app_scene_tentatives(f->m), 0);
	assert_int_equal(app_scene_sync(f->m, 16, false), 0);
	ecs_position(f, e1, got);
	assert_memory_equal(got, again, sizeof got);
	sh_fini(&scratch);

	/* An edit the scene refuses is not shown. */
	cmd = (struct app_command){ .type = TH_CMD_ENTITY_DESTROY, .scope = e1 + 1 };
	assert_int_equal(app_scene_tentative(f->m, 4, &cmd), -EINVAL);
	assert_int_equal(app_scene_tentatives(f->m), 0);
	assert_int_equal(app_scene_stats(f->m)->tentative_refused, 1);
}

static void tentative_through_the_transport_shows_in_the_same_frame(void **state)
{
	struct fx *f = *state;
	uint64_t e1;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 0, 0, 0 }, &e1), 0);
	send_snapshot(f, PROTO_IPC_SCENE_CHUNK_MAX);
	struct app_transport *null, *t;
	assert_int_equal(app_null_transport_create(&null), 0);
	assert_int_equal(app_scene_transport(f->m, null, &t), 0);
	assert_int_equal(app_transport_drain(t, f->w, 1), 0);
	assert_true(sim_alive(f->w, app_scene_entity(f->m, e1)));
	size_t at = f->log.n;
	const float to[3] = { 3, 2, 1 };
	assert_int_equal(sh_transform_write(&f->log, &f->me, e1, to), 0);
	struct app_command cmd = { .type = f->log.v[at].e.type, .scope = e1, .len = f->log.v[at].e.payload_len,
				   .payload = f->log.v[at].e.payload };
	f->io.next_seq = 41;
	struct app_outgoing o = { .frame = 1, .ncommands = 1, .commands = &cmd };
	assert_int_equal(app_transport_publish(t, &o, 2), 0);
	/* No drain in between: publish itself put it in the ECS. */
	float got[3];
	ecs_position(f, e1, got);
	assert_memory_equal(got, to, sizeof got);
	/* Its token is the client sequence number the link gave it. */
	struct proto_ipc_cmd_reject rej = { .client_seq = 41, .reason = PROTO_IPC_REJECT_INVALID };
	app_scene_on_answer(f->m, NULL, &rej);
	assert_int_equal(app_scene_tentatives(f->m), 0);
	app_transport_destroy(&t);
}

static void entries_below_the_window_ask_for_a_fresh_snapshot(void **state)
{
	struct fx *f = *state;
	uint64_t e1, first = 0;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ (float)i, 0, 0 }, &e1), 0);
		first = first ? first : e1;
	}
	send_snapshot(f, SMALL_CHUNK);
	assert_int_equal(app_scene_sync(f->m, 1, false), 0);
	/* A late author's entry that sorts below everything the snapshot holds
	 * (a partitioned member's offline edit): the mirror cannot roll back
	 * past its snapshot. */
	size_t from = f->log.n;
	assert_true(sh_add(&f->log, &f->late, TH_CMD_ENTITY_DESTROY, TH_SCOPE_ENTITY, first, NULL, 0, 1) >= 0);
	send_events(f, from);
	assert_int_equal(app_scene_stats(f->m)->out_of_window, 1);
	assert_int_equal(f->io.resyncs, 1);
	/* Until the fresh snapshot, events are not folded. */
	size_t from2 = f->log.n;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 9, 9, 9 }, &e1), 0);
	send_events(f, from2);
	assert_int_equal(app_scene_stats(f->m)->stale, 1);
	/* The daemon (which rebuilds from its log) answers with a new one. */
	send_snapshot(f, SMALL_CHUNK);
	assert_int_equal(app_scene_stats(f->m)->snapshots, 2);
	assert_int_equal(app_scene_sync(f->m, 2, false), 0);
	assert_same_world(f);
	assert_int_equal(app_scene_entities(f->m), 5); /* 6 created, the first destroyed */
	assert_int_equal(app_scene_entity(f->m, first), SIM_ENTITY_NULL);
}

static void events_after_an_answer_without_a_snapshot_continue_only_from_the_fold(void **state)
{
	struct fx *f = *state;
	uint64_t e1;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 1, 0, 0 }, &e1), 0);
	send_snapshot(f, SMALL_CHUNK);
	/* Reconnected to a daemon that answers from the fold's own position:
	 * the entries after it are folded. */
	struct proto_ipc_resync_request a = { .reason = PROTO_IPC_RESYNC_FROM, .session = SESSION_TAG,
					      .next_pos = f->folded };
	app_scene_on_resync(f->m, &a);
	size_t from = f->log.n;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 2, 0, 0 }, &e1), 0);
	send_events(f, from);
	assert_int_equal(app_scene_stats(f->m)->entries, 1);
	assert_int_equal(app_scene_sync(f->m, 1, false), 0);
	assert_same_world(f);
	/* From a later position (entries in between would be missing), or of
	 * another session: nothing is folded until a snapshot comes. */
	a.next_pos = f->folded + 1;
	app_scene_on_resync(f->m, &a);
	from = f->log.n;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 3, 0, 0 }, &e1), 0);
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 4, 0, 0 }, &e1), 0);
	send_events(f, from + 1);
	assert_int_equal(app_scene_stats(f->m)->entries, 1);
	assert_int_equal(app_scene_stats(f->m)->stale, 1);
	send_snapshot(f, SMALL_CHUNK);
	assert_int_equal(app_scene_sync(f->m, 2, false), 0);
	assert_same_world(f);
	assert_int_equal(app_scene_entities(f->m), 4);
}

static void snapshots_out_of_order_are_refused(void **state)
{
	struct fx *f = *state;
	uint64_t e1;
	assert_int_equal(sh_entity_create(&f->log, &f->alice, (const float[3]){ 1, 0, 0 }, &e1), 0);
	daemon_fold(f);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_fold_snapshot(f->daemon, &w), 0);
	assert_true(w.len > 2 * SMALL_CHUNK);
	/* A chunk before any answer. */
	struct proto_ipc_scene_chunk c = { .session = SESSION_TAG, .next_pos = 1, .total = (uint32_t)w.len,
					   .offset = 0, .host = f->host.kp.pk, .host_len = 32, .bytes = w.data,
					   .bytes_len = SMALL_CHUNK };
	app_scene_on_chunk(f->m, &c, APP_SCENE_RESYNC_MIN_NS);
	assert_int_equal(app_scene_stats(f->m)->bad_snapshots, 1);
	/* A gap after the first chunk: asked again. */
	struct proto_ipc_resync_request a = { .reason = PROTO_IPC_RESYNC_FROM, .session = SESSION_TAG, .next_pos = 1,
					      .flags = PROTO_IPC_RESYNC_F_SCENE };
	app_scene_on_resync(f->m, &a);
	app_scene_on_chunk(f->m, &c, 1);
	c.offset = 2 * SMALL_CHUNK;
	c.bytes = w.data + c.offset;
	app_scene_on_chunk(f->m, &c, 1);
	assert_int_equal(app_scene_stats(f->m)->bad_snapshots, 2);
	unsigned asked = f->io.resyncs;
	assert_true(asked >= 1);
	/* Damaged bytes: the fold refuses them, the mirror asks again. */
	w.data[w.len / 2] ^= 0x5a;
	app_scene_on_resync(f->m, &a);
	for (size_t off = 0; off < w.len; off += SMALL_CHUNK) {
		c.offset = (uint32_t)off;
		c.bytes = w.data + off;
		c.bytes_len = w.len - off < SMALL_CHUNK ? (uint32_t)(w.len - off) : SMALL_CHUNK;
		app_scene_on_chunk(f->m, &c, 1);
	}
	assert_false(app_scene_ready(f->m));
	assert_int_equal(f->io.resyncs, asked + 1);
	assert_int_equal(app_scene_stats(f->m)->bad_snapshots, 3);
	th_wbuf_fini(&w);
}

static void refusals_are_counted(void **state)
{
	struct fx *f = *state;
	struct proto_ipc_refused rf = { .seq = 3, .lamport = 8, .reason = TH_REFUSE_NO_ENTITY };
	snprintf(rf.text, sizeof rf.text, "scope: no entity has this id");
	uint8_t buf[PROTO_IPC_REFUSED_SIZE_MAX];
	int n = proto_ipc_refused_encode(&rf, buf, sizeof buf);
	assert_true(n > 0);
	struct proto_ipc_event ev = { .kind = PROTO_IPC_EVENT_REFUSED, .lamport = 8, .author = f->me.kp.pk,
				      .author_len = 32, .payload = buf, .payload_len = (uint32_t)n };
	app_scene_on_event(f->m, &ev, 1);
	assert_int_equal(app_scene_stats(f->m)->refused, 1);
	ev.payload_len = 3; /* malformed: ignored, not counted */
	app_scene_on_event(f->m, &ev, 1);
	assert_int_equal(app_scene_stats(f->m)->refused, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(snapshot_then_entries_rebuild_the_world_in_the_ecs, setup, teardown),
		cmocka_unit_test_setup_teardown(own_edits_show_at_once_and_are_reconciled, setup, teardown),
		cmocka_unit_test_setup_teardown(tentative_through_the_transport_shows_in_the_same_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(entries_below_the_window_ask_for_a_fresh_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(events_after_an_answer_without_a_snapshot_continue_only_from_the_fold, setup,
						teardown),
		cmocka_unit_test_setup_teardown(snapshots_out_of_order_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals_are_counted, setup, teardown),
	};
	return cmocka_run_group_tests_name("scene_mirror", tests, NULL, NULL);
}
