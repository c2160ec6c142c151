/* Replay of a session's log to a client (RESYNC_REQUEST from position 0):
 * a real thetad whose default session holds BENCH_REPLAY_ENTRIES entries
 * (filled offline through the clog API), and a theta-client link in this
 * process that asks for everything and reads as fast as it can. Figures:
 * the time until every entry arrived (each once, in position order), the
 * rate, and the resume of the last tenth after a reconnect. JSON lines;
 * nothing here asserts a timing. */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/transport.h"
#include "link/internal.h"
#include "link/link.h"
#include "th_bench.h"
#include "th_file.h"
#include "th_harness.h"
#include "th_logfill.h"
#include "th_time.h"

#define BENCH_REPLAY_ENTRIES 100000u
#define BENCH_REPLAY_AUTHORS 8u
#define BENCH_REPLAY_PAYLOAD 64u
#define BENCH_WAIT_NS (120ull * TH_NS_PER_S)

struct seen {
	uint64_t n, out_of_order;
};

static void on_event(void *user_data, struct sim_world *w, const struct proto_ipc_event *e)
{
	struct seen *s = user_data;
	if (e->kind != PROTO_IPC_EVENT_LOG_ENTRY)
		return;
	if (e->pos != s->n)
		s->out_of_order++;
	s->n++;
}

/* Drains the link until n events arrived; the seconds it took, or -1. */
static double drain_until(struct link *l, const struct seen *s, uint64_t n)
{
	uint64_t t0 = th_now_ns(), end = t0 + BENCH_WAIT_NS;
	struct app_transport *t = link_transport(l);
	while (s->n < n && th_now_ns() < end) {
		if (app_transport_drain(t, NULL, th_now_ns()) == 0)
			th_sleep_ns(100 * 1000);
		struct app_outgoing o = { 0 };
		app_transport_publish(t, &o, th_now_ns());
	}
	return s->n == n ? (double)(th_now_ns() - t0) / 1e9 : -1;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	struct th_daemon_proc d;
	if (th_daemon_prepare(&d) < 0) {
		fprintf(stderr, "bench_replay: cannot prepare a daemon directory\n");
		return 1;
	}
	char dir[PATH_MAX + 64], path[PATH_MAX + 96];
	snprintf(dir, sizeof(dir), "%s/sessions/00112233445566778899aabbccddeeff", d.state_dir);
	snprintf(path, sizeof(path), "%s/session.conf", dir);
	static const char conf[] = "name = local\ncreated = 1\nrole = host\n";
	struct lf_config lc = { .authors = BENCH_REPLAY_AUTHORS, .entries = BENCH_REPLAY_ENTRIES,
				.payload_len = BENCH_REPLAY_PAYLOAD };
	uint64_t bytes = 0;
	int r;
	if ((r = th_mkdir_p(dir, 0700)) < 0 || (r = th_file_replace(path, conf, sizeof(conf) - 1, 0600)) < 0) {
		fprintf(stderr, "bench_replay: cannot write %s: %d\n", path, r);
		th_daemon_cleanup(&d);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/log", dir);
	if ((r = lf_fill(path, &lc, &bytes)) < 0) {
		fprintf(stderr, "bench_replay: cannot fill the log: %d\n", r);
		th_daemon_cleanup(&d);
		return 1;
	}
	const char *args[] = { "--port", "0", NULL };
	if (th_daemon_spawn(&d, args, NULL, NULL, 0) < 0 || th_daemon_wait_notify(&d, "READY=1", 60000) < 0) {
		fprintf(stderr, "bench_replay: the daemon did not start: %s\n", th_daemon_log(&d));
		th_daemon_cleanup(&d);
		return 1;
	}
	struct seen s = { 0 };
	struct link_config cfg = { .runtime_dir = d.runtime_dir, .name = "bench-replay", .mode = PROTO_IPC_MODE_HEADLESS,
				   .cb = { .on_event = on_event }, .user_data = &s };
	struct link *l = NULL;
	int rc = 1;
	if (link_create(&cfg, &l) < 0 || link_wait_active(l, 30000, false) < 0) {
		fprintf(stderr, "bench_replay: the link did not connect\n");
		goto out;
	}
	double full = drain_until(l, &s, BENCH_REPLAY_ENTRIES);
	if (full < 0 || s.out_of_order) {
		fprintf(stderr, "bench_replay: %" PRIu64 " of %u events, %" PRIu64 " out of order\n", s.n,
			BENCH_REPLAY_ENTRIES, s.out_of_order);
		goto out;
	}
	printf("# %u entries (%.1f MiB of records) replayed to one client in %.2f s\n", BENCH_REPLAY_ENTRIES,
	       (double)bytes / (1 << 20), full);
	th_bench_figure("ipc_replay_100k_s", full, "s");
	th_bench_figure("ipc_replay_events_per_s", BENCH_REPLAY_ENTRIES / full, "events/s");
	th_bench_figure("ipc_replay_mib_per_s", (double)bytes / (1 << 20) / full, "MiB/s");

	/* The client comes back having the first nine tenths. */
	s.n = BENCH_REPLAY_ENTRIES - BENCH_REPLAY_ENTRIES / 10;
	l->next_pos = s.n;
	shutdown(l->sock, SHUT_RDWR);
	double tail = drain_until(l, &s, BENCH_REPLAY_ENTRIES);
	if (tail < 0 || s.out_of_order) {
		fprintf(stderr, "bench_replay: resume got %" PRIu64 " of %u\n", s.n, BENCH_REPLAY_ENTRIES);
		goto out;
	}
	th_bench_figure("ipc_resume_10k_after_reconnect_s", tail, "s");
	rc = 0;
out:
	link_destroy(&l);
	th_daemon_cleanup(&d);
	return rc;
}
