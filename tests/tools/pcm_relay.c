/* pcm_relay: theta-client's audio (theta-client/aud) with nothing between
 * capture and playback: every 10 ms mono chunk captured from SOURCE is
 * played on SINK as stereo (the same sample on both channels), through the
 * same streams, buffers and threads the client uses, but no ring, daemon,
 * codec or network. `make bench-voice` measures its mouth-to-ear latency
 * as the baseline of voice.mouth_to_ear_ms (docs/voice.md, "Figures").
 *
 *   pcm_relay --source NAME --sink NAME [--server S] [--latency-ms N] [--seconds N]
 *
 * Runs until SIGTERM / SIGINT (or N seconds), then prints
 * `pcm_relay: C chunks captured, P played, D dropped, U underruns` and
 * exits 0; 1 with aud's sentence when the streams cannot open. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aud/aud.h"
#include "th_time.h"

/* Chunks held between the capture and the playback thread; a full FIFO
 * drops the oldest (the playback side's own backlog bound is aud's). */
#define RELAY_FIFO_CHUNKS 8u
#define RELAY_POLL_NS     (20 * TH_NS_PER_MS)
#define RELAY_SECONDS_MAX 86400u

struct relay {
	pthread_mutex_t mu;
	int16_t fifo[RELAY_FIFO_CHUNKS][AUD_CHUNK_SAMPLES]; /* under mu */
	unsigned head, count;                               /* under mu */
	uint64_t dropped;                                   /* under mu */
};

static void relay_captured(void *user, uint32_t seq, uint64_t t_ns, const int16_t *pcm)
{
	struct relay *r = user;
	pthread_mutex_lock(&r->mu);
	if (r->count == RELAY_FIFO_CHUNKS) {
		r->head = (r->head + 1) % RELAY_FIFO_CHUNKS;
		r->count--;
		r->dropped++;
	}
	memcpy(r->fifo[(r->head + r->count) % RELAY_FIFO_CHUNKS], pcm, sizeof r->fifo[0]);
	r->count++;
	pthread_mutex_unlock(&r->mu);
}

static int relay_fetch(void *user, int16_t *stereo)
{
	struct relay *r = user;
	int16_t mono[AUD_CHUNK_SAMPLES];
	pthread_mutex_lock(&r->mu);
	bool have = r->count > 0;
	if (have) {
		memcpy(mono, r->fifo[r->head], sizeof mono);
		r->head = (r->head + 1) % RELAY_FIFO_CHUNKS;
		r->count--;
	}
	pthread_mutex_unlock(&r->mu);
	if (!have)
		return 0;
	for (unsigned i = 0; i < AUD_CHUNK_SAMPLES; i++)
		stereo[2 * i] = stereo[2 * i + 1] = mono[i];
	return 1;
}

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pcm_relay --source NAME --sink NAME [--server S] [--latency-ms N] [--seconds N]\n");
}

int main(int argc, char **argv)
{
	struct aud_config cfg = { .app_name = "pcm_relay" };
	unsigned long seconds = 0;
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },	 { "sink", required_argument, NULL, 'k' },
		{ "server", required_argument, NULL, 'S' },	 { "latency-ms", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		char *end = NULL;
		switch (c) {
		case 's': cfg.source = optarg; break;
		case 'k': cfg.sink = optarg; break;
		case 'S': cfg.server = optarg; break;
		case 'l':
			cfg.latency_ms = (unsigned)strtoul(optarg, &end, 10);
			if (!*optarg || *end || cfg.latency_ms == 0 || cfg.latency_ms > 1000) {
				fprintf(stderr, "pcm_relay: --latency-ms wants 1..1000, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			seconds = strtoul(optarg, &end, 10);
			if (!*optarg || *end || seconds == 0 || seconds > RELAY_SECONDS_MAX) {
				fprintf(stderr, "pcm_relay: --seconds wants 1..%u, not '%s'\n", RELAY_SECONDS_MAX, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !cfg.source || !cfg.sink) {
		usage(stderr);
		return 2;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	static struct relay r = { .mu = PTHREAD_MUTEX_INITIALIZER };
	const struct aud_io io = { .captured = relay_captured, .fetch = relay_fetch };
	struct aud *a = NULL;
	char err[256];
	if (aud_open(&cfg, &io, &r, &a, err, sizeof err) < 0) {
		fprintf(stderr, "pcm_relay: %s\n", err);
		return 1;
	}
	aud_set_gate(a, true);
	uint64_t end = seconds ? th_now_ns() + seconds * TH_NS_PER_S : UINT64_MAX;
	while (!quit && th_now_ns() < end)
		th_sleep_ns(RELAY_POLL_NS);
	struct aud_stats st;
	aud_get_stats(a, &st);
	aud_close(&a);
	pthread_mutex_lock(&r.mu);
	uint64_t dropped = r.dropped + st.chunks_dropped;
	pthread_mutex_unlock(&r.mu);
	printf("pcm_relay: %" PRIu64 " chunks captured, %" PRIu64 " played, %" PRIu64 " dropped, %" PRIu64
	       " underruns\n",
	       st.chunks_captured, st.chunks_played, dropped, st.underruns);
	return 0;
}
