/* thetad/sess/invites.c: the invites a hosted session remembers. When the
 * list is full a new invite takes the place of one whose token is refused
 * without its record (expired, or single-use and used), never of a revoked
 * one that has not expired: the host admits a token it has no record of,
 * so dropping that record would make a revoked link valid again. Pure
 * (no files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sess/sessions.h"

#define NOW_S 1800000000ull

static struct sess_session sess; /* large: not on the stack */

static struct sess_invite inv(unsigned n, uint64_t expiry)
{
	struct sess_invite v = { .role = 2, .created_unix = NOW_S - 10, .expiry_unix = expiry };
	memcpy(v.nonce, &n, sizeof n);
	return v;
}

static int teardown(void **state)
{
	(void)state;
	free(sess.invites);
	memset(&sess, 0, sizeof sess);
	return 0;
}

static void a_full_list_makes_room_from_expired_and_used_invites_only(void **state)
{
	(void)state;
	/* 0: revoked, never expires; 1: revoked, not expired yet; 2: single
	 * use and used; 3: expired; the rest active. */
	for (unsigned i = 0; i < SESS_MAX_INVITES; i++) {
		struct sess_invite v = inv(i, i == 3 ? NOW_S - 1 : i == 1 ? NOW_S + 60 : 0);
		v.revoked = i < 2;
		v.single_use = i == 2;
		v.uses = i == 2;
		assert_int_equal(sess_invite_add(&sess, &v, NOW_S), 0);
	}
	assert_int_equal(sess.n_invites, SESS_MAX_INVITES);
	struct sess_invite a = inv(5000, 0), b = inv(5001, 0), c = inv(5002, 0);
	assert_int_equal(sess_invite_add(&sess, &a, NOW_S), 0); /* takes the used one's place */
	struct sess_invite n2 = inv(2, 0);
	assert_null(sess_invite_find(&sess, n2.nonce));
	assert_int_equal(sess_invite_add(&sess, &b, NOW_S), 0); /* the expired one's */
	struct sess_invite n3 = inv(3, 0);
	assert_null(sess_invite_find(&sess, n3.nonce));
	/* Only active and revoked unexpired invites are left: no room. */
	assert_int_equal(sess_invite_add(&sess, &c, NOW_S), -ENOSPC);
	assert_null(sess_invite_find(&sess, c.nonce));
	for (unsigned i = 0; i < 2; i++) {
		struct sess_invite r = inv(i, 0);
		struct sess_invite *f = sess_invite_find(&sess, r.nonce);
		assert_non_null(f);
		assert_true(f->revoked);
	}
	assert_non_null(sess_invite_find(&sess, a.nonce));
	assert_non_null(sess_invite_find(&sess, b.nonce));
	assert_int_equal(sess.n_invites, SESS_MAX_INVITES);
	/* Once the revoked one expires it may go (its token is refused as expired). */
	assert_int_equal(sess_invite_add(&sess, &c, NOW_S + 61), 0);
	struct sess_invite n1 = inv(1, 0);
	assert_null(sess_invite_find(&sess, n1.nonce));
	struct sess_invite n0 = inv(0, 0);
	assert_non_null(sess_invite_find(&sess, n0.nonce));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_full_list_makes_room_from_expired_and_used_invites_only, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
