/* The frame list (gfx_list.h; docs/rendering.md, "The frame list"): pure
 * CPU, rebuilt every frame from the ECS world, the scene mirror, the editor
 * and the avatars into arrays that are reused. */
#include "gfx/gfx_list.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/avatars.h"
#include "app/scene.h"
#include "edit/edit.h"
#include "edit/edit_reach.h"
#include "gfx/gfx_math.h"
#include "sim/query.h"
#include "th_array.h"
#include "th_hash.h"

/* Highlights. Tints are (rgb, strength); marks' alpha is their blend. */
#define GFX_TINT_SELECTED 0.35f  /* a whole object someone selected */
#define GFX_TINT_HOVER 0.2f      /* the object the tool would pick */
#define GFX_HOVER_MIX 0.5f       /* a selected object hovered: its tint this far towards white */
#define GFX_MARK_FACE_ALPHA 0.45f
#define GFX_MARK_HOVER_FACE_ALPHA 0.35f
#define GFX_CLEAR_RGB 0.015f, 0.017f, 0.022f
#define GROW_MIN 64u /* entries an array starts with */

/* The ground grid on y = 0. */
#define GFX_GRID_MAJOR 5      /* 1 m lines from -5 m to 5 m */
#define GFX_GRID_MINOR 10     /* 10 cm lines from -1 m to 1 m */
#define GFX_GRID_MINOR_STEP 0.1f
#define GFX_GRID_MAJOR_RGBA 0.20f, 0.21f, 0.23f, 1.0f
#define GFX_GRID_MINOR_RGBA 0.09f, 0.095f, 0.105f, 1.0f
#define GFX_GRID_X_RGBA 0.45f, 0.08f, 0.08f, 1.0f /* the line along x (z = 0) */
#define GFX_GRID_Z_RGBA 0.08f, 0.12f, 0.45f, 1.0f /* the line along z (x = 0) */

/* Avatars: boxes in the part's space (metres, -z forward). */
static const float head_half[3] = { 0.09f, 0.11f, 0.10f };
static const float visor_half[3] = { 0.075f, 0.03f, 0.012f };
static const float visor_at[3] = { 0, 0.02f, -0.106f };
static const float hand_half[3] = { 0.03f, 0.025f, 0.06f };
#define GFX_AVATAR_VISOR_RGBA 0.02f, 0.02f, 0.025f, 1.0f
#define GFX_AVATAR_HAND_SHADE 0.8f

/* The tool cursor: an octahedron at the tip. */
#define GFX_CURSOR_RADIUS 0.012f
/* A speaking user's crown: octahedra on a ring over the head. */
#define GFX_CROWN_N 10
#define GFX_CROWN_RADIUS 0.13f  /* of the ring, metres */
#define GFX_CROWN_ABOVE 0.2f    /* the ring over the head's centre */
#define GFX_CROWN_DOT 0.018f    /* each octahedron's radius */
#define GFX_CROWN_RGBA 1.0f, 0.95f, 0.6f, 1.0f
#define GFX_GHOST_ALPHA 1.0f
static const float tool_rgb[EDIT_TOOL_MAX + 1][3] = {
	[0] = { 0.8f, 0.8f, 0.8f },
	[EDIT_TOOL_SELECT] = { 0.9f, 0.9f, 0.9f },  [EDIT_TOOL_MOVE] = { 0.1f, 0.6f, 1.0f },
	[EDIT_TOOL_EXTRUDE] = { 1.0f, 0.5f, 0.05f }, [EDIT_TOOL_SUBDIVIDE] = { 0.6f, 0.2f, 1.0f },
	[EDIT_TOOL_VERTEX] = { 1.0f, 0.9f, 0.1f },  [EDIT_TOOL_PRIMITIVE] = { 0.1f, 0.9f, 0.3f },
	[EDIT_TOOL_PAINT] = { 1.0f, 0.2f, 0.6f },   [EDIT_TOOL_DELETE] = { 1.0f, 0.08f, 0.05f },
	[EDIT_TOOL_MIRROR] = { 0.1f, 0.9f, 0.9f },  [EDIT_TOOL_SHAPE] = { 0.7f, 1.0f, 0.2f },
};

/* Materials the scene has not defined. */
static const float default_base[4] = { 0.8f, 0.8f, 0.8f, 1.0f };
#define GFX_DEFAULT_ROUGHNESS 0.5f
#define GFX_DEFAULT_METALLIC 0.0f

/* Owner colours: a fixed key so every client agrees. */
#define GFX_OWNER_SALT 0x7468657461636f6cull /* "thetacol" */
#define GFX_OWNER_SAT_MIN 0.75f
#define GFX_OWNER_VAL_MIN 0.85f

void gfx_list_init(struct gfx_list *l)
{
	memset(l, 0, sizeof *l);
}

void gfx_list_fini(struct gfx_list *l)
{
	free(l->inst);
	free(l->mark);
	free(l->tri);
	free(l->line);
	memset(l, 0, sizeof *l); /* the query is the world's */
}

/* Room for `more` entries of size `size` in *arr (count n, capacity *cap). */
static int grow(void **arr, uint32_t n, uint32_t *cap, uint32_t more, size_t size)
{
	return th_array_grow(arr, cap, (uint64_t)n + more, GROW_MIN, GFX_LIST_CAP_MAX, size);
}

/* ---- colours ------------------------------------------------------------------------------- */

static float srgb_to_linear(float c)
{
	return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f);
}

void gfx_owner_color(uint64_t owner, float rgba[4])
{
	uint8_t b[16];
	uint64_t salt = GFX_OWNER_SALT;
	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t)(owner >> (8 * i));
		b[8 + i] = (uint8_t)(salt >> (8 * i));
	}
	uint64_t h = th_siphash(b, sizeof b);
	/* Hue from 24 bits, saturation and value from 20 bits each: an sRGB
	 * colour that reads as a hue (never white, never grey), made linear. */
	float hue = (float)(h >> 40) / (float)(1u << 24) * 6.0f;
	float sat = GFX_OWNER_SAT_MIN + (1 - GFX_OWNER_SAT_MIN) * (float)((h >> 20) & 0xfffff) / (float)0xfffff;
	float val = GFX_OWNER_VAL_MIN + (1 - GFX_OWNER_VAL_MIN) * (float)(h & 0xfffff) / (float)0xfffff;
	int sector = (int)hue;
	float f = hue - (float)sector, p = val * (1 - sat), q = val * (1 - sat * f), t = val * (1 - sat * (1 - f));
	float rgb[3];
	switch (sector % 6) {
	case 0: rgb[0] = val, rgb[1] = t, rgb[2] = p; break;
	case 1: rgb[0] = q, rgb[1] = val, rgb[2] = p; break;
	case 2: rgb[0] = p, rgb[1] = val, rgb[2] = t; break;
	case 3: rgb[0] = p, rgb[1] = q, rgb[2] = val; break;
	case 4: rgb[0] = t, rgb[1] = p, rgb[2] = val; break;
	default: rgb[0] = val, rgb[1] = p, rgb[2] = q; break;
	}
	for (int k = 0; k < 3; k++)
		rgba[k] = srgb_to_linear(rgb[k]);
	rgba[3] = 1;
}

static uint32_t rgba8v(const float c[4])
{
	return gfx_rgba8(c[0], c[1], c[2], c[3]);
}

static uint32_t shade(uint32_t rgba, float s)
{
	uint32_t out = rgba & 0xff000000u;
	for (int k = 0; k < 3; k++) {
		float v = (float)((rgba >> (8 * k)) & 0xff) * s + 0.5f;
		out |= (uint32_t)(v > 255 ? 255 : v) << (8 * k);
	}
	return out;
}

/* ---- overlay ------------------------------------------------------------------------------- */

static int tri(struct gfx_list *l, const float a[3], const float b[3], const float c[3], uint32_t rgba)
{
	int r = grow((void **)&l->tri, l->ntri, &l->cap_tri, 3, sizeof *l->tri);
	if (r < 0)
		return r;
	struct gfx_overlay_vertex *v = &l->tri[l->ntri];
	memcpy(v[0].pos, a, sizeof v[0].pos);
	memcpy(v[1].pos, b, sizeof v[1].pos);
	memcpy(v[2].pos, c, sizeof v[2].pos);
	v[0].rgba = v[1].rgba = v[2].rgba = rgba;
	l->ntri += 3;
	return 0;
}

int gfx_list_segment(struct gfx_list *l, const float a[3], const float b[3], uint32_t rgba)
{
	int r = grow((void **)&l->line, l->nline, &l->cap_line, 2, sizeof *l->line);
	if (r < 0)
		return r;
	struct gfx_overlay_vertex *v = &l->line[l->nline];
	memcpy(v[0].pos, a, sizeof v[0].pos);
	memcpy(v[1].pos, b, sizeof v[1].pos);
	v[0].rgba = v[1].rgba = rgba;
	l->nline += 2;
	return 0;
}

/* A box's faces: corners (bit 0 x, bit 1 y, bit 2 z: + when set)
 * counter-clockwise seen from outside. One flat colour: the overlay's
 * fragment shader shades triangles by their normal. */
static const uint8_t box_faces[6][4] = {
	{ 1, 3, 7, 5 }, /* +x */
	{ 0, 4, 6, 2 }, /* -x */
	{ 2, 6, 7, 3 }, /* +y */
	{ 0, 1, 5, 4 }, /* -y */
	{ 4, 5, 7, 6 }, /* +z */
	{ 0, 2, 3, 1 }, /* -z */
};

int gfx_list_box(struct gfx_list *l, const float model[16], const float half[3], uint32_t rgba)
{
	float w[8][3];
	for (int i = 0; i < 8; i++) {
		float p[3] = { (i & 1) ? half[0] : -half[0], (i & 2) ? half[1] : -half[1], (i & 4) ? half[2] : -half[2] };
		gfx_mat4_apply_point(model, p, w[i]);
	}
	int r = grow((void **)&l->tri, l->ntri, &l->cap_tri, 36, sizeof *l->tri);
	for (int f = 0; f < 6 && r == 0; f++) {
		const uint8_t *c = box_faces[f];
		r = tri(l, w[c[0]], w[c[1]], w[c[2]], rgba);
		if (r == 0)
			r = tri(l, w[c[0]], w[c[2]], w[c[3]], rgba);
	}
	return r;
}

/* The octahedron of radius r at p, counter-clockwise from outside. */
static int octahedron(struct gfx_list *l, const float p[3], float r, uint32_t rgba)
{
	int rv = grow((void **)&l->tri, l->ntri, &l->cap_tri, 24, sizeof *l->tri);
	for (int f = 0; f < 8 && rv == 0; f++) {
		float sx = (f & 1) ? r : -r, sy = (f & 2) ? r : -r, sz = (f & 4) ? r : -r;
		float x[3] = { p[0] + sx, p[1], p[2] }, y[3] = { p[0], p[1] + sy, p[2] }, z[3] = { p[0], p[1], p[2] + sz };
		/* x, y, z is counter-clockwise from outside when the octant's
		 * sign product is positive. */
		bool ccw = (sx > 0) == ((sy > 0) == (sz > 0));
		rv = ccw ? tri(l, x, y, z, rgba) : tri(l, x, z, y, rgba);
	}
	return rv;
}

static int grid(struct gfx_list *l)
{
	uint32_t major = gfx_rgba8(GFX_GRID_MAJOR_RGBA), minor = gfx_rgba8(GFX_GRID_MINOR_RGBA);
	uint32_t xaxis = gfx_rgba8(GFX_GRID_X_RGBA), zaxis = gfx_rgba8(GFX_GRID_Z_RGBA);
	int r = 0;
	float e = (float)GFX_GRID_MAJOR, m = GFX_GRID_MINOR * GFX_GRID_MINOR_STEP;
	for (int i = -GFX_GRID_MINOR; i <= GFX_GRID_MINOR && r == 0; i++) {
		if (i % GFX_GRID_MINOR == 0)
			continue; /* a 1 m line */
		float c = (float)i * GFX_GRID_MINOR_STEP;
		float a[3] = { -m, 0, c }, b[3] = { m, 0, c }, d[3] = { c, 0, -m }, f[3] = { c, 0, m };
		r = gfx_list_segment(l, a, b, minor);
		if (r == 0)
			r = gfx_list_segment(l, d, f, minor);
	}
	for (int i = -GFX_GRID_MAJOR; i <= GFX_GRID_MAJOR && r == 0; i++) {
		float c = (float)i;
		float a[3] = { -e, 0, c }, b[3] = { e, 0, c }, d[3] = { c, 0, -e }, f[3] = { c, 0, e };
		r = gfx_list_segment(l, a, b, i == 0 ? xaxis : major);
		if (r == 0)
			r = gfx_list_segment(l, d, f, i == 0 ? zaxis : major);
	}
	return r;
}

static int avatar(struct gfx_list *l, const struct app_avatar *u)
{
	float c[4];
	gfx_owner_color(u->entity, c);
	uint32_t body = rgba8v(c), hand = shade(body, GFX_AVATAR_HAND_SHADE);
	const struct th_c_tracked_pose *t = &u->pose;
	float m[16];
	int r = 0;
	if (t->valid & TH_POSE_VALID_HEAD) {
		gfx_mat4_trs(m, t->head_position, t->head_rotation, NULL);
		r = gfx_list_box(l, m, head_half, body);
		float off[16], visor[16];
		static const float ident[4] = { 0, 0, 0, 1 };
		gfx_mat4_trs(off, visor_at, ident, NULL);
		gfx_mat4_mul(visor, m, off);
		if (r == 0)
			r = gfx_list_box(l, visor, visor_half, gfx_rgba8(GFX_AVATAR_VISOR_RGBA));
	}
	if (r == 0 && (t->valid & TH_POSE_VALID_LEFT)) {
		gfx_mat4_trs(m, t->left_position, t->left_rotation, NULL);
		r = gfx_list_box(l, m, hand_half, hand);
	}
	if (r == 0 && (t->valid & TH_POSE_VALID_RIGHT)) {
		gfx_mat4_trs(m, t->right_position, t->right_rotation, NULL);
		r = gfx_list_box(l, m, hand_half, hand);
	}
	return r;
}

/* Another user's cursor, and a crown over the head while they speak. */
static int presence(struct gfx_list *l, const struct app_avatar *u)
{
	int r = 0;
	if (u->pres.flags & PROTO_IPC_PRES_F_CURSOR) {
		const float *rgb = tool_rgb[u->pres.tool <= EDIT_TOOL_MAX ? u->pres.tool : 0];
		r = octahedron(l, u->pres.cursor, GFX_CURSOR_RADIUS, gfx_rgba8(rgb[0], rgb[1], rgb[2], 1));
	}
	if (r < 0 || !(u->pres.flags & PROTO_IPC_PRES_F_SPEAKING) || !(u->pose.valid & TH_POSE_VALID_HEAD))
		return r;
	const float *h = u->pose.head_position;
	for (int i = 0; i < GFX_CROWN_N && r == 0; i++) {
		float a = 2.0f * (float)M_PI * (float)i / GFX_CROWN_N;
		float p[3] = { h[0] + GFX_CROWN_RADIUS * cosf(a), h[1] + GFX_CROWN_ABOVE, h[2] + GFX_CROWN_RADIUS * sinf(a) };
		r = octahedron(l, p, GFX_CROWN_DOT, gfx_rgba8(GFX_CROWN_RGBA));
	}
	return r;
}

/* ---- instances and highlights ------------------------------------------------------------------ */

static int add_mark(struct gfx_list *l, uint32_t inst, uint32_t kind, uint64_t element, uint64_t a, uint64_t b,
		    const float rgb[3], float alpha)
{
	int r = grow((void **)&l->mark, l->nmark, &l->cap_mark, 1, sizeof *l->mark);
	if (r < 0)
		return r;
	struct gfx_mark *k = &l->mark[l->nmark++];
	*k = (struct gfx_mark){ .inst = inst, .kind = kind, .element = element, .a = a, .b = b,
				.color = { rgb[0], rgb[1], rgb[2], alpha } };
	return 0;
}

/* The live half-edge between vertex ids a and b (either way): true. */
static bool edge_exists(const struct th_mesh *m, uint64_t a, uint64_t b)
{
	int32_t va = th_mesh_vert_find(m, a), vb = th_mesh_vert_find(m, b);
	return va != TH_MESH_NONE && vb != TH_MESH_NONE &&
	       (th_mesh_he_find(m, va, vb) != TH_MESH_NONE || th_mesh_he_find(m, vb, va) != TH_MESH_NONE);
}

/* The vertices of the edge named element (th_mesh_edge_id) in m: true with
 * *a < *b. Remembered per mesh and element (checked again each frame), so
 * a selection costs a walk of the half-edges once. */
static bool edge_vertices(struct gfx_list *l, const struct th_mesh *m, uint64_t element, uint64_t *a, uint64_t *b)
{
	for (uint32_t i = 0; i < l->nedge; i++) {
		struct gfx_edge_memo *e = &l->edge[i];
		if (e->mesh == m->id && e->element == element && edge_exists(m, e->a, e->b)) {
			*a = e->a;
			*b = e->b;
			return true;
		}
	}
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *he = &m->hes[h];
		if (he->vert == TH_MESH_NONE)
			continue;
		uint64_t va = m->verts[he->vert].id, vb = m->verts[m->hes[he->next].vert].id;
		if (th_mesh_edge_id(va, vb) != element)
			continue;
		*a = va < vb ? va : vb;
		*b = va < vb ? vb : va;
		struct gfx_edge_memo *e = &l->edge[l->edge_next];
		*e = (struct gfx_edge_memo){ .mesh = m->id, .element = element, .a = *a, .b = *b };
		l->edge_next = (l->edge_next + 1) % GFX_LIST_EDGE_MEMO;
		if (l->nedge < GFX_LIST_EDGE_MEMO)
			l->nedge++;
		return true;
	}
	return false;
}

/* One element of instance i highlighted: marked when it exists in the
 * instance's mesh this frame (an edge by its vertices a, b when known, else
 * by its id). */
static int mark_element(struct gfx_list *l, uint32_t i, uint32_t mode, uint64_t element, uint64_t a, uint64_t b,
			const float rgb[3], float face_alpha)
{
	const struct th_mesh *m = l->inst[i].mesh;
	switch (mode) {
	case TH_SELECT_FACE:
		if (th_mesh_face_find(m, element) == TH_MESH_NONE)
			return 0;
		return add_mark(l, i, GFX_MARK_FACE, element, 0, 0, rgb, face_alpha);
	case TH_SELECT_VERTEX:
		if (th_mesh_vert_find(m, element) == TH_MESH_NONE)
			return 0;
		return add_mark(l, i, GFX_MARK_VERTEX, element, 0, 0, rgb, 1);
	case TH_SELECT_EDGE:
		if (a && b ? !edge_exists(m, a, b) : !edge_vertices(l, m, element, &a, &b))
			return 0;
		return add_mark(l, i, GFX_MARK_EDGE, element, a < b ? a : b, a < b ? b : a, rgb, 1);
	}
	return 0;
}

static void tint(struct gfx_inst *in, const float rgb[3], float strength)
{
	memcpy(in->tint, rgb, 3 * sizeof(float));
	in->tint[3] = strength;
}

/* Instance index of scene entity, or UINT32_MAX. */
static uint32_t inst_of(const struct gfx_list *l, uint64_t entity)
{
	for (uint32_t i = 0; entity && i < l->ninst; i++)
		if (l->inst[i].entity == entity)
			return i;
	return UINT32_MAX;
}

/* A Selection someone replicated, on instance i. */
static int selection(struct gfx_list *l, uint32_t i, const struct th_c_selection *s)
{
	float c[4];
	gfx_owner_color(s->owner, c);
	if (s->mode == TH_SELECT_OBJECT || s->element == TH_SELECT_WHOLE) {
		tint(&l->inst[i], c, GFX_TINT_SELECTED);
		return 0;
	}
	return mark_element(l, i, s->mode, s->element, 0, 0, c, GFX_MARK_FACE_ALPHA);
}

/* The world's drawable entities, their mesh from the scene (or the
 * editor's preview), others' selections. */
static int instances(struct gfx_list *l, const struct gfx_list_input *in)
{
	if (!in->scene || !in->w)
		return 0;
	if (l->qw != in->w || !l->q) {
		int comp = sim_component_find(in->w, th_siphash_str(APP_SCENE_COMPONENT));
		if (comp < 0)
			return 0; /* no mirror on this world yet */
		struct sim_query_desc d = { .with = SIM_BIT(comp) | SIM_BIT(TH_COMP_TRANSFORM) | SIM_BIT(TH_COMP_MESH_REF) };
		int r = sim_query_create(in->w, &d, &l->q);
		if (r < 0)
			return r;
		l->qw = in->w;
		l->scene_comp = (unsigned)comp;
	}
	const struct edit_preview *pv = in->ed ? edit_preview(in->ed) : NULL;
	uint64_t me = in->ed ? edit_owner(in->ed) : 0;
	int r = 0;
	struct sim_iter it;
	sim_iter_init(&it, in->w, l->q);
	while (r == 0 && sim_iter_next(&it)) {
		const uint64_t *ids = sim_iter_field(&it, l->scene_comp, 0);
		for (uint32_t row = 0; ids && row < it.count && r == 0; row++) {
			struct th_c_transform xf;
			struct th_c_mesh_ref mr;
			if (sim_iter_get(&it, TH_COMP_TRANSFORM, row, &xf) < 0 || sim_iter_get(&it, TH_COMP_MESH_REF, row, &mr) < 0)
				continue;
			const struct th_mesh *m = mr.mesh ? app_scene_mesh(in->scene, mr.mesh) : NULL;
			if (!m)
				continue;
			if (pv && pv->active && pv->entity == ids[row]) {
				xf = pv->xf;
				if (pv->has_mesh && pv->patched && pv->m && pv->mesh == mr.mesh)
					m = pv->m;
			}
			if ((r = grow((void **)&l->inst, l->ninst, &l->cap_inst, 1, sizeof *l->inst)) < 0)
				break;
			uint32_t i = l->ninst++;
			struct gfx_inst *g = &l->inst[i];
			*g = (struct gfx_inst){ .entity = ids[row], .mesh_key = mr.mesh, .mesh = m,
						.material = mr.material < GFX_MATERIALS ? mr.material : 0,
						.smooth = mr.flags & GFX_MESHREF_SMOOTH };
			gfx_mat4_trs(g->model, xf.position, xf.rotation, xf.scale);
			l->triangles += m->live_hes - 2ull * m->live_faces; /* a face of n corners: n - 2 */
			/* Others' selections; this user's own comes from the editor
			 * (all its elements, not only the replicated newest). */
			struct th_c_selection s;
			if (sim_iter_get(&it, TH_COMP_SELECTION, row, &s) == 0 && !(in->ed && me && s.owner == me))
				r = selection(l, i, &s);
		}
	}
	if (r < 0)
		sim_iter_end(&it);
	return r;
}

/* The local user's selection (in the user's colour), the hover (white),
 * the wire of the selected / hovered entity in edit modes. */
static int editor(struct gfx_list *l, const struct edit *ed)
{
	const struct edit_selection *s = edit_selection(ed);
	const struct edit_hover *h = edit_hover(ed);
	uint32_t mode = edit_tool_mode(ed);
	bool edit_mode = mode == TH_SELECT_FACE || mode == TH_SELECT_EDGE || mode == TH_SELECT_VERTEX;
	float c[4];
	gfx_owner_color(edit_owner(ed), c);
	int r = 0;
	uint32_t i = inst_of(l, s->entity);
	if (i != UINT32_MAX) {
		l->inst[i].wire |= edit_mode;
		if (s->mode == TH_SELECT_OBJECT)
			tint(&l->inst[i], c, GFX_TINT_SELECTED);
		for (unsigned k = 0; k < s->n && r == 0; k++)
			r = mark_element(l, i, s->mode, s->el[k].id, s->el[k].a, s->el[k].b, c, GFX_MARK_FACE_ALPHA);
	}
	if (r < 0 || !h->hit || (i = inst_of(l, h->h.entity)) == UINT32_MAX)
		return r;
	static const float white[3] = { 1, 1, 1 };
	struct gfx_inst *g = &l->inst[i];
	g->wire |= edit_mode;
	if (h->h.mode != TH_SELECT_OBJECT)
		return mark_element(l, i, h->h.mode, h->h.element, h->h.a, h->h.b, white, GFX_MARK_HOVER_FACE_ALPHA);
	if (g->tint[3] > 0) {
		for (int k = 0; k < 3; k++)
			g->tint[k] += (1 - g->tint[k]) * GFX_HOVER_MIX;
	} else {
		tint(g, white, GFX_TINT_HOVER);
	}
	return 0;
}

/* Others' drag previews: the previewed instance again at the preview's
 * position and rotation (its own scale), as a ghost in the previewer's
 * colour. Only entities drawn this frame (scene instances). */
static int ghosts(struct gfx_list *l, const struct app_avatars *av)
{
	uint32_t nscene = l->ninst;
	int r = 0;
	for (unsigned i = 0; r == 0 && i < app_avatars_count(av); i++) {
		const struct app_avatar *u = app_avatars_get(av, i);
		if (!(u->pres.flags & PROTO_IPC_PRES_F_PREVIEW))
			continue;
		uint32_t k = UINT32_MAX;
		for (uint32_t j = 0; j < nscene && k == UINT32_MAX; j++)
			if (l->inst[j].entity == u->pres.target)
				k = j;
		if (k == UINT32_MAX)
			continue;
		if ((r = grow((void **)&l->inst, l->ninst, &l->cap_inst, 1, sizeof *l->inst)) < 0)
			break;
		struct gfx_inst *g = &l->inst[l->ninst];
		*g = l->inst[k];
		/* The instance's scale: the length of its model's columns. */
		float s[3];
		for (int c = 0; c < 3; c++)
			s[c] = sqrtf(g->model[4 * c] * g->model[4 * c] + g->model[4 * c + 1] * g->model[4 * c + 1] +
				     g->model[4 * c + 2] * g->model[4 * c + 2]);
		gfx_mat4_trs(g->model, u->pres.position, u->pres.rotation, s);
		memset(g->tint, 0, sizeof g->tint);
		gfx_owner_color(u->entity, g->ghost);
		g->ghost[3] = GFX_GHOST_ALPHA;
		g->wire = true;
		l->ninst++;
	}
	return r;
}

static void materials(struct gfx_list *l, const struct app_scene *scene)
{
	for (unsigned i = 0; i < GFX_MATERIALS; i++) {
		const struct th_scene_material *m = scene ? app_scene_material(scene, i) : NULL;
		if (m && m->defined) {
			memcpy(l->material[i], m->base_color, sizeof l->material[i]);
			l->roughness[i] = m->roughness;
			l->metallic[i] = m->metallic;
		} else {
			memcpy(l->material[i], default_base, sizeof l->material[i]);
			l->roughness[i] = GFX_DEFAULT_ROUGHNESS;
			l->metallic[i] = GFX_DEFAULT_METALLIC;
		}
	}
}

int gfx_list_build(struct gfx_list *l, const struct gfx_list_input *in)
{
	l->ninst = l->nmark = l->ntri = l->nline = 0;
	l->triangles = 0;
	l->ui = in->ui;
	static const float clear[4] = { GFX_CLEAR_RGB, 1.0f };
	memcpy(l->clear, clear, sizeof l->clear);
	materials(l, in->scene);
	int r = instances(l, in);
	if (r == 0 && in->ed)
		r = editor(l, in->ed);
	if (r == 0 && in->grid)
		r = grid(l);
	if (r == 0)
		r = ghosts(l, in->avatars);
	for (unsigned i = 0; r == 0 && i < app_avatars_count(in->avatars); i++)
		r = avatar(l, app_avatars_get(in->avatars, i));
	for (unsigned i = 0; r == 0 && i < app_avatars_count(in->avatars); i++)
		r = presence(l, app_avatars_get(in->avatars, i));
	if (r == 0 && in->ed) {
		const struct edit_hover *h = edit_hover(in->ed);
		const float *tip = in->right_valid ? in->right_tip : h->tracked ? h->tip : NULL;
		uint32_t tool = edit_tool(in->ed);
		const float *rgb = tool_rgb[tool <= EDIT_TOOL_MAX ? tool : 0];
		if (tip)
			r = octahedron(l, tip, GFX_CURSOR_RADIUS, gfx_rgba8(rgb[0], rgb[1], rgb[2], 1));
		if (r == 0 && in->reach && in->reach->reaching)
			r = gfx_list_segment(l, in->reach->origin, in->reach->tip, gfx_rgba8(rgb[0], rgb[1], rgb[2], 1));
	}
	return r;
}
