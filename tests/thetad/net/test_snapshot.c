/* thetad/net/net_snapshot: the verified late join's state machines, a host
 * and a joiner wired through a simulated snapshot stream in simulated time
 * (frames in order after a delay, a bounded room per service pass, frames
 * the test may alter, drop or add in flight). The joiner's install step is
 * the test's: its "scene" is a world hash and a set digest derived from the
 * bytes (the real one, th_fold_restore and the hash comparison, is
 * thetad/sess/scene_join.c's, tested in tests/thetad/sess/test_scene_join.c).
 * A good checkpoint installs; a bad signature, another session, a scene that
 * does not match, bytes that do not hash, a truncated, stalled or oversized
 * transfer are refused with one sentence and the joiner goes on with the
 * log's catch-up. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "net/net_snapshot.h"
#include "session.h"
#include "th_buf.h"

#define MS (1000ull * 1000)
#define S  (1000ull * MS)
#define T0 (1000 * S)
#define DELAY (10 * MS)
#define ROOM_PER_PASS (256u << 10)
#define PASS_NS (2 * MS)
#define FRAMES_MAX 4096
#define LOGS_MAX 64

struct frame {
	uint64_t at;
	int to_host;
	bool raw; /* the test's own: not altered in flight */
	uint8_t *data;
	size_t len;
};

struct side {
	struct net_snap *sn;
	char logs[LOGS_MAX][NET_SNAP_TEXT_MAX];
	unsigned n_logs;
	unsigned installs;
	uint8_t *installed;
	size_t installed_len;
};

static struct {
	uint64_t now;
	struct frame q[FRAMES_MAX];
	unsigned n_q;
	uint64_t tail[2];
	struct side host, joiner;
	uint8_t host_pk[32], host_sk[64], other_pk[32], other_sk[64];
	uint8_t sid[PROTO_SESS_ID_LEN];
	/* the host's checkpoint */
	uint8_t *snap;
	size_t snap_len;
	uint64_t next_pos, log_count;
	bool no_checkpoint;
	bool claim_other_world; /* the checkpoint's world hash is not its scene's */
	const char *decline;    /* the joiner's answer to decline */
	/* in flight: alter a host -> joiner frame (return false to drop it) */
	bool (*tamper)(uint8_t *payload, size_t len);
	unsigned chunks_seen, cut_after; /* tamper state */
	bool ended;
	bool injecting;
	size_t room; /* the stream's room per pass */
} W;

/* The test's scene model: what a checkpoint's bytes fold to. */
static void scene_of(const uint8_t *p, size_t n, uint8_t world[32], uint8_t digest[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, (const uint8_t *)"world", 5, 32);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, world, 32);
	crypto_generichash_init(&st, (const uint8_t *)"set", 3, 32);
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, digest, 32);
}

static int op_latest(void *ud, struct net_snap_source *out)
{
	if (W.no_checkpoint)
		return -ENOENT;
	out->snap = W.snap;
	out->len = W.snap_len;
	out->next_pos = W.next_pos;
	scene_of(W.snap, W.snap_len, out->world_hash, out->set_digest);
	if (W.claim_other_world)
		out->world_hash[5] ^= 1;
	return 0;
}

static uint64_t op_count(void *ud) { return W.log_count; }

static const char *op_decline(void *ud, const struct proto_sess_snap_offer *o) { return W.decline; }

static const struct net_snap_ops ops = { .latest = op_latest, .count = op_count, .decline = op_decline };

static void enqueue(int to_host, const uint8_t *p, size_t n)
{
	/* split the SEND into its frames, each in order after the delay */
	while (n) {
		assert_true(n >= PROTO_SESS_FRAME_HDR);
		size_t len = PROTO_SESS_FRAME_HDR + th_get_le32(p);
		assert_true(len <= n);
		assert_true(W.n_q < FRAMES_MAX);
		uint64_t at = W.now + DELAY;
		if (at < W.tail[to_host])
			at = W.tail[to_host];
		W.tail[to_host] = at;
		struct frame *f = &W.q[W.n_q++];
		f->at = at;
		f->to_host = to_host;
		f->raw = W.injecting;
		f->len = len - PROTO_SESS_FRAME_HDR;
		f->data = malloc(f->len);
		memcpy(f->data, p + PROTO_SESS_FRAME_HDR, f->len);
		p += len;
		n -= len;
	}
}

static void drain(struct side *s, bool is_host)
{
	struct net_snap_action a;
	while (net_snap_poll(s->sn, &a) == 1) {
		switch (a.kind) {
		case NET_SNAP_A_SEND:
			enqueue(!is_host, a.data, a.len);
			break;
		case NET_SNAP_A_LOG:
			assert_true(s->n_logs < LOGS_MAX);
			snprintf(s->logs[s->n_logs++], NET_SNAP_TEXT_MAX, "%s", a.text);
			break;
		case NET_SNAP_A_INSTALL: {
			/* the glue's part: unpack, recompute, compare, install */
			uint8_t world[32], digest[32];
			scene_of(a.data, a.len, world, digest);
			s->installs++;
			if (memcmp(world, s->sn->offer.world_hash, 32)) {
				net_snap_installed(s->sn, -EBADMSG,
						   "the scene unpacked from the checkpoint has another world hash than the "
						   "host signed",
						   W.now);
			} else {
				free(s->installed);
				s->installed = malloc(a.len);
				memcpy(s->installed, a.data, a.len);
				s->installed_len = a.len;
				net_snap_installed(s->sn, 0, NULL, W.now);
			}
			break;
		}
		}
	}
	assert_false(s->sn->overflow);
}

static void setup_world(size_t snap_len, uint64_t joiner_max)
{
	memset(&W.q, 0, sizeof(W.q));
	W.n_q = 0;
	W.tail[0] = W.tail[1] = 0;
	W.now = T0;
	W.tamper = NULL;
	W.chunks_seen = W.cut_after = 0;
	W.ended = false;
	W.room = ROOM_PER_PASS;
	W.no_checkpoint = W.claim_other_world = false;
	W.decline = NULL;
	crypto_sign_keypair(W.host_pk, W.host_sk);
	crypto_sign_keypair(W.other_pk, W.other_sk);
	randombytes_buf(W.sid, sizeof(W.sid));
	free(W.snap);
	W.snap_len = snap_len;
	W.snap = malloc(snap_len ? snap_len : 1);
	randombytes_buf(W.snap, snap_len);
	W.next_pos = 90000;
	W.log_count = 100000;
	struct net_snap_config hc = { .side = NET_SNAP_HOST, .ops = &ops, .sk = W.host_sk };
	memcpy(hc.session_id, W.sid, sizeof(W.sid));
	struct net_snap_config jc = { .side = NET_SNAP_JOINER, .ops = &ops, .want = true, .max_size = joiner_max };
	memcpy(jc.session_id, W.sid, sizeof(W.sid));
	memcpy(jc.host_key, W.host_pk, 32);
	memset(&W.host, 0, sizeof(W.host));
	memset(&W.joiner, 0, sizeof(W.joiner));
	assert_int_equal(net_snap_create(&hc, &W.host.sn), 0);
	assert_int_equal(net_snap_create(&jc, &W.joiner.sn), 0);
}

static int teardown(void **state)
{
	for (unsigned i = 0; i < W.n_q; i++)
		free(W.q[i].data);
	W.n_q = 0;
	net_snap_destroy(&W.host.sn);
	net_snap_destroy(&W.joiner.sn);
	free(W.host.installed);
	free(W.joiner.installed);
	W.host.installed = W.joiner.installed = NULL;
	free(W.snap);
	W.snap = NULL;
	return 0;
}

/* Delivers what is due, pumps the host with a pass's room, fires timers. */
static void step(void)
{
	for (unsigned i = 0; i < W.n_q;) {
		struct frame f = W.q[i];
		if (f.at > W.now) {
			i++;
			continue;
		}
		memmove(&W.q[i], &W.q[i + 1], (W.n_q - i - 1) * sizeof(W.q[0]));
		W.n_q--;
		bool keep = true;
		if (!f.to_host && !f.raw && W.tamper)
			keep = W.tamper(f.data, f.len);
		if (keep && !W.ended) {
			struct side *s = f.to_host ? &W.host : &W.joiner;
			assert_int_equal(net_snap_on_msg(s->sn, f.data, f.len, W.now), 0);
			drain(s, f.to_host);
		}
		free(f.data);
	}
	if (!W.ended) {
		net_snap_pump(W.host.sn, W.room, W.now);
		drain(&W.host, true);
		net_snap_on_timer(W.joiner.sn, W.now);
		drain(&W.joiner, false);
	}
	W.now += PASS_NS;
}

static void run_for(uint64_t ns)
{
	uint64_t end = W.now + ns;
	while (W.now < end)
		step();
}

static void start(void)
{
	net_snap_start(W.joiner.sn, W.now);
	drain(&W.joiner, false);
}

static bool logged(const struct side *s, const char *needle)
{
	for (unsigned i = 0; i < s->n_logs; i++)
		if (strstr(s->logs[i], needle))
			return true;
	return false;
}

static void print_logs(const struct side *s, const char *who)
{
	for (unsigned i = 0; i < s->n_logs; i++)
		print_message("%s: %s\n", who, s->logs[i]);
}

/* Refused with this sentence, nothing installed, the host told. */
static void assert_refused(const char *needle, bool host_told)
{
	if (net_snap_state(W.joiner.sn) != NET_SNAP_S_REFUSED || !strstr(net_snap_why(W.joiner.sn), needle)) {
		print_logs(&W.joiner, "joiner");
		fail_msg("state %s, why \"%s\"; wanted refused with \"%s\"", net_snap_state_name(net_snap_state(W.joiner.sn)),
			 net_snap_why(W.joiner.sn), needle);
	}
	assert_null(W.joiner.installed);
	assert_true(logged(&W.joiner, "checkpoint not used"));
	assert_true(logged(&W.joiner, "catching up from the whole log instead"));
	if (host_told)
		assert_int_equal(net_snap_state(W.host.sn), NET_SNAP_S_CANCELLED);
	/* the refused transfer holds no memory */
	assert_int_equal(W.joiner.sn->buf.len, 0);
}

/* ---- cases ----------------------------------------------------------------------- */

static void a_good_checkpoint_installs_with_the_hosts_count(void **state)
{
	setup_world(300000, 0); /* 5 chunks */
	start();
	run_for(1 * S);
	if (net_snap_state(W.joiner.sn) != NET_SNAP_S_INSTALLED)
		print_logs(&W.joiner, "joiner");
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_INSTALLED);
	assert_int_equal(W.joiner.installs, 1);
	assert_int_equal(W.joiner.installed_len, W.snap_len);
	assert_memory_equal(W.joiner.installed, W.snap, W.snap_len);
	assert_int_equal(net_snap_host_count(W.joiner.sn), 100000);
	assert_int_equal(W.joiner.sn->offer.next_pos, 90000);
	assert_int_equal(net_snap_state(W.host.sn), NET_SNAP_S_SENT);
	assert_int_equal(W.joiner.sn->stats.chunks, 5);
	assert_true(logged(&W.joiner, "installed the host's signed checkpoint at position 90000"));
	assert_true(logged(&W.host, "sent the checkpoint at position 90000"));
	/* the signed statement stands on its own (offline verification) */
	assert_int_equal(proto_sess_snap_verify(&W.joiner.sn->offer, W.host_pk), 0);
	assert_int_equal(net_snap_next_expiry(W.joiner.sn), UINT64_MAX);
}

static void chunks_go_out_only_while_the_stream_has_room(void **state)
{
	setup_world(5 * PROTO_SESS_SNAP_CHUNK, 0);
	W.room = 0;
	start();
	run_for(40 * MS); /* REQUEST, OFFER, GET through */
	assert_int_equal(net_snap_state(W.host.sn), NET_SNAP_S_SENDING);
	assert_int_equal(net_snap_pump(W.host.sn, NET_SNAP_CHUNK_FRAME_MAX - 1, W.now), 1);
	struct net_snap_action a;
	assert_int_equal(net_snap_poll(W.host.sn, &a), 0); /* nothing fit */
	assert_int_equal(net_snap_pump(W.host.sn, 2 * NET_SNAP_CHUNK_FRAME_MAX, W.now), 1);
	assert_int_equal(net_snap_poll(W.host.sn, &a), 1);
	assert_int_equal(a.kind, NET_SNAP_A_SEND);
	assert_int_equal(a.len, 2 * NET_SNAP_CHUNK_FRAME_MAX);
	enqueue(0, a.data, a.len);
	assert_int_equal(net_snap_poll(W.host.sn, &a), 0);
	W.room = ROOM_PER_PASS;
	run_for(1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_INSTALLED);
	assert_memory_equal(W.joiner.installed, W.snap, W.snap_len);
}

static void a_signature_by_another_key_is_refused(void **state)
{
	setup_world(100000, 0);
	memcpy(W.joiner.sn->cfg.host_key, W.other_pk, 32); /* the handshake pinned another host */
	start();
	run_for(1 * S);
	assert_refused("does not verify under the host key pinned at the handshake", true);
	assert_int_equal(W.joiner.sn->stats.chunks, 0); /* nothing was fetched */
	assert_true(logged(&W.host, "the joiner does not use the checkpoint"));
}

/* Re-signs an altered OFFER with the host key (only what the test changed is wrong). */
static void resign(uint8_t *payload, size_t len, const uint8_t *sk)
{
	struct proto_sess_msg m;
	assert_int_equal(proto_sess_decode(payload, len, &m), 0);
	assert_int_equal(proto_sess_snap_sign(&m.u.soffer, sk), 0);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(w.len - PROTO_SESS_FRAME_HDR, len);
	memcpy(payload, w.data + PROTO_SESS_FRAME_HDR, len);
	th_wbuf_fini(&w);
}

static bool tamper_session(uint8_t *p, size_t len)
{
	if (th_get_le16(p) == PROTO_SESS_T_SNAP_OFFER) {
		p[2] ^= 0x40; /* session_id[0] */
		resign(p, len, W.host_sk);
	}
	return true;
}

static bool tamper_sig(uint8_t *p, size_t len)
{
	if (th_get_le16(p) == PROTO_SESS_T_SNAP_OFFER)
		p[len - 1] ^= 1; /* the signature's last byte */
	return true;
}

static bool tamper_position(uint8_t *p, size_t len)
{
	if (th_get_le16(p) == PROTO_SESS_T_SNAP_OFFER)
		p[2 + PROTO_SESS_ID_LEN + 1 + 8] ^= 1; /* next_pos, not re-signed */
	return true;
}

static void an_altered_offer_is_refused(void **state)
{
	setup_world(100000, 0);
	W.tamper = tamper_sig;
	start();
	run_for(1 * S);
	assert_refused("does not verify", true);
	teardown(state);

	setup_world(100000, 0);
	W.tamper = tamper_position; /* a signed field changed */
	start();
	run_for(1 * S);
	assert_refused("does not verify", true);
}

static void a_checkpoint_of_another_session_is_refused(void **state)
{
	setup_world(100000, 0);
	W.tamper = tamper_session;
	start();
	run_for(1 * S);
	assert_refused("the host offered a checkpoint of session", true);
	assert_int_equal(net_snap_host_count(W.joiner.sn), 0); /* its count is not ours */
	teardown(state);

	/* and a host asked for a session this connection is not for */
	setup_world(100000, 0);
	W.joiner.sn->cfg.session_id[3] ^= 1;
	start();
	run_for(1 * S);
	assert_refused("the host stopped the transfer: this connection belongs to another session", false);
	assert_int_equal(net_snap_state(W.host.sn), NET_SNAP_S_CANCELLED);
}

static void a_scene_that_does_not_match_its_signed_world_hash_is_refused(void **state)
{
	setup_world(200000, 0);
	W.claim_other_world = true;
	start();
	run_for(1 * S);
	assert_int_equal(W.joiner.installs, 1); /* unpacked, compared, refused */
	assert_refused("another world hash than the host signed", true);
	assert_true(logged(&W.host, "another world hash"));
}

static bool tamper_chunk_byte(uint8_t *p, size_t len)
{
	if (th_get_le16(p) == PROTO_SESS_T_SNAP_CHUNK && ++W.chunks_seen == 2)
		p[len - 7] ^= 0x10;
	return true;
}

static void bytes_that_do_not_hash_to_the_signed_hash_are_refused(void **state)
{
	setup_world(200000, 0);
	W.tamper = tamper_chunk_byte;
	start();
	run_for(1 * S);
	assert_int_equal(W.joiner.installs, 0); /* never handed out */
	assert_refused("do not hash to what the host signed", true);
}

static bool tamper_cut(uint8_t *p, size_t len)
{
	return th_get_le16(p) != PROTO_SESS_T_SNAP_CHUNK || ++W.chunks_seen <= W.cut_after;
}

static void a_transfer_that_stalls_is_refused_after_the_stall_limit(void **state)
{
	setup_world(400000, 0);
	W.tamper = tamper_cut;
	W.cut_after = 2;
	start();
	run_for(NET_SNAP_STALL_NS - 1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_RECEIVING); /* not yet */
	run_for(2 * S);
	assert_refused("stalled at 131072 of 400000 bytes", true);
	assert_true(strstr(net_snap_why(W.joiner.sn), "(truncated)") != NULL);
}

static void a_transfer_cut_by_the_connection_is_refused(void **state)
{
	setup_world(400000, 0);
	W.tamper = tamper_cut;
	W.cut_after = 3;
	start();
	run_for(500 * MS);
	W.ended = true;
	net_snap_on_ended(W.joiner.sn, W.now);
	drain(&W.joiner, false);
	assert_refused("the connection ended at 196608 of 400000 checkpoint bytes (truncated)", false);
	/* a connection that ends before the offer: catch-up only, nothing refused */
	teardown(state);
	setup_world(1000, 0);
	start();
	net_snap_on_ended(W.joiner.sn, W.now);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_NONE);
}

static void an_oversized_checkpoint_is_not_fetched(void **state)
{
	setup_world(300000, 200000); /* the joiner takes at most 200000 bytes */
	start();
	run_for(1 * S);
	assert_refused("is 300000 bytes, more than the 200000 this daemon takes", true);
	assert_int_equal(W.joiner.sn->stats.chunks, 0);
}

/* A chunk frame of n bytes at offset. */
static void inject_chunk(uint64_t offset, uint32_t n)
{
	uint8_t *d = calloc(1, n);
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SNAP_CHUNK };
	m.u.schunk = (struct proto_sess_snap_chunk){ .offset = offset, .data = d, .len = n };
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	W.injecting = true;
	enqueue(0, w.data, w.len);
	W.injecting = false;
	th_wbuf_fini(&w);
	free(d);
}

static void more_bytes_than_signed_for_are_refused(void **state)
{
	setup_world(100000, 0);
	W.tamper = tamper_cut;
	W.cut_after = 1; /* the host's first chunk arrives, then the test's */
	start();
	run_for(100 * MS);
	assert_int_equal(W.joiner.sn->buf.len, 65536);
	inject_chunk(65536, 65536); /* 131072 > 100000 */
	run_for(100 * MS);
	assert_refused("more checkpoint bytes (131072) than the 100000 it signed for", true);
	/* what still arrives for the refused transfer is ignored, not an error */
	inject_chunk(0, 10);
	run_for(100 * MS);
	assert_int_equal(W.joiner.sn->stats.ignored, 1);
	teardown(state);

	setup_world(100000, 0);
	W.tamper = tamper_cut;
	W.cut_after = 0;
	start();
	run_for(100 * MS);
	inject_chunk(4096, 10); /* a gap */
	run_for(100 * MS);
	assert_refused("at offset 4096 where 0 were expected", true);
}

static void no_checkpoint_yet_or_none_wanted_leaves_the_catch_up_alone(void **state)
{
	setup_world(1000, 0);
	W.no_checkpoint = true;
	start();
	run_for(1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_NONE);
	assert_string_equal(net_snap_why(W.joiner.sn), "the host has no checkpoint yet");
	assert_int_equal(net_snap_host_count(W.joiner.sn), 100000); /* progress still has its denominator */
	assert_true(logged(&W.joiner, "catching up 100000 entries from the log"));
	teardown(state);

	setup_world(1000, 0);
	W.joiner.sn->cfg.want = false; /* snapshots switched off on the joiner */
	start();
	run_for(1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_NONE);
	assert_int_equal(net_snap_host_count(W.joiner.sn), 100000);
	assert_int_equal(W.host.sn->buf.len, 0); /* nothing copied for it */
	teardown(state);

	setup_world(1000, 0);
	W.decline = "this daemon already holds the host's entries";
	start();
	run_for(1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_NONE);
	assert_string_equal(net_snap_why(W.joiner.sn), W.decline);
	assert_int_equal(net_snap_state(W.host.sn), NET_SNAP_S_CANCELLED);
	teardown(state);

	/* a host that never answers (an older daemon): the request times out */
	setup_world(1000, 0);
	start();
	for (unsigned i = 0; i < W.n_q; i++)
		free(W.q[i].data);
	W.n_q = 0;
	run_for(NET_SNAP_OFFER_TIMEOUT_NS + 1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_NONE);
	assert_true(logged(&W.joiner, "the host did not answer the checkpoint request"));
}

static void malformed_or_misdirected_messages_are_protocol_errors(void **state)
{
	setup_world(1000, 0);
	uint8_t junk[3] = { PROTO_SESS_T_SNAP_GET, 0, 1 };
	assert_int_equal(net_snap_on_msg(W.host.sn, junk, sizeof(junk), W.now), -EBADMSG);
	/* a SYNC (commands stream) on the snapshot stream */
	struct proto_sess_msg m = { .type = PROTO_SESS_T_SYNC };
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(net_snap_on_msg(W.host.sn, w.data + 4, w.len - 4, W.now), -EBADMSG);
	/* a joiner's message to a joiner, a host's to a host */
	th_wbuf_reset(&w);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_SNAP_GET };
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(net_snap_on_msg(W.joiner.sn, w.data + 4, w.len - 4, W.now), -EPROTO);
	th_wbuf_reset(&w);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_SNAP_CHUNK };
	m.u.schunk = (struct proto_sess_snap_chunk){ .data = junk, .len = 1 };
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(net_snap_on_msg(W.host.sn, w.data + 4, w.len - 4, W.now), -EPROTO);
	/* a GET for a checkpoint never offered: the host says so */
	th_wbuf_reset(&w);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_SNAP_GET };
	m.u.sget.next_pos = 5;
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(net_snap_on_msg(W.host.sn, w.data + 4, w.len - 4, W.now), 0);
	struct net_snap_action a;
	assert_int_equal(net_snap_poll(W.host.sn, &a), 1);
	assert_int_equal(a.kind, NET_SNAP_A_SEND);
	assert_int_equal(th_get_le16(a.data + 4), PROTO_SESS_T_SNAP_CANCEL);
	th_wbuf_fini(&w);
	/* a second request on one connection is refused (each costs a copy) */
	teardown(state);
	setup_world(1000, 0);
	start();
	run_for(1 * S);
	assert_int_equal(net_snap_state(W.joiner.sn), NET_SNAP_S_INSTALLED);
	th_wbuf_init(&w, 0);
	m = (struct proto_sess_msg){ .type = PROTO_SESS_T_SNAP_REQUEST };
	memcpy(m.u.sreq.session_id, W.sid, sizeof(W.sid));
	m.u.sreq.flags = PROTO_SESS_SNAP_F_WANT;
	assert_int_equal(proto_sess_encode(&m, &w), 0);
	assert_int_equal(net_snap_on_msg(W.host.sn, w.data + 4, w.len - 4, W.now), 0);
	assert_int_equal(net_snap_poll(W.host.sn, &a), 1);
	assert_int_equal(th_get_le16(a.data + 4), PROTO_SESS_T_SNAP_CANCEL);
	assert_int_equal(net_snap_poll(W.host.sn, &a), 0); /* no second offer */
	th_wbuf_fini(&w);
	/* and a host config without a key is refused */
	struct net_snap *x = NULL;
	struct net_snap_config bad = { .side = NET_SNAP_HOST, .ops = &ops };
	assert_int_equal(net_snap_create(&bad, &x), -EINVAL);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(a_good_checkpoint_installs_with_the_hosts_count, teardown),
		cmocka_unit_test_teardown(chunks_go_out_only_while_the_stream_has_room, teardown),
		cmocka_unit_test_teardown(a_signature_by_another_key_is_refused, teardown),
		cmocka_unit_test_teardown(an_altered_offer_is_refused, teardown),
		cmocka_unit_test_teardown(a_checkpoint_of_another_session_is_refused, teardown),
		cmocka_unit_test_teardown(a_scene_that_does_not_match_its_signed_world_hash_is_refused, teardown),
		cmocka_unit_test_teardown(bytes_that_do_not_hash_to_the_signed_hash_are_refused, teardown),
		cmocka_unit_test_teardown(a_transfer_that_stalls_is_refused_after_the_stall_limit, teardown),
		cmocka_unit_test_teardown(a_transfer_cut_by_the_connection_is_refused, teardown),
		cmocka_unit_test_teardown(an_oversized_checkpoint_is_not_fetched, teardown),
		cmocka_unit_test_teardown(more_bytes_than_signed_for_are_refused, teardown),
		cmocka_unit_test_teardown(no_checkpoint_yet_or_none_wanted_leaves_the_catch_up_alone, teardown),
		cmocka_unit_test_teardown(malformed_or_misdirected_messages_are_protocol_errors, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
