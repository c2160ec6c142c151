/* PRESENCE through the link (theta-client/link/io.c), against the fake
 * daemon of link_fake.h: this user's (link_set_presence) kept before a
 * connection, written after the welcome, again only on change, the newest
 * of several unsent ones once, again after a reconnect while it shows
 * something; refused locally when the wire would refuse it. Others' from
 * the daemon to on_presence. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link_fake.h"
#include "th_time.h"

/* The PRESENCE records the fake daemon finds in the ring (the last into *last). */
static int fake_presences(struct fake *f, struct proto_ipc_presence *last)
{
	int n = 0;
	uint16_t type;
	union proto_ipc_any m;
	while (fake_next(f, &type, &m)) {
		if (type == PROTO_IPC_T_PRESENCE) {
			*last = m.presence;
			n++;
		}
	}
	return n;
}

static struct proto_ipc_presence cursor_at(float x)
{
	return (struct proto_ipc_presence){ .entity = 0x55, .t_ns = 1, .flags = PROTO_IPC_PRES_F_CURSOR, .tool = 2,
					    .cx = x, .cy = 1.2f, .cz = -0.3f, .rw = 1 };
}

struct seen {
	int calls;
	struct proto_ipc_presence last;
};

static void on_presence(void *user_data, struct sim_world *w, const struct proto_ipc_presence *p)
{
	(void)w;
	struct seen *s = user_data;
	s->calls++;
	s->last = *p;
}

static void presence_both_ways_with_a_fake_daemon(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f);
	struct seen seen = { 0 };
	struct link_config cfg = { .runtime_dir = f.dir, .name = "test-link", .mode = PROTO_IPC_MODE_XR,
				   .cb = { .on_presence = on_presence }, .user_data = &seen };
	struct link *l;
	assert_int_equal(link_create(&cfg, &l), 0);
	const struct link_stats *st = link_get_stats(l);
	struct app_transport *t = link_transport(l);
	uint64_t now = 5000 * TH_NS_PER_S;

	/* Set before any connection: kept. What the wire refuses changes nothing. */
	struct proto_ipc_presence p = cursor_at(0.5f);
	assert_int_equal(link_set_presence(l, &p, now), 0);
	struct proto_ipc_presence bad = p;
	bad.flags |= PROTO_IPC_PRES_F_SPEAKING; /* the daemon's to say */
	assert_int_equal(link_set_presence(l, &bad, now), -EINVAL);
	bad = p;
	bad.cy = NAN;
	assert_int_equal(link_set_presence(l, &bad, now), -EINVAL);
	bad = p;
	bad.tool = 256;
	assert_int_equal(link_set_presence(l, &bad, now), -EINVAL);

	fake_connect(&f, l, now);
	struct app_outgoing o = { 0 };
	assert_int_equal(app_transport_publish(t, &o, now + 1), 0);
	struct proto_ipc_presence got;
	assert_int_equal(fake_presences(&f, &got), 1);
	assert_true(got.entity == 0); /* this client's own user: the daemon names it */
	assert_true(got.t_ns == now); /* when it was set */
	assert_int_equal(got.flags, PROTO_IPC_PRES_F_CURSOR);
	assert_int_equal(got.tool, 2);
	assert_float_equal(got.cx, 0.5f, 0);

	/* The same value every frame sends nothing; a change sends one. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(link_set_presence(l, &p, now + 2), 0);
	assert_int_equal(fake_presences(&f, &got), 0);
	struct proto_ipc_presence drag = cursor_at(0.6f);
	drag.flags |= PROTO_IPC_PRES_F_PREVIEW;
	drag.target = 0xabc;
	drag.tx = 1, drag.ty = 2, drag.tz = 3, drag.ry = 0.6f, drag.rw = 0.8f;
	assert_int_equal(link_set_presence(l, &drag, now + 3), 0);
	assert_int_equal(fake_presences(&f, &got), 1);
	assert_int_equal(got.flags, PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW);
	assert_true(got.target == 0xabc);
	assert_float_equal(got.tz, 3, 0);
	assert_float_equal(got.ry, 0.6f, 0);
	assert_true(got.t_ns == now + 3);
	assert_int_equal(st->presences_sent, 2);

	/* Others' presence from the daemon: to on_presence, as it came. */
	struct proto_ipc_presence theirs = drag;
	theirs.entity = 0x1122;
	theirs.flags = PROTO_IPC_PRES_F_SPEAKING | PROTO_IPC_PRES_F_CURSOR;
	uint8_t b[PROTO_IPC_MAXSZ_PRESENCE];
	int n = proto_ipc_encode_presence(&theirs, b, sizeof b);
	assert_true(n > 0);
	assert_int_equal(th_ring_push(&f.out, PROTO_IPC_T_PRESENCE, b, (uint32_t)n), 0);
	assert_int_equal(app_transport_drain(t, NULL, now + 4), 1);
	assert_int_equal(seen.calls, 1);
	assert_true(seen.last.entity == 0x1122);
	assert_int_equal(seen.last.flags, PROTO_IPC_PRES_F_SPEAKING | PROTO_IPC_PRES_F_CURSOR);
	assert_float_equal(seen.last.cx, drag.cx, 0);
	assert_int_equal(st->remote_presences, 1);

	/* The daemon goes: changes meanwhile are coalesced, the newest sent
	 * once after the next welcome. */
	fake_drop_conn(&f);
	uint64_t t1 = now + 5;
	link_poll(l, t1 + LINK_SOCK_CHECK_NS);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	uint64_t drops = st->drops;
	for (int i = 0; i < 5; i++) {
		struct proto_ipc_presence q = cursor_at(0.7f + 0.01f * (float)i);
		assert_int_equal(link_set_presence(l, &q, t1 + LINK_SOCK_CHECK_NS + 1), 0);
	}
	assert_int_equal(st->drops, drops + 4);
	uint64_t t2 = t1 + LINK_SOCK_CHECK_NS + 2 * LINK_BACKOFF_MIN_NS;
	fake_connect(&f, l, t2);
	assert_int_equal(app_transport_publish(t, &o, t2 + 1), 0);
	assert_int_equal(fake_presences(&f, &got), 1);
	assert_float_equal(got.cx, 0.74f, 1e-6);

	/* Ended (flags cleared) before a reconnect: nothing to tell the new
	 * connection. */
	struct proto_ipc_presence none = { .rw = 1 };
	assert_int_equal(link_set_presence(l, &none, t2 + 2), 0);
	assert_int_equal(fake_presences(&f, &got), 1);
	assert_int_equal(got.flags, 0);
	fake_drop_conn(&f);
	uint64_t t3 = t2 + 3;
	link_poll(l, t3 + LINK_SOCK_CHECK_NS);
	assert_int_equal(link_get_state(l), LINK_IDLE);
	uint64_t t4 = t3 + LINK_SOCK_CHECK_NS + 2 * LINK_BACKOFF_MAX_NS;
	fake_connect(&f, l, t4);
	assert_int_equal(app_transport_publish(t, &o, t4 + 1), 0);
	assert_int_equal(fake_presences(&f, &got), 0);
	assert_int_equal(st->violations, 0);

	link_destroy(&l);
	fake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(presence_both_ways_with_a_fake_daemon),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
