/* INPUT_INFO and SESSION_INFO end to end: a real client link
 * (theta-client/link, in this process) to real thetad processes, read back
 * through the real thetactl.
 *
 * - The profiles a client sets show in `thetactl clients --json` (full
 *   paths) and in its INPUT column (shortened), change when the client's
 *   change, and come back after the daemon is killed and restarted (the
 *   link sends them on every welcome).
 * - The daemon's SESSION_INFO reaches the link: a session hosted here (RTT
 *   0, name, peers 0), its log position after an edit; none while nothing
 *   changes, and at most one a second (counted against the span the test
 *   measured, an upper bound that load cannot break) while edits change
 *   the position at every tick.
 * - Two daemons: a member's client sees its host REMOTE with a measured RTT
 *   and one peer; the host's client sees the member as a peer; an edit made
 *   on the host moves the member's log position.
 * - The theta-client binary: in the headset (the OpenXR test runtime) its
 *   interaction profiles show in `clients` and follow a profile change; a
 *   scripted client shows "script".
 * Nothing asserts a timing: every wait polls with a generous deadline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "app/transport.h"
#include "ipc.h"
#include "link/link.h"
#include "sess/client_info.h"
#include "net_fixture.h"
#include "th_buf.h"
#include "th_harness.h"
#include "th_link.h"
#include "th_time.h"
#include "th_xrt.h"

#define WAIT_MS 30000 /* a loaded 2-core machine */

static const char *const touch = "/interaction_profiles/oculus/touch_controller";
static const char *const index_p = "/interaction_profiles/valve/index_controller";

/* Runs frames (about 1 ms apart) until cond or WAIT_MS. */
#define WAIT_FOR(l, cond) TH_LINK_WAIT_FOR(l, cond, WAIT_MS)

static struct link *make_link(const char *runtime_dir)
{
	struct link_config cfg = { .runtime_dir = runtime_dir, .name = "info-link", .mode = PROTO_IPC_MODE_XR };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	return l;
}

static char out[65536], err[8192];

/* Our client's "input" in `thetactl clients --json` on d (copied into
 * src/left/right); false while the daemon lists it without one. */
static bool ctl_input(struct th_daemon_proc *d, char src[16], char left[256], char right[256])
{
	assert_int_equal(th_ctl(d, (const char *const[]){ "clients", "--json", NULL }, out, sizeof out, err, sizeof err), 0);
	struct json_object *o = json_tokener_parse(out), *list, *c, *in;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "clients", &list));
	assert_int_equal(json_object_array_length(list), 1);
	c = json_object_array_get_idx(list, 0);
	bool has = json_object_object_get_ex(c, "input", &in) && in;
	if (has) {
		snprintf(src, 16, "%s", th_json_path(in, "source"));
		snprintf(left, 256, "%s", th_json_path(in, "left"));
		snprintf(right, 256, "%s", th_json_path(in, "right"));
	}
	json_object_put(o);
	return has;
}

/* Frames until `thetactl clients --json` shows (source, left, right). */
static void wait_ctl_input(struct th_daemon_proc *d, struct link *l, const char *src, const char *left,
			   const char *right)
{
	char s[16] = "", a[256] = "", b[256] = "";
	uint64_t end = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		if (ctl_input(d, s, a, b) && !strcmp(s, src) && !strcmp(a, left) && !strcmp(b, right))
			return;
		for (int i = 0; i < 20; i++) {
			th_link_step(l);
			th_sleep_ns(TH_NS_PER_MS);
		}
	}
	fail_msg("clients shows input %s %s %s, expected %s %s %s", s, a, b, src, left, right);
}

/* annotation.add (0x0040) of `text`; waits for its ack. */
static void annotate(struct link *l, const char *text)
{
	const struct link_stats *st = link_get_stats(l);
	uint64_t acks = st->acks, rejects = st->rejects;
	uint8_t note[2 + 64];
	size_t n = strlen(text);
	th_put_le16(note, (uint16_t)n);
	memcpy(note + 2, text, n);
	struct app_command c = { .type = 0x0040, .scope = 1, .len = (uint32_t)(2 + n), .payload = note };
	struct app_outgoing o = { .ncommands = 1, .commands = &c };
	assert_int_equal(app_transport_publish(link_transport(l), &o, th_now_ns()), 0);
	WAIT_FOR(l, st->acks + st->rejects > acks + rejects);
	if (st->rejects > rejects)
		fail_msg("annotation rejected: %s", st->last_reject_detail);
}

static void profiles_show_in_clients_and_session_info_arrives(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, (const char *const[]){ "--port", "0", NULL }), 0);
	struct link *l = make_link(d->runtime_dir);
	/* Set before the link connects: sent after the welcome. */
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, touch, index_p, th_now_ns()), 0);
	assert_int_equal(link_wait_active(l, WAIT_MS, false), 0);
	wait_ctl_input(d, l, "openxr", touch, index_p);
	/* The table: a column for people, the profiles shortened. */
	assert_int_equal(th_ctl(d, (const char *const[]){ "clients", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "INPUT"));
	assert_non_null(strstr(out, "openxr touch/index"));

	/* The daemon's view of the session: hosted here ("local", opened at
	 * start), RTT 0, nobody connected, an empty log. */
	struct link_session_info si;
	WAIT_FOR(l, link_session_info(l, &si) == 0);
	assert_int_equal(si.host, PROTO_IPC_SINFO_HOST_LOCAL);
	assert_int_equal(si.rtt_us, 0);
	assert_int_equal(si.peers, 0);
	assert_int_not_equal(si.session, 0);
	assert_string_equal(si.name, "local");
	assert_int_equal(si.speaking, 0);
	assert_int_equal(si.nspeakers, 0);
	assert_int_equal(si.session, link_session(l));
	uint64_t pos0 = si.log_pos;

	/* An edit: the log position the overlay shows follows (on change, at
	 * most once a second). */
	annotate(l, "hello");
	WAIT_FOR(l, link_session_info(l, &si) == 0 && si.log_pos == pos0 + 1);
	printf("session info: %llu records taken\n", (unsigned long long)link_get_stats(l)->session_infos);
	/* The daemon counts what it sent: at least what the link took. */
	assert_true(th_daemon_metric(d, "sess_session_infos") >= (long long)link_get_stats(l)->session_infos);

	/* Nothing changes: nothing is sent, however many ticks pass (the
	 * daemon ticks every 250 ms). Then the count is exactly what it sent. */
	const struct link_stats *lst = link_get_stats(l);
	uint64_t quiet = lst->session_infos;
	for (uint64_t end = th_now_ns() + 2 * SESS_CINFO_INTERVAL_NS; th_now_ns() < end;) {
		th_link_step(l);
		th_sleep_ns(TH_NS_PER_MS);
	}
	assert_int_equal(lst->session_infos, quiet);
	assert_int_equal(th_daemon_metric(d, "sess_session_infos"), (long long)quiet);
	/* Edits every ~100 ms for a few seconds: the position changes at every
	 * tick, yet at most one SESSION_INFO a second goes out (the first at
	 * once: +1; +1 more for the tick's clock against ours), and the last
	 * change still arrives. The bound is an upper one: a slow machine only
	 * makes the span longer. */
	enum { RATE_EDITS = 24 };
	uint64_t t0 = th_now_ns(), before = lst->session_infos;
	for (int i = 0; i < RATE_EDITS; i++) {
		annotate(l, "tick");
		for (uint64_t end = th_now_ns() + 100 * TH_NS_PER_MS; th_now_ns() < end;) {
			th_link_step(l);
			th_sleep_ns(TH_NS_PER_MS);
		}
	}
	WAIT_FOR(l, link_session_info(l, &si) == 0 && si.log_pos == pos0 + 1 + RATE_EDITS);
	uint64_t span = th_now_ns() - t0, got = lst->session_infos - before;
	printf("session info: %llu records for %d edits in %.1f s\n", (unsigned long long)got, RATE_EDITS,
	       (double)span / 1e9);
	assert_true(got >= 1);
	assert_true(got <= span / SESS_CINFO_INTERVAL_NS + 2);
	pos0 += RATE_EDITS;

	/* The right controller goes away; then the desktop takes over. */
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_OPENXR, touch, "", th_now_ns()), 0);
	wait_ctl_input(d, l, "openxr", touch, "");
	assert_int_equal(th_ctl(d, (const char *const[]){ "clients", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "openxr touch/-"));
	assert_int_equal(link_set_input(l, PROTO_IPC_INPUT_DESKTOP, NULL, NULL, th_now_ns()), 0);
	wait_ctl_input(d, l, "desktop", "", "");

	/* kill -9 and a restart: the new daemon hears the input again on the
	 * welcome, and sends the session's info again (same position). */
	const struct link_stats *st = link_get_stats(l);
	uint64_t connects = st->connects, seq = si.seq;
	int status;
	assert_int_equal(th_daemon_stop(d, SIGKILL, 10000, &status), 0);
	assert_int_equal(th_daemon_respawn(d, (const char *const[]){ "--port", "0", NULL }, NULL, 15000), 0);
	WAIT_FOR(l, st->connects > connects && link_get_state(l) == LINK_ACTIVE);
	wait_ctl_input(d, l, "desktop", "", "");
	WAIT_FOR(l, link_session_info(l, &si) == 0 && si.seq > seq);
	assert_int_equal(si.log_pos, pos0 + 1);
	assert_int_equal(si.host, PROTO_IPC_SINFO_HOST_LOCAL);
	assert_int_equal(st->violations, 0);
	link_destroy(&l);
	th_daemon_slot_release();
}

static void a_member_sees_its_hosts_rtt_and_peers(void **state)
{
	(void)state;
	struct nf_daemon a, b;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite_join(&a, &b, "studio", "editor");
	struct link *la = make_link(a.p.runtime_dir), *lb = make_link(b.p.runtime_dir);
	assert_int_equal(link_wait_active(la, WAIT_MS, false), 0);
	assert_int_equal(link_wait_active(lb, WAIT_MS, false), 0);

	/* The member: linked to its host, with the RTT the net module measures. */
	struct link_session_info sa, sb;
	WAIT_FOR(lb, link_session_info(lb, &sb) == 0 && sb.host == PROTO_IPC_SINFO_HOST_REMOTE && sb.peers == 1);
	assert_true(sb.rtt_us > 0);
	assert_string_equal(sb.name, "studio");
	/* The host: the member is its peer. */
	WAIT_FOR(la, link_session_info(la, &sa) == 0 && sa.peers == 1);
	assert_int_equal(sa.host, PROTO_IPC_SINFO_HOST_LOCAL);
	assert_int_equal(sa.rtt_us, 0);
	assert_string_equal(sa.name, "studio");
	assert_int_equal(sa.session, sb.session);
	printf("member's RTT to its host on loopback: %lld us\n", (long long)sb.rtt_us);

	/* An edit on the host reaches the member's log: its position moves. */
	uint64_t pos = sb.log_pos;
	annotate(la, "from the host");
	WAIT_FOR(lb, link_session_info(lb, &sb) == 0 && sb.log_pos >= pos + 1);
	/* The host goes away: the member's client learns the RTT is unknown. */
	nf_kill(&a, SIGKILL);
	WAIT_FOR(lb, link_session_info(lb, &sb) == 0 && sb.host == PROTO_IPC_SINFO_HOST_UNKNOWN);
	assert_int_equal(sb.rtt_us, -1);
	assert_int_equal(sb.peers, 0);
	link_destroy(&la);
	link_destroy(&lb);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* ---- the theta-client binary ------------------------------------------------ */

static pid_t client_pid = -1; /* killed by the teardown if a test stops early */

static pid_t start_client(const char *const *argv, const char *const *env, const char *dir)
{
	char o[PATH_MAX + 32], e[PATH_MAX + 32];
	snprintf(o, sizeof o, "%s/client.out", dir);
	snprintf(e, sizeof e, "%s/client.err", dir);
	client_pid = th_spawn(argv, env, o, e);
	assert_true(client_pid > 0);
	return client_pid;
}

/* SIGTERM, then its exit status (0: a clean stop); its stderr on failure. */
static int stop_client(const char *dir)
{
	int st = 0;
	kill(client_pid, SIGTERM);
	int r = th_wait_pid(client_pid, WAIT_MS, &st);
	if (r < 0) {
		kill(client_pid, SIGKILL);
		th_wait_pid(client_pid, WAIT_MS, &st);
	}
	client_pid = -1;
	int rc = r < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (rc != 0) {
		char e[PATH_MAX + 32];
		snprintf(e, sizeof e, "%s/client.err", dir);
		char *text = th_slurp(e);
		fprintf(stderr, "theta-client exit %d:\n%s\n", rc, text ? text : "");
		free(text);
	}
	return rc;
}

/* `thetactl clients --json` until the only client's input is (src, left,
 * right), or WAIT_MS. */
static void wait_listed(struct th_daemon_proc *d, const char *src, const char *left, const char *right)
{
	char s[16] = "", a[256] = "", b[256] = "";
	uint64_t end = th_now_ns() + WAIT_MS * TH_NS_PER_MS;
	while (th_now_ns() < end) {
		assert_int_equal(th_ctl(d, (const char *const[]){ "clients", "--json", NULL }, out, sizeof out, err,
					sizeof err), 0);
		struct json_object *o = json_tokener_parse(out), *list, *in;
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "clients", &list));
		if (json_object_array_length(list) == 1 &&
		    json_object_object_get_ex(json_object_array_get_idx(list, 0), "input", &in) && in) {
			snprintf(s, sizeof s, "%s", th_json_path(in, "source"));
			snprintf(a, sizeof a, "%s", th_json_path(in, "left"));
			snprintf(b, sizeof b, "%s", th_json_path(in, "right"));
		}
		json_object_put(o);
		if (!strcmp(s, src) && !strcmp(a, left) && !strcmp(b, right))
			return;
		th_sleep_ns(50 * TH_NS_PER_MS);
	}
	fail_msg("clients shows input '%s' '%s' '%s', expected '%s' '%s' '%s'", s, a, b, src, left, right);
}

/* theta-client in the headset (the OpenXR test runtime through the real
 * loader): the runtime's controllers are Touch, then Index after frame 150
 * (the interaction-profile-changed event); `thetactl clients` follows. */
static void a_headset_client_shows_its_interaction_profiles(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, (const char *const[]){ "--port", "0", NULL }), 0);
	char json[PATH_MAX], rt[PATH_MAX + 32];
	assert_int_equal(th_xrt_path("theta_xrt.json", json, sizeof json), 0); /* make test builds the runtime */
	snprintf(rt, sizeof rt, "XR_RUNTIME_JSON=%s", json);
	const char *env[] = { rt, "XRT_PROFILE=oculus/touch_controller", "XRT_PROFILE_SWITCH=150:valve/index_controller",
			      NULL };
	const char *argv[] = { th_bin("theta-client"), "--renderer", "xr", "--validation", "--runtime-dir",
			       d->runtime_dir, NULL };
	start_client(argv, env, d->dir);
	wait_listed(d, "openxr", touch, touch);
	wait_listed(d, "openxr", index_p, index_p);
	assert_int_equal(th_ctl(d, (const char *const[]){ "clients", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "openxr index/index"));
	assert_int_equal(stop_client(d->dir), 0);
	th_daemon_slot_release();
}

/* A scripted client (no headset): "script", no profiles. */
static void a_scripted_client_shows_script(void **state)
{
	(void)state;
	struct th_daemon_proc *d = th_daemon_slot();
	assert_int_equal(th_daemon_start(d, (const char *const[]){ "--port", "0", NULL }), 0);
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/idle.script", d->dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	fputs("theta-script 1\n0s head pose 0 1.6 0 0 0 0 1\n", f);
	fclose(f);
	const char *argv[] = { th_bin("theta-client"), "--renderer", "null", "--script", script, "--runtime-dir",
			       d->runtime_dir, NULL };
	start_client(argv, NULL, d->dir);
	wait_listed(d, "script", "", "");
	assert_int_equal(th_ctl(d, (const char *const[]){ "clients", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, " script "));
	assert_int_equal(stop_client(d->dir), 0);
	th_daemon_slot_release();
}

static int teardown(void **state)
{
	if (client_pid > 0) {
		kill(client_pid, SIGKILL);
		th_wait_pid(client_pid, WAIT_MS, NULL);
		client_pid = -1;
	}
	th_daemon_slot_release();
	return nf_teardown(state);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(profiles_show_in_clients_and_session_info_arrives, teardown),
		cmocka_unit_test_teardown(a_member_sees_its_hosts_rtt_and_peers, teardown),
		cmocka_unit_test_teardown(a_headset_client_shows_its_interaction_profiles, teardown),
		cmocka_unit_test_teardown(a_scripted_client_shows_script, teardown),
	};
	return cmocka_run_group_tests_name("client_info", tests, NULL, NULL);
}
