/* common/th_fold.c: the world as a pure function of the entry set — total
 * order whatever the arrival order, rollback inside the window, -ERANGE
 * below it, undo and redo as exclusion with roles, snapshots, tentatives;
 * and the seeded convergence property test (random 4-author histories
 * delivered in many orders, with duplicates, gaps and late authors). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>
#include <zstd.h>

#include "th_cmd.h"
#include "th_fold.h"
#include "th_foldfix.h"
#include "th_scene.h"

/* ---- outcome log ---------------------------------------------------------- */

struct tf_report {
	uint64_t lamport, seq;
	uint8_t author[32];
	uint8_t status, reason;
	bool again;
};
struct tf_log {
	struct tf_report *v;
	size_t n, cap;
	uint64_t changes;
};

static void tf_on_outcome(void *ud, const struct th_fold_outcome *o)
{
	struct tf_log *l = ud;
	assert_non_null(o->why);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		assert_non_null(l->v);
	}
	struct tf_report *r = &l->v[l->n++];
	r->lamport = o->lamport;
	r->seq = o->seq;
	memcpy(r->author, o->author, 32);
	r->status = o->status;
	r->reason = o->reason;
	r->again = o->again;
}

static void tf_on_change(void *ud, enum th_scene_change kind, uint64_t id)
{
	struct tf_log *l = ud;
	l->changes++;
}

/* The last report for an entry, or NULL. */
static const struct tf_report *tf_last(const struct tf_log *l, const struct th_logrec_entry *e)
{
	for (size_t i = l->n; i-- > 0;)
		if (l->v[i].lamport == e->lamport && memcmp(l->v[i].author, e->author, 32) == 0)
			return &l->v[i];
	return NULL;
}

static struct lt_author host, alice, bob, carol;

static struct th_fold *tf_fold(struct tf_log *l, uint32_t window)
{
	struct th_fold_config c = { .window_entries = window, .on_outcome = tf_on_outcome,
				    .on_change = tf_on_change, .ud = l };
	memcpy(c.host_key, host.kp.pk, 32);
	struct th_fold *f = NULL;
	assert_int_equal(th_fold_create(&c, &f), 0);
	return f;
}

static int tf_setup(void **state)
{
	lt_author_init(&host, 0x10);
	lt_author_init(&alice, 0x20);
	lt_author_init(&bob, 0x30);
	lt_author_init(&carol, 0x40);
	return 0;
}

static int tf_teardown(void **state)
{
	ff_free_all();
	return 0;
}

static void tf_hash(struct th_fold *f, uint8_t out[32]) { assert_int_equal(th_fold_world_hash(f, out), 0); }

/* A fold of entries idx[0..n-1] in that order (each must fold). */
static void tf_fold_all(struct th_fold *f, const size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(th_fold_add(f, ff_e(idx[i]), idx[i]), 0);
}

static void tf_expect_same(struct th_fold *a, struct th_fold *b)
{
	uint8_t ha[32], hb[32], da[32], db[32];
	tf_hash(a, ha);
	tf_hash(b, hb);
	assert_memory_equal(ha, hb, 32);
	th_fold_set_digest(a, da);
	th_fold_set_digest(b, db);
	assert_memory_equal(da, db, 32);
}

static uint8_t tf_status(struct th_fold *f, size_t i, uint8_t *reason)
{
	struct th_fold_outcome o;
	assert_int_equal(th_fold_outcome_of(f, ff_e(i)->lamport, ff_e(i)->author, &o), 0);
	if (reason)
		*reason = o.reason;
	return o.status;
}

static const struct th_c_transform *tf_transform(struct th_fold *f, uint64_t entity)
{
	return th_scene_component(th_fold_scene(f), entity, TH_COMP_TRANSFORM);
}

/* ---- order and rollback ----------------------------------------------------- */

static void an_entry_arriving_late_rolls_back_and_replays_the_ones_above(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	uint64_t ent = ff_entity_of(c);
	size_t w = ff_make(&alice, TH_CMD_COMPONENT_WRITE, ent, 5, ff_component_write(5));
	size_t d = ff_make(&bob, TH_CMD_ENTITY_DESTROY, ent, 3, ff_empty());
	size_t m = ff_make(&bob, TH_CMD_COMPONENT_WRITE, ent, 4, ff_component_write(4));

	struct tf_log la = { 0 }, lb = { 0 };
	struct th_fold *late = tf_fold(&la, 0), *inorder = tf_fold(&lb, 0);
	tf_fold_all(inorder, (size_t[]){ c, d, m, w }, 4);
	tf_fold_all(late, (size_t[]){ c, w }, 2);
	assert_int_equal(tf_status(late, w, NULL), TH_FOLD_APPLIED);
	assert_true(tf_transform(late, ent)->position[0] == 5);
	la.n = 0;
	/* bob's destroy sorts between alice's create and write */
	assert_int_equal(th_fold_add(late, ff_e(d), d), 0);
	uint8_t reason;
	assert_int_equal(tf_status(late, w, &reason), TH_FOLD_REFUSED);
	assert_int_equal(reason, TH_REFUSE_NO_ENTITY);
	assert_false(th_scene_has_entity(th_fold_scene(late), ent));
	/* reported: the destroy, then the write again with its new outcome */
	assert_int_equal(la.n, 2);
	assert_int_equal(la.v[0].seq, 1);
	assert_false(la.v[0].again);
	assert_int_equal(la.v[1].status, TH_FOLD_REFUSED);
	assert_true(la.v[1].again);
	assert_int_equal(th_fold_add(late, ff_e(m), m), 0);
	tf_expect_same(late, inorder);

	struct th_fold_stats st;
	th_fold_stats(late, &st);
	assert_int_equal(st.entries, 4);
	assert_int_equal(st.rollbacks, 2);
	assert_int_equal(st.replayed, 2);
	assert_int_equal(st.applied + st.refused, 4);
	assert_int_equal(st.next_pos, m + 1);
	th_fold_destroy(&late);
	th_fold_destroy(&inorder);
	assert_null(late);
	free(la.v);
	free(lb.v);
}

static void duplicates_gaps_and_broken_chains_change_nothing(void **state)
{
	size_t a1 = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	size_t a2 = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 2, ff_entity_create(1));
	size_t a3 = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 3, ff_entity_create(2));
	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	assert_int_equal(th_fold_add(f, ff_e(a1), 0), 0);
	assert_int_equal(th_fold_add(f, ff_e(a3), 2), -EPROTO);
	assert_int_equal(th_fold_add(f, ff_e(a1), 0), 1);
	/* a first entry chains to nothing */
	size_t b1 = ff_make(&bob, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	struct th_logrec_entry forged = *ff_e(b1);
	forged.prev[0] ^= 1;
	assert_int_equal(th_fold_add(f, &forged, 1), -EPROTO);
	forged = *ff_e(a2);
	forged.lamport = 1;
	assert_int_equal(th_fold_add(f, &forged, 1), -EPROTO);
	assert_int_equal(th_fold_author_seq(f, alice.kp.pk), 1);
	assert_int_equal(th_fold_author_seq(f, bob.kp.pk), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(th_fold_add(f, ff_e(a2), 1), 0);
	assert_int_equal(th_fold_add(f, ff_e(a3), 2), 0);
	assert_int_equal(th_fold_author_seq(f, alice.kp.pk), 3);

	/* the digest is the documented one: alice's seq and head hash */
	uint8_t want[32], got[32], in[16 + 32 + 8 + 32];
	memcpy(in, "theta.set.v1\0\0\0\0", 16);
	memcpy(in + 16, alice.kp.pk, 32);
	th_put_le64(in + 48, 3);
	th_logrec_entry_hash(ff_e(a3), in + 56);
	crypto_generichash(want, 32, in, sizeof in, NULL, 0);
	th_fold_set_digest(f, got);
	assert_memory_equal(got, want, 32);
	th_fold_destroy(&f);
	free(l.v);
}

static void an_entry_below_the_window_is_refused_and_changes_nothing(void **state)
{
	struct lt_author late_a;
	lt_author_init(&late_a, 0x55);
	size_t idx[10];
	size_t undo = ff_make(&carol, TH_CMD_EDIT_UNDO, 0, 9, ff_target(3, carol.kp.pk));
	for (int i = 0; i < 10; i++)
		idx[i] = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 10 + (uint64_t)i, ff_entity_create((float)i));
	size_t inside = ff_make(&bob, TH_CMD_ENTITY_CREATE, 0, 17, ff_entity_create(50));
	size_t below = ff_make(&late_a, TH_CMD_ENTITY_CREATE, 0, 12, ff_entity_create(99));
	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 4);
	tf_fold_all(f, (size_t[]){ undo }, 1);
	tf_fold_all(f, idx, 10);
	struct th_fold_stats st;
	th_fold_stats(f, &st);
	assert_int_equal(st.window_entries, 4);
	assert_true(st.window_bytes > 0);
	uint8_t h0[32], d0[32], h1[32], d1[32];
	tf_hash(f, h0);
	th_fold_set_digest(f, d0);
	size_t reports = l.n;
	uint64_t changes = l.changes;
	assert_int_equal(th_fold_add(f, ff_e(below), 100), -ERANGE);
	tf_hash(f, h1);
	th_fold_set_digest(f, d1);
	assert_memory_equal(h0, h1, 32);
	assert_memory_equal(d0, d1, 32);
	assert_int_equal(l.n, reports);
	assert_int_equal(l.changes, changes);
	assert_int_equal(th_fold_author_seq(f, late_a.kp.pk), 0);
	/* the oldest entries left the window; the newest are still there */
	struct th_fold_outcome o;
	assert_int_equal(th_fold_outcome_of(f, ff_e(idx[0])->lamport, alice.kp.pk, &o), -ENOENT);
	assert_int_equal(th_fold_outcome_of(f, ff_e(idx[9])->lamport, alice.kp.pk, &o), 0);
	/* the control state stays whole: the undo's outcome is still known */
	assert_int_equal(th_fold_outcome_of(f, ff_e(undo)->lamport, carol.kp.pk, &o), 0);
	assert_int_equal(o.status, TH_FOLD_CONTROL);
	/* one inside the window still rolls back */
	assert_int_equal(th_fold_add(f, ff_e(inside), 101), 0);
	th_fold_stats(f, &st);
	assert_int_equal(st.out_of_window, 1);
	assert_int_equal(st.rollbacks, 1);
	assert_int_equal(st.entries, 12);
	th_fold_destroy(&f);
	free(l.v);
}

/* 25 000 writes through a window of 64: the journal bytes of entries that
 * left the window are cut off (past 1 MiB) and rollbacks inside the window
 * still land where they belong. */
static void the_window_keeps_rolling_back_after_old_journal_bytes_are_cut(void **state)
{
	enum { N = 25000, LATE = 30 };
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	uint64_t ent = ff_entity_of(c);
	size_t *idx = malloc(N * sizeof *idx);
	for (size_t i = 0; i < N; i++)
		idx[i] = ff_make(&alice, TH_CMD_COMPONENT_WRITE, ent, 2 + i, ff_component_write((float)i));
	/* bob wrote at a lamport LATE entries below alice's last */
	size_t late = ff_make(&bob, TH_CMD_COMPONENT_WRITE, ent, 1 + N - LATE, ff_component_write(-1));
	size_t last = ff_make(&alice, TH_CMD_ENTITY_DESTROY, ent, 2 + N, ff_empty());
	struct tf_log l = { 0 }, l2 = { 0 };
	struct th_fold *f = tf_fold(&l, 64), *g = tf_fold(&l2, 0);
	tf_fold_all(f, (size_t[]){ c }, 1);
	tf_fold_all(f, idx, N);
	struct th_fold_stats st;
	th_fold_stats(f, &st);
	assert_int_equal(st.window_entries, 64);
	assert_true(st.window_bytes < 64 * 1024);
	assert_int_equal(th_fold_add(f, ff_e(late), late), 0);
	assert_true(tf_transform(f, ent)->position[0] == (float)(N - 1));
	assert_int_equal(th_fold_add(f, ff_e(last), last), 0);
	/* the same set in total order, with the default window */
	tf_fold_all(g, (size_t[]){ c }, 1);
	tf_fold_all(g, idx, N - LATE - 1);
	tf_fold_all(g, (size_t[]){ late }, 1);
	tf_fold_all(g, idx + N - LATE - 1, LATE + 1);
	tf_fold_all(g, (size_t[]){ last }, 1);
	tf_expect_same(f, g);
	th_fold_stats(f, &st);
	assert_int_equal(st.rollbacks, 1);
	assert_int_equal(st.replayed, LATE + 1);

	/* the byte bound holds the window too */
	struct th_fold_config cb = { .window_bytes = 4096 };
	memcpy(cb.host_key, host.kp.pk, 32);
	struct th_fold *b = NULL;
	assert_int_equal(th_fold_create(&cb, &b), 0);
	tf_fold_all(b, (size_t[]){ c }, 1);
	tf_fold_all(b, idx, 200);
	th_fold_stats(b, &st);
	assert_true(st.window_bytes <= 4096);
	assert_true(st.window_entries > 0 && st.window_entries < 200);
	th_fold_destroy(&b);

	/* a rebuild folds with a window covering everything, then shrinks it:
	 * an undo of the very first write reaches back across all of them */
	size_t undo = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 3 + N, ff_target(1, alice.kp.pk));
	assert_int_equal(th_fold_add(f, ff_e(undo), undo), -ERANGE);
	struct tf_log l3 = { 0 };
	struct th_fold *r = tf_fold(&l3, UINT32_MAX);
	th_fold_set_window(r, UINT32_MAX, SIZE_MAX);
	tf_fold_all(r, (size_t[]){ c }, 1);
	tf_fold_all(r, idx, N);
	tf_fold_all(r, (size_t[]){ late, last, undo }, 3);
	assert_int_equal(tf_status(r, c, NULL), TH_FOLD_EXCLUDED);
	th_fold_stats(r, &st);
	assert_int_equal(st.window_entries, N + 4);
	th_fold_set_window(r, 64, 0);
	th_fold_stats(r, &st);
	assert_int_equal(st.window_entries, 64);
	assert_int_equal(th_fold_add(g, ff_e(undo), undo), 0);
	tf_expect_same(r, g);
	th_fold_destroy(&r);
	free(l3.v);
	th_fold_destroy(&f);
	th_fold_destroy(&g);
	free(idx);
	free(l.v);
	free(l2.v);
}

/* ---- running out of memory ---------------------------------------------------- */

/* malloc, calloc and realloc of the whole binary (libc's underneath), one
 * of which can be made to fail: the fold and the scene are library code
 * that must hand back -ENOMEM with nothing changed. Not under ASan, whose
 * allocator these would bypass. */
#if !defined(__SANITIZE_ADDRESS__)
#define TF_CAN_FAIL_ALLOC 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static long tf_alloc_countdown = -1; /* the allocation that fails: 0 the next one */

static bool tf_alloc_fails(void)
{
	if (tf_alloc_countdown < 0)
		return false;
	return tf_alloc_countdown-- == 0;
}
void *malloc(size_t n) { return tf_alloc_fails() ? NULL : __libc_malloc(n); }
void *calloc(size_t n, size_t size) { return tf_alloc_fails() ? NULL : __libc_calloc(n, size); }
void *realloc(void *p, size_t n) { return tf_alloc_fails() ? NULL : __libc_realloc(p, n); }
#endif

/* A late mesh.create below other mesh creations: the fold reverts them,
 * and each replay allocates. Whichever allocation fails, the add is
 * -ENOMEM and the fold is as it was, and folds on as if nothing happened. */
static void an_allocation_failure_in_a_rollback_changes_nothing(void **state)
{
#ifndef TF_CAN_FAIL_ALLOC
	printf("SKIP: allocation failures are not injected under AddressSanitizer\n");
	skip();
#else
	size_t idx[6];
	for (int i = 0; i < 6; i++)
		idx[i] = ff_make(&alice, TH_CMD_MESH_CREATE, 0, 10 + (uint64_t)i, ff_mesh_create((float)i));
	size_t late = ff_make(&bob, TH_CMD_MESH_CREATE, 0, 11, ff_mesh_create(9));
	size_t after = ff_make(&bob, TH_CMD_ENTITY_CREATE, 0, 30, ff_entity_create(1));
	/* an undo of alice's second mesh: a replay from there without it */
	size_t undo = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 31, ff_target(11, alice.kp.pk));
	long failures = 0;
	for (int which = 0; which < 2; which++) {
		size_t x = which == 0 ? late : undo;
		for (long n = 0;; n++) {
			struct tf_log l = { 0 };
			struct th_fold *f = tf_fold(&l, 0);
			tf_fold_all(f, idx, 6);
			if (which == 1)
				tf_fold_all(f, (size_t[]){ late, after }, 2);
			uint8_t h0[32], d0[32], h1[32], d1[32];
			tf_hash(f, h0);
			th_fold_set_digest(f, d0);
			struct th_fold_stats s0, s1;
			th_fold_stats(f, &s0);
			size_t reports = l.n;
			uint64_t seq0 = th_fold_author_seq(f, ff_e(x)->author);
			tf_alloc_countdown = n;
			int rc = th_fold_add(f, ff_e(x), x);
			tf_alloc_countdown = -1;
			if (rc == 0) {
				th_fold_destroy(&f);
				free(l.v);
				break;
			}
			failures++;
			assert_int_equal(rc, -ENOMEM);
			tf_hash(f, h1);
			th_fold_set_digest(f, d1);
			th_fold_stats(f, &s1);
			assert_memory_equal(h0, h1, 32);
			assert_memory_equal(d0, d1, 32);
			assert_int_equal(s1.entries, s0.entries);
			assert_int_equal(s1.applied, s0.applied);
			assert_int_equal(s1.control, s0.control);
			assert_int_equal(s1.window_entries, s0.window_entries);
			assert_int_equal(l.n, reports);
			assert_int_equal(th_fold_author_seq(f, ff_e(x)->author), seq0);
			struct th_fold_outcome o;
			assert_int_equal(th_fold_outcome_of(f, ff_e(x)->lamport, ff_e(x)->author, &o), -ENOENT);
			/* and it folds on */
			assert_int_equal(th_fold_add(f, ff_e(x), x), 0);
			if (which == 0)
				assert_int_equal(th_fold_add(f, ff_e(after), after), 0);
			else
				assert_int_equal(tf_status(f, idx[1], NULL), TH_FOLD_EXCLUDED);
			struct tf_log lc = { 0 };
			struct th_fold *cmp = tf_fold(&lc, 0);
			tf_fold_all(cmp, idx, 2);
			tf_fold_all(cmp, (size_t[]){ late }, 1);
			tf_fold_all(cmp, idx + 2, 4);
			tf_fold_all(cmp, (size_t[]){ after }, 1);
			if (which == 1)
				tf_fold_all(cmp, (size_t[]){ undo }, 1);
			tf_expect_same(f, cmp);
			th_fold_destroy(&cmp);
			free(lc.v);
			th_fold_destroy(&f);
			free(l.v);
		}
	}
	printf("allocation failures injected: %ld, each -ENOMEM with nothing changed\n", failures);
	assert_true(failures >= 3);
#endif
}

/* ---- undo, redo, roles ------------------------------------------------------- */

static void undo_of_an_own_edit_makes_it_absent_and_redo_brings_it_back(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	uint64_t ent = ff_entity_of(c);
	size_t w = ff_make(&alice, TH_CMD_COMPONENT_WRITE, ent, 2, ff_component_write(7));
	size_t u = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 3, ff_target(ff_e(w)->lamport, alice.kp.pk));
	size_t r = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 4, ff_target(ff_e(u)->lamport, alice.kp.pk));

	struct tf_log l = { 0 }, l2 = { 0 }, l3 = { 0 };
	struct th_fold *f = tf_fold(&l, 0), *without = tf_fold(&l2, 0), *with = tf_fold(&l3, 0);
	tf_fold_all(without, (size_t[]){ c }, 1);
	tf_fold_all(with, (size_t[]){ c, w }, 2);
	uint8_t hw[32], hwo[32], h[32];
	tf_hash(with, hw);
	tf_hash(without, hwo);
	tf_fold_all(f, (size_t[]){ c, w, u }, 3);
	tf_hash(f, h);
	assert_memory_equal(h, hwo, 32);
	assert_int_equal(tf_status(f, w, NULL), TH_FOLD_EXCLUDED);
	assert_int_equal(tf_status(f, u, NULL), TH_FOLD_CONTROL);
	assert_true(tf_transform(f, ent)->position[0] == 1);
	const struct tf_report *rep = tf_last(&l, ff_e(w));
	assert_int_equal(rep->status, TH_FOLD_EXCLUDED);
	assert_true(rep->again);
	assert_int_equal(th_fold_add(f, ff_e(r), r), 0);
	tf_hash(f, h);
	assert_memory_equal(h, hw, 32);
	assert_int_equal(tf_status(f, w, NULL), TH_FOLD_APPLIED);
	assert_int_equal(tf_status(f, r, NULL), TH_FOLD_CONTROL);
	struct th_fold_stats st;
	th_fold_stats(f, &st);
	assert_int_equal(st.applied, 2);
	assert_int_equal(st.control, 2);
	assert_int_equal(st.excluded, 0);
	th_fold_destroy(&f);
	th_fold_destroy(&without);
	th_fold_destroy(&with);
	free(l.v);
	free(l2.v);
	free(l3.v);
}

/* Two undos of one entry: it stays excluded until both are redone, whether
 * the records arrive in order (each decided alone) or not (all decided
 * again). */
static void an_entry_undone_twice_needs_both_undos_redone(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	size_t u1 = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 2, ff_target(1, alice.kp.pk));
	size_t u2 = ff_make(&host, TH_CMD_EDIT_UNDO, 0, 3, ff_target(1, alice.kp.pk));
	size_t r1 = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 4, ff_target(2, alice.kp.pk));
	size_t r2 = ff_make(&host, TH_CMD_EDIT_REDO, 0, 5, ff_target(3, host.kp.pk));
	size_t again = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 6, ff_target(2, alice.kp.pk));
	const size_t orders[3][6] = { { c, u1, u2, r1, r2, again }, { c, u2, r2, u1, r1, again },
				      { u2, r2, c, u1, r1, again } };
	for (int o = 0; o < 3; o++) {
		struct tf_log l = { 0 };
		struct th_fold *f = tf_fold(&l, 0);
		for (int i = 0; i < 6; i++) {
			assert_int_equal(th_fold_add(f, ff_e(orders[o][i]), orders[o][i]), 0);
			/* with every record up to r1 folded, u2 still stands */
			size_t have = 0;
			for (int k = 0; k <= i; k++)
				have |= (size_t)1 << (orders[o][k] - c);
			bool has_c = have & 1, su1 = have & 2, su2 = have & 4, sr1 = have & 8, sr2 = have & 16;
			if (!has_c)
				continue;
			bool out = (su1 && !sr1) || (su2 && !sr2);
			assert_int_equal(tf_status(f, c, NULL), out ? TH_FOLD_EXCLUDED : TH_FOLD_APPLIED);
			assert_int_equal(th_scene_has_entity(th_fold_scene(f), ff_entity_of(c)), !out);
		}
		assert_int_equal(tf_status(f, again, NULL), TH_FOLD_CONTROL);
		th_fold_destroy(&f);
		free(l.v);
	}
}

static void undo_of_another_authors_edit_needs_an_admin(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	uint64_t ent = ff_entity_of(c);
	size_t bu = ff_make(&bob, TH_CMD_EDIT_UNDO, 0, 2, ff_target(1, alice.kp.pk));
	size_t bad_grant = ff_make(&carol, TH_CMD_SESSION_ROLE_SET, 0, 3, ff_role(bob.kp.pk, TH_ROLE_ADMIN));
	size_t bu2 = ff_make(&bob, TH_CMD_EDIT_UNDO, 0, 4, ff_target(1, alice.kp.pk));
	size_t grant = ff_make(&host, TH_CMD_SESSION_ROLE_SET, 0, 5, ff_role(bob.kp.pk, TH_ROLE_ADMIN));
	size_t bu3 = ff_make(&bob, TH_CMD_EDIT_UNDO, 0, 6, ff_target(1, alice.kp.pk));

	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	tf_fold_all(f, (size_t[]){ c, bu, bad_grant, bu2 }, 4);
	uint8_t reason;
	assert_int_equal(tf_status(f, bu, &reason), TH_FOLD_REFUSED);
	assert_int_equal(reason, TH_REFUSE_DENIED);
	assert_int_equal(tf_status(f, bad_grant, &reason), TH_FOLD_REFUSED);
	assert_int_equal(reason, TH_REFUSE_DENIED);
	assert_int_equal(tf_status(f, bu2, &reason), TH_FOLD_REFUSED);
	assert_true(th_scene_has_entity(th_fold_scene(f), ent));
	/* the host's grant comes after bu2: bob is admin from there on only */
	tf_fold_all(f, (size_t[]){ grant, bu3 }, 2);
	assert_int_equal(tf_status(f, grant, NULL), TH_FOLD_CONTROL);
	assert_int_equal(tf_status(f, bu2, NULL), TH_FOLD_REFUSED);
	assert_int_equal(tf_status(f, bu3, NULL), TH_FOLD_CONTROL);
	assert_int_equal(tf_status(f, c, NULL), TH_FOLD_EXCLUDED);
	assert_false(th_scene_has_entity(th_fold_scene(f), ent));

	/* the host undoes anyone's, from the start */
	struct tf_log l2 = { 0 };
	struct th_fold *g = tf_fold(&l2, 0);
	size_t hu = ff_make(&host, TH_CMD_EDIT_UNDO, 0, 7, ff_target(1, alice.kp.pk));
	tf_fold_all(g, (size_t[]){ c, grant, hu }, 3);
	assert_int_equal(tf_status(g, c, NULL), TH_FOLD_EXCLUDED);
	th_fold_destroy(&f);
	th_fold_destroy(&g);
	free(l.v);
	free(l2.v);
}

static void an_undo_may_arrive_before_its_target(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	size_t w = ff_make(&alice, TH_CMD_COMPONENT_WRITE, ff_entity_of(c), 3, ff_component_write(3));
	size_t hu = ff_make(&host, TH_CMD_EDIT_UNDO, 0, 5, ff_target(ff_e(w)->lamport, alice.kp.pk));
	struct tf_log l = { 0 }, l2 = { 0 };
	struct th_fold *early = tf_fold(&l, 0), *inorder = tf_fold(&l2, 0);
	tf_fold_all(early, (size_t[]){ hu, c, w }, 3);
	assert_int_equal(tf_status(early, w, NULL), TH_FOLD_EXCLUDED);
	/* the write was reported once, excluded from the start */
	const struct tf_report *rep = tf_last(&l, ff_e(w));
	assert_int_equal(rep->status, TH_FOLD_EXCLUDED);
	assert_false(rep->again);
	tf_fold_all(inorder, (size_t[]){ c, w, hu }, 3);
	tf_expect_same(early, inorder);
	th_fold_destroy(&early);
	th_fold_destroy(&inorder);
	free(l.v);
	free(l2.v);
}

static void undo_and_redo_refuse_what_cannot_be_undone(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	size_t u = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 2, ff_target(1, alice.kp.pk));
	size_t uu = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 3, ff_target(ff_e(u)->lamport, alice.kp.pk));
	size_t r = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 4, ff_target(ff_e(u)->lamport, alice.kp.pk));
	size_t ur = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 5, ff_target(ff_e(r)->lamport, alice.kp.pk));
	size_t rr = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 6, ff_target(ff_e(r)->lamport, alice.kp.pk));
	size_t rc = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 7, ff_target(1, alice.kp.pk));
	size_t grant = ff_make(&host, TH_CMD_SESSION_ROLE_SET, 0, 8, ff_role(bob.kp.pk, TH_ROLE_EDITOR));
	size_t ug = ff_make(&host, TH_CMD_EDIT_UNDO, 0, 9, ff_target(ff_e(grant)->lamport, host.kp.pk));
	size_t fut = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 10, ff_target(50, alice.kp.pk));
	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	tf_fold_all(f, (size_t[]){ c, u, uu, r, ur, rr, rc, grant, ug, fut }, 10);
	size_t refused[] = { uu, ur, rr, rc, ug, fut };
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		uint8_t reason;
		assert_int_equal(tf_status(f, refused[i], &reason), TH_FOLD_REFUSED);
		assert_int_equal(reason, TH_REFUSE_UNDO_TARGET);
	}
	/* u was redone by r: the entity is back */
	assert_int_equal(tf_status(f, c, NULL), TH_FOLD_APPLIED);
	assert_int_equal(tf_status(f, r, NULL), TH_FOLD_CONTROL);
	assert_int_equal(tf_status(f, grant, NULL), TH_FOLD_CONTROL);
	th_fold_destroy(&f);
	free(l.v);
}

static void entries_that_depend_on_an_undone_one_are_refused_until_its_redo(void **state)
{
	size_t mc = ff_make(&alice, TH_CMD_MESH_CREATE, 0, 1, ff_mesh_create(0));
	uint64_t mesh = ff_element_of(mc, 0);
	struct th_pl_mesh_patch *p = ff_patch();
	ff_op(&p->ops[0], TH_PL_MESH_OP_VERTEX_MOVE, ff_element_of(mc, 1), 0, 5, 5);
	p->ops_count = 1;
	size_t mv = ff_make(&bob, TH_CMD_MESH_PATCH, mesh, 2, p);
	size_t ent = ff_make(&bob, TH_CMD_ENTITY_CREATE, 0, 3, ff_entity_create(0));
	size_t cw = ff_make(&carol, TH_CMD_COMPONENT_WRITE, ff_entity_of(ent), 4, ff_component_write(4));
	size_t u1 = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 5, ff_target(1, alice.kp.pk));
	size_t u2 = ff_make(&bob, TH_CMD_EDIT_UNDO, 0, 6, ff_target(3, bob.kp.pk));
	size_t r1 = ff_make(&alice, TH_CMD_EDIT_REDO, 0, 7, ff_target(ff_e(u1)->lamport, alice.kp.pk));
	size_t r2 = ff_make(&bob, TH_CMD_EDIT_REDO, 0, 8, ff_target(ff_e(u2)->lamport, bob.kp.pk));

	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	tf_fold_all(f, (size_t[]){ mc, mv, ent, cw }, 4);
	uint8_t h0[32], h[32];
	tf_hash(f, h0);
	tf_fold_all(f, (size_t[]){ u1, u2 }, 2);
	uint8_t reason;
	assert_int_equal(tf_status(f, mv, &reason), TH_FOLD_REFUSED);
	assert_int_equal(reason, TH_REFUSE_NO_MESH);
	assert_int_equal(tf_status(f, cw, &reason), TH_FOLD_REFUSED);
	assert_int_equal(reason, TH_REFUSE_NO_ENTITY);
	assert_null(th_scene_mesh(th_fold_scene(f), mesh));
	const struct tf_report *rep = tf_last(&l, ff_e(cw));
	assert_int_equal(rep->status, TH_FOLD_REFUSED);
	assert_true(rep->again);
	tf_fold_all(f, (size_t[]){ r1, r2 }, 2);
	assert_int_equal(tf_status(f, mv, NULL), TH_FOLD_APPLIED);
	assert_int_equal(tf_status(f, cw, NULL), TH_FOLD_APPLIED);
	tf_hash(f, h);
	assert_memory_equal(h, h0, 32);
	th_fold_destroy(&f);
	free(l.v);
}

/* ---- snapshots --------------------------------------------------------------- */

/* A history of every kind, split in two halves at index `half`. */
static size_t tf_mixed(size_t *idx)
{
	size_t n = 0;
	idx[n++] = ff_make(&alice, TH_CMD_MESH_CREATE, 0, 1, ff_mesh_create(0));
	idx[n++] = ff_make(&bob, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(2));
	idx[n++] = ff_make(&host, TH_CMD_MATERIAL_SET, 0, 2, ff_material(3, 0.75f));
	idx[n++] = ff_make(&bob, TH_CMD_COMPONENT_WRITE, ff_entity_of(idx[1]), 3, ff_component_write(9));
	idx[n++] = ff_make(&host, TH_CMD_SESSION_ROLE_SET, 0, 4, ff_role(carol.kp.pk, TH_ROLE_ADMIN));
	idx[n++] = ff_make(&carol, TH_CMD_EDIT_UNDO, 0, 5, ff_target(ff_e(idx[3])->lamport, bob.kp.pk));
	struct th_pl_mesh_patch *p = ff_patch();
	p->ops_count = (uint16_t)ff_ngon_ops(p->ops, 3, 4);
	idx[n++] = ff_make(&alice, TH_CMD_MESH_PATCH, ff_element_of(idx[0], 0), 6, p);
	return n;
}

static void a_restored_snapshot_folds_on_like_the_fold_it_came_from(void **state)
{
	size_t idx[32];
	size_t n = tf_mixed(idx);
	size_t more[8], m = 0;
	more[m++] = ff_make(&bob, TH_CMD_EDIT_REDO, 0, 7, ff_target(ff_e(idx[5])->lamport, carol.kp.pk));
	more[m++] = ff_make(&alice, TH_CMD_ENTITY_DESTROY, ff_entity_of(idx[1]), 8, ff_empty());
	more[m++] = ff_make(&bob, TH_CMD_EDIT_UNDO, 0, 10, ff_target(ff_e(more[1])->lamport, alice.kp.pk));
	more[m++] = ff_make(&alice, TH_CMD_EDIT_UNDO, 0, 11, ff_target(ff_e(more[1])->lamport, alice.kp.pk));

	struct tf_log l1 = { 0 }, l2 = { 0 }, l3 = { 0 };
	struct th_fold *f = tf_fold(&l1, 0), *straight = tf_fold(&l3, 0);
	tf_fold_all(f, idx, n);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_fold_snapshot(f, &w), 0);
	assert_int_equal(th_get_le32(w.data), TH_FOLD_SNAPSHOT_MAGIC);

	struct th_fold_config c = { .on_outcome = tf_on_outcome, .ud = &l2 };
	memcpy(c.host_key, host.kp.pk, 32);
	struct th_fold *g = NULL;
	const char *why = NULL;
	assert_int_equal(th_fold_restore(&c, w.data, w.len, &g, &why), 0);
	tf_expect_same(f, g);
	struct th_fold_stats sf, sg;
	th_fold_stats(f, &sf);
	th_fold_stats(g, &sg);
	assert_int_equal(sg.entries, sf.entries);
	assert_int_equal(sg.applied, sf.applied);
	assert_int_equal(sg.control, sf.control);
	assert_int_equal(sg.excluded, sf.excluded);
	assert_int_equal(sg.next_pos, sf.next_pos);
	assert_int_equal(sg.window_entries, 0);
	/* the control state came along: the undo still stands, its outcome is known */
	assert_int_equal(tf_status(g, idx[5], NULL), TH_FOLD_CONTROL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(th_fold_add(g, ff_e(idx[i]), idx[i]), 1);
	/* below the frontier: out of reach */
	struct lt_author late_a;
	lt_author_init(&late_a, 0x66);
	size_t below = ff_make(&late_a, TH_CMD_ENTITY_CREATE, 0, 2, ff_entity_create(0));
	assert_int_equal(th_fold_add(g, ff_e(below), 999), -ERANGE);

	/* the restored fold holds every head: a wrong prev is a broken chain */
	struct th_logrec_entry forged = *ff_e(more[0]);
	forged.prev[5] ^= 1;
	assert_int_equal(th_fold_add(g, &forged, more[0]), -EPROTO);
	for (size_t i = 0; i < m; i++) {
		assert_int_equal(th_fold_add(f, ff_e(more[i]), more[i]), 0);
		assert_int_equal(th_fold_add(g, ff_e(more[i]), more[i]), 0);
	}
	tf_fold_all(straight, idx, n);
	tf_fold_all(straight, more, m);
	tf_expect_same(f, g);
	tf_expect_same(f, straight);
	/* the redo by bob of carol's undo is refused, alice's undo of her own
	 * destroy stands */
	assert_int_equal(tf_status(g, more[0], NULL), TH_FOLD_REFUSED);
	assert_int_equal(tf_status(g, more[2], NULL), TH_FOLD_REFUSED);
	assert_int_equal(tf_status(g, more[3], NULL), TH_FOLD_CONTROL);
	assert_true(th_scene_has_entity(th_fold_scene(g), ff_entity_of(idx[1])));
	for (size_t i = 0; i < m; i++) {
		uint8_t ra, rb;
		assert_int_equal(tf_status(f, more[i], &ra), tf_status(g, more[i], &rb));
		assert_int_equal(ra, rb);
	}
	/* carol's redo brings back bob's write, which lies below g's frontier:
	 * g cannot roll back there (its owner rebuilds); f can */
	size_t redo = ff_make(&carol, TH_CMD_EDIT_REDO, 0, 12, ff_target(ff_e(idx[5])->lamport, carol.kp.pk));
	uint8_t hg[32], hg2[32];
	tf_hash(g, hg);
	assert_int_equal(th_fold_add(g, ff_e(redo), redo), -ERANGE);
	tf_hash(g, hg2);
	assert_memory_equal(hg, hg2, 32);
	assert_int_equal(th_fold_author_seq(g, carol.kp.pk), 1);
	assert_int_equal(th_fold_add(f, ff_e(redo), redo), 0);
	assert_int_equal(tf_status(f, idx[3], NULL), TH_FOLD_APPLIED);
	assert_int_equal(th_fold_add(straight, ff_e(redo), redo), 0);
	tf_expect_same(f, straight);
	struct th_fold_outcome oc;
	assert_int_equal(th_fold_outcome_of(g, ff_e(redo)->lamport, carol.kp.pk, &oc), -ENOENT);
	th_fold_destroy(&g);
	assert_int_equal(th_fold_restore(&c, w.data, w.len, &g, &why), 0);
	for (size_t i = 0; i < m; i++)
		assert_int_equal(th_fold_add(g, ff_e(more[i]), more[i]), 0);
	th_fold_destroy(&f);
	f = tf_fold(&l1, 0);
	tf_fold_all(f, idx, n);
	tf_fold_all(f, more, m);
	/* equal states, equal snapshots */
	struct th_wbuf w1, w2;
	th_wbuf_init(&w1, 0);
	th_wbuf_init(&w2, 0);
	assert_int_equal(th_fold_snapshot(f, &w1), 0);
	assert_int_equal(th_fold_snapshot(g, &w2), 0);
	assert_int_equal(w1.len, w2.len);
	assert_memory_equal(w1.data, w2.data, w1.len);
	th_wbuf_fini(&w);
	th_wbuf_fini(&w1);
	th_wbuf_fini(&w2);
	th_fold_destroy(&f);
	th_fold_destroy(&g);
	th_fold_destroy(&straight);
	free(l1.v);
	free(l2.v);
	free(l3.v);
}

/* Header + zstd frame around content, as th_fold_snapshot writes them. */
static void tf_seal(const uint8_t *content, size_t len, struct th_wbuf *out)
{
	th_wbuf_reset(out);
	size_t bound = ZSTD_compressBound(len);
	uint8_t *p = th_wbuf_extend(out, 48 + bound);
	assert_non_null(p);
	th_put_le32(p, TH_FOLD_SNAPSHOT_MAGIC);
	th_put_le32(p + 4, TH_FOLD_SNAPSHOT_VERSION);
	th_put_le64(p + 8, len);
	crypto_generichash(p + 16, 32, content, len, NULL, 0);
	size_t z = ZSTD_compress(p + 48, bound, content, len, 3);
	assert_false(ZSTD_isError(z));
	out->len = 48 + z;
}

static void restore_refuses_damaged_truncated_and_foreign_snapshots(void **state)
{
	size_t idx[32];
	size_t n = tf_mixed(idx);
	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	tf_fold_all(f, idx, n);
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_fold_snapshot(f, &w), 0);
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, host.kp.pk, 32);
	struct th_fold *g = NULL;
	const char *why = NULL;
	/* every truncation */
	for (size_t len = 0; len < w.len; len++) {
		why = NULL;
		assert_int_equal(th_fold_restore(&c, w.data, len, &g, &why), -EBADMSG);
		assert_non_null(why);
		assert_null(g);
	}
	/* every single flipped byte */
	uint8_t *copy = malloc(w.len);
	for (size_t i = 0; i < w.len; i++) {
		memcpy(copy, w.data, w.len);
		copy[i] ^= 0x40;
		why = NULL;
		int rc = th_fold_restore(&c, copy, w.len, &g, &why);
		if (rc == 0) {
			/* zstd decoded the same bytes (a flip in an unused
			 * bit of its tables): the checksum vouches for them */
			assert_true(i > 48);
			tf_expect_same(f, g);
			th_fold_destroy(&g);
			continue;
		}
		assert_int_equal(rc, -EBADMSG);
		assert_non_null(why);
	}
	/* a trailing byte */
	uint8_t *longer = malloc(w.len + 1);
	memcpy(longer, w.data, w.len);
	longer[w.len] = 0;
	assert_int_equal(th_fold_restore(&c, longer, w.len + 1, &g, &why), -EBADMSG);
	/* another host's session */
	struct th_fold_config other = { 0 };
	memcpy(other.host_key, bob.kp.pk, 32);
	assert_int_equal(th_fold_restore(&other, w.data, w.len, &g, &why), -EBADMSG);
	assert_string_equal(why, "the snapshot is of a session with another host");

	/* content that checks out (hash, zstd) but says something impossible */
	size_t clen = th_get_le64(w.data + 8);
	uint8_t *content = malloc(clen);
	assert_int_equal(ZSTD_decompress(content, clen, w.data + 48, w.len - 48), clen);
	struct th_wbuf s;
	th_wbuf_init(&s, 0);
	tf_seal(content, clen, &s);
	assert_int_equal(th_fold_restore(&c, s.data, s.len, &g, &why), 0);
	th_fold_destroy(&g);
	/* offsets: host 0, next_pos 32, counts 40..79, authors u32 at 80 */
	static const char *const whys[] = {
		"the snapshot's outcome counts do not add up to its entries",
		"the snapshot names more authors than a session may have",
		"the snapshot's authors are not in ascending key order",
		"the snapshot's entry count differs from its version vector",
		"the snapshot ends inside its scene",
		"the snapshot has bytes after its scene",
	};
	uint8_t *bad = malloc(clen + 1);
	for (size_t i = 0; i < sizeof whys / sizeof *whys; i++) {
		memcpy(bad, content, clen);
		size_t blen = clen;
		switch (i) {
		case 0: bad[40] ^= 1; break;                  /* entries */
		case 1: bad[83] ^= 1; break;                  /* author count, top byte */
		case 2: memcpy(bad + 84, bad + 84 + 80, 32); break; /* two authors with one key */
		case 3: bad[32]++, bad[40]++, bad[48]++; break; /* positions, entries, applied */
		case 4: blen--; break;
		case 5: bad[blen++] = 0; break;
		}
		tf_seal(bad, blen, &s);
		why = NULL;
		assert_int_equal(th_fold_restore(&c, s.data, s.len, &g, &why), -EBADMSG);
		assert_string_equal(why, whys[i]);
	}
	free(bad);
	/* a frame that does not state its size */
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	th_wbuf_reset(&s);
	uint8_t *p = th_wbuf_extend(&s, 48 + ZSTD_compressBound(clen));
	memcpy(p, w.data, 48);
	size_t z = ZSTD_compress2(cc, p + 48, ZSTD_compressBound(clen), content, clen);
	ZSTD_freeCCtx(cc);
	assert_int_equal(th_fold_restore(&c, p, 48 + z, &g, &why), -EBADMSG);
	assert_string_equal(why, "the snapshot's zstd frame is damaged or does not state its size");
	th_wbuf_fini(&s);
	free(content);
	free(copy);
	free(longer);
	th_wbuf_fini(&w);
	th_fold_destroy(&f);
	free(l.v);
}

/* ---- tentatives ---------------------------------------------------------------- */

static void tentatives_show_at_once_and_leave_the_hash_alone(void **state)
{
	size_t c = ff_make(&alice, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(1));
	size_t later = ff_make(&bob, TH_CMD_MATERIAL_SET, 0, 2, ff_material(1, 0.5f));
	struct tf_log l = { 0 };
	struct th_fold *f = tf_fold(&l, 0);
	tf_fold_all(f, (size_t[]){ c }, 1);
	uint8_t h0[32], h[32];
	tf_hash(f, h0);

	struct lt_author me = alice; /* provisional: alice's next seq */
	size_t t1 = ff_make(&me, TH_CMD_COMPONENT_WRITE, ff_entity_of(c), 5, ff_component_write(42));
	size_t t2 = ff_make(&me, TH_CMD_ENTITY_CREATE, 0, 6, ff_entity_create(3));
	struct th_scene_refusal r;
	assert_int_equal(th_fold_tentative_add(f, 1, ff_e(t1), &r), 0);
	assert_int_equal(th_fold_tentative_add(f, 2, ff_e(t2), &r), 0);
	assert_int_equal(th_fold_tentative_add(f, 2, ff_e(t2), &r), -EEXIST);
	size_t bad = ff_make(&me, TH_CMD_COMPONENT_WRITE, 12345, 7, ff_component_write(1));
	assert_int_equal(th_fold_tentative_add(f, 3, ff_e(bad), &r), -EINVAL);
	assert_int_equal(r.code, TH_REFUSE_NO_ENTITY);
	assert_true(tf_transform(f, ff_entity_of(c))->position[0] == 42);
	assert_true(th_scene_has_entity(th_fold_scene(f), ff_entity_of(t2)));
	tf_hash(f, h);
	assert_memory_equal(h, h0, 32);
	struct th_fold_stats st;
	th_fold_stats(f, &st);
	assert_int_equal(st.tentative, 2);

	/* a folded entry goes under them; they stay on top */
	assert_int_equal(th_fold_add(f, ff_e(later), later), 0);
	assert_true(tf_transform(f, ff_entity_of(c))->position[0] == 42);
	assert_true(th_scene_material(th_fold_scene(f), 1)->defined);
	struct tf_log l2 = { 0 };
	struct th_fold *plain = tf_fold(&l2, 0);
	tf_fold_all(plain, (size_t[]){ c, later }, 2);
	tf_expect_same(f, plain);

	assert_int_equal(th_fold_tentative_drop(f, 1), 0);
	assert_int_equal(th_fold_tentative_drop(f, 1), -ENOENT);
	assert_true(tf_transform(f, ff_entity_of(c))->position[0] == 1);
	assert_true(th_scene_has_entity(th_fold_scene(f), ff_entity_of(t2)));
	assert_int_equal(th_fold_tentative_drop(f, 2), 0);
	assert_false(th_scene_has_entity(th_fold_scene(f), ff_entity_of(t2)));
	tf_expect_same(f, plain);
	/* a snapshot taken with tentatives shown has none of them */
	assert_int_equal(th_fold_tentative_add(f, 4, ff_e(t2), &r), 0);
	struct th_wbuf a, b;
	th_wbuf_init(&a, 0);
	th_wbuf_init(&b, 0);
	assert_int_equal(th_fold_snapshot(f, &a), 0);
	assert_int_equal(th_fold_snapshot(plain, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_true(th_scene_has_entity(th_fold_scene(f), ff_entity_of(t2)));
	th_wbuf_fini(&a);
	th_wbuf_fini(&b);
	th_fold_destroy(&f);
	th_fold_destroy(&plain);
	free(l.v);
	free(l2.v);
}

/* ---- convergence: the seeded property test ------------------------------------- */

#define PT_AUTHORS 4
#define PT_ENTRIES 300
#define PT_SEEDS 4 /* THETA_FOLD_SEEDS=N runs seeds FIRST..FIRST+N-1 instead */
#define PT_ORDERS 12
#define PT_SMALL_WINDOW_ORDERS 3
#define PT_ENTS_MAX 256
#define PT_MESHES_MAX 64
#define PT_ELEMS_MAX 96

static uint64_t pt_state;
static uint32_t pt_below(uint32_t n)
{
	pt_state ^= pt_state << 13;
	pt_state ^= pt_state >> 7;
	pt_state ^= pt_state << 17;
	return (uint32_t)(pt_state >> 32) % n;
}

struct pt_mesh {
	uint64_t id;
	uint64_t verts[PT_ELEMS_MAX], faces[PT_ELEMS_MAX];
	unsigned nverts, nfaces;
};

struct pt_hist {
	struct lt_author au[PT_AUTHORS];
	size_t idx[PT_ENTRIES]; /* ff_made index, in generation order */
	size_t n;
	size_t by[PT_AUTHORS][PT_ENTRIES]; /* per author, in seq order */
	size_t nby[PT_AUTHORS];
	uint64_t ents[PT_ENTS_MAX];
	size_t nents;
	struct pt_mesh meshes[PT_MESHES_MAX];
	size_t nmeshes;
	size_t undos[PT_ENTRIES];
	size_t nundos;
};

static void pt_keep(uint64_t *v, unsigned *n, uint64_t id)
{
	if (*n < PT_ELEMS_MAX)
		v[(*n)++] = id;
	else
		v[pt_below(PT_ELEMS_MAX)] = id;
}

/* One entry of author a: creations, writes, patches that may name elements
 * another author removed, materials, undo and redo of anyone's entries,
 * role changes by anyone (only the host's and an admin's stand). */
static size_t pt_entry(struct pt_hist *h, unsigned a, uint64_t lamport, bool grant)
{
	struct lt_author *au = &h->au[a];
	if (grant)
		return ff_make(au, TH_CMD_SESSION_ROLE_SET, 0, lamport, ff_role(h->au[1].kp.pk, TH_ROLE_ADMIN));
	unsigned r = pt_below(100);
	if (r < 12 || (r < 31 && !h->nents)) {
		size_t i = ff_make(au, TH_CMD_ENTITY_CREATE, 0, lamport, ff_entity_create((float)pt_below(9)));
		if (h->nents < PT_ENTS_MAX)
			h->ents[h->nents++] = ff_entity_of(i);
		return i;
	}
	if (r < 27)
		return ff_make(au, TH_CMD_COMPONENT_WRITE, h->ents[pt_below((uint32_t)h->nents)], lamport,
			       ff_component_write((float)pt_below(100)));
	if (r < 31)
		return ff_make(au, TH_CMD_ENTITY_DESTROY, h->ents[pt_below((uint32_t)h->nents)], lamport, ff_empty());
	if (r < 40 || (r < 58 && !h->nmeshes)) {
		size_t i = ff_make(au, TH_CMD_MESH_CREATE, 0, lamport, ff_mesh_create((float)pt_below(9)));
		if (h->nmeshes < PT_MESHES_MAX) {
			struct pt_mesh *m = &h->meshes[h->nmeshes++];
			memset(m, 0, sizeof *m);
			m->id = ff_element_of(i, 0);
			for (uint32_t k = 1; k <= 4; k++)
				pt_keep(m->verts, &m->nverts, ff_element_of(i, k));
			pt_keep(m->faces, &m->nfaces, ff_element_of(i, 5));
		}
		return i;
	}
	if (r < 58) {
		struct pt_mesh *m = &h->meshes[pt_below((uint32_t)h->nmeshes)];
		struct th_pl_mesh_patch *p = ff_patch();
		unsigned sub = pt_below(4);
		if (sub == 0 && m->nverts) {
			ff_op(&p->ops[0], TH_PL_MESH_OP_VERTEX_MOVE, m->verts[pt_below(m->nverts)], 0,
			      (float)pt_below(50), 1);
			p->ops_count = 1;
		} else if (sub == 2 && m->nfaces) {
			ff_op(&p->ops[0], TH_PL_MESH_OP_REMOVE, m->faces[pt_below(m->nfaces)], 0, 0, 0);
			p->ops_count = 1;
		} else if (sub == 3 && m->nverts) {
			ff_op(&p->ops[0], TH_PL_MESH_OP_REMOVE, m->verts[pt_below(m->nverts)], 0, 0, 0);
			p->ops_count = 1;
		} else {
			p->ops_count = (uint16_t)ff_ngon_ops(p->ops, 3, (float)pt_below(20));
			/* a fourth op names an existing vertex: refused when it is gone */
			if (m->nverts && pt_below(2)) {
				ff_op(&p->ops[p->ops_count], TH_PL_MESH_OP_VERTEX_MOVE, m->verts[pt_below(m->nverts)],
				      0, 2, 2);
				p->ops_count++;
			}
			size_t i = ff_make(au, TH_CMD_MESH_PATCH, m->id, lamport, p);
			for (uint32_t k = 1; k <= 3; k++)
				pt_keep(m->verts, &m->nverts, ff_element_of(i, k));
			pt_keep(m->faces, &m->nfaces, ff_element_of(i, 4));
			return i;
		}
		return ff_make(au, TH_CMD_MESH_PATCH, m->id, lamport, p);
	}
	if (r < 63)
		return ff_make(au, TH_CMD_MATERIAL_SET, 0, lamport, ff_material((uint8_t)pt_below(8), 0.5f));
	if (r < 82 && h->n) {
		/* undo: mostly of an own entry, else of anyone's (also undos) */
		size_t t = h->idx[pt_below((uint32_t)h->n)];
		if (r < 75 && h->nby[a])
			t = h->by[a][pt_below((uint32_t)h->nby[a])];
		size_t i = ff_make(au, TH_CMD_EDIT_UNDO, 0, lamport, ff_target(ff_e(t)->lamport, ff_e(t)->author));
		h->undos[h->nundos++] = i;
		return i;
	}
	if (r < 90 && h->nundos) {
		size_t u = h->undos[pt_below((uint32_t)h->nundos)];
		return ff_make(au, TH_CMD_EDIT_REDO, 0, lamport, ff_target(ff_e(u)->lamport, ff_e(u)->author));
	}
	if (r < 93)
		return ff_make(au, TH_CMD_SESSION_ROLE_SET, 0, lamport,
			       ff_role(h->au[pt_below(PT_AUTHORS)].kp.pk, (uint8_t)(2 + pt_below(2))));
	if (r < 95) {
		memset(&ff_pl, 0, sizeof ff_pl);
		memcpy(ff_pl.session_rename.name, "studio", 7);
		return ff_make(au, TH_CMD_SESSION_RENAME, 0, lamport, &ff_pl.session_rename);
	}
	return ff_make(au, TH_CMD_TOOL_STATE, 7, lamport, ff_empty());
}

/* Each author's chain is right, and its lamports run above what it saw of
 * the others (it learns another's counter now and then). */
static void pt_generate(struct pt_hist *h, uint64_t seed)
{
	memset(h, 0, sizeof *h);
	pt_state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (unsigned a = 0; a < PT_AUTHORS; a++)
		lt_author_init(&h->au[a], (uint8_t)(0x10 * (a + 1)));
	uint64_t know[PT_AUTHORS] = { 0 };
	for (size_t k = 0; k < PT_ENTRIES; k++) {
		bool grant = k == PT_ENTRIES / 3;
		unsigned a = grant ? 0 : pt_below(PT_AUTHORS);
		if (pt_below(3) == 0) {
			unsigned b = pt_below(PT_AUTHORS);
			if (h->au[b].chain.lamport > know[a])
				know[a] = h->au[b].chain.lamport;
		}
		uint64_t lamport = (h->au[a].chain.lamport > know[a] ? h->au[a].chain.lamport : know[a]) + 1;
		if (pt_below(4) == 0)
			lamport += pt_below(3);
		size_t i = pt_entry(h, a, lamport, grant);
		know[a] = ff_e(i)->lamport;
		h->idx[h->n++] = i;
		h->by[a][h->nby[a]++] = i;
	}
}

static int pt_key_cmp(const void *x, const void *y)
{
	const struct th_logrec_entry *a = ff_e(*(const size_t *)x), *b = ff_e(*(const size_t *)y);
	if (a->lamport != b->lamport)
		return a->lamport < b->lamport ? -1 : 1;
	return memcmp(a->author, b->author, 32);
}

/* One delivery: the fold, its reports, what it was given. With a small
 * window an add may be out of reach (-ERANGE): it must change nothing, and
 * the owner rebuilds, as thetad does from its log: a fold with a window
 * that covers the set, fed what was delivered, in the same order. */
struct pt_run {
	struct th_fold *f;
	struct tf_log *l;
	size_t done[PT_ENTRIES];
	size_t ndone;
	uint64_t rebuilds;
	uint64_t tokens[4]; /* tentatives shown (0: free) */
	uint64_t next_token, tentatives;
};

/* Now and then an optimistic edit (any entry of the history, applied on top)
 * is shown or dropped: whatever they do, the folded world is untouched. */
static void pt_tentative(struct pt_run *r, const struct pt_hist *h)
{
	unsigned slot = pt_below(4);
	if (r->tokens[slot]) {
		if (pt_below(2) == 0) {
			assert_int_equal(th_fold_tentative_drop(r->f, r->tokens[slot]), 0);
			r->tokens[slot] = 0;
		}
		return;
	}
	struct th_scene_refusal why;
	uint64_t t = ++r->next_token;
	int rc = th_fold_tentative_add(r->f, t, ff_e(h->idx[pt_below((uint32_t)h->n)]), &why);
	assert_true(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		r->tokens[slot] = t;
		r->tentatives++;
	}
}

static void pt_drop_tentatives(struct pt_run *r)
{
	for (unsigned i = 0; i < 4; i++)
		if (r->tokens[i]) {
			assert_int_equal(th_fold_tentative_drop(r->f, r->tokens[i]), 0);
			r->tokens[i] = 0;
		}
}

static void pt_add(struct pt_run *r, size_t i, int want)
{
	uint8_t h0[32], d0[32], h1[32], d1[32];
	bool small = r->rebuilds == 0;
	if (small) {
		tf_hash(r->f, h0);
		th_fold_set_digest(r->f, d0);
	}
	int rc = th_fold_add(r->f, ff_e(i), i);
	if (rc == -ERANGE && want == 0 && small) {
		tf_hash(r->f, h1);
		th_fold_set_digest(r->f, d1);
		assert_memory_equal(h0, h1, 32);
		assert_memory_equal(d0, d1, 32);
		th_fold_destroy(&r->f);
		memset(r->tokens, 0, sizeof r->tokens);
		r->l->n = 0;
		r->f = tf_fold(r->l, 0);
		for (size_t k = 0; k < r->ndone; k++)
			assert_int_equal(th_fold_add(r->f, ff_e(r->done[k]), r->done[k]), 0);
		r->rebuilds++;
		rc = th_fold_add(r->f, ff_e(i), i);
	}
	assert_int_equal(rc, want);
	if (rc == 0)
		r->done[r->ndone++] = i;
}

/* Delivers the history in order `o`: 0 as generated, 1 and 2 author after
 * author (forward, backward), then random interleavings with duplicates,
 * premature entries (a seq gap: -EPROTO) and, every other one, an author
 * held back to the end (a partition that heals). */
static void pt_deliver(struct pt_run *r, const struct pt_hist *h, unsigned o)
{
	if (o == 0) {
		for (size_t i = 0; i < h->n; i++)
			pt_add(r, h->idx[i], 0);
		return;
	}
	if (o <= 2) {
		for (unsigned k = 0; k < PT_AUTHORS; k++) {
			unsigned a = o == 1 ? k : PT_AUTHORS - 1 - k;
			for (size_t i = 0; i < h->nby[a]; i++)
				pt_add(r, h->by[a][i], 0);
		}
		return;
	}
	size_t cur[PT_AUTHORS] = { 0 }, left = h->n;
	unsigned held = o % 2 ? PT_AUTHORS : pt_below(PT_AUTHORS);
	while (left) {
		unsigned a = pt_below(PT_AUTHORS);
		bool others = false;
		for (unsigned b = 0; b < PT_AUTHORS; b++)
			others |= b != held && cur[b] < h->nby[b];
		if (cur[a] == h->nby[a] || (a == held && others))
			continue;
		if (cur[a] && pt_below(10) == 0)
			pt_add(r, h->by[a][pt_below((uint32_t)cur[a])], 1);
		if (cur[a] + 1 < h->nby[a] && pt_below(20) == 0)
			pt_add(r, h->by[a][cur[a] + 1], -EPROTO);
		if (o % 3 == 0 && pt_below(6) == 0)
			pt_tentative(r, h);
		pt_add(r, h->by[a][cur[a]++], 0);
		left--;
	}
	/* with tentatives shown the world hash is the folded one; dropped,
	 * the scene is the folded one again */
	uint8_t shown[32], folded[32];
	tf_hash(r->f, shown);
	pt_drop_tentatives(r);
	assert_int_equal(th_scene_hash(th_fold_scene(r->f), folded), 0);
	assert_memory_equal(shown, folded, 32);
}

static int pt_author(const struct pt_hist *h, const uint8_t *key)
{
	for (int a = 0; a < PT_AUTHORS; a++)
		if (memcmp(h->au[a].kp.pk, key, 32) == 0)
			return a;
	return -1;
}

/* Every entry was reported first with again false, then only with again
 * true, and its last report is its outcome. */
static void pt_check_reports(struct th_fold *f, const struct pt_hist *h, const struct tf_log *l)
{
	static bool seen[PT_AUTHORS][PT_ENTRIES + 1];
	memset(seen, 0, sizeof seen);
	for (size_t i = 0; i < l->n; i++) {
		int a = pt_author(h, l->v[i].author);
		assert_true(a >= 0 && l->v[i].seq >= 1 && l->v[i].seq <= h->nby[a]);
		assert_int_equal(l->v[i].again, seen[a][l->v[i].seq]);
		seen[a][l->v[i].seq] = true;
	}
	for (size_t i = 0; i < h->n; i++) {
		const struct th_logrec_entry *e = ff_e(h->idx[i]);
		const struct tf_report *r = tf_last(l, e);
		assert_non_null(r);
		struct th_fold_outcome o;
		assert_int_equal(th_fold_outcome_of(f, e->lamport, e->author, &o), 0);
		assert_int_equal(r->status, o.status);
		assert_int_equal(r->reason, o.reason);
	}
}

static void random_histories_converge_in_every_delivery_order(void **state)
{
	static struct pt_hist h;
	uint64_t seen_status[5] = { 0 }, seen_reason[TH_REFUSE_COUNT] = { 0 }, rollbacks = 0, rebuilds = 0, tentatives = 0;
	uint64_t first = 1, nseeds = PT_SEEDS;
	const char *env = getenv("THETA_FOLD_SEEDS"), *env_first = getenv("THETA_FOLD_FIRST_SEED");
	if (env && strtoull(env, NULL, 10) > 0)
		nseeds = strtoull(env, NULL, 10);
	if (env_first && strtoull(env_first, NULL, 10) > 0)
		first = strtoull(env_first, NULL, 10);
	for (uint64_t seed = first; seed < first + nseeds; seed++) {
		pt_generate(&h, seed);
		size_t sorted[PT_ENTRIES];
		memcpy(sorted, h.idx, sizeof sorted);
		qsort(sorted, h.n, sizeof *sorted, pt_key_cmp);
		struct tf_log lr = { 0 };
		struct th_fold *ref = tf_fold(&lr, 0);
		for (size_t i = 0; i < h.n; i++)
			assert_int_equal(th_fold_add(ref, ff_e(sorted[i]), sorted[i]), 0);
		struct th_fold_stats rs;
		th_fold_stats(ref, &rs);
		/* in order, only undo, redo and role changes roll back */
		assert_true(rs.rollbacks <= rs.control);
		assert_int_equal(rs.entries, h.n);
		assert_int_equal(rs.applied + rs.refused + rs.excluded + rs.control, h.n);
		pt_check_reports(ref, &h, &lr);
		struct th_wbuf snap_ref;
		th_wbuf_init(&snap_ref, 0);
		assert_int_equal(th_fold_snapshot(ref, &snap_ref), 0);
		for (size_t i = 0; i < h.n; i++) {
			struct th_fold_outcome o;
			assert_int_equal(th_fold_outcome_of(ref, ff_e(h.idx[i])->lamport, ff_e(h.idx[i])->author, &o), 0);
			seen_status[o.status]++;
			seen_reason[o.reason]++;
		}

		for (unsigned o = 0; o < PT_ORDERS; o++) {
			struct tf_log l = { 0 };
			/* the last orders start with a window of 16 entries */
			static struct pt_run run;
			memset(&run, 0, sizeof run);
			run.l = &l;
			run.f = tf_fold(&l, o + PT_SMALL_WINDOW_ORDERS >= PT_ORDERS ? 16 : 0);
			pt_deliver(&run, &h, o);
			rebuilds += run.rebuilds;
			tentatives += run.tentatives;
			struct th_fold *f = run.f;
			tf_expect_same(f, ref);
			for (size_t i = 0; i < h.n; i++) {
				const struct th_logrec_entry *e = ff_e(h.idx[i]);
				struct th_fold_outcome a, b;
				assert_int_equal(th_fold_outcome_of(f, e->lamport, e->author, &a), 0);
				assert_int_equal(th_fold_outcome_of(ref, e->lamport, e->author, &b), 0);
				assert_int_equal(a.status, b.status);
				assert_int_equal(a.reason, b.reason);
				assert_string_equal(a.why, b.why);
			}
			pt_check_reports(f, &h, &l);
			struct th_fold_stats st;
			th_fold_stats(f, &st);
			assert_int_equal(st.applied, rs.applied);
			assert_int_equal(st.refused, rs.refused);
			assert_int_equal(st.excluded, rs.excluded);
			assert_int_equal(st.control, rs.control);
			rollbacks += st.rollbacks;
			struct th_wbuf snap;
			th_wbuf_init(&snap, 0);
			assert_int_equal(th_fold_snapshot(f, &snap), 0);
			assert_int_equal(snap.len, snap_ref.len);
			assert_memory_equal(snap.data, snap_ref.data, snap.len);
			th_wbuf_fini(&snap);
			th_fold_destroy(&f);
			free(l.v);
		}
		th_wbuf_fini(&snap_ref);
		th_fold_destroy(&ref);
		free(lr.v);
		ff_free_all();
	}
	/* the histories exercised what they are meant to */
	printf("convergence: %llu seeds from %llu x %d orders x %d entries; applied %llu refused %llu excluded %llu "
	       "control %llu; denied %llu, undo-target %llu, mesh %llu; %llu rollbacks, %llu rebuilds, %llu tentatives\n",
	       (unsigned long long)nseeds, (unsigned long long)first, PT_ORDERS, PT_ENTRIES,
	       (unsigned long long)seen_status[TH_FOLD_APPLIED],
	       (unsigned long long)seen_status[TH_FOLD_REFUSED], (unsigned long long)seen_status[TH_FOLD_EXCLUDED],
	       (unsigned long long)seen_status[TH_FOLD_CONTROL], (unsigned long long)seen_reason[TH_REFUSE_DENIED],
	       (unsigned long long)seen_reason[TH_REFUSE_UNDO_TARGET], (unsigned long long)seen_reason[TH_REFUSE_MESH],
	       (unsigned long long)rollbacks, (unsigned long long)rebuilds, (unsigned long long)tentatives);
	assert_true(seen_status[TH_FOLD_EXCLUDED] > 0);
	assert_true(seen_status[TH_FOLD_CONTROL] > 0);
	assert_true(seen_reason[TH_REFUSE_DENIED] > 0);
	assert_true(seen_reason[TH_REFUSE_UNDO_TARGET] > 0);
	assert_true(seen_reason[TH_REFUSE_MESH] + seen_reason[TH_REFUSE_NO_MESH] > 0);
	assert_true(seen_reason[TH_REFUSE_NO_ENTITY] > 0);
	assert_true(rollbacks > 0);
	assert_true(rebuilds > 0);
	assert_true(tentatives > 0);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(an_entry_arriving_late_rolls_back_and_replays_the_ones_above, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(duplicates_gaps_and_broken_chains_change_nothing, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(an_entry_below_the_window_is_refused_and_changes_nothing, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(the_window_keeps_rolling_back_after_old_journal_bytes_are_cut, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(an_allocation_failure_in_a_rollback_changes_nothing, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(undo_of_an_own_edit_makes_it_absent_and_redo_brings_it_back, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(an_entry_undone_twice_needs_both_undos_redone, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(undo_of_another_authors_edit_needs_an_admin, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(an_undo_may_arrive_before_its_target, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(undo_and_redo_refuse_what_cannot_be_undone, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(entries_that_depend_on_an_undone_one_are_refused_until_its_redo,
						tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(a_restored_snapshot_folds_on_like_the_fold_it_came_from, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(restore_refuses_damaged_truncated_and_foreign_snapshots, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(tentatives_show_at_once_and_leave_the_hash_alone, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(random_histories_converge_in_every_delivery_order, tf_setup,
						tf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
