/* Two daemons in their own network namespaces joined by a veth pair (root
 * only; prints SKIP otherwise): the host in one namespace, the joiner in the
 * other, both with the impairment layer in their datagram path (10% loss,
 * 50 ms delay with 10 ms jitter, reordering, duplication), clients editing
 * on both, then a real partition (the joiner's veth end goes down) during
 * which both keep editing, and the heal: the logs end identical.
 *
 * Addresses are private 10.x addresses, used only inside the namespaces
 * this test creates and deletes (the veth pair goes with them). The same
 * scenario without root runs on loopback in test_sessions_faults.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>

#include "net_client.h"
#include "net_fixture.h"

#define IMPAIR "loss=10%,delay=50ms,jitter=10ms,reorder=0.05,dup=0.01"

static char ns_a[32], ns_b[32], veth_a[16], veth_b[16], addr_a[32], addr_b[32];
static bool made;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char o[4096], e[4096];
	int rc = th_run(argv, NULL, -1, o, sizeof(o), e, sizeof(e), 10000);
	if (rc != 0)
		fprintf(stderr, "`%s` failed (%d): %s\n", cmd, rc, e);
	return rc;
}

static void netns_down(void)
{
	if (!made)
		return;
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null; true", ns_a, ns_b);
	made = false;
}

static int netns_up(void)
{
	unsigned tag = (unsigned)getpid() % 200 + 20;
	snprintf(ns_a, sizeof(ns_a), "theta-a-%d", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "theta-b-%d", (int)getpid());
	snprintf(veth_a, sizeof(veth_a), "thva%u", tag);
	snprintf(veth_b, sizeof(veth_b), "thvb%u", tag);
	snprintf(addr_a, sizeof(addr_a), "10.231.%u.1", tag);
	snprintf(addr_b, sizeof(addr_b), "10.231.%u.2", tag);
	made = true;
	if (sh("ip netns add %s && ip netns add %s", ns_a, ns_b) ||
	    sh("ip link add %s netns %s type veth peer name %s netns %s", veth_a, ns_a, veth_b, ns_b) ||
	    sh("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up && ip -n %s link set lo up", ns_a, addr_a,
	       veth_a, ns_a, veth_a, ns_a) ||
	    sh("ip -n %s addr add %s/24 dev %s && ip -n %s link set %s up && ip -n %s link set lo up", ns_b, addr_b,
	       veth_b, ns_b, veth_b, ns_b))
		return -1;
	return 0;
}

/* Starts d inside namespace ns: the test process enters it just for the
 * fork, so the daemon (and only the daemon) lives there. */
static void start_in(struct nf_daemon *d, const char *ns, const char *const *extra)
{
	char path[64];
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(self >= 0 && target >= 0);
	assert_int_equal(setns(target, CLONE_NEWNET), 0);
	nf_start(d, extra, NULL);
	assert_int_equal(setns(self, CLONE_NEWNET), 0);
	close(self);
	close(target);
}

static void edit(struct nf_daemon *d, int n, uint64_t entity)
{
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d->p.runtime_dir, 5000), 0);
	for (int i = 0; i < n; i++) {
		uint8_t payload[16];
		memset(payload, i & 0xff, sizeof(payload));
		assert_true(nc_submit(&c, entity, payload, sizeof(payload)) > 0);
	}
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (c.acks + c.rejects < (uint64_t)n && th_now_ns() < end)
		assert_true(nc_poll(&c, 50) >= 0);
	assert_int_equal(c.acks, n);
	nc_close(&c);
}

static int teardown(void **state)
{
	nf_teardown(state);
	netns_down();
	return 0;
}

static void daemons_in_namespaces_with_a_bad_link_and_a_healed_partition_converge(void **state)
{
	if (!th_is_root()) {
		fprintf(stderr, "SKIP: needs root for network namespaces\n");
		skip();
	}
	if (netns_up() < 0) {
		fprintf(stderr, "SKIP: cannot create network namespaces and a veth pair here\n");
		netns_down();
		skip();
	}
	struct nf_daemon a, b;
	char id[33], link[600];
	const char *const args[] = { "--impair", IMPAIR, "--peer-timeout", "1500ms", NULL };
	start_in(&a, ns_a, args);
	start_in(&b, ns_b, args);
	nf_host(&a, "apart", id);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "apart", "--role", "editor", "--host", addr_a, NULL }),
			 0);
	nf_out[strcspn(nf_out, "\n")] = 0;
	snprintf(link, sizeof(link), "%s", nf_out);
	int rc = nf_join(&b, link);
	if (rc)
		fprintf(stderr, "join: %s\n%s\n", nf_err, th_daemon_log(&b.p));
	assert_int_equal(rc, 0);
	edit(&a, 20, 1);
	edit(&b, 20, 1);

	/* Partition: the joiner's end of the link goes down. */
	assert_int_equal(sh("ip -n %s link set %s down", ns_b, veth_b), 0);
	edit(&a, 15, 2);
	edit(&b, 15, 2);
	uint64_t end = th_now_ns() + 15 * TH_NS_PER_S;
	while (nf_active_peers(&a) != 0 && th_now_ns() < end)
		th_sleep_ns(50 * TH_NS_PER_MS);
	assert_int_equal(nf_active_peers(&a), 0);
	edit(&b, 5, 3);

	/* Heal. */
	assert_int_equal(sh("ip -n %s link set %s up", ns_b, veth_b), 0);
	struct nf_daemon *both[] = { &a, &b };
	assert_int_equal(nf_wait_logs_equal(both, 2, id, 75, 90000), 0);
	nf_cleanup(&a);
	nf_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(daemons_in_namespaces_with_a_bad_link_and_a_healed_partition_converge, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
