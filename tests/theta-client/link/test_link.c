/* theta-client/link: the client's daemon link.
 *
 * Group "daemon": in-process against a real thetad started by the harness:
 * connect, ping/pong, commands rejected (no session is open yet), commands
 * queued while the daemon is absent, pose coalescing under backpressure
 * (daemon stopped), protocol hash refusal, reconnect after SIGKILL and
 * restart with resend of unanswered commands, a client killed mid-record.
 *
 * Group "hostile": a fake daemon in this process sends welcomes and ring
 * records that break the rules; the link must refuse each one, count it,
 * leak nothing and carry on. Backoff is checked in simulated time. INPUT_INFO
 * and SESSION_INFO against the fake too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/loop.h"
#include "ipc.h"
#include "link/internal.h"
#include "link/link.h"
#include "th_buf.h"
#include "th_err.h"
#include "th_fdpass.h"
#include "th_harness.h"
#include "th_link.h"
#include "th_logrec.h"
#include "th_ring.h"
#include "th_shm.h"
#include "th_time.h"

#define WAIT_MS 15000 /* generous: a loaded 2-core machine */
static const char *const daemon_args[] = { "--port", "0", NULL };

/* ---- helpers ------------------------------------------------------------- */


struct events {
	int n[LINK_EV_FATAL + 1];
	char last[LINK_ERROR_MAX];
	int log_entries;       /* EVENT(LOG_ENTRY) whose payload decodes as a log entry */
	uint16_t entry_type;   /* of the latest */
	uint64_t entry_lamport;
};

static void on_log_event(void *user_data, struct sim_world *w, const struct proto_ipc_event *e)
{
	struct events *ev = user_data;
	struct th_logrec_entry entry;
	int why;
	if (e->kind == PROTO_IPC_EVENT_LOG_ENTRY && th_logrec_decode(e->payload, e->payload_len, &entry, &why) >= 0) {
		ev->log_entries++;
		ev->entry_type = entry.type;
		ev->entry_lamport = entry.lamport;
	}
}

static void on_event(void *user_data, enum link_event ev, const char *msg)
{
	struct events *e = user_data;
	e->n[ev]++;
	snprintf(e->last, sizeof e->last, "%s", msg);
}

static struct link *make_link(const char *runtime_dir, struct events *ev, uint64_t hash_xor)
{
	struct link_config cfg = { .runtime_dir = runtime_dir, .name = "test-link", .mode = PROTO_IPC_MODE_HEADLESS,
				   .test_hash_xor = hash_xor, .cb = { .event = on_event, .on_event = on_log_event },
				   .user_data = ev };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	return l;
}

#define WAIT_FOR(l, cond) TH_LINK_WAIT_FOR(l, cond, WAIT_MS)

/* n commands of a type no daemon knows (rejected, never logged). */
#define TYPE_UNKNOWN 0xffffu
static int submit(struct link *l, uint32_t n, uint8_t tag)
{
	struct app_command cmds[8];
	uint8_t payload[8][4];
	assert_true(n <= 8);
	for (uint32_t i = 0; i < n; i++) {
		memset(payload[i], tag + (uint8_t)i, sizeof payload[i]);
		cmds[i] = (struct app_command){ .type = TYPE_UNKNOWN, .len = sizeof payload[i], .payload = payload[i] };
	}
	struct app_outgoing o = { .ncommands = n, .commands = cmds };
	return app_transport_publish(link_transport(l), &o, th_now_ns());
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The daemon's `clients` list (as root: every client). */
static struct json_object *daemon_clients(struct th_daemon_proc *d)
{
	static char out[65536], err[4096];
	const char *args[] = { "clients", "--json", NULL };
	assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out), *list;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "clients", &list));
	json_object_get(list);
	json_object_put(o);
	return list;
}

static int nclients(struct th_daemon_proc *d)
{
	struct json_object *l = daemon_clients(d);
	int n = (int)json_object_array_length(l);
	json_object_put(l);
	return n;
}

static void wait_nclients(struct th_daemon_proc *d, int want)
{
	uint64_t end = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	int n;
	while ((n = nclients(d)) != want && th_now_ns() < end)
		th_sleep_ns(20 * TH_NS_PER_MS);
	assert_int_equal(n, want);
}

/* Starts thetad again on the same state and runtime directories. */
static void daemon_restart(struct th_daemon_proc *d)
{
	assert_int_equal(th_daemon_respawn(d, daemon_args, NULL, WAIT_MS), 0);
}

/* ---- against a real daemon ----------------------------------------------- */

static void connects_and_answers_ping(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	const struct link_stats *st = link_get_stats(l);
	assert_int_equal(link_get_state(l), LINK_ACTIVE);
	assert_int_equal(st->connects, 1);
	assert_int_equal(st->reconnects, 0);
	assert_int_equal(st->uid, getuid());
	assert_true(st->client_id >= 1);
	assert_int_equal(ev.n[LINK_EV_CONNECTED], 1);

	uint64_t pongs = st->pongs;
	assert_int_equal(link_ping(l, th_now_ns()), 0);
	WAIT_FOR(l, st->pongs > pongs);
	assert_true(st->rx_records >= 1);
	assert_int_equal(st->violations, 0);

	/* The daemon lists us: our pid, our uid, the name from the hello. */
	struct json_object *list = daemon_clients(d), *c, *v;
	assert_int_equal(json_object_array_length(list), 1);
	c = json_object_array_get_idx(list, 0);
	assert_true(json_object_object_get_ex(c, "pid", &v));
	assert_int_equal(json_object_get_int(v), getpid());
	assert_true(json_object_object_get_ex(c, "uid", &v));
	assert_int_equal(json_object_get_int64(v), getuid());
	assert_true(json_object_object_get_ex(c, "name", &v));
	assert_string_equal(json_object_get_string(v), "test-link");
	json_object_put(list);

	/* Closing the link is a hang-up the daemon notices. */
	link_destroy(&l);
	assert_null(l);
	wait_nclients(d, 0);
	th_daemon_slot_release();
}

/* The daemon answers every command exactly once: a valid one is acked
 * with its place in the session's log (the daemon opens a "local" session
 * at start), an unknown type is rejected with a reason. */
static void commands_are_answered_and_leave_the_queue(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	const struct link_stats *st = link_get_stats(l);

	/* annotation.add (0x0040): u16 length + UTF-8 text, scoped to an entity. */
	uint8_t note[2 + 5];
	th_put_le16(note, 5);
	memcpy(note + 2, "hello", 5);
	struct app_command good = { .type = 0x0040, .scope = 77, .len = sizeof note, .payload = note };
	struct app_outgoing o = { .ncommands = 1, .commands = &good };
	uint64_t first = link_next_seq(l);
	assert_int_equal(app_transport_publish(link_transport(l), &o, th_now_ns()), 0);
	WAIT_FOR(l, st->acks + st->rejects == 1);
	if (st->rejects)
		print_message("annotation rejected: %s\n", st->last_reject_detail);
	assert_int_equal(st->acks, 1);
	assert_true(st->last_ack_lamport >= 1);
	static char out[65536], err[4096];
	const char *args[] = { "log", "--json", NULL };
	assert_int_equal(th_ctl(d, args, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "annotation.add"));
	/* The durable entry comes back to the session's clients as an EVENT. */
	WAIT_FOR(l, ev.log_entries >= 1);
	assert_int_equal(ev.entry_type, 0x0040);
	assert_int_equal(ev.entry_lamport, st->last_ack_lamport);

	assert_int_equal(submit(l, 3, 0x10), 0);
	assert_int_equal(st->cmds_submitted, 4);
	assert_int_equal(link_next_seq(l), first + 4);
	WAIT_FOR(l, st->acks + st->rejects == 4);
	assert_int_equal(st->acks, 1);
	assert_int_equal(st->rejects, 3);
	assert_int_equal(st->last_reject_reason, PROTO_IPC_REJECT_UNKNOWN_TYPE);
	assert_non_null(strstr(st->last_reject_detail, "unknown command type"));
	assert_int_equal(link_pending_commands(l), 0);
	assert_int_equal(st->stray_replies, 0);
	assert_int_equal(st->cmds_sent, 4);

	/* A command too large for the wire is refused locally (counted, not
	 * offered again); the others of the frame go. */
	static uint8_t big[PROTO_IPC_MAX_PAYLOAD + 1];
	uint8_t small[2] = { 1, 2 };
	struct app_command cmds[2] = { { .type = TYPE_UNKNOWN, .len = sizeof big, .payload = big },
				       { .type = TYPE_UNKNOWN, .len = sizeof small, .payload = small } };
	struct app_outgoing o2 = { .ncommands = 2, .commands = cmds };
	assert_int_equal(app_transport_publish(link_transport(l), &o2, th_now_ns()), 0);
	assert_int_equal(st->cmds_invalid, 1);
	WAIT_FOR(l, st->rejects == 4);
	assert_int_equal(link_pending_commands(l), 0);
	link_destroy(&l);
	th_daemon_slot_release();
}

/* The daemon is not running when the client starts: attempts fail (said
 * once), frames go on, commands wait; the daemon comes; all is delivered. */
static void waits_for_a_daemon_that_is_not_running_yet(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_prepare(d), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	const struct link_stats *st = link_get_stats(l);
	assert_int_equal(link_wait_active(l, WAIT_MS, true), -ENOENT);
	assert_int_equal(submit(l, 2, 0x20), 0);
	uint64_t end = th_now_ns() + 300 * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		th_link_step(l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_true(st->attempts >= 2);
	assert_int_equal(ev.n[LINK_EV_UNREACHABLE], 1); /* said once, not per attempt */
	assert_non_null(strstr(ev.last, link_socket_path(l)));
	assert_int_equal(link_pending_commands(l), 2);
	assert_int_equal(st->cmds_sent, 0);

	assert_int_equal(th_daemon_spawn(d, daemon_args, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(d, "READY=1", WAIT_MS), 0);
	WAIT_FOR(l, st->rejects == 2);
	assert_int_equal(st->connects, 1);
	assert_int_equal(st->reconnects, 0); /* a first connection, not a re-connection */
	assert_int_equal(link_pending_commands(l), 0);
	link_destroy(&l);
	th_daemon_slot_release();
}

/* The daemon stops reading (SIGSTOP): the ring fills; poses are coalesced
 * (the newest wins, older unsent ones are dropped and counted), commands
 * wait and all arrive once the daemon reads again. */
static void poses_coalesce_and_commands_wait_under_backpressure(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	const struct link_stats *st = link_get_stats(l);
	assert_int_equal(kill(d->pid, SIGSTOP), 0);

	const unsigned frames = 4000; /* 3 x 56-byte records each: far more than the 256 KiB ring */
	struct app_transport *t = link_transport(l);
	for (unsigned f = 0; f < frames; f++) {
		struct app_outgoing o = { .frame = f, .has_pose = true };
		o.pose.head_position[0] = (float)f;
		o.pose.head_rotation[3] = o.pose.left_rotation[3] = o.pose.right_rotation[3] = 1;
		o.pose.valid = 7;
		assert_int_equal(app_transport_publish(t, &o, th_now_ns()), 0);
	}
	assert_true(st->poses_sent < 3ull * frames);
	assert_true(st->drops > 0);
	unsigned waiting = l->pose_pending[0] + l->pose_pending[1] + l->pose_pending[2];
	assert_int_equal(st->poses_sent + st->drops + waiting, 3ull * frames); /* each pose: sent, replaced or waiting */
	/* The newest pose is the one waiting. */
	assert_true(l->pose_pending[0]);
	assert_true(l->pose[0].px == (float)(frames - 1));

	uint64_t sent = st->cmds_sent;
	assert_int_equal(submit(l, 5, 0x30), 0);
	assert_int_equal(st->cmds_sent, sent); /* no room: queued, not dropped */
	assert_int_equal(link_pending_commands(l), 5);

	assert_int_equal(kill(d->pid, SIGCONT), 0);
	WAIT_FOR(l, st->rejects == 5);
	assert_int_equal(link_pending_commands(l), 0);
	WAIT_FOR(l, !l->pose_pending[0]);
	assert_int_equal(link_get_state(l), LINK_ACTIVE);
	assert_int_equal(st->losses, 0);
	print_message("backpressure: %" PRIu64 " poses sent, %" PRIu64 " coalesced\n", st->poses_sent, st->drops);
	link_destroy(&l);
	th_daemon_slot_release();
}

static void protocol_hash_mismatch_is_refused_with_both_hashes(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	const uint64_t x = 0x5a5a000000000001ull;
	struct link *l = make_link(d->runtime_dir, &ev, x);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), -TH_EPROTOHASH);
	assert_int_equal(link_get_state(l), LINK_FATAL);
	assert_int_equal(ev.n[LINK_EV_FATAL], 1);
	assert_int_equal(link_get_stats(l)->refusals, 1);
	char ours[17], theirs[17];
	snprintf(ours, sizeof ours, "%016" PRIx64, proto_ipc_hash() ^ x);
	snprintf(theirs, sizeof theirs, "%016" PRIx64, proto_ipc_hash());
	const char *msg = link_last_error(l);
	assert_non_null(strstr(msg, ours));
	assert_non_null(strstr(msg, theirs));
	assert_non_null(strstr(msg, "protocol mismatch"));
	assert_null(strchr(msg, '\n'));
	/* A refused link stays down: no retry loop against an incompatible daemon. */
	uint64_t attempts = link_get_stats(l)->attempts;
	for (int i = 0; i < 50; i++) {
		th_link_step(l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	assert_int_equal(link_get_stats(l)->attempts, attempts);
	/* The daemon counted the refusal and holds no client for it. */
	assert_int_equal(th_daemon_metric(d, "ipc_refused"), 1);
	wait_nclients(d, 0);
	link_destroy(&l);
	th_daemon_slot_release();
}

/* kill -9 of thetad while the frame loop runs: frames go on, the link
 * notices the hang-up, reconnects with backoff to the restarted daemon and
 * resends the commands the dead daemon never answered. */
static void reconnects_after_daemon_sigkill_and_resends(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	const struct link_stats *st = link_get_stats(l);
	struct app *a;
	assert_int_equal(app_create(&(struct app_config){ .no_pacing = true, .threads = 1 }, &a), 0);
	assert_int_equal(app_attach(a, NULL, link_transport(l), NULL), 0); /* the app owns the link now */
#define STEP_UNTIL(cond)                                                              \
	do {                                                                          \
		uint64_t end_ = th_now_ns() + WAIT_MS * TH_NS_PER_MS;                 \
		while (!(cond) && th_now_ns() < end_) {                               \
			assert_int_equal(app_step(a), 0);                             \
			th_sleep_ns(TH_NS_PER_MS);                                    \
		}                                                                     \
		assert_true(cond);                                                    \
	} while (0)
	STEP_UNTIL(link_get_state(l) == LINK_ACTIVE);
	/* Commands the daemon takes but never answers: it is stopped, then killed. */
	assert_int_equal(kill(d->pid, SIGSTOP), 0);
	assert_int_equal(submit(l, 2, 0x40), 0);
	assert_int_equal(st->cmds_sent, 2);
	int status;
	assert_int_equal(th_daemon_stop(d, SIGKILL, WAIT_MS, &status), 0);
	uint64_t frames_at_kill = app_frames(a);
	STEP_UNTIL(link_get_state(l) != LINK_ACTIVE);
	assert_int_equal(ev.n[LINK_EV_LOST], 1);
	assert_int_equal(st->losses, 1);
	/* Down: frames keep running, new commands queue. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(app_step(a), 0);
		th_sleep_ns(TH_NS_PER_MS);
	}
	assert_int_equal(submit(l, 1, 0x50), 0);
	assert_int_equal(link_pending_commands(l), 3);
	assert_int_equal(ev.n[LINK_EV_LOST], 1); /* the outage is reported once */
	assert_int_equal(ev.n[LINK_EV_UNREACHABLE], 0);

	daemon_restart(d);
	STEP_UNTIL(st->rejects == 3);
	assert_int_equal(st->reconnects, 1);
	assert_int_equal(st->connects, 2);
	assert_int_equal(st->cmds_resent, 2);
	assert_int_equal(link_pending_commands(l), 0);
	assert_int_equal(ev.n[LINK_EV_CONNECTED], 2);
	assert_true(app_frames(a) > frames_at_kill + 100);
	assert_int_equal(nclients(d), 1);
	app_destroy(&a); /* destroys the link */
	wait_nclients(d, 0);
	th_daemon_slot_release();
#undef STEP_UNTIL
}

/* A client process dies with a record reserved and half written: the
 * daemon notices the hang-up, frees the client and goes on serving others
 * (an unpublished record is not a violation). */
static void client_killed_mid_record_is_freed(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	long long conns = th_daemon_metric(d, "ipc_connections");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct link *l;
		struct link_config cfg = { .runtime_dir = d->runtime_dir, .name = "doomed" };
		if (link_create(&cfg, &l) < 0 || link_wait_active(l, WAIT_MS, false) < 0)
			_exit(3);
		uint8_t *p;
		if (th_ring_reserve(&l->out, PROTO_IPC_T_CMD_SUBMIT, 4096, &p) < 0)
			_exit(4);
		memset(p, 0xab, 2000); /* mid-record: never committed */
		raise(SIGKILL);
		_exit(5);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(th_daemon_metric(d, "ipc_connections"), conns + 1);
	wait_nclients(d, 0);
	assert_int_equal(th_daemon_metric(d, "ipc_clients"), 0);
	/* The daemon serves the next client as if nothing happened. */
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	assert_int_equal(link_ping(l, th_now_ns()), 0);
	WAIT_FOR(l, link_get_stats(l)->pongs >= 1);
	assert_int_equal(th_daemon_metric(d, "ipc_protocol_violations"), 0);
	link_destroy(&l);
	assert_true(th_daemon_alive(d));
	th_daemon_slot_release();
}

/* A broken daemon->client ring (a hostile or buggy daemon scribbling its
 * head index): the link drops the mapping, counts it, reconnects. */
static void broken_ring_drops_the_mapping_and_reconnects(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	const struct link_stats *st = link_get_stats(l);
	/* Scribble over the daemon's head of the daemon->client ring. */
	uint64_t bogus = 0xdeadbeefdeadbee8ull;
	memcpy(l->in.region + TH_RING_OFF_HEAD, &bogus, sizeof bogus);
	assert_int_equal(app_transport_drain(link_transport(l), NULL, th_now_ns()), -EPROTO);
	assert_int_equal(st->violations, 1);
	assert_int_equal(ev.n[LINK_EV_LOST], 1);
	assert_null(l->shm.base);
	WAIT_FOR(l, link_get_state(l) == LINK_ACTIVE);
	assert_int_equal(st->reconnects, 1);
	wait_nclients(d, 1); /* the old connection was freed */
	link_destroy(&l);
	th_daemon_slot_release();
}

/* A second process (same user: it can open our memfd through /proc) writes
 * random words all over the daemon->client ring while the frame loop runs.
 * The link must not crash or read outside the mapping: it sees a broken
 * ring (or the daemon drops it for a garbled tail), loses the link and
 * reconnects with a fresh memfd that the scribbler does not have. */
static void scribbler_process_cannot_crash_the_link(void **state)
{
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, daemon_args), 0);
	struct events ev = { 0 };
	struct link *l = make_link(d->runtime_dir, &ev, 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	const struct link_stats *st = link_get_stats(l);
	int memfd = l->shm.fd;
	size_t size = l->shm.size, off = (size_t)(l->in.region - (uint8_t *)l->shm.base);
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/fd/%d", (int)parent, memfd);
		int fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(2);
		uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(3);
		uint64_t x = 88172645463325252ull;
		for (;;) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t at = (off + x % (size - off - 8)) & ~(size_t)7;
			memcpy(m + at, &x, sizeof x);
		}
	}
	uint64_t end = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	while (st->losses == 0 && th_now_ns() < end) {
		th_link_step(l);
		link_ping(l, th_now_ns()); /* keep records flowing both ways */
		th_sleep_ns(100 * TH_NS_PER_US);
	}
	kill(pid, SIGKILL);
	int wst;
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFSIGNALED(wst)); /* it was scribbling, not failing to start */
	print_message("scribbler: %" PRIu64 " violations seen by the link, %" PRIu64 " losses\n", st->violations,
		      st->losses);
	assert_true(st->losses >= 1);
	WAIT_FOR(l, link_get_state(l) == LINK_ACTIVE);
	uint64_t pongs = st->pongs;
	assert_int_equal(link_ping(l, th_now_ns()), 0);
	WAIT_FOR(l, st->pongs > pongs);
	assert_true(th_daemon_alive(d));
	link_destroy(&l);
	th_daemon_slot_release();
}

/* ---- a fake, hostile daemon ---------------------------------------------- */

#include "link_fake.h"

enum mutation {
	M_NONE,
	M_NO_FDS,
	M_PIPES,
	M_UNSEALED,
	M_SIZE_LIE,
	M_OFFSET_OUTSIDE,
	M_OVERLAP,
	M_HEADER_DISAGREES,
	M_SMALL_MAX_RECORD,
	M_GARBAGE,
	M_OTHER_HASH,
	M_HELLO_BACK,
	M_VOICE_OUTSIDE,
	M_VOICE_OVERLAP,
	M_VOICE_SMALL_RECORD,
	M_VOICE_HUGE_RECORD,
	M_COUNT
};

static const char *const mutation_name[M_COUNT] = {
	"valid", "no descriptors", "pipes instead of eventfds", "unsealed memfd", "size lie",
	"ring outside the memfd", "overlapping rings", "ring header disagrees", "max_record too small",
	"garbage datagram", "welcome with another hash", "a HELLO back",
	"voice ring outside the memfd", "voice ring over the main ring", "voice max_record too small for a chunk",
	"voice max_record larger than a chunk",
};

static void hostile_welcomes_are_refused_without_leaks(void **state)
{
	for (int m = 0; m < M_COUNT; m++) {
		struct fake f;
		fake_start(&f);
		int fds_before = count_fds();
		struct events ev = { 0 };
		struct link *l = make_link(f.dir, &ev, 0);
		uint64_t now = 1000 * TH_NS_PER_S;
		fake_accept(&f, l, now);
		struct proto_ipc_welcome w;
		int fds[3];
		fake_welcome(&f, &w, fds);
		int extra[3] = { -1, -1, -1 };
		switch ((enum mutation)m) {
		case M_NONE:
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_NO_FDS:
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, NULL, 0);
			break;
		case M_PIPES: {
			int p[2];
			assert_int_equal(pipe2(p, O_CLOEXEC), 0);
			extra[0] = p[0], extra[1] = p[1];
			int bad[3] = { fds[0], p[0], p[1] };
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, bad, 3);
			break;
		}
		case M_UNSEALED: {
			extra[0] = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
			assert_int_equal(ftruncate(extra[0], (off_t)f.shm.size), 0);
			int bad[3] = { extra[0], fds[1], fds[2] };
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, bad, 3);
			break;
		}
		case M_SIZE_LIE:
			w.shm_size += 4096;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_OFFSET_OUTSIDE:
			w.d2c_offset = (uint32_t)f.shm.size - 512;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_OVERLAP:
			w.d2c_offset = 0;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_HEADER_DISAGREES:
			((uint8_t *)f.shm.base)[f.off2] ^= 0xff; /* not a ring's magic */
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_SMALL_MAX_RECORD: {
			/* A consistent ring whose records are too small for our commands. */
			struct th_ring_geom g = { .capacity = f.g.capacity, .max_record = 1024 };
			assert_int_equal(th_ring_format(f.shm.base, th_ring_region_size(&g), &g), 0);
			w.c2d_max_record = 1024;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		}
		case M_GARBAGE: {
			uint8_t junk[40];
			memset(junk, 0x5c, sizeof junk);
			assert_int_equal(th_fdpass_send(f.conn, junk, sizeof junk, fds, 3), 0);
			break;
		}
		case M_OTHER_HASH: {
			uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
			int n = proto_ipc_sock_encode(PROTO_IPC_T_WELCOME, &w, b, sizeof b);
			th_put_le64(b + 8, th_get_le64(b + 8) ^ 1);
			assert_int_equal(th_fdpass_send(f.conn, b, (size_t)n, fds, 3), 0);
			break;
		}
		case M_HELLO_BACK: {
			struct proto_ipc_hello h = { .pid = 1 };
			uint8_t b[PROTO_IPC_MAX_SOCK_MSG];
			int n = proto_ipc_sock_encode(PROTO_IPC_T_HELLO, &h, b, sizeof b);
			assert_int_equal(th_fdpass_send(f.conn, b, (size_t)n, NULL, 0), 0);
			break;
		}
		case M_VOICE_OUTSIDE:
			w.vd2c_offset = (uint32_t)f.shm.size - 512;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		case M_VOICE_OVERLAP: {
			/* A consistent voice ring header, inside the main d2c ring. */
			assert_int_equal(th_ring_format((uint8_t *)f.shm.base + f.off2 + 4096,
							th_ring_region_size(&f.gv), &f.gv), 0);
			w.vc2d_offset = f.off2 + 4096;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		}
		case M_VOICE_SMALL_RECORD:
		case M_VOICE_HUGE_RECORD: {
			bool small = m == M_VOICE_SMALL_RECORD;
			struct th_ring_geom g = { .capacity = f.gv.capacity,
						  .max_record = small ? PROTO_IPC_MAXSZ_VOICE_PCM - 8 : 8192 };
			uint32_t off = small ? f.voff1 : f.voff2;
			assert_int_equal(th_ring_format((uint8_t *)f.shm.base + off, th_ring_region_size(&g), &g), 0);
			if (small)
				w.vc2d_max_record = g.max_record;
			else
				w.vd2c_max_record = g.max_record;
			fake_send(&f, PROTO_IPC_T_WELCOME, &w, fds, 3);
			break;
		}
		case M_COUNT:
			break;
		}
		th_fd_close_all(extra, 3);
		link_poll(l, now + 1);
		const struct link_stats *st = link_get_stats(l);
		print_message("welcome '%s': state %s, %s\n", mutation_name[m], link_state_name(link_get_state(l)),
			      link_last_error(l));
		if (m == M_NONE) {
			assert_int_equal(link_get_state(l), LINK_ACTIVE);
			assert_int_equal(st->violations, 0);
			assert_int_equal(st->client_id, 42);
			/* The link's first records: CLIENT_INFO, then a PING. */
			uint8_t rec[PROTO_IPC_MAX_MSG];
			struct th_ring_rec rr;
			assert_int_equal(th_ring_pop(&f.in, &rr, rec, sizeof rec), 1);
			assert_int_equal(rr.type, PROTO_IPC_T_CLIENT_INFO);
			struct proto_ipc_client_info ci;
			assert_int_equal(proto_ipc_decode_client_info(rec, rr.len, &ci, NULL), 0);
			assert_string_equal(ci.name, "test-link");
			assert_int_equal(ci.pid, getpid());
		} else {
			assert_int_equal(link_get_state(l), LINK_IDLE);
			assert_int_equal(st->violations, 1);
			assert_int_equal(st->connects, 0);
			assert_null(l->shm.base);
			assert_int_equal(l->sock, -1);
			assert_int_equal(ev.n[LINK_EV_UNREACHABLE], 1);
			/* A broken voice ring is refused for what it is. */
			if (m >= M_VOICE_OUTSIDE && m <= M_VOICE_HUGE_RECORD)
				assert_non_null(strstr(link_last_error(l), "voice"));
		}
		link_destroy(&l);
		fake_drop_conn(&f);
		assert_int_equal(count_fds(), fds_before); /* nothing leaked on any path */
		fake_stop(&f);
	}
}

/* After a valid welcome the fake daemon writes records: good ones are
 * handled, stray answers ignored, a record of the wrong direction is a
 * violation that drops the link. */
static void hostile_records_drop_the_link(void **state)
{
	struct fake f;
	fake_start(&f);
	struct events ev = { 0 };
	struct link *l = make_link(f.dir, &ev, 0);
	uint64_t now = 5000 * TH_NS_PER_S;
	fake_connect(&f, l, now);
	const struct link_stats *st = link_get_stats(l);
	struct app_transport *t = link_transport(l);
	uint8_t b[PROTO_IPC_MAX_MSG];
	bool asked = false;
	uint16_t type;
	union proto_ipc_any m;
	while (fake_next(&f, &type, &m)) { /* CLIENT_INFO, RESYNC_REQUEST, PING */
		if (type == PROTO_IPC_T_RESYNC_REQUEST) {
			/* A new link has no events yet: the whole log, please. */
			assert_int_equal(m.resync_request.reason, PROTO_IPC_RESYNC_CLIENT_ASKED);
			assert_int_equal(m.resync_request.session, 0);
			assert_int_equal(m.resync_request.next_pos, 0);
			asked = true;
		}
	}
	assert_true(asked);

	/* A stray ack, a ping to answer, events around the daemon's answer
	 * (where its stream starts), a resync request. */
	struct proto_ipc_cmd_ack ack = { .client_seq = 999 };
	int n = proto_ipc_encode_cmd_ack(&ack, b, sizeof b);
	assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_CMD_ACK, b, (uint32_t)n), 0);
	struct proto_ipc_ping ping = { .seq = 77, .send_ns = 123 };
	n = proto_ipc_encode_ping(&ping, b, sizeof b);
	assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_PING, b, (uint32_t)n), 0);
	static const uint8_t author[PROTO_IPC_KEY_LEN] = { 1 };
	static const uint64_t order[] = { 5, UINT64_MAX, 8, 9, 11 }; /* UINT64_MAX: the answer */
	for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) {
		if (order[i] == UINT64_MAX) {
			struct proto_ipc_resync_request from = { .reason = PROTO_IPC_RESYNC_FROM, .session = 0x77,
								 .next_pos = 9 };
			n = proto_ipc_encode_resync_request(&from, b, sizeof b);
			assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_RESYNC_REQUEST, b, (uint32_t)n), 0);
			continue;
		}
		struct proto_ipc_event e = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = order[i], .lamport = 3,
					     .author = author, .author_len = sizeof author };
		n = proto_ipc_encode_event(&e, b, sizeof b);
		assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_EVENT, b, (uint32_t)n), 0);
	}
	struct proto_ipc_resync_request rs = { .reason = PROTO_IPC_RESYNC_QUEUE_OVERFLOW };
	n = proto_ipc_encode_resync_request(&rs, b, sizeof b);
	assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_RESYNC_REQUEST, b, (uint32_t)n), 0);
	assert_int_equal(th_ring_flush(&f.out), 0);
	assert_int_equal(app_transport_drain(t, NULL, now + 1), 8);
	assert_int_equal(st->stray_replies, 1);
	assert_int_equal(st->events, 4);
	assert_int_equal(st->log_events, 1);   /* position 9 only */
	assert_int_equal(st->events_stale, 2); /* 5 before the answer, 8 below it */
	assert_int_equal(st->events_gaps, 1);  /* 11 after 9 */
	assert_int_equal(st->resync_requests, 2);
	assert_int_equal(link_next_pos(l), 10);
	assert_int_equal(link_session(l), 0x77);
	struct app_outgoing o = { 0 };
	assert_int_equal(app_transport_publish(t, &o, now + 2), 0);
	/* The link answered the ping and asked for the events from 10. */
	bool pong = false, resync = false;
	while (fake_next(&f, &type, &m)) {
		if (type == PROTO_IPC_T_PONG) {
			assert_int_equal(m.pong.seq, 77);
			assert_int_equal(m.pong.send_ns, 123);
			pong = true;
		} else if (type == PROTO_IPC_T_RESYNC_REQUEST) {
			assert_int_equal(m.resync_request.reason, PROTO_IPC_RESYNC_CLIENT_ASKED);
			assert_int_equal(m.resync_request.session, 0x77);
			assert_int_equal(m.resync_request.next_pos, 10);
			resync = true;
		}
	}
	assert_true(pong && resync);
	assert_int_equal(link_get_state(l), LINK_ACTIVE);

	/* A client->daemon-only record coming the other way breaks the protocol. */
	struct proto_ipc_cmd_submit cs = { .client_seq = 1 };
	n = proto_ipc_encode_cmd_submit(&cs, b, sizeof b);
	assert_int_equal(th_ring_push(&f.out, PROTO_IPC_T_CMD_SUBMIT, b, (uint32_t)n), 0);
	assert_int_equal(app_transport_drain(t, NULL, now + 3), -EPROTO);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_int_equal(st->violations, 1);
	assert_int_equal(ev.n[LINK_EV_LOST], 1);
	assert_non_null(strstr(link_last_error(l), "CMD_SUBMIT"));
	fake_drop_conn(&f);

	/* It reconnects after the shortest backoff, not before. */
	link_poll(l, now + 3 + LINK_BACKOFF_MIN_NS - 1);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	fake_connect(&f, l, now + 3 + LINK_BACKOFF_MIN_NS);
	assert_int_equal(st->reconnects, 1);

	/* A malformed record (a PONG two bytes short) breaks it too. */
	struct proto_ipc_pong p = { .seq = 1 };
	n = proto_ipc_encode_pong(&p, b, sizeof b);
	assert_int_equal(th_ring_push(&f.out, PROTO_IPC_T_PONG, b, (uint32_t)n - 2), 0);
	assert_int_equal(app_transport_drain(t, NULL, now + 5 + LINK_BACKOFF_MIN_NS), -EPROTO);
	assert_int_equal(st->violations, 2);

	/* So does a log entry event without its author beside it. */
	fake_drop_conn(&f);
	uint64_t t1 = now + 5 * TH_NS_PER_S;
	fake_connect(&f, l, t1);
	struct proto_ipc_event anon = { .kind = PROTO_IPC_EVENT_LOG_ENTRY, .pos = 0, .lamport = 1 };
	n = proto_ipc_encode_event(&anon, b, sizeof b);
	assert_int_equal(th_ring_push(&f.out, PROTO_IPC_T_EVENT, b, (uint32_t)n), 0);
	assert_int_equal(app_transport_drain(t, NULL, t1 + 1), -EPROTO);
	assert_int_equal(st->violations, 3);
	assert_non_null(strstr(link_last_error(l), "without its author"));

	/* A hang-up (the fake closes) is noticed at the next socket check. */
	uint64_t t2 = now + 10 * TH_NS_PER_S;
	fake_drop_conn(&f);
	fake_connect(&f, l, t2);
	fake_drop_conn(&f);
	link_poll(l, t2 + LINK_SOCK_CHECK_NS);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_int_equal(st->violations, 3); /* a hang-up is not a violation */
	assert_int_equal(st->losses, 4);
	assert_non_null(strstr(link_last_error(l), "hung up"));
	link_destroy(&l);
	fake_stop(&f);
}

/* The INPUT_INFO records the fake daemon finds in the ring (the last into *last). */
static int fake_inputs(struct fake *f, struct proto_ipc_input_info *last)
{
	int n = 0;
	uint16_t type;
	union proto_ipc_any m;
	while (fake_next(f, &type, &m)) {
		if (type == PROTO_IPC_T_INPUT_INFO) {
			*last = m.input_info;
			n++;
		}
	}
	return n;
}

static void fake_session_info(struct fake *f, const struct proto_ipc_session_info *si)
{
	uint8_t b[PROTO_IPC_MAXSZ_SESSION_INFO];
	int n = proto_ipc_encode_session_info(si, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(th_ring_push(&f->out, PROTO_IPC_T_SESSION_INFO, b, (uint32_t)n), 0);
}

struct sinfo_seen {
	int calls;
	struct link_session_info last;
};

static void on_sinfo(void *user_data, const struct link_session_info *si)
{
	struct sinfo_seen *s = user_data;
	s->calls++;
	s->last = *si;
}

/* INPUT_INFO: kept from before the connection, sent after the welcome,
 * again only on change, again on every welcome; bad profiles refused
 * locally. SESSION_INFO: unpacked, kept per connection, told to the owner;
 * fields that contradict each other break the protocol. */
static void input_and_session_info_with_a_fake_daemon(void **state)
{
	struct fake f;
	fake_start(&f);
	struct sinfo_seen seen = { 0 };
	struct link_config cfg = { .runtime_dir = f.dir, .name = "test-link", .mode = PROTO_IPC_MODE_XR,
				   .cb = { .on_session_info = on_sinfo }, .user_data = &seen };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	const struct link_stats *st = link_get_stats(l);
	struct app_transport *t = link_transport(l);
	const char *touch = "/interaction_profiles/oculus/touch_controller";
	const char *index = "/interaction_profiles/valve/index_controller";
	uint64_t now = 5000 * TH_NS_PER_S;
	/* Set before any connection: kept. Bad values change nothing. */
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, touch, index, now), 0);
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_MAX + 1, "", "", now), -EINVAL);
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, "/interaction_profiles/Oculus", "", now), -EINVAL);
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, "oculus/touch_controller", "", now), -EINVAL);
	static char longp[PROTO_IPC_MAX_PROFILE + 2];
	longp[0] = '/';
	memset(longp + 1, 'a', PROTO_IPC_MAX_PROFILE);
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, longp, "", now), -EINVAL);
	struct link_session_info si;
	assert_int_equal(link_session_info(l, &si), -ENODATA);

	fake_connect(&f, l, now);
	struct app_outgoing o = { 0 };
	assert_int_equal(app_transport_publish(t, &o, now + 1), 0);
	struct proto_ipc_input_info in;
	assert_int_equal(fake_inputs(&f, &in), 1);
	assert_int_equal(in.source, PROTO_IPC_INPUT_OPENXR);
	assert_string_equal(in.left, touch);
	assert_string_equal(in.right, index);
	/* The same value every frame sends nothing; a change sends one. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, touch, index, now + 2), 0);
	assert_int_equal(fake_inputs(&f, &in), 0);
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, touch, NULL, now + 3), 0);
	assert_int_equal(fake_inputs(&f, &in), 1);
	assert_string_equal(in.right, "");
	assert_int_equal(st->inputs_sent, 2);

	/* A SESSION_INFO: unpacked for the overlay. */
	assert_int_equal(link_session_info(l, &si), -ENODATA);
	struct proto_ipc_session_info m = { .session = 0x77, .host = PROTO_IPC_SINFO_HOST_REMOTE, .rtt_us = 2500,
					    .peers = 1, .log_pos = 42, .speaking = 3 };
	snprintf(m.name, sizeof m.name, "studio");
	snprintf(m.speakers, sizeof m.speakers, "alice\nbob");
	fake_session_info(&f, &m);
	assert_int_equal(app_transport_drain(t, NULL, now + 4), 1);
	assert_int_equal(link_session_info(l, &si), 0);
	assert_int_equal(si.session, 0x77);
	assert_string_equal(si.name, "studio");
	assert_int_equal(si.host, PROTO_IPC_SINFO_HOST_REMOTE);
	assert_int_equal(si.rtt_us, 2500);
	assert_int_equal(si.peers, 1);
	assert_int_equal(si.log_pos, 42);
	assert_int_equal(si.speaking, 3);
	assert_int_equal(si.nspeakers, 2);
	assert_string_equal(si.speakers[0], "alice");
	assert_string_equal(si.speakers[1], "bob");
	assert_int_equal(si.received_ns, now + 4);
	assert_int_equal(si.seq, 1);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.last.rtt_us, 2500);
	/* Hosted here: RTT 0; a member without its host: unknown (-1). More
	 * names than fit are counted, not kept. */
	m.host = PROTO_IPC_SINFO_HOST_LOCAL;
	m.rtt_us = 0;
	m.speaking = 12;
	char names[PROTO_IPC_MAX_SPEAKERS + 1] = "";
	for (int i = 0; i < 10; i++)
		snprintf(names + strlen(names), sizeof names - strlen(names), "%suser%d", i ? "\n" : "", i);
	snprintf(m.speakers, sizeof m.speakers, "%s", names);
	fake_session_info(&f, &m);
	assert_int_equal(app_transport_drain(t, NULL, now + 5), 1);
	assert_int_equal(link_session_info(l, &si), 0);
	assert_int_equal(si.rtt_us, 0);
	assert_int_equal(si.speaking, 12);
	assert_int_equal(si.nspeakers, LINK_SPEAKERS_MAX);
	assert_string_equal(si.speakers[LINK_SPEAKERS_MAX - 1], "user7");
	m.host = PROTO_IPC_SINFO_HOST_UNKNOWN;
	m.speaking = 0;
	m.speakers[0] = '\0';
	fake_session_info(&f, &m);
	assert_int_equal(app_transport_drain(t, NULL, now + 6), 1);
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.last.rtt_us, -1);
	assert_int_equal(link_session_info(l, &si), 0);
	assert_int_equal(si.rtt_us, -1);
	assert_int_equal(si.seq, 3);
	assert_int_equal(si.nspeakers, 0);
	assert_int_equal(st->session_infos, 3);
	assert_int_equal(st->violations, 0);

	/* Fields that contradict each other: each drops the connection. */
	struct proto_ipc_session_info bad[4] = {
		{ .session = 0x77, .host = PROTO_IPC_SINFO_HOST_LOCAL, .rtt_us = 7 },  /* an RTT to itself */
		{ .session = 0, .host = PROTO_IPC_SINFO_HOST_LOCAL },                 /* a host of no session */
		{ .session = 0x77, .host = PROTO_IPC_SINFO_HOST_LOCAL, .speaking = 1 }, /* two names, one speaker */
		{ .session = 0x77, .host = PROTO_IPC_SINFO_HOST_REMOTE },              /* remote, but no RTT */
	};
	snprintf(bad[2].speakers, sizeof bad[2].speakers, "alice\nbob");
	static const char *const why[4] = { "RTT", "host state", "more speakers", "remote host without an RTT" };
	uint64_t tb = now + 10 * TH_NS_PER_S;
	for (int i = 0; i < 4; i++) {
		if (i) { /* reconnect */
			fake_drop_conn(&f);
			tb += 10 * TH_NS_PER_S;
			fake_connect(&f, l, tb);
			/* A new connection: no SESSION_INFO yet; the input again. */
			assert_int_equal(link_session_info(l, &si), -ENODATA);
			assert_int_equal(app_transport_publish(t, &o, tb + 1), 0);
			assert_int_equal(fake_inputs(&f, &in), 1);
			assert_string_equal(in.left, touch);
			assert_string_equal(in.right, "");
		}
		fake_session_info(&f, &bad[i]);
		assert_int_equal(app_transport_drain(t, NULL, tb + 2), -EPROTO);
		assert_int_equal(link_get_state(l), LINK_IDLE);
		assert_int_equal(st->violations, (uint64_t)i + 1);
		assert_non_null(strstr(link_last_error(l), why[i]));
		assert_int_equal(link_session_info(l, &si), -ENODATA);
	}
	assert_int_equal(seen.calls, 3);
	link_destroy(&l);
	fake_stop(&f);
}

/* The CMD_SUBMITs the fake daemon finds in the ring: seq and nonce of each. */
static int fake_submits(struct fake *f, uint64_t *seq, uint64_t *nonce, int cap)
{
	int n = 0;
	uint16_t type;
	union proto_ipc_any m;
	while (fake_next(f, &type, &m)) {
		if (type != PROTO_IPC_T_CMD_SUBMIT || n == cap)
			continue;
		seq[n] = m.cmd_submit.client_seq;
		nonce[n++] = m.cmd_submit.nonce;
	}
	return n;
}

/* Exactly once needs a stable name for each command: every CMD_SUBMIT has
 * the link's random nonce, and a resend after a reconnect keeps nonce and
 * client_seq (the daemon acks a command it logged before with that id). */
static void resends_keep_their_nonce_and_client_seq(void **state)
{
	struct fake f;
	fake_start(&f);
	struct events ev = { 0 };
	struct link *l = make_link(f.dir, &ev, 0), *other = make_link(f.dir, &ev, 0);
	uint64_t nonce = link_nonce(l);
	assert_true(nonce != 0);
	assert_true(link_nonce(other) != nonce); /* drawn per instance */
	link_destroy(&other);
	uint64_t now = 7000 * TH_NS_PER_S;
	fake_connect(&f, l, now);
	uint8_t payload[3][4] = { { 1 }, { 2 }, { 3 } };
	struct app_command cmds[3];
	for (int i = 0; i < 3; i++)
		cmds[i] = (struct app_command){ .type = TYPE_UNKNOWN, .len = 4, .payload = payload[i] };
	struct app_outgoing o = { .ncommands = 3, .commands = cmds };
	assert_int_equal(app_transport_publish(link_transport(l), &o, now + 1), 0);
	uint64_t seq[8], non[8];
	assert_int_equal(fake_submits(&f, seq, non, 8), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(seq[i], (uint64_t)i + 1);
		assert_int_equal(non[i], nonce);
	}
	/* The first is answered; then the daemon goes away unanswering. */
	uint8_t b[PROTO_IPC_MAX_MSG];
	struct proto_ipc_cmd_ack ack = { .client_seq = 1, .lamport = 10, .log_index = 1 };
	int n = proto_ipc_encode_cmd_ack(&ack, b, sizeof b);
	assert_int_equal(th_ring_send(&f.out, PROTO_IPC_T_CMD_ACK, b, (uint32_t)n), 0);
	assert_int_equal(th_ring_flush(&f.out), 0);
	assert_int_equal(app_transport_drain(link_transport(l), NULL, now + 2), 1);
	fake_drop_conn(&f);
	link_poll(l, now + 2 + LINK_SOCK_CHECK_NS);
	assert_int_equal(link_get_state(l), LINK_IDLE);

	uint64_t t2 = now + 10 * TH_NS_PER_S;
	fake_connect(&f, l, t2);
	struct app_outgoing none = { 0 };
	assert_int_equal(app_transport_publish(link_transport(l), &none, t2 + 1), 0);
	assert_int_equal(fake_submits(&f, seq, non, 8), 2);
	assert_int_equal(seq[0], 2);
	assert_int_equal(seq[1], 3);
	assert_int_equal(non[0], nonce);
	assert_int_equal(non[1], nonce);
	assert_int_equal(link_get_stats(l)->cmds_resent, 2);
	link_destroy(&l);
	fake_stop(&f);
}

/* Backoff in simulated time: 50 ms doubling to 2 s; reset by a welcome. */
static void backoff_doubles_to_its_cap(void **state)
{
	char dir[64] = "/tmp/theta-link-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct events ev = { 0 };
	struct link *l = make_link(dir, &ev, 0);
	const struct link_stats *st = link_get_stats(l);
	uint64_t t = 100 * TH_NS_PER_S;
	link_poll(l, t);
	assert_int_equal(st->attempts, 1);
	uint64_t expect = LINK_BACKOFF_MIN_NS;
	for (int i = 0; i < 9; i++) {
		link_poll(l, t + expect - 1);
		assert_int_equal(st->attempts, (uint64_t)i + 1); /* not yet */
		t += expect;
		link_poll(l, t);
		assert_int_equal(st->attempts, (uint64_t)i + 2);
		expect = expect * 2 > LINK_BACKOFF_MAX_NS ? LINK_BACKOFF_MAX_NS : expect * 2;
	}
	assert_int_equal(expect, LINK_BACKOFF_MAX_NS);
	assert_int_equal(ev.n[LINK_EV_UNREACHABLE], 1);
	link_destroy(&l);
	rmdir(dir);
}

/* A user who is not a member of the daemon's session is refused for good:
 * FATAL with -EACCES and the daemon's sentence, no further attempts; and a
 * running link closed that way reconnects (to be refused, or admitted). */
static void not_a_member_is_fatal_with_the_daemons_sentence(void **state)
{
	struct fake f;
	fake_start(&f);
	struct events ev = { 0 };
	struct link *l = make_link(f.dir, &ev, 0);
	uint64_t now = 9000 * TH_NS_PER_S;
	static const char sentence[] =
		"user bob is not a member of session studio; ask an admin: thetactl session allow bob --role editor";
	/* Connected, then closed by the daemon (the user was denied). */
	fake_connect(&f, l, now);
	struct proto_ipc_refuse r = { .reason = PROTO_IPC_REFUSE_NOT_MEMBER };
	snprintf(r.detail, sizeof r.detail, "%s", sentence);
	fake_send(&f, PROTO_IPC_T_REFUSE, &r, NULL, 0);
	fake_drop_conn(&f);
	now += LINK_SOCK_CHECK_NS;
	link_poll(l, now);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	assert_int_equal(ev.n[LINK_EV_LOST], 1);
	assert_non_null(strstr(link_last_error(l), sentence));
	/* Refused at the hello: for good. */
	now += LINK_BACKOFF_MAX_NS;
	fake_accept(&f, l, now);
	fake_send(&f, PROTO_IPC_T_REFUSE, &r, NULL, 0);
	link_poll(l, now);
	assert_int_equal(link_get_state(l), LINK_FATAL);
	assert_int_equal(ev.n[LINK_EV_FATAL], 1);
	assert_string_equal(ev.last, "thetad refused this client: user bob is not a member of session studio; ask "
				     "an admin: thetactl session allow bob --role editor");
	uint64_t attempts = link_get_stats(l)->attempts;
	link_poll(l, now + 10 * LINK_BACKOFF_MAX_NS);
	assert_int_equal(link_get_stats(l)->attempts, attempts);
	assert_int_equal(link_wait_active(l, 0, true), -EACCES);
	fake_drop_conn(&f);
	link_destroy(&l);
	fake_stop(&f);
}

static void bad_configuration_is_refused(void **state)
{
	struct link *l = NULL;
	assert_int_equal(link_create(&(struct link_config){ 0 }, &l), -EINVAL);
	assert_int_equal(link_create(&(struct link_config){ .runtime_dir = "/tmp", .mode = 9 }, &l), -EINVAL);
	char longdir[200];
	memset(longdir, 'a', sizeof longdir - 1);
	longdir[0] = '/';
	longdir[sizeof longdir - 1] = 0;
	assert_int_equal(link_create(&(struct link_config){ .runtime_dir = longdir }, &l), -ENAMETOOLONG);
	assert_null(l);
	link_destroy(NULL);
	link_destroy(&l);
}

static int teardown(void **state)
{
	th_daemon_slot_release();
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest daemon[] = {
		cmocka_unit_test_teardown(connects_and_answers_ping, teardown),
		cmocka_unit_test_teardown(commands_are_answered_and_leave_the_queue, teardown),
		cmocka_unit_test_teardown(waits_for_a_daemon_that_is_not_running_yet, teardown),
		cmocka_unit_test_teardown(poses_coalesce_and_commands_wait_under_backpressure, teardown),
		cmocka_unit_test_teardown(protocol_hash_mismatch_is_refused_with_both_hashes, teardown),
		cmocka_unit_test_teardown(reconnects_after_daemon_sigkill_and_resends, teardown),
		cmocka_unit_test_teardown(client_killed_mid_record_is_freed, teardown),
		cmocka_unit_test_teardown(broken_ring_drops_the_mapping_and_reconnects, teardown),
		cmocka_unit_test_teardown(scribbler_process_cannot_crash_the_link, teardown),
	};
	const struct CMUnitTest hostile[] = {
		cmocka_unit_test_teardown(hostile_welcomes_are_refused_without_leaks, teardown),
		cmocka_unit_test_teardown(hostile_records_drop_the_link, teardown),
		cmocka_unit_test_teardown(resends_keep_their_nonce_and_client_seq, teardown),
		cmocka_unit_test_teardown(backoff_doubles_to_its_cap, teardown),
		cmocka_unit_test_teardown(not_a_member_is_fatal_with_the_daemons_sentence, teardown),
		cmocka_unit_test_teardown(bad_configuration_is_refused, teardown),
		cmocka_unit_test_teardown(input_and_session_info_with_a_fake_daemon, teardown),
	};
	int r = cmocka_run_group_tests_name("link_hostile", hostile, NULL, NULL);
	r += cmocka_run_group_tests_name("link_daemon", daemon, NULL, NULL);
	return r;
}
