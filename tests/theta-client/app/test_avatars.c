/* theta-client/app/avatars.c: other users' poses as POSE_UPDATEs deliver
 * them (one part each), aged by the caller's clock, checked. Interpolation,
 * clocks and presence: test_avatars_interp.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "app/avatars.h"

#define MS (1000ull * 1000)
#define ALICE 0x1122334455667788ull
#define BOB 0x0102030405060708ull

static struct proto_ipc_pose_update pose(uint64_t entity, uint32_t flags, uint64_t t_ns, float x, float y, float z)
{
	return (struct proto_ipc_pose_update){ .entity = entity, .t_ns = t_ns, .px = x, .py = y, .pz = z, .qw = 1,
					       .flags = flags };
}

/* What is shown once every delay and extrapolation has run out: each
 * part's newest sample (these tests send no motion). */
#define SETTLED (APP_AVATARS_DELAY_MAX_NS + APP_AVATARS_EXTRAP_MAX_NS + MS)

static struct app_avatars *make(void)
{
	struct app_avatars *a = NULL;
	assert_int_equal(app_avatars_create(&a), 0);
	return a;
}

static void parts_arrive_one_by_one(void **state)
{
	struct app_avatars *a = make();
	struct proto_ipc_pose_update p = pose(ALICE, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 10, 0, 1.6f, 0);
	/* A slightly long quaternion is normalised. */
	p.qw = 0.9995f;
	p.qy = 0.0f;
	assert_int_equal(app_avatars_on_pose(a, &p, 100 * MS), 0);
	assert_int_equal(app_avatars_count(a), 1);
	assert_int_equal(app_avatars_get(a, 0)->pose.valid, 0); /* shown from the next frame */
	assert_int_equal(app_avatars_frame(a, 100 * MS), 0);
	const struct app_avatar *u = app_avatars_get(a, 0);
	assert_non_null(u);
	assert_true(u->entity == ALICE);
	assert_int_equal(u->pose.valid, TH_POSE_VALID_HEAD);
	assert_float_equal(u->pose.head_position[1], 1.6f, 1e-6);
	assert_float_equal(u->pose.head_rotation[3], 1.0f, 1e-6);
	assert_true(u->first_ns == 100 * MS);

	p = pose(ALICE, PROTO_IPC_POSE_F_LEFT | PROTO_IPC_POSE_F_TRACKED, 11, -0.2f, 1.2f, -0.3f);
	assert_int_equal(app_avatars_on_pose(a, &p, 101 * MS), 0);
	p = pose(ALICE, PROTO_IPC_POSE_F_RIGHT | PROTO_IPC_POSE_F_TRACKED, 12, 0.2f, 1.2f, -0.3f);
	p.qw = 0.70710678f;
	p.qx = 0.70710678f;
	assert_int_equal(app_avatars_on_pose(a, &p, 102 * MS), 0);
	assert_int_equal(app_avatars_count(a), 1);
	app_avatars_frame(a, 102 * MS + SETTLED);
	u = app_avatars_find(a, ALICE);
	assert_ptr_equal(u, app_avatars_get(a, 0));
	assert_int_equal(u->pose.valid, TH_POSE_VALID_HEAD | TH_POSE_VALID_LEFT | TH_POSE_VALID_RIGHT);
	assert_float_equal(u->pose.left_position[0], -0.2f, 1e-6);
	assert_float_equal(u->pose.right_position[2], -0.3f, 1e-6);
	assert_float_equal(u->pose.right_rotation[0], 0.70710678f, 1e-6);
	assert_true(u->seen_ns[APP_AVATAR_RIGHT] == 102 * MS);

	/* Untracked: the part stops being shown, the others stay. */
	p = pose(ALICE, PROTO_IPC_POSE_F_LEFT, 13, 0, 0, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, 103 * MS), 0);
	app_avatars_frame(a, 103 * MS + SETTLED);
	assert_int_equal(u->shown[APP_AVATAR_LEFT], APP_AVATAR_SHOWN_NONE);
	assert_int_equal(u->shown[APP_AVATAR_HEAD], APP_AVATAR_SHOWN_HOLD);
	assert_int_equal(u->pose.valid, TH_POSE_VALID_HEAD | TH_POSE_VALID_RIGHT);
	assert_float_equal(u->pose.left_position[0], -0.2f, 1e-6); /* the last good pose is kept */

	/* A second user is a second record, after the first. */
	p = pose(BOB, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 5, 1, 1.7f, 1);
	assert_int_equal(app_avatars_on_pose(a, &p, 104 * MS), 0);
	assert_int_equal(app_avatars_count(a), 2);
	assert_true(app_avatars_get(a, 1)->entity == BOB);
	assert_null(app_avatars_get(a, 2));
	assert_null(app_avatars_find(a, 0x99));
	assert_int_equal(app_avatars_stats(a)->updates, 5);
	assert_int_equal(app_avatars_stats(a)->joined, 2);
	app_avatars_destroy(&a);
	assert_null(a);
}

static void quiet_parts_and_users_time_out(void **state)
{
	struct app_avatars *a = make();
	uint64_t t0 = 5000 * MS;
	struct proto_ipc_pose_update p = pose(ALICE, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 1, 0, 1.6f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, t0), 0);
	p = pose(ALICE, PROTO_IPC_POSE_F_RIGHT | PROTO_IPC_POSE_F_TRACKED, 1, 0.2f, 1.2f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, t0), 0);
	p = pose(BOB, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 1, 1, 1.6f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, t0), 0);

	/* Just under the timeout nothing changes. */
	assert_int_equal(app_avatars_frame(a, t0 + APP_AVATARS_TIMEOUT_NS - 1), 0);
	assert_int_equal(app_avatars_count(a), 2);
	assert_int_equal(app_avatars_find(a, ALICE)->pose.valid, TH_POSE_VALID_HEAD | TH_POSE_VALID_RIGHT);

	/* Alice's head keeps coming, her right hand stops; Bob stops. */
	uint64_t t1 = t0 + APP_AVATARS_TIMEOUT_NS / 2;
	p = pose(ALICE, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 2, 0, 1.6f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, t1), 0);
	assert_int_equal(app_avatars_frame(a, t0 + APP_AVATARS_TIMEOUT_NS), 1);
	assert_int_equal(app_avatars_count(a), 1);
	assert_null(app_avatars_find(a, BOB));
	assert_int_equal(app_avatars_find(a, ALICE)->pose.valid, TH_POSE_VALID_HEAD);

	/* Then she goes quiet too. */
	assert_int_equal(app_avatars_frame(a, t1 + APP_AVATARS_TIMEOUT_NS), 1);
	assert_int_equal(app_avatars_count(a), 0);
	assert_int_equal(app_avatars_stats(a)->timed_out, 2);

	/* Coming back is a new record. */
	p = pose(BOB, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 3, 1, 1.6f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, t1 + APP_AVATARS_TIMEOUT_NS), 0);
	assert_int_equal(app_avatars_count(a), 1);
	assert_true(app_avatars_get(a, 0)->first_ns == t1 + APP_AVATARS_TIMEOUT_NS);
	assert_int_equal(app_avatars_stats(a)->joined, 3);
	app_avatars_destroy(&a);
}

static void dropping_keeps_the_order_of_the_rest(void **state)
{
	struct app_avatars *a = make();
	for (uint64_t u = 1; u <= 5; u++) {
		struct proto_ipc_pose_update p = pose(u, PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED, 1, (float)u, 0, 0);
		assert_int_equal(app_avatars_on_pose(a, &p, (u % 2 ? 1 : 3) * APP_AVATARS_TIMEOUT_NS), 0);
	}
	/* 1, 3, 5 were seen at the timeout, 2 and 4 at three times it. */
	assert_int_equal(app_avatars_frame(a, 3 * APP_AVATARS_TIMEOUT_NS), 3);
	assert_int_equal(app_avatars_count(a), 2);
	assert_true(app_avatars_get(a, 0)->entity == 2);
	assert_true(app_avatars_get(a, 1)->entity == 4);
	assert_float_equal(app_avatars_get(a, 1)->pose.head_position[0], 4.0f, 0);
	app_avatars_destroy(&a);
}

static void bad_updates_are_dropped_and_counted(void **state)
{
	struct app_avatars *a = make();
	uint32_t head = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED;
	struct proto_ipc_pose_update p = pose(0, head, 1, 0, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL); /* this client's own */
	p = pose(ALICE, PROTO_IPC_POSE_F_TRACKED, 1, 0, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL); /* no part */
	p = pose(ALICE, head, 1, APP_AVATARS_REACH_MAX * 1.01f, 0, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL); /* out of reach */
	p = pose(ALICE, head, 1, 0, 1, 0);
	p.qw = 0.5f;
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL); /* not a rotation */
	p.qw = 0;
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL);
	p.qw = NAN;
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL);
	p = pose(ALICE, head, 1, NAN, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -EINVAL);
	assert_int_equal(app_avatars_count(a), 0);
	const struct app_avatars_stats *st = app_avatars_stats(a);
	assert_int_equal(st->self, 1);
	assert_int_equal(st->no_part, 1);
	assert_int_equal(st->invalid, 5);
	assert_int_equal(st->updates, 0);

	/* An untracked part needs no pose: the user appears with nothing shown. */
	p = pose(ALICE, PROTO_IPC_POSE_F_LEFT, 1, NAN, 0, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), 0);
	assert_int_equal(app_avatars_find(a, ALICE)->pose.valid, 0);

	/* Reordered: older than the part's last update, by less than the
	 * reorder window. Another part is not affected. */
	uint64_t t = 10 * APP_AVATARS_REORDER_NS;
	p = pose(ALICE, head, t, 0, 1.5f, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, 2 * MS), 0);
	p = pose(ALICE, head, t - 1, 0, 9, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, 3 * MS), -EINVAL);
	app_avatars_frame(a, 3 * MS + SETTLED);
	assert_float_equal(app_avatars_find(a, ALICE)->pose.head_position[1], 1.5f, 0);
	assert_int_equal(st->reordered, 1);
	p = pose(ALICE, PROTO_IPC_POSE_F_RIGHT | PROTO_IPC_POSE_F_TRACKED, t - 1, 0, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, 3 * MS), 0);
	/* A step back past the window is a restarted sender: taken. */
	p = pose(ALICE, head, t - APP_AVATARS_REORDER_NS, 0, 1.7f, 0);
	uint64_t resets = st->clock_resets;
	assert_int_equal(app_avatars_on_pose(a, &p, 4 * MS), 0);
	assert_int_equal(st->clock_resets, resets + 1); /* its clock starts again */
	app_avatars_frame(a, 4 * MS + SETTLED);
	assert_float_equal(app_avatars_find(a, ALICE)->pose.head_position[1], 1.7f, 0);
	app_avatars_destroy(&a);
}

static void at_most_max_users(void **state)
{
	struct app_avatars *a = make();
	uint32_t head = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED;
	for (uint64_t u = 1; u <= APP_AVATARS_MAX; u++) {
		struct proto_ipc_pose_update p = pose(u, head, 1, 0, 1, 0);
		assert_int_equal(app_avatars_on_pose(a, &p, MS), 0);
	}
	struct proto_ipc_pose_update p = pose(APP_AVATARS_MAX + 1, head, 1, 0, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, MS), -ENOSPC);
	assert_int_equal(app_avatars_stats(a)->full, 1);
	assert_int_equal(app_avatars_count(a), APP_AVATARS_MAX);
	/* Those shown still update; once some go, a newcomer fits. */
	p = pose(7, head, 2, 0, 2, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, APP_AVATARS_TIMEOUT_NS), 0);
	assert_int_equal(app_avatars_frame(a, APP_AVATARS_TIMEOUT_NS + MS), APP_AVATARS_MAX - 1);
	p = pose(APP_AVATARS_MAX + 1, head, 1, 0, 1, 0);
	assert_int_equal(app_avatars_on_pose(a, &p, APP_AVATARS_TIMEOUT_NS + MS), 0);
	assert_int_equal(app_avatars_count(a), 2);
	assert_null(app_avatars_get(NULL, 0));
	assert_int_equal(app_avatars_count(NULL), 0);
	app_avatars_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parts_arrive_one_by_one),
		cmocka_unit_test(quiet_parts_and_users_time_out),
		cmocka_unit_test(dropping_keeps_the_order_of_the_rest),
		cmocka_unit_test(bad_updates_are_dropped_and_counted),
		cmocka_unit_test(at_most_max_users),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
