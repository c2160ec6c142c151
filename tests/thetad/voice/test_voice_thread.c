/* The voice thread (thetad/voice/voice_thread.c) with the real engine: what
 * goes onto its in ring from "the loop" (this test's thread) comes back on
 * its out ring as the engine made it.
 *
 * - Two clients linked: chunks with sound from one come back as mixed
 *   chunks for the other (never for itself), on the thread's own 10 ms
 *   clock; SESSION_INFO's fields name the speaker and carry each client's
 *   flags.
 * - A stats request is answered with its tag and both speakers; totals
 *   arrive on their own and count the chunks.
 * - A reset forgets everyone: no more mixed chunks for either, no speakers.
 * - Destroy wakes and joins the thread (a test that hangs here fails by
 *   the harness's timeout).
 * Waits poll with generous deadlines; no timing is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <string.h>

#include "th_time.h"
#include "th_voicesig.h"
#include "voice/voice_thread.h"

#define WAIT_MS 20000
#define A_ID 11u
#define B_ID 22u

static const uint8_t key_a[VOICE_KEY_LEN] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8 };
static const uint8_t key_b[VOICE_KEY_LEN] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8 };

struct seen {
	unsigned play_a, play_b, loud_b;
	struct voice_thread_info info;
	unsigned infos;
	uint64_t stats_tag;
	unsigned stats_n;
	bool stats_a, stats_b;
	struct voice_engine_totals totals;
	unsigned n_totals;
	bool a_muted;               /* SESSION_INFO said A is muted */
	unsigned loud_b_when_muted; /* loud_b then */
};

static void s_play(void *user, uint64_t client_id, const int16_t *stereo, uint64_t t_ns)
{
	struct seen *s = user;
	(void)t_ns;
	double e = 0;
	for (unsigned i = 0; i < 2 * VOICE_CHUNK_SAMPLES; i++)
		e += (double)stereo[i] * stereo[i];
	if (client_id == A_ID)
		s->play_a++;
	if (client_id == B_ID) {
		s->play_b++;
		s->loud_b += sqrt(e / (2 * VOICE_CHUNK_SAMPLES)) > 200;
	}
}

static void s_info(void *user, const struct voice_thread_info *info)
{
	struct seen *s = user;
	s->info = *info;
	s->infos++;
	for (unsigned i = 0; i < info->n_clients; i++)
		if (info->client[i].client_id == A_ID && (info->client[i].info & VOICE_INFO_MUTED) && !s->a_muted) {
			s->a_muted = true;
			s->loud_b_when_muted = s->loud_b;
		}
}

static void s_stats(void *user, uint64_t tag, const struct voice_speaker_stats *sp, unsigned n,
		    const struct voice_engine_totals *t, uint64_t now_ns)
{
	struct seen *s = user;
	(void)t;
	(void)now_ns;
	s->stats_tag = tag;
	s->stats_n = n;
	for (unsigned i = 0; i < n; i++) {
		s->stats_a |= !memcmp(sp[i].speaker, key_a, VOICE_KEY_LEN) && !strcmp(sp[i].name, "alice");
		s->stats_b |= !memcmp(sp[i].speaker, key_b, VOICE_KEY_LEN) && !strcmp(sp[i].name, "bob");
	}
}

static void s_totals(void *user, const struct voice_engine_totals *t, const struct voice_thread_stats *ts)
{
	struct seen *s = user;
	(void)ts;
	s->totals = *t;
	s->n_totals++;
}

static const struct voice_thread_sink sink = { .play = s_play, .info = s_info, .stats = s_stats, .totals = s_totals };

/* Waits for the out ring's doorbell (up to 20 ms), then drains it. */
static void drain(struct voice_thread *t, struct seen *s)
{
	struct pollfd p = { .fd = voice_thread_fd(t), .events = POLLIN };
	poll(&p, 1, 20);
	voice_thread_poll(t, &sink, s);
}

/* Ten seconds of synthetic speech (utterances and pauses), looped. */
#define SPEECH_CHUNKS 1000u
static int16_t speech[SPEECH_CHUNKS * VOICE_CHUNK_SAMPLES];

static void chunk(int16_t *pcm, uint32_t n)
{
	static bool made;
	if (!made) {
		struct th_vs_config c = { .seed = 14, .speech_dbfs = -20 };
		th_vs_make(&c, speech, sizeof speech / sizeof speech[0], NULL);
		made = true;
	}
	memcpy(pcm, speech + (size_t)(n % SPEECH_CHUNKS) * VOICE_CHUNK_SAMPLES, VOICE_CHUNK_SAMPLES * sizeof *pcm);
}

/* A speaks in real time (one chunk per 10 ms) until cond or WAIT_MS. */
#define SPEAK_UNTIL(t, s, n, cond)                                                      \
	do {                                                                            \
		uint64_t end_ = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;         \
		int16_t pcm_[VOICE_CHUNK_SAMPLES];                                      \
		while (!(cond) && th_now_ns() < end_) {                                 \
			chunk(pcm_, n);                                                 \
			assert_int_equal(voice_thread_capture(t, A_ID, n, th_now_ns(), pcm_), 0); \
			n++;                                                            \
			uint64_t until_ = th_now_ns() + 10 * TH_NS_PER_MS;              \
			while (th_now_ns() < until_)                                    \
				drain(t, s);                                            \
		}                                                               \
		if (!(cond)) print_message("play_a %u play_b %u loud_b %u infos %u speaking %u [%s] n_clients %u totals %u chunks_in %llu played %llu\n", (s)->play_a, (s)->play_b, (s)->loud_b, (s)->infos, (s)->info.speaking, (s)->info.speakers, (s)->info.n_clients, (s)->n_totals, (unsigned long long)(s)->totals.chunks_in, (unsigned long long)(s)->totals.chunks_played); \
		assert_true(cond);                                                      \
	} while (0)

static uint32_t info_of(const struct seen *s, uint64_t id)
{
	for (unsigned i = 0; i < s->info.n_clients; i++)
		if (s->info.client[i].client_id == id)
			return s->info.client[i].info;
	return 0;
}

static void chunks_come_back_mixed_for_the_other(void **state)
{
	(void)state;
	struct voice_engine_config cfg = { .enc = { .frame_ms = 10, .complexity = -1, .fec = true, .dtx = true },
					   .vad = VOICE_VAD_ENERGY, .spatial = true };
	struct voice_thread *t;
	struct seen s = { 0 };
	uint32_t n = 0;
	assert_int_equal(voice_thread_create(&cfg, &t), 0);
	assert_int_equal(voice_thread_client(t, A_ID, key_a, "alice"), 0);
	assert_int_equal(voice_thread_client(t, B_ID, key_b, "bob"), 0);
	assert_int_equal(voice_thread_client_state(t, A_ID, VOICE_CL_ON), 0);
	assert_int_equal(voice_thread_client_state(t, B_ID, VOICE_CL_ON), 0);

	SPEAK_UNTIL(t, &s, n, s.loud_b >= 20 && strstr(s.info.speakers, "alice"));
	assert_int_equal(s.play_a, 0); /* nobody else speaks: A hears nothing, not itself */
	assert_true(s.info.speaking >= 1);
	assert_true(info_of(&s, A_ID) & VOICE_INFO_ON);
	assert_true(info_of(&s, B_ID) & VOICE_INFO_ON);

	assert_int_equal(voice_thread_stats_request(t, 0x5eed), 0);
	SPEAK_UNTIL(t, &s, n, s.stats_tag == 0x5eed && s.n_totals > 0 && s.totals.chunks_in > 0);
	assert_int_equal(s.stats_n, 2);
	assert_true(s.stats_a && s.stats_b);

	/* Muted: B hears nothing more once what was mixed is out. The fields
	 * saying MUTED come after every chunk mixed before the state was
	 * taken (one ring, in order), and the closed gate drops what A's fifo
	 * held: from then on, a second more of A's speech mixes nothing loud. */
	assert_int_equal(voice_thread_client_state(t, A_ID, VOICE_CL_ON | VOICE_CL_MUTED), 0);
	SPEAK_UNTIL(t, &s, n, info_of(&s, A_ID) & VOICE_INFO_MUTED);
	assert_true(s.a_muted);
	uint32_t muted_at = n;
	SPEAK_UNTIL(t, &s, n, n >= muted_at + 100);
	assert_int_equal(s.loud_b, s.loud_b_when_muted);

	/* Reset: nobody is known any more. */
	assert_int_equal(voice_thread_reset(t), 0);
	SPEAK_UNTIL(t, &s, n, s.info.n_clients == 0);
	unsigned played = s.play_b;
	s.stats_tag = 0;
	assert_int_equal(voice_thread_stats_request(t, 7), 0);
	SPEAK_UNTIL(t, &s, n, s.stats_tag == 7);
	assert_int_equal(s.stats_n, 0);
	assert_int_equal(s.play_b, played);
	assert_int_equal(voice_thread_in_drops(t), 0);
	voice_thread_destroy(&t);
	assert_null(t);
}

static void bad_records_are_refused_on_the_loop_side(void **state)
{
	(void)state;
	struct voice_engine_config cfg = { .enc = { .frame_ms = 20, .complexity = -1 }, .vad = VOICE_VAD_ENERGY };
	struct voice_thread *t;
	assert_int_equal(voice_thread_create(&cfg, &t), 0);
	uint8_t big[VOICE_OPUS_MAX + 1] = { 0 };
	struct voice_packet p = { .len = sizeof big, .data = big };
	assert_int_equal(voice_thread_packet(t, &p), -EINVAL);
	voice_thread_destroy(&t);
	struct voice_engine_config bad = { .enc = { .frame_ms = 15 } };
	assert_true(voice_thread_create(&bad, &t) < 0);
	voice_thread_destroy(&t); /* NULL-safe */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chunks_come_back_mixed_for_the_other),
		cmocka_unit_test(bad_records_are_refused_on_the_loop_side),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
