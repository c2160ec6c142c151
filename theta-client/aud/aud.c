/* theta-client's audio (aud.h): two libpulse simple-API streams, each on
 * its own thread. The capture thread reads 10 ms chunks (blocking in
 * pa_simple_read, paced by the source) and hands them over while the gate
 * is open; the playback thread takes chunks from `fetch` into a short
 * queue (the oldest dropped beyond AUD_PLAY_BACKLOG_MS) and writes them
 * (pa_simple_write blocks while the stream's buffer is full, which paces
 * it), polling `fetch` every AUD_PLAY_POLL_NS while nothing waits. */
#include "aud/aud.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pulse/error.h>
#include <pulse/simple.h>

#include "th_time.h"

#define AUD_MONO_BYTES   (AUD_CHUNK_SAMPLES * 2u)
#define AUD_STEREO_BYTES (AUD_CHUNK_SAMPLES * 4u)
#define AUD_CHUNK_NS     (10u * TH_NS_PER_MS)
#define AUD_PLAY_QUEUE   (AUD_PLAY_BACKLOG_MS / 10u)
#define AUD_PLAY_TRIM_CHUNKS (AUD_PLAY_TRIM_MS / 10u)
#define AUD_LATENCY_MS_MAX 200u
#define AUD_ANCHOR_CHUNKS 50u /* the capture clock's anchor follows the least delay of this many chunks */
#define AUD_NAME_MAX     256u /* bytes of a server, source, sink or application name */
/* aud_close waits this long for each thread; one still blocked in libpulse
 * then (a server that stopped delivering) is left to end on its own, and the
 * last of aud_close and the threads frees everything. */
#define AUD_CLOSE_WAIT_MS 1000u
/* A stream the server ended is opened again this often, until it opens or
 * aud_close; the wait looks at aud_close's stop this often. */
#define AUD_REOPEN_MS 1000u
#define AUD_STOP_POLL_NS (50u * TH_NS_PER_MS)

_Static_assert(AUD_PLAY_QUEUE >= 1, "the playback queue holds a chunk");

struct aud {
	struct aud_io io;
	void *user;
	pa_simple *cap, *play;
	pthread_t cap_thr, play_thr;
	bool cap_started, play_started;
	atomic_bool stop;
	atomic_bool gate;
	atomic_uint refs; /* aud_close's and one per running thread */
	/* Held around each callback and by aud_close while it sets stop: after
	 * aud_close returns no callback runs. */
	pthread_mutex_t cap_mu, play_mu;
	/* Written by one thread each, read by aud_get_stats. */
	atomic_uint_least64_t chunks_captured, chunks_sent, chunks_gated;
	atomic_uint_least64_t chunks_played, chunks_dropped, underruns;
	atomic_uint_least32_t capture_latency_us, playback_latency_us;
	atomic_bool cap_down, play_down; /* the server ended the stream; its thread reopens it */
	atomic_uint_least64_t reopens;
	/* What the streams are opened with, again after the server ended one. */
	char server[AUD_NAME_MAX], source[AUD_NAME_MAX], sink[AUD_NAME_MAX], app[AUD_NAME_MAX];
	unsigned lat_ms;
	/* The playback thread's queue (its own: no lock). */
	int16_t queue[AUD_PLAY_QUEUE][AUD_CHUNK_SAMPLES * 2];
	unsigned q_head, q_len;
};

static const char *server_name(const struct aud_config *cfg, char *buf, size_t cap)
{
	if (cfg->server)
		return cfg->server;
	const char *env = getenv("PULSE_SERVER");
	if (env && *env)
		return env;
	const char *rt = getenv("XDG_RUNTIME_DIR");
	if (rt && *rt) {
		snprintf(buf, cap, "unix:%s/pulse/native", rt);
		return buf;
	}
	return "the default address";
}

/* One sentence for a stream that could not be made. */
static int open_error(const struct aud_config *cfg, bool capture, int pa_err, char *err, size_t errlen)
{
	char sbuf[AUD_NAME_MAX + 32];
	const char *server = server_name(cfg, sbuf, sizeof sbuf);
	const char *dev = capture ? cfg->source : cfg->sink;
	switch (pa_err) {
	case PA_ERR_CONNECTIONREFUSED:
	case PA_ERR_INVALIDSERVER:
	case PA_ERR_CONNECTIONTERMINATED:
	case PA_ERR_TIMEOUT:
		snprintf(err, errlen, "no PulseAudio server at %s: %s", server, pa_strerror(pa_err));
		return -ECONNREFUSED;
	case PA_ERR_NOENTITY:
		if (dev) {
			snprintf(err, errlen, "no such %s: %s (on the PulseAudio server at %s)",
				 capture ? "source" : "sink", dev, server);
			return -ENOENT;
		}
		break;
	case PA_ERR_ACCESS:
	case PA_ERR_AUTHKEY:
		snprintf(err, errlen, "the PulseAudio server at %s refused the %s stream: %s", server,
			 capture ? "capture" : "playback", pa_strerror(pa_err));
		return -EACCES;
	default:
		break;
	}
	snprintf(err, errlen, "cannot open the %s stream on the PulseAudio server at %s: %s",
		 capture ? "capture" : "playback", server, pa_strerror(pa_err));
	return -EIO;
}

static const char *opt(const char *s)
{
	return s[0] ? s : NULL;
}

/* One stream as aud_open made it; NULL and *pe on failure. */
static pa_simple *open_stream(const struct aud *a, bool capture, int *pe)
{
	if (capture) {
		const pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = AUD_RATE, .channels = 1 };
		/* fragsize: the server hands over data this often (the capture
		 * side's share of the latency). */
		const pa_buffer_attr ba = { .maxlength = (uint32_t)-1, .tlength = (uint32_t)-1, .prebuf = (uint32_t)-1,
					    .minreq = (uint32_t)-1,
					    .fragsize = a->lat_ms * (AUD_RATE / 1000u) * 2u };
		return pa_simple_new(opt(a->server), a->app, PA_STREAM_RECORD, opt(a->source), "voice capture", &ss, NULL,
				     &ba, pe);
	}
	const pa_sample_spec ss = { .format = PA_SAMPLE_S16LE, .rate = AUD_RATE, .channels = 2 };
	/* tlength: what the stream holds before a write blocks (the latency
	 * plus the chunk being written); playback starts (and starts again
	 * after running dry) once the latency's whole chunks are there, at
	 * least one; the server asks for one chunk at a time. */
	const uint32_t bytes_per_ms = (AUD_RATE / 1000u) * 4u;
	const uint32_t pre = (a->lat_ms / 10u) * AUD_STEREO_BYTES;
	const pa_buffer_attr ba = { .maxlength = (uint32_t)-1, .tlength = a->lat_ms * bytes_per_ms + AUD_STEREO_BYTES,
				    .prebuf = pre, .minreq = AUD_STEREO_BYTES, .fragsize = (uint32_t)-1 };
	return pa_simple_new(opt(a->server), a->app, PA_STREAM_PLAYBACK, opt(a->sink), "voice playback", &ss, NULL, &ba,
			     pe);
}

/* The server ended *s (it quit or restarted, the device went away): closed,
 * then opened again every AUD_REOPEN_MS until it opens (true) or aud_close
 * stops the thread (false, *s NULL). */
static bool reopen(struct aud *a, pa_simple **s, bool capture)
{
	atomic_bool *down = capture ? &a->cap_down : &a->play_down;
	pa_simple_free(*s);
	*s = NULL;
	atomic_store(down, true);
	while (!atomic_load(&a->stop)) {
		for (uint64_t waited = 0; waited < AUD_REOPEN_MS * TH_NS_PER_MS && !atomic_load(&a->stop);
		     waited += AUD_STOP_POLL_NS)
			th_sleep_ns(AUD_STOP_POLL_NS);
		if (atomic_load(&a->stop))
			break;
		int pe;
		if ((*s = open_stream(a, capture, &pe)) != NULL) {
			atomic_fetch_add(&a->reopens, 1);
			atomic_store(down, false);
			return true;
		}
	}
	return false;
}

static void destroy(struct aud *a)
{
	if (a->cap)
		pa_simple_free(a->cap);
	if (a->play) {
		int e;
		pa_simple_flush(a->play, &e);
		pa_simple_free(a->play);
	}
	pthread_mutex_destroy(&a->cap_mu);
	pthread_mutex_destroy(&a->play_mu);
	free(a);
}

/* The last of aud_close and the threads frees. */
static void release(struct aud *a)
{
	if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
		destroy(a);
}

static void *capture_main(void *arg)
{
	struct aud *a = arg;
	int16_t pcm[AUD_CHUNK_SAMPLES];
	uint32_t seq = 0;
	uint64_t frames = 0, anchor = 0, block_min = 0;
	unsigned block_n = 0;
	bool have_anchor = false;
	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		int e;
		if (pa_simple_read(a->cap, pcm, sizeof pcm, &e) < 0) {
			if (!reopen(a, &a->cap, true))
				break;
			/* A new stream: a new sample count, a new anchor. */
			frames = 0;
			have_anchor = false;
			block_n = 0;
			continue;
		}
		uint64_t now = th_now_ns();
		pa_usec_t lat = pa_simple_get_latency(a->cap, &e);
		if (lat == (pa_usec_t)-1)
			lat = 0;
		atomic_store_explicit(&a->capture_latency_us, lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat,
				      memory_order_relaxed);
		/* The capture clock: the stream's sample count, anchored where a
		 * read returned earliest relative to it (the capture time plus
		 * the least delivery delay). pa_simple_get_latency cannot anchor
		 * it: a null sink's monitor reports 0.7 s at first, decaying to 0
		 * over a second (tests/lib/th_pulse.c measured it). The anchor
		 * moves down at once, and up to the least of the last
		 * AUD_ANCHOR_CHUNKS chunks (the audio clock drifting from
		 * CLOCK_MONOTONIC, data the server dropped). */
		frames += AUD_CHUNK_SAMPLES;
		uint64_t end_ns = frames * TH_NS_PER_S / AUD_RATE;
		uint64_t cand = now - end_ns; /* may wrap below 0: compared as signed differences */
		if (!have_anchor || (int64_t)(cand - anchor) < 0) {
			anchor = cand;
			have_anchor = true;
		}
		if (block_n == 0 || (int64_t)(cand - block_min) < 0)
			block_min = cand;
		if (++block_n == AUD_ANCHOR_CHUNKS) {
			if ((int64_t)(block_min - anchor) > 0)
				anchor = block_min;
			block_n = 0;
		}
		uint64_t t_ns = anchor + end_ns - AUD_CHUNK_NS;
		seq++;
		atomic_fetch_add_explicit(&a->chunks_captured, 1, memory_order_relaxed);
		if (!atomic_load_explicit(&a->gate, memory_order_acquire)) {
			/* Muted: this chunk never leaves aud. */
			atomic_fetch_add_explicit(&a->chunks_gated, 1, memory_order_relaxed);
			memset(pcm, 0, sizeof pcm);
			continue;
		}
		pthread_mutex_lock(&a->cap_mu);
		if (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
			a->io.captured(a->user, seq, t_ns, pcm);
			atomic_fetch_add_explicit(&a->chunks_sent, 1, memory_order_relaxed);
		}
		pthread_mutex_unlock(&a->cap_mu);
	}
	release(a);
	return NULL;
}

/* Everything fetch has now goes to the queue; beyond its capacity the
 * oldest goes. Returns how many chunks came. */
static unsigned drain_fetch(struct aud *a)
{
	unsigned got = 0;
	for (;;) {
		unsigned slot;
		if (a->q_len == AUD_PLAY_QUEUE) {
			slot = a->q_head; /* overwrite the oldest */
		} else {
			slot = (a->q_head + a->q_len) % AUD_PLAY_QUEUE;
		}
		pthread_mutex_lock(&a->play_mu);
		int r = atomic_load_explicit(&a->stop, memory_order_relaxed) ? 0 : a->io.fetch(a->user, a->queue[slot]);
		pthread_mutex_unlock(&a->play_mu);
		if (r != 1)
			return got;
		got++;
		if (a->q_len == AUD_PLAY_QUEUE) {
			a->q_head = (a->q_head + 1) % AUD_PLAY_QUEUE;
			atomic_fetch_add_explicit(&a->chunks_dropped, 1, memory_order_relaxed);
		} else {
			a->q_len++;
		}
		/* A sender far ahead cannot keep this thread here forever: at
		 * most a queue's worth of fresh chunks per pass beyond what was
		 * there (the rest waits for the next pass). */
		if (got >= 4 * AUD_PLAY_QUEUE)
			return got;
	}
}

static void *playback_main(void *arg)
{
	struct aud *a = arg;
	/* When what was written so far has played out. */
	uint64_t play_end = 0, last_chunk_end = 0;
	bool playing = false;
	/* The fewest chunks left waiting behind the one written, over the
	 * last writes (win_n of AUD_PLAY_TRIM_CHUNKS). */
	unsigned win_min = AUD_PLAY_QUEUE, win_n = 0;
	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		drain_fetch(a);
		if (a->q_len == 0) {
			win_min = 0; /* it ran empty: no standing delay */
			th_sleep_ns(AUD_PLAY_POLL_NS);
			continue;
		}
		/* A queue that never ran below k chunks for AUD_PLAY_TRIM_CHUNKS
		 * writes is k chunks of standing delay (a stall or a burst that
		 * the steady flow since never drained, since the sink takes
		 * chunks as fast as they come): the k oldest go. */
		if (a->q_len - 1 < win_min)
			win_min = a->q_len - 1;
		if (++win_n >= AUD_PLAY_TRIM_CHUNKS) {
			for (; win_min > 0 && a->q_len > 1; win_min--) {
				a->q_head = (a->q_head + 1) % AUD_PLAY_QUEUE;
				a->q_len--;
				atomic_fetch_add_explicit(&a->chunks_dropped, 1, memory_order_relaxed);
			}
			win_min = AUD_PLAY_QUEUE;
			win_n = 0;
		}
		uint64_t now = th_now_ns();
		/* A chunk after the stream ran dry, within a talkspurt (the
		 * previous chunk ended less than AUD_PLAY_GAP_MS ago): an
		 * underrun. A longer gap is the daemon sending nothing. */
		if (playing && now > play_end && now - last_chunk_end < AUD_PLAY_GAP_MS * TH_NS_PER_MS)
			atomic_fetch_add_explicit(&a->underruns, 1, memory_order_relaxed);
		int e;
		if (pa_simple_write(a->play, a->queue[a->q_head], AUD_STEREO_BYTES, &e) < 0) {
			if (!reopen(a, &a->play, false))
				break;
			playing = false; /* the chunk goes to the new stream */
			continue;
		}
		a->q_head = (a->q_head + 1) % AUD_PLAY_QUEUE;
		a->q_len--;
		atomic_fetch_add_explicit(&a->chunks_played, 1, memory_order_relaxed);
		/* When what was written runs out: the stream's latency now (what
		 * it holds, plus the sink's own) says it; without one, a chunk
		 * after the later of now and the last estimate. */
		pa_usec_t lat = pa_simple_get_latency(a->play, &e);
		uint64_t after = th_now_ns();
		if (lat != (pa_usec_t)-1) {
			atomic_store_explicit(&a->playback_latency_us, lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat,
					      memory_order_relaxed);
			play_end = after + (uint64_t)lat * TH_NS_PER_US;
		} else {
			play_end = (play_end > now ? play_end : now) + AUD_CHUNK_NS;
		}
		last_chunk_end = play_end;
		playing = true;
	}
	release(a);
	return NULL;
}

static void join_or_leave(pthread_t t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)AUD_CLOSE_WAIT_MS * TH_NS_PER_MS;
	ts.tv_sec += (time_t)(ns / TH_NS_PER_S);
	ts.tv_nsec = (long)(ns % TH_NS_PER_S);
	if (pthread_timedjoin_np(t, NULL, &ts) != 0)
		pthread_detach(t);
}

void aud_close(struct aud **p)
{
	if (!p || !*p)
		return;
	struct aud *a = *p;
	*p = NULL;
	/* Under each callback lock: a callback under way ends first, none
	 * starts after. */
	pthread_mutex_lock(&a->cap_mu);
	pthread_mutex_lock(&a->play_mu);
	atomic_store(&a->stop, true);
	pthread_mutex_unlock(&a->play_mu);
	pthread_mutex_unlock(&a->cap_mu);
	if (a->cap_started)
		join_or_leave(a->cap_thr);
	if (a->play_started)
		join_or_leave(a->play_thr);
	release(a);
}

static bool name_ok(const char *s)
{
	return !s || (*s && strlen(s) < AUD_NAME_MAX);
}

int aud_open(const struct aud_config *cfg, const struct aud_io *io, void *user, struct aud **out, char *err,
	     size_t errlen)
{
	static const struct aud_config zero = { 0 };
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = 0;
	if (!cfg)
		cfg = &zero;
	bool want_cap = cfg->capture || !cfg->playback, want_play = cfg->playback || !cfg->capture;
	if (!out || !io || (want_cap && !io->captured) || (want_play && !io->fetch)) {
		snprintf(err, errlen, "the audio needs its callbacks (captured, fetch)");
		return -EINVAL;
	}
	if (!name_ok(cfg->server) || !name_ok(cfg->source) || !name_ok(cfg->sink) || !name_ok(cfg->app_name)) {
		snprintf(err, errlen, "a PulseAudio server, source, sink or application name is empty or longer than %u bytes",
			 AUD_NAME_MAX - 1);
		return -EINVAL;
	}
	unsigned lat_ms = cfg->latency_ms ? cfg->latency_ms : AUD_LATENCY_MS_DEFAULT;
	if (lat_ms < 10 || lat_ms > AUD_LATENCY_MS_MAX) {
		snprintf(err, errlen, "the audio latency must be 10..%u ms, not %u", AUD_LATENCY_MS_MAX, lat_ms);
		return -EINVAL;
	}
	struct aud *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "no memory for the audio");
		return -ENOMEM;
	}
	a->io = *io;
	a->user = user;
	atomic_init(&a->refs, 1);
	pthread_mutex_init(&a->cap_mu, NULL);
	pthread_mutex_init(&a->play_mu, NULL);
	snprintf(a->server, sizeof a->server, "%s", cfg->server ? cfg->server : "");
	snprintf(a->source, sizeof a->source, "%s", cfg->source ? cfg->source : "");
	snprintf(a->sink, sizeof a->sink, "%s", cfg->sink ? cfg->sink : "");
	snprintf(a->app, sizeof a->app, "%s", cfg->app_name ? cfg->app_name : "theta-client");
	a->lat_ms = lat_ms;
	atomic_init(&a->gate, cfg->gate);
	int pe = 0, r;
	if (want_cap && !(a->cap = open_stream(a, true, &pe))) {
		r = open_error(cfg, true, pe, err, errlen);
		aud_close(&a);
		return r;
	}
	if (want_play && !(a->play = open_stream(a, false, &pe))) {
		r = open_error(cfg, false, pe, err, errlen);
		aud_close(&a);
		return r;
	}
	if (a->cap) {
		atomic_fetch_add(&a->refs, 1);
		if ((r = pthread_create(&a->cap_thr, NULL, capture_main, a)) != 0) {
			atomic_fetch_sub(&a->refs, 1);
			snprintf(err, errlen, "cannot start the audio capture thread: %s", strerror(r));
			aud_close(&a);
			return -r;
		}
		a->cap_started = true;
		pthread_setname_np(a->cap_thr, "aud-capture");
	}
	if (a->play) {
		atomic_fetch_add(&a->refs, 1);
		if ((r = pthread_create(&a->play_thr, NULL, playback_main, a)) != 0) {
			atomic_fetch_sub(&a->refs, 1);
			snprintf(err, errlen, "cannot start the audio playback thread: %s", strerror(r));
			aud_close(&a);
			return -r;
		}
		a->play_started = true;
		pthread_setname_np(a->play_thr, "aud-play");
	}
	*out = a;
	return 0;
}

void aud_set_gate(struct aud *a, bool open)
{
	if (a)
		atomic_store_explicit(&a->gate, open, memory_order_release);
}

void aud_get_stats(const struct aud *a, struct aud_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!a)
		return;
	struct aud *m = (struct aud *)a; /* atomics are read, not changed */
	out->chunks_captured = atomic_load_explicit(&m->chunks_captured, memory_order_relaxed);
	out->chunks_sent = atomic_load_explicit(&m->chunks_sent, memory_order_relaxed);
	out->chunks_gated = atomic_load_explicit(&m->chunks_gated, memory_order_relaxed);
	out->chunks_played = atomic_load_explicit(&m->chunks_played, memory_order_relaxed);
	out->chunks_dropped = atomic_load_explicit(&m->chunks_dropped, memory_order_relaxed);
	out->underruns = atomic_load_explicit(&m->underruns, memory_order_relaxed);
	out->capture_latency_us = atomic_load_explicit(&m->capture_latency_us, memory_order_relaxed);
	out->playback_latency_us = atomic_load_explicit(&m->playback_latency_us, memory_order_relaxed);
	out->capture_down = atomic_load(&m->cap_down);
	out->playback_down = atomic_load(&m->play_down);
	out->reopens = atomic_load(&m->reopens);
}
