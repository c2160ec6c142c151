/* Random mesh operations and start meshes for the property test and the
 * fuzzer (th_meshpick.h). */
#include "th_meshpick.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define MP_SET_MAX 8u      /* elements in one picked set */
#define MP_MISSING_ID UINT64_C(0x6d697373696e6721) /* an id no mesh here holds */

/* ---- picking elements ---------------------------------------------------- */

/* A random live face's (faces) or vertex's slot (m has one). */
static int32_t live_slot(const struct th_mesh *m, struct mp_src *s, bool faces)
{
	uint32_t n = faces ? m->nfaces : m->nverts, start = mp_pick(s, n);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t x = (start + k) % n;
		if (faces ? m->faces[x].id : m->verts[x].id)
			return (int32_t)x;
	}
	return TH_MESH_NONE;
}

static int32_t live_face(const struct th_mesh *m, struct mp_src *s) { return live_slot(m, s, true); }

/* A set of up to MP_SET_MAX distinct faces (or vertices); now and then one
 * missing or repeated, which sets *bad. Returns the count. */
static unsigned pick_set(const struct th_mesh *m, struct mp_src *s, bool faces, uint64_t *ids, bool *bad)
{
	uint32_t live = faces ? m->live_faces : m->live_verts;
	unsigned want = 1 + mp_pick(s, live < MP_SET_MAX ? live : MP_SET_MAX), n = 0;
	for (unsigned tries = 0; n < want && tries < 4 * MP_SET_MAX; tries++) {
		int32_t x = live_slot(m, s, faces);
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

/* A random edge (a face's half-edge): its two vertex ids; boundary_only
 * prefers an edge with one face (tries a few). */
static void pick_edge(const struct th_mesh *m, struct mp_src *s, bool boundary_only, uint64_t *a, uint64_t *b)
{
	int32_t h = TH_MESH_NONE;
	for (unsigned tries = 0; tries < 16; tries++) {
		const struct th_mesh_face *f = &m->faces[live_face(m, s)];
		h = f->he;
		for (unsigned k = mp_pick(s, f->n); k > 0; k--)
			h = m->hes[h].next;
		if (!boundary_only || m->hes[h].twin == TH_MESH_NONE)
			break;
	}
	*a = m->verts[m->hes[h].vert].id;
	*b = m->verts[m->hes[m->hes[h].next].vert].id;
}

/* A fraction in (0, 1), now and then 0, 1 or NaN (which must be refused). */
static float pick_t(struct mp_src *s, bool *bad)
{
	static const float ts[] = { 0.5f, 0.25f, 0.75f, 0.1f, 0.9f, 0.333f };
	switch (mp_pick(s, 32)) {
	case 0:
		*bad = true;
		return 0.0f;
	case 1:
		*bad = true;
		return 1.0f;
	case 2:
		*bad = true;
		return NAN;
	default:
		return ts[mp_pick(s, sizeof(ts) / sizeof(ts[0]))];
	}
}

static void run_topo(const struct th_mesh *m, struct mp_src *s, enum mp_op op, struct th_patch *out,
		     struct mp_call *c)
{
	uint64_t a[MP_SET_MAX + 1], b[MP_SET_MAX + 1], ids[MP_SET_MAX + 1];
	c->euler_delta = 0;
	switch (op) {
	case MP_VERTEX_FREE: {
		float pos[3] = { small(s, 0.5f), small(s, 0.5f), small(s, 0.5f) };
		if (mp_pick(s, 32) == 0) {
			pos[mp_pick(s, 3)] = NAN;
			c->must_refuse = true;
		}
		c->euler_delta = 1;
		c->r = th_op_vertex_free(m, pos, out, &c->why);
		return;
	}
	case MP_VERTEX_ON_EDGE:
		pick_edge(m, s, false, &a[0], &b[0]);
		c->r = th_op_vertex_on_edge(m, a[0], b[0], pick_t(s, &c->must_refuse), out, &c->why);
		return;
	case MP_VERTEX_ON_FACE: {
		int32_t f = live_face(m, s);
		float n[3], pos[3];
		if (th_mesh_face_normal(m, f, n, pos)) { /* no area: any point is refused */
			pos[0] = pos[1] = pos[2] = 0;
		}
		/* the centroid, or a step towards a corner (may leave the face) */
		const float *corner = m->verts[m->hes[m->faces[f].he].vert].pos;
		float k = (float)mp_pick(s, 4) * 0.3f;
		for (int d = 0; d < 3; d++)
			pos[d] += k * (corner[d] - pos[d]);
		c->r = th_op_vertex_on_face(m, m->faces[f].id, pos, out, &c->why);
		return;
	}
	case MP_EXTRUDE_EDGES: {
		unsigned n = 1 + mp_pick(s, 4);
		for (unsigned i = 0; i < n; i++)
			pick_edge(m, s, true, &a[i], &b[i]);
		float off[3] = { small(s, 0.25f), small(s, 0.25f), small(s, 0.25f) };
		if (mp_pick(s, 32) == 0) {
			off[0] = off[1] = off[2] = 0;
			c->must_refuse = true;
		}
		c->r = th_op_extrude_edges(m, a, b, n, off, out, &c->why);
		return;
	}
	case MP_EXTRUDE_FACES: {
		unsigned n = pick_set(m, s, true, ids, &c->must_refuse);
		float dir[3] = { small(s, 0.25f), small(s, 0.25f), small(s, 0.25f) };
		float dist = small(s, 0.125f);
		if (dist == 0 && mp_pick(s, 2))
			dist = 0.3f;
		bool use_dir = mp_pick(s, 3) == 0;
		if (dist == 0 && !use_dir)
			c->must_refuse = true;
		c->r = th_op_extrude_faces(m, ids, n, use_dir ? dir : NULL, dist, mp_pick(s, 2), out, &c->why);
		return;
	}
	case MP_INSET: {
		unsigned n = pick_set(m, s, true, ids, &c->must_refuse);
		c->r = th_op_inset(m, ids, n, pick_t(s, &c->must_refuse), mp_pick(s, 2), out, &c->why);
		return;
	}
	case MP_LOOP_CUT:
		pick_edge(m, s, false, &a[0], &b[0]);
		c->r = th_op_loop_cut(m, a[0], b[0], pick_t(s, &c->must_refuse), out, &c->why);
		return;
	case MP_BEVEL:
	default: {
		unsigned n = 1 + mp_pick(s, 3);
		for (unsigned i = 0; i < n; i++)
			pick_edge(m, s, false, &a[i], &b[i]);
		static const float widths[] = { 0.05f, 0.1f, 0.2f, 0.45f };
		float w = widths[mp_pick(s, 4)];
		if (mp_pick(s, 32) == 0) {
			w = mp_pick(s, 2) ? 0.0f : NAN;
			c->must_refuse = true;
		}
		c->r = th_op_bevel(m, a, b, n, w, out, &c->why);
		return;
	}
	}
}

static int64_t euler_of(const struct th_mesh *m)
{
	struct th_mesh_stats st;
	th_mesh_stats(m, &st);
	return st.euler;
}

static void run_xform(const struct th_mesh *m, struct mp_src *s, enum mp_op op, struct th_patch *out,
		      struct mp_call *c)
{
	uint64_t ids[MP_SET_MAX + 1], a[MP_SET_MAX + 1], b[MP_SET_MAX + 1], v[MP_SET_MAX + 1];
	c->euler_delta = MP_EULER_ANY;
	switch (op) {
	case MP_DUPLICATE: {
		float off[3] = { small(s, 0.5f), small(s, 0.5f), small(s, 0.5f) };
		if (mp_pick(s, 32) == 0) {
			off[mp_pick(s, 3)] = INFINITY;
			c->must_refuse = true;
		}
		if (mp_pick(s, 2) || !m->live_faces) {
			c->euler_delta = euler_of(m);
			c->r = th_op_duplicate(m, NULL, 0, off, out, &c->why);
			return;
		}
		unsigned n = pick_set(m, s, true, ids, &c->must_refuse);
		c->r = th_op_duplicate(m, ids, n, off, out, &c->why);
		return;
	}
	case MP_MIRROR: {
		/* planes through a corner of the start meshes, an axis or a diagonal */
		static const float points[][3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 0.5f, 0, 0 }, { 0, 1, 0 }, { 2, 0, 2 } };
		static const float normals[][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 1, 0 }, { -1, 0, 0 } };
		float pt[3], nm[3];
		memcpy(pt, points[mp_pick(s, 5)], sizeof(pt));
		memcpy(nm, normals[mp_pick(s, 5)], sizeof(nm));
		if (mp_pick(s, 32) == 0) {
			nm[0] = nm[1] = nm[2] = 0;
			c->must_refuse = true;
		}
		c->r = th_op_mirror(m, pt, nm, mp_distances[mp_pick(s, 4)], out, &c->why);
		return;
	}
	case MP_FLIP: {
		c->euler_delta = 0;
		if (mp_pick(s, 2)) {
			c->r = th_op_flip(m, NULL, 0, out, &c->why);
			return;
		}
		unsigned n = pick_set(m, s, true, ids, &c->must_refuse);
		c->r = th_op_flip(m, ids, n, out, &c->why);
		return;
	}
	case MP_DELETE:
	default: {
		bool bad = false;
		unsigned nv = 0, ne = 0, nf = 0;
		switch (mp_pick(s, 4)) {
		case 0:
			nv = pick_set(m, s, false, v, &bad);
			break;
		case 1:
			ne = 1 + mp_pick(s, 3);
			for (unsigned i = 0; i < ne; i++)
				pick_edge(m, s, false, &a[i], &b[i]);
			break;
		case 2:
			nf = pick_set(m, s, true, ids, &bad);
			break;
		default:
			nf = pick_set(m, s, true, ids, &bad);
			nv = pick_set(m, s, false, v, &bad);
			break;
		}
		c->must_refuse = bad;
		c->r = th_op_delete(m, v, nv, a, b, ne, ids, nf, out, &c->why);
		return;
	}
	}
}

static const char *const mp_names[MP_OPS] = {
	[MP_SUBDIVIDE] = "subdivide",
	[MP_CATMULL_CLARK] = "catmull_clark",
	[MP_WELD] = "weld",
	[MP_TRANSFORM] = "transform",
	[MP_VERTEX_FREE] = "vertex_free",
	[MP_VERTEX_ON_EDGE] = "vertex_on_edge",
	[MP_VERTEX_ON_FACE] = "vertex_on_face",
	[MP_EXTRUDE_EDGES] = "extrude_edges",
	[MP_EXTRUDE_FACES] = "extrude_faces",
	[MP_INSET] = "inset",
	[MP_LOOP_CUT] = "loop_cut",
	[MP_BEVEL] = "bevel",
	[MP_DUPLICATE] = "duplicate",
	[MP_MIRROR] = "mirror",
	[MP_FLIP] = "flip",
	[MP_DELETE] = "delete",
};

const char *mp_op_name(enum mp_op op) { return op < MP_OPS ? mp_names[op] : "?"; }

/* Whether op may run on m: faces to work on, growth under the cap. */
static bool fits(const struct th_mesh *m, enum mp_op op, uint32_t face_cap)
{
	switch (op) {
	case MP_WELD:
	case MP_TRANSFORM:
		return m->live_verts > 0;
	case MP_VERTEX_FREE:
		return m->live_verts < 4 * face_cap;
	case MP_DUPLICATE:
	case MP_MIRROR:
		return m->live_verts > 0 && m->live_hes <= face_cap && m->live_verts <= face_cap;
	case MP_FLIP:
	case MP_DELETE:
		return m->live_faces > 0;
	default: /* subdivide, Catmull-Clark and the other topology operations */
		return m->live_faces && m->live_hes <= face_cap;
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
	case MP_VERTEX_FREE:
	case MP_VERTEX_ON_EDGE:
	case MP_VERTEX_ON_FACE:
	case MP_EXTRUDE_EDGES:
	case MP_EXTRUDE_FACES:
	case MP_INSET:
	case MP_LOOP_CUT:
	case MP_BEVEL:
		run_topo(m, s, op, out, c);
		break;
	case MP_DUPLICATE:
	case MP_MIRROR:
	case MP_FLIP:
	case MP_DELETE:
		run_xform(m, s, op, out, c);
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
