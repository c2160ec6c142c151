/* The voice rings' share of mouth-to-ear latency (docs/ipc.md "Voice
 * rings"): a real theta-client link and thetad's real ipc server (its own
 * thread, sleeping in epoll between chunks as thetad's loop does, voice
 * callbacks echoing each microphone chunk as a stereo chunk). A capture
 * thread sends one 10 ms chunk every 10 ms (t_ns = its send time); a
 * playback thread polls link_voice_recv every POLL_NS, as a playback
 * thread waiting for its next chunk would, and takes now - t_ns; this
 * thread runs the link's frame loop. Baseline in the same run: the same
 * pacing and polling over a SOCK_SEQPACKET socketpair (write the chunk,
 * the server thread wakes in poll, reads it and writes the stereo chunk
 * back, the playback thread polls with MSG_DONTWAIT).
 *
 *   ipc.voice.echo_p50_us / _p99_us            chunk -> daemon -> chunk, voice rings
 *   ipc.voice.baseline.seqpacket_echo_p50_us / _p99_us   the same over a socket pair
 *
 * Figures go to stdout as JSON lines; other lines start with '#'. */
#include "ipc.h"
#include "ipc/server.h"
#include "link/link.h"
#include "th_bench.h"
#include "th_buf.h"
#include "th_link.h"
#include "th_loop.h"
#include "th_time.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNKS 300u                         /* 3 s of audio per run */
#define CHUNK_NS (10ull * 1000 * 1000)     /* one chunk every 10 ms */
#define POLL_NS (200ull * 1000)            /* the playback thread's polling period */
#define WARM 20u                           /* chunks left out of the figures */
#define SOCK_HDR 16u                       /* seq + t_ns in the baseline's datagrams */

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_voice_ring: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static double pct_us(uint64_t *v, unsigned n, double p)
{
	return th_bench_pct_u64(v, n, p) / 1e3;
}

static void sleep_until(uint64_t t_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(t_ns / TH_NS_PER_S), .tv_nsec = (long)(t_ns % TH_NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- voice rings ------------------------------------------------------------ */

struct vr {
	char dir[64];
	struct th_loop *loop;
	struct ipc_server *ipc;
	struct link *l;
	atomic_bool stop;
	uint64_t lat[CHUNKS];
	atomic_uint got;
	unsigned echo_drops;
};

static void vr_on_pcm(void *user, uint64_t id, const struct proto_ipc_voice_pcm *m, uint64_t now_ns)
{
	struct vr *v = user;
	uint8_t out[PROTO_IPC_VOICE_OUT_BYTES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++) {
		memcpy(out + 4 * i, m->pcm + 2 * i, 2);
		memcpy(out + 4 * i + 2, m->pcm + 2 * i, 2);
	}
	struct proto_ipc_voice_out o = { .seq = m->seq, .t_ns = m->t_ns, .pcm = out, .pcm_len = sizeof out };
	if (ipc_server_send_voice(v->ipc, id, &o) < 0)
		v->echo_drops++;
}

static void *vr_server(void *arg)
{
	struct vr *v = arg;
	while (!atomic_load(&v->stop))
		th_loop_run_once(v->loop, 50); /* asleep in epoll between chunks */
	return NULL;
}

static void *vr_capture(void *arg)
{
	struct vr *v = arg;
	int16_t pcm[PROTO_IPC_VOICE_SAMPLES];
	for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++)
		pcm[i] = (int16_t)(i * 61);
	uint64_t next = th_now_ns();
	for (uint32_t seq = 0; seq < CHUNKS && !atomic_load(&v->stop); seq++) {
		next += CHUNK_NS;
		sleep_until(next);
		int r = link_voice_send(v->l, seq, th_now_ns(), pcm);
		if (r < 0)
			die("link_voice_send", r);
	}
	return NULL;
}

static void *vr_playback(void *arg)
{
	struct vr *v = arg;
	int16_t st[2 * PROTO_IPC_VOICE_SAMPLES];
	while (!atomic_load(&v->stop) && atomic_load(&v->got) < CHUNKS) {
		uint64_t t;
		int r = link_voice_recv(v->l, st, &t);
		if (r < 0)
			die("link_voice_recv", r);
		if (r == 1) {
			unsigned k = atomic_load(&v->got);
			v->lat[k] = th_now_ns() - t;
			atomic_store(&v->got, k + 1);
			continue;
		}
		th_sleep_ns(POLL_NS);
	}
	return NULL;
}

static unsigned run_voice_rings(uint64_t *lat)
{
	static struct vr v;
	memset(&v, 0, sizeof v);
	strcpy(v.dir, "/tmp/theta-bvoice-XXXXXX");
	if (!mkdtemp(v.dir))
		die("mkdtemp", errno);
	char path[128];
	snprintf(path, sizeof path, "%s/client.sock", v.dir);
	int r = th_loop_create(&v.loop);
	if (r < 0)
		die("th_loop_create", r);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0)
		die("client.sock", errno);
	if ((r = ipc_server_create(v.loop, fd, NULL, NULL, &v.ipc)) < 0)
		die("ipc_server_create", r);
	struct ipc_voice_callbacks cb = { .on_voice_pcm = vr_on_pcm };
	ipc_server_set_voice(v.ipc, &cb, &v);
	pthread_t srv, cap, play;
	pthread_create(&srv, NULL, vr_server, &v);
	struct link_config lc = { .runtime_dir = v.dir, .name = "bench-voice", .mode = PROTO_IPC_MODE_HEADLESS };
	if ((r = link_create(&lc, &v.l)) < 0)
		die("link_create", r);
	if ((r = link_wait_active(v.l, 5000, false)) < 0)
		die("link_wait_active", r);
	pthread_create(&play, NULL, vr_playback, &v);
	pthread_create(&cap, NULL, vr_capture, &v);
	/* The frame loop: about 1 ms frames until every echo came back. */
	uint64_t end = th_now_ns() + (CHUNKS + 200) * CHUNK_NS;
	while (atomic_load(&v.got) < CHUNKS && th_now_ns() < end) {
		th_link_step(v.l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	atomic_store(&v.stop, true);
	pthread_join(cap, NULL);
	pthread_join(play, NULL);
	pthread_join(srv, NULL);
	struct link_voice_stats vs;
	link_voice_stats(v.l, &vs);
	printf("# voice rings: %u of %u chunks back, %llu dropped on the way in, %u on the way out\n",
	       atomic_load(&v.got), CHUNKS, (unsigned long long)vs.drops, v.echo_drops);
	link_destroy(&v.l);
	ipc_server_destroy(&v.ipc);
	th_loop_destroy(&v.loop);
	unlink(path);
	rmdir(v.dir);
	unsigned n = atomic_load(&v.got);
	memcpy(lat, v.lat, n * sizeof *lat);
	return n;
}

/* ---- baseline: a SOCK_SEQPACKET socket pair --------------------------------- */

struct sp {
	int sv[2]; /* [0] client, [1] server */
	atomic_bool stop;
	uint64_t lat[CHUNKS];
	atomic_uint got;
};

static void *sp_server(void *arg)
{
	struct sp *s = arg;
	uint8_t in[SOCK_HDR + PROTO_IPC_VOICE_PCM_BYTES], out[SOCK_HDR + PROTO_IPC_VOICE_OUT_BYTES];
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->sv[1], .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = recv(s->sv[1], in, sizeof in, MSG_DONTWAIT);
		if (n != (ssize_t)sizeof in)
			continue;
		memcpy(out, in, SOCK_HDR);
		for (unsigned i = 0; i < PROTO_IPC_VOICE_SAMPLES; i++) {
			memcpy(out + SOCK_HDR + 4 * i, in + SOCK_HDR + 2 * i, 2);
			memcpy(out + SOCK_HDR + 4 * i + 2, in + SOCK_HDR + 2 * i, 2);
		}
		if (send(s->sv[1], out, sizeof out, MSG_DONTWAIT) < 0 && errno != EAGAIN)
			die("baseline send", errno);
	}
	return NULL;
}

static void *sp_capture(void *arg)
{
	struct sp *s = arg;
	uint8_t b[SOCK_HDR + PROTO_IPC_VOICE_PCM_BYTES] = { 0 };
	uint64_t next = th_now_ns();
	for (uint32_t seq = 0; seq < CHUNKS && !atomic_load(&s->stop); seq++) {
		next += CHUNK_NS;
		sleep_until(next);
		th_put_le32(b, seq);
		th_put_le64(b + 4, th_now_ns());
		if (send(s->sv[0], b, sizeof b, MSG_DONTWAIT) < 0)
			die("baseline capture send", errno);
	}
	return NULL;
}

static void *sp_playback(void *arg)
{
	struct sp *s = arg;
	uint8_t b[SOCK_HDR + PROTO_IPC_VOICE_OUT_BYTES];
	while (!atomic_load(&s->stop) && atomic_load(&s->got) < CHUNKS) {
		ssize_t n = recv(s->sv[0], b, sizeof b, MSG_DONTWAIT);
		if (n == (ssize_t)sizeof b) {
			unsigned k = atomic_load(&s->got);
			s->lat[k] = th_now_ns() - th_get_le64(b + 4);
			atomic_store(&s->got, k + 1);
			continue;
		}
		th_sleep_ns(POLL_NS);
	}
	return NULL;
}

static unsigned run_seqpacket(uint64_t *lat)
{
	static struct sp s;
	memset(&s, 0, sizeof s);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s.sv) < 0)
		die("socketpair", errno);
	pthread_t srv, cap, play;
	pthread_create(&srv, NULL, sp_server, &s);
	pthread_create(&play, NULL, sp_playback, &s);
	pthread_create(&cap, NULL, sp_capture, &s);
	uint64_t end = th_now_ns() + (CHUNKS + 200) * CHUNK_NS;
	while (atomic_load(&s.got) < CHUNKS && th_now_ns() < end)
		th_sleep_ns(TH_NS_PER_MS);
	atomic_store(&s.stop, true);
	pthread_join(cap, NULL);
	pthread_join(play, NULL);
	pthread_join(srv, NULL);
	close(s.sv[0]);
	close(s.sv[1]);
	unsigned n = atomic_load(&s.got);
	printf("# socket pair: %u of %u chunks back\n", n, CHUNKS);
	memcpy(lat, s.lat, n * sizeof *lat);
	return n;
}

int main(void)
{
	printf("# bench_voice_ring: %u chunks of 10 ms, one every 10 ms, playback polls every %llu us\n", CHUNKS,
	       (unsigned long long)(POLL_NS / 1000));
	static uint64_t lat[CHUNKS];
	unsigned n = run_voice_rings(lat);
	if (n <= WARM)
		die("voice rings: too few chunks came back", EIO);
	double p50 = pct_us(lat + WARM, n - WARM, 0.50), p99 = pct_us(lat + WARM, n - WARM, 0.99);
	th_bench_figure("ipc.voice.echo_p50_us", p50, "us");
	th_bench_figure("ipc.voice.echo_p99_us", p99, "us");
	n = run_seqpacket(lat);
	if (n <= WARM)
		die("socket pair: too few chunks came back", EIO);
	double b50 = pct_us(lat + WARM, n - WARM, 0.50), b99 = pct_us(lat + WARM, n - WARM, 0.99);
	th_bench_figure("ipc.voice.baseline.seqpacket_echo_p50_us", b50, "us");
	th_bench_figure("ipc.voice.baseline.seqpacket_echo_p99_us", b99, "us");
	th_bench_figure("ipc.ratio.voice_echo_vs_seqpacket", p50 / b50, "x");
	printf("# voice rings p50 %.0f us vs socket pair %.0f us (%.2fx); a 10 ms chunk is 10000 us\n", p50, b50,
	       p50 / b50);
	return 0;
}
