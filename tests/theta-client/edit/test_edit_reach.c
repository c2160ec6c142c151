/* Reaching with the ray (edit/edit_reach.c) on a real scene and a real
 * editor (edit_fix.h: a folded log, the recording sink): the right
 * controller's aim ray moves the tip onto a far face (a press selects it,
 * a nearer mesh hides one behind it), onto an edge or a vertex; a mesh
 * within the pick radius of the hand (which follows the world scale) wins
 * over the ray; a drag that began
 * while reaching keeps its offset from the hand (the move follows the hand
 * one to one) through its release frame, then the tip is the hand's again;
 * a press at the hand stays there; the primitive tool never reaches; an
 * untracked aim or hand, or no scene, moves nothing. */
#include "edit_fix.h"

#include "edit/edit_reach.h"

/* Cube a (the fixture's, at ef_at) and cube b 1 m behind it; c off to the
 * right, level with the hands. The hand stands 1 m in front of a's +z face. */
static const float at_b[3] = { 0, 1, -1.5f }, at_c[3] = { 1, 1, 0 };
static const float hand0[3] = { 0, 1, 0.6f };
#define FACE_Z (-0.5f + EF_CUBE_SIZE / 2) /* a's +z face */

struct rf {
	struct ef *f;
	uint64_t ea, eb, ec;
	struct edit_rays *rays;
	struct edit_reach reach;
	bool reached; /* the last frame's answer */
};

static struct rf *rf_new(void)
{
	struct rf *t = calloc(1, sizeof *t);
	assert_non_null(t);
	t->f = ef_new_cube(&t->ea);
	t->eb = ef_cube(t->f, &t->f->other, at_b, EF_CUBE_SIZE);
	t->ec = ef_cube(t->f, &t->f->other, at_c, EF_CUBE_SIZE);
	assert_int_equal(edit_rays_create(&t->rays), 0);
	edit_reach_init(&t->reach);
	t->f->in.hand[INP_RIGHT].aim.valid = true;
	return t;
}

static void rf_free(struct rf *t)
{
	edit_rays_destroy(&t->rays);
	ef_free(t->f);
	free(t);
}

/* A rotation whose -Z looks from `from` towards `to`. */
static void look(const float from[3], const float to[3], float q[4])
{
	float d[3] = { to[0] - from[0], to[1] - from[1], to[2] - from[2] };
	float l = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
	for (int k = 0; k < 3; k++)
		d[k] /= l;
	/* The half-way quaternion from (0, 0, -1) to d. */
	q[0] = d[1]; /* (0, 0, -1) x d */
	q[1] = -d[0];
	q[2] = 0;
	q[3] = 1 - d[2];
	float n = sqrtf(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	if (n < 1e-6f) { /* d is +z: half a turn about +y */
		q[0] = q[2] = q[3] = 0;
		q[1] = 1;
		return;
	}
	for (int k = 0; k < 4; k++)
		q[k] /= n;
}

/* One frame: the right grip (and the aim's origin) at hand, the aim looking
 * at target, trigger trig; the reach, then the editor, on the same input. */
static void rf_frame(struct rf *t, const float hand[3], const float target[3], float trig)
{
	struct ef *f = t->f;
	struct inp_controller *r = &f->in.hand[INP_RIGHT];
	memcpy(r->pose.position, hand, sizeof r->pose.position);
	memcpy(r->aim.position, hand, sizeof r->aim.position);
	look(hand, target, r->aim.rotation);
	r->trigger = trig;
	t->reached = edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, ef_scene(f));
	assert_true(t->reached == t->reach.reaching);
	assert_int_equal(edit_frame(f->ed, f->frame++ * EF_FRAME_NS, &f->in, ef_scene(f)), 0);
}

static void tip_is(struct rf *t, float x, float y, float z)
{
	const float *p = t->f->in.hand[INP_RIGHT].pose.position;
	assert_float_equal(p[0], x, 1e-5);
	assert_float_equal(p[1], y, 1e-5);
	assert_float_equal(p[2], z, 1e-5);
}

/* The element of kind mode at world point p, by the tip's rules. */
static struct edit_hit pick_at(struct rf *t, const float p[3], uint32_t mode)
{
	struct edit_hit h;
	assert_int_equal(edit_pick(ef_scene(t->f), p, 0.02f, mode, &h), 1);
	return h;
}

static void the_ray_picks_a_far_face_and_a_press_selects_it(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	ef_next_option(t->f, 1);
	assert_string_equal(edit_option_name(t->f->ed), "face");
	const struct edit_hit front = pick_at(t, ef_front, TH_SELECT_FACE);
	/* Aimed at a's middle from 1 m: the tip on its +z face, hovered. */
	rf_frame(t, hand0, ef_at, 0);
	assert_true(t->reached);
	assert_true(t->reach.hit);
	assert_false(t->reach.holding);
	assert_int_equal(t->reach.h.entity, t->ea);
	assert_int_equal(t->reach.h.mode, TH_SELECT_FACE);
	assert_int_equal(t->reach.h.element, front.element);
	assert_float_equal(t->reach.h.dist, hand0[2] - FACE_Z, 1e-4);
	tip_is(t, 0, 1, FACE_Z);
	for (int k = 0; k < 3; k++) {
		assert_float_equal(t->reach.origin[k], hand0[k], 0);
		assert_float_equal(t->reach.tip[k], t->f->in.hand[INP_RIGHT].pose.position[k], 0);
	}
	const struct edit_hover *hv = edit_hover(t->f->ed);
	assert_true(hv->hit);
	assert_int_equal(hv->h.entity, t->ea);
	assert_int_equal(hv->h.element, front.element);
	/* A press and release there select that face. */
	rf_frame(t, hand0, ef_at, 1);
	rf_frame(t, hand0, ef_at, 0);
	const struct edit_selection *sel = edit_selection(t->f->ed);
	assert_int_equal(sel->entity, t->ea);
	assert_int_equal(sel->n, 1);
	assert_int_equal(sel->el[0].id, front.element);
	/* Cube b, 1 m behind a: hidden by a straight on, reached past a's side. */
	const float b_mid[3] = { at_b[0], at_b[1], at_b[2] };
	rf_frame(t, hand0, b_mid, 0);
	assert_int_equal(t->reach.h.entity, t->ea);
	const float side[3] = { 0.3f, 1, 0.6f };
	rf_frame(t, side, b_mid, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.entity, t->eb);
	assert_float_equal(t->f->in.hand[INP_RIGHT].pose.position[2], at_b[2] + EF_CUBE_SIZE / 2, 1e-4);
	assert_true(hv->hit);
	assert_int_equal(hv->h.entity, t->eb);
	/* Aimed at nothing: the tip is the hand. */
	const float up[3] = { 0, 5, 0.6f };
	rf_frame(t, hand0, up, 0);
	assert_false(t->reached);
	assert_false(t->reach.hit);
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	assert_false(hv->hit);
	rf_free(t);
}

static void a_near_tip_wins_over_the_ray(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	ef_next_option(t->f, 1); /* faces */
	const struct edit_hit front = pick_at(t, ef_front, TH_SELECT_FACE);
	/* 20 cm in front of a, aimed at c: c's -x face is reached. */
	const float off[3] = { 0, 1, -0.2f };
	rf_frame(t, off, at_c, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.entity, t->ec);
	/* 1 cm in front of a (within the pick radius), aimed at c: the hand's. */
	rf_frame(t, ef_front, at_c, 0);
	assert_false(t->reached);
	tip_is(t, ef_front[0], ef_front[1], ef_front[2]);
	const struct edit_hover *hv = edit_hover(t->f->ed);
	assert_true(hv->hit);
	assert_int_equal(hv->h.element, front.element);
	/* A press at the hand stays at the hand while held, even where the
	 * ray would reach; the frame after the release it reaches again. */
	rf_frame(t, ef_front, at_c, 1);
	rf_frame(t, off, at_c, 1);
	assert_false(t->reached);
	tip_is(t, off[0], off[1], off[2]);
	rf_frame(t, off, at_c, 0);
	assert_false(t->reached);
	rf_frame(t, off, at_c, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.entity, t->ec);
	rf_free(t);
}

/* The pick radius follows the world scale (edit_set_reach_scale): the hand
 * 8 cm in front of a's +z face, aimed at c, has nothing within 5 cm at
 * scale 1 and reaches c; at scale 2 (10 cm) a's face is near and the hand
 * keeps the tip. */
static void nothing_near_follows_the_world_scale(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	ef_next_option(t->f, 1); /* faces */
	const struct edit_hit front = pick_at(t, ef_front, TH_SELECT_FACE);
	const float near8[3] = { 0, 1, FACE_Z + 0.08f };
	rf_frame(t, near8, at_c, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.entity, t->ec);
	edit_set_reach_scale(t->f->ed, 2);
	rf_frame(t, near8, at_c, 0);
	assert_false(t->reached);
	tip_is(t, near8[0], near8[1], near8[2]);
	const struct edit_hover *hv = edit_hover(t->f->ed);
	assert_true(hv->hit);
	assert_int_equal(hv->h.entity, t->ea);
	assert_int_equal(hv->h.element, front.element);
	edit_set_reach_scale(t->f->ed, 1);
	rf_frame(t, near8, at_c, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.entity, t->ec);
	rf_free(t);
}

static void a_drag_keeps_the_offset_and_the_release_returns(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	struct ef *f = t->f;
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	assert_string_equal(edit_option_name(f->ed), "object");
	ef_deliver(f);
	rf_frame(t, hand0, ef_at, 0);
	assert_true(t->reached);
	rf_frame(t, hand0, ef_at, 1); /* the press, while reaching: a's grabbed at its face */
	assert_true(t->reached);
	assert_true(t->reach.hit);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active);
	assert_int_equal(pv->entity, t->ea);
	/* The hand moves 1 cm a frame along +x and turns its aim away: the tip
	 * keeps the press's offset (0, 0, -1), the preview follows 1:1. */
	const float away[3] = { 0, 5, 0.6f };
	float hand[3];
	for (int i = 1; i <= 10; i++) {
		memcpy(hand, hand0, sizeof hand);
		hand[0] += 0.01f * (float)i;
		rf_frame(t, hand, away, 1);
		assert_true(t->reached);
		assert_true(t->reach.holding);
		assert_false(t->reach.hit);
		tip_is(t, hand[0], 1, FACE_Z);
		for (int k = 0; k < 3; k++)
			assert_float_equal(t->reach.origin[k], hand[k], 0);
		assert_true(pv->active);
		assert_float_equal(pv->xf.position[0], ef_at[0] + 0.01f * (float)i, 1e-5);
	}
	/* The release frame keeps the offset: the move ends where the drag was. */
	unsigned before = f->n;
	rf_frame(t, hand, away, 0);
	assert_true(t->reached);
	assert_true(t->reach.holding);
	tip_is(t, hand[0], 1, FACE_Z);
	assert_false(pv->active);
	assert_int_equal(ef_count_writes(f, TH_COMP_TRANSFORM), 1);
	assert_true(f->n > before);
	ef_deliver(f);
	const struct th_c_transform *xf = th_scene_component(ef_scene(f), t->ea, TH_COMP_TRANSFORM);
	assert_float_equal(xf->position[0], ef_at[0] + 0.1f, 1e-5);
	assert_float_equal(xf->position[2], ef_at[2], 1e-6);
	/* The frame after: back at the hand (aimed at nothing)... */
	rf_frame(t, hand, away, 0);
	assert_false(t->reached);
	assert_false(t->reach.holding);
	tip_is(t, hand[0], hand[1], hand[2]);
	/* ... or on what the ray hits now: a where it was moved to. */
	const float moved[3] = { ef_at[0] + 0.1f, ef_at[1], ef_at[2] };
	rf_frame(t, hand, moved, 0);
	assert_true(t->reached);
	assert_false(t->reach.holding);
	assert_int_equal(t->reach.h.entity, t->ea);
	tip_is(t, hand[0], 1, FACE_Z);
	rf_free(t);
}

static void edges_and_vertices_put_the_tip_on_the_element(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	struct ef *f = t->f;
	const float h = EF_CUBE_SIZE / 2, top_y = ef_at[1] + h;
	ef_next_option(f, 2);
	assert_string_equal(edit_option_name(f->ed), "edge");
	/* Aimed 3 mm under the top edge of a's +z face (0.17 degrees off it). */
	const float near_edge[3] = { 0.02f, top_y - 0.003f, FACE_Z };
	rf_frame(t, hand0, near_edge, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.mode, TH_SELECT_EDGE);
	const float *tip = f->in.hand[INP_RIGHT].pose.position;
	assert_float_equal(tip[0], 0.02f, 1e-3); /* the edge's point nearest the ray */
	assert_float_equal(tip[1], top_y, 1e-5);
	assert_float_equal(tip[2], FACE_Z, 1e-5);
	const struct edit_hover *hv = edit_hover(f->ed);
	assert_true(hv->hit);
	assert_int_equal(hv->h.mode, TH_SELECT_EDGE);
	assert_int_equal(hv->h.element, t->reach.h.element);
	rf_frame(t, hand0, near_edge, 1);
	rf_frame(t, hand0, near_edge, 0);
	assert_int_equal(edit_selection(f->ed)->n, 1);
	assert_int_equal(edit_selection(f->ed)->el[0].id, t->reach.h.element);
	/* Near a corner (two edges about as near): the tip on the ray's edge,
	 * so the editor picks that one. */
	const float corner[3] = { h - 0.002f, top_y - 0.002f, FACE_Z };
	rf_frame(t, hand0, corner, 0);
	assert_true(t->reached);
	assert_true(hv->hit);
	assert_int_equal(hv->h.element, t->reach.h.element);
	/* The face's middle is 5.7 degrees from every edge: no reach. */
	rf_frame(t, hand0, ef_at, 0);
	assert_false(t->reached);
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	/* Vertices: the tip on the corner the ray passes near. */
	ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), "vertex");
	const float near_corner[3] = { h - 0.003f, top_y - 0.003f, FACE_Z };
	rf_frame(t, hand0, near_corner, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.mode, TH_SELECT_VERTEX);
	tip_is(t, h, top_y, FACE_Z);
	assert_true(hv->hit);
	assert_int_equal(hv->h.mode, TH_SELECT_VERTEX);
	assert_int_equal(hv->h.element, t->reach.h.element);
	/* The vertex tool reaches faces: a press adds a vertex inside a's. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_VERTEX), 0);
	rf_frame(t, hand0, ef_at, 0);
	assert_true(t->reached);
	assert_int_equal(t->reach.h.mode, TH_SELECT_FACE);
	unsigned patches = ef_count(f, TH_CMD_MESH_PATCH);
	rf_frame(t, hand0, ef_at, 1);
	rf_frame(t, hand0, ef_at, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_PATCH), patches + 1);
	assert_non_null(strstr(ef_last_text(f), "add a vertex in a face"));
	rf_free(t);
}

static void the_primitive_tool_never_reaches(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	struct ef *f = t->f;
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_PRIMITIVE), 0);
	assert_int_equal(edit_tool_mode(f->ed), EDIT_MODE_NONE);
	rf_frame(t, hand0, ef_at, 0);
	assert_false(t->reached);
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	/* The stamp lands at the hand, not on a's face. */
	rf_frame(t, hand0, ef_at, 1);
	assert_false(t->reached);
	rf_frame(t, hand0, ef_at, 0);
	assert_int_equal(ef_count(f, TH_CMD_MESH_CREATE), 1);
	for (unsigned i = 0; i < f->n; i++) {
		if (f->cmds[i].type != TH_CMD_MESH_CREATE)
			continue;
		union th_pl_any pl;
		ef_decode(f, i, TH_CMD_MESH_CREATE, &pl);
		assert_float_equal(pl.mesh_create.transform[2], hand0[2], 0.011);
	}
	rf_free(t);
}

static void an_untracked_aim_or_hand_or_no_scene_does_nothing(void **state)
{
	(void)state;
	struct rf *t = rf_new();
	struct ef *f = t->f;
	struct inp_controller *r = &f->in.hand[INP_RIGHT];
	r->aim.valid = false;
	rf_frame(t, hand0, ef_at, 0);
	assert_false(t->reached);
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	r->aim.valid = true;
	r->pose.valid = false;
	rf_frame(t, hand0, ef_at, 0);
	assert_false(t->reached);
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	r->pose.valid = true;
	/* No scene, no rays, no editor: nothing moves. */
	assert_false(edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, NULL));
	assert_false(edit_reach_frame(&t->reach, &f->in, f->ed, NULL, ef_scene(f)));
	assert_false(edit_reach_frame(&t->reach, &f->in, NULL, t->rays, ef_scene(f)));
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	/* A non-finite aim is a ray edit_raycast refuses: nothing. */
	r->aim.rotation[0] = NAN;
	assert_false(edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, ef_scene(f)));
	tip_is(t, hand0[0], hand0[1], hand0[2]);
	/* A held reach whose aim goes untracked goes on from the hand. */
	rf_frame(t, hand0, ef_at, 1);
	assert_true(t->reached);
	r->aim.valid = false;
	const float hand[3] = { 0.05f, 1, 0.6f };
	memcpy(r->pose.position, hand, sizeof hand);
	assert_true(edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, ef_scene(f)));
	assert_true(t->reach.holding);
	tip_is(t, 0.05f, 1, FACE_Z);
	for (int k = 0; k < 3; k++)
		assert_float_equal(t->reach.origin[k], hand[k], 0);
	/* A hand lost mid-hold: nothing moves, and the hold resumes after. */
	r->pose.valid = false;
	memcpy(r->pose.position, hand, sizeof hand);
	assert_false(edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, ef_scene(f)));
	tip_is(t, hand[0], hand[1], hand[2]);
	r->pose.valid = true;
	assert_true(edit_reach_frame(&t->reach, &f->in, f->ed, t->rays, ef_scene(f)));
	tip_is(t, 0.05f, 1, FACE_Z);
	rf_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_ray_picks_a_far_face_and_a_press_selects_it),
		cmocka_unit_test(a_near_tip_wins_over_the_ray),
		cmocka_unit_test(nothing_near_follows_the_world_scale),
		cmocka_unit_test(a_drag_keeps_the_offset_and_the_release_returns),
		cmocka_unit_test(edges_and_vertices_put_the_tip_on_the_element),
		cmocka_unit_test(the_primitive_tool_never_reaches),
		cmocka_unit_test(an_untracked_aim_or_hand_or_no_scene_does_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
