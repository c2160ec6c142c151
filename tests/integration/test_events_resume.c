/* Events carry the entry's durable position, and a client resumes from it:
 * a theta-client link (in this process) against a real thetad sees every
 * log entry exactly once, in position order, while it is too slow to read
 * (the daemon falls back to replaying from the log as the ring drains),
 * across a restart of the daemon and across its own reconnect, with entries
 * made while it was away. Edits come from real theta-client processes.
 * Waits poll conditions with generous deadlines; nothing asserts a timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app/transport.h"
#include "link/internal.h"
#include "link/link.h"
#include "th_harness.h"
#include "th_link.h"
#include "th_logrec.h"
#include "th_time.h"

#define WAIT_MS 60000
#define MAX_SEEN 4096

static char out[65536], err[65536];

/* What the link delivered, checked as it arrives. */
struct seen {
	uint64_t n;            /* log entry events delivered */
	uint64_t out_of_order; /* a position other than the next one */
	uint64_t mismatched;   /* lamport/author beside the payload disagree with it */
	uint64_t lamport[MAX_SEEN];
	uint64_t resyncs;
	uint64_t sessions; /* answers that started another stream */
};

static void on_log_event(void *user_data, struct sim_world *w, const struct proto_ipc_event *e)
{
	struct seen *s = user_data;
	struct th_logrec_entry entry;
	int why;
	if (e->kind != PROTO_IPC_EVENT_LOG_ENTRY)
		return;
	if (e->pos != s->n)
		s->out_of_order++;
	if (th_logrec_decode(e->payload, e->payload_len, &entry, &why) < 0 || entry.lamport != e->lamport ||
	    memcmp(entry.author, e->author, PROTO_IPC_KEY_LEN))
		s->mismatched++;
	if (s->n < MAX_SEEN)
		s->lamport[s->n] = e->lamport;
	s->n++;
}

static void on_resync(void *user_data, struct sim_world *w, const struct proto_ipc_resync_request *m)
{
	struct seen *s = user_data;
	s->resyncs++;
	if (m->reason == PROTO_IPC_RESYNC_SESSION || m->next_pos < s->n) {
		/* Another session's log (or a shorter one) follows: what the
		 * owner had is not in it. */
		s->sessions++;
		s->n = m->next_pos;
	}
}

static int teardown(void **state)
{
	th_daemon_slot_release();
	return 0;
}

static void step_until(struct link *l, const struct seen *s, uint64_t want)
{
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (s->n < want && th_now_ns() < end) {
		th_link_step(l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	if (s->n != want)
		print_message("delivered %llu of %llu: %s\n", (unsigned long long)s->n, (unsigned long long)want,
			      link_last_error(l));
	assert_int_equal(s->n, want);
}

/* n signed, acknowledged edits from a theta-client process. */
static void edits(struct th_daemon_proc *d, const char *n)
{
	const char *argv[] = { th_bin("theta-client"), "--runtime-dir", d->runtime_dir, "--headless", "--renderer", "null", "--no-pacing",
			       "--require-daemon", "--edits", n, NULL };
	int rc = th_run(argv, NULL, -1, out, sizeof(out), err, sizeof(err), WAIT_MS);
	if (rc != 0)
		print_message("theta-client --edits %s: exit %d: %s\n", n, rc, err);
	assert_int_equal(rc, 0);
}

/* The log as thetactl lists it, page after page: entry count and, in
 * position order, lamports. */
static uint64_t log_lamports(struct th_daemon_proc *d, uint64_t *lamport, uint64_t max)
{
	uint64_t n = 0;
	for (;;) {
		char since[32];
		snprintf(since, sizeof(since), "%llu", (unsigned long long)n);
		const char *args[] = { "log", "--since", since, "--max", "100", "--json", NULL };
		assert_int_equal(th_ctl(d, args, out, sizeof(out), err, sizeof(err)), 0);
		struct json_object *o = json_tokener_parse(out), *arr, *v;
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "entries", &arr));
		uint64_t k = json_object_array_length(arr);
		for (uint64_t i = 0; i < k; i++) {
			struct json_object *e = json_object_array_get_idx(arr, i);
			assert_true(json_object_object_get_ex(e, "pos", &v));
			assert_int_equal(json_object_get_uint64(v), n);
			assert_true(json_object_object_get_ex(e, "lamport", &v));
			if (n < max)
				lamport[n] = json_object_get_uint64(v);
			n++;
		}
		assert_true(json_object_object_get_ex(o, "next_pos", &v));
		assert_int_equal(json_object_get_uint64(v), n);
		json_object_put(o);
		if (k == 0)
			return n;
	}
}

static void every_event_once_in_position_order_across_restarts_and_reconnects(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	const char *args[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, args), 0);
	edits(d, "100"); /* before the link exists: it gets them from the log */

	struct seen s = { 0 };
	struct link_config cfg = { .runtime_dir = d->runtime_dir, .name = "resume-test", .mode = PROTO_IPC_MODE_HEADLESS,
				   .cb = { .on_event = on_log_event, .on_resync = on_resync }, .user_data = &s };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	step_until(l, &s, 100);
	assert_int_equal(th_daemon_metric(d, "sess_replayed_events"), 100);

	/* A reader too slow for 850 live events (more than its ring holds):
	 * the rest is replayed from the log once it reads again. (Both runs
	 * together stay within one author's burst of 1000.) */
	edits(d, "850");
	step_until(l, &s, 950);
	assert_true(th_daemon_metric(d, "sess_replayed_events") > 100);
	uint64_t session = link_session(l);
	assert_true(session != 0);

	/* The daemon restarts; entries are made before the link notices. */
	int st;
	assert_int_equal(th_daemon_stop(d, SIGTERM, WAIT_MS, &st), 0);
	assert_int_equal(th_daemon_respawn(d, args, NULL, WAIT_MS), 0);
	edits(d, "300");
	step_until(l, &s, 1250);
	assert_true(link_get_stats(l)->reconnects >= 1);
	assert_int_equal(link_session(l), session);

	/* The link itself loses the connection; entries meanwhile. */
	uint64_t reconnects = link_get_stats(l)->reconnects;
	assert_int_equal(shutdown(l->sock, SHUT_RDWR), 0);
	edits(d, "300");
	step_until(l, &s, 1550);
	assert_true(link_get_stats(l)->reconnects > reconnects);

	/* Nothing more comes; what came is the log, in its order. */
	for (int i = 0; i < 200; i++)
		th_link_step(l);
	assert_int_equal(s.n, 1550);
	assert_int_equal(s.out_of_order, 0);
	assert_int_equal(s.mismatched, 0);
	assert_int_equal(link_next_pos(l), 1550);
	assert_true(s.resyncs >= 3); /* one answer per connection */
	static uint64_t lamports[MAX_SEEN];
	assert_int_equal(log_lamports(d, lamports, MAX_SEEN), 1550);
	assert_memory_equal(lamports, s.lamport, 1550 * sizeof(uint64_t));
	const struct link_stats *ls = link_get_stats(l);
	print_message("events %llu, stale %llu, gaps %llu, reconnects %llu\n", (unsigned long long)ls->log_events,
		      (unsigned long long)ls->events_stale, (unsigned long long)ls->events_gaps,
		      (unsigned long long)ls->reconnects);
	assert_int_equal(ls->events_gaps, 0);
	link_destroy(&l);
}

/* The daemon switches sessions: its clients get the new session's log from
 * position 0, and the old one's again when it switches back. */
static void a_session_switch_restarts_the_stream_at_the_new_sessions_start(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	const char *args[] = { "--port", "0", NULL };
	assert_int_equal(th_daemon_start(d, args), 0);
	edits(d, "3");
	struct seen s = { 0 };
	struct link_config cfg = { .runtime_dir = d->runtime_dir, .name = "switch-test", .mode = PROTO_IPC_MODE_HEADLESS,
				   .cb = { .on_event = on_log_event, .on_resync = on_resync }, .user_data = &s };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	step_until(l, &s, 3);
	uint64_t local = link_session(l);

	const char *host[] = { "session", "host", "--name", "studio", NULL };
	assert_int_equal(th_ctl(d, host, out, sizeof(out), err, sizeof(err)), 0);
	edits(d, "4");
	step_until(l, &s, 4); /* positions 0..3 of studio */
	assert_int_equal(s.sessions, 1);
	assert_true(link_session(l) != local);
	assert_int_equal(link_next_pos(l), 4);

	const char *leave[] = { "session", "leave", NULL };
	assert_int_equal(th_ctl(d, leave, out, sizeof(out), err, sizeof(err)), 0);
	uint64_t end = th_now_ns() + (uint64_t)WAIT_MS * TH_NS_PER_MS;
	while (s.sessions < 2 && th_now_ns() < end) {
		th_link_step(l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	assert_int_equal(s.sessions, 2);
	step_until(l, &s, 3); /* local's three again */
	assert_int_equal(link_session(l), local);
	assert_int_equal(s.out_of_order, 0);
	assert_int_equal(s.mismatched, 0);
	assert_int_equal(link_get_stats(l)->events_gaps, 0);
	link_destroy(&l);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(every_event_once_in_position_order_across_restarts_and_reconnects, teardown),
		cmocka_unit_test_teardown(a_session_switch_restarts_the_stream_at_the_new_sessions_start, teardown),
	};
	return cmocka_run_group_tests_name("events_resume", tests, NULL, NULL);
}
