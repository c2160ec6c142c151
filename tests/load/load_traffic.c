/* What a generated member sends and what it checks (load.h): presence
 * frames over its user's th_walk state, VOICE datagrams from an Opus packet train
 * encoded once by thetad's own encoder, signed tool.state entries on the
 * commands stream, SYNC from the chains it holds; the host's frames
 * decoded, pose ages and gaps per peer, every author's entries chained. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "session.h"
#include "th_buf.h"
#include "th_cmd.h"
#include "th_payload.h"
#include "th_time.h"
#include "th_voicesig.h"
#include "voice/voice_codec.h"

#define LOAD_WALK_MIN_STEP_NS (1000ull * 1000) /* the shared walk moves at most once a millisecond */
#define LOAD_SPEECH_S 3u                       /* seconds of synthetic speech made (the first is a pause) */
#define LOAD_TOOL_SETTINGS_LEN 24u

/* ---- voice: encoded once --------------------------------------------------------- */

int load_voice_prepare(struct load *L)
{
	size_t n = (size_t)LOAD_SPEECH_S * TH_VS_RATE;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	if (!pcm)
		return -ENOMEM;
	struct th_vs_config vc = { .seed = (uint32_t)L->o.seed, .noise = TH_VS_NOISE_PINK, .noise_dbfs = -60 };
	th_vs_make(&vc, pcm, n, NULL);
	struct voice_enc *e = NULL;
	struct voice_enc_config ec = { .frame_ms = 20, .complexity = -1 };
	int r = voice_enc_create(&ec, &e);
	if (r == 0 && voice_enc_frame_samples(e) != LOAD_VOICE_FRAME_SAMPLES)
		r = -EINVAL;
	/* From the end of the lead-in pause: speech. */
	size_t at = (size_t)TH_VS_LEAD_MS * TH_VS_RATE / 1000;
	for (unsigned k = 0; r == 0 && k < LOAD_VOICE_PKTS; k++, at += LOAD_VOICE_FRAME_SAMPLES) {
		if (at + LOAD_VOICE_FRAME_SAMPLES > n) {
			r = -ERANGE;
			break;
		}
		int len = voice_enc_frame(e, pcm + at, L->voice[k], sizeof(L->voice[k]));
		if (len <= 0)
			r = len < 0 ? len : -EIO;
		else
			L->voice_len[k] = (uint16_t)len;
	}
	voice_enc_destroy(&e);
	free(pcm);
	return r;
}

/* ---- users' keys -> members ------------------------------------------------------ */

#define KEY_SLOTS (sizeof(((struct load *)0)->key_ix) / sizeof(int32_t))

static uint32_t key_slot(const uint8_t key[32])
{
	return th_get_le32(key) % KEY_SLOTS;
}

void load_keys_index(struct load *L)
{
	for (unsigned s = 0; s < KEY_SLOTS; s++)
		L->key_ix[s] = -1;
	for (unsigned i = 0; i < L->o.n; i++) {
		uint32_t s = key_slot(L->m[i].user.pk);
		while (L->key_ix[s] >= 0)
			s = (s + 1) % KEY_SLOTS;
		L->key_ix[s] = (int32_t)i;
	}
}

int load_member_find(const struct load *L, const uint8_t key[32])
{
	for (uint32_t s = key_slot(key);; s = (s + 1) % KEY_SLOTS) {
		int32_t i = L->key_ix[s];
		if (i < 0)
			return -1;
		if (!memcmp(L->m[i].user.pk, key, 32))
			return i;
	}
}

/* ---- per member --------------------------------------------------------------------- */

int load_traffic_init(struct load_member *m)
{
	m->peers = calloc(m->L->o.n, sizeof(*m->peers));
	m->own = calloc(LOAD_OWN_ENTRIES_MAX, sizeof(*m->own));
	if (!m->peers || !m->own)
		return -ENOMEM;
	return 0;
}

void load_traffic_fini(struct load_member *m)
{
	proto_pres_tx_free(&m->tx);
	proto_pres_rx_free(&m->rx);
	free(m->peers);
	m->peers = NULL;
	free(m->own);
	m->own = NULL;
}

static uint64_t period(unsigned hz)
{
	return hz ? TH_NS_PER_S / hz : UINT64_MAX;
}

/* A time in [0, span) that differs between members (their ticks do not line up). */
static uint64_t phase(const struct load_member *m, uint64_t span, unsigned salt)
{
	uint64_t x = (m->L->o.seed + 0x9e3779b97f4a7c15ull * (m->i + 1) + salt) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	return span && span != UINT64_MAX ? x % span : 0;
}

static uint64_t entry_gap(const struct load_member *m)
{
	uint64_t mean = (uint64_t)(m->L->o.entry_s * 1e9);
	/* 0.5 .. 1.5 of the mean, a different draw each time */
	return mean / 2 + phase(m, mean ? mean : 1, (unsigned)m->n_own + 7);
}

/* A new connection is active: a new presence channel pair (the host's is
 * new too), the tick phases. */
void load_traffic_joined(struct load_member *m, uint64_t now)
{
	const struct load_opts *o = &m->L->o;
	proto_pres_tx_free(&m->tx);
	proto_pres_rx_free(&m->rx);
	if (proto_pres_tx_new(&m->tx) < 0 || proto_pres_rx_new(&m->rx) < 0)
		load_glue_fail(m->L, "member %u: cannot make its presence channels", m->i);
	m->last_host_seq = 0;
	m->next_pres_ns = now + phase(m, period(o->pres_hz), 1);
	m->next_voice_ns = now + phase(m, period(o->voice_hz), 2);
	m->next_entry_ns = o->entry_s > 0 ? now + entry_gap(m) : UINT64_MAX;
}

uint64_t load_traffic_next(const struct load_member *m)
{
	if (m->st != LM_ACTIVE)
		return UINT64_MAX;
	uint64_t t = m->next_pres_ns;
	if (m->speaks && m->next_voice_ns < t)
		t = m->next_voice_ns;
	if (m->L->making_entries && m->next_entry_ns < t)
		t = m->next_entry_ns;
	return t;
}

/* ---- presence out ------------------------------------------------------------------- */

static void user_now(struct load_member *m, uint64_t now, struct proto_pres_user *u)
{
	struct load *L = m->L;
	if (now >= L->walk_ns + LOAD_WALK_MIN_STEP_NS) {
		th_walk_step(&L->walk, now);
		L->walk_ns = now;
	}
	th_walk_user(&L->walk, m->i, u);
	memcpy(u->key, m->user.pk, sizeof(u->key));
	u->t_ns = now;
	if (m->i >= L->o.n - L->o.far) {
		for (unsigned p = 0; p < PROTO_PRES_PARTS; p++)
			u->pose[p][0] += LOAD_FAR_M;
		u->cursor[0] += LOAD_FAR_M;
		u->preview[0] += LOAD_FAR_M;
	}
}

static void send_pres(struct load_member *m, uint64_t now)
{
	struct proto_pres_user u;
	user_now(m, now, &u);
	if (!m->tx)
		return;
	uint8_t frame[PROTO_PRES_FRAME_MAX], b[PROTO_SESS_DGRAM_MAX];
	unsigned taken = 0;
	int n = proto_pres_encode(m->tx, now, &u, 1, NULL, 0, proto_pres_rx_ack(m->rx), frame, sizeof(frame), &taken);
	if (n < 0) {
		load_glue_fail(m->L, "member %u: proto_pres_encode failed: %s", m->i, strerror(-n));
		return;
	}
	struct proto_sess_dgram d = { .kind = PROTO_SESS_DG_PRES, .frame = frame, .frame_len = (uint16_t)n };
	int len = proto_sess_dgram_encode(&d, b, sizeof(b));
	if (len < 0) {
		load_glue_fail(m->L, "member %u: a PRES frame of %d bytes does not encode as a datagram", m->i, n);
		return;
	}
	if (load_member_dgram(m, LOAD_CH_PRES, b, (size_t)len)) {
		m->pres_frames_out++;
		m->pres_bytes_out += (uint64_t)len;
		m->poses_out += __builtin_popcount(u.valid & (PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT));
	}
}

static void send_voice(struct load_member *m)
{
	struct load *L = m->L;
	unsigned k = m->voice_seq % LOAD_VOICE_PKTS;
	uint8_t b[PROTO_SESS_DGRAM_MAX];
	struct proto_sess_dgram d = {
		.kind = PROTO_SESS_DG_VOICE, .seq = m->voice_seq, .ts = m->voice_seq * LOAD_VOICE_FRAME_SAMPLES,
		.opus = L->voice[k], .opus_len = L->voice_len[k],
	};
	memcpy(d.author, m->user.pk, 32);
	int len = proto_sess_dgram_encode(&d, b, sizeof(b));
	m->voice_seq++;
	if (len > 0 && load_member_dgram(m, LOAD_CH_VOICE, b, (size_t)len))
		m->voice_out++;
}

/* ---- the log ------------------------------------------------------------------------ */

static struct load_chain *chain_of(struct load_member *m, const uint8_t key[32], bool add)
{
	for (unsigned i = 0; i < m->n_authors; i++)
		if (!memcmp(m->authors[i].key, key, 32))
			return &m->authors[i];
	if (!add || m->n_authors == LOAD_AUTHORS_MAX)
		return NULL;
	struct load_chain *c = &m->authors[m->n_authors++];
	memset(c, 0, sizeof(*c));
	memcpy(c->key, key, 32);
	return c;
}

uint64_t load_member_holds(const struct load_member *m, const uint8_t key[32])
{
	for (unsigned i = 0; i < m->n_authors; i++)
		if (!memcmp(m->authors[i].key, key, 32))
			return m->authors[i].c.seq;
	return 0;
}

/* own[from..n_own) in one ENTRIES message (each entry signed: a group of one). */
static void send_own(struct load_member *m, unsigned from)
{
	struct th_wbuf w;
	struct proto_sess_entries_build b;
	th_wbuf_init(&w, 0);
	int r = proto_sess_entries_begin(&b, &w, 0);
	for (unsigned k = from; r == 0 && k < m->n_own; k++)
		r = proto_sess_entries_add(&b, &m->own[k].e);
	if (r == 0)
		r = proto_sess_entries_end(&b);
	if (r == 0)
		load_member_send_stream(m, LOAD_CH_COMMANDS, w.data, w.len);
	else
		load_glue_fail(m->L, "member %u: cannot build ENTRIES: %s", m->i, strerror(-r));
	th_wbuf_fini(&w);
}

/* The user's next entry: a tool.state (its tool's settings), signed by the
 * user's key, chained, its lamport above everything this member has seen. */
static void make_entry(struct load_member *m)
{
	struct load_chain *c = chain_of(m, m->user.pk, true);
	if (!c || m->n_own == LOAD_OWN_ENTRIES_MAX) {
		m->next_entry_ns = UINT64_MAX;
		return;
	}
	struct load_own *o = &m->own[m->n_own];
	uint8_t settings[LOAD_TOOL_SETTINGS_LEN];
	snprintf((char *)settings, sizeof(settings), "load %u entry %u", m->i, m->n_own + 1);
	struct th_pl_tool_state ts = { .tool = 1 + m->i % TH_WALK_TOOLS, .settings = settings,
				       .settings_len = (uint16_t)strlen((char *)settings) };
	int len = th_cmd_payload_encode(TH_CMD_TOOL_STATE, &ts, o->payload, sizeof(o->payload));
	if (len < 0) {
		load_glue_fail(m->L, "member %u: cannot encode a tool.state payload: %s", m->i, strerror(-len));
		m->next_entry_ns = UINT64_MAX;
		return;
	}
	struct th_logrec_entry *e = &o->e;
	memset(e, 0, sizeof(*e));
	e->version = TH_LOGREC_VERSION;
	e->type = TH_CMD_TOOL_STATE;
	e->scope_kind = TH_SCOPE_TOOL;
	e->scope_id = ts.tool;
	e->lamport = ++m->lamport;
	e->base = e->lamport - 1;
	e->seq = c->c.seq + 1;
	e->time_ns = th_wall_ns();
	memcpy(e->author, m->user.pk, 32);
	memcpy(e->prev, c->c.head, 32);
	e->payload = o->payload;
	e->payload_len = (uint32_t)len;
	uint8_t h[TH_LOGREC_HASH_LEN];
	if (th_logrec_entry_hash(e, h) < 0) {
		load_glue_fail(m->L, "member %u: cannot hash its entry", m->i);
		m->next_entry_ns = UINT64_MAX;
		return;
	}
	th_logrec_sign(h, m->user.sk, e->sig);
	e->has_sig = true;
	th_logrec_chain_advance(&c->c, e, h);
	m->n_own++;
	send_own(m, m->n_own - 1);
}

void load_on_entries(struct load_member *m, const uint8_t *recs, size_t len, uint32_t count)
{
	struct proto_sess_entries all = { .count = 0, .recs = recs, .recs_len = len };
	struct proto_sess_entries_iter it;
	struct th_logrec_entry e;
	uint32_t k = 0;
	proto_sess_entries_iter_init(&it, &all);
	while (proto_sess_entries_next(&it, &e) == 1) {
		k++;
		if (e.lamport > m->lamport)
			m->lamport = e.lamport;
		struct load_chain *c = chain_of(m, e.author, true);
		if (!c) {
			load_glue_fail(m->L, "member %u: more than %u authors", m->i, LOAD_AUTHORS_MAX);
			continue;
		}
		if (e.seq <= c->c.seq) {
			c->dups++;
			continue;
		}
		uint8_t h[TH_LOGREC_HASH_LEN];
		if (e.seq > c->c.seq + 1) {
			c->gaps++; /* a later SYNC round fills it */
			continue;
		}
		if (th_logrec_chain_check(&c->c, &e) != 0 || th_logrec_entry_hash(&e, h) < 0) {
			c->bad++;
			continue;
		}
		th_logrec_chain_advance(&c->c, &e, h);
		m->entries_in++;
	}
	if (k != count)
		load_glue_fail(m->L, "member %u: an ENTRIES group said %u entries and held %u", m->i, count, k);
}

static int head_cmp(const void *a, const void *b)
{
	return memcmp(((const struct proto_sess_sync_head *)a)->key, ((const struct proto_sess_sync_head *)b)->key, 32);
}

/* Our vector: every author we hold, keys in increasing order. */
void load_on_sync_due(struct load_member *m)
{
	struct proto_sess_sync_head heads[LOAD_AUTHORS_MAX];
	uint32_t n = 0;
	for (unsigned i = 0; i < m->n_authors; i++) {
		const struct load_chain *c = &m->authors[i];
		if (!c->c.seq)
			continue;
		memcpy(heads[n].key, c->key, 32);
		heads[n].seq = c->c.seq;
		memcpy(heads[n].hash, c->c.head, sizeof(heads[n].hash));
		n++;
	}
	qsort(heads, n, sizeof(heads[0]), head_cmp);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	if (proto_sess_sync_encode(&w, heads, n) == 0) {
		load_member_send_stream(m, LOAD_CH_COMMANDS, w.data, w.len);
		m->syncs_out++;
	} else {
		load_glue_fail(m->L, "member %u: cannot encode a SYNC", m->i);
	}
	th_wbuf_fini(&w);
}

/* The host's vector: what it lacks of our user's entries goes again. */
void load_on_sync(struct load_member *m, const struct proto_sess_sync *v)
{
	uint64_t host_has = 0;
	for (uint32_t i = 0; i < v->n; i++) {
		struct proto_sess_sync_head h;
		proto_sess_sync_item(v, i, &h);
		if (!memcmp(h.key, m->user.pk, 32))
			host_has = h.seq;
	}
	if (host_has < m->n_own) {
		m->resent += m->n_own - host_has;
		send_own(m, (unsigned)host_has);
	}
}

/* ---- presence in ---------------------------------------------------------------------- */

/* A record of peer k's user arrived at m: its age and gap. */
static void heard(struct load_member *m, int k, uint64_t t_ns, unsigned poses, uint64_t now)
{
	struct load *L = m->L;
	if (k < 0 || (unsigned)k == m->i)
		return;
	struct load_peer *p = &m->peers[k];
	if (L->in_window) {
		if (p->last_rx_ns) {
			uint64_t gap = now - p->last_rx_ns;
			if (gap > p->max_gap_ns)
				p->max_gap_ns = gap;
			if (gap > LOAD_GAP_NS)
				p->gaps++;
		}
		p->updates++;
		p->poses += poses;
		L->s.records_in++;
		L->s.poses_in += poses;
		if (poses)
			th_hist_add(&L->s.age, now > t_ns ? now - t_ns : 0);
	}
	p->last_rx_ns = now;
}

int load_on_pres(void *conn, const uint8_t *msg, size_t len, uint64_t now)
{
	struct load_member *m = conn;
	struct load *L = m->L;
	static struct proto_pres_frame f;
	struct proto_sess_dgram d;
	if (!m->rx || proto_sess_dgram_decode(msg, len, &d) < 0) {
		m->pres_refused++;
		return 0;
	}
	m->pres_frames_in++;
	m->pres_bytes_in += len;
	if (L->in_window) {
		L->s.pres_bytes_in += len;
		L->s.pres_dgrams_in++;
	}
	int r = proto_pres_decode(m->rx, d.frame, d.frame_len, &f);
	if (r < 0) {
		m->pres_refused++;
		return 0;
	}
	proto_pres_tx_on_ack(m->tx, f.ack);
	if (m->last_host_seq && f.seq > m->last_host_seq + 1)
		m->pres_seq_gaps += f.seq - m->last_host_seq - 1;
	m->last_host_seq = f.seq;
	for (unsigned i = 0; i < f.n; i++) {
		const struct proto_pres_user *u = &f.users[i];
		unsigned poses = __builtin_popcount(u->valid & (PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT));
		heard(m, load_member_find(L, u->key), u->t_ns, poses, now);
	}
	return 0;
}

int load_on_voice(void *conn, const uint8_t *msg, size_t len, uint64_t now)
{
	struct load_member *m = conn;
	struct proto_sess_dgram d;
	(void)now;
	if (proto_sess_dgram_decode(msg, len, &d) == 0 && d.kind == PROTO_SESS_DG_VOICE && m->L->in_window)
		m->voice_in++;
	return 0;
}

/* ---- timers --------------------------------------------------------------------------- */

void load_traffic_due(struct load_member *m, uint64_t now)
{
	const struct load_opts *o = &m->L->o;
	if (m->st != LM_ACTIVE)
		return;
	if (now >= m->next_pres_ns) {
		send_pres(m, now);
		uint64_t p = period(o->pres_hz);
		/* Ticks missed while the loop was busy are skipped, not sent in a burst. */
		while (m->next_pres_ns <= now)
			m->next_pres_ns += p;
	}
	if (m->speaks && now >= m->next_voice_ns) {
		send_voice(m);
		uint64_t p = period(o->voice_hz);
		while (m->next_voice_ns <= now)
			m->next_voice_ns += p;
	}
	if (m->L->making_entries && now >= m->next_entry_ns) {
		make_entry(m);
		if (m->next_entry_ns != UINT64_MAX)
			m->next_entry_ns = now + entry_gap(m);
	}
}
