/* The daemon's share of voice latency (thetad/voice/module.c and its
 * thread): from a chunk handed to a client's voice ring to the mixed chunk
 * with it on another client's voice ring, without PulseAudio. A speaker
 * sends a 20 ms burst every BENCH_PERIOD_MS (silence between), a listener
 * polls its ring every millisecond and notes when each burst's first loud
 * chunk arrives. Paths:
 *   voice.daemon.local_ms     one daemon, two users (root, nobody in a
 *                             child): the local mix, no codec (the baseline)
 *   voice.daemon.remote_ms    two daemons in a session: Opus, QUIC
 *                             datagrams, the jitter buffer, 10 and 20 ms frames
 * p50 and p99 of each, and the listener's jitter-buffer target at the end.
 * JSON lines; nothing asserts a timing. */
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc.h"
#include "link/link.h"
#include "th_bench.h"
#include "th_harness.h"
#include "th_link.h"
#include "th_time.h"

#define BENCH_PERIOD_MS 400u
#define BENCH_BURSTS    40u
#define BENCH_WAIT_MS   30000
#define BENCH_LOUD      2000.0 /* RMS of a chunk with the burst in it */
#define BENCH_UID_OTHER 65534
#define CHUNK 480u

static char out[65536], err[8192];

static double rms(const int16_t *s, size_t n)
{
	double a = 0;
	for (size_t i = 0; i < n; i++)
		a += (double)s[i] * s[i];
	return sqrt(a / (double)n);
}

/* Chunk n of the speaker's signal: bursts of 20 ms of 1 kHz at the start of each period. */
static void burst_chunk(int16_t *pcm, uint32_t n)
{
	bool on = n % (BENCH_PERIOD_MS / 10) < 2;
	for (unsigned i = 0; i < CHUNK; i++)
		pcm[i] = on ? (int16_t)(12000 * sin(2 * M_PI * 1000.0 * (double)(n * CHUNK + i) / 48000.0)) : 0;
}

static struct link *connect_link(const char *dir, const char *name)
{
	struct link_config cfg = { .runtime_dir = dir, .name = name, .mode = PROTO_IPC_MODE_XR };
	struct link *l;
	if (link_create(&cfg, &l) < 0 || link_wait_active(l, BENCH_WAIT_MS, false) < 0)
		return NULL;
	link_set_voice(l, PROTO_IPC_VOICE_F_ON, th_now_ns());
	return l;
}

/* One millisecond of work: the speaker (if any) sends its due chunks
 * (chunk n due at start + 10 ms * n), the listener's arrivals are noted. */
struct run {
	struct link *speaker, *listener;
	uint64_t start;
	uint32_t n;
	bool loud;
	uint64_t lat[BENCH_BURSTS];
	unsigned got;
};

static void run_step(struct run *r)
{
	uint64_t now = th_now_ns(), t_ns;
	if (r->speaker) {
		th_link_step(r->speaker);
		while (r->start + (uint64_t)r->n * 10 * TH_NS_PER_MS <= now) {
			int16_t pcm[CHUNK];
			burst_chunk(pcm, r->n);
			link_voice_send(r->speaker, r->n, now, pcm);
			r->n++;
		}
	}
	th_link_step(r->listener);
	int16_t st[2 * CHUNK];
	while (link_voice_recv(r->listener, st, &t_ns) == 1) {
		bool loud = rms(st, 2 * CHUNK) > BENCH_LOUD;
		if (loud && !r->loud) {
			/* The burst that began last, at start + k * period. */
			uint64_t since = now - r->start, period = (uint64_t)BENCH_PERIOD_MS * TH_NS_PER_MS;
			uint64_t k = since / period;
			if (k >= 1 && r->got < BENCH_BURSTS) /* the first period warms up */
				r->lat[r->got++] = since - k * period;
		}
		r->loud = loud;
	}
	th_sleep_ns(TH_NS_PER_MS);
}

static void report(const char *name, struct run *r)
{
	char n[96];
	if (r->got < BENCH_BURSTS / 2) {
		fprintf(stderr, "bench_voice_module: %s: only %u of %u bursts arrived\n", name, r->got, BENCH_BURSTS);
		return;
	}
	qsort(r->lat, r->got, sizeof r->lat[0], th_bench_cmp_u64);
	snprintf(n, sizeof n, "%s_p50", name);
	th_bench_figure(n, (double)r->lat[r->got / 2] / 1e6, "ms");
	snprintf(n, sizeof n, "%s_p99", name);
	th_bench_figure(n, (double)r->lat[(r->got * 99) / 100 < r->got ? (r->got * 99) / 100 : r->got - 1] / 1e6, "ms");
}

static int write_conf(const char *dir, unsigned frame_ms, char *path, size_t cap)
{
	snprintf(path, cap, "%s/voice.conf", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "[voice]\nframe_ms = %u\n", frame_ms);
	return fclose(f);
}

/* One daemon, the speaker a child process as nobody. */
static void bench_local(void)
{
	struct group *g = getgrnam("nogroup");
	if (!th_is_root() || !g) {
		fprintf(stderr, "bench_voice_module: the local path needs root and group nogroup; skipped\n");
		return;
	}
	struct th_daemon_proc d = { 0 };
	char conf[512];
	if (th_daemon_prepare(&d) < 0 || write_conf(d.dir, 10, conf, sizeof conf) < 0 ||
	    th_daemon_spawn(&d, (const char *const[]){ "--port", "0", "--config", conf, NULL }, NULL, NULL, 0) < 0 ||
	    th_daemon_wait_notify(&d, "READY=1", BENCH_WAIT_MS) < 0 || chmod(d.dir, 0755) < 0 ||
	    chmod(d.runtime_dir, 0755) < 0 ||
	    th_ctl(&d, (const char *const[]){ "session", "allow", "nobody", NULL }, out, sizeof out, err, sizeof err)) {
		fprintf(stderr, "bench_voice_module: the daemon did not start: %s\n", err);
		th_daemon_cleanup(&d);
		return;
	}
	struct run r = { .listener = connect_link(d.runtime_dir, "bench-listener") };
	uint64_t start = th_now_ns() + 500 * TH_NS_PER_MS;
	pid_t child = fork();
	if (child == 0) {
		if (setgroups(0, NULL) < 0 || setgid(g->gr_gid) < 0 || setuid(BENCH_UID_OTHER) < 0)
			_exit(10);
		struct run c = { .speaker = connect_link(d.runtime_dir, "bench-speaker"), .start = start };
		if (!c.speaker)
			_exit(11);
		c.listener = c.speaker;
		for (;;)
			run_step(&c);
	}
	r.start = start;
	uint64_t end = start + (uint64_t)(BENCH_BURSTS + 3) * BENCH_PERIOD_MS * TH_NS_PER_MS;
	while (r.listener && r.got < BENCH_BURSTS && th_now_ns() < end + BENCH_WAIT_MS * TH_NS_PER_MS)
		run_step(&r);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	report("voice.daemon.local_ms", &r);
	link_destroy(&r.listener);
	th_daemon_cleanup(&d);
}

static int start_net_daemon(struct th_daemon_proc *d, const char *conf_dir, unsigned frame_ms)
{
	char conf[512];
	if (th_daemon_prepare(d) < 0 || write_conf(conf_dir ? conf_dir : d->dir, frame_ms, conf, sizeof conf) < 0)
		return -1;
	if (th_daemon_spawn(d, (const char *const[]){ "--port", "0", "--config", conf, NULL }, NULL, NULL, 0) < 0)
		return -1;
	return th_daemon_wait_notify(d, "READY=1", BENCH_WAIT_MS);
}

/* `thetactl --json KEY...` of d: the value of key in its answer into buf. */
static int ctl_field(struct th_daemon_proc *d, const char *const *args, const char *key, char *buf, size_t cap)
{
	if (th_ctl(d, args, out, sizeof out, err, sizeof err))
		return -1;
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": \"", key);
	char *p = strstr(out, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	size_t n = strcspn(p, "\"");
	snprintf(buf, cap, "%.*s", (int)n, p);
	return 0;
}

/* Two daemons in a session: host A's client speaks, member B's listens. */
static void bench_remote(unsigned frame_ms)
{
	struct th_daemon_proc a = { 0 }, b = { 0 };
	char id[64], link[700], name[64];
	if (start_net_daemon(&a, NULL, frame_ms) < 0 || start_net_daemon(&b, NULL, frame_ms) < 0 ||
	    ctl_field(&a, (const char *const[]){ "--json", "session", "host", "--name", "bench", NULL }, "session", id,
		      sizeof id) < 0 ||
	    th_ctl(&a, (const char *const[]){ "invite", id, "--role", "editor", "--host", "127.0.0.1", NULL }, out,
		   sizeof out, err, sizeof err)) {
		fprintf(stderr, "bench_voice_module: no session between two daemons: %s\n", err);
		goto out;
	}
	out[strcspn(out, "\n")] = 0;
	snprintf(link, sizeof link, "%s", out);
	if (th_ctl(&b, (const char *const[]){ "session", "join", link, "--timeout", "25", NULL }, out, sizeof out, err,
		   sizeof err)) {
		fprintf(stderr, "bench_voice_module: the join failed: %s\n", err);
		goto out;
	}
	struct run r = { .speaker = connect_link(a.runtime_dir, "bench-speaker"),
			 .listener = connect_link(b.runtime_dir, "bench-listener"),
			 .start = th_now_ns() + 500 * TH_NS_PER_MS };
	uint64_t end = r.start + (uint64_t)(BENCH_BURSTS + 3) * BENCH_PERIOD_MS * TH_NS_PER_MS;
	while (r.speaker && r.listener && r.got < BENCH_BURSTS && th_now_ns() < end + BENCH_WAIT_MS * TH_NS_PER_MS)
		run_step(&r);
	snprintf(name, sizeof name, "voice.daemon.remote_%ums_frames_ms", frame_ms);
	report(name, &r);
	/* The listener's jitter buffer for the speaker, beside it. */
	struct json_object *v = NULL, *list;
	if (!th_ctl(&b, (const char *const[]){ "--json", "voice", NULL }, out, sizeof out, err, sizeof err))
		v = json_tokener_parse(out);
	if (v && json_object_object_get_ex(v, "speakers", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *sp = json_object_array_get_idx(list, i), *t;
			if (!json_object_get_boolean(json_object_object_get(sp, "local")) &&
			    json_object_object_get_ex(sp, "jb_target_ms", &t)) {
				snprintf(name, sizeof name, "voice.daemon.remote_%ums_frames_jb_target_ms", frame_ms);
				th_bench_figure(name, json_object_get_double(t), "ms");
			}
		}
	json_object_put(v);
	link_destroy(&r.speaker);
	link_destroy(&r.listener);
out:
	th_daemon_cleanup(&b);
	th_daemon_cleanup(&a);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	bench_local();
	bench_remote(10);
	bench_remote(20);
	return 0;
}
