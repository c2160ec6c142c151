/* The jitter buffer under loss and jitter (make bench-voice), in simulated
 * time (tests/lib/th_jbsim.h), with real Opus: synthetic speech
 * (th_voicesig.h, utterances and pauses) encoded with in-band FEC (the
 * encoder told of 5 % loss) and DTX, so talkspurts, DTX gaps and what a FEC
 * piece recovers are the codec's own. Each condition runs over the same
 * seeded network traces twice: the adaptive buffer as thetad uses it, and
 * the baseline, a fixed 60 ms buffer: the same code with its delay pinned
 * (min = max = start), 60 ms beyond the fastest arrival counting the frame.
 * The network's fastest path is 0 ms, so the delay is what jitter and
 * buffering add.
 *
 * Figures (20 ms frames, 5 % loss, jitter uniform 0..30 ms):
 *   voice.jb.concealed_pct          frames of the stream the listener did
 *                                   not get: concealed, skipped, or given as
 *                                   FEC whose successor had none; goal <= 2
 *   voice.jb.fec_recovered_pct      frames recovered from their successor
 *   voice.jb.delay_ms               mean time from a frame's sending to its
 *                                   playout; goal: below the fixed buffer's
 *   voice.jb.inserted_per_min       10 ms waits inserted (delay growth and
 *                                   the wait after each talkspurt)
 *   voice.jb.fixed60.concealed_pct, voice.jb.fixed60.delay_ms  the baseline
 * and, beside them, the same for 10 ms frames (voice.jb.10ms.*) and for
 * jitter 0..0 and 0..60 ms (voice.jb.jitter0.*, voice.jb.jitter60.*).
 * On a clean link (no loss, jitter 0..5 ms) the buffer is told the link
 * loses nothing, so it keeps no FEC look-ahead: voice.jb.clean.delay_ms
 * (and .10ms.clean) beside the same with the look-ahead kept
 * (voice.jb.clean.lookahead.delay_ms). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_bench.h"
#include "th_jbsim.h"
#include "th_voicesig.h"
#include "voice/voice_codec.h"

#define SPEECH_S     120u    /* of synthetic speech per condition */
#define SEEDS        3u      /* network traces per condition */
#define LOSS_PERMILLE 50u
#define ENC_LOSS_PCT 5u      /* what the encoder is told (voice_enc_set_loss) */
#define FIXED_MS     60u     /* the baseline's delay, counting one frame */
#define CONCEALED_GOAL_PCT 2.0
#define CLEAN_JITTER_MS 5u   /* the clean link's jitter */

struct packets {
	unsigned frame_samples, n;
	uint8_t (*data)[VOICE_OPUS_MAX];
	uint16_t *len;
	uint8_t *flags;
	unsigned sent;  /* frames not DTX */
};

struct run {
	const struct packets *pk;
	struct voice_dec *dec;
	uint64_t fec_nodata, decode_errors;
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_voice_jb: %s: %s\n", what, strerror(-rc));
	exit(1);
}

/* Encodes SPEECH_S of synthetic speech into frames of frame_samples. */
static void encode(unsigned frame_samples, struct packets *pk)
{
	size_t n = (size_t)SPEECH_S * TH_VS_RATE;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	uint8_t *label = calloc(n / TH_VS_CHUNK, 1);
	pk->frame_samples = frame_samples;
	pk->n = (unsigned)(n / frame_samples);
	pk->data = calloc(pk->n, sizeof(*pk->data));
	pk->len = calloc(pk->n, sizeof(*pk->len));
	pk->flags = calloc(pk->n, 1);
	if (!pcm || !label || !pk->data || !pk->len || !pk->flags)
		die("encode", -ENOMEM);
	th_vs_make(&(struct th_vs_config){ .seed = 14 }, pcm, n, label);
	struct voice_enc *e;
	int rc = voice_enc_create(&(struct voice_enc_config){ .frame_ms = frame_samples / 48, .complexity = -1,
							      .fec = true, .dtx = true },
				  &e);
	if (rc < 0)
		die("voice_enc_create", rc);
	voice_enc_set_loss(e, ENC_LOSS_PCT);
	pk->sent = 0;
	for (unsigned p = 0; p < pk->n; p++) {
		rc = voice_enc_frame(e, pcm + (size_t)p * frame_samples, pk->data[p], VOICE_OPUS_MAX);
		if (rc < 0)
			die("voice_enc_frame", rc);
		pk->len[p] = (uint16_t)rc;
		pk->flags[p] = label[(size_t)p * frame_samples / TH_VS_CHUNK] ? VOICE_PKT_F_SPEECH : 0;
		pk->sent += rc > 0;
	}
	voice_enc_destroy(&e);
	free(pcm);
	free(label);
}

static void packets_free(struct packets *pk)
{
	free(pk->data);
	free(pk->len);
	free(pk->flags);
}

static int payload(void *user, unsigned period, uint8_t *buf, size_t cap, uint8_t *flags)
{
	const struct run *r = user;
	if (period >= r->pk->n || r->pk->len[period] > cap)
		return 0;
	memcpy(buf, r->pk->data[period], r->pk->len[period]);
	*flags = r->pk->flags[period];
	return r->pk->len[period];
}

/* What the engine does with each piece: decode, recover, conceal. */
static void piece(void *user, uint64_t now_ns, const struct voice_jb_out *o, bool inserted)
{
	struct run *r = user;
	int16_t pcm[VOICE_FRAME_SAMPLES_MAX];
	int rc;
	switch (o->kind) {
	case VOICE_JB_FRAME:
		rc = voice_dec_frame(r->dec, o->data, o->len, pcm, o->samples);
		break;
	case VOICE_JB_FEC:
		rc = voice_dec_fec(r->dec, o->data, o->len, pcm, o->samples);
		if (rc == -ENODATA) {
			r->fec_nodata++; /* the successor carried none: concealed */
			rc = 0;
		}
		break;
	default:
		rc = voice_dec_plc(r->dec, pcm, o->samples);
		break;
	}
	if (rc < 0)
		r->decode_errors++;
}

struct figures {
	double concealed_pct, fec_pct, delay_ms, inserted_per_min;
	double jb_lost_pct, fec_empty_pct; /* the two parts of concealed_pct */
};

/* link_loss_pct < 0: the buffer is told nothing (its default: FEC look-ahead). */
static struct figures measure_at(const struct packets *pk, unsigned loss_permille, unsigned jitter_ms,
				 const struct voice_jb_config *jb, int link_loss_pct)
{
	uint64_t sent = 0, lost = 0, fec = 0, nodata = 0, inserted = 0, delay_n = 0;
	double delay_sum = 0;
	for (unsigned s = 0; s < SEEDS; s++) {
		struct run r = { .pk = pk };
		int rc = voice_dec_create(&r.dec);
		if (rc < 0)
			die("voice_dec_create", rc);
		struct th_jbsim_config c = { .frame_samples = pk->frame_samples,
					     .duration_ms = (uint64_t)SPEECH_S * 1000,
					     .loss_permille = loss_permille,
					     .jitter_ms = jitter_ms,
					     .tell_loss = link_loss_pct >= 0,
					     .link_loss_pct = link_loss_pct >= 0 ? (unsigned)link_loss_pct : 0,
					     .seed = 1000 + s,
					     .jb = *jb,
					     .payload = payload,
					     .on_piece = piece,
					     .user = &r };
		struct th_jbsim_result res;
		rc = th_jbsim_run(&c, &res);
		if (rc < 0)
			die("th_jbsim_run", rc);
		if (res.violations || r.decode_errors) {
			fprintf(stderr, "bench_voice_jb: %u broken pieces (%s), %llu decode errors\n", res.violations,
				res.first_violation, (unsigned long long)r.decode_errors);
			exit(1);
		}
		voice_dec_destroy(&r.dec);
		sent += res.sent;
		lost += res.st.concealed;
		fec += res.st.fec;
		nodata += r.fec_nodata;
		inserted += res.st.inserted;
		delay_sum += (double)res.delay_sum_ns;
		delay_n += res.delay_n;
	}
	struct figures f = { 0 };
	if (sent) {
		f.concealed_pct = 100.0 * (double)(lost + nodata) / (double)sent;
		f.jb_lost_pct = 100.0 * (double)lost / (double)sent;
		f.fec_empty_pct = 100.0 * (double)nodata / (double)sent;
		f.fec_pct = 100.0 * (double)(fec - nodata) / (double)sent;
	}
	if (delay_n)
		f.delay_ms = delay_sum / (double)delay_n / 1e6;
	f.inserted_per_min = (double)inserted / (SEEDS * SPEECH_S / 60.0);
	return f;
}

static struct figures measure(const struct packets *pk, unsigned jitter_ms, const struct voice_jb_config *jb)
{
	return measure_at(pk, LOSS_PERMILLE, jitter_ms, jb, -1);
}

/* A clean link (no loss, jitter 0..CLEAN_JITTER_MS): the buffer told the
 * link's loss is 0 (as the engine does: no FEC look-ahead), beside one
 * that keeps the look-ahead. */
static void report_clean(const char *prefix, const struct packets *pk)
{
	struct figures a = measure_at(pk, 0, CLEAN_JITTER_MS, &(struct voice_jb_config){ 0 }, 0);
	struct figures b = measure_at(pk, 0, CLEAN_JITTER_MS, &(struct voice_jb_config){ 0 }, -1);
	char name[96];
	printf("# %u ms frames, no loss, jitter 0..%u ms: link loss 0 (no look-ahead) %.2f %% concealed, %.1f ms; "
	       "with the look-ahead %.2f %%, %.1f ms\n",
	       pk->frame_samples / 48, CLEAN_JITTER_MS, a.concealed_pct, a.delay_ms, b.concealed_pct, b.delay_ms);
	snprintf(name, sizeof(name), "%s.concealed_pct", prefix);
	th_bench_figure(name, a.concealed_pct, "%");
	snprintf(name, sizeof(name), "%s.delay_ms", prefix);
	th_bench_figure_goal(name, a.delay_ms, "ms", "< with the FEC look-ahead", a.delay_ms < b.delay_ms);
	snprintf(name, sizeof(name), "%s.lookahead.delay_ms", prefix);
	th_bench_figure(name, b.delay_ms, "ms");
}

static void report(const char *prefix, const struct packets *pk, unsigned jitter_ms, bool goals)
{
	unsigned frame_ms = pk->frame_samples / 48;
	struct voice_jb_config fixed = { .min_ms = FIXED_MS - frame_ms, .max_ms = FIXED_MS - frame_ms,
					 .start_ms = FIXED_MS - frame_ms };
	struct figures a = measure(pk, jitter_ms, &(struct voice_jb_config){ 0 });
	struct figures b = measure(pk, jitter_ms, &fixed);
	char name[96];
	printf("# %u ms frames, %u %% loss, jitter 0..%u ms: adaptive %.2f %% concealed (%.2f without a frame or its "
	       "successor, %.2f a successor without FEC), %.1f ms; fixed %u ms %.2f %% (%.2f + %.2f), %.1f ms\n",
	       frame_ms, LOSS_PERMILLE / 10, jitter_ms, a.concealed_pct, a.jb_lost_pct, a.fec_empty_pct, a.delay_ms,
	       FIXED_MS, b.concealed_pct, b.jb_lost_pct, b.fec_empty_pct, b.delay_ms);
	snprintf(name, sizeof(name), "%s.concealed_pct", prefix);
	if (goals)
		th_bench_figure_goal(name, a.concealed_pct, "%", "<= 2 %", a.concealed_pct <= CONCEALED_GOAL_PCT);
	else
		th_bench_figure(name, a.concealed_pct, "%");
	snprintf(name, sizeof(name), "%s.fec_recovered_pct", prefix);
	th_bench_figure(name, a.fec_pct, "%");
	snprintf(name, sizeof(name), "%s.delay_ms", prefix);
	if (goals)
		th_bench_figure_goal(name, a.delay_ms, "ms", "< the fixed 60 ms buffer's", a.delay_ms < b.delay_ms);
	else
		th_bench_figure(name, a.delay_ms, "ms");
	snprintf(name, sizeof(name), "%s.inserted_per_min", prefix);
	th_bench_figure(name, a.inserted_per_min, "1/min");
	snprintf(name, sizeof(name), "%s.fixed60.concealed_pct", prefix);
	th_bench_figure(name, b.concealed_pct, "%");
	snprintf(name, sizeof(name), "%s.fixed60.delay_ms", prefix);
	th_bench_figure(name, b.delay_ms, "ms");
}

int main(void)
{
	struct packets p20, p10;
	encode(VOICE_FRAME_SAMPLES_MAX, &p20);
	encode(VOICE_CHUNK_SAMPLES, &p10);
	printf("# %u s of speech: %u of %u 20 ms frames sent (the rest DTX), %u of %u 10 ms frames\n", SPEECH_S,
	       p20.sent, p20.n, p10.sent, p10.n);
	report("voice.jb", &p20, 30, true);
	report("voice.jb.10ms", &p10, 30, true);
	report("voice.jb.jitter0", &p20, 0, false);
	report("voice.jb.jitter60", &p20, 60, false);
	report_clean("voice.jb.clean", &p20);
	report_clean("voice.jb.10ms.clean", &p10);
	packets_free(&p20);
	packets_free(&p10);
	return 0;
}
