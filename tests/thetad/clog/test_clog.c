/* The command-log writer: group commit and acks, ids and total order,
 * catch-up, role gating, guards and their counters, conflict strategies,
 * remote integration with its attacks, rotation, and recovery from damaged
 * files. Real files and real fdatasync in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clog/clog.h"
#include "th_clogtest.h"
#include "th_err.h"
#include "th_harness.h"
#include "th_logfile.h"
#include "th_logtest.h"

#define NOW 1000000000ull

struct fx {
	char dir[256];
	struct clog *c;
	struct clog_config cfg;
	struct lt_author alice, bob, carol; /* local, local, remote */
	int acks, ack_fail, durable, remote_durable, rejects;
	int last_reject;
	uint64_t acked[4096];
	int role_of_remote;
	uint64_t req;
	uint8_t payload[64];
};

static void cb_durable(void *user, const struct clog_event *ev)
{
	struct fx *f = user;
	f->durable++;
	if (ev->remote)
		f->remote_durable++;
}

static void cb_reject(void *user, uint32_t source, const struct th_logrec_entry *e, int reason)
{
	struct fx *f = user;
	f->rejects++;
	f->last_reject = reason;
}

static int cb_role(void *user, const uint8_t *pk)
{
	struct fx *f = user;
	return f->role_of_remote;
}

static void done(void *ctx, int status, const struct clog_id *id)
{
	struct fx *f = ctx;
	if (status == 0) {
		if (f->acks < 4096)
			f->acked[f->acks] = id->lamport;
		f->acks++;
	} else {
		f->ack_fail++;
	}
}

static int open_log(struct fx *f, struct clog_recovery *rep)
{
	struct clog_callbacks cb = { .on_durable = cb_durable, .on_reject = cb_reject, .role_of = cb_role };
	return clog_open(f->dir, &f->cfg, &cb, f, &f->c, rep);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(ct_logdir_create(f->dir, sizeof(f->dir)), 0);
	lt_author_init(&f->alice, 0xa1);
	lt_author_init(&f->bob, 0xb0);
	lt_author_init(&f->carol, 0xc0);
	f->role_of_remote = TH_ROLE_EDITOR;
	assert_int_equal(open_log(f, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	ct_logdir_remove(f->dir);
	free(f);
	return 0;
}

static int submit_as(struct fx *f, struct lt_author *a, uint8_t role, uint16_t type, uint8_t kind, uint64_t scope,
		     uint64_t base, uint32_t len, uint64_t now, int *why, struct clog_id *id)
{
	++f->req;
	struct clog_submit s = ct_write(f->c, a, a == &f->alice ? 1u : 2u, f->req, scope, f->payload, len);
	s.role = role;
	s.type = type;
	s.scope_kind = kind;
	s.base = base;
	s.done = done;
	s.ctx = f;
	return clog_submit_local(f->c, &s, now, id, why);
}

static int submit(struct fx *f, struct lt_author *a, uint64_t scope, int *why)
{
	return submit_as(f, a, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, scope, clog_lamport(f->c), 12,
			 NOW, why, NULL);
}

static struct th_logscan_result verify_dir(struct fx *f)
{
	struct th_logscan_result r;
	assert_int_equal(th_logscan_dir(f->dir, NULL, NULL, &r), 0);
	return r;
}

static void ack_comes_only_after_flush_made_the_entry_durable(void **state)
{
	struct fx *f = *state;
	struct clog_id id;
	int why;
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 7, 0, 12, NOW,
				   &why, &id),
			 0);
	assert_int_equal(id.lamport, 1);
	assert_int_equal(id.seq, 1);
	assert_memory_equal(id.author, f->alice.kp.pk, 32);
	assert_int_equal(f->acks, 0);
	assert_true(clog_has_pending(f->c));
	/* Not on disk yet: a verifier sees nothing. */
	assert_int_equal(verify_dir(f).records, 0);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_int_equal(f->acks, 1);
	assert_int_equal(f->durable, 1);
	struct th_logscan_result r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 1);
}

static void one_batch_gets_one_signature_per_author_and_verifies(void **state)
{
	struct fx *f = *state;
	int why;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(submit(f, &f->alice, 1, &why), 0);
		assert_int_equal(submit(f, &f->bob, 2, &why), 0);
	}
	assert_int_equal(clog_flush(f->c, NOW), 20);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.signatures, 2);
	assert_int_equal(st.syncs, 1);
	assert_int_equal(f->acks, 20);
	struct th_logscan_result r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 20);
	assert_int_equal(r.authors, 2);
	/* Lamport ids are unique and increasing in ack order. */
	for (int i = 1; i < 20; i++)
		assert_true(f->acked[i] > f->acked[i - 1]);
}

static void sign_each_signs_every_entry(void **state)
{
	struct fx *f = *state;
	int why;
	clog_close(&f->c);
	f->cfg.sign_each = true;
	assert_int_equal(open_log(f, NULL), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(submit(f, &f->alice, 1, &why), 0);
	assert_int_equal(clog_flush(f->c, NOW), 5);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.signatures, 5);
	assert_true(verify_dir(f).ok);
}

struct since {
	uint64_t lamport[64];
	uint8_t author0[64];
	int n;
};

static int since_cb(void *user, const struct th_logrec_entry *e)
{
	struct since *s = user;
	s->lamport[s->n] = e->lamport;
	s->author0[s->n] = e->author[0];
	s->n++;
	return 0;
}

static void entries_since_serves_durable_entries_in_total_order_across_reopen(void **state)
{
	struct fx *f = *state;
	int why;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(submit(f, i % 2 ? &f->alice : &f->bob, 3, &why), 0);
		if (i % 2)
			assert_true(clog_flush(f->c, NOW) > 0);
	}
	struct since s = { 0 };
	assert_int_equal(clog_entries_since(f->c, 2, 0, since_cb, &s), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(s.lamport[i], 3 + i);
	clog_close(&f->c);
	struct clog_recovery rep;
	assert_int_equal(open_log(f, &rep), 0);
	assert_false(rep.repaired);
	assert_int_equal(rep.records, 6);
	assert_int_equal(clog_lamport(f->c), 6);
	memset(&s, 0, sizeof(s));
	assert_int_equal(clog_entries_since(f->c, 0, 3, since_cb, &s), 3);
	assert_int_equal(s.lamport[2], 3);
	/* Chains continue after reopen: new entries verify. */
	assert_int_equal(submit(f, &f->alice, 3, &why), 0);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_true(verify_dir(f).ok);
}

static void roles_gate_command_types(void **state)
{
	struct fx *f = *state;
	int why = 0;
	struct clog_stats st;
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_VIEWER, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 1, 0, 8, NOW,
				   &why, NULL),
			 -TH_EDENIED);
	assert_int_equal(why, CLOG_R_ROLE);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_VIEWER, TH_CMD_ANNOTATION_ADD, TH_SCOPE_ENTITY, 1, 0, 8, NOW,
				   &why, NULL),
			 0);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_SESSION_RENAME, TH_SCOPE_GLOBAL, 0, 0, 8, NOW,
				   &why, NULL),
			 -TH_EDENIED);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, TH_CMD_SESSION_RENAME, TH_SCOPE_GLOBAL, 0, 0, 8, NOW,
				   &why, NULL),
			 0);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_ROLE], 2);
}

static void registry_and_payload_guards_refuse_with_counters(void **state)
{
	struct fx *f = *state;
	int why = 0;
	struct clog_stats st;
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, 0x7777, TH_SCOPE_ENTITY, 1, 0, 8, NOW, &why, NULL), -EINVAL);
	assert_int_equal(why, CLOG_R_UNKNOWN_TYPE);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, TH_CMD_COMPONENT_WRITE, TH_SCOPE_TOOL, 1, 0, 8, NOW, &why,
				   NULL),
			 -EINVAL);
	assert_int_equal(why, CLOG_R_SCOPE);
	/* Over the type's cap, and over the 64 KiB cap. */
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, TH_CMD_COMPONENT_REMOVE, TH_SCOPE_ENTITY, 1, 0, 9, NOW,
				   &why, NULL),
			 -EMSGSIZE);
	uint8_t *big = calloc(1, TH_LOGREC_PAYLOAD_MAX + 1);
	struct clog_submit s = {
		.source = 1, .role = TH_ROLE_ADMIN, .key = &f->alice.kp, .req_seq = 99, .type = TH_CMD_COMPONENT_WRITE,
		.scope_kind = TH_SCOPE_ENTITY, .scope_id = 1, .payload = big, .payload_len = TH_LOGREC_PAYLOAD_MAX + 1,
	};
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), -EMSGSIZE);
	s.payload_len = TH_LOGREC_PAYLOAD_MAX; /* exactly the cap is fine */
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), 0);
	free(big);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_UNKNOWN_TYPE], 1);
	assert_int_equal(st.rejected[CLOG_R_SCOPE], 1);
	assert_int_equal(st.rejected[CLOG_R_PAYLOAD], 2);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_true(verify_dir(f).ok);
}

static void replayed_request_number_is_refused(void **state)
{
	struct fx *f = *state;
	int why = 0;
	struct clog_submit s = {
		.source = 1, .role = TH_ROLE_EDITOR, .key = &f->alice.kp, .req_seq = 5, .type = TH_CMD_COMPONENT_WRITE,
		.scope_kind = TH_SCOPE_ENTITY, .scope_id = 1, .payload = f->payload, .payload_len = 8,
	};
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), 0);
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), -EALREADY);
	assert_int_equal(why, CLOG_R_REPLAY);
	s.req_seq = 4;
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), -EALREADY);
	s.req_seq = 6;
	assert_int_equal(clog_submit_local(f->c, &s, NOW, NULL, &why), 0);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_REPLAY], 2);
}

static void flood_beyond_the_token_bucket_is_refused_then_refills(void **state)
{
	struct fx *f = *state;
	int why = 0, ok = 0, limited = 0;
	clog_close(&f->c);
	f->cfg.rate_per_s = 10;
	f->cfg.rate_burst = 20;
	assert_int_equal(open_log(f, NULL), 0);
	for (int i = 0; i < 50; i++) {
		int r = submit(f, &f->alice, 1, &why);
		if (r == 0)
			ok++;
		else if (r == -EAGAIN && why == CLOG_R_RATE)
			limited++;
	}
	assert_int_equal(ok, 20);
	assert_int_equal(limited, 30);
	/* Another author has its own bucket. */
	assert_int_equal(submit(f, &f->bob, 1, &why), 0);
	/* Half a second later: 5 more tokens. */
	ok = 0;
	for (int i = 0; i < 10; i++)
		if (submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 1, 0, 8,
			      NOW + 500000000ull, &why, NULL) == 0)
			ok++;
	assert_int_equal(ok, 5);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_RATE], 35);
}

static void pending_entries_per_source_are_bounded(void **state)
{
	struct fx *f = *state;
	int why = 0;
	clog_close(&f->c);
	f->cfg.pending_per_source = 8;
	assert_int_equal(open_log(f, NULL), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(submit(f, &f->alice, 1, &why), 0);
	assert_int_equal(submit(f, &f->alice, 1, &why), -EAGAIN);
	assert_int_equal(why, CLOG_R_PENDING);
	/* Another source still has room. */
	assert_int_equal(submit(f, &f->bob, 1, &why), 0);
	assert_int_equal(clog_flush(f->c, NOW), 9);
	assert_int_equal(submit(f, &f->alice, 1, &why), 0);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_PENDING], 1);
}

static void conflict_strategies_reject_lww_and_merge_with_counters(void **state)
{
	struct fx *f = *state;
	int why = 0;
	struct clog_stats st;
	/* Bob sets a role; Alice, not having seen it (base 0), too: rejected. */
	assert_int_equal(submit_as(f, &f->bob, TH_ROLE_ADMIN, TH_CMD_SESSION_ROLE_SET, TH_SCOPE_GLOBAL, 0, 0, 4, NOW, &why,
				   NULL),
			 0);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, TH_CMD_SESSION_ROLE_SET, TH_SCOPE_GLOBAL, 0, 0, 4, NOW,
				   &why, NULL),
			 -ESTALE);
	assert_int_equal(why, CLOG_R_CONFLICT);
	/* Having seen it (base = its lamport), no conflict. */
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_ADMIN, TH_CMD_SESSION_ROLE_SET, TH_SCOPE_GLOBAL, 0, 1, 4, NOW,
				   &why, NULL),
			 0);
	/* LWW: concurrent component writes are accepted and counted. */
	assert_int_equal(submit_as(f, &f->bob, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 9, 0, 8, NOW, &why,
				   NULL),
			 0);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 9, 0, 8, NOW,
				   &why, NULL),
			 0);
	/* Merge: concurrent mesh patches both apply, counted. */
	assert_int_equal(submit_as(f, &f->bob, TH_ROLE_EDITOR, TH_CMD_MESH_PATCH, TH_SCOPE_MESH, 77, 0, 8, NOW, &why, NULL),
			 0);
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_MESH_PATCH, TH_SCOPE_MESH, 77, 0, 8, NOW, &why,
				   NULL),
			 0);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.conflicts_rejected, 1);
	assert_int_equal(st.rejected[CLOG_R_CONFLICT], 1);
	assert_int_equal(st.conflicts_lww, 1);
	assert_int_equal(st.conflicts_merged, 1);
	assert_int_equal(clog_flush(f->c, NOW), 6);
	assert_true(verify_dir(f).ok);
}

/* Remote batches: carol's entries, signed once at the end of each call. */
struct rbatch {
	struct th_logrec_entry e[64];
	uint8_t h[64][32];
	int n;
};

static void rb_add(struct fx *f, struct rbatch *b, uint64_t lamport, bool sign)
{
	lt_entry(&f->carol, lamport, 500, f->payload, 8, sign, &b->e[b->n], b->h[b->n]);
	b->n++;
}

static void remote_entries_verify_order_and_persist(void **state)
{
	struct fx *f = *state;
	int why;
	struct rbatch b = { .n = 0 };
	assert_int_equal(submit(f, &f->alice, 1, &why), 0);
	for (int i = 0; i < 9; i++)
		rb_add(f, &b, 10 + (uint64_t)i, i == 8);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, (size_t)b.n, NOW), 9);
	assert_int_equal(f->rejects, 0);
	assert_int_equal(clog_lamport(f->c), 18);
	assert_int_equal(clog_flush(f->c, NOW), 10);
	assert_int_equal(f->remote_durable, 9);
	/* A later local entry orders after everything seen. */
	struct clog_id id;
	assert_int_equal(submit_as(f, &f->alice, TH_ROLE_EDITOR, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, 1, 18, 8, NOW,
				   &why, &id),
			 0);
	assert_int_equal(id.lamport, 19);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.verifies, 1);
	struct th_logscan_result r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 11);
	/* Late remote entries take their place in the total order. */
	struct since s = { 0 };
	assert_int_equal(clog_entries_since(f->c, 0, 0, since_cb, &s), 11);
	for (int i = 1; i < s.n; i++)
		assert_true(s.lamport[i] > s.lamport[i - 1]);
}

static void remote_unsigned_entries_are_refused(void **state)
{
	struct fx *f = *state;
	struct rbatch b = { .n = 0 };
	rb_add(f, &b, 10, false);
	rb_add(f, &b, 11, false);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 2, NOW), 0);
	assert_int_equal(f->rejects, 2);
	assert_int_equal(f->last_reject, CLOG_R_UNSIGNED);
	assert_false(clog_has_pending(f->c));
}

static void remote_bad_signature_tampered_payload_and_wrong_key_are_refused(void **state)
{
	struct fx *f = *state;
	struct rbatch b = { .n = 0 };
	struct clog_stats st;
	/* Bad signature. */
	struct lt_author saved = f->carol;
	rb_add(f, &b, 10, true);
	b.e[0].sig[3] ^= 1;
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_BAD_SIGNATURE);
	/* Tampered payload of an unsigned entry covered by a later signature. */
	f->carol = saved;
	b.n = 0;
	rb_add(f, &b, 10, false);
	rb_add(f, &b, 11, true);
	uint8_t evil[8] = { 0xee };
	b.e[0].payload = evil;
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 2, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_UNSIGNED); /* the link to the signature is broken */
	/* Wrong author key: an entry of carol's relabelled as bob's. */
	f->carol = saved;
	b.n = 0;
	rb_add(f, &b, 10, true);
	memcpy(b.e[0].author, f->bob.kp.pk, 32);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_BAD_SIGNATURE);
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_BAD_SIGNATURE], 2);
	assert_int_equal(st.rejected[CLOG_R_UNSIGNED], 2);
	assert_false(clog_has_pending(f->c));
}

static void remote_replay_and_forged_chain_are_refused(void **state)
{
	struct fx *f = *state;
	struct rbatch b = { .n = 0 };
	rb_add(f, &b, 10, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 1);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_REPLAY);
	/* Carol signs an entry whose prev is not her chain head. */
	f->carol.chain.head[5] ^= 1;
	b.n = 0;
	rb_add(f, &b, 12, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_CHAIN);
	/* Skipping a sequence number. */
	lt_author_init(&f->carol, 0xc0);
	struct rbatch g = { .n = 0 };
	rb_add(f, &g, 10, true);
	rb_add(f, &g, 11, true);
	rb_add(f, &g, 12, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, &g.e[2], 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_CHAIN);
	assert_int_equal(clog_flush(f->c, NOW), 1);
	assert_true(verify_dir(f).ok);
}

static void remote_role_order_skew_and_group_failures_are_refused(void **state)
{
	struct fx *f = *state;
	struct rbatch b = { .n = 0 };
	struct lt_author saved = f->carol;
	f->role_of_remote = TH_ROLE_VIEWER;
	rb_add(f, &b, 10, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_ROLE);
	f->role_of_remote = TH_ROLE_EDITOR;
	f->carol = saved;
	b.n = 0;
	rb_add(f, &b, CLOG_LAMPORT_SKEW_MAX + 100, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 1, NOW), 0);
	assert_int_equal(f->last_reject, CLOG_R_SKEW);
	/* A group whose second entry breaks the order: the whole group goes. */
	f->carol = saved;
	b.n = 0;
	rb_add(f, &b, 10, false);
	rb_add(f, &b, 10, true);
	f->rejects = 0;
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 2, NOW), 0);
	assert_int_equal(f->rejects, 2);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_ORDER], 1);
	assert_int_equal(st.rejected[CLOG_R_GROUP], 1);
	/* Too large a call. */
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, CLOG_REMOTE_BATCH_MAX + 1, NOW), -E2BIG);
}

static void remote_flood_is_rate_limited(void **state)
{
	struct fx *f = *state;
	clog_close(&f->c);
	f->cfg.rate_per_s = 10;
	f->cfg.rate_burst = 16;
	assert_int_equal(open_log(f, NULL), 0);
	struct rbatch b = { .n = 0 };
	for (int i = 0; i < 8; i++)
		rb_add(f, &b, 10 + (uint64_t)i, true);
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 8, NOW), 8);
	b.n = 0;
	for (int i = 0; i < 12; i++)
		rb_add(f, &b, 20 + (uint64_t)i, true);
	/* 8 tokens left: the first 8 fit, the rest is refused. */
	f->rejects = 0;
	assert_int_equal(clog_integrate_remote(f->c, 7, b.e, 12, NOW), 8);
	assert_int_equal(f->rejects, 4);
	assert_int_equal(f->last_reject, CLOG_R_RATE);
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_int_equal(st.rejected[CLOG_R_RATE], 4);
	assert_int_equal(st.rejected[CLOG_R_CHAIN], 0);
}

static void segments_rotate_and_everything_stays_verifiable(void **state)
{
	struct fx *f = *state;
	int why;
	clog_close(&f->c);
	f->cfg.segment_bytes = 4096;
	f->cfg.rate_per_s = 1000000;
	f->cfg.rate_burst = 1000000;
	assert_int_equal(open_log(f, NULL), 0);
	for (int i = 0; i < 60; i++) {
		assert_int_equal(submit(f, i % 3 ? &f->alice : &f->bob, (uint64_t)i, &why), 0);
		if (i % 5 == 4)
			assert_true(clog_flush(f->c, NOW) > 0);
	}
	struct clog_stats st;
	clog_get_stats(f->c, &st);
	assert_true(st.segments >= 3);
	struct th_logscan_result r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 60);
	assert_int_equal(r.segments, st.segments);
	clog_close(&f->c);
	assert_int_equal(open_log(f, NULL), 0);
	struct since s = { 0 };
	assert_int_equal(clog_entries_since(f->c, 10, 5, since_cb, &s), 5);
	assert_int_equal(s.lamport[0], 11);
}

static char *seg_path(struct fx *f, uint64_t idx, char *buf, size_t n)
{
	th_logseg_path(f->dir, idx, buf, n);
	return buf;
}

static void write_batches(struct fx *f, int batches, int per)
{
	int why;
	for (int b = 0; b < batches; b++) {
		for (int i = 0; i < per; i++)
			assert_int_equal(submit(f, i % 2 ? &f->alice : &f->bob, 4, &why), 0);
		assert_int_equal(clog_flush(f->c, NOW), per);
	}
}

static void recovery_truncates_a_torn_tail_and_keeps_acknowledged_entries(void **state)
{
	struct fx *f = *state;
	char p[512];
	write_batches(f, 3, 4);
	long long full = lt_file_size(seg_path(f, 1, p, sizeof(p)));
	/* The third batch is torn mid-record, as by a crash during its write. */
	assert_int_equal(lt_truncate(p, (uint64_t)full - 50), 0);
	clog_close(&f->c);
	struct clog_recovery rep;
	assert_int_equal(open_log(f, &rep), 0);
	assert_true(rep.repaired);
	assert_int_equal(rep.records, 8);
	assert_true(rep.cut_bytes > 0);
	assert_int_equal(rep.bad_reason, TH_LR_TRUNCATED);
	assert_int_equal(clog_lamport(f->c), 8);
	/* Appending continues from the cut, and the result verifies. */
	write_batches(f, 1, 3);
	struct th_logscan_result r = verify_dir(f);
	assert_true(r.ok);
	assert_int_equal(r.records, 11);
}

static void recovery_refuses_a_flipped_byte_in_acknowledged_data(void **state)
{
	struct fx *f = *state;
	char p[512];
	write_batches(f, 3, 4);
	clog_close(&f->c);
	assert_int_equal(lt_flip_byte(seg_path(f, 1, p, sizeof(p)), TH_LOGSEG_HDR_LEN + 60, 0x10), 0);
	long long before = lt_file_size(p);
	struct clog_recovery rep;
	assert_int_equal(open_log(f, &rep), -TH_ECORRUPT);
	assert_null(f->c);
	assert_int_equal(rep.bad_index, 0);
	assert_int_equal(rep.bad_offset, TH_LOGSEG_HDR_LEN);
	assert_int_equal(rep.bad_reason, TH_LR_BAD_CHECKSUM);
	/* Nothing was cut. */
	assert_int_equal(lt_file_size(p), before);
	/* Reopen for teardown after undoing the damage. */
	assert_int_equal(lt_flip_byte(p, TH_LOGSEG_HDR_LEN + 60, 0x10), 0);
	assert_int_equal(open_log(f, NULL), 0);
}

static void recovery_drops_an_incomplete_final_batch_with_garbage_after_it(void **state)
{
	struct fx *f = *state;
	char p[512];
	write_batches(f, 2, 3);
	clog_close(&f->c);
	FILE *fp = fopen(seg_path(f, 1, p, sizeof(p)), "a");
	for (int i = 0; i < 100; i++)
		fputc(i * 7, fp);
	fclose(fp);
	struct clog_recovery rep;
	assert_int_equal(open_log(f, &rep), 0);
	assert_true(rep.repaired);
	assert_int_equal(rep.cut_bytes, 100);
	assert_int_equal(rep.records, 6);
	assert_true(verify_dir(f).ok);
}

static void close_cancels_unflushed_entries(void **state)
{
	struct fx *f = *state;
	int why;
	assert_int_equal(submit(f, &f->alice, 1, &why), 0);
	clog_close(&f->c);
	assert_int_equal(f->acks, 0);
	assert_int_equal(f->ack_fail, 1);
	assert_int_equal(open_log(f, NULL), 0);
	assert_int_equal(clog_lamport(f->c), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(ack_comes_only_after_flush_made_the_entry_durable),
		T(one_batch_gets_one_signature_per_author_and_verifies),
		T(sign_each_signs_every_entry),
		T(entries_since_serves_durable_entries_in_total_order_across_reopen),
		T(roles_gate_command_types),
		T(registry_and_payload_guards_refuse_with_counters),
		T(replayed_request_number_is_refused),
		T(flood_beyond_the_token_bucket_is_refused_then_refills),
		T(pending_entries_per_source_are_bounded),
		T(conflict_strategies_reject_lww_and_merge_with_counters),
		T(remote_entries_verify_order_and_persist),
		T(remote_unsigned_entries_are_refused),
		T(remote_bad_signature_tampered_payload_and_wrong_key_are_refused),
		T(remote_replay_and_forged_chain_are_refused),
		T(remote_role_order_skew_and_group_failures_are_refused),
		T(remote_flood_is_rate_limited),
		T(segments_rotate_and_everything_stays_verifiable),
		T(recovery_truncates_a_torn_tail_and_keeps_acknowledged_entries),
		T(recovery_refuses_a_flipped_byte_in_acknowledged_data),
		T(recovery_drops_an_incomplete_final_batch_with_garbage_after_it),
		T(close_cancels_unflushed_entries),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
