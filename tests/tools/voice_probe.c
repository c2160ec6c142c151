/* voice_probe: `make demo`'s ears (scripts/demo, the voice step). On a
 * PulseAudio server started elsewhere with null sinks, it plays short tone
 * bursts (40 ms chirps, tests/lib/th_pulse.h) into the MOUTH sink, which a
 * theta-client captures from its monitor, records that monitor and the EAR
 * source (another client's speaker sink's monitor), and says how many
 * bursts were heard and their mouth-to-ear latency from the recordings'
 * capture times (the harness of test_voice and bench_voice_e2e,
 * tests/lib/th_voice.h).
 *
 *   voice_probe --server S --sinks NAME:CH,... --mouth SINK --ear SOURCE
 *               [--quiet SOURCE] [--bursts N] [--wait-s N]
 *
 * --sinks: every null sink of the server (th_pulse keeps a reader on each
 * monitor so their timing stays steady). --quiet: a source that must not
 * hear the bursts (the talker's own speaker). First waits (up to --wait-s,
 * default 30) until one burst gets through, then plays N (default 10).
 * Exit 0 when every burst was heard in order and nothing at --quiet, else 1. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_pulse.h"
#include "th_voice.h"

#define PROBE_PERIOD_MS 400
#define PROBE_SETTLE_MS 3000
#define PROBE_SPEC_MAX  512

static void usage(FILE *f)
{
	fprintf(f, "usage: voice_probe --server S --sinks NAME:CH,... --mouth SINK --ear SOURCE [--quiet SOURCE]\n"
		   "                   [--bursts N] [--wait-s N]\n");
}

static int number(const char *flag, const char *v, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long x = strtoul(v, &end, 10);
	if (!*v || *end || x == 0 || x > max) {
		fprintf(stderr, "voice_probe: %s wants 1..%lu, not '%s'\n", flag, max, v);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

int main(int argc, char **argv)
{
	const char *server = NULL, *mouth = NULL, *ear = NULL, *quiet = NULL;
	char spec[PROBE_SPEC_MAX] = "";
	unsigned long bursts = 10, wait_s = 30;
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 'S' }, { "sinks", required_argument, NULL, 'k' },
		{ "mouth", required_argument, NULL, 'm' },  { "ear", required_argument, NULL, 'e' },
		{ "quiet", required_argument, NULL, 'q' },  { "bursts", required_argument, NULL, 'n' },
		{ "wait-s", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'S': server = optarg; break;
		case 'k':
			if (strlen(optarg) >= sizeof spec) {
				fprintf(stderr, "voice_probe: --sinks is too long\n");
				return 2;
			}
			snprintf(spec, sizeof spec, "%s", optarg);
			break;
		case 'm': mouth = optarg; break;
		case 'e': ear = optarg; break;
		case 'q': quiet = optarg; break;
		case 'n':
			if (number("--bursts", optarg, TH_VOICE_CLICKS_MAX, &bursts) < 0)
				return 2;
			break;
		case 'w':
			if (number("--wait-s", optarg, 3600, &wait_s) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || !server || !spec[0] || !mouth || !ear) {
		usage(stderr);
		return 2;
	}
	const char *sinks[TH_PULSE_SINKS_MAX + 1] = { NULL };
	unsigned n = 0;
	for (char *save = NULL, *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == TH_PULSE_SINKS_MAX) {
			fprintf(stderr, "voice_probe: at most %d sinks\n", TH_PULSE_SINKS_MAX);
			return 2;
		}
		sinks[n++] = t;
	}
	struct th_pulse pa;
	if (th_pulse_attach(&pa, server, sinks) < 0)
		return 1;
	printf("voice_probe: waiting until a tone burst played into %s is heard at %s\n", mouth, ear);
	fflush(stdout);
	if (th_voice_wait_path(&pa, mouth, ear, (int)wait_s * 1000) < 0) {
		th_pulse_stop(&pa);
		return 1;
	}
	struct th_voice_run run;
	int rc = th_voice_clicks(&pa, mouth, ear, quiet, (unsigned)bursts, PROBE_PERIOD_MS, PROBE_SETTLE_MS, &run);
	th_pulse_stop(&pa);
	if (rc < 0)
		return 1;
	bool ok = run.paired == run.clicks && run.unpaired_ear == 0 && (!quiet || run.other_onsets == 0);
	printf("voice_probe: %zu of %u tone bursts played into %s were heard at %s, in order, %zu unexplained",
	       run.paired, run.clicks, mouth, ear, run.unpaired_ear);
	if (quiet)
		printf("; %zu at %s (the talker's own speaker)", run.other_onsets, quiet);
	printf("\n");
	if (run.paired)
		printf("voice_probe: mouth to ear p50 %.1f ms, max %.1f ms\n", th_voice_latency_ms(&run, 50),
		       th_voice_latency_ms(&run, 100));
	return ok ? 0 : 1;
}
