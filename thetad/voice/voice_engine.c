/* The voice pipeline of one daemon as a state machine taking now_ns
 * (voice_engine.h; docs/voice.md, "The engine"). Local clients' chunks go
 * through the VAD and the gate into an Opus encoder and, as PCM, into a small
 * fifo the other local listeners are mixed from; frames from other daemons
 * are checked (voice_packet_samples), rate-limited per speaker and put into
 * that speaker's jitter buffer; every tick each speaker gives at most one
 * 10 ms chunk and each listener gets the others' chunks panned and mixed. */
#include "voice/voice_engine_int.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static uint64_t cpu_now(const struct voice_engine *e)
{
	return e->out.cpu_now ? e->out.cpu_now(e->user) : 0;
}

static void cpu_add(const struct voice_engine *e, uint64_t t0, uint64_t *total)
{
	if (e->out.cpu_now) {
		uint64_t t1 = e->out.cpu_now(e->user);
		if (t1 > t0)
			*total += t1 - t0;
	}
}

/* ---- flood limit ---------------------------------------------------------------------------- */

static void bucket_init(struct voice_bucket *b, uint64_t now_ns)
{
	b->t_ns = now_ns;
	b->tokens = (uint64_t)VOICE_RATE * VOICE_FLOOD_BURST_MS / 1000u;
}

/* Takes `samples` of audio from the bucket: false when the speaker is over
 * VOICE_FLOOD_FACTOR times real time beyond its burst. */
static bool bucket_take(struct voice_bucket *b, unsigned samples, uint64_t now_ns)
{
	const uint64_t cap = (uint64_t)VOICE_RATE * VOICE_FLOOD_BURST_MS / 1000u;
	if (now_ns > b->t_ns) {
		uint64_t dt = now_ns - b->t_ns;
		if (dt > VOICE_NS_PER_S)
			dt = VOICE_NS_PER_S;
		b->tokens += dt * VOICE_RATE * VOICE_FLOOD_FACTOR / VOICE_NS_PER_S;
		if (b->tokens > cap)
			b->tokens = cap;
		b->t_ns = now_ns;
	}
	if (b->tokens < samples)
		return false;
	b->tokens -= samples;
	return true;
}

/* ---- speakers ------------------------------------------------------------------------------- */

static uint64_t entity_of(const uint8_t key[VOICE_KEY_LEN])
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)key[i] << (8 * i);
	return v;
}

static struct voice_spk *spk_find(struct voice_engine *e, const uint8_t key[VOICE_KEY_LEN])
{
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
		if (e->spk[i].used && !memcmp(e->spk[i].key, key, VOICE_KEY_LEN))
			return &e->spk[i];
	return NULL;
}

static void stream_close(struct voice_spk *s)
{
	voice_dec_destroy(&s->dec);
	s->stream = false;
	s->pcm_len = s->pcm_pos = 0;
	s->range_run = 0;
}

static void spk_clear(struct voice_engine *e, struct voice_spk *s)
{
	stream_close(s);
	unsigned idx = (unsigned)(s - e->spk);
	for (unsigned l = 0; l < VOICE_LISTENERS_MAX; l++)
		e->gain[l][idx].tick = 0;
	memset(s, 0, offsetof(struct voice_spk, jb));
	s->used = false;
	s->local = -1;
}

/* The slot of key, made when there is none: a free slot, else the one
 * longest unheard that carries no stream, no local speaker and no mute.
 * NULL when every slot is in use (counted by the caller). */
static struct voice_spk *spk_get(struct voice_engine *e, const uint8_t key[VOICE_KEY_LEN], uint64_t now_ns)
{
	struct voice_spk *s = spk_find(e, key);
	if (s)
		return s;
	struct voice_spk *victim = NULL;
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		struct voice_spk *c = &e->spk[i];
		if (!c->used) {
			victim = c;
			break;
		}
		if (c->stream || c->local >= 0 || c->admin_muted)
			continue;
		if (!victim || c->seen_ns < victim->seen_ns)
			victim = c;
	}
	if (!victim)
		return NULL;
	spk_clear(e, victim);
	s = victim;
	s->used = true;
	s->local = -1;
	memcpy(s->key, key, VOICE_KEY_LEN);
	s->entity = entity_of(key);
	s->seen_ns = now_ns;
	s->pose = VOICE_POSES_MAX;
	voice_spk_set_name(s, NULL);
	return s;
}

static const struct voice_pose *pose_of(struct voice_engine *e, struct voice_spk *s)
{
	if (s->pose < VOICE_POSES_MAX && e->poses[s->pose].used && e->poses[s->pose].entity == s->entity)
		return &e->poses[s->pose].pose;
	for (unsigned i = 0; i < VOICE_POSES_MAX; i++)
		if (e->poses[i].used && e->poses[i].entity == s->entity) {
			s->pose = i;
			return &e->poses[i].pose;
		}
	s->pose = VOICE_POSES_MAX;
	return NULL;
}

/* ---- life cycle ----------------------------------------------------------------------------- */

int voice_engine_create(const struct voice_engine_config *cfg, const struct voice_engine_out *out, void *user,
			struct voice_engine **ep)
{
	if (!out || !ep)
		return -EINVAL;
	struct voice_engine_config c = cfg ? *cfg : (struct voice_engine_config){ .enc.complexity = -1,
										 .enc.fec = true,
										 .enc.dtx = true,
										 .spatial = true };
	if (!c.enc.frame_ms)
		c.enc.frame_ms = VOICE_FRAME_MS_DEFAULT;
	if (c.enc.frame_ms != VOICE_FRAME_MS_MIN && c.enc.frame_ms != VOICE_FRAME_MS_MAX)
		return -EINVAL;
	/* The codec and the detector are tried once here, so that a bad
	 * configuration fails at start and not at the first client. */
	struct voice_enc *enc = NULL;
	int rv = voice_enc_create(&c.enc, &enc);
	if (rv < 0)
		return rv;
	unsigned frame_samples = voice_enc_frame_samples(enc);
	voice_enc_destroy(&enc);
	if (!c.vad)
		c.vad = VOICE_VAD_DEFAULT;
	struct voice_vad *vad = NULL;
	rv = voice_vad_create(c.vad, &vad);
	if (rv == -ENOTSUP && (!cfg || !cfg->vad)) {
		c.vad = VOICE_VAD_ENERGY;
		rv = voice_vad_create(c.vad, &vad);
	}
	if (rv < 0)
		return rv;
	voice_vad_destroy(&vad);

	struct voice_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->cfg = c;
	e->out = *out;
	e->user = user;
	e->frame_samples = frame_samples;
	e->tick = 1;
	struct voice_pose none = { .valid = false };
	e->centre = voice_pan(&none, &none);
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
		e->spk[i].local = -1;
	*ep = e;
	return 0;
}

static void client_drop(struct voice_engine *e, struct voice_client *c)
{
	voice_enc_destroy(&c->enc);
	voice_vad_destroy(&c->vad);
	if (c->spk < VOICE_SPEAKERS_MAX && e->spk[c->spk].local == (int)(c - e->cl)) {
		e->spk[c->spk].local = -1;
		e->spk[c->spk].speaking_until_ns = 0;
	}
	unsigned idx = (unsigned)(c - e->cl);
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
		e->gain[idx][i].tick = 0;
	memset(c, 0, offsetof(struct voice_client, frame));
}

void voice_engine_reset(struct voice_engine *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++)
		if (e->cl[i].used)
			client_drop(e, &e->cl[i]);
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
		if (e->spk[i].used)
			spk_clear(e, &e->spk[i]);
	memset(e->poses, 0, sizeof(e->poses));
}

void voice_engine_destroy(struct voice_engine **ep)
{
	if (!ep || !*ep)
		return;
	voice_engine_reset(*ep);
	free(*ep);
	*ep = NULL;
}

/* ---- local clients -------------------------------------------------------------------------- */

static struct voice_client *client_find(struct voice_engine *e, uint64_t id)
{
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++)
		if (e->cl[i].used && e->cl[i].id == id)
			return &e->cl[i];
	return NULL;
}

static const struct voice_client *client_find_c(const struct voice_engine *e, uint64_t id)
{
	return client_find((struct voice_engine *)e, id);
}

/* Whether c's voice goes out: audio on, not muted by the user or an admin,
 * and in push-to-talk mode only while the key is held. The one client that
 * speaks as its key (the first to join with it) is the one sent. */
bool voice_client_gate_open(const struct voice_engine *e, const struct voice_client *c)
{
	const struct voice_spk *s = &e->spk[c->spk];
	if (!(c->flags & VOICE_CL_ON) || (c->flags & VOICE_CL_MUTED) || s->admin_muted)
		return false;
	if ((c->flags & VOICE_CL_PTT) && !(c->flags & VOICE_CL_TALK))
		return false;
	return s->local == (int)(c - e->cl);
}

/* The gate closed (or the client's stream broke): the partial frame, the
 * chunks waiting for local listeners and the VAD's hangover go (a speaker
 * muted mid-word is not "speaking" for the hangover when unmuted). */
static void client_flush(struct voice_client *c)
{
	if (c->vad)
		voice_vad_reset(c->vad);
	c->frame_len = 0;
	c->frame_speech = false;
	c->fifo_n = 0;
	c->fifo_ticks = 0;
	c->fifo_min = VOICE_FIFO_CHUNKS;
}

int voice_engine_client(struct voice_engine *e, uint64_t client_id, const uint8_t speaker[VOICE_KEY_LEN],
			const char *name, uint64_t now_ns)
{
	if (!e || !speaker)
		return -EINVAL;
	struct voice_client *c = client_find(e, client_id);
	if (c && memcmp(e->spk[c->spk].key, speaker, VOICE_KEY_LEN)) {
		/* The same client as another user: a new speaker. */
		voice_engine_client_gone(e, client_id);
		c = NULL;
	}
	if (!c) {
		for (unsigned i = 0; i < VOICE_LISTENERS_MAX && !c; i++)
			if (!e->cl[i].used)
				c = &e->cl[i];
		if (!c)
			return -ENOSPC;
		struct voice_spk *s = spk_get(e, speaker, now_ns);
		if (!s) {
			e->tot.speakers_full++;
			return -ENOSPC;
		}
		int rv = voice_enc_create(&e->cfg.enc, &c->enc);
		if (rv < 0)
			return rv;
		rv = voice_vad_create(e->cfg.vad, &c->vad);
		if (rv < 0) {
			voice_enc_destroy(&c->enc);
			return rv;
		}
		voice_enc_set_loss(c->enc, e->loss_pct);
		c->used = true;
		c->id = client_id;
		c->flags = 0;
		c->info = 0;
		c->spk = (unsigned)(s - e->spk);
		c->seq_init = false;
		client_flush(c);
		bucket_init(&c->bucket, now_ns);
		if (s->local < 0)
			s->local = (int)(c - e->cl);
		/* A local voice replaces one heard from elsewhere under the same key. */
		stream_close(s);
	}
	struct voice_spk *s = &e->spk[c->spk];
	if (name && *name)
		voice_spk_set_name(s, name);
	s->seen_ns = now_ns;
	return 0;
}

void voice_engine_client_gone(struct voice_engine *e, uint64_t client_id)
{
	struct voice_client *c = e ? client_find(e, client_id) : NULL;
	if (!c)
		return;
	unsigned spk = c->spk;
	bool speaker = e->spk[spk].local == (int)(c - e->cl);
	client_drop(e, c);
	if (!speaker)
		return;
	/* Another local client of the same user speaks from now on. */
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++)
		if (e->cl[i].used && e->cl[i].spk == spk) {
			e->spk[spk].local = (int)i;
			break;
		}
}

int voice_engine_client_state(struct voice_engine *e, uint64_t client_id, uint32_t flags, uint64_t now_ns)
{
	if (!e)
		return -EINVAL;
	struct voice_client *c = client_find(e, client_id);
	if (!c)
		return -ENOENT;
	if (flags & ~VOICE_CL_ALL)
		return -EINVAL;
	bool was = voice_client_gate_open(e, c);
	c->flags = flags;
	if (was && !voice_client_gate_open(e, c)) {
		client_flush(c);
		e->spk[c->spk].speaking_until_ns = 0;
	}
	e->spk[c->spk].seen_ns = now_ns;
	return 0;
}

static uint32_t client_info(const struct voice_engine *e, const struct voice_client *c)
{
	uint32_t v = 0;
	if (c->flags & VOICE_CL_ON)
		v |= VOICE_INFO_ON;
	if (c->flags & VOICE_CL_MUTED)
		v |= VOICE_INFO_MUTED;
	if (e->spk[c->spk].admin_muted)
		v |= VOICE_INFO_ADMIN_MUTED;
	if (voice_client_gate_open(e, c))
		v |= VOICE_INFO_SENDING;
	return v;
}

uint32_t voice_engine_client_info(const struct voice_engine *e, uint64_t client_id)
{
	const struct voice_client *c = e ? client_find_c(e, client_id) : NULL;
	return c ? client_info(e, c) : 0;
}

static void send_frame(struct voice_engine *e, struct voice_client *c, uint64_t now_ns)
{
	struct voice_spk *s = &e->spk[c->spk];
	uint8_t buf[VOICE_OPUS_MAX];
	uint64_t t0 = cpu_now(e);
	int n = voice_enc_frame(c->enc, c->frame, buf, sizeof(buf));
	cpu_add(e, t0, &e->tot.encode_ns);
	e->tot.frames_encoded++;
	if (n < 0) {
		e->tot.encode_errors++;
		return;
	}
	if (n == 0) {
		e->tot.frames_dtx++;
		return;
	}
	struct voice_packet p = {
		.seq = s->tx_seq++,
		.ts = c->frame_ts,
		.flags = c->frame_speech ? VOICE_PKT_F_SPEECH : 0,
		.len = (uint16_t)n,
		.data = buf,
	};
	memcpy(p.speaker, s->key, VOICE_KEY_LEN);
	e->tot.packets_out++;
	e->tot.bytes_out += (uint64_t)n;
	s->packets++;
	s->bytes += (uint64_t)n;
	voice_spk_count_bytes(s, (size_t)n, now_ns);
	if (e->out.packet)
		e->out.packet(e->user, &p);
}

int voice_engine_capture(struct voice_engine *e, uint64_t client_id, uint32_t seq, uint64_t t_ns,
			 const int16_t *pcm, size_t samples, uint64_t now_ns)
{
	if (!e)
		return -EINVAL;
	struct voice_client *c = client_find(e, client_id);
	if (!c) {
		e->tot.unknown_client++;
		return -ENOENT;
	}
	if (!pcm || samples != VOICE_CHUNK_SAMPLES)
		return -EINVAL;
	e->tot.chunks_in++;
	struct voice_spk *s = &e->spk[c->spk];
	if (!bucket_take(&c->bucket, VOICE_CHUNK_SAMPLES, now_ns)) {
		e->tot.flood_drops++;
		s->dropped++;
		return -EDQUOT;
	}

	if (s->local != (int)(c - e->cl)) {
		/* Another client of this user speaks: this one only listens. */
		client_flush(c);
		return 0;
	}

	/* The speaker's clock: one chunk per chunk, and on top the chunks the
	 * client lost or the time nothing came (the speaker's clock is the
	 * slot's: it runs on when another client of the user takes over). */
	uint32_t advance = 1;
	bool broken = !c->seq_init;
	if (c->seq_init) {
		uint32_t gap = seq - c->next_seq;
		if (gap != 0) {
			broken = true;
			if (gap < (uint32_t)(VOICE_TS_GAP_MS / VOICE_CHUNK_MS))
				advance += gap;
		}
	}
	if (s->tx_last_ns && now_ns > s->tx_last_ns + VOICE_TS_GAP_MS * VOICE_NS_PER_MS) {
		broken = true;
		uint64_t chunks = (now_ns - s->tx_last_ns) / (VOICE_CHUNK_MS * VOICE_NS_PER_MS);
		if (chunks > advance)
			advance = chunks > UINT32_MAX / VOICE_CHUNK_SAMPLES ? UINT32_MAX / VOICE_CHUNK_SAMPLES
									 : (uint32_t)chunks;
	}
	if (s->tx_last_ns)
		s->tx_ts += (advance - 1) * VOICE_CHUNK_SAMPLES;
	c->seq_init = true;
	c->next_seq = seq + 1;
	s->tx_last_ns = now_ns;
	uint32_t ts = s->tx_ts;
	s->tx_ts += VOICE_CHUNK_SAMPLES;
	s->seen_ns = now_ns;

	if (!voice_client_gate_open(e, c)) {
		client_flush(c);
		return 0;
	}
	if (broken)
		c->frame_len = 0;

	bool speech = voice_vad_chunk(c->vad, pcm);
	if (speech)
		s->speaking_until_ns = now_ns + VOICE_SPEAKING_HOLD_MS * VOICE_NS_PER_MS;

	/* To the other local listeners. */
	if (c->fifo_n == VOICE_FIFO_CHUNKS) {
		c->fifo_head = (c->fifo_head + 1) % VOICE_FIFO_CHUNKS;
		c->fifo_n--;
		e->tot.fifo_overruns++;
	}
	unsigned tail = (c->fifo_head + c->fifo_n) % VOICE_FIFO_CHUNKS;
	memcpy(c->fifo[tail].pcm, pcm, sizeof(c->fifo[tail].pcm));
	c->fifo[tail].t_ns = t_ns;
	c->fifo_n++;

	/* To the encoder. */
	if (c->frame_len == 0) {
		c->frame_ts = ts;
		c->frame_speech = false;
	}
	memcpy(c->frame + c->frame_len, pcm, VOICE_CHUNK_SAMPLES * sizeof(int16_t));
	c->frame_len += VOICE_CHUNK_SAMPLES;
	c->frame_speech |= speech;
	if (c->frame_len >= e->frame_samples) {
		send_frame(e, c, now_ns);
		c->frame_len = 0;
	}
	return 0;
}

/* ---- remote speakers ------------------------------------------------------------------------ */

/* Received frames for the loss figure: seq extended over wraps. */
static void count_received(struct voice_spk *s, uint32_t seq)
{
	if (!s->seq_init) {
		s->seq_init = true;
		s->seq_base = s->seq_max = (1ull << 32) + seq;
	} else {
		int32_t d = (int32_t)(seq - (uint32_t)s->seq_max);
		if (d > 0)
			s->seq_max += (uint64_t)d;
	}
	s->received++;
}

static int stream_open(struct voice_engine *e, struct voice_spk *s, uint64_t now_ns)
{
	int rv = voice_dec_create(&s->dec);
	if (rv < 0)
		return rv;
	voice_jb_init(&s->jb, &e->cfg.jb);
	voice_jb_set_loss(&s->jb, e->loss_pct);
	s->jb_concealed = 0;
	bucket_init(&s->bucket, now_ns);
	s->stream = true;
	s->seq_init = false;
	s->received = 0;
	s->snap_n = s->snap_head = 0;
	s->pcm_len = s->pcm_pos = 0;
	s->range_run = 0;
	return 0;
}

int voice_engine_packet(struct voice_engine *e, const struct voice_packet *p, uint64_t now_ns)
{
	if (!e || !p)
		return -EINVAL;
	e->tot.packets_in++;
	e->tot.bytes_in += p->len;
	if (!p->len || p->len > VOICE_OPUS_MAX || !p->data) {
		e->tot.bad_packets++;
		return -EMSGSIZE;
	}
	int samples = voice_packet_samples(p->data, p->len);
	if (samples < 0 || (p->flags & ~VOICE_PKT_F_ALL)) {
		e->tot.bad_packets++;
		struct voice_spk *known = spk_find(e, p->speaker);
		if (known)
			known->dropped++;
		return -EBADMSG;
	}
	struct voice_spk *s = spk_get(e, p->speaker, now_ns);
	if (!s) {
		e->tot.speakers_full++;
		return -ENOSPC;
	}
	if (s->local >= 0) {
		/* This key speaks here: a frame of it from elsewhere is an echo. */
		e->tot.echo_drops++;
		s->dropped++;
		return -EEXIST;
	}
	if (s->admin_muted) {
		s->dropped++;
		return 0;
	}
	if (!s->stream) {
		int rv = stream_open(e, s, now_ns);
		if (rv < 0)
			return rv;
	}
	if (!bucket_take(&s->bucket, (unsigned)samples, now_ns)) {
		e->tot.flood_drops++;
		s->dropped++;
		return -EDQUOT;
	}
	int rv = voice_jb_put(&s->jb, p->seq, p->ts, (unsigned)samples, p->flags, p->data, p->len, now_ns);
	bool refused = rv == -ERANGE || rv == -EALREADY;
	if (refused && ++s->range_run >= VOICE_RESYNC_FRAMES) {
		/* Far from the stream, or already played, frame after frame with
		 * none taken between: the speaker's daemon started over. */
		voice_jb_init(&s->jb, &e->cfg.jb);
		voice_jb_set_loss(&s->jb, e->loss_pct);
		s->jb_concealed = 0;
		s->seq_init = false;
		s->received = 0;
		s->snap_n = s->snap_head = 0;
		s->pcm_len = s->pcm_pos = 0;
		rv = voice_jb_put(&s->jb, p->seq, p->ts, (unsigned)samples, p->flags, p->data, p->len, now_ns);
	}
	if (rv != -ERANGE && rv != -EALREADY)
		s->range_run = 0;
	if (rv == 0 || rv == -ETIME) {
		count_received(s, p->seq);
		s->packets++;
		s->bytes += p->len;
		s->seen_ns = now_ns;
		voice_spk_count_bytes(s, p->len, now_ns);
	}
	if (rv == -ETIME) {
		e->tot.frames_late++;
		s->late++;
	} else if (rv < 0) {
		s->dropped++;
	}
	return rv;
}

void voice_engine_name(struct voice_engine *e, const uint8_t speaker[VOICE_KEY_LEN], const char *name)
{
	if (!e || !speaker)
		return;
	struct voice_spk *s = spk_find(e, speaker);
	if (!s) {
		/* Remembered before the first frame; the slot is kept for the
		 * name until it is needed for a speaker actually heard. */
		s = spk_get(e, speaker, 0);
		if (!s) {
			e->tot.speakers_full++;
			return;
		}
	}
	voice_spk_set_name(s, name);
}

void voice_engine_pose(struct voice_engine *e, uint64_t entity, const struct voice_pose *head, uint64_t now_ns)
{
	if (!e || !head)
		return;
	/* Its slot, else a free one, else the one updated longest ago. */
	struct voice_pose_slot *slot = NULL, *spare = NULL;
	for (unsigned i = 0; i < VOICE_POSES_MAX && !slot; i++) {
		struct voice_pose_slot *p = &e->poses[i];
		if (p->used && p->entity == entity)
			slot = p;
		else if (!spare || (spare->used && (!p->used || p->t_ns < spare->t_ns)))
			spare = p;
	}
	if (!slot) {
		slot = spare;
		slot->used = true;
		slot->entity = entity;
	}
	slot->t_ns = now_ns;
	slot->pose = *head;
	/* A pose that is not finite is no pose: the speaker is centred, and
	 * nothing not finite reaches the mixer. */
	for (unsigned i = 0; i < 3; i++)
		if (!isfinite(head->p[i]) || fabsf(head->p[i]) > VOICE_POSE_MAX_M)
			slot->pose.valid = false;
	for (unsigned i = 0; i < 4; i++)
		if (!isfinite(head->q[i]))
			slot->pose.valid = false;
}

void voice_engine_admin_mute(struct voice_engine *e, const uint8_t speaker[VOICE_KEY_LEN], bool muted)
{
	if (!e || !speaker)
		return;
	struct voice_spk *s = muted ? spk_get(e, speaker, 0) : spk_find(e, speaker);
	if (!s) {
		if (muted)
			e->tot.speakers_full++;
		return;
	}
	s->admin_muted = muted;
	if (muted) {
		s->speaking_until_ns = 0;
		s->pcm_len = s->pcm_pos = 0;
		if (s->local >= 0)
			client_flush(&e->cl[s->local]);
	}
}

void voice_engine_set_loss(struct voice_engine *e, unsigned pct)
{
	if (!e)
		return;
	e->loss_pct = pct > 100u ? 100u : pct;
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++)
		if (e->cl[i].used)
			voice_enc_set_loss(e->cl[i].enc, e->loss_pct);
	/* the jitter buffers look ahead for FEC only on a lossy link */
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
		if (e->spk[i].stream)
			voice_jb_set_loss(&e->spk[i].jb, e->loss_pct);
}

/* ---- every 10 ms ---------------------------------------------------------------------------- */

struct voice_src {
	unsigned spk;
	const int16_t *pcm;
	uint64_t t_ns;
	const struct voice_pose *pose;
};

/* Decodes one piece the jitter buffer gave into pcm[samples]. */
static void decode_piece(struct voice_engine *e, struct voice_spk *s, const struct voice_jb_out *o, int16_t *pcm)
{
	uint64_t t0 = cpu_now(e);
	int rv;
	switch (o->kind) {
	case VOICE_JB_FRAME:
		rv = voice_dec_frame(s->dec, o->data, o->len, pcm, o->samples);
		if (rv >= 0) {
			e->tot.frames_decoded++;
		} else {
			e->tot.frames_concealed++;
			s->concealed++;
		}
		break;
	case VOICE_JB_FEC:
		rv = voice_dec_fec(s->dec, o->data, o->len, pcm, o->samples);
		if (rv >= 0) {
			e->tot.frames_fec++;
			s->fec++;
		} else {
			e->tot.frames_concealed++;
			s->concealed++;
		}
		break;
	default:
		/* A lost frame is counted by the jitter buffer (stream_count);
		 * audio it inserts while its delay grows is no frame of the
		 * stream. */
		rv = voice_dec_plc(s->dec, pcm, o->samples);
		break;
	}
	cpu_add(e, t0, &e->tot.decode_ns);
	if (rv == -EINVAL || rv == -EIO)
		memset(pcm, 0, o->samples * sizeof(int16_t));
}

/* Frames of the stream the jitter buffer found lost (concealed or
 * skipped) since the last look. */
static void stream_count(struct voice_engine *e, struct voice_spk *s, uint64_t now_ns)
{
	struct voice_jb_stats js;
	voice_jb_stats(&s->jb, now_ns, &js);
	if (js.concealed > s->jb_concealed) {
		uint64_t d = js.concealed - s->jb_concealed;
		e->tot.frames_concealed += d;
		s->concealed += d;
	}
	s->jb_concealed = js.concealed;
}

/* The next 10 ms of a remote speaker, or NULL while it is silent. The
 * jitter buffer decides what is due (every piece up to now, in order); the
 * pieces are decoded into the speaker's queue and one chunk a tick is
 * taken from it. */
static const int16_t *remote_chunk(struct voice_engine *e, struct voice_spk *s, uint64_t now_ns)
{
	for (unsigned k = 0; k < VOICE_JB_PIECES_MAX; k++) {
		struct voice_jb_out o;
		if (voice_jb_get(&s->jb, now_ns, &o) <= 0 || o.kind == VOICE_JB_SILENT)
			break;
		if (o.samples != VOICE_CHUNK_SAMPLES && o.samples != 2u * VOICE_CHUNK_SAMPLES)
			break;
		if (s->admin_muted)
			continue;
		if (s->pcm_pos + s->pcm_len + o.samples > VOICE_PLAY_QUEUE) {
			if (s->pcm_len + o.samples > VOICE_PLAY_QUEUE) {
				/* More is due than a tick takes: the oldest goes. */
				unsigned drop = s->pcm_len + o.samples - VOICE_PLAY_QUEUE;
				s->pcm_pos += drop;
				s->pcm_len -= drop;
				e->tot.samples_skipped += drop;
			}
			memmove(s->pcm, s->pcm + s->pcm_pos, s->pcm_len * sizeof(int16_t));
			s->pcm_pos = 0;
		}
		decode_piece(e, s, &o, s->pcm + s->pcm_pos + s->pcm_len);
		s->pcm_len += o.samples;
		s->piece_samples = o.samples;
		if ((o.kind == VOICE_JB_FRAME || o.kind == VOICE_JB_FEC) && (o.flags & VOICE_PKT_F_SPEECH))
			s->speaking_until_ns = now_ns + VOICE_SPEAKING_HOLD_MS * VOICE_NS_PER_MS;
	}
	stream_count(e, s, now_ns);
	if (!s->pcm_len || s->admin_muted) {
		s->pcm_pos = s->pcm_len = 0;
		return NULL;
	}
	if (s->pcm_len < VOICE_CHUNK_SAMPLES) {
		/* The end of a talkspurt: the rest of the chunk is silence. */
		memmove(s->pcm, s->pcm + s->pcm_pos, s->pcm_len * sizeof(int16_t));
		memset(s->pcm + s->pcm_len, 0, (VOICE_CHUNK_SAMPLES - s->pcm_len) * sizeof(int16_t));
		s->pcm_pos = 0;
		s->pcm_len = VOICE_CHUNK_SAMPLES;
	}
	const int16_t *pcm = s->pcm + s->pcm_pos;
	s->pcm_pos += VOICE_CHUNK_SAMPLES;
	s->pcm_len -= VOICE_CHUNK_SAMPLES;
	/* On schedule, what is left is the rest of the last piece given (half
	 * of a 20 ms frame, nothing of a 10 ms one). More means a late tick
	 * took pieces that were due earlier: what the listener can no longer
	 * hear in time goes, so a stall does not leave a standing delay. */
	unsigned keep = s->piece_samples > VOICE_CHUNK_SAMPLES ? s->piece_samples - VOICE_CHUNK_SAMPLES : 0;
	if (s->pcm_len > keep) {
		unsigned drop = s->pcm_len - keep;
		s->pcm_pos += drop;
		s->pcm_len -= drop;
		e->tot.samples_skipped += drop;
	}
	return pcm;
}

static const int16_t *local_chunk(struct voice_client *c, uint64_t *t_ns, struct voice_engine *e)
{
	/* The fewest chunks held at a tick over the window is the delay that
	 * stood all along: beyond the one this tick takes, it goes. */
	if (c->fifo_n < c->fifo_min)
		c->fifo_min = c->fifo_n;
	if (++c->fifo_ticks >= VOICE_FIFO_TRIM_TICKS) {
		unsigned drop = c->fifo_min > 1 ? c->fifo_min - 1 : 0;
		c->fifo_head = (c->fifo_head + drop) % VOICE_FIFO_CHUNKS;
		c->fifo_n -= drop;
		e->tot.fifo_overruns += drop;
		c->fifo_ticks = 0;
		c->fifo_min = VOICE_FIFO_CHUNKS;
	}
	if (!c->fifo_n)
		return NULL;
	const int16_t *pcm = c->fifo[c->fifo_head].pcm;
	*t_ns = c->fifo[c->fifo_head].t_ns;
	c->fifo_head = (c->fifo_head + 1) % VOICE_FIFO_CHUNKS;
	c->fifo_n--;
	/* Still valid until the next capture: the tick mixes before returning. */
	return pcm;
}

static void mix_listener(struct voice_engine *e, unsigned li, const struct voice_src *src, unsigned n)
{
	struct voice_client *c = &e->cl[li];
	const struct voice_pose none = { .valid = false };
	const struct voice_pose *lpose = pose_of(e, &e->spk[c->spk]);
	if (!lpose)
		lpose = &none;
	float acc[2 * VOICE_CHUNK_SAMPLES];
	bool any = false;
	uint64_t t_ns = 0;
	for (unsigned k = 0; k < n; k++) {
		if (src[k].spk == c->spk)
			continue; /* nobody hears themself */
		struct voice_gains to = e->cfg.spatial ? voice_pan(lpose, src[k].pose) : e->centre;
		struct voice_gain_state *g = &e->gain[li][src[k].spk];
		struct voice_gains from = g->tick && g->tick + 1 == e->tick ? g->g : to;
		if (!any)
			memset(acc, 0, sizeof(acc));
		voice_mix_add(acc, src[k].pcm, from, to);
		g->g = to;
		g->tick = e->tick;
		any = true;
		if (src[k].t_ns > t_ns)
			t_ns = src[k].t_ns;
	}
	if (!any)
		return;
	int16_t out[2 * VOICE_CHUNK_SAMPLES];
	voice_mix_out(acc, out);
	e->tot.chunks_played++;
	if (e->out.play)
		e->out.play(e->user, c->id, out, t_ns);
}

void voice_engine_tick(struct voice_engine *e, uint64_t now_ns)
{
	if (!e)
		return;
	e->tick++;
	struct voice_src src[VOICE_SPEAKERS_MAX];
	unsigned n = 0;
	const struct voice_pose none = { .valid = false };

	if (now_ns >= e->next_snap_ns) {
		e->next_snap_ns = now_ns + VOICE_NS_PER_S;
		for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++)
			if (e->spk[i].used && e->spk[i].stream)
				voice_spk_loss_snapshot(&e->spk[i]);
	}

	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		struct voice_spk *s = &e->spk[i];
		if (!s->used || !s->stream)
			continue;
		if (now_ns > s->seen_ns + VOICE_SPEAKER_IDLE_MS * VOICE_NS_PER_MS) {
			stream_close(s);
			continue;
		}
		const int16_t *pcm = remote_chunk(e, s, now_ns);
		if (pcm && n < VOICE_SPEAKERS_MAX) {
			const struct voice_pose *pose = pose_of(e, s);
			src[n++] = (struct voice_src){ .spk = i, .pcm = pcm, .pose = pose ? pose : &none };
		}
	}
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++) {
		struct voice_client *c = &e->cl[i];
		if (!c->used || !voice_client_gate_open(e, c) || n >= VOICE_SPEAKERS_MAX)
			continue;
		uint64_t t_ns = 0;
		const int16_t *pcm = local_chunk(c, &t_ns, e);
		if (!pcm)
			continue;
		const struct voice_pose *pose = pose_of(e, &e->spk[c->spk]);
		src[n++] = (struct voice_src){ .spk = c->spk, .pcm = pcm, .t_ns = t_ns, .pose = pose ? pose : &none };
	}

	uint64_t t0 = cpu_now(e);
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++)
		if (e->cl[i].used && (e->cl[i].flags & VOICE_CL_ON))
			mix_listener(e, i, src, n);
	cpu_add(e, t0, &e->tot.mix_ns);

	/* SESSION_INFO is due when who speaks or a client's own state changed. */
	bool changed = false;
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		struct voice_spk *s = &e->spk[i];
		if (!s->used)
			continue;
		bool sp = voice_spk_speaking(e, s, now_ns);
		if (sp != s->speaking) {
			s->speaking = sp;
			changed = true;
		}
	}
	for (unsigned i = 0; i < VOICE_LISTENERS_MAX; i++) {
		struct voice_client *c = &e->cl[i];
		if (!c->used)
			continue;
		uint32_t info = client_info(e, c);
		if (info != c->info) {
			c->info = info;
			changed = true;
		}
	}
	if (changed && e->out.changed)
		e->out.changed(e->user);
}
