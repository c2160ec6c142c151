/* libFuzzer: the voice engine driven by a script read from the bytes —
 * frames from other daemons (real Opus frames of 10 and 20 ms, mutated or
 * raw bytes, for a few speakers including the local ones, any seq, ts and
 * flags), local chunks (any seq, a tone or raw samples), client states,
 * admin mutes, names, poses (NaN and infinities too), clients leaving and
 * coming back, resets, and ticks after any time. Traps if a call returns
 * anything its contract does not list, if a listener is played to twice in
 * a tick or while its audio is off, if the totals disagree with the calls,
 * or if the speakers listed or the speaking names break their bounds. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voice/voice_engine.h"

#define MS      1000000ull
#define CLIENTS 3u
#define KEYS    6u  /* 0..1: the local clients' keys */
#define FORGED  4u

struct fz {
	struct voice_engine *e;
	uint64_t now;
	uint64_t tick;
	unsigned plays[CLIENTS];
	uint64_t played_tick[CLIENTS];
	uint32_t flags[CLIENTS];
	bool linked[CLIENTS];
	unsigned key[CLIENTS];
	uint64_t packets_in, chunks_in;
};

static uint8_t forged[FORGED][VOICE_OPUS_MAX];
static int forged_len[FORGED];

static void key_of(uint8_t key[VOICE_KEY_LEN], unsigned who)
{
	for (unsigned i = 0; i < VOICE_KEY_LEN; i++)
		key[i] = (uint8_t)(0x40 + who * 29u + i);
}

static void on_play(void *user, uint64_t id, const int16_t *stereo, uint64_t t_ns)
{
	struct fz *f = user;
	if (id >= CLIENTS || !f->linked[id] || !(f->flags[id] & VOICE_CL_ON) || f->played_tick[id] == f->tick)
		abort();
	f->played_tick[id] = f->tick;
	f->plays[id]++;
}

static void on_packet(void *user, const struct voice_packet *p)
{
	if (!p->len || p->len > VOICE_OPUS_MAX || voice_packet_samples(p->data, p->len) < 0)
		abort();
}

static void on_changed(void *user)
{
}

static void forge_once(void)
{
	if (forged_len[0])
		return;
	for (unsigned k = 0; k < FORGED; k++) {
		struct voice_enc_config c = { .frame_ms = k & 1 ? 10 : 20, .complexity = 0, .fec = true };
		struct voice_enc *enc = NULL;
		if (voice_enc_create(&c, &enc) < 0)
			abort();
		voice_enc_set_loss(enc, 20);
		int16_t pcm[VOICE_FRAME_SAMPLES_MAX];
		int n = 0;
		for (unsigned rep = 0; rep < 4; rep++) { /* a few frames in, so FEC is there */
			for (unsigned i = 0; i < voice_enc_frame_samples(enc); i++)
				pcm[i] = (int16_t)(6000.0 * sin(0.05 * (double)(i + rep * 960u) * (1 + k)));
			n = voice_enc_frame(enc, pcm, forged[k], sizeof(forged[k]));
		}
		if (n <= 0)
			abort();
		forged_len[k] = n;
		voice_enc_destroy(&enc);
	}
}

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct rd *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t u16(struct rd *r)
{
	uint16_t lo = u8(r);
	return (uint16_t)(lo | (uint16_t)u8(r) << 8);
}

static float f32(struct rd *r)
{
	uint8_t b = u8(r);
	switch (b & 7) {
	case 0:
		return NAN;
	case 1:
		return INFINITY;
	case 2:
		return -1e30f;
	default:
		return (float)((int8_t)u8(r)) / 16.0f;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	forge_once();
	struct fz f = { .now = 1000 * MS };
	struct voice_engine_out out = { .packet = on_packet, .play = on_play, .changed = on_changed };
	struct voice_engine_config cfg = {
		.enc = { .frame_ms = size && (data[0] & 1) ? 10 : 20, .complexity = 0, .fec = true, .dtx = true },
		.vad = VOICE_VAD_ENERGY,
		.spatial = true,
	};
	if (voice_engine_create(&cfg, &out, &f, &f.e) < 0)
		abort();
	uint32_t seq[KEYS] = { 0 }, ts[KEYS] = { 0 }, cseq[CLIENTS] = { 0 };
	uint64_t phase = 0;
	struct rd r = { data, size };
	unsigned ops = 0;
	while (r.n && ops++ < 4000) {
		uint8_t op = u8(&r);
		switch (op % 9) {
		case 0: { /* a frame from another daemon */
			unsigned who = u8(&r) % KEYS;
			seq[who] += (uint32_t)(int8_t)u8(&r);
			ts[who] += (uint32_t)(int16_t)u16(&r);
			uint8_t buf[VOICE_OPUS_MAX + 8];
			uint8_t how = u8(&r);
			size_t len;
			if (how < 200) {
				unsigned k = how % FORGED;
				len = (size_t)forged_len[k];
				memcpy(buf, forged[k], len);
				if (how >= 100 && len) /* one byte changed */
					buf[u8(&r) % len] ^= u8(&r);
			} else {
				len = u8(&r) * 2u;
				if (len > sizeof(buf))
					len = sizeof(buf);
				for (size_t i = 0; i < len; i++)
					buf[i] = u8(&r);
			}
			struct voice_packet p = { .seq = seq[who]++, .ts = ts[who], .flags = u8(&r) & 3,
						  .len = (uint16_t)len, .data = buf };
			ts[who] += 960;
			key_of(p.speaker, who);
			int rv = voice_engine_packet(f.e, &p, f.now);
			f.packets_in++;
			if (rv != 0 && rv != -EBADMSG && rv != -EMSGSIZE && rv != -EDQUOT && rv != -EALREADY &&
			    rv != -ETIME && rv != -ERANGE && rv != -ENOSPC && rv != -EEXIST)
				abort();
			break;
		}
		case 1: { /* a microphone chunk */
			unsigned c = u8(&r) % (CLIENTS + 1);
			int16_t pcm[VOICE_CHUNK_SAMPLES];
			uint8_t how = u8(&r);
			for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++, phase++)
				pcm[i] = how & 1 ? (int16_t)(how * 97u * i)
						 : (int16_t)(8000.0 * sin(0.06 * (double)phase));
			if (how & 2)
				cseq[c % CLIENTS] += u8(&r);
			int rv = voice_engine_capture(f.e, c, cseq[c % CLIENTS]++, f.now, pcm, VOICE_CHUNK_SAMPLES,
						      f.now);
			bool known = c < CLIENTS && f.linked[c];
			if (known)
				f.chunks_in++;
			if (known ? (rv != 0 && rv != -EDQUOT) : rv != -ENOENT)
				abort();
			break;
		}
		case 2: { /* time passes, a tick */
			f.now += (u8(&r) % 50u) * MS;
			f.tick++;
			voice_engine_tick(f.e, f.now);
			break;
		}
		case 3: { /* a client links (again) */
			unsigned c = u8(&r) % CLIENTS;
			uint8_t key[VOICE_KEY_LEN];
			unsigned who = c < 2 ? c : u8(&r) % KEYS;
			key_of(key, who);
			char name[VOICE_NAME_MAX + 8];
			size_t n = u8(&r) % sizeof(name);
			for (size_t i = 0; i < n; i++)
				name[i] = (char)(u8(&r) | 1);
			name[n] = '\0';
			int rv = voice_engine_client(f.e, c, key, name, f.now);
			if (rv != 0)
				abort();
			if (!f.linked[c] || f.key[c] != who)
				f.flags[c] = 0; /* a new client, or the same one as another user */
			f.linked[c] = true;
			f.key[c] = who;
			break;
		}
		case 4: { /* VOICE_STATE */
			unsigned c = u8(&r) % CLIENTS;
			uint32_t fl = u8(&r) & 0x1f;
			int rv = voice_engine_client_state(f.e, c, fl, f.now);
			if (!f.linked[c] ? rv != -ENOENT : (fl & ~VOICE_CL_ALL) ? rv != -EINVAL : rv != 0)
				abort();
			if (rv == 0)
				f.flags[c] = fl;
			break;
		}
		case 5: { /* an admin mutes or unmutes */
			uint8_t key[VOICE_KEY_LEN];
			key_of(key, u8(&r) % KEYS);
			voice_engine_admin_mute(f.e, key, u8(&r) & 1);
			break;
		}
		case 6: { /* a name */
			uint8_t key[VOICE_KEY_LEN];
			key_of(key, u8(&r) % KEYS);
			char name[VOICE_NAME_MAX + 8];
			size_t n = u8(&r) % sizeof(name);
			for (size_t i = 0; i < n; i++)
				name[i] = (char)u8(&r);
			name[n] = '\0';
			voice_engine_name(f.e, key, name);
			break;
		}
		case 7: { /* a pose */
			uint8_t key[VOICE_KEY_LEN];
			key_of(key, u8(&r) % KEYS);
			uint64_t ent = 0;
			for (unsigned i = 0; i < 8; i++)
				ent |= (uint64_t)key[i] << (8 * i);
			struct voice_pose p = { .valid = u8(&r) & 1 };
			for (unsigned i = 0; i < 3; i++)
				p.p[i] = f32(&r);
			for (unsigned i = 0; i < 4; i++)
				p.q[i] = f32(&r);
			voice_engine_pose(f.e, ent, &p, f.now);
			break;
		}
		default: { /* a client goes, the loss changes, or the session does */
			uint8_t what = u8(&r);
			if (what < 100) {
				voice_engine_client_gone(f.e, what % CLIENTS);
				f.linked[what % CLIENTS] = false;
			} else if (what < 250) {
				voice_engine_set_loss(f.e, what - 100u);
			} else {
				voice_engine_reset(f.e);
				memset(f.linked, 0, sizeof(f.linked));
			}
			break;
		}
		}
		for (unsigned c = 0; c < CLIENTS; c++) {
			uint32_t info = voice_engine_client_info(f.e, c);
			if (!f.linked[c] ? info != 0 : (info & VOICE_INFO_ON) != (f.flags[c] & VOICE_CL_ON))
				abort();
			if ((info & VOICE_INFO_SENDING) && (info & (VOICE_INFO_MUTED | VOICE_INFO_ADMIN_MUTED)))
				abort();
		}
	}

	struct voice_engine_totals t;
	voice_engine_totals(f.e, &t);
	if (t.packets_in != f.packets_in || t.chunks_in != f.chunks_in || t.flood_drops > t.packets_in + t.chunks_in ||
	    t.bad_packets > t.packets_in || t.packets_out + t.frames_dtx + t.encode_errors != t.frames_encoded)
		abort();
	unsigned played = 0;
	for (unsigned c = 0; c < CLIENTS; c++)
		played += f.plays[c];
	if (t.chunks_played != played)
		abort();
	struct voice_speaker_stats st[VOICE_SPEAKERS_MAX];
	unsigned n = voice_engine_speakers(f.e, st, VOICE_SPEAKERS_MAX, f.now);
	if (n > VOICE_SPEAKERS_MAX)
		abort();
	for (unsigned i = 0; i < n; i++)
		if (strnlen(st[i].name, sizeof(st[i].name)) > VOICE_NAME_MAX || st[i].loss_permille > 1000)
			abort();
	char buf[64];
	unsigned sp = voice_engine_speaking(f.e, buf, sizeof(buf), f.now);
	if (sp > n || strnlen(buf, sizeof(buf)) >= sizeof(buf))
		abort();
	for (const char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\n')
			abort();
	voice_engine_destroy(&f.e);
	return 0;
}
