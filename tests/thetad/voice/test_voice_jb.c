/* thetad/voice/voice_jb: one remote speaker's adaptive jitter buffer in
 * simulated time (tests/lib/th_jbsim: seeded loss, jitter, duplicates,
 * held-back frames, talkspurts with DTX gaps; every piece given is checked
 * against what was sent). Figures are printed; the asserts are on counts
 * and invariants. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "th_jbsim.h"
#include "voice/voice_jb.h"

#define MS (1000ull * 1000)
#define T0 (9000 * MS)

static void show(const char *what, const struct th_jbsim_result *r)
{
	printf("  %-34s sent %llu lost %llu | frames %llu fec %llu concealed %llu inserted %llu | late %llu dup %llu"
	       " far %llu | delay %.1f ms, target max %u ms now %u ms, jitter %u us, talkspurts %llu\n",
	       what, (unsigned long long)r->sent, (unsigned long long)r->lost_net, (unsigned long long)r->frames,
	       (unsigned long long)r->fec, (unsigned long long)r->st.concealed, (unsigned long long)r->inserted,
	       (unsigned long long)r->put_late, (unsigned long long)r->put_dup, (unsigned long long)r->put_far,
	       r->mean_delay_ms, r->max_target_ms, r->st.target_ms, r->st.jitter_us,
	       (unsigned long long)r->st.talkspurts);
	if (r->violations)
		printf("  %u violations, the first: %s\n", r->violations, r->first_violation);
}

static struct th_jbsim_result run(const char *what, struct th_jbsim_config c)
{
	struct th_jbsim_result r;
	assert_int_equal(th_jbsim_run(&c, &r), 0);
	show(what, &r);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.put_other, 0);
	/* every put is counted once, as taken or as why not */
	assert_int_equal(r.st.frames_in, r.puts);
	assert_int_equal(r.put_ok + r.put_dup + r.put_late + r.put_far, r.puts);
	assert_int_equal(r.st.dup, r.put_dup);
	assert_int_equal(r.st.late, r.put_late);
	assert_true(r.max_target_ms <= (c.jb.max_ms ? c.jb.max_ms : VOICE_JB_MAX_MS));
	return r;
}

/* What the sim puts in a frame, for the direct tests. */
static const uint8_t PKT[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* Waiting at the end of a talkspurt inserts at most this many chunks. */
#define IDLE_CHUNKS (VOICE_JB_IDLE_MS / VOICE_CHUNK_MS + 1)

static void a_clean_stream_is_played_whole_and_in_order(void **state)
{
	for (unsigned fs = 480; fs <= 960; fs += 480) {
		struct th_jbsim_result r = run(fs == 480 ? "clean, 10 ms frames" : "clean, 20 ms frames",
					       (struct th_jbsim_config){ .frame_samples = fs, .duration_ms = 20000,
									 .talk_ms = 2000, .gap_ms = 400,
									 .base_ms = 20, .seed = 7 });
		assert_int_equal(r.frames, r.sent);
		assert_int_equal(r.st.played, r.sent);
		assert_int_equal(r.st.fec + r.st.concealed + r.put_late + r.put_dup, 0);
		assert_int_equal(r.st.talkspurts, 9);
		/* only the waits after each talkspurt, given back in silence */
		assert_true(r.inserted <= r.st.talkspurts * IDLE_CHUNKS);
		/* nothing to absorb: the delay falls to the minimum: the
		 * path, one frame and up to one tick */
		assert_int_equal(r.st.target_ms, 0);
		assert_true(r.mean_delay_ms < 20 + 2 * fs / 48.0 + VOICE_CHUNK_MS + 1);
	}
}

static void jitter_up_to_60_ms_loses_almost_nothing(void **state)
{
	for (unsigned j = 0; j <= 60; j += 15) {
		char what[64];
		snprintf(what, sizeof(what), "jitter 0..%u ms", j);
		struct th_jbsim_result r = run(what, (struct th_jbsim_config){ .frame_samples = 960, .duration_ms = 30000,
									       .talk_ms = 3000, .gap_ms = 500,
									       .jitter_ms = j, .base_ms = 10,
									       .seed = 11 + j });
		/* nothing was lost on the way: each frame played, recovered
		 * from its successor, or (rarely) concealed */
		assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
		assert_true(r.st.concealed * 100 <= r.sent);  /* <= 1 % */
		assert_true(r.frames * 100 >= r.sent * 97);   /* >= 97 % as sent */
		/* the delay follows the jitter and stays near it */
		assert_true(r.st.target_ms <= j + 20);
		assert_true(r.mean_delay_ms <= 10 + j + 20 + 20 + VOICE_CHUNK_MS);
		if (j > 20) /* more than a frame's period */
			assert_true(r.reordered > 0);
	}
}

static void five_percent_loss_with_30_ms_jitter_is_mostly_recovered_by_fec(void **state)
{
	for (unsigned fs = 480; fs <= 960; fs += 480) {
		struct th_jbsim_result r = run(fs == 480 ? "5% loss + 30 ms, 10 ms frames" : "5% loss + 30 ms, 20 ms frames",
					       (struct th_jbsim_config){ .frame_samples = fs, .duration_ms = 60000,
									 .talk_ms = 2500, .gap_ms = 600,
									 .loss_permille = 50, .jitter_ms = 30,
									 .base_ms = 15, .seed = 3 });
		assert_true(r.lost_net * 100 >= r.sent * 4 && r.lost_net * 100 <= r.sent * 6);
		/* a lost frame whose successor came in time is its FEC */
		assert_true(r.fec * 100 >= r.lost_net * 80);
		assert_true(r.st.concealed * 100 <= r.sent * 2);
		/* the first frame of the stream, if lost, is known to no one */
		assert_in_range(r.frames + r.fec + r.st.concealed, r.sent - 1, r.sent);
	}
}

static void reordered_frames_are_played_in_order(void **state)
{
	/* every even frame overtaken by the next (held 25 ms, frames 20 ms) */
	static unsigned even[500];
	for (unsigned i = 0; i < 500; i++)
		even[i] = 2 * i;
	struct th_jbsim_result r = run("pairs swapped", (struct th_jbsim_config){ .frame_samples = 960, .duration_ms = 20000,
										 .base_ms = 5, .hold = even, .n_hold = 500,
										 .hold_ms = 25, .seed = 5 });
	assert_true(r.reordered >= 400);
	assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
	/* the first swaps grow the delay; after them every frame is on time */
	assert_true(r.frames * 100 >= r.sent * 99);
	assert_true(r.st.target_ms >= 20 && r.st.target_ms <= 40);
}

static void duplicates_are_dropped_and_counted(void **state)
{
	struct th_jbsim_result r = run("every frame twice", (struct th_jbsim_config){ .frame_samples = 960,
										     .duration_ms = 10000,
										     .dup_permille = 1000, .jitter_ms = 20,
										     .base_ms = 10, .seed = 9 });
	assert_int_equal(r.dups_sent, r.sent);
	/* a copy that came before or after its frame was played */
	assert_int_equal(r.put_dup, r.dups_sent);
	assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
	assert_true(r.frames * 100 >= r.sent * 98);
}

static void a_frame_after_its_playout_is_late_and_the_delay_grows(void **state)
{
	static const unsigned held[] = { 200 };
	struct th_jbsim_config c = { .frame_samples = 960, .duration_ms = 8000, .base_ms = 10, .hold = held,
				     .n_hold = 1, .hold_ms = 150, .seed = 2 };
	struct th_jbsim_config clean = c;
	clean.n_hold = 0;
	struct th_jbsim_result ref = run("clean", clean);
	struct th_jbsim_result r = run("frame 200 held 150 ms", c);
	assert_int_equal(r.put_late, 1);
	assert_int_equal(r.st.late, 1);
	/* at its playout the next frame was there: its FEC stood in */
	assert_int_equal(r.fec, 1);
	assert_int_equal(r.frames, r.sent - 1);
	/* the delay grew by the lateness (150 ms less what the buffer held),
	 * and, the stream being one talkspurt, stayed grown */
	assert_true(r.st.target_ms >= ref.st.target_ms + 100);
	assert_true(r.st.target_ms <= VOICE_JB_MAX_MS);
	assert_true(r.mean_delay_ms > ref.mean_delay_ms + 50);
}

static void the_delay_is_bounded_by_max_ms(void **state)
{
	static const unsigned held[] = { 100, 300 };
	struct th_jbsim_result r = run("held 400 ms, max 80", (struct th_jbsim_config){
					       .frame_samples = 960, .duration_ms = 10000, .base_ms = 10,
					       .jitter_ms = 60, .hold = held, .n_hold = 2, .hold_ms = 400,
					       .jb = { .max_ms = 80 }, .seed = 4 });
	assert_true(r.max_target_ms <= 80);
	assert_true(r.put_late >= 2);
}

struct late_pieces {
	uint64_t after_ns;  /* pieces given from then on */
	uint64_t max_delay_ns, n;
};

static void piece_delay(void *user, uint64_t now_ns, const struct voice_jb_out *o, bool inserted)
{
	struct late_pieces *lp = user;
	if (now_ns < lp->after_ns || inserted || (o->kind != VOICE_JB_FRAME && o->kind != VOICE_JB_FEC))
		return;
	uint64_t sent = TH_JBSIM_T0_NS + (uint64_t)o->ts * 1000000000ull / VOICE_RATE;
	if (now_ns - sent > lp->max_delay_ns)
		lp->max_delay_ns = now_ns - sent;
	lp->n++;
}

static void after_a_network_stall_the_delay_comes_back_within_max_ms(void **state)
{
	/* 1 s of frames held back by the network and delivered at once:
	 * mid-talkspurt (50 frames), and across a talkspurt's start (the one
	 * starting at 5 s: 25 frames). Those later than max_ms would play go;
	 * afterwards no frame plays later than the path, its jitter, one
	 * frame, max_ms and a tick. */
	static const struct {
		unsigned at, stalled;
	} cases[] = { { 1000, 50 }, { 4500, 25 } };
	for (unsigned i = 0; i < 2; i++) {
		struct late_pieces lp = { .after_ns = TH_JBSIM_T0_NS + (cases[i].at + 1000 + 100) * MS };
		struct th_jbsim_result r = run(i ? "1 s stall at a talkspurt's start" : "1 s stall in speech",
					       (struct th_jbsim_config){ .frame_samples = 960, .duration_ms = 12000,
									 .talk_ms = 4000, .gap_ms = 1000,
									 .base_ms = 10, .jitter_ms = 10,
									 .stall_at_ms = cases[i].at, .stall_ms = 1000,
									 .jb = { .max_ms = 100 }, .seed = 17,
									 .on_piece = piece_delay, .user = &lp });
		printf("  after it: %llu frames, the latest %.1f ms after sending\n", (unsigned long long)lp.n,
		       (double)lp.max_delay_ns / 1e6);
		assert_true(lp.n > 100);
		assert_true(lp.max_delay_ns <= (10 + 10 + 20 + 100 + VOICE_CHUNK_MS) * MS);
		assert_true(r.st.concealed >= cases[i].stalled - 100 / 20 - 2);
		assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
	}
}

struct trace {
	uint32_t max_first, last_first, at_end;
	uint64_t switch_ns, spurts;
	struct voice_jb_stats prev;
	bool prev_silent, have_prev;
	unsigned shrank_in_speech;
};

static void trace_tick(void *user, uint64_t now_ns, const struct voice_jb_stats *st, bool silent)
{
	struct trace *t = user;
	if (now_ns < t->switch_ns && st->target_ms > t->max_first)
		t->max_first = st->target_ms;
	if (now_ns < t->switch_ns)
		t->last_first = st->target_ms;
	t->at_end = st->target_ms;
	/* within one talkspurt, between two ticks that both played, the
	 * target never falls */
	if (t->have_prev && !silent && !t->prev_silent && st->talkspurts == t->prev.talkspurts &&
	    st->target_ms < t->prev.target_ms)
		t->shrank_in_speech++;
	t->prev = *st;
	t->prev_silent = silent;
	t->have_prev = true;
}

static void the_delay_grows_with_jitter_and_shrinks_in_silence_only(void **state)
{
	struct trace t = { 0 };
	/* 20 s of 0..60 ms jitter, then 40 s of none; talkspurts of 2 s */
	struct th_jbsim_config c = { .frame_samples = 960, .duration_ms = 60000, .talk_ms = 2000, .gap_ms = 500,
				     .jitter_ms = 60, .switch_ms = 20000, .jitter2_ms = 0, .base_ms = 10,
				     .loss_permille = 20, .seed = 21, .on_tick = trace_tick, .user = &t };
	t.switch_ns = TH_JBSIM_T0_NS + 20000 * MS;
	struct th_jbsim_result r = run("60 ms jitter, then none", c);
	printf("  target: up to %u ms in the jitter, %u ms when it stopped, %u ms at the end\n", t.max_first,
	       t.last_first, t.at_end);
	assert_true(t.max_first >= 50);
	assert_true(t.last_first >= 40);
	assert_true(t.at_end <= 10);
	assert_int_equal(t.shrank_in_speech, 0);
	assert_true(r.st.talkspurts >= 20);
}

static void dtx_gaps_are_silence_not_loss(void **state)
{
	struct th_jbsim_result r = run("talkspurts 1 s, DTX 500 ms", (struct th_jbsim_config){
					       .frame_samples = 960, .duration_ms = 21000, .talk_ms = 1000, .gap_ms = 500,
					       .jitter_ms = 10, .base_ms = 10, .seed = 8 });
	assert_int_equal(r.st.talkspurts, 14);
	assert_int_equal(r.frames, r.sent);
	assert_int_equal(r.st.concealed + r.fec, 0);
	/* each gap is heard as silence (less the waits after a talkspurt) */
	assert_true(r.silent_ticks >= 13 * (500 / VOICE_CHUNK_MS - IDLE_CHUNKS));
	assert_true(r.inserted <= r.st.talkspurts * IDLE_CHUNKS);
}

static void a_talkspurts_lost_first_frame_counts_as_concealed(void **state)
{
	/* 50 frames a talkspurt (1 s of 20 ms), gaps of 500 ms: frame 50
	 * starts the second talkspurt */
	static const unsigned lost[] = { 50 };
	struct th_jbsim_result r = run("first frame of a talkspurt lost", (struct th_jbsim_config){
					       .frame_samples = 960, .duration_ms = 4500, .talk_ms = 1000, .gap_ms = 500,
					       .base_ms = 10, .lose = lost, .n_lose = 1, .seed = 8 });
	assert_int_equal(r.st.talkspurts, 3);
	assert_int_equal(r.st.concealed, 1);
	assert_int_equal(r.frames, r.sent - 1);
}

static void a_lost_frame_is_decoded_from_its_successors_fec(void **state)
{
	/* 50 alone; 80 and 81 together: 80 is concealed (81 is not there),
	 * 81 comes from 82's FEC */
	static const unsigned lost[] = { 50, 80, 81 };
	for (unsigned fs = 480; fs <= 960; fs += 480) {
		struct th_jbsim_result r = run("frames 50, 80, 81 lost", (struct th_jbsim_config){
						       .frame_samples = fs, .duration_ms = 4000, .base_ms = 10,
						       .jitter_ms = 5, .lose = lost, .n_lose = 3, .seed = 1 });
		/* th_jbsim checked each FEC: data of seq n+1, ts and length of n */
		assert_int_equal(r.fec, 2);
		assert_int_equal(r.conceal, 1);
		assert_int_equal(r.st.concealed, 1);
		assert_int_equal(r.frames, r.sent - 3);
	}
}

static void timestamps_and_sequence_numbers_wrap(void **state)
{
	struct th_jbsim_result r = run("seq and ts wrap", (struct th_jbsim_config){
					       .frame_samples = 960, .duration_ms = 20000, .talk_ms = 1500, .gap_ms = 300,
					       .jitter_ms = 30, .loss_permille = 50, .base_ms = 10,
					       .seq0 = 0xfffffff0u, .ts0 = 0xffff0000u, .seed = 12 });
	assert_in_range(r.frames + r.fec + r.st.concealed, r.sent - 1, r.sent);
	assert_int_equal(r.put_far, 0);
	assert_true(r.st.concealed * 100 <= r.sent * 2);
}

static void an_outage_longer_than_the_buffer_resumes(void **state)
{
	/* 3 s of frames lost in the middle (150 frames > VOICE_JB_SLOTS) */
	static unsigned lost[150];
	for (unsigned i = 0; i < 150; i++)
		lost[i] = 100 + i;
	struct th_jbsim_result r = run("3 s outage", (struct th_jbsim_config){ .frame_samples = 960,
									      .duration_ms = 8000, .base_ms = 10,
									      .lose = lost, .n_lose = 150, .seed = 6 });
	assert_int_equal(r.frames, r.sent - 150);
	assert_int_equal(r.put_far, 0);
	assert_int_equal(r.st.talkspurts, 2);
}

static void the_pull_contract(void **state)
{
	struct voice_jb jb;
	struct voice_jb_out o;
	struct voice_jb_stats st;
	voice_jb_init(&jb, NULL);
	/* nothing yet: silent */
	assert_int_equal(voice_jb_get(&jb, T0, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_SILENT);
	assert_int_equal(o.samples, 0);
	/* 20 ms frames as they are sent, one every 20 ms */
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(voice_jb_put(&jb, 7 + i, 1000 + 960 * i, 960, i == 1 ? VOICE_PKT_F_SPEECH : 0, PKT,
					      sizeof(PKT), T0 + 20 * i * MS),
				 0);
	voice_jb_stats(&jb, T0, &st);
	assert_int_equal(st.depth_ms, 40);
	assert_int_equal(st.frames_in, 2);
	assert_int_equal(st.target_ms, VOICE_JB_START_MS);
	/* due one frame plus the start target after the fastest arrival */
	uint64_t due = T0 + (20 + VOICE_JB_START_MS) * MS;
	assert_int_equal(voice_jb_get(&jb, due - MS, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_SILENT);
	assert_int_equal(voice_jb_get(&jb, due, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_FRAME);
	assert_int_equal(o.ts, 1000);
	assert_int_equal(o.samples, 960);
	assert_int_equal(o.flags, 0);
	assert_memory_equal(o.data, PKT, sizeof(PKT));
	assert_int_equal(o.len, sizeof(PKT));
	assert_int_equal(voice_jb_put(&jb, 9, 1000 + 960 * 2, 960, VOICE_PKT_F_SPEECH, PKT, sizeof(PKT), T0 + 40 * MS),
			 0);
	/* the frame covers the next tick: nothing more is due */
	assert_int_equal(voice_jb_get(&jb, due, &o), 0);
	assert_int_equal(voice_jb_get(&jb, due + 10 * MS, &o), 0);
	/* a consumer that fell behind catches up, one piece per call */
	assert_int_equal(voice_jb_get(&jb, due + 45 * MS, &o), 1);
	assert_int_equal(o.ts, 1960);
	assert_int_equal(o.flags, VOICE_PKT_F_SPEECH);
	assert_int_equal(voice_jb_get(&jb, due + 45 * MS, &o), 1);
	assert_int_equal(o.ts, 2920);
	assert_int_equal(voice_jb_get(&jb, due + 45 * MS, &o), 0);
	voice_jb_stats(&jb, due, &st);
	assert_int_equal(st.played, 3);
	assert_int_equal(st.depth_ms, 0);
	/* a copy of a played frame is a duplicate, an unplayed one late */
	assert_int_equal(voice_jb_put(&jb, 8, 1960, 960, 0, PKT, sizeof(PKT), due + 46 * MS), -EALREADY);
	/* nothing comes after speech: the buffer waits (10 ms
	 * concealments), then the speaker is silent */
	unsigned waits = 0;
	uint64_t t = due + 60 * MS;
	for (; t < due + 400 * MS; t += 10 * MS) {
		assert_int_equal(voice_jb_get(&jb, t, &o), 1);
		if (o.kind == VOICE_JB_SILENT)
			break;
		assert_int_equal(o.kind, VOICE_JB_CONCEAL);
		assert_int_equal(o.samples, VOICE_CHUNK_SAMPLES);
		waits++;
	}
	assert_in_range(waits, 1, IDLE_CHUNKS);
	assert_int_equal(voice_jb_get(&jb, t + 10 * MS, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_SILENT);
	voice_jb_stats(&jb, t, &st);
	assert_int_equal(st.inserted, waits);
	/* given back in silence */
	assert_true(st.target_ms <= VOICE_JB_START_MS);
	/* after a frame without speech (comfort noise before DTX) the
	 * silence begins at once */
	t += 500 * MS;
	assert_int_equal(voice_jb_put(&jb, 10, 1000 + 960 * 40, 960, 0, PKT, sizeof(PKT), t), 0);
	unsigned frames = 0;
	for (uint64_t end = t + 300 * MS; t < end; t += 10 * MS)
		while (voice_jb_get(&jb, t, &o) == 1 && o.kind != VOICE_JB_SILENT)
			frames += o.kind == VOICE_JB_FRAME;
	assert_int_equal(frames, 1);
	voice_jb_stats(&jb, t, &st);
	assert_int_equal(st.inserted, waits);
	assert_int_equal(st.talkspurts, 2);
}

struct spurt_trace {
	uint32_t max_target, at_end;
	uint64_t spurts;
	uint32_t start_target[64]; /* target at each talkspurt's first tick */
};

static void spurt_tick(void *user, uint64_t now_ns, const struct voice_jb_stats *st, bool silent)
{
	struct spurt_trace *t = user;
	(void)now_ns;
	if (st->target_ms > t->max_target)
		t->max_target = st->target_ms;
	if (!silent && st->talkspurts != t->spurts && st->talkspurts < 64) {
		t->spurts = st->talkspurts;
		t->start_target[st->talkspurts] = st->target_ms;
	}
	t->at_end = st->target_ms;
}

static void a_lone_late_frame_leaves_no_standing_delay(void **state)
{
	/* one frame of the second talkspurt held 150 ms: the delay grows
	 * for the rest of that talkspurt, and at the next one it is back to
	 * what the arrivals ask for (one late frame in 256 is not it), not
	 * VOICE_JB_SHRINK_MS lower per talkspurt */
	static const unsigned held[] = { 75 };
	struct spurt_trace t = { 0 };
	struct th_jbsim_config c = { .frame_samples = 960, .duration_ms = 6000, .talk_ms = 1000, .gap_ms = 300,
				     .base_ms = 10, .jitter_ms = 5, .hold = held, .n_hold = 1, .hold_ms = 150,
				     .seed = 31, .on_tick = spurt_tick, .user = &t };
	struct th_jbsim_result r = run("talkspurts, frame 75 held 150 ms", c);
	printf("  target: up to %u ms; at the talkspurts' starts", t.max_target);
	for (unsigned i = 1; i <= t.spurts && i < 64; i++)
		printf(" %u", t.start_target[i]);
	printf(" ms; at the end %u ms\n", t.at_end);
	assert_int_equal(r.put_late, 1);
	assert_true(t.max_target >= 100);
	assert_int_equal(r.st.talkspurts, 5);
	assert_true(t.start_target[3] <= 10);
	assert_true(t.start_target[4] <= 10);
	assert_true(t.at_end <= 10);
	assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
}

static void a_speech_long_stall_is_given_back_at_the_next_talkspurt(void **state)
{
	/* 300 ms of a talkspurt held back by the network and delivered at
	 * once: it grows the delay (up to max_ms), and after the stall has
	 * left the measured arrivals the target is back near the jitter */
	struct spurt_trace t = { 0 };
	struct th_jbsim_config c = { .frame_samples = 480, .duration_ms = 12000, .talk_ms = 1500, .gap_ms = 400,
				     .base_ms = 10, .jitter_ms = 4, .stall_at_ms = 1000, .stall_ms = 300,
				     .seed = 32, .on_tick = spurt_tick, .user = &t };
	struct th_jbsim_result r = run("10 ms frames, 300 ms stall in speech", c);
	printf("  target: up to %u ms, at the end %u ms\n", t.max_target, t.at_end);
	assert_true(t.max_target >= 100);
	assert_true(t.at_end <= 10);
	assert_int_equal(r.frames + r.fec + r.st.concealed, r.sent);
}

static void without_link_loss_there_is_no_fec_look_ahead(void **state)
{
	struct voice_jb jb;
	struct voice_jb_out o;
	struct voice_jb_stats st;
	voice_jb_init(&jb, NULL);
	voice_jb_set_loss(&jb, 0);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(voice_jb_put(&jb, 7 + i, 1000 + 960 * i, 960, VOICE_PKT_F_SPEECH, PKT, sizeof(PKT),
					      T0 + 20 * MS * i),
				 0);
	/* due the start target after the fastest arrival: no frame more */
	uint64_t due = T0 + VOICE_JB_START_MS * MS;
	assert_int_equal(voice_jb_get(&jb, due - MS, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_SILENT);
	assert_int_equal(voice_jb_get(&jb, due, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_FRAME);
	assert_int_equal(o.ts, 1000);
	voice_jb_stats(&jb, due, &st);
	assert_int_equal(st.lookahead_ms, 0);
	assert_int_equal(st.target_ms, VOICE_JB_START_MS);
	/* the link loses: from the next talkspurt on (after DTX), one frame
	 * more; this frame comes as fast as the first */
	uint64_t t = T0 + 39 * 20 * MS;
	for (uint64_t u = due + 10 * MS; u < t; u += 10 * MS)
		while (voice_jb_get(&jb, u, &o) == 1 && o.kind != VOICE_JB_SILENT)
			;
	voice_jb_set_loss(&jb, 5);
	assert_int_equal(voice_jb_put(&jb, 9, 1000 + 960 * 39, 960, VOICE_PKT_F_SPEECH, PKT, sizeof(PKT), t), 0);
	uint64_t due2 = t + 20 * MS + VOICE_JB_START_MS * MS;
	assert_int_equal(voice_jb_get(&jb, due2 - MS, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_SILENT);
	assert_int_equal(voice_jb_get(&jb, due2, &o), 1);
	assert_int_equal(o.kind, VOICE_JB_FRAME);
	assert_int_equal(o.ts, 1000 + 960 * 39);
	voice_jb_stats(&jb, due2, &st);
	assert_int_equal(st.lookahead_ms, 20);
	assert_int_equal(st.talkspurts, 2);
	/* clamped */
	voice_jb_set_loss(&jb, 1000);
	assert_int_equal(jb.loss_pct, 100);
}

static void a_clean_link_plays_a_frame_sooner_and_losses_do_not_ratchet(void **state)
{
	for (unsigned fs = 480; fs <= 960; fs += 480) {
		struct th_jbsim_config c = { .frame_samples = fs, .duration_ms = 30000, .talk_ms = 2000,
					     .gap_ms = 500, .base_ms = 10, .jitter_ms = 2, .seed = 41 };
		struct th_jbsim_result ahead = run(fs == 480 ? "10 ms, look-ahead" : "20 ms, look-ahead", c);
		c.tell_loss = true;
		c.link_loss_pct = 0;
		struct th_jbsim_result none = run(fs == 480 ? "10 ms, link loss 0" : "20 ms, link loss 0", c);
		assert_int_equal(none.frames, none.sent);
		assert_true(none.mean_delay_ms + fs / 48.0 - 1 <= ahead.mean_delay_ms);
		/* losses the link did not report yet (2 %): each is waited
		 * for, and the growth goes at the next talkspurt */
		struct spurt_trace t = { 0 };
		c.loss_permille = 20;
		c.on_tick = spurt_tick;
		c.user = &t;
		struct th_jbsim_result lossy = run(fs == 480 ? "10 ms, 2 % lost, link 0" : "20 ms, 2 % lost, link 0", c);
		printf("  target: up to %u ms, at the end %u ms\n", t.max_target, t.at_end);
		assert_true(lossy.lost_net > 0);
		/* every talkspurt starts near the jitter again */
		assert_int_equal(t.spurts, lossy.st.talkspurts);
		for (unsigned i = 1; i <= t.spurts && i < 64; i++)
			assert_true(t.start_target[i] <= 20);
		assert_true(lossy.mean_delay_ms <= ahead.mean_delay_ms + 10);
		assert_int_equal(lossy.frames + lossy.fec + lossy.st.concealed, lossy.sent);
	}
}

struct clicks {
	unsigned speech_sent, speech_given, period_speech;
	struct spurt_trace t;
};

/* A click (2 frames of speech) every 12 frames, frames without speech
 * between them, never DTX: one talkspurt throughout. */
static int click_payload(void *user, unsigned period, uint8_t *buf, size_t cap, uint8_t *flags)
{
	struct clicks *c = user;
	(void)cap;
	memcpy(buf, &period, sizeof(period));
	*flags = period % 12 < 2 ? VOICE_PKT_F_SPEECH : 0;
	c->speech_sent += period % 12 < 2;
	return (int)sizeof(period);
}

static void click_piece(void *user, uint64_t now_ns, const struct voice_jb_out *o, bool inserted)
{
	struct clicks *c = user;
	(void)now_ns;
	if (!inserted && o->kind == VOICE_JB_FRAME && (o->flags & VOICE_PKT_F_SPEECH))
		c->speech_given++;
}

static void click_tick(void *user, uint64_t now_ns, const struct voice_jb_stats *st, bool silent)
{
	spurt_tick(&((struct clicks *)user)->t, now_ns, st, silent);
}

static void a_standing_delay_in_speech_is_cut_in_its_pauses(void **state)
{
	/* one frame held 120 ms grows the delay; the stream never goes
	 * silent (clicks 240 ms apart, the pauses sent as frames without
	 * speech), so no talkspurt start gives it back: frames without
	 * speech are dropped, one at a time, until the delay is what the
	 * arrivals ask for; no speech frame is */
	static const unsigned held[] = { 30 };
	for (unsigned fs = 480; fs <= 960; fs += 480) {
		struct clicks c = { 0 };
		struct th_jbsim_config cfg = { .frame_samples = fs, .duration_ms = 8000, .base_ms = 10,
					       .jitter_ms = 3, .hold = held, .n_hold = 1, .hold_ms = 120, .seed = 51,
					       .payload = click_payload, .on_piece = click_piece,
					       .on_tick = click_tick, .user = &c };
		struct th_jbsim_result r = run(fs == 480 ? "10 ms clicks, frame 30 held 120 ms"
							 : "20 ms clicks, frame 30 held 120 ms",
					       cfg);
		printf("  target: up to %u ms, at the end %u ms; %llu frames trimmed\n", c.t.max_target,
		       c.t.at_end, (unsigned long long)r.st.trimmed);
		assert_int_equal(r.put_late, 1);
		assert_int_equal(r.st.talkspurts, 1);
		assert_true(c.t.max_target >= 60);
		/* within a frame and a chunk of what the arrivals ask for */
		assert_true(c.t.at_end <= 10 + fs / 48 + VOICE_CHUNK_MS);
		assert_true(r.st.trimmed > 0);
		assert_true(r.st.trimmed <= 20);
		assert_int_equal(c.speech_given, c.speech_sent - (30 % 12 < 2));
		assert_int_equal(r.frames + r.fec + r.st.concealed + r.st.trimmed, r.sent);
	}
}

static void bad_frames_are_refused(void **state)
{
	struct voice_jb jb;
	struct voice_jb_stats st;
	uint8_t big[VOICE_OPUS_MAX + 1] = { 0 };
	voice_jb_init(&jb, NULL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 0, 0, PKT, sizeof(PKT), T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 720, 0, PKT, sizeof(PKT), T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 1920, 0, PKT, sizeof(PKT), T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 960, 0, PKT, 0, T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 960, 0, NULL, 10, T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 960, 0, big, sizeof(big), T0), -EINVAL);
	assert_int_equal(voice_jb_put(&jb, 1, 0, 960, 0x80, PKT, sizeof(PKT), T0), -EINVAL);
	voice_jb_stats(&jb, T0, &st);
	assert_int_equal(st.frames_in, 0);
	/* a stream, then frames impossibly far from it */
	assert_int_equal(voice_jb_put(&jb, 100, 48000, 960, 0, PKT, sizeof(PKT), T0), 0);
	assert_int_equal(voice_jb_put(&jb, 100 + VOICE_JB_SLOTS, 48000 + 960 * VOICE_JB_SLOTS, 960, 0, PKT, sizeof(PKT),
				      T0),
			 -ERANGE);
	assert_int_equal(voice_jb_put(&jb, 100 + 1000000, 48000, 960, 0, PKT, sizeof(PKT), T0), -ERANGE);
	assert_int_equal(voice_jb_put(&jb, 101, 48000 - 960 * 1000, 960, 0, PKT, sizeof(PKT), T0), -ERANGE);
	assert_int_equal(voice_jb_put(&jb, 100, 48000, 960, 0, PKT, sizeof(PKT), T0), -EALREADY);
	voice_jb_stats(&jb, T0, &st);
	assert_int_equal(st.frames_in, 5);
	assert_int_equal(st.too_far, 3);
	assert_int_equal(st.dup, 1);
	assert_int_equal(st.depth_ms, 20);
}

static void a_sender_that_restarts_is_followed(void **state)
{
	struct voice_jb jb;
	struct voice_jb_out o;
	voice_jb_init(&jb, NULL);
	uint64_t t = T0;
	unsigned frames = 0;
	/* 1 s of 20 ms frames from seq 500, 1 s of silence, then a new stream
	 * from seq 3 at an unrelated ts */
	for (unsigned i = 0; i < 400; i++, t += 10 * MS) {
		if (i < 100 && !(i & 1))
			assert_int_equal(voice_jb_put(&jb, 500 + i / 2, 7777 + 960 * (i / 2), 960, 0, PKT, sizeof(PKT), t),
					 0);
		if (i >= 200 && i < 300 && !(i & 1))
			assert_int_equal(voice_jb_put(&jb, 3 + (i - 200) / 2, 123456789u + 960 * ((i - 200) / 2), 960, 0,
						      PKT, sizeof(PKT), t),
					 0);
		while (voice_jb_get(&jb, t, &o) == 1 && o.kind != VOICE_JB_SILENT)
			frames += o.kind == VOICE_JB_FRAME;
	}
	assert_int_equal(frames, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_pull_contract),
		cmocka_unit_test(bad_frames_are_refused),
		cmocka_unit_test(a_clean_stream_is_played_whole_and_in_order),
		cmocka_unit_test(jitter_up_to_60_ms_loses_almost_nothing),
		cmocka_unit_test(five_percent_loss_with_30_ms_jitter_is_mostly_recovered_by_fec),
		cmocka_unit_test(reordered_frames_are_played_in_order),
		cmocka_unit_test(duplicates_are_dropped_and_counted),
		cmocka_unit_test(a_frame_after_its_playout_is_late_and_the_delay_grows),
		cmocka_unit_test(the_delay_is_bounded_by_max_ms),
		cmocka_unit_test(after_a_network_stall_the_delay_comes_back_within_max_ms),
		cmocka_unit_test(the_delay_grows_with_jitter_and_shrinks_in_silence_only),
		cmocka_unit_test(dtx_gaps_are_silence_not_loss),
		cmocka_unit_test(a_talkspurts_lost_first_frame_counts_as_concealed),
		cmocka_unit_test(a_lost_frame_is_decoded_from_its_successors_fec),
		cmocka_unit_test(timestamps_and_sequence_numbers_wrap),
		cmocka_unit_test(an_outage_longer_than_the_buffer_resumes),
		cmocka_unit_test(a_sender_that_restarts_is_followed),
		cmocka_unit_test(a_lone_late_frame_leaves_no_standing_delay),
		cmocka_unit_test(a_speech_long_stall_is_given_back_at_the_next_talkspurt),
		cmocka_unit_test(without_link_loss_there_is_no_fec_look_ahead),
		cmocka_unit_test(a_clean_link_plays_a_frame_sooner_and_losses_do_not_ratchet),
		cmocka_unit_test(a_standing_delay_in_speech_is_cut_in_its_pauses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
