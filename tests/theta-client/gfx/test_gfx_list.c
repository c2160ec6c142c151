/* The frame list (gfx/gfx_list.c): instances from a real ECS world kept by
 * the real scene mirror (tests/lib/th_gfxscene: a real fold of two users'
 * entries), the editor's preview, selection and hover, others' selections
 * in their owners' colours, the wire in edit modes, the materials, the
 * grid, avatars from app_avatars, the tool cursor and the reaching ray. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/avatars.h"
#include "edit/edit.h"
#include "edit/edit_reach.h"
#include "gfx/gfx_list.h"
#include "gfx/gfx_math.h"
#include "th_cmd.h"
#include "th_gfxscene.h"
#include "th_payload.h"
#include "th_schema.h"

#define FRAME_NS 11111111ull
#define CUBE 0.2f
#define CMDS_MAX 64u

static const float at_a[3] = { 0, 1, -0.5f }, at_b[3] = { 1, 1, -0.5f };
static const float top_a[3] = { 0, 1.11f, -0.5f };    /* 1 cm above cube a's top face */
static const float front_a[3] = { 0, 1, -0.39f };     /* in front of its +z face */
static const float nowhere[3] = { 50, 50, 50 };

struct cmd {
	uint16_t type;
	uint64_t scope, tag;
	uint8_t payload[TH_LOGREC_PAYLOAD_MAX];
	uint32_t len;
};

struct fx {
	struct gs s;
	uint64_t ea, ma, eb, mb; /* cube a (user a's), cube b (user b's): entities, meshes */
	struct edit *ed;          /* used by user a */
	struct cmd *cmds;
	unsigned n, delivered;
	uint64_t seq, frame;
	struct inp_state in;
	struct gfx_list l;
	struct app_avatars *av;
};

static int record(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	struct fx *f = ud;
	assert_true(f->n < CMDS_MAX);
	struct cmd *c = &f->cmds[f->n++];
	c->type = type;
	c->scope = scope;
	c->tag = tag;
	c->len = len;
	memcpy(c->payload, payload, len);
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cmds = calloc(CMDS_MAX, sizeof *f->cmds);
	assert_non_null(f->cmds);
	assert_int_equal(gs_init(&f->s), 0);
	assert_int_equal(gs_cube(&f->s, &f->s.a, at_a, CUBE, &f->ea, &f->ma), 0);
	assert_int_equal(gs_cube(&f->s, &f->s.b, at_b, CUBE, &f->eb, &f->mb), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	struct edit_config ec = { .sink = { .submit = record, .ud = f } };
	assert_int_equal(edit_create(&ec, &f->ed), 0);
	inp_state_init(&f->in);
	f->in.hand[INP_RIGHT].pose.valid = true;
	gfx_list_init(&f->l);
	assert_int_equal(app_avatars_create(&f->av), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gfx_list_fini(&f->l);
	app_avatars_destroy(&f->av);
	edit_destroy(&f->ed);
	gs_fini(&f->s);
	free(f->cmds);
	free(f);
	return 0;
}

/* The daemon: the editor's commands become user a's entries (sent, acked,
 * folded, mirrored, and told to the editor). */
static void deliver(struct fx *f)
{
	for (; f->delivered < f->n; f->delivered++) {
		struct cmd *c = &f->cmds[f->delivered];
		uint8_t kind = th_cmd_find(c->type)->scope;
		uint64_t seq = ++f->seq;
		edit_on_sent(f->ed, c->tag, seq);
		long i = sh_add(&f->s.log, &f->s.a, c->type, kind, kind == TH_SCOPE_GLOBAL ? 0 : c->scope, c->payload,
				c->len, 0);
		assert_true(i >= 0);
		edit_on_answer(f->ed, seq, false, f->s.log.v[i].e.lamport, f->s.log.v[i].e.seq);
		size_t from = f->s.delivered;
		assert_int_equal(gs_sync(&f->s), 0);
		for (size_t k = from; k < f->s.log.n; k++)
			edit_on_entry(f->ed, &f->s.log.v[k].e);
	}
}

/* One editor frame with the right tip at p and trigger trig. */
static void frame(struct fx *f, const float p[3], float trig)
{
	struct inp_controller *r = &f->in.hand[INP_RIGHT];
	memcpy(r->pose.position, p, sizeof r->pose.position);
	r->trigger = trig;
	assert_int_equal(edit_frame(f->ed, f->frame++ * FRAME_NS, &f->in, app_scene_scene(f->s.scene)), 0);
	r->pressed = 0;
}

static void click(struct fx *f, const float p[3])
{
	frame(f, p, 1);
	frame(f, p, 0);
}

static void build(struct fx *f, bool with_editor, bool grid)
{
	struct gfx_list_input in = { .w = f->s.w, .scene = f->s.scene, .ed = with_editor ? f->ed : NULL,
				     .avatars = f->av, .grid = grid };
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
}

static const struct gfx_inst *inst(struct fx *f, uint64_t entity, uint32_t *index)
{
	for (uint32_t i = 0; i < f->l.ninst; i++)
		if (f->l.inst[i].entity == entity) {
			if (index)
				*index = i;
			return &f->l.inst[i];
		}
	fail_msg("entity %016llx has no instance", (unsigned long long)entity);
	return NULL;
}

static unsigned marks(struct fx *f, uint32_t i, uint32_t kind)
{
	unsigned n = 0;
	for (uint32_t k = 0; k < f->l.nmark; k++)
		n += f->l.mark[k].inst == i && f->l.mark[k].kind == kind;
	return n;
}

static const struct gfx_mark *mark_of(struct fx *f, uint64_t element)
{
	for (uint32_t k = 0; k < f->l.nmark; k++)
		if (f->l.mark[k].element == element)
			return &f->l.mark[k];
	return NULL;
}

static void color_is(const float got[3], const float want[3])
{
	for (int k = 0; k < 3; k++)
		assert_float_equal(got[k], want[k], 1e-6);
}

static uint64_t face_id(const struct th_mesh *m, unsigned nth)
{
	for (uint32_t i = 0; i < m->nfaces; i++)
		if (m->faces[i].id && nth-- == 0)
			return m->faces[i].id;
	fail_msg("no such face");
	return 0;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void instances_come_from_the_world_and_the_scene(void **state)
{
	struct fx *f = *state;
	build(f, false, false);
	assert_int_equal(f->l.ninst, 2);
	const struct gfx_inst *a = inst(f, f->ea, NULL), *b = inst(f, f->eb, NULL);
	assert_ptr_equal(a->mesh, app_scene_mesh(f->s.scene, f->ma));
	assert_ptr_equal(b->mesh, app_scene_mesh(f->s.scene, f->mb));
	assert_true(a->mesh_key == f->ma && b->mesh_key == f->mb);
	assert_float_equal(b->model[12], at_b[0], 1e-6);
	assert_float_equal(b->model[13], at_b[1], 1e-6);
	assert_float_equal(b->model[14], at_b[2], 1e-6);
	assert_float_equal(b->model[0], 1, 1e-6);
	assert_false(a->smooth || a->wire || a->tint[3] != 0);
	assert_int_equal(f->l.triangles, 24); /* two cubes of 6 quads */
	assert_int_equal(f->l.nmark + f->l.ntri + f->l.nline, 0);
	assert_float_equal(f->l.clear[3], 1, 0);

	/* A MeshRef written with the smooth flag and another material. */
	struct th_c_mesh_ref mr = { .mesh = f->mb, .material = 3, .flags = GFX_MESHREF_SMOOTH };
	uint8_t val[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_MESH_REF), &mr, val, sizeof val);
	assert_true(n > 0);
	struct th_pl_component_write cw = { .component = th_component_id(TH_COMP_MESH_REF), .value = val,
					    .value_len = (uint16_t)n };
	assert_int_equal(sh_add_typed(&f->s.log, &f->s.b, TH_CMD_COMPONENT_WRITE, TH_SCOPE_ENTITY, f->eb, &cw), 0);
	/* And a patch that moves a vertex of cube a: the same mesh, changed. */
	const struct th_mesh *ma = gs_mesh(&f->s, f->ma);
	struct th_patch p;
	th_patch_init(&p);
	uint64_t v = 0;
	for (uint32_t i = 0; i < ma->nverts && !v; i++)
		v = ma->verts[i].id;
	float to[3] = { 0.3f, 0.3f, 0.3f };
	assert_int_equal(th_patch_vertex_move(&p, v, to), 0);
	assert_int_equal(gs_patch(&f->s, &f->s.a, f->ma, &p), 0);
	th_patch_fini(&p);
	assert_int_equal(gs_sync(&f->s), 0);
	build(f, false, false);
	assert_int_equal(f->l.ninst, 2);
	b = inst(f, f->eb, NULL);
	assert_true(b->smooth);
	assert_int_equal(b->material, 3);
	a = inst(f, f->ea, NULL);
	const struct th_mesh *shown = a->mesh;
	int32_t slot = th_mesh_vert_find(shown, v);
	assert_true(slot >= 0);
	assert_float_equal(shown->verts[slot].pos[0], 0.3f, 1e-6);

	/* No scene: nothing from the world. */
	struct gfx_list_input in = { .w = f->s.w };
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
	assert_int_equal(f->l.ninst, 0);
	assert_int_equal(f->l.triangles, 0);
}

static void materials_come_from_the_scene_table(void **state)
{
	struct fx *f = *state;
	struct th_pl_material_set ms = { .index = 7, .base_color = { 0.1f, 0.2f, 0.3f, 1 }, .roughness_metallic = { 0.9f, 0.4f } };
	strcpy(ms.name, "teal-ish");
	assert_int_equal(sh_add_typed(&f->s.log, &f->s.b, TH_CMD_MATERIAL_SET, TH_SCOPE_GLOBAL, 0, &ms), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	build(f, false, false);
	color_is(f->l.material[7], ms.base_color);
	assert_float_equal(f->l.roughness[7], 0.9f, 1e-6);
	assert_float_equal(f->l.metallic[7], 0.4f, 1e-6);
	/* Undefined entries: the default, the same for all. */
	assert_memory_equal(f->l.material[8], f->l.material[200], sizeof f->l.material[8]);
	assert_float_equal(f->l.material[8][3], 1, 0);
	assert_true(f->l.material[8][0] != ms.base_color[0]);
}

static void others_selections_show_in_their_owners_colours(void **state)
{
	struct fx *f = *state;
	const struct th_mesh *mb = app_scene_mesh(f->s.scene, f->mb);
	uint64_t fb = face_id(mb, 2);
	/* b selects cube a whole; a selects a face of cube b. */
	assert_int_equal(gs_select(&f->s, &f->s.b, f->ea, TH_SELECT_OBJECT, TH_SELECT_WHOLE), 0);
	assert_int_equal(gs_select(&f->s, &f->s.a, f->eb, TH_SELECT_FACE, fb), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	build(f, false, false);
	float ca[4], cb[4];
	gfx_owner_color(gs_owner(&f->s.a), ca);
	gfx_owner_color(gs_owner(&f->s.b), cb);
	uint32_t ib = UINT32_MAX;
	const struct gfx_inst *a = inst(f, f->ea, NULL);
	inst(f, f->eb, &ib);
	color_is(a->tint, cb);
	assert_true(a->tint[3] > 0 && a->tint[3] < 1);
	assert_int_equal(f->l.nmark, 1);
	const struct gfx_mark *m = mark_of(f, fb);
	assert_non_null(m);
	assert_int_equal(m->inst, ib);
	assert_int_equal(m->kind, GFX_MARK_FACE);
	color_is(m->color, ca);

	/* An edge: named by its id only, drawn by its vertices. */
	int32_t he = mb->faces[th_mesh_face_find(mb, fb)].he;
	uint64_t va = mb->verts[mb->hes[he].vert].id, vb = mb->verts[mb->hes[mb->hes[he].next].vert].id;
	uint64_t edge = th_mesh_edge_id(va, vb);
	assert_int_equal(gs_select(&f->s, &f->s.a, f->eb, TH_SELECT_EDGE, edge), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	for (int twice = 0; twice < 2; twice++) { /* the second from the memo */
		build(f, false, false);
		m = mark_of(f, edge);
		assert_non_null(m);
		assert_int_equal(m->kind, GFX_MARK_EDGE);
		assert_true(m->a == (va < vb ? va : vb) && m->b == (va < vb ? vb : va));
		assert_int_equal(f->l.nmark, 1);
	}
	/* A vertex. */
	assert_int_equal(gs_select(&f->s, &f->s.a, f->eb, TH_SELECT_VERTEX, va), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	build(f, false, false);
	m = mark_of(f, va);
	assert_non_null(m);
	assert_int_equal(m->kind, GFX_MARK_VERTEX);
	assert_int_equal(marks(f, ib, GFX_MARK_VERTEX), 1);
	/* An element the mesh does not have (an edge of two vertices that
	 * share no face): no mark. */
	uint64_t far = 0;
	for (uint32_t i = 0; i < mb->nverts; i++)
		if (mb->verts[i].id && !(mb->verts[i].pos[0] == mb->verts[th_mesh_vert_find(mb, va)].pos[0] ||
					 mb->verts[i].pos[1] == mb->verts[th_mesh_vert_find(mb, va)].pos[1] ||
					 mb->verts[i].pos[2] == mb->verts[th_mesh_vert_find(mb, va)].pos[2]))
			far = mb->verts[i].id; /* the opposite corner */
	assert_true(far != 0);
	assert_int_equal(gs_select(&f->s, &f->s.a, f->eb, TH_SELECT_EDGE, th_mesh_edge_id(va, far)), 0);
	assert_int_equal(gs_sync(&f->s), 0);
	build(f, false, false);
	assert_int_equal(f->l.nmark, 0);
	color_is(inst(f, f->ea, NULL)->tint, cb); /* b's whole-object selection stays */
}

static void the_editor_selection_hover_and_wire(void **state)
{
	struct fx *f = *state;
	/* Select tool, face mode: two faces of cube a. */
	f->in.hand[INP_RIGHT].thumbstick[0] = 1;
	frame(f, nowhere, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	frame(f, nowhere, 0);
	assert_string_equal(edit_option_name(f->ed), "face");
	click(f, top_a);
	f->in.hand[INP_RIGHT].grip = 1;
	click(f, front_a);
	f->in.hand[INP_RIGHT].grip = 0;
	const struct edit_selection *s = edit_selection(f->ed);
	assert_int_equal(s->n, 2);
	frame(f, nowhere, 0);
	build(f, true, false);
	uint32_t ia = UINT32_MAX;
	const struct gfx_inst *a = inst(f, f->ea, &ia);
	assert_true(a->wire); /* face mode: the selected entity's edges and vertices */
	assert_false(inst(f, f->eb, NULL)->wire);
	assert_int_equal(marks(f, ia, GFX_MARK_FACE), 2);
	float me[4];
	gfx_owner_color(edit_owner(f->ed), me);
	color_is(mark_of(f, s->el[0].id)->color, me);
	color_is(mark_of(f, s->el[1].id)->color, me);

	/* Hovering a third face of cube b: marked white, cube b wired too. */
	const float top_b[3] = { 1, 1.11f, -0.5f };
	frame(f, top_b, 0);
	assert_true(edit_hover(f->ed)->hit);
	build(f, true, false);
	uint32_t ib = UINT32_MAX;
	assert_true(inst(f, f->eb, &ib)->wire);
	assert_int_equal(marks(f, ib, GFX_MARK_FACE), 1);
	const struct gfx_mark *h = mark_of(f, edit_hover(f->ed)->h.element);
	assert_non_null(h);
	static const float white[3] = { 1, 1, 1 };
	color_is(h->color, white);
	/* The cursor is at the tip: the octahedron's vertices average to it. */
	assert_int_equal(f->l.ntri, 24);
	float c[3] = { 0, 0, 0 };
	for (uint32_t i = 0; i < f->l.ntri; i++)
		for (int k = 0; k < 3; k++)
			c[k] += f->l.tri[i].pos[k] / (float)f->l.ntri;
	for (int k = 0; k < 3; k++)
		assert_float_equal(c[k], top_b[k], 1e-5);
	uint32_t select_rgba = f->l.tri[0].rgba;

	/* Without the editor: no selection, no hover, no wire, no cursor. */
	build(f, false, false);
	assert_int_equal(f->l.nmark + f->l.ntri, 0);
	assert_false(inst(f, f->ea, NULL)->wire);

	/* The object mode: the selection tints, no wire. */
	click(f, nowhere); /* clears */
	f->in.hand[INP_RIGHT].thumbstick[0] = -1;
	frame(f, nowhere, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	assert_string_equal(edit_option_name(f->ed), "object");
	click(f, top_a);
	frame(f, nowhere, 0);
	build(f, true, false);
	a = inst(f, f->ea, NULL);
	assert_false(a->wire);
	color_is(a->tint, me);
	assert_int_equal(f->l.nmark, 0);
	/* Hovered too: the tint goes towards white. */
	frame(f, top_a, 0);
	build(f, true, false);
	a = inst(f, f->ea, NULL);
	for (int k = 0; k < 3; k++)
		assert_true(a->tint[k] > me[k] || me[k] > 0.999f);
	/* Hovering the unselected cube: a faint white tint. */
	frame(f, top_b, 0);
	build(f, true, false);
	const struct gfx_inst *b = inst(f, f->eb, NULL);
	color_is(b->tint, white);
	assert_true(b->tint[3] > 0 && b->tint[3] < a->tint[3]); /* fainter than a selection */

	/* Another tool, another cursor colour; the right tip given by the
	 * caller wins over the editor's. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	frame(f, nowhere, 0);
	struct gfx_list_input in = { .w = f->s.w, .scene = f->s.scene, .ed = f->ed, .right_valid = true,
				     .right_tip = { 2, 2, 2 } };
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
	assert_int_equal(f->l.ntri, 24);
	assert_true(f->l.tri[0].rgba != select_rgba);
	for (uint32_t i = 0; i < f->l.ntri; i++)
		for (int k = 0; k < 3; k++)
			assert_true(fabsf(f->l.tri[i].pos[k] - 2) <= 0.0121f);
}

static void the_own_replicated_selection_is_not_drawn_twice(void **state)
{
	struct fx *f = *state;
	f->in.hand[INP_RIGHT].thumbstick[0] = 1;
	frame(f, nowhere, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	click(f, top_a);
	f->in.hand[INP_RIGHT].grip = 1;
	click(f, front_a);
	f->in.hand[INP_RIGHT].grip = 0;
	/* The key comes back with the tool.state's entry; the Selection is
	 * written the next frame and mirrored. */
	deliver(f);
	assert_true(edit_owner(f->ed) == gs_owner(&f->s.a));
	frame(f, nowhere, 0);
	deliver(f);
	sim_entity e = app_scene_entity(f->s.scene, f->ea);
	struct th_c_selection sel;
	assert_int_equal(sim_get(f->s.w, e, TH_COMP_SELECTION, &sel), 0);
	assert_true(sel.owner == gs_owner(&f->s.a));
	build(f, true, false);
	uint32_t ia = UINT32_MAX;
	inst(f, f->ea, &ia);
	assert_int_equal(marks(f, ia, GFX_MARK_FACE), 2); /* the editor's two, not a third */
	/* Another client sees it as a's: one face (the replicated newest). */
	build(f, false, false);
	assert_int_equal(f->l.nmark, 1);
	float ca[4];
	gfx_owner_color(gs_owner(&f->s.a), ca);
	color_is(f->l.mark[0].color, ca);
}

/* While the aim ray reaches (edit_reach), one line in the tool's colour
 * from the aim's origin to the tip; none while it does not. */
static void the_reaching_ray_is_a_line_from_the_aim_to_the_tip(void **state)
{
	struct fx *f = *state;
	struct edit_rays *rays;
	assert_int_equal(edit_rays_create(&rays), 0);
	struct edit_reach reach;
	edit_reach_init(&reach);
	struct inp_controller *r = &f->in.hand[INP_RIGHT];
	/* The hand 1 m in front of cube a's +z face, the aim straight at it (-Z). */
	const float hand[3] = { at_a[0], at_a[1], at_a[2] + 1.0f };
	memcpy(r->pose.position, hand, sizeof hand);
	r->aim = r->pose;
	r->aim.valid = true;
	assert_true(edit_reach_frame(&reach, &f->in, f->ed, rays, app_scene_scene(f->s.scene)));
	struct gfx_list_input in = { .w = f->s.w, .scene = f->s.scene, .ed = f->ed, .reach = &reach,
				     .right_valid = true };
	memcpy(in.right_tip, r->pose.position, sizeof in.right_tip);
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
	assert_int_equal(f->l.nline, 2);
	for (int k = 0; k < 3; k++) {
		assert_float_equal(f->l.line[0].pos[k], hand[k], 1e-6);
		assert_float_equal(f->l.line[1].pos[k], reach.tip[k], 1e-6);
	}
	assert_float_equal(reach.tip[2], at_a[2] + CUBE / 2, 1e-4); /* on the face */
	assert_int_equal(f->l.line[0].rgba, f->l.tri[0].rgba); /* the cursor's colour */
	/* Aimed away: no reach, no line. */
	memcpy(r->pose.position, hand, sizeof hand);
	r->aim.rotation[1] = 1; /* turned half a turn about +y: -Z looks along +z */
	r->aim.rotation[3] = 0;
	assert_false(edit_reach_frame(&reach, &f->in, f->ed, rays, app_scene_scene(f->s.scene)));
	assert_int_equal(gfx_list_build(&f->l, &in), 0);
	assert_int_equal(f->l.nline, 0);
	edit_rays_destroy(&rays);
}

static void a_drag_shows_the_preview(void **state)
{
	struct fx *f = *state;
	/* Move tool, object: grab cube a and drag 10 cm along x. */
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_MOVE), 0);
	frame(f, top_a, 1);
	const float moved[3] = { top_a[0] + 0.1f, top_a[1], top_a[2] };
	frame(f, moved, 1);
	const struct edit_preview *pv = edit_preview(f->ed);
	assert_true(pv->active);
	assert_false(pv->patched);
	build(f, true, false);
	const struct gfx_inst *a = inst(f, f->ea, NULL);
	assert_float_equal(a->model[12], at_a[0] + 0.1f, 1e-5);
	assert_ptr_equal(a->mesh, app_scene_mesh(f->s.scene, f->ma));
	frame(f, moved, 0); /* released: the preview ends */
	build(f, true, false);
	assert_float_equal(inst(f, f->ea, NULL)->model[12], at_a[0], 1e-5); /* not delivered: as before */

	/* Move, face: the face dragged up; the preview's copy of the mesh is
	 * drawn under the same key. The selection cleared first (left menu),
	 * else the grab takes the selected object. */
	f->in.hand[INP_LEFT].pressed = TH_BUTTON_MENU;
	frame(f, nowhere, 0);
	f->in.hand[INP_LEFT].pressed = 0;
	assert_int_equal(edit_selection(f->ed)->entity, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 1;
	frame(f, nowhere, 0);
	f->in.hand[INP_RIGHT].thumbstick[0] = 0;
	assert_string_equal(edit_option_name(f->ed), "face");
	frame(f, top_a, 1);
	const float up[3] = { top_a[0], top_a[1] + 0.05f, top_a[2] };
	frame(f, up, 1);
	assert_true(pv->active && pv->has_mesh && pv->patched);
	build(f, true, false);
	a = inst(f, f->ea, NULL);
	assert_ptr_equal(a->mesh, pv->m);
	assert_true(a->mesh != app_scene_mesh(f->s.scene, f->ma));
	assert_true(a->mesh_key == f->ma);
	assert_float_equal(a->model[12], at_a[0], 1e-5);
	frame(f, up, 0);
}

static void avatars_are_boxes_in_their_owners_colour(void **state)
{
	struct fx *f = *state;
	uint64_t who = gs_owner(&f->s.b);
	const float head[3] = { 0.5f, 1.6f, 1 }, left[3] = { 0.3f, 1.2f, 0.8f };
	struct proto_ipc_pose_update p = { .entity = who, .t_ns = 1, .px = head[0], .py = head[1], .pz = head[2], .qw = 1,
					   .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
	assert_int_equal(app_avatars_on_pose(f->av, &p, 1), 0);
	app_avatars_frame(f->av, 1);
	build(f, false, false);
	assert_int_equal(f->l.ntri, 72); /* head and visor: two boxes */
	p = (struct proto_ipc_pose_update){ .entity = who, .t_ns = 2, .px = left[0], .py = left[1], .pz = left[2], .qw = 1,
					    .flags = PROTO_IPC_POSE_F_LEFT | PROTO_IPC_POSE_F_TRACKED };
	assert_int_equal(app_avatars_on_pose(f->av, &p, 2), 0);
	app_avatars_frame(f->av, 2);
	build(f, false, false);
	assert_int_equal(f->l.ntri, 108);
	/* The head box is centred on the head, its top face in b's colour. */
	float c[3] = { 0, 0, 0 };
	for (uint32_t i = 0; i < 36; i++)
		for (int k = 0; k < 3; k++)
			c[k] += f->l.tri[i].pos[k] / 36;
	for (int k = 0; k < 3; k++)
		assert_float_equal(c[k], head[k], 1e-5);
	float cb[4];
	gfx_owner_color(who, cb);
	uint32_t want = gfx_rgba8(cb[0], cb[1], cb[2], 1);
	bool top = false;
	for (uint32_t i = 0; i < 36; i++)
		top |= f->l.tri[i].rgba == want;
	assert_true(top);
	/* The hand: the last box, around the left hand. */
	for (uint32_t i = 72; i < 108; i++)
		for (int k = 0; k < 3; k++)
			assert_true(fabsf(f->l.tri[i].pos[k] - left[k]) < 0.07f);
	/* Gone quiet: gone. */
	app_avatars_frame(f->av, 2 + APP_AVATARS_TIMEOUT_NS);
	build(f, false, false);
	assert_int_equal(f->l.ntri, 0);
}

/* Others' presence in the list: a cursor octahedron in its tool's colour,
 * a crown of ten over a speaking head, a ghost of the previewed entity at
 * the preview's transform in the previewer's colour (after the scene's
 * instances; an entity not drawn gets none). */
static void others_presence_in_the_list(void **state)
{
	struct fx *f = *state;
	uint64_t who = gs_owner(&f->s.b);
	struct proto_ipc_pose_update hp = { .entity = who, .t_ns = 1, .py = 1.6f, .qw = 1,
					    .flags = PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_TRACKED };
	assert_int_equal(app_avatars_on_pose(f->av, &hp, 1), 0);
	const float q[4] = { 0, 0.38268343f, 0, 0.92387953f }; /* 45 degrees about y */
	struct proto_ipc_presence pr = { .entity = who, .t_ns = 1, .flags = PROTO_IPC_PRES_F_CURSOR, .tool = EDIT_TOOL_EXTRUDE,
					 .cx = 0.5f, .cy = 1.1f, .cz = 0.2f, .target = f->ea, .tx = 2, .ty = 1, .tz = -3,
					 .rx = q[0], .ry = q[1], .rz = q[2], .rw = q[3] };
	assert_int_equal(app_avatars_on_presence(f->av, &pr, 1), 0);
	app_avatars_frame(f->av, 2);
	build(f, false, false);
	uint32_t ninst = f->l.ninst;
	assert_int_equal(f->l.ntri, 72 + 24); /* the head and visor, the cursor */
	float c[3] = { 0, 0, 0 };
	for (uint32_t i = 72; i < 96; i++)
		for (int k = 0; k < 3; k++)
			c[k] += f->l.tri[i].pos[k] / 24;
	assert_float_equal(c[0], 0.5f, 1e-5);
	assert_float_equal(c[2], 0.2f, 1e-5);
	assert_int_equal(f->l.tri[72].rgba, gfx_rgba8(1.0f, 0.5f, 0.05f, 1)); /* extrude's orange */

	pr.t_ns = 2;
	pr.flags = PROTO_IPC_PRES_F_CURSOR | PROTO_IPC_PRES_F_PREVIEW | PROTO_IPC_PRES_F_SPEAKING;
	assert_int_equal(app_avatars_on_presence(f->av, &pr, 3), 0);
	app_avatars_frame(f->av, 3);
	build(f, false, false);
	assert_int_equal(f->l.ntri, 72 + 24 + 10 * 24);
	assert_int_equal(f->l.ninst, ninst + 1);
	const struct gfx_inst *g = &f->l.inst[ninst], *a = inst(f, f->ea, NULL);
	assert_true(g->entity == f->ea && g->mesh == a->mesh && g->wire);
	assert_true(a->ghost[3] == 0);
	float oc[4];
	gfx_owner_color(who, oc);
	assert_memory_equal(g->ghost, oc, 3 * sizeof(float));
	assert_true(g->ghost[3] > 0);
	float want[16];
	gfx_mat4_trs(want, (float[3]){ 2, 1, -3 }, q, NULL);
	for (int k = 0; k < 16; k++)
		assert_float_equal(g->model[k], want[k], 1e-5);
	/* A preview of an entity the scene does not have: no ghost. */
	pr.t_ns = 3;
	pr.target = 0x5151;
	assert_int_equal(app_avatars_on_presence(f->av, &pr, 4), 0);
	build(f, false, false);
	assert_int_equal(f->l.ninst, ninst);
}

static void the_grid_lies_on_the_floor(void **state)
{
	struct fx *f = *state;
	build(f, false, true);
	/* 1 m lines from -5 to 5 both ways (22), 10 cm lines within 1 m but
	 * not on a metre (18 each way, 36). */
	assert_int_equal(f->l.nline, 2 * (22 + 36));
	assert_int_equal(f->l.ntri, 0);
	bool minor = false, x_axis = false;
	for (uint32_t i = 0; i < f->l.nline; i += 2) {
		const float *a = f->l.line[i].pos, *b = f->l.line[i + 1].pos;
		assert_float_equal(a[1], 0, 0);
		assert_float_equal(b[1], 0, 0);
		for (int k = 0; k < 3; k += 2)
			assert_true(fabsf(a[k]) <= 5 && fabsf(b[k]) <= 5);
		assert_int_equal(f->l.line[i].rgba, f->l.line[i + 1].rgba);
		minor |= fabsf(a[2] - 0.1f) < 1e-6 && fabsf(b[2] - 0.1f) < 1e-6 && fabsf(a[0] + 1) < 1e-6;
		x_axis |= a[2] == 0 && b[2] == 0 && a[0] == -5 && b[0] == 5;
	}
	assert_true(minor);
	assert_true(x_axis);
}

static void a_box_is_closed_and_faces_out(void **state)
{
	struct fx *f = *state;
	float m[16];
	const float pos[3] = { 1, 2, 3 }, rot[4] = { 0, 0.38268343f, 0, 0.92387953f }, half[3] = { 0.1f, 0.2f, 0.3f };
	gfx_mat4_trs(m, pos, rot, NULL);
	assert_int_equal(gfx_list_box(&f->l, m, half, gfx_rgba8(1, 0, 0, 1)), 0);
	assert_int_equal(f->l.ntri, 36);
	double area = 0;
	for (uint32_t t = 0; t < 36; t += 3) {
		const float *a = f->l.tri[t].pos, *b = f->l.tri[t + 1].pos, *c = f->l.tri[t + 2].pos;
		float u[3], v[3], n[3], mid[3];
		for (int k = 0; k < 3; k++) {
			u[k] = b[k] - a[k];
			v[k] = c[k] - a[k];
			mid[k] = (a[k] + b[k] + c[k]) / 3 - pos[k];
		}
		n[0] = u[1] * v[2] - u[2] * v[1];
		n[1] = u[2] * v[0] - u[0] * v[2];
		n[2] = u[0] * v[1] - u[1] * v[0];
		assert_true(n[0] * mid[0] + n[1] * mid[1] + n[2] * mid[2] > 0); /* counter-clockwise from outside */
		area += 0.5 * sqrt((double)n[0] * n[0] + (double)n[1] * n[1] + (double)n[2] * n[2]);
	}
	/* The surface of a 0.2 x 0.4 x 0.6 box. */
	assert_float_equal(area, 2 * (0.2 * 0.4 + 0.4 * 0.6 + 0.2 * 0.6), 1e-4);
	const float a[3] = { 0, 0, 0 }, b[3] = { 1, 0, 0 };
	assert_int_equal(gfx_list_segment(&f->l, a, b, 0xffffffffu), 0);
	assert_int_equal(f->l.nline, 2);
	assert_float_equal(f->l.line[1].pos[0], 1, 0);
}

static void owner_colours_are_stable_distinct_and_saturated(void **state)
{
	(void)state;
	enum { N = 256 };
	static float c[N][4];
	uint64_t owners[N];
	for (unsigned i = 0; i < N; i++) /* small ids, and key-like ones */
		owners[i] = i < N / 2 ? i + 1 : edit_owner_of((const uint8_t[32]){ (uint8_t)i, (uint8_t)(i >> 8), 0x5a });
	for (unsigned i = 0; i < N; i++)
		gfx_owner_color(owners[i], c[i]);
	/* Stable: the same again, in another order. */
	for (unsigned i = N; i-- > 0;) {
		float again[4];
		gfx_owner_color(owners[i], again);
		assert_memory_equal(again, c[i], sizeof again);
	}
	for (unsigned i = 0; i < N; i++) {
		float hi = fmaxf(c[i][0], fmaxf(c[i][1], c[i][2])), lo = fminf(c[i][0], fminf(c[i][1], c[i][2]));
		assert_true(hi >= 0.6f);      /* bright */
		assert_true(lo <= 0.15f * hi); /* a hue, never white (the hover) or grey */
		assert_float_equal(c[i][3], 1, 0);
		/* Distinct: every pair differs in 8-bit colour. */
		for (unsigned j = 0; j < i; j++) {
			uint32_t a = gfx_rgba8(c[i][0], c[i][1], c[i][2], 1), b = gfx_rgba8(c[j][0], c[j][1], c[j][2], 1);
			if (a == b)
				fail_msg("owners %016llx and %016llx share a colour", (unsigned long long)owners[i],
					 (unsigned long long)owners[j]);
		}
	}
	/* Hues spread: of the first 64 owners, every sixth of the wheel is
	 * used. */
	unsigned sectors = 0;
	for (unsigned i = 0; i < 64; i++) {
		float r = c[i][0], g = c[i][1], b = c[i][2];
		unsigned s = r >= g && g >= b ? 0 : g > r && r >= b ? 1 : g >= b && b > r ? 2 : b > g && g >= r ? 3 : b > r && r > g ? 4 : 5;
		sectors |= 1u << s;
	}
	assert_int_equal(sectors, 0x3f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(instances_come_from_the_world_and_the_scene, setup, teardown),
		cmocka_unit_test_setup_teardown(materials_come_from_the_scene_table, setup, teardown),
		cmocka_unit_test_setup_teardown(others_selections_show_in_their_owners_colours, setup, teardown),
		cmocka_unit_test_setup_teardown(the_editor_selection_hover_and_wire, setup, teardown),
		cmocka_unit_test_setup_teardown(the_own_replicated_selection_is_not_drawn_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(the_reaching_ray_is_a_line_from_the_aim_to_the_tip, setup, teardown),
		cmocka_unit_test_setup_teardown(a_drag_shows_the_preview, setup, teardown),
		cmocka_unit_test_setup_teardown(avatars_are_boxes_in_their_owners_colour, setup, teardown),
		cmocka_unit_test_setup_teardown(others_presence_in_the_list, setup, teardown),
		cmocka_unit_test_setup_teardown(the_grid_lies_on_the_floor, setup, teardown),
		cmocka_unit_test_setup_teardown(a_box_is_closed_and_faces_out, setup, teardown),
		cmocka_unit_test(owner_colours_are_stable_distinct_and_saturated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
