/* thetad/net/net_voice_tab.c: a session's speaker table and the host's
 * checks of a member's voice frame (ownership, admin mute, rate per
 * speaker), in simulated time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net_voice.h"

#define MS (1000ull * 1000)

static struct net_voice_sess v;
static struct net_pose_owners o;

static void key_of(uint8_t k[32], unsigned i)
{
	memset(k, 0, 32);
	k[0] = (uint8_t)(i & 0xff);
	k[1] = (uint8_t)(i >> 8);
	k[31] = 0x77;
}

static int setup(void **state)
{
	net_voice_sess_init(&v, "0123456789abcdef0123456789abcdef");
	net_pose_owners_init(&o);
	return 0;
}

static void a_member_speaks_for_its_own_users_only(void **state)
{
	uint8_t host[32], m1[32], m2[32], user[32];
	key_of(host, 1000), key_of(m1, 1001), key_of(m2, 1002), key_of(user, 7);
	net_pose_owners_prove(&o, host, NET_POSE_OWNER_LOCAL);
	net_pose_owners_prove(&o, m1, 1);
	net_pose_owners_prove(&o, m2, 2);
	uint64_t t = 1000 * MS;
	assert_int_equal(net_voice_host_take(&v, &o, m1, 1, t), NET_VOICE_OK);
	assert_int_equal(net_voice_host_take(&v, &o, host, 1, t), NET_VOICE_NOT_OWNER); /* the host's own */
	assert_int_equal(net_voice_host_take(&v, &o, m2, 1, t), NET_VOICE_NOT_OWNER);   /* another member's */
	/* An unbound user is claimed by the first member that speaks for it. */
	assert_int_equal(net_voice_host_take(&v, &o, user, 2, t), NET_VOICE_OK);
	assert_int_equal(net_voice_host_take(&v, &o, user, 1, t), NET_VOICE_NOT_OWNER);
	assert_int_equal(net_voice_host_may_name(&o, user, 1), -EPERM);
	assert_int_equal(net_voice_host_may_name(&o, user, 2), 0);
	struct net_voice_speaker *sp = net_voice_find(&v, user);
	assert_non_null(sp);
	assert_int_equal(sp->owner, 2);
	assert_int_equal(sp->frames, 1);
	/* Refused frames make no table entry for the key. */
	assert_null(net_voice_find(&v, host));
	/* A member may claim only so many. */
	unsigned ok = 0;
	for (unsigned i = 0; i < NET_POSE_CLAIMS_MAX + 4; i++) {
		uint8_t k[32];
		key_of(k, 100 + i);
		ok += net_voice_host_take(&v, &o, k, 1, t) == NET_VOICE_OK;
	}
	assert_int_equal(ok, NET_POSE_CLAIMS_MAX);
}

static void a_flooding_speaker_is_dropped_and_another_is_not(void **state)
{
	uint8_t a[32], b[32];
	key_of(a, 1), key_of(b, 2);
	uint64_t t = 5000 * MS;
	unsigned a_ok = 0, a_over = 0, b_ok = 0;
	/* 1000 frames of a in 100 ms (ten times its rate) beside b's 10 ms frames. */
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t now = t + i * 100000ull;
		enum net_voice_verdict vd = net_voice_host_take(&v, &o, a, 1, now);
		a_ok += vd == NET_VOICE_OK;
		a_over += vd == NET_VOICE_OVER_RATE;
		if (i % 100 == 0)
			b_ok += net_voice_host_take(&v, &o, b, 1, now) == NET_VOICE_OK;
	}
	assert_int_equal(b_ok, 10);
	assert_int_equal(a_ok + a_over, 1000);
	/* The burst, and the rate over 100 ms (12 frames), give or take one. */
	assert_true(a_ok >= NET_VOICE_SPEAKER_BURST + 10 && a_ok <= NET_VOICE_SPEAKER_BURST + 13);
	assert_int_equal(net_voice_find(&v, a)->dropped, a_over);
	/* After a pause a speaks again at its rate. */
	uint64_t later = t + 2000 * MS;
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(net_voice_host_take(&v, &o, a, 1, later + i * 10 * MS), NET_VOICE_OK);
}

static void an_admin_mute_stops_a_speaker_or_a_whole_member(void **state)
{
	uint8_t a[32], b[32], c[32];
	key_of(a, 1), key_of(b, 2), key_of(c, 3);
	uint64_t t = 1000 * MS;
	assert_int_equal(net_voice_host_take(&v, &o, a, 1, t), NET_VOICE_OK);
	assert_int_equal(net_voice_host_take(&v, &o, b, 1, t), NET_VOICE_OK);
	net_voice_find(&v, a)->muted = true;
	assert_int_equal(net_voice_host_take(&v, &o, a, 1, t + 10 * MS), NET_VOICE_MUTED);
	assert_int_equal(net_voice_host_take(&v, &o, b, 1, t + 10 * MS), NET_VOICE_OK);
	net_voice_find(&v, a)->muted = false;
	assert_int_equal(net_voice_host_take(&v, &o, a, 1, t + 20 * MS), NET_VOICE_OK);

	/* The whole member: every speaker it has, and new ones start muted. */
	assert_int_equal(net_voice_mute_peer(&v, 1, true), 1);
	assert_int_equal(net_voice_mute_peer(&v, 1, true), 0);
	assert_true(net_voice_peer_muted(&v, 1));
	assert_int_equal(net_voice_host_take(&v, &o, b, 1, t + 30 * MS), NET_VOICE_MUTED);
	bool new_muted;
	struct net_voice_speaker *sp = net_voice_add(&v, c, 1, t, &new_muted);
	assert_true(new_muted);
	assert_true(sp->muted);
	assert_int_equal(net_voice_mute_peer(&v, 1, false), 1);
	assert_int_equal(net_voice_mute_peer(&v, 1, false), 0);
	assert_int_equal(net_voice_host_take(&v, &o, b, 1, t + 40 * MS), NET_VOICE_OK);
	/* Taking the member off the list leaves its speakers' own flags as they are (c
	 * started muted with it): the glue, net_voice_host_mute, clears those one by one. */
	assert_int_equal(net_voice_host_take(&v, &o, c, 1, t + 40 * MS), NET_VOICE_MUTED);

	/* Bounded. */
	for (uint32_t p = 10; p < 10 + NET_VOICE_MUTED_PEERS_MAX; p++)
		assert_int_equal(net_voice_mute_peer(&v, p, true), 1);
	assert_int_equal(net_voice_mute_peer(&v, 99, true), -ENOSPC);
}

static void the_table_is_bounded_and_keeps_muted_speakers(void **state)
{
	bool nm;
	for (unsigned i = 0; i < NET_VOICE_SPEAKERS_MAX; i++) {
		uint8_t k[32];
		key_of(k, i);
		struct net_voice_speaker *sp = net_voice_add(&v, k, 1, 1000 + i, &nm);
		assert_non_null(sp);
		sp->muted = i != 5; /* one unmuted speaker, the one to replace */
	}
	uint8_t k[32], k5[32];
	key_of(k, 500), key_of(k5, 5);
	struct net_voice_speaker *sp = net_voice_add(&v, k, 1, 9999, &nm);
	assert_non_null(sp);
	assert_int_equal(v.n, NET_VOICE_SPEAKERS_MAX);
	assert_null(net_voice_find(&v, k5));
	assert_non_null(net_voice_find(&v, k));
	sp->muted = true;
	key_of(k, 501);
	assert_null(net_voice_add(&v, k, 1, 10000, &nm)); /* every slot muted: nothing is dropped to make room */
	assert_int_equal(net_voice_host_take(&v, &o, k, 1, 10000), NET_VOICE_FULL);
}

static void speakers_are_found_by_name(void **state)
{
	uint8_t a[32], b[32], c[32];
	key_of(a, 1), key_of(b, 2), key_of(c, 3);
	bool nm;
	snprintf(net_voice_add(&v, a, 1, 1, &nm)->name, PROTO_SESS_VOICE_NAME_MAX + 1, "ada");
	snprintf(net_voice_add(&v, b, 2, 1, &nm)->name, PROTO_SESS_VOICE_NAME_MAX + 1, "bob");
	snprintf(net_voice_add(&v, c, 2, 1, &nm)->name, PROTO_SESS_VOICE_NAME_MAX + 1, "bob");
	struct net_voice_speaker *sp;
	assert_int_equal(net_voice_by_name(&v, "ada", &sp), 1);
	assert_memory_equal(sp->key, a, 32);
	assert_int_equal(net_voice_by_name(&v, "bob", &sp), 2);
	assert_int_equal(net_voice_by_name(&v, "eve", &sp), 0);
	assert_null(sp);
	assert_int_equal(net_voice_by_name(&v, "", &sp), 0); /* unnamed speakers are not "" */
}

static void a_speakers_name_changes_are_bounded(void **state)
{
	uint8_t a[32], b[32];
	key_of(a, 1), key_of(b, 2);
	bool nm;
	uint64_t t = 1000 * MS;
	struct net_voice_speaker *sa = net_voice_add(&v, a, 1, t, &nm), *sb = net_voice_add(&v, b, 1, t, &nm);
	for (unsigned i = 0; i < NET_VOICE_NAME_BURST; i++)
		assert_true(net_voice_host_rename_ok(sa, t));
	assert_false(net_voice_host_rename_ok(sa, t));
	assert_true(net_voice_host_rename_ok(sb, t)); /* each speaker its own */
	assert_false(net_voice_host_rename_ok(sa, t + 1000 * MS / NET_VOICE_NAME_RATE_PER_S / 2));
	assert_true(net_voice_host_rename_ok(sa, t + 1000 * MS / NET_VOICE_NAME_RATE_PER_S));
	assert_false(net_voice_host_rename_ok(sa, t + 1000 * MS / NET_VOICE_NAME_RATE_PER_S));
}

static void loss_is_one_directions_share_of_the_round_trips(void **state)
{
	assert_int_equal(net_voice_loss_pct(0), 0);
	assert_int_equal(net_voice_loss_pct(-1), 0);
	assert_int_equal(net_voice_loss_pct(1), 100);
	assert_int_equal(net_voice_loss_pct(0.0975), 5); /* 5 % each way */
	assert_int_equal(net_voice_loss_pct(0.19), 10);
	assert_int_equal(net_voice_loss_pct(0.01), 1);   /* rounded up: FEC errs on the safe side */
	assert_int_equal(net_voice_loss_pct(1.0 / 64), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(a_member_speaks_for_its_own_users_only, setup),
		cmocka_unit_test_setup(a_flooding_speaker_is_dropped_and_another_is_not, setup),
		cmocka_unit_test_setup(an_admin_mute_stops_a_speaker_or_a_whole_member, setup),
		cmocka_unit_test_setup(the_table_is_bounded_and_keeps_muted_speakers, setup),
		cmocka_unit_test_setup(speakers_are_found_by_name, setup),
		cmocka_unit_test_setup(a_speakers_name_changes_are_bounded, setup),
		cmocka_unit_test(loss_is_one_directions_share_of_the_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
