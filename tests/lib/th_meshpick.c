/* Random mesh operations and start meshes for the property test and the
 * fuzzer (th_meshpick.h). */
#include "th_meshpick.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MP_SET_MAX 8u      /* elements in one picked set */
#define MP_MISSING_ID UINT64_C(0x6d697373696e6721) /* an id no mesh here holds */

/* ---- picking elements ---------------------------------------------------- */

/* A random live face's slot (m has faces). */
static int32_t live_face(const struct th_mesh *m, struct mp_src *s)
{
	uint32_t start = mp_pick(s, m->nfaces);
	for (uint32_t k = 0; k < m->nfaces; k++) {
		uint32_t f = (start + k) % m->nfaces;
		if (m->faces[f].id)
			return (int32_t)f;
	}
	return TH_MESH_NONE;
}

static int32_t live_vert(const struct th_mesh *m, struct mp_src *s)
{
	uint32_t start = mp_pick(s, m->nverts);
	for (uint32_t k = 0; k < m->nverts; k++) {
		uint32_t v = (start + k) % m->nverts;
		if (m->verts[v].id)
			return (int32_t)v;
	}
	return TH_MESH_NONE;
}

/* A set of up to MP_SET_MAX distinct faces (or vertices); now and then one
 * missing or repeated, which sets *bad. Returns the count. */
static unsigned pick_set(const struct th_mesh *m, struct mp_src *s, bool faces, uint64_t *ids, bool *bad)
{
	uint32_t live = faces ? m->live_faces : m->live_verts;
	unsigned want = 1 + mp_pick(s, live < MP_SET_MAX ? live : MP_SET_MAX), n = 0;
	for (unsigned tries = 0; n < want && tries < 4 * MP_SET_MAX; tries++) {
		int32_t x = faces ? live_face(m, s) : live_vert(m, s);
		uint64_t id = faces ? m->faces[x].id : m->verts[x].id;
		bool dup = false;
		for (unsigned i = 0; i < n; i++)
			dup |= ids[i] == id;
		if (!dup)
			ids[n++] = id;
	}
	switch (mp_pick(s, 24)) {
	case 0:
		ids[n++] = MP_MISSING_ID;
		*bad = true;
		break;
	case 1:
		ids[n] = ids[mp_pick(s, n)];
		n++;
		*bad = true;
		break;
	default:
		break;
	}
	return n;
}

static const float mp_distances[] = { 0.0f, 1e-4f, 0.01f, 0.2f, 0.45f, 0.8f, 1.5f };

/* ---- the operations -------------------------------------------------------- */

static void run_subdivide(const struct th_mesh *m, struct mp_src *s, struct th_patch *out, struct mp_call *c)
{
	uint64_t ids[MP_SET_MAX + 1];
	unsigned n = pick_set(m, s, true, ids, &c->must_refuse);
	c->euler_delta = 0;
	c->r = th_op_subdivide(m, ids, n, out, &c->why);
}

static void run_catmull_clark(const struct th_mesh *m, struct mp_src *s, uint32_t face_cap, struct th_patch *out,
			      struct mp_call *c)
{
	unsigned levels = 1;
	uint64_t faces = m->live_hes;
	while (levels < TH_OP_CC_LEVELS_MAX && faces * 4 <= face_cap && mp_pick(s, 3) == 0) {
		levels++;
		faces *= 4;
	}
	if (mp_pick(s, 32) == 0) { /* out of range */
		levels = mp_pick(s, 2) ? 0 : TH_OP_CC_LEVELS_MAX + 1;
		c->must_refuse = true;
	}
	c->euler_delta = 0;
	c->r = th_op_catmull_clark(m, levels, out, &c->why);
}

static void run_weld(const struct th_mesh *m, struct mp_src *s, struct th_patch *out, struct mp_call *c)
{
	float d = mp_distances[mp_pick(s, sizeof(mp_distances) / sizeof(mp_distances[0]))];
	if (mp_pick(s, 32) == 0) {
		d = mp_pick(s, 2) ? -1.0f : NAN;
		c->must_refuse = true;
	}
	c->euler_delta = MP_EULER_ANY;
	if (mp_pick(s, 2)) {
		c->r = th_op_weld(m, NULL, 0, d, out, &c->why);
		return;
	}
	uint64_t ids[MP_SET_MAX + 1];
	unsigned n = pick_set(m, s, false, ids, &c->must_refuse);
	c->r = th_op_weld(m, ids, n, d, out, &c->why);
}

static float small(struct mp_src *s, float step) { return step * ((float)mp_pick(s, 9) - 4.0f); }

static void run_transform(const struct th_mesh *m, struct mp_src *s, struct th_patch *out, struct mp_call *c)
{
	struct th_affine a;
	float pivot[3] = { small(s, 0.25f), small(s, 0.25f), small(s, 0.25f) };
	switch (mp_pick(s, 3)) {
	case 0: {
		float d[3] = { small(s, 0.125f), small(s, 0.5f), small(s, 0.125f) };
		th_affine_translate(&a, d);
		break;
	}
	case 1: {
		float q[4] = { small(s, 0.25f), small(s, 0.25f), small(s, 0.25f), 1.0f };
		th_affine_rotate(&a, q, pivot);
		break;
	}
	default: {
		static const float scales[] = { 0.5f, 2.0f, -1.0f, 1.0f, 0.25f };
		float sc[3];
		for (int d = 0; d < 3; d++)
			sc[d] = scales[mp_pick(s, sizeof(scales) / sizeof(scales[0]))];
		if (mp_pick(s, 16) == 0) { /* singular */
			sc[mp_pick(s, 3)] = 0.0f;
			c->must_refuse = true;
		}
		th_affine_scale(&a, sc, pivot);
		break;
	}
	}
	if (mp_pick(s, 32) == 0) { /* not finite */
		a.m[mp_pick(s, 3)][mp_pick(s, 4)] = mp_pick(s, 2) ? NAN : INFINITY;
		c->must_refuse = true;
	}
	c->euler_delta = 0;
	uint64_t ids[MP_SET_MAX + 1];
	switch (mp_pick(s, 3)) {
	case 0:
		c->r = th_op_transform(m, NULL, 0, &a, out, &c->why);
		return;
	case 1: {
		unsigned n = pick_set(m, s, false, ids, &c->must_refuse);
		c->r = th_op_transform(m, ids, n, &a, out, &c->why);
		return;
	}
	default: {
		/* the vertices of some faces (when there are faces) */
		uint64_t faces[MP_SET_MAX + 1], verts[MP_SET_MAX * TH_MESH_FACE_VERTS_MAX];
		if (!m->live_faces) {
			c->r = th_op_transform(m, NULL, 0, &a, out, &c->why);
			return;
		}
		bool bad = false;
		unsigned nf = pick_set(m, s, true, faces, &bad);
		int nv = th_op_vertices_of(m, faces, nf, NULL, NULL, 0, verts, sizeof(verts) / sizeof(verts[0]));
		if (bad) { /* a missing or repeated face: th_op_vertices_of must refuse it */
			c->must_refuse = true;
			c->r = nv == -EINVAL ? -EINVAL : -EIO;
			c->why = "faces: th_op_vertices_of refused the set";
			return;
		}
		if (nv < 0) { /* -EIO or -ENOBUFS: the caller fails on the code */
			c->r = nv == -EINVAL ? -EIO : nv;
			return;
		}
		c->r = th_op_transform(m, verts, (unsigned)nv, &a, out, &c->why);
		return;
	}
	}
}

static const char *const mp_names[MP_OPS] = {
	[MP_SUBDIVIDE] = "subdivide",
	[MP_CATMULL_CLARK] = "catmull_clark",
	[MP_WELD] = "weld",
	[MP_TRANSFORM] = "transform",
};

const char *mp_op_name(enum mp_op op) { return op < MP_OPS ? mp_names[op] : "?"; }

/* Whether op may run on m: faces to work on, growth under the cap. */
static bool fits(const struct th_mesh *m, enum mp_op op, uint32_t face_cap)
{
	switch (op) {
	case MP_SUBDIVIDE:
		return m->live_faces && m->live_hes <= face_cap;
	case MP_CATMULL_CLARK:
		return m->live_faces && m->live_hes <= face_cap;
	case MP_WELD:
	case MP_TRANSFORM:
		return m->live_verts > 0;
	default:
		return false;
	}
}

void mp_run(const struct th_mesh *m, struct mp_src *s, uint32_t face_cap, struct th_patch *out,
	    struct mp_call *c)
{
	enum mp_op op = (enum mp_op)mp_pick(s, MP_OPS);
	for (unsigned k = 0; k < MP_OPS && !fits(m, op, face_cap); k++)
		op = (enum mp_op)((op + 1) % MP_OPS);
	memset(c, 0, sizeof(*c));
	c->op = op;
	c->name = mp_names[op];
	if (!fits(m, op, face_cap)) { /* an empty mesh: a weld of nothing */
		c->op = MP_WELD;
		c->name = mp_names[MP_WELD];
		c->euler_delta = 0;
		c->r = th_op_weld(m, NULL, 0, 0.1f, out, &c->why);
		return;
	}
	switch (op) {
	case MP_SUBDIVIDE:
		run_subdivide(m, s, out, c);
		break;
	case MP_CATMULL_CLARK:
		run_catmull_clark(m, s, face_cap, out, c);
		break;
	case MP_TRANSFORM:
		run_transform(m, s, out, c);
		break;
	case MP_WELD:
	default:
		run_weld(m, s, out, c);
		break;
	}
}

/* ---- start meshes ------------------------------------------------------------ */

static const float cube_pos[8][3] = {
	{ 0, 0, 0 }, { 1, 0, 0 }, { 1, 1, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 0, 1 }, { 1, 1, 1 }, { 0, 1, 1 },
};
static const uint8_t cube_faces[6][4] = {
	{ 0, 3, 2, 1 }, { 4, 5, 6, 7 }, { 0, 1, 5, 4 }, { 2, 3, 7, 6 }, { 0, 4, 7, 3 }, { 1, 2, 6, 5 },
};

/* A unit cube moved by dx, without face `skip` (-1: none), into p. */
static int add_cube(struct th_patch *p, float dx, int skip)
{
	uint32_t ref[8];
	for (unsigned i = 0; i < 8; i++) {
		float q[3] = { cube_pos[i][0] + dx, cube_pos[i][1], cube_pos[i][2] };
		int r = th_patch_vertex_add(p, q);
		if (r < 0)
			return r;
		ref[i] = (uint32_t)r;
	}
	for (unsigned f = 0; f < 6; f++) {
		if ((int)f == skip)
			continue;
		struct th_pref c[4];
		for (unsigned k = 0; k < 4; k++)
			c[k] = th_pref_local(ref[cube_faces[f][k]]);
		int r = th_patch_face_add(p, f, c, 4);
		if (r < 0)
			return r;
	}
	return 0;
}

/* nx x nz unit quads in y = 0, facing +y. */
static int add_grid(struct th_patch *p, unsigned nx, unsigned nz)
{
	uint32_t ref[(MP_SET_MAX + 1) * (MP_SET_MAX + 1)];
	for (unsigned z = 0; z <= nz; z++)
		for (unsigned x = 0; x <= nx; x++) {
			float q[3] = { (float)x, 0, (float)z };
			int r = th_patch_vertex_add(p, q);
			if (r < 0)
				return r;
			ref[z * (nx + 1) + x] = (uint32_t)r;
		}
	for (unsigned z = 0; z < nz; z++)
		for (unsigned x = 0; x < nx; x++) {
			unsigned a = z * (nx + 1) + x;
			struct th_pref c[4] = { th_pref_local(ref[a]), th_pref_local(ref[a + nx + 1]),
						th_pref_local(ref[a + nx + 2]), th_pref_local(ref[a + 1]) };
			int r = th_patch_face_add(p, (x + z) % 3, c, 4);
			if (r < 0)
				return r;
		}
	return 0;
}

int mp_start(struct th_mesh *m, uint64_t id, struct mp_src *s)
{
	static const uint8_t author[32] = { 0x5e };
	struct th_patch p;
	const char *why = NULL;
	int r = th_mesh_init(m, id);
	if (r)
		return r;
	th_patch_init(&p);
	switch (mp_pick(s, 6)) {
	case 0:
		r = add_cube(&p, 0, -1);
		break;
	case 4:
	case 5: { /* a small primitive of any kind */
		struct th_prim pp;
		th_prim_defaults(&pp, 1 + mp_pick(s, TH_PRIM_MAX));
		pp.segments = 3 + mp_pick(s, 6);
		pp.rings = 3 + mp_pick(s, 3);
		pp.subdiv = pp.kind == TH_PRIM_ICOSPHERE ? mp_pick(s, 2) : mp_pick(s, 3);
		pp.material = mp_pick(s, 4);
		r = th_op_primitive(&pp, &p, &why);
		break;
	}
	case 1:
		r = add_grid(&p, 1 + mp_pick(s, MP_SET_MAX), 1 + mp_pick(s, MP_SET_MAX));
		break;
	case 2: /* open sides facing each other at x = 1 */
		if (!(r = add_cube(&p, 0, 5)))
			r = add_cube(&p, 1, 4);
		break;
	default: {
		float q[3] = { 3, 0.5f, -2 };
		if (!(r = add_cube(&p, 0, mp_pick(s, 7) - 1)))
			r = th_patch_vertex_add(&p, q) < 0 ? -ENOMEM : 0;
		break;
	}
	}
	if (!r)
		r = th_patch_apply(m, &p, author, 1, NULL, &why);
	th_patch_fini(&p);
	if (r)
		th_mesh_fini(m);
	return r;
}
