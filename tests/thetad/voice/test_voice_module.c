/* The voice module in a real thetad (thetad/voice/module.c, voice_thread.c):
 * real client links (theta-client/link) speak into their voice rings, the
 * daemon's voice thread mixes, the other client's voice ring plays it.
 *
 * - Two local clients of two users (root here, nobody in a child process)
 *   on one daemon with 10 ms frames hear each other: chunks with sound
 *   reach each side; `thetactl voice` lists both as local speakers with
 *   their names; SESSION_INFO names the one who speaks; the metrics count
 *   chunks in and played.
 * - A client that mutes itself is heard no more (SESSION_INFO says MUTED;
 *   a second of the daemon taking both clients' chunks passes with nothing
 *   from it at the other side), and is heard again after unmuting.
 * - A reload with another frame length starts a new pipeline: both are
 *   heard again.
 * - A client that goes leaves the voice module's count.
 * - Two daemons in a session (20 ms frames), a client of root on each (a
 *   user's key is per daemon): each hears the other through Opus, QUIC
 *   datagrams and the other daemon's jitter buffer, including the member's
 *   client linked before its daemon joined (the session change relinks
 *   it); `thetactl voice` on each shows the other as a remote speaker with
 *   packets and bytes, and the local one's frames went out; the member
 *   knows the host's speaker by name, and still does after a reload with
 *   another frame length (a new engine).
 * - [voice] keys: a bad frame_ms or vad refuses the configuration with one
 *   sentence; good ones show in --print-config.
 * Nothing asserts a timing: every wait polls with a generous deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
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

#include "../../integration/net_fixture.h"
#include "ipc.h"
#include "link/link.h"
#include "th_daemontest.h"
#include "th_harness.h"
#include "th_link.h"
#include "th_time.h"
#include "th_voicesig.h"
#include "voice/voice_vad.h"

#define WAIT_MS 30000
#define CHUNK 480u                /* 10 ms at 48 kHz */
#define AUDIBLE_RMS 200.0         /* a chunk with sound in it (a silent mix is 0) */
#define CHILD_RUN_S 120           /* the child speaks at most this long */
#define MUTED_CHUNKS_IN 200       /* chunks the daemon takes while we listen for silence (1 s of two clients) */

static char out[65536], err[8192];
static char conf[512];
static pid_t child = -1; /* the second user's client, killed by teardown if a test fails */

/* th_daemon_metric at most every 100 ms per name (a thetactl run each):
 * the steps between keep both clients speaking in real time. */
static long long metric(struct th_daemon_proc *d, const char *name)
{
	static struct {
		const char *name;
		long long v;
		uint64_t at;
	} cache[8];
	uint64_t now = th_now_ns();
	unsigned i;
	for (i = 0; i < 8 && cache[i].name && strcmp(cache[i].name, name); i++)
		;
	assert_true(i < 8);
	if (!cache[i].name || now - cache[i].at >= 100 * TH_NS_PER_MS) {
		cache[i].name = name;
		cache[i].v = th_daemon_metric(d, name);
		cache[i].at = now;
	}
	return cache[i].v;
}

static int teardown(void **state)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	return dt_teardown(state);
}

/* Ten seconds of synthetic speech (utterances and pauses: th_voicesig.h)
 * for each user, looped; chunk n of it. */
#define SPEECH_CHUNKS 1000u
static int16_t speech[SPEECH_CHUNKS * CHUNK];
static uint8_t speech_label[SPEECH_CHUNKS];

/* Returns whether the chunk is speech (inside an utterance). */
static bool voice_chunk(int16_t *pcm, uint32_t n, double f0)
{
	static double made_f0;
	if (made_f0 != f0) {
		struct th_vs_config c = { .seed = (uint32_t)f0, .speech_dbfs = -20, .f0_hz = f0 };
		th_vs_make(&c, speech, sizeof speech / sizeof speech[0], speech_label);
		made_f0 = f0;
	}
	memcpy(pcm, speech + (size_t)(n % SPEECH_CHUNKS) * CHUNK, CHUNK * sizeof *pcm);
	return speech_label[n % SPEECH_CHUNKS];
}

static double rms(const int16_t *s, size_t n)
{
	double a = 0;
	for (size_t i = 0; i < n; i++)
		a += (double)s[i] * s[i];
	return sqrt(a / (double)n);
}

static struct link *make_link(const char *runtime_dir, const char *name)
{
	struct link_config cfg = { .runtime_dir = runtime_dir, .name = name, .mode = PROTO_IPC_MODE_XR };
	struct link *l;
	if (link_create(&cfg, &l) < 0)
		return NULL;
	return l;
}

/* The daemon in the slot with 10 ms frames, a query group nobody is in,
 * nobody a member of its session, its runtime dir reachable by nobody. */
static struct th_daemon_proc *start_daemon(int *gid)
{
	struct group *g = getgrnam("nogroup");
	if (!th_is_root() || !g) {
		print_message("SKIP: two users need root and group nogroup\n");
		skip();
	}
	*gid = (int)g->gr_gid;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	snprintf(conf, sizeof conf, "%s/thetad.conf", d->dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[control]\nquery_group = nogroup\n[voice]\nframe_ms = 10\n");
	assert_int_equal(fclose(f), 0);
	const char *args[] = { "--port", "0", "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(d, args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(d, "READY=1", WAIT_MS), 0);
	assert_int_equal(chmod(d->dir, 0755), 0);
	assert_int_equal(chmod(d->runtime_dir, 0755), 0);
	assert_int_equal(th_ctl(d, (const char *const[]){ "session", "allow", "nobody", "--role", "editor", NULL }, out,
				sizeof out, err, sizeof err),
			 0);
	return d;
}

/* The child, as nobody: links, turns voice on, speaks a 210 Hz voice in
 * real time and writes one byte to fd for every chunk with sound it hears.
 * Never returns. */
static void child_speaks(const char *runtime_dir, int gid, int fd)
{
	if (setgroups(0, NULL) < 0 || setgid((gid_t)gid) < 0 || setuid(DT_UID_OTHER) < 0)
		_exit(10);
	struct link *l = make_link(runtime_dir, "voice-nobody");
	if (!l || link_wait_active(l, WAIT_MS, false) < 0)
		_exit(11);
	link_set_voice(l, PROTO_IPC_VOICE_F_ON, th_now_ns());
	int16_t pcm[CHUNK], st[2 * CHUNK];
	uint64_t start = th_now_ns(), t_ns;
	for (uint32_t n = 0; n < CHILD_RUN_S * 100u; n++) {
		uint64_t due = start + (uint64_t)n * 10 * TH_NS_PER_MS, now = th_now_ns();
		if (due > now)
			th_sleep_ns(due - now);
		th_link_step(l);
		voice_chunk(pcm, n, 210.0);
		link_voice_send(l, n, th_now_ns(), pcm);
		while (link_voice_recv(l, st, &t_ns) == 1)
			if (rms(st, 2 * CHUNK) > AUDIBLE_RMS && write(fd, "x", 1) < 0)
				_exit(12);
	}
	_exit(0);
}

/* Sleeps until *next_ns (0: now), then sets the next step 10 ms on. */
static void pace(uint64_t *next_ns)
{
	uint64_t now = th_now_ns();
	if (now < *next_ns)
		th_sleep_ns(*next_ns - now);
	*next_ns = (*next_ns ? *next_ns : th_now_ns()) + 10 * TH_NS_PER_MS;
}

/* Runs step(s) until cond or WAIT_MS; then cond must hold. */
#define STEPS_UNTIL(step, s, cond)                                                   \
	do {                                                                         \
		uint64_t end_ = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;      \
		while (!(cond) && th_now_ns() < end_)                                \
			step(s);                                                     \
		assert_true(cond);                                                   \
	} while (0)

/* What the parent's link runs each 10 ms: speaks chunk n (unless quiet),
 * counts the chunks with sound it hears. */
struct side {
	struct link *l;
	uint32_t n;
	uint64_t next_ns;
	unsigned heard;
	unsigned spoken; /* chunks of speech sent */
	int pipe_fd;
	unsigned child_heard;
};

static void side_step(struct side *s)
{
	uint64_t t_ns;
	pace(&s->next_ns);
	th_link_step(s->l);
	int16_t pcm[CHUNK], st[2 * CHUNK];
	s->spoken += voice_chunk(pcm, s->n, 140.0);
	link_voice_send(s->l, s->n++, th_now_ns(), pcm);
	while (link_voice_recv(s->l, st, &t_ns) == 1)
		if (rms(st, 2 * CHUNK) > AUDIBLE_RMS)
			s->heard++;
	char b[256];
	ssize_t r;
	while ((r = read(s->pipe_fd, b, sizeof b)) > 0)
		s->child_heard += (unsigned)r;
}

#define STEP_UNTIL(s, cond) STEPS_UNTIL(side_step, s, cond)

static struct json_object *voice_json(struct th_daemon_proc *d)
{
	assert_int_equal(th_ctl(d, (const char *const[]){ "voice", "--json", NULL }, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out);
	assert_non_null(o);
	return o;
}

/* The speaker named name in a `voice --json` answer, or NULL. */
static struct json_object *speaker(struct json_object *v, const char *name)
{
	struct json_object *list;
	assert_true(json_object_object_get_ex(v, "speakers", &list));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *s = json_object_array_get_idx(list, i);
		if (!strcmp(dt_str(s, "name"), name))
			return s;
	}
	return NULL;
}

static bool info_names(const struct link_session_info *si, const char *name)
{
	for (unsigned i = 0; i < si->nspeakers; i++)
		if (!strcmp(si->speakers[i], name))
			return true;
	return false;
}

static void two_local_clients_hear_each_other_and_mute(void **state)
{
	(void)state;
	int gid;
	struct th_daemon_proc *d = start_daemon(&gid);
	int pfd[2];
	assert_int_equal(pipe2(pfd, O_CLOEXEC | O_NONBLOCK), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(pfd[0]);
		child_speaks(d->runtime_dir, gid, pfd[1]);
	}
	close(pfd[1]);
	struct side s = { .l = make_link(d->runtime_dir, "voice-root"), .pipe_fd = pfd[0] };
	assert_non_null(s.l);
	assert_int_equal(link_wait_active(s.l, WAIT_MS, false), 0);
	assert_int_equal(link_set_voice(s.l, PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);

	/* Each hears the other. */
	STEP_UNTIL(&s, s.heard >= 20 && s.child_heard >= 20);
	STEP_UNTIL(&s, metric(d, "voice_clients") == 2);

	/* SESSION_INFO names who speaks (both do: the other at least). */
	struct link_session_info si;
	STEP_UNTIL(&s, link_session_info(s.l, &si) == 0 && info_names(&si, "nobody"));
	assert_true(si.speaking >= 1);
	assert_true(si.voice & PROTO_IPC_VINFO_F_ON);

	/* thetactl voice: both users, local, with counts. */
	struct json_object *v = voice_json(d), *a = speaker(v, "root"), *b = speaker(v, "nobody");
	assert_non_null(a);
	assert_non_null(b);
	assert_true(json_object_get_boolean(json_object_object_get(a, "local")));
	assert_true(json_object_get_boolean(json_object_object_get(b, "local")));
	assert_int_equal(dt_u64(v, "frame_ms"), 10);
	assert_int_equal(dt_u64(v, "clients"), 2);
	struct json_object *tot = json_object_object_get(v, "totals");
	assert_true(dt_u64(tot, "chunks_in") > 0);
	assert_true(dt_u64(tot, "chunks_played") > 0);
	json_object_put(v);
	assert_int_equal(th_ctl(d, (const char *const[]){ "voice", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "SPEAKER"));
	assert_non_null(strstr(out, "nobody"));
	assert_non_null(strstr(out, "10 ms frames"));
	/* The metrics have it too (sent every 250 ms). */
	STEP_UNTIL(&s, metric(d, "voice_chunks_in") > 0 && metric(d, "voice_chunks_played") > 0);

	/* Muted: the daemon says so, then the other side hears nothing while
	 * the daemon takes MUTED_CHUNKS_IN more chunks. */
	assert_int_equal(link_set_voice(s.l, PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED, th_now_ns()), 0);
	STEP_UNTIL(&s, link_session_info(s.l, &si) == 0 && (si.voice & PROTO_IPC_VINFO_F_MUTED));
	/* What was mixed before the mute took effect reaches the other side
	 * first: the daemon takes half a second more of both clients' chunks
	 * (the metrics lag up to 250 ms behind). */
	long long in = th_daemon_metric(d, "voice_chunks_in");
	STEP_UNTIL(&s, metric(d, "voice_chunks_in") > in + 100);
	in = th_daemon_metric(d, "voice_chunks_in");
	/* A second of our speech while muted (pauses do not count), and the
	 * other one still heard. */
	unsigned before = s.child_heard, heard = s.heard, spoken = s.spoken;
	STEP_UNTIL(&s, metric(d, "voice_chunks_in") > in + MUTED_CHUNKS_IN && s.spoken >= spoken + 100 &&
			       s.heard >= heard + 20);
	assert_int_equal(s.child_heard, before);

	/* Unmuted: heard again. */
	assert_int_equal(link_set_voice(s.l, PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);
	STEP_UNTIL(&s, s.child_heard >= before + 20);

	/* A reload with 20 ms frames: a new pipeline, both clients linked to
	 * it again, each heard again. */
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "[control]\nquery_group = nogroup\n[voice]\nframe_ms = 20\n");
	assert_int_equal(fclose(f), 0);
	assert_int_equal(th_ctl(d, (const char *const[]){ "reload", NULL }, out, sizeof out, err, sizeof err), 0);
	v = voice_json(d);
	assert_int_equal(dt_u64(v, "frame_ms"), 20);
	json_object_put(v);
	before = s.child_heard;
	heard = s.heard;
	STEP_UNTIL(&s, s.child_heard >= before + 20 && s.heard >= heard + 20);
	STEP_UNTIL(&s, metric(d, "voice_clients") == 2);

	/* The child goes: one client with voice left. */
	kill(child, SIGKILL);
	int status;
	assert_int_equal(th_wait_pid(child, WAIT_MS, &status), 0);
	child = -1;
	STEP_UNTIL(&s, metric(d, "voice_clients") == 1);
	v = voice_json(d);
	assert_int_equal(dt_u64(v, "clients"), 1);
	json_object_put(v);

	link_destroy(&s.l);
	close(pfd[0]);
	assert_int_equal(th_daemon_stop(d, SIGTERM, WAIT_MS, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* One 10 ms step of both links: each speaks chunk n of its voice and
 * counts the chunks with sound it hears. */
struct pair {
	struct link *l[2];
	uint32_t n;
	uint64_t next_ns;
	unsigned heard[2];
};

static void pair_step(struct pair *p)
{
	uint64_t t_ns;
	pace(&p->next_ns);
	for (int k = 0; k < 2; k++) {
		int16_t pcm[CHUNK], st[2 * CHUNK];
		th_link_step(p->l[k]);
		voice_chunk(pcm, p->n + (k ? SPEECH_CHUNKS / 2 : 0), 150.0); /* two points of one voice */
		link_voice_send(p->l[k], p->n, th_now_ns(), pcm);
		while (link_voice_recv(p->l[k], st, &t_ns) == 1)
			if (rms(st, 2 * CHUNK) > AUDIBLE_RMS)
				p->heard[k]++;
	}
	p->n++;
}

#define PAIR_UNTIL(p, cond) STEPS_UNTIL(pair_step, p, cond)

/* The remote speaker of a `voice --json` answer of d with packets, or NULL
 * (the answer is put). */
static bool remote_heard(struct nf_daemon *d)
{
	struct json_object *v = nf_ctl_json(d, (const char *const[]){ "voice", "--json", NULL }), *list;
	bool yes = false;
	if (v && json_object_object_get_ex(v, "speakers", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *sp = json_object_array_get_idx(list, i);
			yes |= !json_object_get_boolean(json_object_object_get(sp, "local")) &&
			       json_object_get_int64(json_object_object_get(sp, "packets")) > 0 &&
			       json_object_get_int64(json_object_object_get(sp, "bytes")) > 0;
		}
	json_object_put(v);
	return yes;
}

/* The name the remote speaker of d's `voice --json` answer goes by, into
 * name[cap] ("" without one). */
static void remote_name(struct nf_daemon *d, char *name, size_t cap)
{
	struct json_object *v = nf_ctl_json(d, (const char *const[]){ "voice", "--json", NULL }), *list;
	name[0] = 0;
	if (v && json_object_object_get_ex(v, "speakers", &list))
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			struct json_object *sp = json_object_array_get_idx(list, i);
			if (!json_object_get_boolean(json_object_object_get(sp, "local")))
				snprintf(name, cap, "%s", dt_str(sp, "name"));
		}
	json_object_put(v);
}

/* Writes d's [voice] frame_ms into path. */
static void write_frame_ms(const char *path, int frame_ms)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[voice]\nframe_ms = %d\n", frame_ms);
	assert_int_equal(fclose(f), 0);
}

static void two_daemons_hear_each_other(void **state)
{
	(void)state;
	static struct nf_daemon host, member;
	char dir[128], mconf[256], name[64];
	assert_int_equal(th_mkdtemp(dir, sizeof dir), 0);
	snprintf(mconf, sizeof mconf, "%s/member.conf", dir);
	write_frame_ms(mconf, 20);
	nf_start(&host, NULL, NULL);
	nf_start(&member, (const char *const[]){ "--config", mconf, NULL }, NULL);
	char id[33];
	nf_host(&host, "talk", id);
	struct pair p = { .l = { make_link(host.p.runtime_dir, "voice-host"), make_link(member.p.runtime_dir, "voice-member") } };
	for (int k = 0; k < 2; k++) {
		assert_non_null(p.l[k]);
		assert_int_equal(link_wait_active(p.l[k], WAIT_MS, false), 0);
		assert_int_equal(link_set_voice(p.l[k], PROTO_IPC_VOICE_F_ON, th_now_ns()), 0);
	}
	/* The member's client is linked before its daemon joins: the join
	 * moves it to the session, and voice with it. */
	nf_invite_join(&host, &member, id, "editor");

	PAIR_UNTIL(&p, p.heard[0] >= 20 && p.heard[1] >= 20);
	assert_true(remote_heard(&host));
	assert_true(remote_heard(&member));
	assert_true(nf_metric(&host, "voice_packets_out") > 0);
	assert_true(nf_metric(&member, "voice_packets_out") > 0);
	assert_true(nf_metric(&member, "voice_frames_decoded") > 0);
	/* The host's speaker goes by its user's name at the member (VOICE_NAME)... */
	PAIR_UNTIL(&p, (remote_name(&member, name, sizeof name), !strcmp(name, "root")));
	/* ...and still does after a reload gave the member a new pipeline: the
	 * host names its speakers once, the module tells the new engine again. */
	write_frame_ms(mconf, 10);
	assert_int_equal(nf_ctl(&member, (const char *const[]){ "reload", NULL }), 0);
	unsigned heard = p.heard[1];
	PAIR_UNTIL(&p, p.heard[1] >= heard + 20);
	remote_name(&member, name, sizeof name);
	assert_string_equal(name, "root");
	for (int k = 0; k < 2; k++)
		link_destroy(&p.l[k]);
	int status;
	assert_int_equal(th_daemon_stop(&member.p, SIGTERM, WAIT_MS, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(th_daemon_stop(&host.p, SIGTERM, WAIT_MS, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	th_rm_rf(dir);
}

/* thetad --config FILE --print-config with text: its exit status, stdout in out, stderr in err. */
static int print_config(const char *text)
{
	return th_print_config(text, out, sizeof out, err, sizeof err, WAIT_MS);
}

static void voice_config_keys_are_checked(void **state)
{
	(void)state;
	assert_int_equal(print_config("[voice]\nframe_ms = 10\ncomplexity = 3\nbitrate = 32000\nfec = no\nvad = energy\n"), 0);
	assert_non_null(strstr(out, "[voice]\nframe_ms = 10\ncomplexity = 3\nbitrate = 32000\nfec = no\ndtx = yes\n"
				    "spatial = yes\nvad = energy\n"));
	assert_int_equal(print_config("[voice]\nframe_ms = 15\n"), 1);
	assert_non_null(strstr(err, "voice.frame_ms must be 10 or 20, not 15"));
	assert_int_equal(print_config("[voice]\nframe_ms = 40\n"), 1);
	assert_non_null(strstr(err, "frame_ms"));
	assert_int_equal(print_config("[voice]\nvad = speex\n"), 1);
	assert_non_null(strstr(err, "voice.vad must be webrtc or energy, not 'speex'"));
	/* webrtc is taken only by a thetad that has it. */
	if (voice_vad_built(VOICE_VAD_WEBRTC)) {
		assert_int_equal(print_config("[voice]\nvad = webrtc\n"), 0);
	} else {
		assert_int_equal(print_config("[voice]\nvad = webrtc\n"), 1);
		assert_non_null(strstr(err, "built without webrtc-audio-processing"));
	}
	assert_int_equal(print_config("[voice]\nbitrate = 1000\n"), 1);
	assert_non_null(strstr(err, "bitrate"));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(voice_config_keys_are_checked),
		cmocka_unit_test_teardown(two_local_clients_hear_each_other_and_mute, teardown),
		cmocka_unit_test_teardown(two_daemons_hear_each_other, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
