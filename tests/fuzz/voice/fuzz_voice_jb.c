/* libFuzzer: one remote speaker's jitter buffer (voice_jb.h) fed whatever a
 * peer could make it see: seq and ts near the stream or anywhere, both frame
 * lengths, any flags and sizes, time standing still or jumping a minute,
 * puts and pulls in any order. The first 3 bytes pick the config (any
 * min/max/start, clamped by voice_jb_init). Then 8-byte ops:
 *   op & 3 == 0: a frame near the stream: seq = last + (int8) b1,
 *                ts = last_ts + (int8) b2 * 480 + (int8) b3
 *            1: a frame anywhere: seq = b1..b4, ts = b4..b7 (little-endian)
 *            2: time moves b1 ms, then the consumer pulls
 *            3: time moves (b1 | b2 << 8) ms, then the consumer pulls
 *   op & 4: 480 samples (else 960); op & 8: VOICE_PKT_F_SPEECH;
 *   op & 16 (puts): the flags carry an unknown bit; length 1 + b5 % 400
 *   (op & 32: 0, op & 64: VOICE_OPUS_MAX + 1).
 * Whatever the input: every return is one the header names, a pull gives a
 * bounded number of pieces, each well formed, the target stays within
 * max_ms, what the buffer says it holds is what its slots hold, and the
 * counts add up. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voice/voice_jb.h"

#define MS 1000000ull
/* A pull after a long absence may give every held frame, and 10 ms waits
 * up to max_ms; more means it never ends. */
#define PIECES_MAX (VOICE_JB_SLOTS + VOICE_JB_LIMIT_MS / VOICE_CHUNK_MS + 8u)

static uint8_t payload[VOICE_OPUS_MAX + 1];

static void check_stats(const struct voice_jb *jb, uint64_t now)
{
	struct voice_jb_stats st;
	voice_jb_stats(jb, now, &st);
	if (st.target_ms > jb->cfg.max_ms || st.depth_ms > VOICE_JB_SLOTS * VOICE_FRAME_MS_MAX)
		abort();
	if (st.dup + st.late + st.too_far > st.frames_in)
		abort();
	/* a frame is played at most once, only if it was taken */
	if (st.played > st.frames_in - st.dup - st.late - st.too_far)
		abort();
	unsigned held = 0, samples = 0;
	for (unsigned i = 0; i < VOICE_JB_SLOTS; i++)
		if (jb->slot[i].used) {
			held++;
			samples += jb->slot[i].samples;
		}
	if (held != jb->held || samples != jb->held_samples)
		abort();
}

static void pull(struct voice_jb *jb, uint64_t now)
{
	struct voice_jb_out o;
	for (unsigned n = 0;; n++) {
		if (n > PIECES_MAX)
			abort();
		int r = voice_jb_get(jb, now, &o);
		if (r == 0)
			break;
		if (r != 1)
			abort();
		if (o.kind == VOICE_JB_SILENT) {
			if (o.samples)
				abort();
			break;
		}
		if (o.samples != VOICE_CHUNK_SAMPLES && o.samples != VOICE_FRAME_SAMPLES_MAX)
			abort();
		switch (o.kind) {
		case VOICE_JB_FRAME:
		case VOICE_JB_FEC:
			if (!o.data || o.len == 0 || o.len > VOICE_OPUS_MAX || (o.flags & ~VOICE_PKT_F_ALL))
				abort();
			/* the bytes stay readable until the next call */
			for (size_t i = 0; i < o.len; i++)
				if (o.data[i] != payload[i])
					abort();
			break;
		case VOICE_JB_CONCEAL:
			if (o.data)
				abort();
			break;
		default:
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct voice_jb jb;
	if (size < 3)
		return 0;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	struct voice_jb_config cfg = { .min_ms = data[0] * 3u, .max_ms = data[1] * 3u, .start_ms = data[2] * 3u };
	voice_jb_init(&jb, &cfg);
	if (jb.cfg.min_ms > jb.cfg.max_ms || jb.cfg.max_ms > VOICE_JB_LIMIT_MS || jb.cfg.start_ms < jb.cfg.min_ms ||
	    jb.cfg.start_ms > jb.cfg.max_ms)
		abort();
	uint64_t now = 1000 * MS;
	uint32_t seq = 0, ts = 0;
	for (size_t at = 3; at + 8 <= size; at += 8) {
		const uint8_t *b = data + at;
		unsigned op = b[0];
		switch (op & 3u) {
		case 0:
		case 1: {
			if (op & 1u) {
				seq = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 24;
				ts = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
			} else {
				seq += (uint32_t)(int32_t)(int8_t)b[1];
				ts += (uint32_t)((int32_t)(int8_t)b[2] * 480 + (int8_t)b[3]);
			}
			unsigned samples = op & 4u ? VOICE_CHUNK_SAMPLES : VOICE_FRAME_SAMPLES_MAX;
			uint8_t flags = (op & 8u ? VOICE_PKT_F_SPEECH : 0) | (op & 16u ? 0x80 : 0);
			size_t len = op & 32u ? 0 : op & 64u ? VOICE_OPUS_MAX + 1 : 1u + b[5] % VOICE_OPUS_MAX;
			int r = voice_jb_put(&jb, seq, ts, samples, flags, payload, len, now);
			bool bad = (flags & 0x80) || len == 0 || len > VOICE_OPUS_MAX;
			if (bad ? r != -EINVAL : (r != 0 && r != -EALREADY && r != -ETIME && r != -ERANGE))
				abort();
			break;
		}
		case 2:
			now += b[1] * MS;
			pull(&jb, now);
			break;
		default:
			now += ((uint64_t)b[1] | (uint64_t)b[2] << 8) * MS;
			pull(&jb, now);
			break;
		}
		check_stats(&jb, now);
	}
	return 0;
}
