/* The scene mirror (app/scene.h): snapshot reassembly and restore, the
 * fold of every log entry event, optimistic own edits, and the copy of the
 * scene's entities into the ECS world. */
#include "app/scene.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "th_cmd.h"
#include "th_hash.h"
#include "th_err.h"
#include "th_log.h"
#include "th_logrec.h"

/* The scene components an ECS entity mirrors. */
static const unsigned mirrored[] = { TH_COMP_TRANSFORM, TH_COMP_MESH_REF, TH_COMP_SELECTION, TH_COMP_TOOL_STATE };
#define MIRRORED_N (sizeof mirrored / sizeof mirrored[0])
#define MAP_MIN_CAP 64u
#define DIRTY_MAX (1u << 20) /* past it the next sync rebuilds everything instead */

struct app_tent {
	uint64_t token;
	bool live;  /* applied in the fold (a tentative there) */
	bool acked; /* CMD_ACK named its entry */
	uint64_t lamport, seq;
	uint16_t type;
	uint64_t scope;
	uint32_t len;
	uint8_t *payload;
};

struct map_slot {
	uint64_t key; /* scene entity id; 0: empty (ids are never 0) */
	sim_entity e;
};

struct recent {
	uint64_t lamport, seq;
};

struct app_scene {
	struct sim_world *w;
	struct app_scene_io io;
	unsigned comp_id; /* SceneEntity */
	struct th_fold *fold;
	uint64_t next_pos;
	/* Snapshot being received (after an answer with the SCENE flag). */
	bool expecting;
	bool outdated; /* the fold cannot go on: nothing is folded until a fresh snapshot */
	uint64_t exp_session, exp_pos;
	uint64_t session; /* of the restored snapshot */
	uint8_t *buf;
	uint32_t total, got;
	uint8_t host[TH_LOGREC_KEY_LEN];
	uint64_t last_resync_ns;
	/* Scene id -> ECS entity, open addressing (linear probing). */
	struct map_slot *map;
	uint32_t map_cap, map_n;
	uint64_t *dirty;
	uint32_t n_dirty, cap_dirty;
	bool rebuild;
	bool changed;  /* the folded set moved since the last report */
	bool reported; /* a report went out since the last restore */
	uint64_t last_report_ns;
	struct app_tent tents[APP_SCENE_TENTATIVE_MAX];
	unsigned n_tents;
	struct recent recent[APP_SCENE_RECENT];
	uint32_t recent_next;
	struct app_scene_stats st;
};

/* ---- scene id -> ECS entity ---------------------------------------------------- */

static uint32_t map_hash(uint64_t k, uint32_t mask)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k & mask;
}

static struct map_slot *map_find(const struct app_scene *m, uint64_t key)
{
	if (!m->map_cap)
		return NULL;
	uint32_t mask = m->map_cap - 1;
	for (uint32_t i = map_hash(key, mask);; i = (i + 1) & mask) {
		if (m->map[i].key == key)
			return &m->map[i];
		if (!m->map[i].key)
			return NULL;
	}
}

static int map_put(struct app_scene *m, uint64_t key, sim_entity e);

static int map_grow(struct app_scene *m)
{
	uint32_t cap = m->map_cap ? m->map_cap * 2 : MAP_MIN_CAP;
	struct map_slot *old = m->map;
	uint32_t old_cap = m->map_cap;
	struct map_slot *n = calloc(cap, sizeof *n);
	if (!n)
		return -ENOMEM;
	m->map = n;
	m->map_cap = cap;
	m->map_n = 0;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].key)
			map_put(m, old[i].key, old[i].e);
	free(old);
	return 0;
}

static int map_put(struct app_scene *m, uint64_t key, sim_entity e)
{
	if ((m->map_n + 1) * 2 > m->map_cap) {
		int r = map_grow(m);
		if (r < 0)
			return r;
	}
	uint32_t mask = m->map_cap - 1;
	uint32_t i = map_hash(key, mask);
	while (m->map[i].key && m->map[i].key != key)
		i = (i + 1) & mask;
	if (!m->map[i].key)
		m->map_n++;
	m->map[i] = (struct map_slot){ .key = key, .e = e };
	return 0;
}

/* Removes slot s, shifting the probe chain after it back. */
static void map_del(struct app_scene *m, struct map_slot *s)
{
	uint32_t mask = m->map_cap - 1, i = (uint32_t)(s - m->map);
	m->map[i].key = 0;
	m->map_n--;
	for (uint32_t j = (i + 1) & mask; m->map[j].key; j = (j + 1) & mask) {
		uint32_t home = map_hash(m->map[j].key, mask);
		/* Move j to i when i lies on the way from its home slot to j. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->map[i] = m->map[j];
			m->map[j].key = 0;
			i = j;
		}
	}
}

/* ---- changes the fold reports ---------------------------------------------------- */

static void mark_dirty(struct app_scene *m, uint64_t id)
{
	if (m->rebuild)
		return;
	if (m->n_dirty == m->cap_dirty) {
		uint32_t cap = m->cap_dirty ? m->cap_dirty * 2 : 256;
		uint64_t *d = cap <= DIRTY_MAX ? realloc(m->dirty, cap * sizeof *d) : NULL;
		if (!d) {
			m->rebuild = true; /* everything is looked at once instead */
			m->n_dirty = 0;
			return;
		}
		m->dirty = d;
		m->cap_dirty = cap;
	}
	m->dirty[m->n_dirty++] = id;
}

static void on_change(void *ud, enum th_scene_change kind, uint64_t id)
{
	struct app_scene *m = ud;
	if (kind == TH_SCENE_ENTITY_CREATED || kind == TH_SCENE_ENTITY_CHANGED || kind == TH_SCENE_ENTITY_DESTROYED)
		mark_dirty(m, id);
	/* Meshes and materials are read from the scene itself (app_scene_mesh). */
}

/* ---- life cycle ------------------------------------------------------------------ */

int app_scene_create(struct sim_world *w, const struct app_scene_io *io, struct app_scene **out)
{
	struct app_scene *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->w = w;
	if (io)
		m->io = *io;
	int r = sim_component_find(w, th_siphash_str(APP_SCENE_COMPONENT));
	if (r >= 0)
		m->comp_id = (unsigned)r;
	else if ((r = sim_component_register(w, APP_SCENE_COMPONENT, sizeof(uint64_t), _Alignof(uint64_t),
					    &m->comp_id)) < 0) {
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

static void tent_free(struct app_scene *m, unsigned i)
{
	free(m->tents[i].payload);
	m->tents[i] = m->tents[--m->n_tents];
}

void app_scene_destroy(struct app_scene **p)
{
	struct app_scene *m = p ? *p : NULL;
	if (!m)
		return;
	while (m->n_tents)
		tent_free(m, 0);
	th_fold_destroy(&m->fold);
	free(m->buf);
	free(m->map);
	free(m->dirty);
	free(m);
	*p = NULL;
}

static void ask_resync(struct app_scene *m, uint64_t now_ns)
{
	m->expecting = false;
	m->outdated = true;
	free(m->buf);
	m->buf = NULL;
	m->st.resyncs++;
	m->last_resync_ns = now_ns;
	if (m->io.resync)
		m->io.resync(m->io.ud);
}

/* ---- optimistic edits ------------------------------------------------------------- */

static int tent_apply(struct app_scene *m, struct app_tent *t)
{
	const struct th_cmd_info *info = th_cmd_find(t->type);
	struct th_logrec_entry e = { .version = 2, .type = t->type, .seq = t->token,
				     .scope_kind = info ? info->scope : 0, .payload_len = t->len, .payload = t->payload };
	e.scope_id = info && info->scope == TH_SCOPE_GLOBAL ? 0 : t->scope;
	struct th_scene_refusal why = { 0 };
	int r = th_fold_tentative_add(m->fold, t->token, &e, &why);
	t->live = r == 0;
	return r;
}

int app_scene_tentative(struct app_scene *m, uint64_t token, const struct app_command *c)
{
	if (m->n_tents == APP_SCENE_TENTATIVE_MAX)
		return -ENOBUFS;
	struct app_tent t = { .token = token, .type = c->type, .scope = c->scope, .len = c->len };
	if (c->len && !(t.payload = malloc(c->len)))
		return -ENOMEM;
	if (c->len)
		memcpy(t.payload, c->payload, c->len);
	int r = -ENOTCONN;
	if (m->fold) {
		r = tent_apply(m, &t);
		if (r < 0) {
			m->st.tentative_refused++;
			free(t.payload);
			return r;
		}
	}
	/* Without a scene yet it is applied when the snapshot is restored. */
	m->tents[m->n_tents++] = t;
	m->st.tentative_added++;
	return r == -ENOTCONN ? r : 0;
}

static void tent_drop(struct app_scene *m, unsigned i)
{
	if (m->tents[i].live && m->fold)
		th_fold_tentative_drop(m->fold, m->tents[i].token);
	m->st.tentative_dropped++;
	tent_free(m, i);
}

static bool recent_has(const struct app_scene *m, uint64_t lamport, uint64_t seq)
{
	for (uint32_t i = 0; i < APP_SCENE_RECENT; i++)
		if (m->recent[i].lamport == lamport && m->recent[i].seq == seq && seq)
			return true;
	return false;
}

void app_scene_on_answer(struct app_scene *m, const struct proto_ipc_cmd_ack *ack,
			 const struct proto_ipc_cmd_reject *rej)
{
	uint64_t token = ack ? ack->client_seq : rej->client_seq;
	for (unsigned i = 0; i < m->n_tents; i++) {
		if (m->tents[i].token != token)
			continue;
		if (rej || recent_has(m, ack->lamport, ack->log_index)) {
			tent_drop(m, i); /* refused by the daemon, or its entry is folded already */
			return;
		}
		m->tents[i].acked = true;
		m->tents[i].lamport = ack->lamport;
		m->tents[i].seq = ack->log_index;
		return;
	}
}

/* An entry was folded: the acknowledged tentative it was goes. */
static void tent_settle(struct app_scene *m, uint64_t lamport, uint64_t seq)
{
	m->recent[m->recent_next] = (struct recent){ .lamport = lamport, .seq = seq };
	m->recent_next = (m->recent_next + 1) % APP_SCENE_RECENT;
	for (unsigned i = 0; i < m->n_tents; i++)
		if (m->tents[i].acked && m->tents[i].lamport == lamport && m->tents[i].seq == seq) {
			tent_drop(m, i);
			return;
		}
}

/* ---- snapshot and events ----------------------------------------------------------- */

void app_scene_on_resync(struct app_scene *m, const struct proto_ipc_resync_request *r)
{
	free(m->buf);
	m->buf = NULL;
	m->got = m->total = 0;
	m->expecting = (r->flags & PROTO_IPC_RESYNC_F_SCENE) != 0;
	/* Events without a snapshot: they continue the fold only from where
	 * it stands (or below: entries it has are taken once). */
	if (!m->expecting && m->fold && (r->session != m->session || r->next_pos > m->next_pos))
		m->outdated = true;
	m->exp_session = r->session;
	m->exp_pos = r->next_pos;
}

static void restore(struct app_scene *m, uint64_t now_ns)
{
	struct th_fold_config cfg = { .on_change = on_change, .ud = m };
	memcpy(cfg.host_key, m->host, sizeof cfg.host_key);
	struct th_fold *f = NULL;
	const char *why = NULL;
	int r = th_fold_restore(&cfg, m->buf, m->total, &f, &why);
	free(m->buf);
	m->buf = NULL;
	m->expecting = false;
	if (r < 0) {
		m->st.bad_snapshots++;
		th_warn("the daemon's scene snapshot at position %" PRIu64 " does not restore (%s); asking for another",
			m->exp_pos, why ? why : th_strerror(r));
		ask_resync(m, now_ns);
		return;
	}
	th_fold_destroy(&m->fold);
	m->fold = f;
	m->outdated = false;
	m->session = m->exp_session;
	m->next_pos = m->exp_pos;
	m->st.snapshots++;
	m->st.snapshot_bytes += m->total;
	m->rebuild = true;
	m->n_dirty = 0;
	m->changed = true;
	m->reported = false;
	/* Acknowledged edits are in the snapshot (the daemon folds an entry
	 * before it acks it); the others are shown again on top. */
	for (unsigned i = 0; i < m->n_tents;) {
		if (m->tents[i].acked) {
			m->st.tentative_dropped++;
			tent_free(m, i);
			continue;
		}
		if (tent_apply(m, &m->tents[i]) < 0) {
			m->st.tentative_refused++;
			tent_free(m, i);
			continue;
		}
		i++;
	}
}

void app_scene_on_chunk(struct app_scene *m, const struct proto_ipc_scene_chunk *c, uint64_t now_ns)
{
	if (!m->expecting || c->session != m->exp_session || c->next_pos != m->exp_pos || c->offset != m->got ||
	    c->host_len != TH_LOGREC_KEY_LEN || c->total == 0 || c->total > PROTO_IPC_SCENE_SNAPSHOT_MAX ||
	    (m->buf && c->total != m->total) || c->bytes_len > c->total - c->offset ||
	    (c->bytes_len == 0 && c->offset + c->bytes_len < c->total)) {
		/* Not the snapshot announced, or not in order. */
		m->st.bad_snapshots++;
		if (m->expecting || now_ns - m->last_resync_ns >= APP_SCENE_RESYNC_MIN_NS)
			ask_resync(m, now_ns);
		return;
	}
	if (!m->buf) {
		if (!(m->buf = malloc(c->total))) {
			ask_resync(m, now_ns);
			return;
		}
		m->total = c->total;
		memcpy(m->host, c->host, sizeof m->host);
	}
	memcpy(m->buf + m->got, c->bytes, c->bytes_len);
	m->got += c->bytes_len;
	if (m->got == m->total)
		restore(m, now_ns);
}

static void on_refused(struct app_scene *m, const struct proto_ipc_event *e)
{
	struct proto_ipc_refused rf;
	if (proto_ipc_refused_decode(e->payload, e->payload_len, &rf) < 0) {
		th_warn("the daemon sent a malformed refusal event; ignored");
		return;
	}
	if (++m->st.refused <= APP_SCENE_REFUSED_LOG_MAX)
		th_warn("your edit (seq %" PRIu64 ", lamport %" PRIu64 ") was refused by the scene: %s: %s%s", rf.seq,
			rf.lamport, th_refusal_name(rf.reason), rf.text,
			m->st.refused == APP_SCENE_REFUSED_LOG_MAX ? " (further refusals are counted, not logged)" : "");
}

void app_scene_on_event(struct app_scene *m, const struct proto_ipc_event *e, uint64_t now_ns)
{
	if (e->kind == PROTO_IPC_EVENT_REFUSED) {
		on_refused(m, e);
		return;
	}
	if (e->kind != PROTO_IPC_EVENT_LOG_ENTRY)
		return;
	if (!m->fold || m->expecting || m->outdated) {
		m->st.stale++;
		return;
	}
	struct th_logrec_entry entry;
	int why = 0;
	int r = th_logrec_decode(e->payload, e->payload_len, &entry, &why);
	if (r < 0) {
		th_warn("log entry event at position %" PRIu64 " does not decode; asking for a fresh scene", e->pos);
		ask_resync(m, now_ns);
		return;
	}
	r = th_fold_add(m->fold, &entry, e->pos);
	if (r < 0) {
		/* Below the rollback window, a hole in a chain, no memory, too
		 * many authors: only a fresh snapshot puts the mirror right. */
		if (r == -ERANGE)
			m->st.out_of_window++;
		ask_resync(m, now_ns);
		return;
	}
	if (r == 1)
		m->st.duplicates++;
	else
		m->st.entries++;
	if (e->pos >= m->next_pos)
		m->next_pos = e->pos + 1;
	m->changed = true;
	tent_settle(m, entry.lamport, entry.seq);
}

/* ---- into the ECS world ---------------------------------------------------------------- */

static int despawn(struct app_scene *m, struct map_slot *s)
{
	int r = sim_despawn(m->w, s->e);
	map_del(m, s);
	m->st.despawned++;
	return r == -ESTALE ? 0 : r;
}

/* Spawns or updates the ECS entity of scene entity id. */
static int mirror_one(struct app_scene *m, uint64_t id)
{
	const struct th_scene *sc = th_fold_scene(m->fold);
	struct map_slot *s = map_find(m, id);
	if (!th_scene_has_entity(sc, id))
		return s ? despawn(m, s) : 0;
	if (s && !sim_alive(m->w, s->e)) {
		map_del(m, s); /* removed by someone else: spawned again */
		s = NULL;
	}
	if (!s) {
		unsigned comps[MIRRORED_N + 1];
		const void *vals[MIRRORED_N + 1];
		unsigned n = 0;
		comps[n] = m->comp_id;
		vals[n++] = &id;
		for (unsigned k = 0; k < MIRRORED_N; k++) {
			const void *v = th_scene_component(sc, id, mirrored[k]);
			if (v) {
				comps[n] = mirrored[k];
				vals[n++] = v;
			}
		}
		sim_entity e;
		int r = sim_spawn_with(m->w, n, comps, vals, &e);
		if (r < 0)
			return r;
		m->st.spawned++;
		return map_put(m, id, e);
	}
	for (unsigned k = 0; k < MIRRORED_N; k++) {
		const void *v = th_scene_component(sc, id, mirrored[k]);
		size_t size = sim_component_size(m->w, mirrored[k]);
		bool has = sim_has(m->w, s->e, mirrored[k]);
		int r = 0;
		if (v && has) {
			uint8_t cur[TH_SCHEMA_MAX_VALUE_SIZE * 2];
			if (size <= sizeof cur && sim_get(m->w, s->e, mirrored[k], cur) == 0 && !memcmp(cur, v, size))
				continue; /* unchanged: its change tick stays */
			r = sim_set(m->w, s->e, mirrored[k], v);
		} else if (v) {
			r = sim_add(m->w, s->e, mirrored[k], v);
		} else if (has) {
			r = sim_remove(m->w, s->e, mirrored[k]);
		} else {
			continue;
		}
		if (r < 0)
			return r;
		m->st.updated++;
	}
	return 0;
}

static int mirror_all(struct app_scene *m)
{
	const struct th_scene *sc = th_fold_scene(m->fold);
	for (uint32_t i = 0; i < m->map_cap;) {
		if (m->map[i].key && !th_scene_has_entity(sc, m->map[i].key)) {
			int r = despawn(m, &m->map[i]);
			if (r < 0)
				return r;
			continue; /* the chain shifted into slot i */
		}
		i++;
	}
	size_t cur = 0;
	uint64_t id;
	while (th_scene_next_entity(sc, &cur, &id)) {
		int r = mirror_one(m, id);
		if (r < 0)
			return r;
	}
	return 0;
}

int app_scene_sync(struct app_scene *m, uint64_t now_ns, bool force)
{
	if (!m->fold)
		return 0;
	int r = 0;
	if (m->rebuild) {
		r = mirror_all(m);
		m->rebuild = r < 0;
	} else {
		for (uint32_t i = 0; i < m->n_dirty && r == 0; i++)
			r = mirror_one(m, m->dirty[i]);
	}
	m->n_dirty = 0;
	if (r < 0)
		return r;
	if ((m->changed || !m->reported) && m->io.report &&
	    (force || !m->reported || now_ns - m->last_report_ns >= APP_SCENE_REPORT_NS)) {
		uint8_t h[TH_SCENE_HASH_LEN];
		struct th_scene_stats ss;
		if (th_fold_world_hash(m->fold, h) == 0) {
			th_scene_stats(th_fold_scene(m->fold), &ss);
			uint32_t ents = ss.entities > UINT32_MAX ? UINT32_MAX : (uint32_t)ss.entities;
			if (m->io.report(m->io.ud, m->next_pos, h, ents) == 0) {
				m->changed = false;
				m->reported = true;
				m->last_report_ns = now_ns;
				m->st.reports++;
			}
		}
	}
	return 0;
}

/* ---- the transport wrapper ------------------------------------------------------------- */

struct scene_transport {
	struct app_transport base;
	struct app_transport *inner;
	struct app_scene *m;
};

static int st_drain(struct app_transport *t, struct sim_world *w, uint64_t now_ns)
{
	struct scene_transport *s = (struct scene_transport *)t;
	int n = app_transport_drain(s->inner, w, now_ns);
	int r = app_scene_sync(s->m, now_ns, false);
	return r < 0 ? r : n;
}

static int st_publish(struct app_transport *t, const struct app_outgoing *o, uint64_t now_ns)
{
	struct scene_transport *s = (struct scene_transport *)t;
	uint64_t first = s->m->io.next_seq ? s->m->io.next_seq(s->m->io.ud) : 0;
	int r = app_transport_publish(s->inner, o, now_ns);
	if (r < 0 || !s->m->io.next_seq)
		return r;
	/* The link numbers the frame's commands in order, skipping any it can
	 * never send (too large), as here. */
	uint64_t seq = first;
	for (uint32_t i = 0; i < o->ncommands; i++) {
		const struct app_command *c = &o->commands[i];
		if (c->len > PROTO_IPC_MAX_PAYLOAD || (!c->payload && c->len))
			continue;
		if (c->tag && s->m->io.sent)
			s->m->io.sent(s->m->io.ud, c->tag, seq);
		app_scene_tentative(s->m, seq++, c);
	}
	if (o->ncommands)
		app_scene_sync(s->m, now_ns, false); /* shown before this frame renders */
	return r;
}

static int st_send_stats(struct app_transport *t, const struct app_frame_stats *st, uint64_t now_ns)
{
	struct scene_transport *s = (struct scene_transport *)t;
	return app_transport_send_stats(s->inner, st, now_ns);
}

static void st_destroy(struct app_transport *t)
{
	struct scene_transport *s = (struct scene_transport *)t;
	app_transport_destroy(&s->inner);
	free(s);
}

static const struct app_transport_ops scene_transport_ops = {
	.drain = st_drain, .publish = st_publish, .send_stats = st_send_stats, .destroy = st_destroy,
};

int app_scene_transport(struct app_scene *m, struct app_transport *inner, struct app_transport **out)
{
	struct scene_transport *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->base = (struct app_transport){ .ops = &scene_transport_ops, .name = inner->name };
	s->inner = inner;
	s->m = m;
	*out = &s->base;
	return 0;
}

/* ---- reading ----------------------------------------------------------------------------- */

const struct th_mesh *app_scene_mesh(const struct app_scene *m, uint64_t id)
{
	return m->fold ? th_scene_mesh(th_fold_scene(m->fold), id) : NULL;
}

const struct th_scene_material *app_scene_material(const struct app_scene *m, unsigned index)
{
	return m->fold ? th_scene_material(th_fold_scene(m->fold), index) : NULL;
}

sim_entity app_scene_entity(const struct app_scene *m, uint64_t scene_id)
{
	const struct map_slot *s = map_find(m, scene_id);
	return s ? s->e : SIM_ENTITY_NULL;
}

const struct th_scene *app_scene_scene(const struct app_scene *m)
{
	return m->fold ? th_fold_scene(m->fold) : NULL;
}

bool app_scene_ready(const struct app_scene *m) { return m->fold != NULL; }
uint64_t app_scene_next_pos(const struct app_scene *m) { return m->next_pos; }
uint32_t app_scene_entities(const struct app_scene *m) { return m->map_n; }
unsigned app_scene_tentatives(const struct app_scene *m) { return m->n_tents; }
const struct app_scene_stats *app_scene_stats(const struct app_scene *m) { return &m->st; }

int app_scene_world_hash(struct app_scene *m, uint8_t out[TH_SCENE_HASH_LEN])
{
	return m->fold ? th_fold_world_hash(m->fold, out) : -ENOTCONN;
}
