/* The user's history and undo/redo (edit/edit_history.c, edit.c): each
 * edit listed with what it did; left x sends edit.undo naming the newest
 * standing edit by (lamport, the user's key), left y edit.redo naming the
 * newest standing undo; the fold then shows the world without / with it.
 * Rejections and refusals put the list right. */
#include "edit_fix.h"

static const struct th_c_transform *xf(struct ef *f, uint64_t e)
{
	return th_scene_component(ef_scene(f), e, TH_COMP_TRANSFORM);
}

/* Moves entity e (move tool in hand) by dx along x. */
static void drag_x(struct ef *f, float x0, float dx)
{
	ef_frame(f, (float[3]){ x0, ef_at[1], ef_at[2] }, 1, 0, 0);
	ef_frame(f, (float[3]){ x0 + dx, ef_at[1], ef_at[2] }, 1, 0, 0);
	ef_frame(f, (float[3]){ x0 + dx, ef_at[1], ef_at[2] }, 0, 0, 0);
	ef_deliver(f);
}

static void undo_and_redo_name_the_users_entries(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	/* Before anything of ours is logged: nothing to undo, said. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	assert_non_null(strstr(edit_take_message(f->ed), "nothing to undo yet"));
	assert_int_equal(ef_count(f, TH_CMD_EDIT_UNDO), 0);
	ef_next_tool(f, 1); /* move */
	ef_deliver(f);
	drag_x(f, 0, 0.1f);
	drag_x(f, 0.1f, 0.2f);
	assert_float_equal(xf(f, e)->position[0], 0.3f, 1e-5);
	const struct edit_history *h = edit_history(f->ed);
	const struct edit_hist_entry *second = &h->e[h->n - 1];
	assert_int_equal(second->kind, EDIT_H_EDIT);
	assert_int_equal(second->state, EDIT_H_ACKED);
	uint64_t second_lamport = second->lamport;

	/* Undo: names the second move. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	union th_pl_any pl;
	ef_decode(f, f->n - 1, TH_CMD_EDIT_UNDO, &pl);
	assert_int_equal(pl.edit_undo.lamport, second_lamport);
	assert_memory_equal(pl.edit_undo.author, f->me.kp.pk, TH_LOGREC_KEY_LEN);
	ef_deliver(f);
	assert_float_equal(xf(f, e)->position[0], 0.1f, 1e-5);
	/* Undo again: the first move; the cube is back at the start. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	ef_deliver(f);
	assert_float_equal(xf(f, e)->position[0], 0.0f, 1e-5);
	/* Redo: names the newest undo (of the first move). */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_Y);
	ef_decode(f, f->n - 1, TH_CMD_EDIT_REDO, &pl);
	const struct edit_hist_entry *last_undo = NULL;
	for (unsigned i = 0; i < h->n; i++)
		if (h->e[i].kind == EDIT_H_UNDO)
			last_undo = &h->e[i];
	assert_non_null(last_undo);
	assert_int_equal(pl.edit_redo.lamport, last_undo->lamport);
	ef_deliver(f);
	assert_float_equal(xf(f, e)->position[0], 0.1f, 1e-5);
	/* The list says what each did and where it stands. */
	char line[256];
	unsigned edits = 0, undone = 0;
	for (unsigned i = 0; i < h->n; i++) {
		edit_hist_format(&h->e[i], line, sizeof line);
		if (h->e[i].kind == EDIT_H_EDIT) {
			edits++;
			assert_non_null(strstr(line, "move mesh"));
			undone += h->e[i].undone;
		}
	}
	assert_int_equal(edits, 2);
	assert_int_equal(undone, 1); /* the second move; the first was redone */
	const struct edit_stats *st = edit_stats(f->ed);
	assert_int_equal(st->undos, 2);
	assert_int_equal(st->redos, 1);
	/* Nothing left to redo. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_Y);
	ef_deliver(f);
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_Y);
	assert_non_null(strstr(edit_take_message(f->ed), "nothing to redo"));
	ef_free(f);
}

static void a_rejected_undo_leaves_the_edit_standing(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_tool(f, 1);
	ef_deliver(f);
	drag_x(f, 0, 0.1f);
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	/* The daemon rejects it (say, rate limited). */
	struct ef_cmd *c = &f->cmds[f->n - 1];
	assert_int_equal(c->type, TH_CMD_EDIT_UNDO);
	edit_on_sent(f->ed, c->tag, 999);
	edit_on_answer(f->ed, 999, true, 0, 0);
	f->delivered = f->n;
	const struct edit_history *h = edit_history(f->ed);
	assert_int_equal(h->e[h->n - 1].state, EDIT_H_REJECTED);
	const struct edit_hist_entry *target = edit_hist_find((struct edit_history *)h, h->e[h->n - 1].target);
	assert_non_null(target);
	assert_false(target->undone);
	/* So the next undo names it again. */
	ef_frame(f, ef_nowhere, 0, 0, TH_BUTTON_X);
	union th_pl_any pl;
	ef_decode(f, f->n - 1, TH_CMD_EDIT_UNDO, &pl);
	assert_int_equal(pl.edit_undo.lamport, target->lamport);
	/* A refusal by the scene marks the entry. */
	ef_deliver(f);
	const struct edit_hist_entry *u = &h->e[h->n - 1];
	edit_on_refused(f->ed, u->lamport, u->seq);
	assert_int_equal(u->state, EDIT_H_REFUSED);
	assert_false(target->undone);
	char line[256];
	edit_hist_format(u, line, sizeof line);
	assert_non_null(strstr(line, "refused"));
	(void)e;
	ef_free(f);
}

static void the_key_comes_from_an_entry_folded_before_its_ack(void **state)
{
	struct edit_history *h = calloc(1, sizeof *h);
	edit_hist_init(h);
	uint8_t key[TH_LOGREC_KEY_LEN];
	memset(key, 0x5a, sizeof key);
	uint64_t tag = edit_hist_add(h, EDIT_H_EDIT, 0, "paint 1 face of mesh 00000001 red");
	edit_hist_sent(h, tag, 7);
	/* Others' entries and ours arrive before the ack. */
	uint8_t other[TH_LOGREC_KEY_LEN];
	memset(other, 0x11, sizeof other);
	edit_hist_folded(h, 40, 3, other);
	edit_hist_folded(h, 41, 1, key);
	assert_false(h->have_key);
	assert_null(edit_hist_undo_target(h));
	assert_non_null(edit_hist_answer(h, 7, false, 41, 1));
	assert_true(h->have_key);
	assert_memory_equal(h->key, key, sizeof key);
	assert_int_equal(edit_hist_undo_target(h)->tag, tag);
	/* An answer for someone else's sequence number is not ours. */
	assert_null(edit_hist_answer(h, 8, false, 50, 2));
	/* Past the bound answered state entries go first, then the oldest. */
	uint64_t st = edit_hist_add(h, EDIT_H_STATE, 0, "tool move (object)");
	edit_hist_find(h, st)->state = EDIT_H_ACKED;
	for (unsigned i = 0; i < EDIT_HISTORY_MAX - 2; i++)
		edit_hist_add(h, EDIT_H_EDIT, 0, "x");
	assert_int_equal(h->n, EDIT_HISTORY_MAX);
	edit_hist_add(h, EDIT_H_EDIT, 0, "y");
	assert_null(edit_hist_find(h, st));
	assert_non_null(edit_hist_find(h, tag));
	for (unsigned i = 0; i < 5; i++)
		edit_hist_add(h, EDIT_H_EDIT, 0, "x");
	assert_int_equal(h->n, EDIT_HISTORY_MAX);
	assert_int_equal(h->dropped, 6);
	assert_null(edit_hist_find(h, tag));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(undo_and_redo_name_the_users_entries),
		cmocka_unit_test(a_rejected_undo_leaves_the_edit_standing),
		cmocka_unit_test(the_key_comes_from_an_entry_folded_before_its_ack),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
