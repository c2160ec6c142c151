/* The catch-up engine (thetad/net/net_catchup.c) between two real logs in
 * a temporary directory: the host's log is read through a cursor, the
 * ENTRIES it sends go through a bounded fake stream, and the member
 * integrates each MORE sequence into its own log as the daemon does. The
 * member's SYNC is built from its log's heads. Covers: a fresh member gets
 * everything, a member with a prefix is caught up from the first position
 * it lacks (nothing before is read), the stream never holds more than its
 * room, every signature arrives in the sequence of the entries it covers,
 * a SYNC during a round updates it without resending (as does one written
 * before the member had the round's tail), a round cut by a
 * reconnect resumes where the member stands, entries made durable during a
 * round are sent by it, a cursor reading ahead on the worker wakes the round
 * through ready(), and a divergent author is reported once and
 * skipped while the others sync; and the watch that says when a range cut
 * by recovery is back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clog/clog.h"
#include "net/net_catchup.h"
#include "session.h"
#include "th_clogtest.h"
#include "th_harness.h"
#include "th_logtest.h"
#include "th_time.h"

#define NOW 1000000000ull
#define STREAM_CAP (1u << 20) /* what the fake stream holds unread */
#define AUTHORS 3
#define ACC_MAX (16u << 20) /* a MORE sequence the member holds, as NET_ACC_MAX_BYTES */

struct side {
	char dir[300];
	struct clog *c;
	uint64_t rejects;
};

struct fx {
	char root[256];
	struct side host, member, fork;
	struct lt_author a[AUTHORS];
	uint64_t req;
	uint8_t payload[300];
	/* the fake stream: bytes written, not yet read by the member */
	uint8_t *buf;
	size_t len, max_len;
	size_t room_cap; /* what room() offers at most (STREAM_CAP - len) */
	bool dead;       /* room() is 0 */
	bool fail_send;  /* send fails */
	unsigned ready_calls;
	uint64_t now; /* simulated time of the engine's calls */
	uint64_t frames, more_frames, integrated;
	uint8_t *acc; /* the member's MORE sequence so far */
	size_t acc_len, acc_n;
};

static int role_of(void *user, const uint8_t author[32]) { return TH_ROLE_EDITOR; }

static void on_reject(void *user, uint32_t source, const struct th_logrec_entry *e, int reason)
{
	struct side *s = user;
	s->rejects++;
}

static void side_open(struct fx *f, struct side *s, const char *name)
{
	snprintf(s->dir, sizeof(s->dir), "%s/%s", f->root, name);
	struct clog_config cfg = { .rate_per_s = 1000000, .rate_burst = 1000000, .pending_per_source = 1u << 16 };
	struct clog_callbacks cb = { .on_reject = on_reject, .role_of = role_of };
	assert_int_equal(clog_open(s->dir, &cfg, &cb, s, &s->c, NULL), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(th_mkdtemp(f->root, sizeof(f->root)), 0);
	side_open(f, &f->host, "host");
	side_open(f, &f->member, "member");
	side_open(f, &f->fork, "fork");
	for (int i = 0; i < AUTHORS; i++)
		lt_author_init(&f->a[i], (uint8_t)(0x10 + 0x20 * i));
	for (size_t i = 0; i < sizeof(f->payload); i++)
		f->payload[i] = (uint8_t)(i * 7);
	f->buf = malloc(STREAM_CAP);
	f->acc = malloc(ACC_MAX);
	f->room_cap = STREAM_CAP;
	f->now = NOW;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->host.c);
	clog_close(&f->member.c);
	clog_close(&f->fork.c);
	th_rm_rf(f->root);
	free(f->buf);
	free(f->acc);
	free(f);
	return 0;
}

/* One local entry of author ai in s's log (queued). */
static void submit(struct fx *f, struct side *s, int ai, uint8_t salt)
{
	f->payload[0] = salt;
	++f->req;
	struct clog_submit sub =
		ct_write(s->c, &f->a[ai], 1u + (uint32_t)ai, f->req, f->req, f->payload, 40 + (uint32_t)(f->req % 200));
	struct clog_id id;
	int why;
	assert_int_equal(clog_submit_local(s->c, &sub, NOW, &id, &why), CLOG_SUBMIT_QUEUED);
}

/* n entries into s's log, round-robin over the first `authors`, flushed
 * every `batch` (one signature per author and batch). */
static void fill(struct fx *f, struct side *s, int n, int batch, int authors)
{
	for (int i = 0; i < n; i++) {
		submit(f, s, i % authors, 0);
		if ((i + 1) % batch == 0)
			assert_true(clog_flush(s->c, NOW) > 0);
	}
	if (clog_has_pending(s->c))
		assert_true(clog_flush(s->c, NOW) > 0);
}

/* ---- the fake stream and the member's side ---------------------------------------- */

static size_t op_room(void *ud)
{
	struct fx *f = ud;
	size_t free_ = STREAM_CAP - f->len;
	return f->dead ? 0 : free_ < f->room_cap ? free_ : f->room_cap;
}

static int op_send(void *ud, const uint8_t *p, size_t n)
{
	struct fx *f = ud;
	if (f->fail_send)
		return -ECONNABORTED;
	assert_true(f->len + n <= STREAM_CAP); /* never more than room said */
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	if (f->len > f->max_len)
		f->max_len = f->len;
	return 0;
}

static void op_ready(void *ud)
{
	struct fx *f = ud;
	f->ready_calls++;
}

static const struct net_catchup_ops ops = { .room = op_room, .send = op_send };

/* The member reads every frame off the stream, keeps the entries of a MORE
 * sequence (as net_link's acc does) and integrates the sequence in one
 * call when it ends. */
static void member_read(struct fx *f)
{
	size_t off = 0;
	while (off + 4 <= f->len) {
		uint32_t flen = th_get_le32(f->buf + off);
		if (off + 4 + flen > f->len)
			break;
		struct proto_sess_msg m;
		assert_int_equal(proto_sess_decode(f->buf + off + 4, flen, &m), 0);
		assert_int_equal(m.type, PROTO_SESS_T_ENTRIES);
		assert_true(f->acc_len + m.u.entries.recs_len <= ACC_MAX);
		memcpy(f->acc + f->acc_len, m.u.entries.recs, m.u.entries.recs_len);
		f->acc_len += m.u.entries.recs_len;
		f->acc_n += m.u.entries.count;
		off += 4 + flen;
		f->frames++;
		if (m.u.entries.flags & PROTO_SESS_ENTRIES_F_MORE) {
			f->more_frames++;
			continue;
		}
		static struct th_logrec_entry es[CLOG_REMOTE_BATCH_MAX];
		assert_true(f->acc_n <= CLOG_REMOTE_BATCH_MAX);
		struct proto_sess_entries all = { .recs = f->acc, .recs_len = f->acc_len };
		struct proto_sess_entries_iter it;
		proto_sess_entries_iter_init(&it, &all);
		size_t n = 0;
		while (n < f->acc_n && proto_sess_entries_next(&it, &es[n]) == 1)
			n++;
		assert_int_equal(n, f->acc_n);
		int r = clog_integrate_remote(f->member.c, 99, es, n, NOW);
		assert_int_equal(r, (int)n);
		f->integrated += n;
		if (clog_has_pending(f->member.c))
			assert_true(clog_flush(f->member.c, NOW) > 0);
		f->acc_len = 0;
		f->acc_n = 0;
	}
	memmove(f->buf, f->buf + off, f->len - off);
	f->len -= off;
}

struct vec {
	struct proto_sess_sync_head h[16];
	uint32_t n;
};

static int vec_add(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	struct vec *v = user;
	assert_true(v->n < 16);
	memcpy(v->h[v->n].key, key, 32);
	v->h[v->n].seq = seq;
	memcpy(v->h[v->n].hash, hash, 32);
	v->n++;
	return 0;
}

static int head_cmp(const void *a, const void *b)
{
	return memcmp(((const struct proto_sess_sync_head *)a)->key, ((const struct proto_sess_sync_head *)b)->key, 32);
}

/* The member's SYNC, through the wire format. */
static void member_sync(struct fx *f, struct side *s, struct net_catchup *cu)
{
	struct vec v = { .n = 0 };
	assert_int_equal(clog_authors_each(s->c, vec_add, &v), 0);
	qsort(v.h, v.n, sizeof(v.h[0]), head_cmp);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_sync_encode(&w, v.h, v.n), 0);
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(w.data + 4, w.len - 4, &m), 0);
	assert_int_equal(net_catchup_on_sync(cu, &m.u.sync, f->now), 0);
	th_wbuf_fini(&w);
}

/* Pumps, letting the member read whenever the stream is full, until the
 * round ends; returns the pumps it took. */
static unsigned run_round(struct fx *f, struct net_catchup *cu, unsigned max_pumps)
{
	unsigned k = 0;
	for (; k < max_pumps; k++) {
		int st = net_catchup_pump(cu, f->now += TH_NS_PER_MS);
		if (st == NET_CU_IDLE)
			break;
		if (st == NET_CU_BLOCKED)
			member_read(f);
	}
	member_read(f);
	return k;
}

static void same_heads(struct side *a, struct side *b)
{
	struct vec va = { .n = 0 }, vb = { .n = 0 };
	assert_int_equal(clog_authors_each(a->c, vec_add, &va), 0);
	assert_int_equal(clog_authors_each(b->c, vec_add, &vb), 0);
	assert_int_equal(va.n, vb.n);
	qsort(va.h, va.n, sizeof(va.h[0]), head_cmp);
	qsort(vb.h, vb.n, sizeof(vb.h[0]), head_cmp);
	for (uint32_t i = 0; i < va.n; i++) {
		assert_memory_equal(va.h[i].key, vb.h[i].key, 32);
		assert_int_equal(va.h[i].seq, vb.h[i].seq);
		assert_memory_equal(va.h[i].hash, vb.h[i].hash, 32);
	}
}

static struct net_catchup *engine(struct fx *f)
{
	struct net_catchup *cu;
	assert_int_equal(net_catchup_create(f->host.c, &ops, op_ready, f, &cu), 0);
	return cu;
}

/* Lets what was sent settle: the next SYNC is taken as it is. */
static void settle(struct fx *f) { f->now += NET_CATCHUP_SETTLE_NS; }

/* ---- tests ------------------------------------------------------------------------- */

/* One pump call is one loop wake-up's share: it reads at most
 * NET_CATCHUP_PUMP_MAX entries and says MORE when the log goes on. */
static void one_pump_reads_at_most_its_share_of_the_log(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 4 * NET_CATCHUP_PUMP_MAX + 7, 500, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	unsigned more = 0;
	for (int k = 0; k < 100000 && net_catchup_active(cu); k++) {
		struct net_catchup_stats a, b;
		net_catchup_get_stats(cu, &a);
		int st = net_catchup_pump(cu, f->now += TH_NS_PER_MS);
		net_catchup_get_stats(cu, &b);
		assert_true(b.entries + b.skipped - a.entries - a.skipped <= NET_CATCHUP_PUMP_MAX);
		more += st == NET_CU_MORE;
		if (st == NET_CU_BLOCKED || st == NET_CU_MORE)
			member_read(f);
	}
	member_read(f);
	assert_false(net_catchup_active(cu));
	assert_true(more >= 3);
	assert_int_equal(clog_count(f->member.c), 4 * NET_CATCHUP_PUMP_MAX + 7);
	net_catchup_destroy(&cu);
}

static void a_fresh_member_gets_everything_through_a_bounded_stream(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 20000, 500, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	assert_true(net_catchup_active(cu));
	assert_int_equal(net_catchup_take_events(cu), NET_CU_EV_STARTED);
	run_round(f, cu, 100000);
	assert_false(net_catchup_active(cu));
	assert_int_equal(net_catchup_take_events(cu), NET_CU_EV_DONE);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.start_pos, 0);
	assert_int_equal(st.entries, 20000);
	assert_int_equal(st.skipped, 0);
	assert_true(st.blocked > 0); /* the stream was full, more than once */
	assert_int_equal(clog_count(f->member.c), 20000);
	assert_int_equal(f->member.rejects, 0);
	same_heads(&f->host, &f->member);
	assert_true(f->max_len <= STREAM_CAP);
	/* Nothing more to send for the same vector. */
	member_sync(f, &f->member, cu);
	assert_false(net_catchup_active(cu));
	net_catchup_destroy(&cu);
	assert_null(cu);
}

static void a_member_with_a_prefix_is_caught_up_from_the_first_position_it_lacks(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 3000, 300, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	run_round(f, cu, 100000);
	assert_int_equal(clog_count(f->member.c), 3000);
	/* The host goes on; the member then lacks positions 3000.. only. */
	fill(f, &f->host, 900, 300, AUTHORS);
	settle(f);
	member_sync(f, &f->member, cu);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(st.start_pos, 3000);
	run_round(f, cu, 100000);
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.round_entries, 900);
	assert_int_equal(st.skipped, 0); /* nothing before 3000 was read */
	assert_int_equal(clog_count(f->member.c), 3900);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
}

static void signatures_stay_in_the_sequence_of_the_entries_they_cover(void **state)
{
	struct fx *f = *state;
	/* One author, 3000 entries per batch: one signature covers 3000
	 * entries, more than a message or NET_CATCHUP_CLOSE_AT. */
	fill(f, &f->host, 9000, 3000, 1);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	run_round(f, cu, 100000);
	assert_true(f->more_frames > 0);
	assert_int_equal(f->member.rejects, 0);
	assert_int_equal(clog_count(f->member.c), 9000);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
}

static void a_sync_during_a_round_updates_it_without_resending(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 12000, 400, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	/* Part of the way, the member reads and says where it stands. */
	while (net_catchup_pump(cu, f->now += TH_NS_PER_MS) != NET_CU_BLOCKED)
		;
	member_read(f);
	uint64_t had = clog_count(f->member.c);
	assert_true(had > 0 && had < 12000);
	member_sync(f, &f->member, cu);
	run_round(f, cu, 100000);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.rounds, 1);
	assert_int_equal(st.syncs_merged, 1);
	assert_int_equal(st.entries, 12000); /* each sent once */
	assert_int_equal(clog_count(f->member.c), 12000);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
}

static void a_round_cut_by_a_reconnect_resumes_where_the_member_stands(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 12000, 400, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	for (int i = 0; i < 3; i++) {
		while (net_catchup_pump(cu, f->now += TH_NS_PER_MS) != NET_CU_BLOCKED)
			;
		member_read(f);
	}
	/* The connection drops: what was in flight is lost. */
	f->len = 0;
	f->acc_len = f->acc_n = 0;
	net_catchup_destroy(&cu);
	uint64_t had = clog_count(f->member.c);
	assert_true(had > 0 && had < 12000);
	cu = engine(f);
	member_sync(f, &f->member, cu);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	/* The new round starts where the member's first missing entry is,
	 * not at the start of the log. */
	assert_true(st.start_pos >= had - 2 * AUTHORS * 400 && st.start_pos <= had);
	run_round(f, cu, 100000);
	assert_int_equal(clog_count(f->member.c), 12000);
	assert_int_equal(f->member.rejects, 0);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
}

static void entries_made_durable_during_a_round_are_sent_by_it(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 6000, 300, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	while (net_catchup_pump(cu, f->now += TH_NS_PER_MS) != NET_CU_BLOCKED)
		;
	fill(f, &f->host, 600, 300, AUTHORS); /* live while the round runs */
	assert_true(net_catchup_active(cu));
	run_round(f, cu, 100000);
	assert_false(net_catchup_active(cu));
	assert_int_equal(clog_count(f->member.c), 6600);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
}

/* Once settled, the member's SYNC starts a second round that sends exactly
 * the `had` entries short of `total` it lacks; then both logs agree. */
static void second_round_sends_the_rest(struct fx *f, struct net_catchup *cu, uint64_t had, uint64_t total)
{
	settle(f);
	member_sync(f, &f->member, cu);
	assert_true(net_catchup_active(cu));
	run_round(f, cu, 100000);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(st.round_entries, total - had);
	assert_int_equal(clog_count(f->member.c), total);
	same_heads(&f->host, &f->member);
}

static void a_sync_written_before_the_tail_arrived_resends_nothing(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 6000, 300, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	while (net_catchup_pump(cu, f->now += TH_NS_PER_MS) != NET_CU_IDLE)
		if (f->len > STREAM_CAP / 2)
			member_read(f);
	/* The round is over, its tail still in the stream; the member's
	 * SYNC from before it read the tail starts nothing. */
	uint64_t had = clog_count(f->member.c);
	assert_true(had < 6000);
	member_sync(f, &f->member, cu);
	assert_false(net_catchup_active(cu));
	/* The tail is lost (as when the member refused it); once settled,
	 * a SYNC starts a round that sends just that. */
	size_t lost = f->len;
	f->len = 0;
	f->acc_len = f->acc_n = 0;
	assert_true(lost > 0);
	member_sync(f, &f->member, cu);
	assert_false(net_catchup_active(cu));
	second_round_sends_the_rest(f, cu, had, 6000);
	net_catchup_destroy(&cu);
}

/* The member reads the frames in the stream's first `keep` bytes (whole
 * frames only) and leaves the rest in it. */
static void member_read_some(struct fx *f, size_t keep)
{
	size_t off = 0;
	while (off + 4 <= f->len && off + 4 + th_get_le32(f->buf + off) <= keep)
		off += 4 + th_get_le32(f->buf + off);
	size_t rest = f->len - off;
	uint8_t *tail = malloc(rest ? rest : 1);
	assert_non_null(tail);
	memcpy(tail, f->buf + off, rest);
	f->len = off;
	member_read(f);
	memcpy(f->buf + f->len, tail, rest);
	f->len += rest;
	free(tail);
}

static void a_slow_member_still_taking_the_tail_in_gets_nothing_again(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 6000, 30, AUTHORS); /* small signature groups: the tail is many sequences */
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	while (net_catchup_pump(cu, f->now += TH_NS_PER_MS) != NET_CU_IDLE)
		if (f->len > STREAM_CAP / 2)
			member_read(f);
	uint64_t had = clog_count(f->member.c);
	assert_true(had < 6000);
	member_sync(f, &f->member, cu);
	/* Long after the round, the member has taken in part of the tail
	 * only (a slow log or loop): its SYNC shows progress, so nothing is
	 * sent again. */
	settle(f);
	while (clog_count(f->member.c) == had && f->len >= 4)
		member_read_some(f, 4 + th_get_le32(f->buf)); /* frame by frame, to the first sequence's end */
	uint64_t more = clog_count(f->member.c);
	assert_true(more > had && more < 6000);
	member_sync(f, &f->member, cu);
	assert_false(net_catchup_active(cu));
	/* The rest is lost: the next SYNC shows no progress and a round
	 * sends exactly what is missing. */
	f->len = 0;
	f->acc_len = f->acc_n = 0;
	second_round_sends_the_rest(f, cu, more, 6000);
	net_catchup_destroy(&cu);
}

static void a_failed_send_ends_the_round_with_its_error(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 3000, 300, AUTHORS);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	net_catchup_take_events(cu);
	f->dead = true; /* no room: the round waits */
	assert_int_equal(net_catchup_pump(cu, f->now += TH_NS_PER_MS), NET_CU_BLOCKED);
	assert_true(net_catchup_active(cu));
	f->dead = false;
	f->fail_send = true; /* room, but the connection is gone by the send */
	int st, pumps = 0;
	while ((st = net_catchup_pump(cu, f->now += TH_NS_PER_MS)) == NET_CU_MORE)
		assert_true(++pumps < 3000); /* reads up to the first send, a share per pump */
	assert_int_equal(st, NET_CU_IDLE);
	assert_false(net_catchup_active(cu));
	assert_int_equal(net_catchup_take_events(cu), NET_CU_EV_FAILED);
	assert_int_equal(net_catchup_error(cu), -ECONNABORTED);
	net_catchup_destroy(&cu);
}

static void a_divergent_author_is_reported_once_and_skipped_while_others_sync(void **state)
{
	struct fx *f = *state;
	/* Host: authors 0 and 1, 600 entries each. */
	fill(f, &f->host, 1200, 200, 2);
	/* The member holds another chain for author 0: 10 entries the host
	 * never had, under the same key (a restored backup signing again). */
	for (int i = 0; i < 10; i++)
		submit(f, &f->member, 0, 0x5a);
	assert_true(clog_flush(f->member.c, NOW) > 0);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	run_round(f, cu, 100000);
	unsigned ev = net_catchup_take_events(cu);
	assert_true(ev & NET_CU_EV_DIVERGED);
	uint8_t key[32];
	uint64_t seq;
	assert_int_equal(net_catchup_take_divergence(cu, key, &seq), 1);
	assert_memory_equal(key, f->a[0].kp.pk, 32);
	assert_int_equal(seq, 10);
	assert_int_equal(net_catchup_take_divergence(cu, key, &seq), 0);
	struct net_catchup_stats st;
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.divergent, 1);
	/* Author 1 synced; author 0 kept the member's own chain. */
	uint64_t s1, s0;
	assert_int_equal(clog_author_head(f->member.c, f->a[1].kp.pk, &s1, NULL), 0);
	assert_int_equal(s1, 600);
	assert_int_equal(clog_author_head(f->member.c, f->a[0].kp.pk, &s0, NULL), 0);
	assert_int_equal(s0, 10);
	assert_int_equal(f->member.rejects, 0); /* nothing was sent that it had to refuse */

	/* The next round does not report it again. */
	fill(f, &f->host, 40, 40, 2);
	settle(f);
	member_sync(f, &f->member, cu);
	run_round(f, cu, 100000);
	net_catchup_take_events(cu);
	net_catchup_get_stats(cu, &st);
	assert_int_equal(st.divergent, 1);
	assert_int_equal(net_catchup_take_divergence(cu, key, &seq), 0);
	assert_int_equal(clog_author_head(f->member.c, f->a[1].kp.pk, &s1, NULL), 0);
	assert_int_equal(s1, 620);
	net_catchup_destroy(&cu);
}

static void a_head_with_another_hash_at_our_own_head_is_divergence(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 20, 20, 1);
	for (int i = 0; i < 20; i++)
		submit(f, &f->member, 0, 0x77);
	assert_true(clog_flush(f->member.c, NOW) > 0);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	assert_false(net_catchup_active(cu)); /* nothing it lacks */
	uint8_t key[32];
	uint64_t seq;
	assert_true(net_catchup_take_events(cu) & NET_CU_EV_DIVERGED);
	assert_int_equal(net_catchup_take_divergence(cu, key, &seq), 1);
	assert_int_equal(seq, 20);
	net_catchup_destroy(&cu);
}

static void reads_ahead_on_the_worker_wake_the_round_through_ready(void **state)
{
	struct fx *f = *state;
	fill(f, &f->host, 20000, 500, AUTHORS);
	/* The host's log again, now with an I/O worker: the cursor reads its
	 * windows off the loop and says so with -EAGAIN, then ready(). */
	clog_close(&f->host.c);
	struct clog_worker *w;
	assert_int_equal(clog_worker_create(&w), 0);
	struct clog_config cfg = { .worker = w };
	struct clog_callbacks cb = { .on_reject = on_reject, .role_of = role_of };
	assert_int_equal(clog_open(f->host.dir, &cfg, &cb, &f->host, &f->host.c, NULL), 0);
	struct net_catchup *cu = engine(f);
	member_sync(f, &f->member, cu);
	unsigned reading = 0;
	for (int k = 0; k < 200000 && net_catchup_active(cu); k++) {
		int st = net_catchup_pump(cu, f->now += TH_NS_PER_MS);
		if (st == NET_CU_BLOCKED)
			member_read(f);
		if (st == NET_CU_READING) {
			reading++;
			unsigned before = f->ready_calls;
			struct pollfd p = { .fd = clog_worker_fd(w), .events = POLLIN };
			while (f->ready_calls == before) {
				assert_true(poll(&p, 1, 10000) == 1);
				assert_true(clog_worker_poll(w) >= 0);
			}
		}
	}
	member_read(f);
	assert_false(net_catchup_active(cu));
	assert_true(reading > 0);
	assert_true(f->ready_calls >= reading);
	assert_int_equal(clog_count(f->member.c), 20000);
	same_heads(&f->host, &f->member);
	net_catchup_destroy(&cu);
	clog_close(&f->host.c);
	clog_worker_destroy(&w);
}

static void a_repair_watch_completes_when_every_cut_author_is_back(void **state)
{
	struct fx *f = *state;
	fill(f, &f->member, 30, 30, 2); /* authors 0, 1: seq 1..15 each */
	struct clog_recovery rec = { .repaired = true, .cut_pos = 30, .cut_records = 12, .cut_nauthors = 3 };
	memcpy(rec.cut_authors[0].pk, f->a[0].kp.pk, 32);
	rec.cut_authors[0].seq_first = 16, rec.cut_authors[0].seq_last = 20, rec.cut_authors[0].records = 5;
	memcpy(rec.cut_authors[1].pk, f->a[1].kp.pk, 32);
	rec.cut_authors[1].seq_first = 16, rec.cut_authors[1].seq_last = 19, rec.cut_authors[1].records = 4;
	memcpy(rec.cut_authors[2].pk, f->a[2].kp.pk, 32);
	rec.cut_authors[2].seq_first = 1, rec.cut_authors[2].seq_last = 2, rec.cut_authors[2].records = 2;
	struct net_repair r;
	assert_int_equal(net_repair_init(&r, &rec, f->member.c, NOW), 1);
	assert_int_equal(r.left, 3);
	assert_int_equal(r.unwatched, 1); /* 12 cut, 11 named */
	assert_int_equal(net_repair_note(&r, f->a[0].kp.pk, 19), 0); /* not its last yet */
	assert_int_equal(net_repair_note(&r, f->a[0].kp.pk, 20), 0);
	assert_int_equal(net_repair_note(&r, f->a[2].kp.pk, 2), 0);
	assert_int_equal(net_repair_note(&r, f->a[0].kp.pk, 21), 0); /* already back */
	assert_int_equal(net_repair_note(&r, f->a[1].kp.pk, 19), 1);
	assert_false(r.active);
	assert_int_equal(net_repair_note(&r, f->a[1].kp.pk, 20), 0);
	/* Authors whose chain already reaches past the cut count as back;
	 * nothing cut, nothing watched. */
	rec.cut_authors[0].seq_last = 10;
	rec.cut_nauthors = 1;
	assert_int_equal(net_repair_init(&r, &rec, f->member.c, NOW), 0);
	rec.repaired = false;
	assert_int_equal(net_repair_init(&r, &rec, f->member.c, NOW), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_fresh_member_gets_everything_through_a_bounded_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(one_pump_reads_at_most_its_share_of_the_log, setup, teardown),
		cmocka_unit_test_setup_teardown(a_member_with_a_prefix_is_caught_up_from_the_first_position_it_lacks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(signatures_stay_in_the_sequence_of_the_entries_they_cover, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_sync_during_a_round_updates_it_without_resending, setup, teardown),
		cmocka_unit_test_setup_teardown(a_round_cut_by_a_reconnect_resumes_where_the_member_stands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(entries_made_durable_during_a_round_are_sent_by_it, setup, teardown),
		cmocka_unit_test_setup_teardown(a_slow_member_still_taking_the_tail_in_gets_nothing_again, setup, teardown),
		cmocka_unit_test_setup_teardown(a_sync_written_before_the_tail_arrived_resends_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_send_ends_the_round_with_its_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_divergent_author_is_reported_once_and_skipped_while_others_sync,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_head_with_another_hash_at_our_own_head_is_divergence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reads_ahead_on_the_worker_wake_the_round_through_ready, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_repair_watch_completes_when_every_cut_author_is_back, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
