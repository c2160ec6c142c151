/* Admin members and refusals told back, as real daemons on loopback: an
 * admin member (not the host) kicks a member and changes another's role
 * through its host; an editor member's request is refused with the
 * NOT_AUTHORIZED sentence; an entry a member made while partitioned, which
 * the host then refuses, comes back to its author's client as an
 * EVENT_REJECTED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_client.h"
#include "net_fixture.h"
#include "session.h"

#define WAIT_NS (10 * TH_NS_PER_S)

static void join_as(struct nf_daemon *host, struct nf_daemon *d, const char *role)
{
	nf_start(d, NULL, NULL);
	nf_invite_join(host, d, "studio", role);
}

/* The key fingerprint the host lists for peer_id ("" when absent). */
static void host_peer_key(struct nf_daemon *host, int peer_id, char out[64])
{
	struct json_object *r = nf_ctl_json(host, (const char *const[]){ "peers", "--json", NULL }), *arr, *v;
	out[0] = 0;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "peers", &arr));
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *p = json_object_array_get_idx(arr, k);
		if (json_object_object_get_ex(p, "peer_id", &v) && json_object_get_int(v) == peer_id &&
		    json_object_object_get_ex(p, "key", &v))
			snprintf(out, 64, "%s", json_object_get_string(v));
	}
	json_object_put(r);
}

/* How many other members d knows of (`peers` "members"). */
static int known_members(struct nf_daemon *d)
{
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "peers", "--json", NULL }), *arr;
	int n = -1;
	if (r && json_object_object_get_ex(r, "members", &arr))
		n = (int)json_object_array_length(arr);
	json_object_put(r);
	return n;
}

static void wait_field(struct nf_daemon *d, const char *id, const char *field, const char *want)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	while (strcmp(nf_session_field(d, id, field), want) && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_string_equal(nf_session_field(d, id, field), want);
}

static void an_admin_member_kicks_one_member_and_changes_anothers_role(void **state)
{
	struct nf_daemon a, b, c, d;
	char id[33], key[64];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	join_as(&a, &b, "admin");  /* peer 1 */
	join_as(&a, &c, "editor"); /* peer 2 */
	join_as(&a, &d, "editor"); /* peer 3 */
	uint64_t end = th_now_ns() + WAIT_NS;
	while (known_members(&b) < 2 && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_int_equal(known_members(&b), 2);

	/* C named by a prefix of its key fingerprint, as B's `peers` lists it. */
	host_peer_key(&a, 2, key);
	assert_true(strlen(key) > 20);
	key[20] = 0;
	int rc = nf_ctl(&b, (const char *const[]){ "role", key, "viewer", NULL });
	if (rc)
		fprintf(stderr, "role: %s\n", nf_err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(nf_out, "viewer"));
	wait_field(&c, id, "granted_role", "viewer");

	/* D named by the peer id the host announced. */
	rc = nf_ctl(&b, (const char *const[]){ "kick", "3", NULL });
	if (rc)
		fprintf(stderr, "kick: %s\n", nf_err);
	assert_int_equal(rc, 0);
	wait_field(&d, id, "link_state", "failed");
	assert_string_equal(nf_session_field(&d, id, "error"), proto_sess_err_text(PROTO_SESS_ERR_KICKED));
	assert_int_equal(nf_metric(&a, "net_admin_requests_applied"), 2);
	assert_int_equal(nf_metric(&a, "net_admin_requests_refused"), 0);

	/* A peer id the host does not know is refused with its own sentence. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "kick", "77", NULL }), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_NO_PEER)));
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
	nf_cleanup(&d);
}

static void an_editor_members_kick_request_is_refused_as_not_authorized(void **state)
{
	struct nf_daemon a, b, c;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	join_as(&a, &b, "editor"); /* peer 1 */
	join_as(&a, &c, "editor"); /* peer 2 */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "kick", "2", NULL }), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_NOT_AUTHORIZED)));
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "role", "2", "admin", NULL }), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_NOT_AUTHORIZED)));
	assert_int_equal(nf_metric(&a, "net_admin_requests_refused"), 2);
	assert_int_equal(nf_metric(&a, "net_admin_requests_applied"), 0);
	assert_int_equal(nf_active_peers(&a), 2);
	assert_string_equal(nf_session_field(&c, id, "granted_role"), "editor");
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
}

static void an_entry_the_host_refuses_comes_back_to_its_authors_client(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	join_as(&a, &b, "editor");
	struct nc_rejections got = { 0 };
	struct nc_client cl;
	assert_int_equal(nc_connect(&cl, b.p.runtime_dir, 5000), 0);
	cl.on_other_event = nc_on_rejected;
	cl.ud = &got;

	/* Partitioned, B does not learn it became a viewer; its user edits. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "on", NULL }), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "role", "1", "viewer", NULL }), 0);
	uint8_t pl[8] = { 1 };
	assert_true(nc_submit(&cl, 9, pl, sizeof(pl)) > 0);
	uint64_t end = th_now_ns() + WAIT_NS;
	while ((cl.acks + cl.rejects < 1 || cl.events < 1) && th_now_ns() < end)
		nc_poll(&cl, 50);
	assert_int_equal(cl.acks, 1); /* accepted locally */
	assert_int_equal(cl.events, 1);
	uint64_t lamport = cl.last_event_lamport;
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "impair", "--partition", "off", NULL }), 0);

	end = th_now_ns() + WAIT_NS;
	while (got.n == 0 && th_now_ns() < end)
		nc_poll(&cl, 50);
	assert_int_equal(got.bad, 0);
	assert_true(got.n >= 1);
	assert_int_equal(got.last.reason, PROTO_IPC_REJECT_DENIED);
	assert_int_equal(got.last.seq, cl.last_event.seq);
	assert_int_equal(got.last.lamport, lamport);
	assert_memory_equal(got.last.author, cl.last_event.author, 32);
	assert_true(strlen(got.last.text) > 0);
	assert_true(nf_metric(&a, "net_rejects_forwarded") >= 1);
	assert_true(nf_metric(&b, "net_rejects_delivered") >= 1);
	nc_close(&cl);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(an_admin_member_kicks_one_member_and_changes_anothers_role, nf_teardown),
		cmocka_unit_test_teardown(an_editor_members_kick_request_is_refused_as_not_authorized, nf_teardown),
		cmocka_unit_test_teardown(an_entry_the_host_refuses_comes_back_to_its_authors_client, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
