/* What the renderer shows at the tool tip (edit_hover, edit_tool_mode):
 * each frame the editor finds what the current tool would pick at the
 * right hand's tip, by the rules its trigger uses, and the tool's element
 * kind follows its option and parameter; the pick radius follows the
 * world scale. */
#include "edit_fix.h"

static const float top_edge[3] = { 0, 1.11f, -0.41f };  /* near the top face's +z edge */
static const float top_corner[3] = { 0.1f, 1.1f, -0.4f }; /* a corner of the cube */

/* One idle frame with the tip at p. */
static const struct edit_hover *hover_at(struct ef *f, const float p[3])
{
	ef_frame(f, p, 0, 0, 0);
	return edit_hover(f->ed);
}

static void the_select_tool_hovers_what_its_click_selects(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	static const uint32_t modes[] = { TH_SELECT_OBJECT, TH_SELECT_FACE, TH_SELECT_EDGE, TH_SELECT_VERTEX };
	static const float *const at[] = { ef_top, ef_top, top_edge, top_corner };
	for (unsigned o = 0; o < 4; o++) {
		assert_int_equal(edit_tool_mode(f->ed), modes[o]);
		const struct edit_hover *h = hover_at(f, at[o]);
		assert_true(h->tracked);
		assert_int_equal(h->tool, EDIT_TOOL_SELECT);
		assert_int_equal(h->mode, modes[o]);
		assert_memory_equal(h->tip, at[o], sizeof h->tip);
		assert_true(h->hit);
		assert_int_equal(h->h.entity, e);
		assert_int_equal(h->h.mode, modes[o]);
		struct edit_hit seen = h->h;
		/* The click picks the same element. */
		ef_click(f, at[o]);
		const struct edit_selection *s = edit_selection(f->ed);
		assert_int_equal(s->entity, e);
		assert_int_equal(s->mode, modes[o]);
		if (modes[o] == TH_SELECT_OBJECT) {
			assert_int_equal(s->n, 0);
		} else {
			assert_int_equal(s->n, 1);
			assert_int_equal(s->el[0].id, seen.element);
		}
		if (modes[o] == TH_SELECT_EDGE) {
			assert_int_equal(seen.element, th_mesh_edge_id(seen.a, seen.b));
			assert_true(seen.a != 0 && seen.b != 0);
		}
		ef_click(f, ef_nowhere);
		ef_next_option(f, 1);
	}
	/* Nothing in reach: no hit, the tip still there. */
	const struct edit_hover *h = hover_at(f, ef_nowhere);
	assert_false(h->hit);
	assert_true(h->tracked);
	assert_memory_equal(h->tip, ef_nowhere, sizeof h->tip);
	/* An untracked hand hovers nothing. */
	f->in.hand[INP_RIGHT].pose.valid = false;
	h = hover_at(f, ef_top);
	assert_false(h->tracked);
	assert_false(h->hit);
	ef_free(f);
}

static void tool_modes_follow_options_and_parameters(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_EXTRUDE), 0);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_FACE);
	ef_next_option(f, 2); /* edges */
	assert_string_equal(edit_option_name(f->ed), "edges");
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_EDGE);
	const struct edit_hover *h = hover_at(f, top_edge);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_EDGE);

	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PAINT), 0);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_FACE);
	ef_param_up(f, 1); /* whole mesh */
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_OBJECT);
	h = hover_at(f, ef_top);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_OBJECT);
	assert_int_equal(h->h.entity, e);

	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SUBDIVIDE), 0);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_FACE);
	ef_next_option(f, 1); /* smooth */
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_OBJECT);

	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SHAPE), 0);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_FACE); /* inset */
	ef_next_option(f, 1);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_EDGE); /* loop cut */
	ef_next_option(f, 2);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_OBJECT); /* weld */

	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MIRROR), 0);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_OBJECT);
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_DELETE), 0);
	ef_next_option(f, 3);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_VERTEX);

	/* The primitive tool picks nothing: the tip, no hit. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	assert_int_equal(edit_tool_mode(f->ed), EDIT_MODE_NONE);
	h = hover_at(f, ef_top);
	assert_int_equal(h->mode, EDIT_MODE_NONE);
	assert_int_equal(h->tool, EDIT_TOOL_PRIMITIVE);
	assert_true(h->tracked);
	assert_false(h->hit);
	ef_free(f);
}

static void the_vertex_tool_hovers_the_edge_before_the_face(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_use_tool(f, EDIT_TOOL_VERTEX);
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_VERTEX);
	const struct edit_hover *h = hover_at(f, top_edge);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_EDGE);
	h = hover_at(f, ef_top);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_FACE);
	/* 4 cm off the edge: outside half the radius, the face's. */
	const float off_edge[3] = { 0, 1.11f, -0.44f };
	h = hover_at(f, off_edge);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_FACE);
	ef_free(f);
}

static void the_move_tool_hovers_the_selection_under_the_tip_and_nothing_while_dragging(void **state)
{
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_option(f, 1);
	ef_click(f, ef_top); /* the top face selected */
	uint64_t top = edit_selection(f->ed)->el[0].id;
	ef_use_tool(f, EDIT_TOOL_MOVE); /* option object */
	assert_int_equal(edit_tool_mode(f->ed), TH_SELECT_OBJECT);
	/* On the selection: the grab takes the face, so that is hovered. */
	const struct edit_hover *h = hover_at(f, ef_top);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_FACE);
	assert_int_equal(h->h.element, top);
	/* Off it: the object, the tool's mode. */
	h = hover_at(f, ef_front);
	assert_true(h->hit);
	assert_int_equal(h->h.mode, TH_SELECT_OBJECT);
	/* A drag in progress: nothing hovered. */
	ef_frame(f, ef_top, 1.0f, 0, 0);
	assert_true(edit_preview(f->ed)->active);
	assert_false(edit_hover(f->ed)->hit);
	ef_frame(f, ef_top, 0.0f, 0, 0);
	ef_free(f);
}

/* The world grab's scale (edit_set_reach_scale): the pick radius is the
 * configured one times it, so a face 8 cm from the tip is out of the 5 cm
 * default at scale 1 and within it at scale 2 (10 cm); a scale that is no
 * number or not above 0 is 1 again. The click picks what the hover shows. */
static void the_pick_radius_follows_the_world_scale(void **state)
{
	(void)state;
	uint64_t e;
	struct ef *f = ef_new_cube(&e);
	ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), "face");
	const float above[3] = { 0, 1 + EF_CUBE_SIZE / 2 + 0.08f, -0.5f }; /* 8 cm over the top face */
	assert_false(hover_at(f, above)->hit);
	edit_set_reach_scale(f->ed, 2);
	const struct edit_hover *h = hover_at(f, above);
	assert_true(h->hit);
	assert_int_equal(h->h.entity, e);
	assert_int_equal(h->h.mode, TH_SELECT_FACE);
	assert_float_equal(h->h.dist, 0.08f, 1e-4);
	const uint64_t top = h->h.element;
	ef_click(f, above);
	const struct edit_selection *s = edit_selection(f->ed);
	assert_int_equal(s->entity, e);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->el[0].id, top);
	/* 12 cm is past 10 cm. */
	const float higher[3] = { 0, 1 + EF_CUBE_SIZE / 2 + 0.12f, -0.5f };
	assert_false(hover_at(f, higher)->hit);
	static const float no_scale[] = { 0, -2, NAN, INFINITY };
	for (unsigned i = 0; i < sizeof no_scale / sizeof no_scale[0]; i++) {
		edit_set_reach_scale(f->ed, 2);
		assert_true(hover_at(f, above)->hit);
		edit_set_reach_scale(f->ed, no_scale[i]);
		assert_false(hover_at(f, above)->hit);
		assert_true(hover_at(f, ef_top)->hit); /* 1 cm: the default radius */
	}
	/* A huge scale stops at EDIT_PICK_RADIUS_MAX (the pick takes no more). */
	edit_set_reach_scale(f->ed, 1e9f);
	assert_true(hover_at(f, higher)->hit);
	ef_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_select_tool_hovers_what_its_click_selects),
		cmocka_unit_test(tool_modes_follow_options_and_parameters),
		cmocka_unit_test(the_vertex_tool_hovers_the_edge_before_the_face),
		cmocka_unit_test(the_move_tool_hovers_the_selection_under_the_tip_and_nothing_while_dragging),
		cmocka_unit_test(the_pick_radius_follows_the_world_scale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
