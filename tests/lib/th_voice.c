#include "th_voice.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_bench.h"
#include "th_time.h"

#define RIG_SESSION    "voice"
#define RIG_POLL_NS    (50 * TH_NS_PER_MS)
#define RIG_FIRST_MS   300   /* silence before the first click */
#define RIG_REC_SLACK_S 30   /* recorded beyond the clicks: settling, a slow machine */
#define RIG_PROBE_MS   1500  /* th_voice_wait_path: how long one click is given */

static const char *const rig_sinks[] = { "micA:1", "spkA:2", "micB:1", "spkB:2", NULL };
static const char *const side_name[2] = { "A", "B" };

static void say(const char *what, const char *detail)
{
	fprintf(stderr, "th_voice: %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
}

int th_voice_ctl(struct th_voice_rig *r, int side, const char *const *args)
{
	return th_ctl(&r->d[side], args, r->out, sizeof r->out, r->err, sizeof r->err);
}

struct json_object *th_voice_ctl_json(struct th_voice_rig *r, int side)
{
	int rc = th_voice_ctl(r, side, (const char *const[]){ "voice", "--json", NULL });
	struct json_object *o = rc == 0 ? json_tokener_parse(r->out) : NULL;
	if (!o)
		fprintf(stderr, "th_voice: thetactl voice --json on %s: exit %d, %s%s\n", side_name[side], rc, r->err,
			rc == 0 ? " (not JSON)" : "");
	return o;
}

/* Whether the member's link to its host is up (`peers`: one active). */
static bool member_linked(struct th_voice_rig *r)
{
	if (th_voice_ctl(r, TH_VOICE_B, (const char *const[]){ "peers", "--json", NULL }) != 0)
		return false;
	struct json_object *o = json_tokener_parse(r->out), *arr, *v;
	bool up = false;
	if (o && json_object_object_get_ex(o, "peers", &arr))
		for (size_t k = 0; k < json_object_array_length(arr); k++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, k), "state", &v) &&
			    !strcmp(json_object_get_string(v), "active"))
				up = true;
	json_object_put(o);
	return up;
}

static int start_daemon(struct th_voice_rig *r, int side)
{
	struct th_daemon_proc *d = &r->d[side];
	int rc = th_daemon_prepare(d);
	if (rc < 0) {
		say("cannot prepare a daemon's directories", strerror(-rc));
		return rc;
	}
	const char *args[] = { "--port", "0", r->conf[0] ? "--config" : NULL, r->conf, NULL };
	rc = th_daemon_spawn(d, args, NULL, NULL, 0);
	if (rc == 0)
		rc = th_daemon_wait_notify(d, "READY=1", TH_VOICE_WAIT_MS);
	if (rc < 0)
		fprintf(stderr, "th_voice: thetad %s did not become ready (%s); its log:\n%s\n", side_name[side],
			strerror(-rc), th_daemon_log(d));
	return rc;
}

int th_voice_rig_start(struct th_voice_rig *r, const char *voice_conf)
{
	memset(r, 0, sizeof *r);
	r->pa.pid = -1;
	for (int s = 0; s < 2; s++) {
		r->d[s].pid = -1;
		r->d[s].notify_fd = -1;
		r->c[s].pid = -1;
	}
	snprintf(r->session, sizeof r->session, "%s", RIG_SESSION);
	int rc = th_mkdtemp(r->dir, sizeof r->dir);
	if (rc < 0) {
		say("cannot make a temporary directory", strerror(-rc));
		return rc;
	}
	if (voice_conf) {
		snprintf(r->conf, sizeof r->conf, "%s/thetad.conf", r->dir);
		FILE *f = fopen(r->conf, "we");
		if (!f || fprintf(f, "[voice]\n%s", voice_conf) < 0 || fclose(f) != 0) {
			say("cannot write thetad.conf", strerror(errno));
			th_voice_rig_stop(r);
			return -EIO;
		}
	}
	char pa_dir[sizeof r->dir + 8];
	snprintf(pa_dir, sizeof pa_dir, "%s/pa", r->dir);
	if (mkdir(pa_dir, 0700) < 0 || (rc = th_pulse_start(&r->pa, pa_dir, rig_sinks)) < 0) {
		rc = rc < 0 ? rc : -errno;
		th_voice_rig_stop(r);
		return rc;
	}
	if ((rc = start_daemon(r, TH_VOICE_A)) < 0 || (rc = start_daemon(r, TH_VOICE_B)) < 0) {
		th_voice_rig_stop(r);
		return rc;
	}
	if (th_voice_ctl(r, TH_VOICE_A, (const char *const[]){ "session", "host", "--name", r->session, NULL }) ||
	    th_voice_ctl(r, TH_VOICE_A, (const char *const[]){ "invite", r->session, "--role", "editor", "--host",
							      "127.0.0.1", NULL })) {
		say("A could not host the session and invite B", r->err);
		th_voice_rig_stop(r);
		return -EIO;
	}
	char link[600];
	snprintf(link, sizeof link, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	if (th_voice_ctl(r, TH_VOICE_B, (const char *const[]){ "session", "join", link, "--timeout", "25", NULL })) {
		say("B could not join", r->err);
		th_voice_rig_stop(r);
		return -EIO;
	}
	uint64_t end = th_now_ns() + (uint64_t)TH_VOICE_WAIT_MS * TH_NS_PER_MS;
	while (!member_linked(r)) {
		if (th_now_ns() >= end) {
			fprintf(stderr, "th_voice: B's link to A did not come up; A's log:\n%s\n", th_daemon_log(&r->d[0]));
			th_voice_rig_stop(r);
			return -ETIMEDOUT;
		}
		th_sleep_ns(RIG_POLL_NS);
	}
	return 0;
}

void th_voice_rig_stop(struct th_voice_rig *r)
{
	for (int s = 0; s < 2; s++)
		if (r->c[s].pid > 0)
			th_voice_client_stop(r, s);
	for (int s = 0; s < 2; s++)
		if (r->d[s].pid > 0 || r->d[s].notify_fd >= 0 || r->d[s].dir[0])
			th_daemon_cleanup(&r->d[s]);
	memset(r->d, 0, sizeof r->d);
	r->d[0].pid = r->d[1].pid = -1;
	r->d[0].notify_fd = r->d[1].notify_fd = -1;
	th_pulse_stop(&r->pa);
	if (r->dir[0] && !getenv("THETA_KEEP_TEST_DIRS"))
		th_rm_rf(r->dir);
	r->dir[0] = '\0';
}

/* Whether side's daemon lists `want` clients. */
static bool clients_listed(struct th_voice_rig *r, int side, size_t want)
{
	if (th_voice_ctl(r, side, (const char *const[]){ "clients", "--json", NULL }) != 0)
		return false;
	struct json_object *o = json_tokener_parse(r->out), *arr;
	size_t n = o && json_object_object_get_ex(o, "clients", &arr) ? json_object_array_length(arr) : 0;
	json_object_put(o);
	return n >= want;
}

int th_voice_client_start(struct th_voice_rig *r, int side, const char *const *extra)
{
	struct th_voice_client *c = &r->c[side];
	char source[32], sink[32];
	snprintf(source, sizeof source, "mic%s.monitor", side_name[side]);
	snprintf(sink, sizeof sink, "spk%s", side_name[side]);
	char dir[sizeof r->dir];
	memcpy(dir, r->dir, sizeof dir); /* r->dir and c->out_path are both in r */
	snprintf(c->out_path, sizeof c->out_path, "%s/client%s.out", dir, side_name[side]);
	unlink(c->out_path);
	const char *argv[TH_VOICE_CLIENT_ARGS_MAX + 16] = { th_bin("theta-client"), "--runtime-dir", r->d[side].runtime_dir,
							    "--headless", "--renderer", "null", "--voice",
							    "--voice-source", source, "--voice-sink", sink };
	size_t n = 11;
	for (size_t i = 0; extra && extra[i]; i++) {
		if (i >= TH_VOICE_CLIENT_ARGS_MAX) {
			say("too many client arguments", NULL);
			return -E2BIG;
		}
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	const char *env[] = { r->pa.env, NULL };
	c->text[0] = '\0';
	c->pid = th_spawn(argv, env, c->out_path, c->out_path);
	if (c->pid < 0) {
		int e = (int)c->pid;
		c->pid = -1;
		say("cannot start theta-client", strerror(-e));
		return e;
	}
	uint64_t end = th_now_ns() + (uint64_t)TH_VOICE_WAIT_MS * TH_NS_PER_MS;
	while (!clients_listed(r, side, 1)) {
		int st;
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->pid = -1;
			c->status = st;
			char *t = th_slurp(c->out_path);
			fprintf(stderr, "th_voice: theta-client on %s exited at start (status %d); it said:\n%s\n",
				side_name[side], st, t ? t : "");
			snprintf(c->text, sizeof c->text, "%s", t ? t : "");
			free(t);
			return -ECHILD;
		}
		if (th_now_ns() >= end) {
			say("the daemon never listed its theta-client", side_name[side]);
			th_voice_client_stop(r, side);
			return -ETIMEDOUT;
		}
		th_sleep_ns(RIG_POLL_NS);
	}
	return 0;
}

int th_voice_client_stop(struct th_voice_rig *r, int side)
{
	struct th_voice_client *c = &r->c[side];
	if (c->pid <= 0)
		return -ECHILD;
	kill(c->pid, SIGTERM);
	int st = 0;
	if (th_wait_pid(c->pid, TH_VOICE_WAIT_MS, &st) < 0) {
		say("theta-client did not stop on SIGTERM; killed", side_name[side]);
		kill(c->pid, SIGKILL);
		th_wait_pid(c->pid, TH_VOICE_WAIT_MS, &st);
	}
	c->pid = -1;
	c->status = st;
	char *t = th_slurp(c->out_path);
	snprintf(c->text, sizeof c->text, "%s", t ? t : "");
	free(t);
	bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!ok)
		fprintf(stderr, "th_voice: theta-client on %s ended with status %d; it said:\n%s\n", side_name[side], st,
			c->text);
	return ok ? 0 : -EIO;
}

/* Mouth onsets in [from, frames) at the clicks' known threshold. */
static size_t mouth_onsets(const struct th_pulse_rec *m, size_t from, size_t quiet, uint64_t *t, size_t cap)
{
	return th_pulse_rec_onsets(m, from, TH_VOICE_AMP / 4, quiet, t, cap);
}

/* Ear onsets from `from`, at a quarter of the loudest so far, between the
 * floor and an eighth of the clicks' amplitude: Opus overshoots a burst at
 * its end (up to 4x, measured by codec), and a threshold that followed
 * such a peak would cross the onset late or not at all. */
static size_t ear_onsets(const struct th_pulse_rec *e, size_t from, size_t quiet, uint64_t *t, size_t cap, int *peak)
{
	size_t n = th_pulse_rec_frames(e);
	*peak = from < n ? th_pulse_peak(th_pulse_rec_pcm(e), th_pulse_rec_channels(e), from, n) : 0;
	int thr = *peak / 4 < TH_VOICE_AMP / 8 ? *peak / 4 : TH_VOICE_AMP / 8;
	if (thr < TH_VOICE_EAR_FLOOR)
		thr = TH_VOICE_EAR_FLOOR;
	return th_pulse_rec_onsets(e, from, thr, quiet, t, cap);
}

int th_voice_clicks(const struct th_pulse *pa, const char *mouth_sink, const char *ear_source, const char *other_ear,
		    unsigned clicks, unsigned period_ms, int settle_ms, struct th_voice_run *run)
{
	memset(run, 0, sizeof *run);
	if (clicks == 0 || clicks > TH_VOICE_CLICKS_MAX || period_ms < TH_VOICE_BURST_MS + 2 * TH_VOICE_QUIET_MIN_MS)
		return -EINVAL;
	unsigned quiet_ms = (period_ms - TH_VOICE_BURST_MS) / 2;
	if (quiet_ms > TH_VOICE_QUIET_MAX_MS)
		quiet_ms = TH_VOICE_QUIET_MAX_MS;
	size_t quiet = (size_t)TH_PULSE_RATE * quiet_ms / 1000;
	size_t frames = (size_t)(RIG_FIRST_MS + clicks * period_ms) * TH_PULSE_RATE / 1000;
	size_t rec_frames = frames + (size_t)RIG_REC_SLACK_S * TH_PULSE_RATE + (size_t)settle_ms * TH_PULSE_RATE / 1000;
	int16_t *pcm = calloc(frames, sizeof *pcm);
	uint64_t *tm = calloc(TH_VOICE_CLICKS_MAX + 1, sizeof *tm), *te = calloc(TH_VOICE_CLICKS_MAX + 1, sizeof *te);
	struct th_pulse_rec *mouth = NULL, *ear = NULL, *other = NULL;
	struct th_pulse_player *pl = NULL;
	char mon[TH_PULSE_NAME_MAX + 8];
	snprintf(mon, sizeof mon, "%s.monitor", mouth_sink);
	int rc = -ENOMEM;
	if (!pcm || !tm || !te)
		goto out;
	run->clicks = th_pulse_clicks(pcm, frames, 1, RIG_FIRST_MS, period_ms, TH_VOICE_BURST_MS, TH_VOICE_AMP);
	if ((rc = th_pulse_rec_start(pa, mon, 1, rec_frames, &mouth)) < 0 ||
	    (rc = th_pulse_rec_start(pa, ear_source, 2, rec_frames, &ear)) < 0 ||
	    (other_ear && (rc = th_pulse_rec_start(pa, other_ear, 2, rec_frames, &other)) < 0))
		goto out;
	uint64_t t0 = th_now_ns();
	if ((rc = th_pulse_play_start(pa, mouth_sink, 1, pcm, frames, &pl)) < 0)
		goto out;
	/* A click is the first onset after its mouth onset, before the next click. */
	uint64_t window = (uint64_t)(period_ms - TH_VOICE_BURST_MS) * TH_NS_PER_MS;
	/* Every click at the mouth, then every click at the ear or settle_ms. */
	uint64_t hard_end = t0 + (uint64_t)(RIG_FIRST_MS + clicks * period_ms + TH_VOICE_WAIT_MS) * TH_NS_PER_MS;
	uint64_t settle_end = UINT64_MAX;
	for (;;) {
		th_sleep_ns(RIG_POLL_NS);
		size_t fm = th_pulse_rec_frame_at(mouth, t0), fe = th_pulse_rec_frame_at(ear, t0);
		run->mouth_onsets = mouth_onsets(mouth, fm, quiet, tm, TH_VOICE_CLICKS_MAX + 1);
		run->ear_onsets = ear_onsets(ear, fe, quiet, te, TH_VOICE_CLICKS_MAX + 1, &run->ear_peak);
		uint64_t now = th_now_ns();
		if (run->mouth_onsets >= run->clicks && settle_end == UINT64_MAX)
			settle_end = now + (uint64_t)settle_ms * TH_NS_PER_MS;
		if (run->mouth_onsets >= run->clicks) {
			size_t ne = run->ear_onsets < TH_VOICE_CLICKS_MAX + 1 ? run->ear_onsets : TH_VOICE_CLICKS_MAX + 1;
			if (th_pulse_pair(tm, run->clicks, te, ne, window, run->lat_ns, NULL) == run->clicks)
				break;
		}
		if (now >= settle_end || now >= hard_end)
			break;
	}
	rc = th_pulse_play_wait(pl, TH_VOICE_WAIT_MS);
	if (rc == 0)
		rc = th_pulse_rec_stop(mouth);
	if (rc == 0)
		rc = th_pulse_rec_stop(ear);
	if (rc == 0 && other)
		rc = th_pulse_rec_stop(other);
	if (rc < 0)
		goto out;
	/* Final counts over everything recorded. */
	run->mouth_onsets = mouth_onsets(mouth, th_pulse_rec_frame_at(mouth, t0), quiet, tm, TH_VOICE_CLICKS_MAX + 1);
	run->ear_onsets =
		ear_onsets(ear, th_pulse_rec_frame_at(ear, t0), quiet, te, TH_VOICE_CLICKS_MAX + 1, &run->ear_peak);
	if (run->mouth_onsets != run->clicks) {
		fprintf(stderr, "th_voice: %zu clicks at the mouth (%s), %u played\n", run->mouth_onsets, mon, run->clicks);
		rc = -EAGAIN;
		goto out;
	}
	size_t ne = run->ear_onsets < TH_VOICE_CLICKS_MAX + 1 ? run->ear_onsets : TH_VOICE_CLICKS_MAX + 1;
	run->paired = th_pulse_pair(tm, run->mouth_onsets, te, ne, window, run->lat_ns, &run->unpaired_ear);
	/* te is free again. */
	if (other)
		run->other_onsets = ear_onsets(other, th_pulse_rec_frame_at(other, t0), quiet, te, TH_VOICE_CLICKS_MAX + 1,
					       &run->other_peak);
out:
	th_pulse_play_destroy(&pl);
	th_pulse_rec_destroy(&mouth);
	th_pulse_rec_destroy(&ear);
	th_pulse_rec_destroy(&other);
	free(pcm);
	free(tm);
	free(te);
	if (rc == -ENOMEM)
		say("out of memory for a recording", NULL);
	return rc;
}

bool th_voice_run_clean(const struct th_voice_run *run)
{
	return run->paired == run->clicks && run->unpaired_ear == 0 && run->ear_onsets == run->clicks &&
	       run->other_onsets == 0;
}

int th_voice_clicks_heard(struct th_voice_rig *r, const char *mouth_sink, const char *ear_source,
			  const char *other_ear, unsigned clicks, unsigned period_ms, int settle_ms,
			  struct th_voice_run *run)
{
	for (unsigned t = 1;; t++) {
		long long before = th_voice_losses(r);
		int rc = th_voice_clicks(&r->pa, mouth_sink, ear_source, other_ear, clicks, period_ms, settle_ms, run);
		if (rc < 0 && rc != -EAGAIN)
			return rc;
		if (rc == 0 && th_voice_run_clean(run))
			return 0;
		long long after = th_voice_losses(r);
		bool loaded = rc == -EAGAIN || (before >= 0 && after > before);
		if (rc == 0) {
			fprintf(stderr, "th_voice: run %u of %d was not clean (%lld frames lost or late meanwhile):\n", t,
				TH_VOICE_TRIES, after - before);
			th_voice_print_run(mouth_sink, run);
		}
		if (t >= TH_VOICE_TRIES || !loaded || run->other_onsets > 0)
			return rc == -EAGAIN ? -EIO : 0;
	}
}

int th_voice_wait_path(const struct th_pulse *pa, const char *mouth_sink, const char *ear_source, int timeout_ms)
{
	uint64_t end = th_now_ns() + (uint64_t)timeout_ms * TH_NS_PER_MS;
	struct th_voice_run run;
	unsigned tries = 0;
	while (th_now_ns() < end) {
		tries++;
		int rc = th_voice_clicks(pa, mouth_sink, ear_source, NULL, 1, RIG_PROBE_MS, RIG_PROBE_MS, &run);
		if (rc == -EAGAIN)
			continue; /* the probe itself was split at the mouth: play another */
		if (rc < 0)
			return rc;
		if (run.paired == 1)
			return 0;
	}
	fprintf(stderr, "th_voice: no click played into %s reached %s in %d ms (%u tries)\n", mouth_sink, ear_source,
		timeout_ms, tries);
	return -ETIMEDOUT;
}

double th_voice_latency_ms(const struct th_voice_run *run, double p)
{
	uint64_t v[TH_VOICE_CLICKS_MAX];
	size_t n = 0;
	for (size_t i = 0; i < run->mouth_onsets && i < TH_VOICE_CLICKS_MAX; i++)
		if (run->lat_ns[i] != UINT64_MAX)
			v[n++] = run->lat_ns[i];
	if (n == 0)
		return -1;
	qsort(v, n, sizeof v[0], th_bench_cmp_u64);
	size_t k = (size_t)ceil(p / 100.0 * (double)n);
	k = k == 0 ? 0 : k - 1;
	return (double)v[k < n ? k : n - 1] / 1e6;
}

int th_voice_exit_line(const struct th_voice_rig *r, int side, struct th_voice_exit *e)
{
	const char *t = r->c[side].text, *at = NULL;
	/* The last such line: the exit summary. */
	for (const char *p = t; (p = strstr(p, "voice: ")) != NULL; p++)
		at = p;
	unsigned long long sent, played, under, gated;
	if (!at || sscanf(at, "voice: %llu chunks sent, %llu played, %llu underruns, %llu gated", &sent, &played, &under,
			  &gated) != 4) {
		fprintf(stderr, "th_voice: theta-client on %s printed no voice line; it said:\n%s\n", side_name[side], t);
		return -ENOENT;
	}
	*e = (struct th_voice_exit){ .sent = sent, .played = played, .underruns = under, .gated = gated };
	return 0;
}

long long th_voice_speakers_sum(struct th_voice_rig *r, int side, const char *field, bool remote_only)
{
	struct json_object *o = th_voice_ctl_json(r, side), *arr, *v;
	if (!o)
		return -1;
	long long sum = -1;
	if (json_object_object_get_ex(o, "speakers", &arr) && json_object_is_type(arr, json_type_array)) {
		sum = 0;
		for (size_t k = 0; k < json_object_array_length(arr); k++) {
			struct json_object *sp = json_object_array_get_idx(arr, k);
			if (remote_only && json_object_object_get_ex(sp, "local", &v) && json_object_get_boolean(v))
				continue;
			if (json_object_object_get_ex(sp, field, &v))
				sum += json_object_get_int64(v);
		}
	} else {
		fprintf(stderr, "th_voice: thetactl voice --json on %s has no speakers: %s\n", side_name[side], r->out);
	}
	json_object_put(o);
	return sum;
}

long long th_voice_total(struct th_voice_rig *r, int side, const char *field)
{
	struct json_object *o = th_voice_ctl_json(r, side), *tot, *v;
	if (!o)
		return -1;
	long long x = -1;
	if (json_object_object_get_ex(o, "totals", &tot) && json_object_object_get_ex(tot, field, &v))
		x = json_object_get_int64(v);
	else
		fprintf(stderr, "th_voice: thetactl voice --json on %s has no totals.%s\n", side_name[side], field);
	json_object_put(o);
	return x;
}

long long th_voice_losses(struct th_voice_rig *r)
{
	static const char *const fields[] = { "frames_late", "frames_concealed", "fifo_overruns", "samples_skipped" };
	long long sum = 0;
	for (int s = 0; s < 2; s++)
		for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
			long long x = th_voice_total(r, s, fields[i]);
			if (x < 0)
				return -1;
			sum += x;
		}
	return sum;
}

void th_voice_print_run(const char *what, const struct th_voice_run *run)
{
	printf("%s: %u clicks played, %zu at the mouth, %zu at the ear (%zu paired, %zu unexplained, peak %d), "
	       "%zu at the other speaker (peak %d)\n",
	       what, run->clicks, run->mouth_onsets, run->ear_onsets, run->paired, run->unpaired_ear, run->ear_peak,
	       run->other_onsets, run->other_peak);
	for (size_t i = 0; i < run->mouth_onsets && i < TH_VOICE_CLICKS_MAX; i++) {
		if (run->lat_ns[i] == UINT64_MAX)
			printf("  click %zu: not heard\n", i);
		else
			printf("  click %zu: mouth to ear %.1f ms\n", i, (double)run->lat_ns[i] / 1e6);
	}
	if (run->paired)
		printf("  mouth to ear p50 %.1f ms, max %.1f ms\n", th_voice_latency_ms(run, 50),
		       th_voice_latency_ms(run, 100));
	fflush(stdout);
}

const char *th_voice_relay_bin(void)
{
	static char path[PATH_MAX];
	const char *b = getenv("THETA_BUILD");
	snprintf(path, sizeof path, "%s/tests/tools/pcm_relay", b && *b ? b : "build");
	return path;
}

void th_voice_dump(struct th_voice_rig *r)
{
	for (int s = 0; s < 2; s++) {
		int rc = th_voice_ctl(r, s, (const char *const[]){ "voice", NULL });
		fprintf(stderr, "--- thetactl voice on %s (exit %d):\n%s%s", side_name[s], rc, r->out, r->err);
		rc = th_voice_ctl(r, s, (const char *const[]){ "clients", NULL });
		fprintf(stderr, "--- thetactl clients on %s (exit %d):\n%s%s", side_name[s], rc, r->out, r->err);
	}
	for (int s = 0; s < 2; s++) {
		if (r->c[s].pid > 0)
			th_voice_client_stop(r, s);
		fprintf(stderr, "--- theta-client on %s said:\n%s\n", side_name[s], r->c[s].text);
	}
	for (int s = 0; s < 2; s++)
		fprintf(stderr, "--- thetad %s's log:\n%s\n", side_name[s], th_daemon_log(&r->d[s]));
}

void th_voice_require_path(struct th_voice_rig *r, const char *mouth_sink, const char *ear_source)
{
	if (th_voice_wait_path(&r->pa, mouth_sink, ear_source, TH_VOICE_WAIT_MS) < 0) {
		th_voice_dump(r);
		fail_msg("no click played into %s was heard at %s", mouth_sink, ear_source);
	}
}

void th_voice_clients_stop(struct th_voice_rig *r)
{
	for (int s = 0; s < 2; s++)
		if (r->c[s].pid > 0)
			th_voice_client_stop(r, s);
}
