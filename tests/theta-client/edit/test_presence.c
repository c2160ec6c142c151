/* The editor's presence (edit/edit.c, update_presence): the tool cursor at
 * the tip while the hand is tracked, a whole-object drag's preview (the
 * entity and the Transform it would write) every frame it moves, cleared
 * when the drag is released or cancelled; told to the sink at most once a
 * frame and only on change. */
#include "edit_fix.h"

#include <math.h>

static void the_cursor_follows_the_tip_on_change_only(void **state)
{
	(void)state;
	struct ef *f = ef_new(NULL);
	float p[3] = { 0.3f, 1.2f, -0.4f };
	ef_frame(f, p, 0, 0, 0);
	assert_int_equal(f->npres, 1);
	const struct edit_presence *e = &f->pres[0];
	assert_int_equal(e->flags, EDIT_PRES_CURSOR);
	assert_int_equal(e->tool, EDIT_TOOL_SELECT);
	assert_memory_equal(e->cursor, p, sizeof p);
	assert_memory_equal(edit_presence(f->ed), e, sizeof *e);
	/* 5 mm a frame: one each frame; under a millimetre: none. */
	for (int i = 1; i <= 10; i++) {
		p[0] += 0.005f;
		ef_frame(f, p, 0, 0, 0);
		assert_int_equal(f->npres, 1u + (unsigned)i);
		assert_float_equal(f->pres[f->npres - 1].cursor[0], p[0], 0);
	}
	for (int i = 0; i < 10; i++) {
		p[1] += 0.00008f;
		ef_frame(f, p, 0, 0, 0);
	}
	assert_int_equal(f->npres, 11);
	/* Another tool: the same place, the new tool. */
	ef_frame(f, p, 0, TH_BUTTON_A, 0);
	assert_int_equal(f->npres, 12);
	assert_int_equal(f->pres[11].tool, EDIT_TOOL_MOVE);
	/* The hand lost: the cursor ends, once. */
	f->in.hand[INP_RIGHT].pose.valid = false;
	ef_frame(f, p, 0, 0, 0);
	ef_frame(f, p, 0, 0, 0);
	assert_int_equal(f->npres, 13);
	assert_int_equal(f->pres[12].flags, 0);
	assert_int_equal(edit_stats(f->ed)->presences, 13);
	ef_free(f);
}

/* Grabs the cube with the move tool and drags it n frames along +x, 1 cm a
 * frame; the presence calls of the drag from first. */
static unsigned drag(struct ef *f, const float tip[3], int n, unsigned *first)
{
	*first = f->npres;
	ef_frame(f, tip, 1, 0, 0);
	for (int i = 1; i <= n; i++) {
		float q[3] = { tip[0] + 0.0101f * (float)i, tip[1], tip[2] };
		ef_frame(f, q, 1, 0, 0);
	}
	return f->npres - *first;
}

static void a_drag_sends_previews_then_a_cleared_presence(void **state)
{
	(void)state;
	uint64_t ent;
	struct ef *f = ef_new_cube(&ent);
	ef_next_tool(f, 1);
	ef_deliver(f);
	const float tip[3] = { 0.05f, 1.05f, -0.45f }; /* inside the cube */
	unsigned first, n = drag(f, tip, 30, &first);
	/* The grab, then every frame of the drag (the cursor and the preview
	 * move together: one call a frame). */
	assert_int_equal(n, 31);
	const struct edit_preview *pv = edit_preview(f->ed);
	for (unsigned i = first; i < first + n; i++) {
		const struct edit_presence *e = &f->pres[i];
		assert_int_equal(e->flags, EDIT_PRES_CURSOR | EDIT_PRES_PREVIEW);
		assert_int_equal(e->tool, EDIT_TOOL_MOVE);
		assert_true(e->target == ent);
		/* The transform the drag applies: the preview's, snapped. */
		assert_float_equal(e->position[0], ef_at[0] + 0.01f * (float)(i - first), 1e-5);
		assert_float_equal(e->position[1], ef_at[1], 1e-6);
		assert_float_equal(e->rotation[3], 1, 1e-6);
	}
	assert_memory_equal(f->pres[first + n - 1].position, pv->xf.position, sizeof pv->xf.position);
	/* The hand stays put while held: nothing new. */
	float held[3] = { tip[0] + 0.303f, tip[1], tip[2] };
	ef_frame(f, held, 1, 0, 0);
	assert_int_equal(f->npres, first + n);
	/* Released: one presence without the preview (the cursor stays), and
	 * the move's command. */
	ef_frame(f, held, 0, 0, 0);
	assert_int_equal(f->npres, first + n + 1);
	const struct edit_presence *end = &f->pres[f->npres - 1];
	assert_int_equal(end->flags, EDIT_PRES_CURSOR);
	assert_true(end->target == 0);
	assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 1);
	ef_free(f);
}

static void a_cancelled_drag_clears_the_preview(void **state)
{
	(void)state;
	uint64_t ent;
	struct ef *f = ef_new_cube(&ent);
	ef_next_tool(f, 1);
	ef_deliver(f);
	const float tip[3] = { 0.05f, 1.05f, -0.45f };
	unsigned first;
	drag(f, tip, 5, &first);
	assert_true(f->pres[f->npres - 1].flags & EDIT_PRES_PREVIEW);
	/* Right a mid-drag: the tool changes, the drag is cancelled. */
	float q[3] = { tip[0] + 0.0505f, tip[1], tip[2] };
	ef_frame(f, q, 1, TH_BUTTON_A, 0);
	const struct edit_presence *e = &f->pres[f->npres - 1];
	assert_int_equal(e->flags, EDIT_PRES_CURSOR);
	assert_int_not_equal(e->tool, EDIT_TOOL_MOVE);
	/* Cancelled from outside a frame (the panels' tool buttons): said at
	 * the next frame. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	ef_frame(f, tip, 0, 0, 0);
	drag(f, tip, 3, &first);
	assert_true(f->pres[f->npres - 1].flags & EDIT_PRES_PREVIEW);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	unsigned before = f->npres;
	ef_frame(f, (float[3]){ tip[0] + 0.0303f, tip[1], tip[2] }, 1, 0, 0);
	assert_int_equal(f->npres, before + 1);
	assert_int_equal(f->pres[before].flags, EDIT_PRES_CURSOR);
	assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 0);
	ef_free(f);
}

static void element_drags_show_the_cursor_only(void **state)
{
	(void)state;
	uint64_t ent;
	struct ef *f = ef_new_cube(&ent);
	ef_next_tool(f, 1);
	ef_next_option(f, 1); /* move: face */
	ef_deliver(f);
	unsigned first, n = drag(f, ef_top, 10, &first);
	assert_true(edit_preview(f->ed)->active); /* the face is previewed here */
	assert_true(n >= 10);
	for (unsigned i = first; i < first + n; i++)
		assert_int_equal(f->pres[i].flags, EDIT_PRES_CURSOR); /* geometry is not presence */
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_cursor_follows_the_tip_on_change_only),
		cmocka_unit_test(a_drag_sends_previews_then_a_cleared_presence),
		cmocka_unit_test(a_cancelled_drag_clears_the_preview),
		cmocka_unit_test(element_drags_show_the_cursor_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
