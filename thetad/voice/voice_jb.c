/* The adaptive jitter buffer of one remote speaker (voice_jb.h; docs/voice.md,
 * "Jitter buffer").
 *
 * Time: a frame's timestamp, unwrapped, maps to local time as
 * ts_ns(xts) + offset_ns. The offset is set when a talkspurt starts (the
 * first frame after silence or after a DTX gap): the fastest transit
 * (arrival minus ts_ns) among recent arrivals, plus one frame while the link
 * loses VOICE_JB_FEC_LOSS_PCT or more (so that a lost frame's successor is
 * usually here in time for its FEC; none on a clean link), plus the target
 * delay measured from how much later than the fastest the recent arrivals
 * were. Within a talkspurt the offset grows: a frame that came after
 * its playout (late) adds its lateness, and waiting for a frame with nothing
 * else here inserts 10 ms concealments; both are given as CONCEAL of
 * VOICE_CHUNK_SAMPLES. Within a talkspurt it shrinks only by dropping a
 * frame without speech (trim: VOICE_JB_TRIM_MS), so speech is never cut;
 * at the next talkspurt it goes to what the recent arrivals ask for, so that a transient
 * stall or a wait for a lost frame leaves no standing delay (before enough
 * arrivals are measured, by at most VOICE_JB_SHRINK_MS). */
#include "voice/voice_jb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS        1000000ll
#define CHUNK_NS         ((int64_t)VOICE_CHUNK_MS * NS_PER_MS)
/* How far the target may fall at one talkspurt start while fewer than
 * VOICE_JB_HIST_MIN arrivals are measured. */
#define VOICE_JB_SHRINK_MS 20u
/* The share of recent arrivals the target covers, percent. */
#define VOICE_JB_COVER_PCT 95u
/* Arrivals measured before the target follows them (else start_ms). */
#define VOICE_JB_HIST_MIN 16u
/* A frame whose seq is ahead of the playout but whose ts lies this far
 * before it contradicts the stream. */
#define VOICE_JB_TS_BACK  ((int64_t)VOICE_JB_SLOTS * VOICE_FRAME_SAMPLES_MAX)

static int64_t ts_ns(int64_t xts)
{
	/* 1e9 / 48000 = 62500 / 3 */
	return xts * 62500 / 3;
}

static int64_t samples_ns(unsigned samples)
{
	return (int64_t)samples * 62500 / 3;
}

static unsigned clamp_ms(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void voice_jb_init(struct voice_jb *jb, const struct voice_jb_config *cfg)
{
	memset(jb, 0, sizeof(*jb));
	struct voice_jb_config c = cfg ? *cfg : (struct voice_jb_config){ 0 };
	if (!c.max_ms)
		c.max_ms = VOICE_JB_MAX_MS;
	c.max_ms = clamp_ms(c.max_ms, 0, VOICE_JB_LIMIT_MS);
	if (!c.min_ms)
		c.min_ms = VOICE_JB_MIN_MS;
	c.min_ms = clamp_ms(c.min_ms, 0, c.max_ms);
	if (!c.start_ms)
		c.start_ms = VOICE_JB_START_MS;
	c.start_ms = clamp_ms(c.start_ms, c.min_ms, c.max_ms);
	jb->cfg = c;
	jb->delay_ns = (int64_t)c.start_ms * NS_PER_MS;
	jb->last_samples = VOICE_FRAME_SAMPLES_MAX;
	jb->loss_pct = VOICE_JB_LOSS_UNKNOWN;
}

void voice_jb_set_loss(struct voice_jb *jb, unsigned pct)
{
	jb->loss_pct = pct > 100u ? 100u : pct;
}

static struct voice_jb_slot *slot_of(struct voice_jb *jb, int64_t xseq)
{
	struct voice_jb_slot *s = &jb->slot[(uint64_t)xseq % VOICE_JB_SLOTS];
	return s->used && s->xseq == xseq ? s : NULL;
}

static void slot_free(struct voice_jb *jb, struct voice_jb_slot *s)
{
	s->used = false;
	jb->held--;
	jb->held_samples -= s->samples;
}

/* Unwraps v against the reference ref (both as they continue the stream). */
static int64_t unwrap(int64_t ref, uint32_t v)
{
	return ref + (int32_t)(v - (uint32_t)ref);
}

static int64_t max_delay_ns(const struct voice_jb *jb)
{
	return (int64_t)jb->cfg.max_ms * NS_PER_MS;
}

/* The playout moves past next_seq: remembers whether it was given as FRAME. */
static void advance(struct voice_jb *jb, bool played)
{
	jb->played_bits = jb->played_bits << 1 | (played ? 1u : 0u);
	jb->next_seq++;
}

/* The delay the recent arrivals ask for: the VOICE_JB_COVER_PCT share of
 * them came at most this much later than the fastest. */
static int64_t measured_delay_ns(const struct voice_jb *jb, int64_t *fastest)
{
	int64_t d[VOICE_JB_HIST];
	unsigned n = jb->hist_n;
	int64_t m = jb->hist[0];
	for (unsigned i = 0; i < n; i++)
		if (jb->hist[i] < m)
			m = jb->hist[i];
	*fastest = m;
	if (n < VOICE_JB_HIST_MIN)
		return -1;
	/* the smallest x with at least COVER% of d <= x: a partial selection
	 * sort from the top, n - k + 1 steps (k = ceil(COVER% of n)) */
	for (unsigned i = 0; i < n; i++)
		d[i] = jb->hist[i] - m;
	unsigned k = (n * VOICE_JB_COVER_PCT + 99) / 100; /* 1..n */
	unsigned above = n - k;                           /* larger values to skip */
	for (unsigned i = 0; i <= above; i++) {
		unsigned best = i;
		for (unsigned j = i + 1; j < n; j++)
			if (d[j] > d[best])
				best = j;
		int64_t t = d[i];
		d[i] = d[best];
		d[best] = t;
	}
	return d[above];
}

/* A talkspurt ends (silence, a DTX gap, a stall past its bounds): growth
 * spent waiting for a frame that never came is given back. */
static void end_spurt(struct voice_jb *jb)
{
	jb->playing = false;
	jb->started = false;
	jb->delay_ns -= jb->wait_ns;
	if (jb->delay_ns < 0)
		jb->delay_ns = 0;
	jb->wait_ns = 0;
	jb->pending_ns = 0;
}

/* A talkspurt starts at the lowest frame held (held > 0), unless frames
 * came so late (a network stall) that even max_ms would play them late:
 * those go, and it starts at the first that max_ms still plays in time, or
 * at the newest. */
static void anchor(struct voice_jb *jb, uint64_t now_ns)
{
	struct voice_jb_slot *start = NULL;
	for (unsigned i = 0; i < VOICE_JB_SLOTS; i++) {
		struct voice_jb_slot *s = &jb->slot[i];
		if (s->used && (!start || s->xseq < start->xseq))
			start = s;
	}
	int64_t fastest;
	int64_t want = measured_delay_ns(jb, &fastest);
	int64_t lo = (int64_t)jb->cfg.min_ms * NS_PER_MS, hi = max_delay_ns(jb);
	for (int64_t x = start->xseq + 1; x < jb->next_seq + (int64_t)VOICE_JB_SLOTS; x++) {
		if (ts_ns(start->xts) + fastest + samples_ns(start->samples) + hi >= (int64_t)now_ns)
			break;
		struct voice_jb_slot *later = slot_of(jb, x);
		if (later) {
			slot_free(jb, start); /* counted below as skipped */
			start = later;
		}
	}
	/* frames between the last given and this one never came (or came
	 * too late) */
	int64_t skipped = start->xseq - jb->next_seq;
	if (skipped > 0) {
		jb->st.concealed += (uint64_t)skipped;
		jb->played_bits = skipped >= 64 ? 0 : jb->played_bits << skipped;
	}
	jb->next_seq = start->xseq;
	jb->pos = start->xts;

	if (want < 0) {
		/* too few arrivals to measure: the start target, and a grown
		 * delay shrinks by at most VOICE_JB_SHRINK_MS per talkspurt */
		want = (int64_t)jb->cfg.start_ms * NS_PER_MS;
		int64_t floor_ns = jb->delay_ns - (int64_t)VOICE_JB_SHRINK_MS * NS_PER_MS;
		if (want < floor_ns)
			want = floor_ns;
	}
	/* otherwise what the arrivals ask for, up or down: growth during the
	 * last talkspurt that they do not show (waits for a lost frame, a
	 * lone stall) does not stand */
	want = want < lo ? lo : want > hi ? hi : want;
	int64_t asked = want;
	/* round up to whole chunks: the consumer ticks in them */
	want = (want + CHUNK_NS - 1) / CHUNK_NS * CHUNK_NS;
	if (want > hi)
		want = hi;
	jb->ahead_ns = jb->loss_pct >= VOICE_JB_FEC_LOSS_PCT ? samples_ns(start->samples) : 0;
	jb->offset_ns = fastest + jb->ahead_ns + want;
	int64_t due = ts_ns(jb->pos) + jb->offset_ns;
	/* never before now, nor over audio already given */
	int64_t not_before = (int64_t)now_ns > jb->cursor_ns ? (int64_t)now_ns : jb->cursor_ns;
	if (due < not_before) {
		jb->offset_ns += not_before - due;
		want += not_before - due;
	} else {
		/* the consumer pulls at ticks, now_ns being one: the first
		 * frame plays at the first tick that still gives the delay
		 * asked for, not at the tick after the rounded-up target
		 * (up to a chunk sooner); the target stays rounded */
		int64_t need = ts_ns(jb->pos) + fastest + jb->ahead_ns + asked;
		if (need < not_before)
			need = not_before;
		int64_t at = (int64_t)now_ns + (need - (int64_t)now_ns + CHUNK_NS - 1) / CHUNK_NS * CHUNK_NS;
		if (at < due)
			jb->offset_ns -= due - at;
	}
	/* a lone frame later than max_ms still plays (the path may have
	 * grown for good: the arrivals measured will show it), late; the
	 * target stays within max_ms */
	jb->delay_ns = want < hi ? want : hi;
	jb->pending_ns = 0;
	jb->wait_ns = 0;
	jb->excess_since_ns = 0;
	jb->playing = true;
	jb->started = false;
	jb->st.talkspurts++;
}

/* Forgets the stream: the next frame starts a new one (first frame, a
 * sender that restarted, or an outage longer than the buffer). */
static void restart(struct voice_jb *jb, uint32_t seq, uint32_t ts)
{
	for (unsigned i = 0; i < VOICE_JB_SLOTS; i++)
		jb->slot[i].used = false;
	jb->held = 0;
	jb->held_samples = 0;
	jb->have_ref = true;
	jb->playing = false;
	jb->started = false;
	jb->next_seq = seq;
	jb->pos = ts;
	jb->played_bits = 0;
	jb->fresh = true;
	jb->hist_n = jb->hist_i = 0;
	jb->pending_ns = jb->wait_ns = 0;
}

/* Whether every frame held stays within the slots when xseq comes first. */
static bool fits_below(const struct voice_jb *jb, int64_t xseq)
{
	for (unsigned i = 0; i < VOICE_JB_SLOTS; i++)
		if (jb->slot[i].used && jb->slot[i].xseq >= xseq + (int64_t)VOICE_JB_SLOTS)
			return false;
	return true;
}

static void record_arrival(struct voice_jb *jb, int64_t xts, uint64_t now_ns)
{
	int64_t transit = (int64_t)now_ns - ts_ns(xts);
	if (jb->hist_n) {
		int64_t dv = transit - jb->transit_prev_ns;
		if (dv < 0)
			dv = -dv;
		/* J += (|D| - J) / 16, kept times 16 */
		jb->jitter_q4_ns += dv - jb->jitter_q4_ns / 16;
	}
	jb->transit_prev_ns = transit;
	jb->hist[jb->hist_i] = transit;
	jb->hist_i = (jb->hist_i + 1) % VOICE_JB_HIST;
	if (jb->hist_n < VOICE_JB_HIST)
		jb->hist_n++;
	jb->last_arrival_ns = now_ns;
}

int voice_jb_put(struct voice_jb *jb, uint32_t seq, uint32_t ts, unsigned samples, uint8_t flags,
		 const uint8_t *data, size_t len, uint64_t now_ns)
{
	if ((samples != VOICE_CHUNK_SAMPLES && samples != VOICE_FRAME_SAMPLES_MAX) || !data || len == 0 ||
	    len > VOICE_OPUS_MAX || (flags & ~VOICE_PKT_F_ALL))
		return -EINVAL;
	jb->st.frames_in++;
	if (!jb->have_ref)
		restart(jb, seq, ts);
	int64_t xseq = unwrap(jb->next_seq, seq);
	int64_t d = xseq - jb->next_seq;
	int64_t xts = unwrap(jb->pos, ts);
	bool idle = !jb->playing && jb->held == 0;
	if (idle && (d < -(int64_t)VOICE_JB_SLOTS || d >= VOICE_JB_SLOTS ||
		     (d >= 0 && xts < jb->pos - VOICE_JB_TS_BACK))) {
		/* nothing to keep: a stream that restarted or came back after
		 * an outage longer than the buffer begins anew */
		restart(jb, seq, ts);
		xseq = jb->next_seq;
		xts = jb->pos;
		d = 0;
	}
	if (d < 0 && jb->fresh && d > -(int64_t)VOICE_JB_SLOTS / 2 && fits_below(jb, xseq)) {
		/* nothing given yet: an earlier frame overtaken by a later one
		 * is the stream's start */
		jb->next_seq = xseq;
		jb->pos = xts;
		d = 0;
	}
	if (d < 0) {
		if (d < -(int64_t)VOICE_JB_SLOTS) {
			jb->st.too_far++;
			return -ERANGE;
		}
		if (d >= -64 && (jb->played_bits >> (-d - 1) & 1u)) {
			jb->st.dup++;
			return -EALREADY;
		}
		jb->st.late++;
		record_arrival(jb, xts, now_ns);
		if (jb->playing) {
			/* it came after its playout: let the delay grow by as much */
			int64_t late = (int64_t)now_ns - (ts_ns(xts) + jb->offset_ns);
			int64_t room = max_delay_ns(jb) - jb->delay_ns - jb->pending_ns;
			if (late > 0 && room > 0) {
				late = (late + CHUNK_NS - 1) / CHUNK_NS * CHUNK_NS;
				jb->pending_ns += late < room ? late : room / CHUNK_NS * CHUNK_NS;
			}
		}
		return -ETIME;
	}
	if (d >= VOICE_JB_SLOTS || xts < jb->pos - VOICE_JB_TS_BACK) {
		jb->st.too_far++;
		return -ERANGE;
	}
	struct voice_jb_slot *s = &jb->slot[(uint64_t)xseq % VOICE_JB_SLOTS];
	if (s->used) {
		/* every used slot holds a seq in [next_seq, next_seq + SLOTS) */
		jb->st.dup++;
		return -EALREADY;
	}
	s->used = true;
	s->xseq = xseq;
	s->xts = xts;
	s->flags = flags;
	s->len = (uint16_t)len;
	s->samples = (uint16_t)samples;
	memcpy(s->data, data, len);
	jb->held++;
	jb->held_samples += samples;
	record_arrival(jb, xts, now_ns);
	return 0;
}

/* Gives `samples` from pos on; data from s (FRAME / FEC) or none. */
static int give(struct voice_jb *jb, struct voice_jb_out *out, enum voice_jb_kind kind, const struct voice_jb_slot *s,
		unsigned samples)
{
	out->kind = kind;
	out->samples = samples;
	out->ts = (uint32_t)jb->pos;
	if (s) {
		memcpy(jb->last_out, s->data, s->len);
		out->data = jb->last_out;
		out->len = s->len;
		out->flags = s->flags;
	}
	jb->cursor_ns = ts_ns(jb->pos) + jb->offset_ns + samples_ns(samples);
	if (s)
		jb->last_flags = s->flags;
	jb->pos += samples;
	jb->last_samples = samples;
	jb->started = true;
	jb->fresh = false;
	return 1;
}

/* 10 ms of concealment while the delay grows: the playout waits. */
static int insert(struct voice_jb *jb, struct voice_jb_out *out)
{
	jb->excess_since_ns = 0;
	jb->offset_ns += CHUNK_NS;
	jb->delay_ns += CHUNK_NS;
	jb->st.inserted++;
	out->kind = VOICE_JB_CONCEAL;
	out->samples = VOICE_CHUNK_SAMPLES;
	out->ts = (uint32_t)jb->pos;
	jb->cursor_ns = ts_ns(jb->pos) + jb->offset_ns;
	return 1;
}

/* Whether the frame s, about to be given, goes instead to cut a standing
 * delay: it carries no speech, its successor is here, and the playout has
 * stood at least a frame and a chunk above what the arrivals ask for (as a
 * talkspurt's start would set it) since VOICE_JB_TRIM_MS, with no growth
 * since. */
static bool trim(struct voice_jb *jb, struct voice_jb_slot *s, uint64_t now_ns)
{
	if ((s->flags & VOICE_PKT_F_SPEECH) || jb->pending_ns || !slot_of(jb, s->xseq + 1))
		return false;
	int64_t fastest;
	int64_t want = measured_delay_ns(jb, &fastest);
	if (want < 0)
		return false;
	int64_t lo = (int64_t)jb->cfg.min_ms * NS_PER_MS, hi = max_delay_ns(jb);
	want = want < lo ? lo : want > hi ? hi : want;
	want = (want + CHUNK_NS - 1) / CHUNK_NS * CHUNK_NS;
	int64_t frame_ns = samples_ns(s->samples);
	if (jb->offset_ns - (fastest + jb->ahead_ns + want) < frame_ns + CHUNK_NS) {
		jb->excess_since_ns = 0;
		return false;
	}
	if (!jb->excess_since_ns) {
		jb->excess_since_ns = now_ns ? now_ns : 1;
		return false;
	}
	if (now_ns - jb->excess_since_ns < (uint64_t)VOICE_JB_TRIM_MS * NS_PER_MS)
		return false;
	jb->excess_since_ns = 0;
	jb->offset_ns -= frame_ns;
	jb->delay_ns -= frame_ns;
	if (jb->delay_ns < want)
		jb->delay_ns = want;
	return true;
}

int voice_jb_get(struct voice_jb *jb, uint64_t now_ns, struct voice_jb_out *out)
{
	memset(out, 0, sizeof(*out));
	/* each turn either gives something or ends a talkspurt and anchors the
	 * next one from what is held; a second end in a row cannot happen */
	for (unsigned turn = 0; turn < 4; turn++) {
		if (!jb->playing) {
			if (!jb->held) {
				out->kind = VOICE_JB_SILENT;
				return 1;
			}
			anchor(jb, now_ns);
		}
		int64_t due = ts_ns(jb->pos) + jb->offset_ns;
		if (due > (int64_t)now_ns) {
			if (jb->started)
				return 0;
			out->kind = VOICE_JB_SILENT;
			return 1;
		}
		if (jb->pending_ns >= CHUNK_NS) {
			jb->pending_ns -= CHUNK_NS;
			return insert(jb, out);
		}
		struct voice_jb_slot *s = slot_of(jb, jb->next_seq);
		if (s) {
			if (s->xts > jb->pos && jb->started) {
				/* a ts jump without a seq gap: DTX; the next
				 * talkspurt starts at this frame */
				end_spurt(jb);
				continue;
			}
			if (s->xts != jb->pos) {
				/* the frames concealed before were shorter or
				 * longer than assumed: keep the audio continuous */
				jb->offset_ns += ts_ns(jb->pos) - ts_ns(s->xts);
				jb->pos = s->xts;
			}
			if (jb->started && trim(jb, s, now_ns)) {
				/* the next frame plays where this one would have */
				jb->pos += s->samples;
				jb->last_samples = s->samples;
				slot_free(jb, s);
				advance(jb, false);
				jb->st.trimmed++;
				continue;
			}
			give(jb, out, VOICE_JB_FRAME, s, s->samples);
			slot_free(jb, s);
			advance(jb, true);
			jb->st.played++;
			jb->wait_ns = 0;
			return 1;
		}
		struct voice_jb_slot *next = slot_of(jb, jb->next_seq + 1);
		if (next && next->xts > jb->pos) {
			int64_t gap = next->xts - jb->pos;
			if (gap == next->samples) {
				/* lost, and its successor carries it */
				give(jb, out, VOICE_JB_FEC, next, (unsigned)gap);
				advance(jb, false);
				jb->st.fec++;
				jb->wait_ns = 0;
				return 1;
			}
			/* lost next to a DTX gap (before or after it: the
			 * successor's FEC is of neither): start at the successor */
			jb->st.concealed++;
			advance(jb, false);
			end_spurt(jb);
			continue;
		}
		if (jb->held) {
			/* a later frame is here: this one is lost */
			give(jb, out, VOICE_JB_CONCEAL, NULL, jb->last_samples);
			advance(jb, false);
			jb->st.concealed++;
			return 1;
		}
		/* nothing here: the frame is late or lost, or the speaker
		 * went silent. After speech, wait (the delay grows) until it
		 * is idle; after a frame without speech (the last before DTX,
		 * comfort noise) the silence begins now. */
		if (!jb->started || !(jb->last_flags & VOICE_PKT_F_SPEECH) ||
		    now_ns - jb->last_arrival_ns >= (uint64_t)VOICE_JB_IDLE_MS * NS_PER_MS ||
		    jb->delay_ns + CHUNK_NS > max_delay_ns(jb)) {
			end_spurt(jb);
			out->kind = VOICE_JB_SILENT;
			return 1;
		}
		jb->wait_ns += CHUNK_NS;
		return insert(jb, out);
	}
	out->kind = VOICE_JB_SILENT;
	return 1;
}

void voice_jb_stats(const struct voice_jb *jb, uint64_t now_ns, struct voice_jb_stats *out)
{
	*out = jb->st;
	/* waiting for a frame that may never come is not (yet) the target */
	int64_t t = jb->delay_ns - jb->wait_ns + jb->pending_ns;
	out->target_ms = (uint32_t)(t / NS_PER_MS);
	out->depth_ms = jb->held_samples / (VOICE_RATE / 1000u);
	out->jitter_us = (uint32_t)(jb->jitter_q4_ns / 16 / 1000);
	out->lookahead_ms = (uint32_t)(jb->ahead_ns / NS_PER_MS);
}
