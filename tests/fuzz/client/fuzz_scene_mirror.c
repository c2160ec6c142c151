/* libFuzzer target: the scene mirror (theta-client/app/scene.c) fed what a
 * daemon could send: RESYNC answers, SCENE_CHUNKs (of a real snapshot, cut
 * and damaged as the input says, or of input bytes), LOG_ENTRY and REFUSED
 * events with input payloads, answers, own tentative edits. Never crash,
 * leak or read out of bounds, and after a sync the ECS holds exactly the
 * scene's entities.
 *
 * Input: a sequence of ops, one byte each followed by its arguments. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/scene.h"
#include "ipc.h"
#include "sim/world.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_fold.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_schema.h"

#define SESSION 7u
#define ENTRIES 4u

static uint8_t host[TH_LOGREC_KEY_LEN] = { 1 };
static struct th_wbuf snap;        /* a real snapshot of ENTRIES entity.creates */
static uint64_t snap_pos;
static uint8_t later[2][TH_LOGREC_BODY_MAX]; /* encodings of the next two entries */
static int later_len[2];

static int make_entry(uint64_t seq, uint8_t prev[32], uint8_t *payload, int plen, struct th_logrec_entry *e)
{
	static const uint8_t author[TH_LOGREC_KEY_LEN] = { 9, 9, 9 };
	memset(e, 0, sizeof *e);
	e->version = TH_LOGREC_VERSION;
	e->type = TH_CMD_ENTITY_CREATE;
	e->lamport = seq;
	e->seq = seq;
	memcpy(e->author, author, sizeof e->author);
	memcpy(e->prev, prev, 32);
	e->payload = payload;
	e->payload_len = (uint32_t)plen;
	return th_logrec_entry_hash(e, prev);
}

/* Once: a fold of ENTRIES entries, its snapshot, and two entries after it. */
static void init(void)
{
	static uint8_t payload[256];
	struct th_c_transform t = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	int vn = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, val, sizeof val);
	static struct th_pl_entity_create m;
	m.components_count = 1;
	m.components[0].component = th_component_id(TH_COMP_TRANSFORM);
	m.components[0].value = val;
	m.components[0].value_len = (uint16_t)vn;
	int plen = th_cmd_payload_encode(TH_CMD_ENTITY_CREATE, &m, payload, sizeof payload);
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, host, sizeof host);
	struct th_fold *f;
	if (vn < 0 || plen < 0 || th_fold_create(&c, &f) < 0)
		abort();
	uint8_t prev[32] = { 0 };
	struct th_logrec_entry e;
	for (uint64_t i = 1; i <= ENTRIES + 2; i++) {
		if (make_entry(i, prev, payload, plen, &e) < 0)
			abort();
		if (i <= ENTRIES) {
			if (th_fold_add(f, &e, i - 1) != 0)
				abort();
		} else {
			later_len[i - ENTRIES - 1] = th_logrec_encode(&e, later[i - ENTRIES - 1], sizeof later[0]);
		}
	}
	th_wbuf_init(&snap, 0);
	if (th_fold_snapshot(f, &snap) < 0)
		abort();
	snap_pos = ENTRIES;
	th_fold_destroy(&f);
}

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct rd *r, unsigned bytes)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes && r->n; i++, r->p++, r->n--)
		v |= (uint32_t)*r->p << (8 * i);
	return v;
}

/* Up to a byte's worth of the input's next bytes (fewer where it runs out): their length in *len. */
static const uint8_t *take_bytes(struct rd *r, uint32_t *len)
{
	uint32_t n = take(r, 1);
	n = n > r->n ? (uint32_t)r->n : n;
	const uint8_t *p = r->p;
	r->p += n;
	r->n -= n;
	*len = n;
	return p;
}

static void resync(void *ud) { (void)ud; }
static int report(void *ud, uint64_t pos, const uint8_t h[TH_SCENE_HASH_LEN], uint32_t n)
{
	(void)ud, (void)pos, (void)h, (void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready++)
		init();
	struct sim_world *w;
	struct app_scene *m;
	struct app_scene_io io = { .resync = resync, .report = report };
	if (sim_world_create(NULL, &w) < 0 || app_scene_create(w, &io, &m) < 0)
		abort();
	static uint8_t copy[1 << 16];
	struct rd r = { data, size };
	uint64_t now = 0, token = 1;
	while (r.n) {
		now += 1000000;
		switch (take(&r, 1) % 8) {
		case 0: { /* the daemon's answer */
			uint32_t fl = take(&r, 1);
			struct proto_ipc_resync_request a = { .reason = PROTO_IPC_RESYNC_FROM, .session = SESSION,
							      .next_pos = fl & 2 ? take(&r, 2) : snap_pos,
							      .flags = fl & PROTO_IPC_RESYNC_F_SCENE };
			app_scene_on_resync(m, &a);
			break;
		}
		case 1: { /* the real snapshot, cut into pieces, maybe one byte flipped */
			uint32_t piece = take(&r, 2) % 4096 + 1, flip = take(&r, 2);
			for (size_t off = 0; off < snap.len; off += piece) {
				uint32_t len = snap.len - off < piece ? (uint32_t)(snap.len - off) : piece;
				memcpy(copy, snap.data + off, len);
				if (flip && flip - 1 >= off && flip - 1 < off + len)
					copy[flip - 1 - off] ^= 0x41;
				struct proto_ipc_scene_chunk c = { .session = SESSION, .next_pos = snap_pos,
								   .total = (uint32_t)snap.len, .offset = (uint32_t)off,
								   .host = host, .host_len = 32, .bytes = copy, .bytes_len = len };
				app_scene_on_chunk(m, &c, now);
			}
			break;
		}
		case 2: { /* a chunk of input bytes */
			struct proto_ipc_scene_chunk c = { .session = SESSION, .next_pos = take(&r, 1),
							   .total = take(&r, 2), .offset = take(&r, 2), .host = host,
							   .host_len = take(&r, 1) % 33 };
			c.bytes = take_bytes(&r, &c.bytes_len);
			app_scene_on_chunk(m, &c, now);
			break;
		}
		case 3: { /* a log entry: one of the real next ones, or input bytes */
			uint32_t k = take(&r, 1);
			struct proto_ipc_event e = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = snap_pos + (k & 1), .author = host,
						     .author_len = 32 };
			if (k & 2) {
				e.payload = later[k & 1];
				e.payload_len = (uint32_t)later_len[k & 1];
			} else {
				e.payload = take_bytes(&r, &e.payload_len);
			}
			app_scene_on_event(m, &e, now);
			break;
		}
		case 4: { /* a refusal event of input bytes */
			struct proto_ipc_event e = { .kind = PROTO_IPC_EVENT_REFUSED, .author = host, .author_len = 32 };
			e.payload = take_bytes(&r, &e.payload_len);
			app_scene_on_event(m, &e, now);
			break;
		}
		case 5: { /* an own edit of input bytes */
			struct app_command c = { .type = (uint16_t)take(&r, 2), .scope = take(&r, 4) };
			c.payload = take_bytes(&r, &c.len);
			app_scene_tentative(m, token++, &c);
			break;
		}
		case 6: { /* an answer to one of them */
			uint64_t seq = take(&r, 1);
			if (take(&r, 1) & 1) {
				struct proto_ipc_cmd_ack a = { .client_seq = seq, .lamport = take(&r, 1), .log_index = take(&r, 1) };
				app_scene_on_answer(m, &a, NULL);
			} else {
				struct proto_ipc_cmd_reject j = { .client_seq = seq };
				app_scene_on_answer(m, NULL, &j);
			}
			break;
		}
		default:
			if (app_scene_sync(m, now, take(&r, 1) & 1) < 0)
				abort();
		}
	}
	if (app_scene_sync(m, now, true) < 0)
		abort();
	/* The ECS holds exactly the scene's entities. */
	const struct th_scene *sc = app_scene_scene(m);
	uint32_t n = 0;
	size_t cur = 0;
	uint64_t id;
	while (sc && th_scene_next_entity(sc, &cur, &id)) {
		if (!sim_alive(w, app_scene_entity(m, id)))
			abort();
		n++;
	}
	if (app_scene_entities(m) != n)
		abort();
	app_scene_destroy(&m);
	sim_world_destroy(&w);
	return 0;
}
