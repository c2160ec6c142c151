/* The fold's control state under many undos (make bench-scene). Prints:
 *   fold.undo_pair_us        a component.write and its undo, folded in order,
 *                            per pair, over UNDO_PAIRS pairs (each undo is
 *                            decided alone at the end of the order)
 *   fold.undo_redo_us        a write, its undo and the redo of that undo,
 *                            per triple, over UNDO_PAIRS triples
 *   fold.undo_late_us        an undo that arrives below another author's
 *                            newer control entry (every control record
 *                            decided again), per undo, with up to
 *                            2 x LATE_UNDOS records in the state
 * Medians of RUNS runs. */
#include <stdio.h>
#include <stdlib.h>

#include "th_bench.h"
#include "th_fold.h"
#include "th_foldfix.h"
#include "th_time.h"

#define UNDO_PAIRS 20000u
#define LATE_UNDOS 2000u
#define RUNS 5u

static struct th_fold *fold_new(const struct lt_author *host)
{
	struct th_fold_config c = { 0 };
	memcpy(c.host_key, host->kp.pk, sizeof c.host_key);
	struct th_fold *f = NULL;
	if (th_fold_create(&c, &f) < 0) {
		fprintf(stderr, "bench_fold: th_fold_create failed\n");
		exit(1);
	}
	return f;
}

static void add(struct th_fold *f, size_t i)
{
	int r = th_fold_add(f, ff_e(i), i);
	if (r != 0) {
		fprintf(stderr, "bench_fold: th_fold_add of entry %zu: %d\n", i, r);
		exit(1);
	}
}

static uint64_t median(uint64_t *v)
{
	qsort(v, RUNS, sizeof *v, th_bench_cmp_u64);
	return v[RUNS / 2];
}

int main(void)
{
	struct lt_author host, a, c;
	lt_author_init(&host, 0x10);
	lt_author_init(&a, 0x20);
	lt_author_init(&c, 0x30);
	size_t e0 = ff_make(&host, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	uint64_t ent = ff_entity_of(e0);
	size_t *w = malloc(UNDO_PAIRS * sizeof *w), *u = malloc(UNDO_PAIRS * sizeof *u),
	       *tw = malloc(UNDO_PAIRS * sizeof *tw), *tu = malloc(UNDO_PAIRS * sizeof *tu),
	       *tr = malloc(UNDO_PAIRS * sizeof *tr);
	if (!w || !u || !tw || !tu || !tr)
		return 1;
	for (size_t k = 0; k < UNDO_PAIRS; k++) {
		w[k] = ff_make(&a, TH_CMD_COMPONENT_WRITE, ent, 0, ff_component_write((float)k));
		u[k] = ff_make(&a, TH_CMD_EDIT_UNDO, 0, 0, ff_target(ff_e(w[k])->lamport, a.kp.pk));
		tw[k] = ff_make(&c, TH_CMD_COMPONENT_WRITE, ent, 0, ff_component_write((float)k));
		tu[k] = ff_make(&c, TH_CMD_EDIT_UNDO, 0, 0, ff_target(ff_e(tw[k])->lamport, c.kp.pk));
		tr[k] = ff_make(&c, TH_CMD_EDIT_REDO, 0, 0, ff_target(ff_e(tu[k])->lamport, c.kp.pk));
	}
	/* late: alice's undos of her writes come after bob's newer control
	 * entries (session.rename) */
	size_t lw[LATE_UNDOS], lb[LATE_UNDOS], lu[LATE_UNDOS];
	struct lt_author la, lbob;
	lt_author_init(&la, 0x40);
	lt_author_init(&lbob, 0x50);
	size_t le = ff_make(&la, TH_CMD_ENTITY_CREATE, 0, 1, ff_entity_create(0));
	for (size_t k = 0; k < LATE_UNDOS; k++) {
		uint64_t base = 10 + 10 * k;
		lw[k] = ff_make(&la, TH_CMD_COMPONENT_WRITE, ff_entity_of(le), base, ff_component_write(1));
		lu[k] = ff_make(&la, TH_CMD_EDIT_UNDO, 0, base + 1, ff_target(base, la.kp.pk));
		memset(&ff_pl, 0, sizeof ff_pl);
		memcpy(ff_pl.session_rename.name, "bench", 6);
		lb[k] = ff_make(&lbob, TH_CMD_SESSION_RENAME, 0, base + 2, &ff_pl.session_rename);
	}

	uint64_t pair[RUNS], triple[RUNS], late[RUNS];
	for (unsigned run = 0; run < RUNS; run++) {
		struct th_fold *f = fold_new(&host);
		add(f, e0);
		uint64_t t0 = th_now_ns();
		for (size_t k = 0; k < UNDO_PAIRS; k++) {
			add(f, w[k]);
			add(f, u[k]);
		}
		pair[run] = th_now_ns() - t0;
		th_fold_destroy(&f);

		f = fold_new(&host);
		add(f, e0);
		t0 = th_now_ns();
		for (size_t k = 0; k < UNDO_PAIRS; k++) {
			add(f, tw[k]);
			add(f, tu[k]);
			add(f, tr[k]);
		}
		triple[run] = th_now_ns() - t0;
		th_fold_destroy(&f);

		f = fold_new(&host);
		add(f, le);
		uint64_t spent = 0;
		for (size_t k = 0; k < LATE_UNDOS; k++) {
			add(f, lw[k]);
			add(f, lb[k]);
			t0 = th_now_ns();
			add(f, lu[k]);
			spent += th_now_ns() - t0;
		}
		late[run] = spent;
		struct th_fold_stats st;
		th_fold_stats(f, &st);
		if (st.excluded != LATE_UNDOS) {
			fprintf(stderr, "bench_fold: %llu entries excluded, not %u\n", (unsigned long long)st.excluded,
				LATE_UNDOS);
			return 1;
		}
		th_fold_destroy(&f);
	}
	printf("# %u writes each undone in order; %u undos arriving below another author's newer control entry\n",
	       UNDO_PAIRS,
	       LATE_UNDOS);
	th_bench_figure("fold.undo_pair_us", (double)median(pair) / 1e3 / UNDO_PAIRS, "us");
	th_bench_figure("fold.undo_redo_us", (double)median(triple) / 1e3 / UNDO_PAIRS, "us");
	th_bench_figure("fold.undo_late_us", (double)median(late) / 1e3 / LATE_UNDOS, "us");
	free(w);
	free(u);
	free(tw);
	free(tu);
	free(tr);
	ff_free_all();
	return 0;
}
