/* A real daemon signs only well-formed command payloads
 * (schemas/commands.def): a malformed one is refused with a sentence that
 * names the command and the field, and nothing enters the log. A host
 * checks the payloads its members relay the same way: one that a member
 * which skipped the check (THETAD_TEST_SKIP_PAYLOAD_CHECK) signed is
 * refused, told back to its author's client, and kept out of the host's
 * log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_client.h"
#include "net_fixture.h"
#include "session.h"

#define WAIT_NS (10 * TH_NS_PER_S)

static void wait_answers(struct nc_client *c, uint64_t n)
{
	uint64_t end = th_now_ns() + WAIT_NS;
	while (c->acks + c->rejects < n && th_now_ns() < end)
		assert_true(nc_poll(c, 50) >= 0);
	assert_int_equal(c->acks + c->rejects, n);
}

static void malformed_payloads_are_refused_before_signing(void **state)
{
	struct nf_daemon a;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	struct nc_client c;
	assert_int_equal(nc_connect(&c, a.p.runtime_dir, 5000), 0);

	/* Eight bytes that were a valid "opaque" payload before payloads had types. */
	uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_true(nc_submit_raw(&c, TH_CMD_COMPONENT_WRITE, 7, junk, sizeof junk) > 0);
	wait_answers(&c, 1);
	assert_int_equal(c.rejects, 1);
	assert_int_equal(c.last_reject_reason, PROTO_IPC_REJECT_INVALID);
	assert_string_equal(c.last_reject, "malformed component.write payload (component: not a replicated component id)");

	/* A mesh.patch whose op kind is out of range. */
	uint8_t patch[2 + 25] = { 0 };
	th_put_le16(patch, 1);
	patch[2] = TH_PL_MESH_OP_MAX + 1;
	assert_true(nc_submit_raw(&c, TH_CMD_MESH_PATCH, 77, patch, sizeof patch) > 0);
	wait_answers(&c, 2);
	assert_int_equal(c.rejects, 2);
	assert_string_equal(c.last_reject, "malformed mesh.patch payload (op: value out of range)");

	/* The same command, well formed, is signed. */
	patch[2] = TH_PL_MESH_OP_VERTEX_ADD;
	assert_true(nc_submit_raw(&c, TH_CMD_MESH_PATCH, 77, patch, sizeof patch) > 0);
	uint8_t v[NC_EDIT_BYTES] = { 9 };
	assert_true(nc_submit(&c, 7, v, sizeof v) > 0);
	wait_answers(&c, 4);
	assert_int_equal(c.acks, 2);
	assert_int_equal(c.rejects, 2);
	char log[8192];
	assert_int_equal(nf_log_text(&a, id, log, sizeof log), 2);
	assert_non_null(strstr(log, "mesh.patch"));
	assert_non_null(strstr(log, "component.write"));
	nc_close(&c);
	nf_cleanup(&a);
}

static void a_host_refuses_a_malformed_payload_its_member_relays(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", id);
	nf_start(&b, NULL, (const char *const[]){ "THETAD_TEST_SKIP_PAYLOAD_CHECK=1", NULL });
	nf_invite_join(&a, &b, "studio", "editor");
	struct nc_rejections got = { 0 };
	struct nc_client c;
	assert_int_equal(nc_connect(&c, b.p.runtime_dir, 5000), 0);
	c.on_other_event = nc_on_rejected;
	c.ud = &got;

	/* B does not check: the mesh.patch with an op out of range is signed,
	 * acked and relayed. */
	uint8_t patch[2 + 25] = { 0 };
	th_put_le16(patch, 1);
	patch[2] = TH_PL_MESH_OP_MAX + 1;
	assert_true(nc_submit_raw(&c, TH_CMD_MESH_PATCH, 77, patch, sizeof patch) > 0);
	wait_answers(&c, 1);
	assert_int_equal(c.acks, 1);
	uint64_t end = th_now_ns() + WAIT_NS;
	while ((c.events < 1 || got.n < 1) && th_now_ns() < end)
		assert_true(nc_poll(&c, 50) >= 0);
	assert_int_equal(c.events, 1); /* its own entry, as a log event (the host's rejection and
					 * its own scene's refusal are other events) */

	/* The host refused it and B's client was told, naming the field. */
	assert_int_equal(got.bad, 0);
	assert_true(got.n >= 1);
	assert_int_equal(got.last.reason, PROTO_IPC_REJECT_INVALID);
	assert_int_equal(got.last.seq, c.last_event.seq);
	assert_memory_equal(got.last.author, c.last_event.author, 32);
	assert_string_equal(got.last.text, "malformed mesh.patch payload (op: value out of range)");
	assert_true(nf_metric(&a, "clog_remote_rejects") >= 1);
	assert_true(nf_metric(&a, "net_rejects_forwarded") >= 1);
	assert_true(nf_metric(&b, "net_rejects_delivered") >= 1);

	/* Only B's own log holds it. */
	char log[8192];
	assert_int_equal(nf_log_text(&a, id, log, sizeof log), 0);
	assert_int_equal(nf_log_text(&b, id, log, sizeof log), 1);
	assert_non_null(strstr(log, "mesh.patch"));
	nc_close(&c);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(malformed_payloads_are_refused_before_signing, nf_teardown),
		cmocka_unit_test_teardown(a_host_refuses_a_malformed_payload_its_member_relays, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
