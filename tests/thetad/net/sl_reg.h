/* The host's sessions as a session-layer test fakes them (what
 * net_sl_host_ops asks: which session a token names, its members, used
 * invite nonces), shared by test_sl.c and test_sl_quic.c. Each test adds
 * op_peers, op_admit and op_name, which depend on how it keeps its
 * connections. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "session.h"

struct world; /* the including test's */

struct reg {
	bool has_session;
	uint8_t id[PROTO_SESS_ID_LEN];
	struct { uint8_t key[32]; uint8_t role; bool kicked; uint32_t peer_id; } m[8];
	unsigned n_m;
	uint8_t nonces[8][16];
	unsigned n_nonces;
	uint32_t next_peer;
	int admit_err;   /* op_admit fails with it (0: admits) */
	struct world *w;
};

static inline void *op_session(void *u, const uint8_t id[PROTO_SESS_ID_LEN])
{
	struct reg *r = u;
	return r->has_session && !memcmp(id, r->id, PROTO_SESS_ID_LEN) ? r : NULL;
}

static inline int op_member(void *u, void *sess, const uint8_t key[32], uint8_t *role, bool *kicked,
			    uint32_t *peer_id)
{
	struct reg *r = u;
	(void)sess;
	for (unsigned i = 0; i < r->n_m; i++)
		if (!memcmp(r->m[i].key, key, 32)) {
			*role = r->m[i].role;
			*kicked = r->m[i].kicked;
			*peer_id = r->m[i].peer_id;
			return 1;
		}
	return 0;
}

static inline bool op_nonce_used(void *u, void *sess, const uint8_t nonce[16])
{
	struct reg *r = u;
	(void)sess;
	for (unsigned i = 0; i < r->n_nonces; i++)
		if (!memcmp(r->nonces[i], nonce, 16))
			return true;
	return false;
}
