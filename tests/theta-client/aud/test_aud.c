/* theta-client/aud against a real private PulseAudio (tests/lib/th_pulse.h)
 * with two null sinks: micA (mono, the "microphone": what is played into it
 * comes out of micA.monitor) and spkB (stereo, the "speakers": what aud
 * plays there is recorded from spkB.monitor).
 *   - a tone played into micA arrives at `captured` (10 ms mono chunks,
 *     seq +1 each, capture times in the past);
 *   - chunks `fetch` returns arrive at spkB's monitor, left and right where
 *     they were put;
 *   - the gate: closed, no chunk is handed over though the stream runs;
 *     opened, chunks come; closed again, they stop;
 *   - a burst of chunks beyond AUD_PLAY_BACKLOG_MS: the oldest are dropped;
 *   - a missing server, an unknown source or sink: the sentence, nothing runs. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aud/aud.h"
#include "th_harness.h"
#include "th_pulse.h"
#include "th_time.h"

#define WAIT_MS 20000          /* for audio to flow on two loaded cores */
#define TONE_HZ 1000.0
#define TONE_AMP 12000
#define HEARD 4000             /* |sample| that is the tone, not silence */
#define CAP_CHUNKS_MAX 4096u   /* chunks the capture callback keeps */

static struct th_pulse pulse = { .pid = -1 };
/* The aud a test runs: closed by the teardown when an assertion left it
 * running (the callbacks' data is static for that reason). */
static struct aud *cur;
static char dir[64];
static bool skipped;

/* ---- capture: what `captured` was given ---- */
struct cap_log {
	pthread_mutex_t mu;
	unsigned n;          /* calls */
	unsigned kept;       /* chunks in pcm[] */
	int peak;            /* the largest |sample| seen */
	uint32_t first_seq, last_seq;
	bool seq_ok;         /* every seq larger than the one before */
	bool time_ok;        /* every t_ns before the call */
	uint64_t first_t, last_t;
};

static void on_captured(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm)
{
	struct cap_log *c = user;
	uint64_t now = th_now_ns();
	pthread_mutex_lock(&c->mu);
	if (c->n == 0) {
		c->first_seq = seq;
		c->first_t = t_ns;
	} else if (seq <= c->last_seq) {
		c->seq_ok = false;
	}
	if (t_ns >= now)
		c->time_ok = false;
	c->last_seq = seq;
	c->last_t = t_ns;
	c->n++;
	for (unsigned i = 0; i < AUD_CHUNK_SAMPLES; i++) {
		int v = pcm[i] < 0 ? -pcm[i] : pcm[i];
		if (v > c->peak)
			c->peak = v;
	}
	pthread_mutex_unlock(&c->mu);
}

static void cap_log_init(struct cap_log *c)
{
	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->seq_ok = c->time_ok = true;
}

static void cap_snapshot(struct cap_log *c, struct cap_log *out)
{
	pthread_mutex_lock(&c->mu);
	*out = *c;
	pthread_mutex_unlock(&c->mu);
}

static int no_fetch(void *user, int16_t *stereo)
{
	(void)user;
	(void)stereo;
	return 0;
}

static void no_capture(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm)
{
	(void)user;
	(void)seq;
	(void)t_ns;
	(void)pcm;
}

static int group_setup(void **state)
{
	(void)state;
	if (th_pulse_skip()) {
		skipped = true;
		return 0;
	}
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	static const char *const sinks[] = { "micA:1", "spkB:2", NULL };
	if (th_pulse_start(&pulse, dir, sinks) < 0) {
		th_rm_rf(dir);
		return -1;
	}
	return 0;
}

static int close_cur(void **state)
{
	(void)state;
	aud_close(&cur);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (skipped)
		return 0;
	th_pulse_stop(&pulse);
	th_rm_rf(dir);
	return 0;
}

/* A tone of seconds s into micA, on the player's thread. */
static struct th_pulse_player *play_tone(double s)
{
	size_t frames = (size_t)(s * TH_PULSE_RATE);
	int16_t *pcm = malloc(frames * sizeof *pcm);
	assert_non_null(pcm);
	th_pulse_tone(pcm, frames, 1, TONE_HZ, TONE_AMP);
	struct th_pulse_player *pl;
	assert_int_equal(th_pulse_play_start(&pulse, "micA", 1, pcm, frames, &pl), 0);
	free(pcm);
	return pl;
}

/* aud_open that must succeed, saying why when it does not. */
static void open_ok(const struct aud_config *cfg, const struct aud_io *io, void *user, struct aud **a)
{
	char err[256];
	int r = aud_open(cfg, io, user, a, err, sizeof err);
	if (r < 0)
		print_message("aud_open: %s\n", err);
	assert_int_equal(r, 0);
}

static void open_capture(struct cap_log *log, struct aud **a, bool open)
{
	const struct aud_config cfg = { .server = pulse.server, .source = "micA.monitor", .capture = true, .gate = open };
	const struct aud_io io = { .captured = on_captured };
	open_ok(&cfg, &io, log, a);
}

static void capture_tone_arrives(void **state)
{
	(void)state;
	if (skipped)
		skip();
	static struct cap_log log;
	struct cap_log snap;
	cap_log_init(&log);
	uint64_t opened = th_now_ns();
	open_capture(&log, &cur, true); /* open from the first chunk */
	struct th_pulse_player *pl = play_tone(3.0);
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		cap_snapshot(&log, &snap);
	} while ((snap.peak < HEARD || snap.n < 20) && th_now_ns() < deadline);
	struct aud_stats st;
	aud_get_stats(cur, &st);
	print_message("captured %u chunks, peak %d, seq %u..%u, capture latency %u us, mean spacing %.2f ms\n",
		      snap.n, snap.peak, snap.first_seq, snap.last_seq, st.capture_latency_us,
		      snap.n > 1 ? (double)(snap.last_t - snap.first_t) / 1e6 / (snap.n - 1) : 0.0);
	assert_true(snap.peak >= HEARD);
	assert_true(snap.seq_ok);
	assert_true(snap.time_ok);
	assert_true(snap.first_t > opened - TH_NS_PER_S);
	/* The gate was open from the start: every chunk was handed over. */
	aud_close(&cur);
	assert_null(cur);
	cap_snapshot(&log, &snap);
	assert_true(st.chunks_sent >= 20);
	assert_int_equal(st.chunks_gated, 0);
	assert_int_equal(snap.last_seq - snap.first_seq + 1, snap.n);
	assert_false(st.capture_down);
	th_pulse_play_destroy(&pl);
}

static void gate_closed_hands_over_nothing(void **state)
{
	(void)state;
	if (skipped)
		skip();
	static struct cap_log log;
	struct cap_log snap;
	cap_log_init(&log);
	open_capture(&log, &cur, false);
	struct th_pulse_player *pl = play_tone(6.0);
	/* Closed (as it starts): the stream runs, nothing leaves. */
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (st.chunks_gated < 30 && th_now_ns() < deadline);
	cap_snapshot(&log, &snap);
	assert_true(st.chunks_gated >= 30);
	assert_int_equal(st.chunks_sent, 0);
	assert_int_equal(snap.n, 0);
	/* Opened: the tone comes, and seq counts the chunks gated before. */
	aud_set_gate(cur, true);
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		cap_snapshot(&log, &snap);
	} while ((snap.n < 10 || snap.peak < HEARD) && th_now_ns() < deadline);
	assert_true(snap.n >= 10);
	assert_true(snap.peak >= HEARD);
	assert_true(snap.first_seq > 30);
	/* Closed again: at most the chunk being handed over still comes. */
	aud_set_gate(cur, false);
	cap_snapshot(&log, &snap);
	unsigned at_close = snap.n;
	aud_get_stats(cur, &st);
	uint64_t gated0 = st.chunks_gated;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (st.chunks_gated < gated0 + 30 && th_now_ns() < deadline);
	cap_snapshot(&log, &snap);
	assert_true(st.chunks_gated >= gated0 + 30);
	assert_true(snap.n <= at_close + 1);
	aud_close(&cur);
	aud_get_stats(cur, &st); /* NULL: zeros */
	assert_int_equal(st.chunks_captured, 0);
	th_pulse_play_destroy(&pl);
}

/* ---- playback: chunks fetch hands out ---- */
struct play_src {
	atomic_uint avail;  /* chunks fetch may still hand out at once (a burst) */
	/* Or paced as the daemon sends them: chunk i is there from
	 * pace_t0 + i * 10 ms, pace_total of them. */
	uint64_t pace_t0;
	unsigned pace_total;
	unsigned head_start; /* paced: this many more there from the start (a burst) */
	/* Or paced by the sink: head_start + 1 there at first, then one more
	 * each time the thread comes back for chunks (a `fetch` that found
	 * none ends its pass): a flow at exactly the rate the sink takes
	 * chunks, which a stalled thread cannot turn into a backlog. */
	bool per_pass;
	unsigned passes;
	atomic_uint given;
	int16_t left, right; /* amplitudes of the tone on each side */
	unsigned phase;
};

static int fetch_tone(void *user, int16_t *stereo)
{
	struct play_src *p = user;
	if (p->per_pass) {
		unsigned due = p->head_start + 1 + p->passes;
		if (due > p->pace_total)
			due = p->pace_total;
		if (atomic_load(&p->given) >= due) {
			p->passes++;
			return 0;
		}
	} else if (p->pace_total) {
		uint64_t due = (th_now_ns() - p->pace_t0) / (10 * TH_NS_PER_MS) + 1 + p->head_start;
		if (due > p->pace_total)
			due = p->pace_total;
		if (atomic_load(&p->given) >= due)
			return 0;
	} else {
		unsigned n = atomic_load(&p->avail);
		do {
			if (n == 0)
				return 0;
		} while (!atomic_compare_exchange_weak(&p->avail, &n, n - 1));
	}
	for (unsigned i = 0; i < AUD_CHUNK_SAMPLES; i++, p->phase++) {
		/* A square wave of 48 samples per period (1 kHz): exact in s16. */
		int s = (p->phase / 24u) % 2u ? 1 : -1;
		stereo[2 * i] = (int16_t)(s * p->left);
		stereo[2 * i + 1] = (int16_t)(s * p->right);
	}
	atomic_fetch_add(&p->given, 1);
	return 1;
}

static void open_playback(struct play_src *src, struct aud **a)
{
	const struct aud_config cfg = { .server = pulse.server, .sink = "spkB", .playback = true };
	const struct aud_io io = { .fetch = fetch_tone };
	open_ok(&cfg, &io, src, a);
}

static void fetched_chunks_arrive_at_the_sink(void **state)
{
	(void)state;
	if (skipped)
		skip();
	struct th_pulse_rec *rec;
	assert_int_equal(th_pulse_rec_start(&pulse, "spkB.monitor", 2, 10 * TH_PULSE_RATE, &rec), 0);
	static struct play_src src;
	src = (struct play_src){ .left = TONE_AMP, .right = 0 };
	open_playback(&src, &cur);
	/* Half a second of tone on the left only, a chunk every 10 ms as the
	 * daemon sends them (the thread polls while nothing waits). */
	src.pace_t0 = th_now_ns();
	src.pace_total = 50;
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (st.chunks_played + st.chunks_dropped < 50 && th_now_ns() < deadline);
	/* Each was played, or dropped when the thread was late by more than
	 * the backlog (a loaded machine): most were played. */
	assert_int_equal(st.chunks_played + st.chunks_dropped, 50);
	assert_true(st.chunks_played >= 25);
	assert_int_equal(atomic_load(&src.given), 50);
	/* It reaches the monitor: loud on the left, silent on the right. */
	int left = 0, right = 0;
	size_t n;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		n = th_pulse_rec_frames(rec);
		const int16_t *pcm = th_pulse_rec_pcm(rec);
		left = right = 0;
		for (size_t i = 0; i < n; i++) {
			int l = abs(pcm[2 * i]), r = abs(pcm[2 * i + 1]);
			left = l > left ? l : left;
			right = r > right ? r : right;
		}
	} while (left < HEARD && th_now_ns() < deadline);
	print_message("played %" PRIu64 " chunks (%" PRIu64 " dropped), monitor peak left %d right %d, playback "
		      "latency %u us, %" PRIu64 " underruns\n",
		      st.chunks_played, st.chunks_dropped, left, right, st.playback_latency_us, st.underruns);
	assert_true(left >= HEARD);
	assert_true(right < HEARD / 4);
	assert_false(st.playback_down);
	aud_close(&cur);
	assert_int_equal(th_pulse_rec_stop(rec), 0);
	th_pulse_rec_destroy(&rec);
}

static void backlog_drops_the_oldest(void **state)
{
	(void)state;
	if (skipped)
		skip();
	static struct play_src src;
	src = (struct play_src){ .left = TONE_AMP / 2, .right = TONE_AMP / 2 };
	open_playback(&src, &cur);
	/* A stalled ring flushed at once: 20 chunks where the queue holds
	 * AUD_PLAY_BACKLOG_MS of them. The thread drains every chunk waiting
	 * in one pass, so the newest stay and the rest are dropped. */
	const unsigned burst = 20, queue = AUD_PLAY_BACKLOG_MS / 10u;
	atomic_store(&src.avail, burst);
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (st.chunks_played < queue && th_now_ns() < deadline);
	th_sleep_ns(100 * TH_NS_PER_MS); /* nothing more is to come: let a wrong extra one show */
	aud_get_stats(cur, &st);
	assert_int_equal(atomic_load(&src.given), burst);
	assert_int_equal(st.chunks_played, queue);
	assert_int_equal(st.chunks_dropped, burst - queue);
	aud_close(&cur);
}

/* A burst of chunks followed by a steady flow: the sink takes them as fast
 * as they come, so the burst would stay as standing delay; after
 * AUD_PLAY_TRIM_MS of a queue that never ran short it is dropped.
 * The flow is paced by the sink (one chunk more per pass of the thread),
 * not by the wall clock: with a clock-paced flow a playback thread the
 * scheduler held back for more than AUD_PLAY_BACKLOG_MS found a backlog
 * and dropped it by the backlog rule, so on a loaded machine the drops
 * were the stalls' (up to 20 of 100 with 30..150 ms stalls, measured),
 * not the trim's. Paced by the sink, the queue stands at the burst
 * whatever the scheduler does, and only the trim can drop: exactly the
 * burst (what stood queued behind the chunk being written). */
static void standing_delay_is_cut(void **state)
{
	(void)state;
	if (skipped)
		skip();
	static struct play_src src;
	src = (struct play_src){ .left = TONE_AMP / 2, .right = TONE_AMP / 2 };
	open_playback(&src, &cur);
	const unsigned total = 100, burst = AUD_PLAY_BACKLOG_MS / 10u - 1;
	src.head_start = burst;
	src.per_pass = true;
	src.pace_total = total;
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (st.chunks_played + st.chunks_dropped < total && th_now_ns() < deadline);
	print_message("%" PRIu64 " played, %" PRIu64 " dropped\n", st.chunks_played, st.chunks_dropped);
	assert_int_equal(st.chunks_played + st.chunks_dropped, total);
	assert_int_equal(atomic_load(&src.given), total);
	assert_int_equal(st.chunks_dropped, burst);
	aud_close(&cur);
}

/* One user for both callbacks. */
struct both {
	struct cap_log cap;
	struct play_src play;
};

static void both_captured(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm)
{
	on_captured(&((struct both *)user)->cap, seq, t_ns, pcm);
}

static int both_fetch(void *user, int16_t *stereo)
{
	return fetch_tone(&((struct both *)user)->play, stereo);
}

static void both_streams_by_default(void **state)
{
	(void)state;
	if (skipped)
		skip();
	/* Neither capture nor playback asked: both open, on the server's
	 * default source and sink (a null sink and a monitor). */
	static struct both b;
	b = (struct both){ .play = { .left = TONE_AMP, .right = TONE_AMP } };
	struct cap_log snap;
	cap_log_init(&b.cap);
	const struct aud_config cfg = { .server = pulse.server };
	const struct aud_io io = { .captured = both_captured, .fetch = both_fetch };
	open_ok(&cfg, &io, &b, &cur);
	aud_set_gate(cur, true);
	b.play.pace_t0 = th_now_ns();
	b.play.pace_total = 10;
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		cap_snapshot(&b.cap, &snap);
		aud_get_stats(cur, &st);
	} while ((snap.n < 10 || st.chunks_played + st.chunks_dropped < 10) && th_now_ns() < deadline);
	assert_true(snap.n >= 10);
	assert_int_equal(st.chunks_played + st.chunks_dropped, 10);
	assert_true(st.chunks_played >= AUD_PLAY_BACKLOG_MS / 10u);
	aud_close(&cur);
}

/* The server restarts under a running aud: both streams go down, and come
 * back on their own once it is there again; chunks flow again. */
static void a_restarted_server_is_reconnected(void **state)
{
	(void)state;
	if (skipped)
		skip();
	static struct both b;
	b = (struct both){ .play = { .left = TONE_AMP, .right = TONE_AMP } };
	cap_log_init(&b.cap);
	const struct aud_config cfg = { .server = pulse.server, .source = "micA.monitor", .sink = "spkB" };
	const struct aud_io io = { .captured = both_captured, .fetch = both_fetch };
	open_ok(&cfg, &io, &b, &cur);
	aud_set_gate(cur, true);
	struct cap_log snap;
	struct aud_stats st;
	uint64_t deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		cap_snapshot(&b.cap, &snap);
	} while (snap.n < 5 && th_now_ns() < deadline);
	assert_true(snap.n >= 5);
	/* Playback needs chunks to notice: a steady stream of them. */
	b.play.pace_t0 = th_now_ns();
	b.play.pace_total = 100000;
	th_pulse_stop(&pulse);
	deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while (!(st.capture_down && st.playback_down) && th_now_ns() < deadline);
	assert_true(st.capture_down);
	assert_true(st.playback_down);
	static const char *const sinks[] = { "micA:1", "spkB:2", NULL };
	uint64_t t_start = th_now_ns();
	assert_int_equal(th_pulse_start(&pulse, dir, sinks), 0);
	uint64_t t_up = th_now_ns();
	/* Each wait has its own deadline: starting the server again took up
	 * to TH_PULSE_START_MS of a shared one on a loaded machine, and the
	 * reconnect was then judged with no time left (seen under load). */
	deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		aud_get_stats(cur, &st);
	} while ((st.capture_down || st.playback_down) && th_now_ns() < deadline);
	print_message("server up again in %.1f s, both streams back %.1f s later (%" PRIu64 " reopens)\n",
		      (double)(t_up - t_start) / 1e9, (double)(th_now_ns() - t_up) / 1e9, st.reopens);
	assert_false(st.capture_down);
	assert_false(st.playback_down);
	assert_true(st.reopens >= 2); /* each stream at least once */
	cap_snapshot(&b.cap, &snap);
	unsigned before = snap.n;
	uint64_t played = st.chunks_played;
	deadline = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	do {
		th_sleep_ns(10 * TH_NS_PER_MS);
		cap_snapshot(&b.cap, &snap);
		aud_get_stats(cur, &st);
	} while ((snap.n < before + 5 || st.chunks_played < played + 5) && th_now_ns() < deadline);
	assert_true(snap.n >= before + 5);
	assert_true(st.chunks_played >= played + 5);
	aud_close(&cur);
}

static void expect_error(const struct aud_config *cfg, int want, const char *prefix)
{
	char err[256];
	struct aud *a = (struct aud *)&a; /* not NULL: the failure must leave it alone */
	struct aud *before = a;
	const struct aud_io io = { .captured = no_capture, .fetch = no_fetch };
	int r = aud_open(cfg, &io, NULL, &a, err, sizeof err);
	print_message("%s\n", err);
	assert_int_equal(r, want);
	assert_ptr_equal(a, before);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	assert_non_null(strchr(err, ':'));
}

static void missing_server_says_so(void **state)
{
	(void)state;
	char server[128];
	snprintf(server, sizeof server, "unix:%s/no-such-dir/native", dir[0] ? dir : "/nonexistent");
	const struct aud_config cfg = { .server = server };
	char prefix[160];
	snprintf(prefix, sizeof prefix, "no PulseAudio server at %s: ", server);
	expect_error(&cfg, -ECONNREFUSED, prefix);
}

static void unknown_source_and_sink_say_so(void **state)
{
	(void)state;
	if (skipped)
		skip();
	const struct aud_config c1 = { .server = pulse.server, .source = "mic2", .capture = true };
	expect_error(&c1, -ENOENT, "no such source: mic2 ");
	const struct aud_config c2 = { .server = pulse.server, .sink = "spk9", .playback = true };
	expect_error(&c2, -ENOENT, "no such sink: spk9 ");
	/* Both asked, the sink unknown: the capture stream made first is
	 * closed again; nothing runs. */
	const struct aud_config c3 = { .server = pulse.server, .source = "micA.monitor", .sink = "spk9" };
	expect_error(&c3, -ENOENT, "no such sink: spk9 ");
}

static void bad_config_is_refused(void **state)
{
	(void)state;
	char err[256];
	struct aud *a = NULL;
	const struct aud_io io = { .captured = no_capture };
	/* Playback asked (by default) without fetch. */
	assert_int_equal(aud_open(&(struct aud_config){ .server = "unix:/x" }, &io, NULL, &a, err, sizeof err),
			 -EINVAL);
	assert_null(a);
	assert_true(strlen(err) > 0);
	assert_int_equal(aud_open(&(struct aud_config){ .capture = true, .latency_ms = 5 }, &io, NULL, &a, err,
				  sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "latency"));
	assert_int_equal(aud_open(&(struct aud_config){ .capture = true, .source = "" }, &io, NULL, &a, err,
				  sizeof err),
			 -EINVAL);
	assert_null(a);
	aud_close(&a); /* NULL-safe */
	aud_close(NULL);
	aud_set_gate(NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_config_is_refused),
		cmocka_unit_test(missing_server_says_so),
		cmocka_unit_test(unknown_source_and_sink_say_so),
		cmocka_unit_test_teardown(capture_tone_arrives, close_cur),
		cmocka_unit_test_teardown(gate_closed_hands_over_nothing, close_cur),
		cmocka_unit_test_teardown(fetched_chunks_arrive_at_the_sink, close_cur),
		cmocka_unit_test_teardown(backlog_drops_the_oldest, close_cur),
		cmocka_unit_test_teardown(standing_delay_is_cut, close_cur),
		cmocka_unit_test_teardown(both_streams_by_default, close_cur),
		cmocka_unit_test_teardown(a_restarted_server_is_reconnected, close_cur),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
