#include "th_pulse.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pulse/pulseaudio.h>
#include <pulse/simple.h>

#include "th_harness.h"
#include "th_time.h"

#define PULSE_BIN          "pulseaudio"
#define PULSE_POLL_NS      (20 * TH_NS_PER_MS)
#define PULSE_PING_MS      2000  /* one connection attempt */
#define PULSE_LOG_MAX      16384
#define PLAY_BUFFER_CHUNKS 20    /* the player's target buffer: 200 ms */
/* Each sink's monitor is read for as long as the server runs by a keeper
 * asking for a 2 ms fragment: a null sink renders ahead of the
 * clock by the lowest latency any of its streams asks for (2 s with none,
 * 2.5 ms for a 10 ms playback stream), and when that drops its monitor
 * stalls for the difference. Held below what any client asks for, it never
 * drops, and the monitor runs steadily on the clock. */
#define KEEP_FRAG_FRAMES   (TH_PULSE_RATE * 2u / 1000u)  /* 2 ms */
#define KEEP_READ_FRAMES   (TH_PULSE_RATE * 20u / 1000u) /* the keeper wakes every 20 ms */
#define CHUNK_FRAMES       (TH_PULSE_RATE * TH_PULSE_CHUNK_MS / 1000u)

bool th_pulse_available(void)
{
	return th_find_on_path(PULSE_BIN, NULL, 0);
}

bool th_pulse_skip(void)
{
	if (th_pulse_available())
		return false;
	printf("SKIP: pulseaudio is not installed (apt-get install pulseaudio): the voice tests need a sound server\n");
	return true;
}

const char *th_pulse_log(const struct th_pulse *p)
{
	static char buf[PULSE_LOG_MAX];
	buf[0] = '\0';
	int fd = open(p->log_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return buf;
	/* The end of a long log is what says why it stopped. */
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof buf - 1, from);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* "name:channels" -> name, channels; the name in PulseAudio's safe set. */
static int parse_sink(const char *spec, char *name, size_t cap, unsigned *channels)
{
	const char *colon = strchr(spec, ':');
	if (!colon || colon == spec || (size_t)(colon - spec) >= cap)
		return -EINVAL;
	for (const char *c = spec; c < colon; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-' || *c == '.'))
			return -EINVAL;
	if (colon[1] < '1' || colon[1] > '0' + TH_PULSE_CHANNELS_MAX || colon[2] != '\0')
		return -EINVAL;
	memcpy(name, spec, (size_t)(colon - spec));
	name[colon - spec] = '\0';
	*channels = (unsigned)(colon[1] - '0');
	return 0;
}

/* A context connected to server, driven by its own mainloop in bounded
 * steps (a server that accepted but does not answer yet). */
struct ctx {
	pa_mainloop *ml;
	pa_context *c;
};

static int ctx_step(struct ctx *x)
{
	if (pa_mainloop_prepare(x->ml, (int)(50 * TH_NS_PER_MS / TH_NS_PER_US)) < 0 || pa_mainloop_poll(x->ml) < 0 ||
	    pa_mainloop_dispatch(x->ml) < 0)
		return -EIO;
	return 0;
}

static void ctx_close(struct ctx *x)
{
	if (x->c) {
		pa_context_disconnect(x->c);
		pa_context_unref(x->c);
	}
	if (x->ml)
		pa_mainloop_free(x->ml);
	x->c = NULL;
	x->ml = NULL;
}

/* 0 when the context is ready within PULSE_PING_MS. */
static int ctx_open(struct ctx *x, const char *server)
{
	x->ml = pa_mainloop_new();
	x->c = x->ml ? pa_context_new(pa_mainloop_get_api(x->ml), "th_pulse") : NULL;
	if (!x->c) {
		ctx_close(x);
		return -ENOMEM;
	}
	int rc = -ECONNREFUSED;
	if (pa_context_connect(x->c, server, PA_CONTEXT_NOAUTOSPAWN, NULL) >= 0) {
		rc = -ETIMEDOUT;
		uint64_t end = th_now_ns() + (uint64_t)PULSE_PING_MS * TH_NS_PER_MS;
		while (th_now_ns() < end) {
			pa_context_state_t st = pa_context_get_state(x->c);
			if (st == PA_CONTEXT_READY) {
				rc = 0;
				break;
			}
			if (!PA_CONTEXT_IS_GOOD(st)) {
				rc = -ECONNREFUSED;
				break;
			}
			if ((rc = ctx_step(x)) < 0)
				break;
			rc = -ETIMEDOUT;
		}
	}
	if (rc < 0)
		ctx_close(x);
	return rc;
}

/* Runs op to completion (PULSE_PING_MS); 0 or -ETIMEDOUT / -EIO. */
static int ctx_wait(struct ctx *x, pa_operation *op)
{
	if (!op)
		return -EIO;
	int rc = -ETIMEDOUT;
	uint64_t end = th_now_ns() + (uint64_t)PULSE_PING_MS * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		if (pa_operation_get_state(op) != PA_OPERATION_RUNNING) {
			rc = 0;
			break;
		}
		if ((rc = ctx_step(x)) < 0)
			break;
		rc = -ETIMEDOUT;
	}
	pa_operation_unref(op);
	return rc;
}

/* 0 when a client can connect to server. */
static int pulse_ping(const char *server)
{
	struct ctx x;
	int rc = ctx_open(&x, server);
	if (rc == 0)
		ctx_close(&x);
	return rc;
}

struct sink_spec {
	char name[TH_PULSE_NAME_MAX];
	unsigned channels;
};

static int write_script(const struct th_pulse *p, const char *path, const struct sink_spec *sk, unsigned n)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "load-module module-native-protocol-unix auth-anonymous=1 socket=%s/run/native\n", p->dir);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "load-module module-null-sink sink_name=%s rate=%u channels=%u format=s16le\n", sk[i].name,
			TH_PULSE_RATE, sk[i].channels);
	return fclose(f) == 0 ? 0 : -errno;
}

static int rec_open(const char *server, const char *source, unsigned channels, size_t max_frames, bool keeper,
		    struct th_pulse_rec **out);

int th_pulse_suspend(const struct th_pulse *p, const char *sink, unsigned ms)
{
	if (ms > TH_PULSE_SUSPEND_MS_MAX)
		return -EINVAL;
	struct ctx x;
	int rc = ctx_open(&x, p->server);
	if (rc == 0)
		rc = ctx_wait(&x, pa_context_suspend_sink_by_name(x.c, sink, 1, NULL, NULL));
	if (rc == 0) {
		th_sleep_ns((uint64_t)ms * TH_NS_PER_MS);
		rc = ctx_wait(&x, pa_context_suspend_sink_by_name(x.c, sink, 0, NULL, NULL));
	}
	if (x.c)
		ctx_close(&x);
	if (rc < 0)
		fprintf(stderr, "th_pulse: cannot suspend and resume %s: %s\n", sink, strerror(-rc));
	return rc;
}

/* Starts the keepers and waits until each monitor delivered: 0, -ETIMEDOUT, -EIO. */
static int start_keepers(struct th_pulse *p, const struct sink_spec *sk, unsigned n, uint64_t end)
{
	for (unsigned i = 0; i < n; i++) {
		char mon[TH_PULSE_NAME_MAX + 8];
		snprintf(mon, sizeof mon, "%s.monitor", sk[i].name);
		int rc = rec_open(p->server, mon, sk[i].channels, 0, true, &p->keep[i]);
		if (rc < 0)
			return rc;
	}
	/* A null sink made with nobody listening rendered up to 2 s ahead;
	 * suspended and resumed it starts again from now, at the keeper's
	 * latency, instead of stalling its monitor until the clock catches up. */
	struct ctx x;
	int rc = ctx_open(&x, p->server);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		rc = ctx_wait(&x, pa_context_suspend_sink_by_name(x.c, sk[i].name, 1, NULL, NULL));
		if (rc == 0)
			rc = ctx_wait(&x, pa_context_suspend_sink_by_name(x.c, sk[i].name, 0, NULL, NULL));
	}
	if (x.c)
		ctx_close(&x);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++)
		while (th_pulse_rec_frames(p->keep[i]) == 0) {
			if (th_now_ns() >= end)
				return -ETIMEDOUT;
			th_sleep_ns(PULSE_POLL_NS);
		}
	return 0;
}

static int parse_sinks(const char *const *sinks, struct sink_spec *sk, unsigned *n)
{
	unsigned i = 0;
	for (; sinks && sinks[i]; i++)
		if (i >= TH_PULSE_SINKS_MAX || parse_sink(sinks[i], sk[i].name, sizeof sk[i].name, &sk[i].channels) < 0) {
			fprintf(stderr, "th_pulse: sink \"%s\" is not NAME:CHANNELS (1..%d channels, at most %d sinks)\n",
				sinks[i], TH_PULSE_CHANNELS_MAX, TH_PULSE_SINKS_MAX);
			return -EINVAL;
		}
	*n = i;
	return 0;
}

int th_pulse_attach(struct th_pulse *p, const char *server, const char *const *sinks)
{
	memset(p, 0, sizeof *p);
	p->pid = -1;
	if (strlen(server) >= sizeof p->server) {
		fprintf(stderr, "th_pulse: server %s: too long\n", server);
		return -ENAMETOOLONG;
	}
	snprintf(p->server, sizeof p->server, "%s", server);
	snprintf(p->env, sizeof p->env, "PULSE_SERVER=%s", p->server);
	struct sink_spec sk[TH_PULSE_SINKS_MAX];
	unsigned n;
	int rc = parse_sinks(sinks, sk, &n);
	if (rc < 0)
		return rc;
	uint64_t end = th_now_ns() + (uint64_t)TH_PULSE_START_MS * TH_NS_PER_MS;
	rc = pulse_ping(p->server);
	if (rc == 0)
		rc = start_keepers(p, sk, n, end);
	if (rc < 0) {
		fprintf(stderr, "th_pulse: cannot use the PulseAudio server at %s (%s)\n", p->server, strerror(-rc));
		th_pulse_stop(p);
	}
	return rc;
}

int th_pulse_start(struct th_pulse *p, const char *dir, const char *const *sinks)
{
	memset(p, 0, sizeof *p);
	p->pid = -1;
	/* DIR/run/native must fit a sockaddr_un's 108 bytes. */
	if (strlen(dir) >= TH_PULSE_DIR_MAX) {
		fprintf(stderr, "th_pulse: directory %s is too long for a unix socket path\n", dir);
		return -ENAMETOOLONG;
	}
	snprintf(p->dir, sizeof p->dir, "%s", dir);
	snprintf(p->server, sizeof p->server, "unix:%s/run/native", dir);
	snprintf(p->env, sizeof p->env, "PULSE_SERVER=%s", p->server);
	snprintf(p->log_path, sizeof p->log_path, "%s/pa.log", dir);
	char run[TH_PULSE_DIR_MAX + 8], home[TH_PULSE_DIR_MAX + 8], script[TH_PULSE_DIR_MAX + 8];
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(home, sizeof home, "%s/home", dir);
	snprintf(script, sizeof script, "%s/pa.pa", dir);
	if ((mkdir(run, 0700) < 0 && errno != EEXIST) || (mkdir(home, 0700) < 0 && errno != EEXIST)) {
		int e = -errno;
		fprintf(stderr, "th_pulse: cannot create %s/run and %s/home: %s\n", dir, dir, strerror(-e));
		return e;
	}
	struct sink_spec sk[TH_PULSE_SINKS_MAX];
	unsigned n_sinks;
	int rc = parse_sinks(sinks, sk, &n_sinks);
	if (rc < 0)
		return rc;
	rc = write_script(p, script, sk, n_sinks);
	if (rc < 0)
		return rc;
	char bin[PATH_MAX];
	if (!th_find_on_path(PULSE_BIN, bin, sizeof bin)) {
		fprintf(stderr, "th_pulse: pulseaudio is not installed\n");
		return -ENOENT;
	}
	char env_run[TH_PULSE_DIR_MAX + 32], env_home[TH_PULSE_DIR_MAX + 16];
	snprintf(env_run, sizeof env_run, "XDG_RUNTIME_DIR=%s", run);
	snprintf(env_home, sizeof env_home, "HOME=%s", home);
	const char *env[] = { env_run, env_home, NULL };
	/* -n: no default script, so no module-suspend-on-idle: the null sinks
	 * and their monitors run all the time. No realtime or high priority:
	 * the tests share two cores with everything else. */
	const char *argv[] = { bin,	     "--daemonize=no",	    "--exit-idle-time=-1", "-n",		"-F",
			       script,	     "--use-pid-file=no",   "--log-target=stderr", "--realtime=no",
			       "--high-priority=no", NULL };
	pid_t pid = th_spawn(argv, env, NULL, p->log_path);
	if (pid < 0) {
		fprintf(stderr, "th_pulse: cannot start %s: %s\n", bin, strerror((int)-pid));
		return (int)pid;
	}
	p->pid = pid;
	char sock[TH_PULSE_DIR_MAX + 16];
	snprintf(sock, sizeof sock, "%s/native", run);
	uint64_t end = th_now_ns() + (uint64_t)TH_PULSE_START_MS * TH_NS_PER_MS;
	rc = -ETIMEDOUT;
	while (th_now_ns() < end) {
		if (!th_pulse_alive(p)) {
			rc = -ECHILD;
			break;
		}
		if (access(sock, F_OK) == 0 && pulse_ping(p->server) == 0) {
			rc = 0;
			break;
		}
		th_sleep_ns(PULSE_POLL_NS);
	}
	if (rc == 0)
		rc = start_keepers(p, sk, n_sinks, end);
	if (rc < 0) {
		fprintf(stderr, "th_pulse: the PulseAudio server at %s did not come up (%s); its log:\n%s\n", p->server,
			rc == -ECHILD ? "it exited" : "no answer", th_pulse_log(p));
		th_pulse_stop(p);
	}
	return rc;
}

bool th_pulse_alive(struct th_pulse *p)
{
	if (p->pid <= 0)
		return false;
	int st;
	pid_t r = waitpid(p->pid, &st, WNOHANG);
	if (r == p->pid || (r < 0 && errno == ECHILD)) {
		p->pid = -1;
		return false;
	}
	return true;
}

void th_pulse_stop(struct th_pulse *p)
{
	for (unsigned i = 0; i < TH_PULSE_SINKS_MAX; i++)
		th_pulse_rec_destroy(&p->keep[i]);
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		if (th_wait_pid(p->pid, TH_PULSE_STOP_MS, NULL) == -ETIMEDOUT) {
			kill(p->pid, SIGKILL);
			th_wait_pid(p->pid, TH_PULSE_STOP_MS, NULL);
		}
	}
	p->pid = -1;
}

static pa_sample_spec spec_of(unsigned channels)
{
	return (pa_sample_spec){ .format = PA_SAMPLE_S16LE, .rate = TH_PULSE_RATE, .channels = (uint8_t)channels };
}

/* --- the player ---------------------------------------------------------- */

struct th_pulse_player {
	pthread_t thread;
	char server[sizeof(((struct th_pulse *)0)->server)];
	char sink[TH_PULSE_NAME_MAX];
	unsigned channels;
	int16_t *pcm;
	size_t frames;
	atomic_bool stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done; /* under mu */
	int result; /* under mu */
};

static void *play_main(void *arg)
{
	struct th_pulse_player *pl = arg;
	pa_sample_spec ss = spec_of(pl->channels);
	size_t chunk_bytes = CHUNK_FRAMES * pl->channels * sizeof(int16_t);
	/* A deep buffer: what is played is measured at the sink's monitor, so
	 * the player's own latency does not matter, but an underrun would put
	 * silence between what it plays. */
	pa_buffer_attr attr = { .maxlength = (uint32_t)-1, .tlength = (uint32_t)(PLAY_BUFFER_CHUNKS * chunk_bytes),
				.prebuf = (uint32_t)-1, .minreq = (uint32_t)chunk_bytes, .fragsize = (uint32_t)-1 };
	int err = 0, rc = 0;
	pa_simple *s = pa_simple_new(pl->server, "th_pulse", PA_STREAM_PLAYBACK, pl->sink, "th_pulse play", &ss, NULL,
				     &attr, &err);
	if (!s) {
		fprintf(stderr, "th_pulse: cannot play into %s: %s\n", pl->sink, pa_strerror(err));
		rc = -EIO;
	}
	for (size_t at = 0; s && at < pl->frames && !atomic_load(&pl->stop); at += CHUNK_FRAMES) {
		size_t n = pl->frames - at < CHUNK_FRAMES ? pl->frames - at : CHUNK_FRAMES;
		if (pa_simple_write(s, pl->pcm + at * pl->channels, n * pl->channels * sizeof(int16_t), &err) < 0) {
			fprintf(stderr, "th_pulse: writing to %s failed: %s\n", pl->sink, pa_strerror(err));
			rc = -EIO;
			break;
		}
	}
	if (s && rc == 0 && !atomic_load(&pl->stop) && pa_simple_drain(s, &err) < 0) {
		fprintf(stderr, "th_pulse: draining %s failed: %s\n", pl->sink, pa_strerror(err));
		rc = -EIO;
	}
	if (s)
		pa_simple_free(s);
	pthread_mutex_lock(&pl->mu);
	pl->done = true;
	pl->result = rc;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	return NULL;
}

int th_pulse_play_start(const struct th_pulse *p, const char *sink, unsigned channels, const int16_t *pcm,
			size_t frames, struct th_pulse_player **out)
{
	if (channels < 1 || channels > TH_PULSE_CHANNELS_MAX || strlen(sink) >= TH_PULSE_NAME_MAX)
		return -EINVAL;
	struct th_pulse_player *pl = calloc(1, sizeof *pl);
	if (!pl)
		return -ENOMEM;
	pl->pcm = malloc(frames * channels * sizeof(int16_t) + 1);
	if (!pl->pcm) {
		free(pl);
		return -ENOMEM;
	}
	memcpy(pl->pcm, pcm, frames * channels * sizeof(int16_t));
	snprintf(pl->server, sizeof pl->server, "%s", p->server);
	snprintf(pl->sink, sizeof pl->sink, "%s", sink);
	pl->channels = channels;
	pl->frames = frames;
	atomic_init(&pl->stop, false);
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	int e = pthread_create(&pl->thread, NULL, play_main, pl);
	if (e) {
		pthread_mutex_destroy(&pl->mu);
		pthread_cond_destroy(&pl->cv);
		free(pl->pcm);
		free(pl);
		return -e;
	}
	*out = pl;
	return 0;
}

int th_pulse_play_wait(struct th_pulse_player *pl, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* pthread_cond_timedwait's clock */
	uint64_t t = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * TH_NS_PER_MS;
	ts.tv_sec += (time_t)(t / TH_NS_PER_S);
	ts.tv_nsec = (long)(t % TH_NS_PER_S);
	pthread_mutex_lock(&pl->mu);
	int e = 0;
	while (!pl->done && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&pl->cv, &pl->mu, &ts);
	int rc = pl->done ? pl->result : -ETIMEDOUT;
	pthread_mutex_unlock(&pl->mu);
	return rc;
}

void th_pulse_play_destroy(struct th_pulse_player **p)
{
	struct th_pulse_player *pl = *p;
	if (!pl)
		return;
	atomic_store(&pl->stop, true);
	pthread_join(pl->thread, NULL);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
	free(pl->pcm);
	free(pl);
	*p = NULL;
}

/* --- the recorder -------------------------------------------------------- */

struct th_pulse_rec {
	pthread_t thread;
	bool joined;
	bool keeper; /* reads and forgets (th_pulse_start's, per sink) */
	char server[sizeof(((struct th_pulse *)0)->server)];
	char source[TH_PULSE_NAME_MAX + 8];
	unsigned channels;
	size_t max_frames;
	int16_t *pcm;
	/* Capture time of frame 0: the earliest (read time - frames read / rate). */
	_Atomic uint64_t anchor_ns;
	/* Written by the recorder thread after the chunk's samples and time
	 * (release); read by any thread (acquire). */
	atomic_size_t frames;
	atomic_bool stop;
	atomic_int result;
	atomic_bool ready; /* the stream is connected (or failed: result) */
};

static void *rec_main(void *arg)
{
	struct th_pulse_rec *r = arg;
	pa_sample_spec ss = spec_of(r->channels);
	size_t frame_bytes = r->channels * sizeof(int16_t);
	size_t chunk_frames = r->keeper ? KEEP_READ_FRAMES : CHUNK_FRAMES, chunk_bytes = chunk_frames * frame_bytes;
	pa_buffer_attr attr = { .maxlength = (uint32_t)-1, .tlength = (uint32_t)-1, .prebuf = (uint32_t)-1,
				.minreq = (uint32_t)-1,
				.fragsize = (uint32_t)((r->keeper ? KEEP_FRAG_FRAMES : CHUNK_FRAMES) * frame_bytes) };
	int err = 0;
	pa_simple *s = pa_simple_new(r->server, "th_pulse", PA_STREAM_RECORD, r->source, "th_pulse record", &ss, NULL,
				     &attr, &err);
	if (!s) {
		fprintf(stderr, "th_pulse: cannot record %s: %s\n", r->source, pa_strerror(err));
		atomic_store(&r->result, -EIO);
		atomic_store(&r->ready, true);
		return NULL;
	}
	atomic_store(&r->ready, true);
	size_t n = 0;
	while (!atomic_load(&r->stop) && (r->keeper || n + CHUNK_FRAMES <= r->max_frames)) {
		/* A keeper reads every chunk into the same place. */
		if (pa_simple_read(s, r->pcm + (r->keeper ? 0 : n * r->channels), chunk_bytes, &err) < 0) {
			fprintf(stderr, "th_pulse: reading %s failed: %s\n", r->source, pa_strerror(err));
			atomic_store(&r->result, -EIO);
			break;
		}
		/* The read returned no earlier than the chunk's last sample was
		 * captured (plus the server's delivery delay, the same for every
		 * recorder of that server); the earliest return relative to the
		 * sample count is the best anchor. pa_simple_get_latency is no
		 * help here: on a null sink's monitor it reports the sink's
		 * initial 0.7 s, then decays to 0 over a second (measured). */
		uint64_t now = th_now_ns();
		uint64_t end_ns = (uint64_t)(n + chunk_frames) * TH_NS_PER_S / TH_PULSE_RATE;
		uint64_t anchor = now - end_ns;
		if (anchor < atomic_load_explicit(&r->anchor_ns, memory_order_relaxed))
			atomic_store_explicit(&r->anchor_ns, anchor, memory_order_relaxed);
		n += chunk_frames;
		/* Pairs with the acquire in th_pulse_rec_frames. */
		atomic_store_explicit(&r->frames, n, memory_order_release);
	}
	pa_simple_free(s);
	return NULL;
}

static int rec_open(const char *server, const char *source, unsigned channels, size_t max_frames, bool keeper,
		    struct th_pulse_rec **out)
{
	if (channels < 1 || channels > TH_PULSE_CHANNELS_MAX || strlen(source) >= TH_PULSE_NAME_MAX + 8 ||
	    (!keeper && max_frames < CHUNK_FRAMES))
		return -EINVAL;
	if (keeper)
		max_frames = KEEP_READ_FRAMES;
	struct th_pulse_rec *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->pcm = calloc(max_frames * channels, sizeof(int16_t));
	if (!r->pcm) {
		free(r);
		return -ENOMEM;
	}
	snprintf(r->server, sizeof r->server, "%s", server);
	snprintf(r->source, sizeof r->source, "%s", source);
	r->keeper = keeper;
	r->channels = channels;
	r->max_frames = max_frames;
	atomic_init(&r->frames, 0);
	atomic_init(&r->anchor_ns, UINT64_MAX);
	atomic_init(&r->stop, false);
	atomic_init(&r->result, 0);
	atomic_init(&r->ready, false);
	int e = pthread_create(&r->thread, NULL, rec_main, r);
	if (e) {
		free(r->pcm);
		free(r);
		return -e;
	}
	/* Connected before returning, so what is played next is recorded. */
	while (!atomic_load(&r->ready))
		th_sleep_ns(TH_NS_PER_MS);
	int rc = atomic_load(&r->result);
	if (rc < 0) {
		pthread_join(r->thread, NULL);
		free(r->pcm);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int th_pulse_rec_start(const struct th_pulse *p, const char *source, unsigned channels, size_t max_frames,
		       struct th_pulse_rec **out)
{
	return rec_open(p->server, source, channels, max_frames, false, out);
}

size_t th_pulse_rec_frames(const struct th_pulse_rec *r)
{
	/* Pairs with the release in rec_main. */
	return atomic_load_explicit(&((struct th_pulse_rec *)r)->frames, memory_order_acquire);
}

const int16_t *th_pulse_rec_pcm(const struct th_pulse_rec *r)
{
	return r->pcm;
}

unsigned th_pulse_rec_channels(const struct th_pulse_rec *r)
{
	return r->channels;
}

uint64_t th_pulse_rec_time_ns(const struct th_pulse_rec *r, size_t i)
{
	/* The anchor was stored before the frames that made it were published. */
	uint64_t anchor = atomic_load_explicit(&((struct th_pulse_rec *)r)->anchor_ns, memory_order_relaxed);
	return anchor + (uint64_t)i * TH_NS_PER_S / TH_PULSE_RATE;
}

size_t th_pulse_rec_frame_at(const struct th_pulse_rec *r, uint64_t t_ns)
{
	size_t n = th_pulse_rec_frames(r), lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (th_pulse_rec_time_ns(r, mid) < t_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int th_pulse_rec_stop(struct th_pulse_rec *r)
{
	if (!r->joined) {
		atomic_store(&r->stop, true);
		pthread_join(r->thread, NULL);
		r->joined = true;
	}
	return atomic_load(&r->result);
}

void th_pulse_rec_destroy(struct th_pulse_rec **p)
{
	struct th_pulse_rec *r = *p;
	if (!r)
		return;
	th_pulse_rec_stop(r);
	free(r->pcm);
	free(r);
	*p = NULL;
}

/* --- signals ------------------------------------------------------------- */

/* Raised-cosine gain of frame i of n: up over the first edge, down over the last. */
static double edge_gain(size_t i, size_t n)
{
	double edge = TH_PULSE_EDGE_MS * TH_PULSE_RATE / 1000.0;
	double d = (double)(i < n - 1 - i ? i : n - 1 - i);
	return d >= edge ? 1.0 : 0.5 - 0.5 * cos(M_PI * d / edge);
}

static void put_frame(int16_t *out, size_t i, unsigned channels, double v)
{
	for (unsigned c = 0; c < channels; c++)
		out[i * channels + c] = (int16_t)lrint(v);
}

void th_pulse_chirp(int16_t *out, size_t frames, unsigned channels, double f0, double f1, int16_t amp)
{
	double dur = (double)frames / TH_PULSE_RATE;
	for (size_t i = 0; i < frames; i++) {
		double t = (double)i / TH_PULSE_RATE;
		/* Phase of a linear sweep: 2 pi (f0 t + (f1 - f0) t^2 / (2 dur)). */
		double ph = 2.0 * M_PI * (f0 * t + (f1 - f0) * t * t / (2.0 * dur));
		put_frame(out, i, channels, amp * edge_gain(i, frames) * sin(ph));
	}
}

void th_pulse_tone(int16_t *out, size_t frames, unsigned channels, double freq, int16_t amp)
{
	th_pulse_chirp(out, frames, channels, freq, freq, amp);
}

unsigned th_pulse_clicks(int16_t *out, size_t frames, unsigned channels, unsigned first_ms, unsigned period_ms,
			 unsigned burst_ms, int16_t amp)
{
	memset(out, 0, frames * channels * sizeof(int16_t));
	size_t first = (size_t)first_ms * TH_PULSE_RATE / 1000, period = (size_t)period_ms * TH_PULSE_RATE / 1000,
	       burst = (size_t)burst_ms * TH_PULSE_RATE / 1000;
	if (period == 0 || burst == 0)
		return 0;
	unsigned n = 0;
	for (size_t at = first; at + burst <= frames; at += period, n++)
		th_pulse_chirp(out + at * channels, burst, channels, TH_PULSE_BURST_F0, TH_PULSE_BURST_F1, amp);
	return n;
}

/* --- analysis ------------------------------------------------------------ */

static int frame_abs(const int16_t *pcm, unsigned channels, size_t i)
{
	int m = 0;
	for (unsigned c = 0; c < channels; c++) {
		int v = abs((int)pcm[i * channels + c]);
		if (v > m)
			m = v;
	}
	return m;
}

int th_pulse_peak(const int16_t *pcm, unsigned channels, size_t from, size_t to)
{
	int m = 0;
	for (size_t i = from; i < to; i++) {
		int v = frame_abs(pcm, channels, i);
		if (v > m)
			m = v;
	}
	return m;
}

size_t th_pulse_onsets(const int16_t *pcm, unsigned channels, size_t from, size_t to, int threshold,
		       size_t quiet_frames, size_t *out, size_t cap)
{
	size_t n = 0, quiet = quiet_frames;
	for (size_t i = from; i < to; i++) {
		if (frame_abs(pcm, channels, i) >= threshold) {
			if (quiet >= quiet_frames) {
				if (n < cap)
					out[n] = i;
				n++;
			}
			quiet = 0;
		} else if (quiet < quiet_frames) {
			quiet++;
		}
	}
	return n;
}

size_t th_pulse_rec_onsets(const struct th_pulse_rec *r, size_t from, int threshold, size_t quiet_frames,
			   uint64_t *t, size_t cap)
{
	size_t frames = th_pulse_rec_frames(r);
	if (from >= frames)
		return 0;
	size_t *idx = calloc(cap + 1, sizeof *idx);
	if (!idx)
		return 0;
	size_t n = th_pulse_onsets(r->pcm, r->channels, from, frames, threshold, quiet_frames, idx, cap);
	for (size_t i = 0; i < n && i < cap; i++)
		t[i] = th_pulse_rec_time_ns(r, idx[i]);
	free(idx);
	return n;
}

size_t th_pulse_pair(const uint64_t *mouth, size_t n_mouth, const uint64_t *ear, size_t n_ear, uint64_t window_ns,
		     uint64_t *lat_ns, size_t *unpaired_ear)
{
	size_t paired = 0, j = 0;
	for (size_t i = 0; i < n_mouth; i++) {
		lat_ns[i] = UINT64_MAX;
		while (j < n_ear && ear[j] <= mouth[i])
			j++;
		if (j < n_ear && ear[j] - mouth[i] <= window_ns) {
			lat_ns[i] = ear[j] - mouth[i];
			paired++;
			j++;
		}
	}
	if (unpaired_ear)
		*unpaired_ear = n_ear - paired;
	return paired;
}
