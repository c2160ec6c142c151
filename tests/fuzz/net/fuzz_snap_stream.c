/* libFuzzer: the late join's snapshot stream (thetad/net/net_snapshot.h)
 * as a peer controls it. The input is a byte stream split into frames
 * (proto_sess_reasm); the first byte picks the side that takes them: a
 * member that asked for a checkpoint (offers, chunks, cancels from a
 * "host"), or a host with a small checkpoint to offer (requests, gets,
 * cancels from a "member"), pumped between frames. Invariants: nothing
 * crashes or leaks; a member never holds more bytes than the offer signed
 * or its limit; only verified bytes reach the install step; every refusal
 * has its sentence. */
#include <errno.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_snapshot.h"
#include "session.h"

#define FZ_MAX_SIZE 300000u

static uint8_t host_pk[32], host_sk[64];
static uint8_t snap[5000];
static struct net_snap *cur;

static int op_latest(void *ud, struct net_snap_source *out)
{
	(void)ud;
	memset(out, 0, sizeof(*out));
	out->snap = snap;
	out->len = sizeof(snap);
	out->next_pos = 7;
	return 0;
}

static uint64_t op_count(void *ud)
{
	(void)ud;
	return 9;
}

static const struct net_snap_ops ops = { .latest = op_latest, .count = op_count };

static void drain(struct net_snap *sn, uint64_t now)
{
	struct net_snap_action a;
	while (net_snap_poll(sn, &a) == 1) {
		if (a.kind == NET_SNAP_A_INSTALL) {
			uint8_t h[32];
			crypto_generichash(h, sizeof(h), a.data, a.len, NULL, 0);
			if (a.len != sn->offer.size || memcmp(h, sn->offer.snap_hash, 32) ||
			    proto_sess_snap_verify(&sn->offer, host_pk) != 0)
				abort(); /* only what the host signed is handed out */
			net_snap_installed(sn, a.len & 1 ? -EBADMSG : 0, "odd", now);
		}
	}
	if (sn->cfg.side == NET_SNAP_JOINER) {
		if (sn->buf.len > FZ_MAX_SIZE || (sn->offered && sn->buf.len > sn->offer.size))
			abort();
		if (net_snap_state(sn) == NET_SNAP_S_REFUSED && !sn->why[0])
			abort();
	}
}

static int on_frame(const uint8_t *p, size_t len, void *ud)
{
	uint64_t *now = ud;
	*now += 1000000;
	(void)net_snap_on_msg(cur, p, len, *now);
	drain(cur, *now);
	net_snap_pump(cur, (size_t)(*now % 200000), *now);
	net_snap_on_timer(cur, *now);
	drain(cur, *now);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		if (sodium_init() < 0)
			abort();
		/* a fixed host key: seeds can carry offers it signed */
		uint8_t seed[32] = { 1 };
		crypto_sign_seed_keypair(host_pk, host_sk, seed);
		for (size_t i = 0; i < sizeof(snap); i++)
			snap[i] = (uint8_t)(i * 7);
		init = true;
	}
	if (!size)
		return 0;
	bool host = data[0] & 1;
	struct net_snap_config cfg = { .side = host ? NET_SNAP_HOST : NET_SNAP_JOINER, .ops = &ops, .sk = host_sk,
				       .want = !(data[0] & 2), .max_size = FZ_MAX_SIZE };
	memcpy(cfg.host_key, host_pk, 32);
	if (net_snap_create(&cfg, &cur) < 0)
		abort();
	uint64_t now = 1000000000;
	net_snap_start(cur, now);
	drain(cur, now);
	struct proto_sess_reasm rs;
	proto_sess_reasm_init(&rs, 0);
	(void)proto_sess_reasm_feed(&rs, data + 1, size - 1, on_frame, &now);
	proto_sess_reasm_fini(&rs);
	now += NET_SNAP_STALL_NS + NET_SNAP_OFFER_TIMEOUT_NS;
	net_snap_on_timer(cur, now);
	drain(cur, now);
	net_snap_on_ended(cur, now);
	drain(cur, now);
	net_snap_destroy(&cur);
	return 0;
}
