/* Sessions between daemons, as real processes on loopback: a host and a
 * joiner with their own state/runtime dirs and ephemeral UDP ports, scripted
 * clients editing on both (client -> ring -> daemon signs -> QUIC -> host
 * verifies, orders, persists, relays -> every daemon -> every client), logs
 * identical at the end, poses relayed, roles and kicks, and every refusal
 * with its own sentence on the joining side and its own counter on the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_client.h"
#include "net_fixture.h"
#include "session.h"

static char logbuf[NF_OUT];

/* Submits n edits from a client of d and waits for every ack. */
static void edit(struct nf_daemon *d, int n, uint64_t entity)
{
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->p.runtime_dir, 5000), 0);
	for (int i = 0; i < n; i++) {
		uint8_t payload[24];
		memset(payload, (int)(i & 0xff), sizeof(payload));
		assert_true(nc_submit(&c, entity, payload, sizeof(payload)) > 0);
	}
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	while (c.acks + c.rejects < (uint64_t)n && th_now_ns() < end)
		assert_true(nc_poll(&c, 100) >= 0);
	if (c.rejects)
		fprintf(stderr, "rejected: %s\n", c.last_reject);
	assert_int_equal(c.acks, n);
	nc_close(&c);
}

static void two_daemons(struct nf_daemon *a, struct nf_daemon *b, char id[33], const char *role)
{
	nf_start(a, NULL, NULL);
	nf_start(b, NULL, NULL);
	nf_host(a, "studio", id);
	nf_invite_join(a, b, "studio", role);
	/* The member's replica takes the host's name for the session. */
	assert_string_equal(nf_session_field(b, id, "name"), "studio");
}

/* ---- end to end ------------------------------------------------------------- */

/* A frame the host cannot queue (its buffer's allocation failed) ends the
 * connection, counted, instead of silently dropping that frame and every
 * later one: the member reconnects and catches up, nothing is lost. */
static void a_frame_the_host_cannot_queue_closes_the_link_and_the_member_catches_up(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, (const char *const[]){ "THETAD_TEST_QUEUE_FAIL=6", NULL });
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	assert_int_equal(nf_join(&b, link), 0);
	for (int i = 0; i < 5; i++)
		edit(&a, 5, 1);
	edit(&b, 5, 2);
	struct nf_daemon *all[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(all, 2, id, 30, NF_WAIT_MS), 0);
	assert_int_equal(nf_metric(&a, "net_send_failed"), 1);
	assert_true(nf_metric(&b, "net_rejoin_attempts") >= 1);
	assert_non_null(strstr(th_daemon_log(&a.p), "cannot queue a frame"));
	nf_cleanup(&a);
	nf_cleanup(&b);
}

struct seen {
	uint64_t events;
	uint8_t authors[4][32];
	int nauthors;
};

static void on_ev(void *ud, const struct th_logrec_entry *e)
{
	struct seen *s = ud;
	s->events++;
	for (int i = 0; i < s->nauthors; i++)
		if (!memcmp(s->authors[i], e->author, 32))
			return;
	if (s->nauthors < 4)
		memcpy(s->authors[s->nauthors++], e->author, 32);
}

static void edits_on_both_daemons_end_in_identical_logs_and_reach_every_client(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	two_daemons(&a, &b, id, "editor");
	assert_string_equal(nf_session_field(&b, id, "role"), "member");
	assert_string_equal(nf_session_field(&a, id, "role"), "host");
	assert_string_equal(nf_session_field(&a, id, "peers"), "1");

	/* A client of A watches while both sides edit. */
	struct seen seen = { 0 };
	struct nc_client watch;
	assert_int_equal(nc_connect(&watch, a.p.runtime_dir, 5000), 0);
	watch.on_event = on_ev;
	watch.ud = &seen;
	edit(&a, 25, 1);
	edit(&b, 25, 2);
	edit(&a, 5, 2);
	struct nf_daemon *all[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(all, 2, id, 55, NF_WAIT_MS), 0);
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	while (seen.events < 55 && th_now_ns() < end)
		nc_poll(&watch, 100);
	assert_int_equal(seen.events, 55);
	assert_int_equal(seen.nauthors, 2); /* A's user and B's user */
	nc_close(&watch);

	/* The listing holds the same entries on both daemons (nf_log_text sorts it). */
	assert_int_equal(nf_log_text(&b, id, logbuf, sizeof(logbuf)), 55);
	assert_non_null(strstr(logbuf, "component.write"));
	/* Peers show heartbeats and per-stream bytes. */
	struct json_object *p = nf_ctl_json(&b, (const char *const[]){ "peers", "--json", NULL }), *arr, *x, *y;
	assert_non_null(p);
	assert_true(json_object_object_get_ex(p, "peers", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	x = json_object_array_get_idx(arr, 0);
	assert_true(json_object_object_get_ex(x, "state", &y));
	assert_string_equal(json_object_get_string(y), "active");
	assert_true(json_object_object_get_ex(x, "role", &y));
	assert_string_equal(json_object_get_string(y), "editor");
	assert_true(json_object_object_get_ex(x, "bytes", &y));
	assert_true(json_object_object_get_ex(y, "commands", &y));
	assert_true(json_object_object_get_ex(y, "out", &y));
	assert_true(json_object_get_int64(y) > 25 * 100);
	json_object_put(p);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

struct poses {
	uint64_t n, entity;
	float px;
};

static void on_pose(void *ud, const struct proto_ipc_pose_update *p)
{
	struct poses *ps = ud;
	ps->n++;
	ps->entity = p->entity;
	ps->px = p->px;
}

static void poses_are_relayed_to_the_other_daemons_clients(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	two_daemons(&a, &b, id, "viewer");
	struct nc_client ca, cb;
	struct poses got = { 0 };
	assert_int_equal(nc_connect(&ca, a.p.runtime_dir, 5000), 0);
	assert_int_equal(nc_connect(&cb, b.p.runtime_dir, 5000), 0);
	ca.on_pose = on_pose;
	ca.ud = &got;
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	/* Datagrams may be lost: keep sending until one arrives. */
	while (got.n == 0 && th_now_ns() < end) {
		struct proto_ipc_pose_update p = { .t_ns = th_now_ns(), .px = 1.5f, .qw = 1.0f,
						   .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
		assert_int_equal(nc_pose(&cb, &p), 0);
		nc_poll(&cb, 0);
		nc_poll(&ca, 50);
	}
	assert_true(got.n > 0);
	assert_true(got.px == 1.5f);
	/* The entity names B's user: the first 8 bytes of its key. */
	assert_int_not_equal(got.entity, 0);
	nc_close(&ca);
	nc_close(&cb);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* A member sends one PRES frame per tick; a host taking fewer a second
 * (THETAD_TEST_PRES_RATE lowers the pres channel's limit) drops the rest,
 * counted, and still delivers what it took. */
static void a_members_presence_frames_over_the_rate_are_dropped_and_counted(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, (const char *const[]){ "THETAD_TEST_PRES_RATE=5", NULL });
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "viewer", NULL, link);
	assert_int_equal(nf_join(&b, link), 0);
	struct nc_client ca, cb;
	struct poses got = { 0 };
	assert_int_equal(nc_connect(&ca, a.p.runtime_dir, 5000), 0);
	assert_int_equal(nc_connect(&cb, b.p.runtime_dir, 5000), 0);
	ca.on_pose = on_pose;
	ca.ud = &got;
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	for (int i = 0; th_now_ns() < end && (i < 500 || got.n == 0); i++) {
		struct proto_ipc_pose_update p = { .t_ns = th_now_ns(), .px = (float)i * 0.01f, .qw = 1.0f,
						   .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
		assert_int_equal(nc_pose(&cb, &p), 0);
		nc_poll(&cb, 0);
		nc_poll(&ca, 4);
	}
	nc_close(&ca);
	nc_close(&cb);
	uint64_t over = nf_metric(&a, "net_chan_pres_over_rate"), taken = nf_metric(&a, "net_chan_pres_msgs_in");
	assert_true(got.n > 0);
	assert_true(over > 0);
	/* 5 a second (and 5 at once) pass; the member sent far more. */
	assert_true(over > taken);
	assert_true(got.n <= taken);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_viewer_cannot_edit_until_made_editor_and_a_kicked_member_is_told_why(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	two_daemons(&a, &b, id, "viewer");
	struct nc_client c;
	assert_int_equal(nc_connect(&c, b.p.runtime_dir, 5000), 0);
	uint8_t pl[8] = { 0 };
	assert_true(nc_submit(&c, 7, pl, sizeof(pl)) > 0);
	uint64_t end = th_now_ns() + 5 * TH_NS_PER_S;
	while (c.acks + c.rejects < 1 && th_now_ns() < end)
		nc_poll(&c, 100);
	assert_int_equal(c.rejects, 1);
	assert_int_equal(c.last_reject_reason, PROTO_IPC_REJECT_DENIED);
	nc_close(&c);

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "role", "1", "editor", NULL }), 0);
	end = th_now_ns() + 10 * TH_NS_PER_S;
	while (strcmp(nf_session_field(&b, id, "granted_role"), "editor") && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(&b, id, "granted_role"), "editor");
	edit(&b, 3, 7);
	struct nf_daemon *all[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(all, 2, id, 3, NF_WAIT_MS), 0);

	assert_int_equal(nf_ctl(&a, (const char *const[]){ "kick", "1", NULL }), 0);
	end = th_now_ns() + 10 * TH_NS_PER_S;
	while (strcmp(nf_session_field(&b, id, "link_state"), "failed") && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(&b, id, "error"), proto_sess_err_text(PROTO_SESS_ERR_KICKED));
	assert_int_equal(nf_active_peers(&a), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

/* ---- refusals ------------------------------------------------------------------ */

/* B tries to join A with link; the join must fail with `code`'s sentence,
 * and A counts it under `metric` (NULL: not counted by the host). */
static void expect_refusal(struct nf_daemon *a, struct nf_daemon *b, const char *link, uint64_t code,
			   const char *metric)
{
	uint64_t before = metric ? nf_metric(a, metric) : 0;
	int rc = nf_join(b, link);
	if (rc != 1 || !strstr(nf_err, proto_sess_err_text(code)))
		fprintf(stderr, "join exit %d, stderr: %s\nhost log:\n%s\n", rc, nf_err, th_daemon_log(&a->p));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(code)));
	if (metric) {
		uint64_t end = th_now_ns() + 5 * TH_NS_PER_S;
		while (nf_metric(a, metric) == before && th_now_ns() < end)
			th_sleep_ns(20 * TH_NS_PER_MS);
		assert_int_equal(nf_metric(a, metric), before + 1);
	}
}

static void link_with(const char *link, const char *what, const char *value, char out[600])
{
	/* Replaces fp=... or the token's last characters. */
	snprintf(out, 600, "%s", link);
	char *p = strstr(out, what);
	assert_non_null(p);
	memcpy(p + strlen(what), value, strlen(value));
}

static void a_wrong_fingerprint_is_refused_by_the_joiner(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], bad[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	/* A different first byte of the fingerprint, whatever it was. */
	const char *fp = strstr(link, "fp=") + 3;
	link_with(link, "fp=", fp[0] == '0' ? "1" : "0", bad);
	expect_refusal(&a, &b, bad, PROTO_SESS_ERR_WRONG_FINGERPRINT, NULL);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_token_not_signed_by_the_host_is_refused(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], bad[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	/* Flip signature bits at the end of the token (base64url). */
	snprintf(bad, sizeof(bad), "%s", link);
	size_t n = strlen(bad);
	bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A';
	expect_refusal(&a, &b, bad, PROTO_SESS_ERR_BAD_TOKEN, "net_refused_bad_token");
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void an_expired_invite_is_refused(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", (const char *const[]){ "--expires", "1s", NULL }, link);
	th_sleep_ns(2100 * TH_NS_PER_MS);
	expect_refusal(&a, &b, link, PROTO_SESS_ERR_TOKEN_EXPIRED, "net_refused_token_expired");
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void a_single_use_invite_works_once(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_start(&c, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", (const char *const[]){ "--single-use", NULL }, link);
	assert_int_equal(nf_join(&b, link), 0);
	expect_refusal(&a, &c, link, PROTO_SESS_ERR_TOKEN_REUSED, "net_refused_token_reused");
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

static void a_full_session_refuses_one_more_member(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], link[600], conf[64] = "/tmp/theta-maxpeers-XXXXXX";
	int fd = mkstemp(conf);
	assert_true(fd >= 0);
	const char text[] = "[net]\nmax_peers = 1\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	nf_start(&a, (const char *const[]){ "--config", conf, NULL }, NULL);
	nf_start(&b, NULL, NULL);
	nf_start(&c, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	assert_int_equal(nf_join(&b, link), 0);
	/* "Full" may pass (a member leaves): the joiner keeps trying, and
	 * thetactl gives up after its timeout naming the reason. */
	int rc = nf_ctl(&c, (const char *const[]){ "session", "join", link, "--timeout", "3", NULL });
	assert_int_equal(rc, 1);
	if (!strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_FULL)))
		fprintf(stderr, "join stderr: %s\n", nf_err);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_FULL)));
	assert_int_equal(nf_active_peers(&a), 1);
	unlink(conf);
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

static void an_invite_to_a_session_the_host_no_longer_has_is_refused(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], port[16], dir[PATH_MAX + 64];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	/* The host's operator deletes the session while it is stopped; it
	 * comes back on the same port with the same certificate. */
	nf_kill(&a, SIGTERM);
	snprintf(dir, sizeof(dir), "%s/sessions/%s", a.p.state_dir, id);
	th_rm_rf(dir);
	snprintf(port, sizeof(port), "%u", (unsigned)a.port);
	a.args[1] = port;
	assert_int_equal(nf_spawn(&a), 0);
	expect_refusal(&a, &b, link, PROTO_SESS_ERR_NO_SESSION, NULL);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

static void mismatches_and_bad_signatures_are_refused(void **state)
{
	static const struct {
		const char *env;
		uint64_t code;
		const char *metric;
	} cases[] = {
		{ "THETAD_TEST_SESSION_VERSION=999", PROTO_SESS_ERR_VERSION, "net_refused_version" },
		{ "THETAD_TEST_SCHEMA_XOR=0x5a", PROTO_SESS_ERR_SCHEMA, "net_refused_schema" },
		{ "THETAD_TEST_BAD_HELLO_SIG=1", PROTO_SESS_ERR_BAD_SIGNATURE, "net_refused_bad_signature" },
	};
	struct nf_daemon a;
	char id[33], link[600];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_invite(&a, "studio", "editor", NULL, link);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nf_daemon b;
		nf_start(&b, NULL, (const char *const[]){ cases[i].env, NULL });
		expect_refusal(&a, &b, link, cases[i].code, cases[i].metric);
		nf_cleanup(&b);
	}
	assert_true(nf_metric(&a, "net_refusals") >= 3);
	nf_cleanup(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(edits_on_both_daemons_end_in_identical_logs_and_reach_every_client, nf_teardown),
		cmocka_unit_test_teardown(poses_are_relayed_to_the_other_daemons_clients, nf_teardown),
		cmocka_unit_test_teardown(a_frame_the_host_cannot_queue_closes_the_link_and_the_member_catches_up,
					  nf_teardown),
		cmocka_unit_test_teardown(a_members_presence_frames_over_the_rate_are_dropped_and_counted, nf_teardown),
		cmocka_unit_test_teardown(a_viewer_cannot_edit_until_made_editor_and_a_kicked_member_is_told_why, nf_teardown),
		cmocka_unit_test_teardown(a_wrong_fingerprint_is_refused_by_the_joiner, nf_teardown),
		cmocka_unit_test_teardown(a_token_not_signed_by_the_host_is_refused, nf_teardown),
		cmocka_unit_test_teardown(an_expired_invite_is_refused, nf_teardown),
		cmocka_unit_test_teardown(a_single_use_invite_works_once, nf_teardown),
		cmocka_unit_test_teardown(a_full_session_refuses_one_more_member, nf_teardown),
		cmocka_unit_test_teardown(an_invite_to_a_session_the_host_no_longer_has_is_refused, nf_teardown),
		cmocka_unit_test_teardown(mismatches_and_bad_signatures_are_refused, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
