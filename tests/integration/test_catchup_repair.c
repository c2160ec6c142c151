/* Repair of a cut range from a peer: a member's client edits (its entries
 * become durable on the member and on the host), the member stops, and a
 * byte of every record of its log's last group-commit batch is flipped.
 * Recovery on restart cuts that batch (acknowledged records included: it
 * cannot tell damage from a torn write). The member's SYNC heads are then
 * behind, so the host's catch-up sends the cut entries back, the member's
 * own author's included, and the member holds every entry again: the same
 * listing as the host, the same chains offline, and a log line and
 * counter saying the cut range was repaired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_client.h"
#include "net_fixture.h"
#include "th_logfile.h"
#include "th_logfill.h"
#include "th_logtest.h"

#define FIRST 20  /* edits acknowledged one at a time, several batches */
#define BURST 40  /* then many in flight, so the last batch holds several */

struct last_batch {
	uint64_t batch;
	unsigned n;
	struct {
		uint64_t segment, offset;
		uint32_t len;
	} rec[BURST + FIRST];
};

static int on_record(void *user, const struct th_logscan_rec *r)
{
	struct last_batch *lb = user;
	if (r->frame.batch != lb->batch) {
		lb->batch = r->frame.batch;
		lb->n = 0;
	}
	if (lb->n < sizeof(lb->rec) / sizeof(lb->rec[0])) {
		lb->rec[lb->n].segment = r->segment;
		lb->rec[lb->n].offset = r->offset;
		lb->rec[lb->n].len = r->len;
		lb->n++;
	}
	return 0;
}

static void a_members_damaged_last_batch_is_repaired_from_its_host(void **state)
{
	struct nf_daemon a, b;
	char id[33], link[600], dir_a[PATH_MAX + 64], dir_b[PATH_MAX + 64];
	nf_start(&a, NULL, NULL);
	nf_start(&b, NULL, NULL);
	nf_host(&a, "repair", id);
	nf_invite(&a, "repair", "editor", NULL, link);
	assert_int_equal(nf_join(&b, link), 0);
	assert_int_equal(nc_edits(b.p.runtime_dir, FIRST, 1, 1, 30000), FIRST);
	assert_int_equal(nc_edits(b.p.runtime_dir, BURST, 2, BURST, 30000), BURST);
	struct nf_daemon *both[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(both, 2, id, FIRST + BURST, NF_WAIT_MS), 0);
	nf_kill(&b, SIGTERM);

	/* Every record of the last batch gets a flipped byte in its body. */
	snprintf(dir_b, sizeof(dir_b), "%s/sessions/%s/log", b.p.state_dir, id);
	struct last_batch lb = { .batch = 0 };
	struct th_logscan_ops ops = { .record = on_record };
	struct th_logscan_result res;
	assert_int_equal(th_logscan_dir(dir_b, &ops, &lb, &res), 0);
	assert_true(res.ok);
	assert_true(lb.n >= 1);
	for (unsigned i = 0; i < lb.n; i++) {
		char seg[PATH_MAX + 96];
		assert_int_equal(th_logseg_path(dir_b, lb.rec[i].segment, seg, sizeof(seg)), 0);
		assert_int_equal(lt_flip_byte(seg, lb.rec[i].offset + lb.rec[i].len / 2, 0x5a), 0);
	}
	fprintf(stderr, "flipped a byte in each of the %u records of the member's last batch\n", lb.n);

	/* Recovery cuts them; the host sends them back. */
	assert_int_equal(nf_spawn(&b), 0);
	assert_int_equal(nf_wait_logs_equal(both, 2, id, FIRST + BURST, NF_WAIT_MS), 0);
	uint64_t end = th_now_ns() + 10 * TH_NS_PER_S;
	while (nf_metric(&b, "net_cut_repaired") != 1 && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_int_equal(nf_metric(&b, "net_cut_repaired"), 1);
	const char *log = th_daemon_log(&b.p);
	if (getenv("THETA_SHOW_LOG") || !strstr(log, "were repaired from a peer"))
		fprintf(stderr, "member log:\n%s\n", log);
	assert_non_null(strstr(log, "were repaired from a peer"));

	snprintf(dir_a, sizeof(dir_a), "%s/sessions/%s/log", a.p.state_dir, id);
	nf_kill(&a, SIGTERM);
	nf_kill(&b, SIGTERM);
	assert_int_equal(lf_logs_same(dir_a, dir_b, FIRST + BURST), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_members_damaged_last_batch_is_repaired_from_its_host, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
