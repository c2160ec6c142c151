/* Scene snapshots to local clients, refusals to their authors, and the
 * clients' reported world hashes (client_scene.h; docs/ipc.md, "Scene
 * snapshots"). Runs on the loop: a snapshot is encoded once when the
 * client asks (th_fold_snapshot: the session's scene, compressed) and sent
 * in chunks while the client's ring has room, from the replay pass. */
#include "sess/client_scene.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "id/id.h"
#include "ipc/server.h"
#include "sess/module_int.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_log.h"

enum cscene_phase {
	CSCENE_IDLE,    /* events flow as usual */
	CSCENE_WAIT,    /* a snapshot is wanted; the session's fold is not ready */
	CSCENE_SENDING, /* the answer went out; chunks follow as the ring drains */
};

struct sess_cscene {
	bool wants;     /* its last request had the SCENE flag */
	enum cscene_phase phase;
	uint32_t reason; /* of the answer: RESYNC_FROM or RESYNC_SESSION */
	struct th_wbuf snap;
	size_t off;      /* bytes of snap sent */
	uint64_t pos;    /* the position the snapshot covers */
	uint64_t snapshots; /* sent in full to this client */
	/* The client's last SCENE_STATE. */
	bool have_state;
	uint64_t st_pos;
	uint8_t st_hash[PROTO_IPC_SCENE_HASH_LEN];
	uint32_t st_entities;
};

static struct sess_cscene *cscene_of(struct sess_client *c)
{
	if (!c->scene) {
		c->scene = calloc(1, sizeof *c->scene);
		if (c->scene)
			th_wbuf_init(&c->scene->snap, SESS_CSCENE_SNAPSHOT_MAX);
	}
	return c->scene;
}

void sess_cscene_free(struct sess_client *c)
{
	if (!c->scene)
		return;
	th_wbuf_fini(&c->scene->snap);
	free(c->scene);
	c->scene = NULL;
}

bool sess_cscene_busy(const struct sess_client *c)
{
	return c->scene && c->scene->phase != CSCENE_IDLE;
}

/* c wants a snapshot (answer reason `reason`) as soon as its session's
 * fold is ready; its events wait until the snapshot is out. */
static bool cscene_start(struct sess_module *m, struct sess_client *c, uint32_t reason)
{
	struct sess_cscene *cs = cscene_of(c);
	if (!cs)
		return false; /* no memory: answered the old way (events from its position) */
	sess_replay_stop(c);
	th_wbuf_reset(&cs->snap);
	cs->wants = true;
	cs->phase = CSCENE_WAIT;
	cs->reason = reason;
	cs->off = 0;
	c->stalled = false;
	sess_replay_arm(m, 0);
	return true;
}

bool sess_cscene_resync(struct sess_module *m, struct sess_client *c, const struct proto_ipc_resync_request *rq)
{
	if (!(rq->flags & PROTO_IPC_RESYNC_F_SCENE)) {
		if (c->scene) {
			c->scene->wants = false;
			c->scene->phase = CSCENE_IDLE;
		}
		return false;
	}
	uint32_t reason = rq->session && c->s && rq->session != sess_tag(c->s) ? PROTO_IPC_RESYNC_SESSION
									       : PROTO_IPC_RESYNC_FROM;
	return cscene_start(m, c, reason);
}

bool sess_cscene_switch(struct sess_module *m, struct sess_client *c)
{
	if (!c->scene || !c->scene->wants)
		return false;
	return cscene_start(m, c, PROTO_IPC_RESYNC_SESSION);
}

unsigned sess_cscene_resync_session(struct sess_module *m, struct sess_session *s)
{
	unsigned n = 0;
	for (struct sess_client *c = m->clients; c; c = c->next)
		if (c->s == s && c->scene && c->scene->wants && cscene_start(m, c, PROTO_IPC_RESYNC_FROM))
			n++;
	return n;
}

/* Encodes the snapshot and sends the answer: 0 (sending), -EAGAIN (the
 * fold is not ready: later), another negative errno (no snapshot for this
 * client until it asks again). */
static int cscene_take(struct sess_module *m, struct sess_client *c)
{
	struct sess_cscene *cs = c->scene;
	struct sess_session *s = c->s;
	if (!s || !s->log || !sess_scene_fold(s))
		return -EAGAIN;
	size_t held = 0;
	for (struct sess_client *o = m->clients; o; o = o->next)
		if (o->scene && o->scene->phase == CSCENE_SENDING)
			held += o->scene->snap.len;
	if (held >= SESS_CSCENE_HELD_MAX)
		return -EAGAIN;
	uint64_t pos = 0;
	th_wbuf_reset(&cs->snap);
	int r = sess_scene_snapshot(s, &cs->snap, &pos);
	if (r == 0 && th_wbuf_error(&cs->snap) < 0)
		r = th_wbuf_error(&cs->snap);
	if (r == 0 && cs->snap.len > PROTO_IPC_SCENE_SNAPSHOT_MAX)
		r = -EMSGSIZE;
	if (r < 0) {
		th_warn("session %s: cannot make a scene snapshot for client %" PRIu64 ": %s; it gets no events until it "
			"asks again",
			s->id, c->id, th_strerror(r));
		th_wbuf_fini(&cs->snap);
		th_wbuf_init(&cs->snap, SESS_CSCENE_SNAPSHOT_MAX);
		cs->phase = CSCENE_IDLE;
		c->stalled = true;
		return r;
	}
	struct proto_ipc_resync_request a = { .reason = cs->reason, .session = sess_tag(s), .next_pos = pos,
					      .flags = PROTO_IPC_RESYNC_F_SCENE };
	if ((r = ipc_server_send(m->ipc, c->id, PROTO_IPC_T_RESYNC_REQUEST, &a)) < 0) {
		cs->phase = CSCENE_IDLE; /* the client is gone */
		return r;
	}
	cs->pos = pos;
	cs->off = 0;
	cs->phase = CSCENE_SENDING;
	c->next_pos = pos;
	return 0;
}

/* The session's host key: the fold's admin throughout (th_fold_config). */
static const uint8_t *cscene_host_key(struct sess_module *m, const struct sess_session *s)
{
	return s->role == SESS_ROLE_HOST ? m->host->pk : s->link.host_key;
}

/* Chunks to c while its ring has room: 1 at the per-pass limit, 0 when the
 * snapshot is out (its events follow from the snapshot's position), -EAGAIN
 * when the ring is full. */
static int cscene_send_some(struct sess_module *m, struct sess_client *c)
{
	struct sess_cscene *cs = c->scene;
	for (unsigned n = 0; n < SESS_CSCENE_CHUNKS_PER_PASS; n++) {
		size_t left = cs->snap.len - cs->off;
		uint32_t len = left > PROTO_IPC_SCENE_CHUNK_MAX ? PROTO_IPC_SCENE_CHUNK_MAX : (uint32_t)left;
		struct proto_ipc_scene_chunk ch = {
			.session = sess_tag(c->s), .next_pos = cs->pos, .total = (uint32_t)cs->snap.len,
			.offset = (uint32_t)cs->off, .host = cscene_host_key(m, c->s), .host_len = PROTO_IPC_KEY_LEN,
			.bytes = cs->snap.data + cs->off, .bytes_len = len,
		};
		uint32_t need = (uint32_t)proto_ipc_encode_scene_chunk(&ch, NULL, 0);
		if (ipc_server_room(m->ipc, c->id) < need)
			return -EAGAIN;
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_SCENE_CHUNK, &ch) < 0) {
			cs->phase = CSCENE_IDLE; /* the client is gone */
			return 0;
		}
		cs->off += len;
		if (cs->off == cs->snap.len) {
			cs->phase = CSCENE_IDLE;
			cs->snapshots++;
			th_wbuf_fini(&cs->snap);
			th_wbuf_init(&cs->snap, SESS_CSCENE_SNAPSHOT_MAX);
			sess_replay_start(m, c, cs->pos);
			return 0;
		}
	}
	return 1;
}

int sess_cscene_pump(struct sess_module *m)
{
	bool more = false, blocked = false, moved = false;
	for (struct sess_client *c = m->clients; c; c = c->next) {
		struct sess_cscene *cs = c->scene;
		if (!cs || cs->phase == CSCENE_IDLE)
			continue;
		if (cs->phase == CSCENE_WAIT) {
			int r = cscene_take(m, c);
			if (r == -EAGAIN)
				blocked = true;
			if (r < 0)
				continue;
		}
		size_t before = cs->off;
		int r = cscene_send_some(m, c);
		moved |= cs->off != before || cs->phase == CSCENE_IDLE;
		more |= r == 1;
		blocked |= r == -EAGAIN;
	}
	if (moved)
		m->replay_retry_ns = SESS_REPLAY_RETRY_MIN_NS;
	return more ? 1 : blocked ? -EAGAIN : 0;
}

/* ---- refusals to their authors' clients ------------------------------------- */

static void cscene_on_outcome(void *ud, struct sess_session *s, const struct th_fold_outcome *o)
{
	struct sess_module *m = ud;
	if (o->status != TH_FOLD_REFUSED)
		return;
	struct proto_ipc_refused rf = { .seq = o->seq, .lamport = o->lamport,
					.reason = o->reason < PROTO_IPC_REFUSAL_MAX ? o->reason : 0 };
	memcpy(rf.author, o->author, PROTO_IPC_KEY_LEN);
	/* The fold's sentence, kept to what the payload carries. */
	size_t k = 0;
	for (const char *p = o->why ? o->why : th_refusal_name(o->reason); *p && k < PROTO_IPC_REFUSED_TEXT_MAX; p++)
		rf.text[k++] = *p >= 0x20 && *p <= 0x7e ? *p : '?';
	uint8_t buf[PROTO_IPC_REFUSED_SIZE_MAX];
	int n = proto_ipc_refused_encode(&rf, buf, sizeof buf);
	if (n < 0)
		return;
	struct proto_ipc_event ev = { .kind = PROTO_IPC_EVENT_REFUSED, .lamport = o->lamport, .author = o->author,
				      .author_len = PROTO_IPC_KEY_LEN, .payload = buf, .payload_len = (uint32_t)n };
	for (struct sess_client *c = m->clients; c; c = c->next) {
		const struct th_keypair *key;
		if (c->s != s || id_user_key(m->ids, c->uid, &key) < 0 || memcmp(key->pk, o->author, PROTO_IPC_KEY_LEN))
			continue;
		if (ipc_server_send(m->ipc, c->id, PROTO_IPC_T_EVENT, &ev) == 0)
			(*m->m_events)++;
	}
}

void sess_cscene_init(struct sess_module *m)
{
	sess_scene_set_listener(m, cscene_on_outcome, m);
}

/* ---- what clients report ------------------------------------------------------ */

void sess_cscene_on_state(void *user, uint64_t client_id, const struct proto_ipc_scene_state *st)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	struct sess_cscene *cs;
	if (!c || st->world_hash_len != PROTO_IPC_SCENE_HASH_LEN || !(cs = cscene_of(c)))
		return;
	cs->have_state = true;
	cs->st_pos = st->next_pos;
	memcpy(cs->st_hash, st->world_hash, sizeof cs->st_hash);
	cs->st_entities = st->entities;
}

static void add_hash(struct json_object *o, const char *k, const uint8_t h[PROTO_IPC_SCENE_HASH_LEN])
{
	char hex[2 * PROTO_IPC_SCENE_HASH_LEN + 1];
	th_hex_encode(h, PROTO_IPC_SCENE_HASH_LEN, hex);
	json_object_object_add(o, k, json_object_new_string(hex));
}

/* "scene": the client's last report and, when the daemon's fold stands at
 * the same position, whether the hashes agree ("match" / "differs");
 * "behind" / "ahead" otherwise, "unknown" while the fold is not ready. */
void sess_cscene_describe(void *user, uint64_t client_id, struct json_object *row)
{
	struct sess_module *m = user;
	struct sess_client *c = sess_client_find(m, client_id);
	struct sess_cscene *cs = c ? c->scene : NULL;
	if (!cs || !cs->have_state) {
		json_object_object_add(row, "scene", NULL);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "next_pos", json_object_new_uint64(cs->st_pos));
	add_hash(o, "world_hash", cs->st_hash);
	json_object_object_add(o, "entities", json_object_new_int64(cs->st_entities));
	json_object_object_add(o, "snapshots", json_object_new_uint64(cs->snapshots));
	const char *verdict = "unknown";
	struct th_fold *f = c->s ? sess_scene_fold(c->s) : NULL;
	uint8_t h[TH_SCENE_HASH_LEN];
	if (f && c->s->log && th_fold_world_hash(f, h) == 0) {
		/* A live fold has folded every durable entry: it stands at the
		 * log's end (sess/scene.h). */
		uint64_t pos = clog_count(c->s->log);
		json_object_object_add(o, "daemon_next_pos", json_object_new_uint64(pos));
		add_hash(o, "daemon_world_hash", h);
		if (pos == cs->st_pos)
			verdict = memcmp(h, cs->st_hash, sizeof h) ? "differs" : "match";
		else
			verdict = cs->st_pos < pos ? "behind" : "ahead";
	}
	json_object_object_add(o, "hash", json_object_new_string(verdict));
	json_object_object_add(row, "scene", o);
}
