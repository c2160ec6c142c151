/* thetad/net/net_sl_pose: the host passes a pose on only for an author that
 * belongs to the member it came from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/net_sl_pose.h"

static struct net_pose_owners g_o;

static const uint8_t *key(unsigned n)
{
	static uint8_t k[8][32];
	static unsigned at;
	uint8_t *p = k[at++ % 8];
	memset(p, 0, 32);
	p[0] = (uint8_t)n;
	p[1] = (uint8_t)(n >> 8);
	p[31] = 0xa5;
	return p;
}

static int setup(void **state)
{
	net_pose_owners_init(&g_o);
	return 0;
}

static void a_member_may_send_poses_for_its_own_key_and_its_users(void **state)
{
	/* Member 1 joined (its identity key 100) and relayed entries by user 101. */
	net_pose_owners_prove(&g_o, key(100), 1);
	net_pose_owners_prove(&g_o, key(101), 1);
	assert_int_equal(net_pose_owners_check(&g_o, key(100), 1), 0);
	assert_int_equal(net_pose_owners_check(&g_o, key(101), 1), 0);
}

static void a_member_cannot_send_poses_for_another_members_author(void **state)
{
	net_pose_owners_prove(&g_o, key(100), 1);
	net_pose_owners_prove(&g_o, key(200), 2);
	net_pose_owners_prove(&g_o, key(201), 2);
	assert_int_equal(net_pose_owners_check(&g_o, key(200), 1), -EPERM); /* member 2's key */
	assert_int_equal(net_pose_owners_check(&g_o, key(201), 1), -EPERM); /* member 2's user */
	/* Nor for the host's own users. */
	net_pose_owners_prove(&g_o, key(1), NET_POSE_OWNER_LOCAL);
	assert_int_equal(net_pose_owners_check(&g_o, key(1), 2), -EPERM);
}

static void an_unknown_author_is_claimed_by_the_first_member_and_no_one_else(void **state)
{
	/* A user of member 1 that has not edited yet. */
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 1), 0);
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 1), 0);
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 2), -EPERM);
}

static void an_entry_proves_ownership_over_a_false_claim(void **state)
{
	/* Member 2 claims member 1's user before that user edits... */
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 2), 0);
	/* ...until an entry by the user arrives from member 1. */
	net_pose_owners_prove(&g_o, key(150), 1);
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 2), -EPERM);
	assert_int_equal(net_pose_owners_check(&g_o, key(150), 1), 0);
}

static void claims_are_bounded_per_member_and_go_with_its_connection(void **state)
{
	for (unsigned i = 0; i < NET_POSE_CLAIMS_MAX; i++)
		assert_int_equal(net_pose_owners_check(&g_o, key(1000 + i), 3), 0);
	assert_int_equal(net_pose_owners_check(&g_o, key(2000), 3), -ENOSPC);
	/* Another member still may claim. */
	assert_int_equal(net_pose_owners_check(&g_o, key(3000), 4), 0);
	/* Proofs do not count against claims and outlive the connection. */
	net_pose_owners_prove(&g_o, key(500), 3);
	net_pose_owners_release(&g_o, 3);
	assert_int_equal(net_pose_owners_check(&g_o, key(1000), 4), 0); /* free again */
	assert_int_equal(net_pose_owners_check(&g_o, key(500), 4), -EPERM);
	assert_int_equal(net_pose_owners_check(&g_o, key(500), 3), 0);
}

static void a_full_table_makes_room_for_proofs_by_dropping_claims(void **state)
{
	unsigned n = 0;
	/* Fill with claims from many members, then proofs. */
	for (uint32_t m = 10; n < NET_POSE_OWNERS_MAX / 2; m++)
		for (unsigned i = 0; i < 4; i++, n++)
			assert_int_equal(net_pose_owners_check(&g_o, key(5000 + n), m), 0);
	for (; n < NET_POSE_OWNERS_MAX; n++)
		net_pose_owners_prove(&g_o, key(5000 + n), 7);
	assert_int_equal(g_o.n, NET_POSE_OWNERS_MAX);
	/* No room for another claim, but a proof still binds. */
	assert_int_equal(net_pose_owners_check(&g_o, key(9000), 8), -ENOSPC);
	net_pose_owners_prove(&g_o, key(9001), 8);
	assert_int_equal(net_pose_owners_check(&g_o, key(9001), 8), 0);
	assert_int_equal(net_pose_owners_check(&g_o, key(9001), 7), -EPERM);
	assert_int_equal(g_o.n, NET_POSE_OWNERS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_member_may_send_poses_for_its_own_key_and_its_users, setup),
		cmocka_unit_test_setup(a_member_cannot_send_poses_for_another_members_author, setup),
		cmocka_unit_test_setup(an_unknown_author_is_claimed_by_the_first_member_and_no_one_else, setup),
		cmocka_unit_test_setup(an_entry_proves_ownership_over_a_false_claim, setup),
		cmocka_unit_test_setup(claims_are_bounded_per_member_and_go_with_its_connection, setup),
		cmocka_unit_test_setup(a_full_table_makes_room_for_proofs_by_dropping_claims, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
