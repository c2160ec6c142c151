/* The neutral model of imported files (th_model.h): building, welding,
 * n-gons put back together from triangles, and a joinable face order. */
#include "th_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_mesh.h"

void th_model_init(struct th_model *m)
{
	memset(m, 0, sizeof(*m));
}

void th_model_fini(struct th_model *m)
{
	for (uint32_t i = 0; i < m->n_objects; i++)
		free(m->objects[i].order);
	free(m->pos);
	free(m->corners);
	free(m->faces);
	free(m->objects);
	memset(m, 0, sizeof(*m));
}

int th_model_grow(void **p, uint32_t *cap, uint32_t n, uint32_t max, size_t size)
{
	if (n < *cap)
		return 0;
	uint32_t c = *cap ? *cap * 2 : 64;
	if (c > max)
		c = max;
	if (c <= n)
		return -E2BIG;
	void *q = realloc(*p, (size_t)c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

int th_model_finish(struct th_model *m, int r, const char *empty, char *why, size_t whylen)
{
	if (r >= 0 && !m->n_objects) {
		snprintf(why, whylen, "%s: nothing to import", empty);
		r = -EINVAL;
	}
	if (r >= 0)
		r = th_model_order(m, why, whylen);
	if (r < 0)
		th_model_fini(m);
	return r;
}

/* th_model_grow; on a refusal why says "more than <max> <what>" or "out of memory". */
static int grow_said(void **p, uint32_t *cap, uint32_t n, uint32_t max, size_t size, const char *what, char *why,
		     size_t whylen)
{
	int r = th_model_grow(p, cap, n, max, size);
	if (r < 0)
		snprintf(why, whylen, r == -E2BIG ? "more than %u %s" : "out of memory", max, what);
	return r;
}

int th_model_object_add(struct th_model *m, const char *name, char *why, size_t whylen)
{
	int r = grow_said((void **)&m->objects, &m->cap_objects, m->n_objects, TH_MODEL_OBJECTS_MAX, sizeof(*m->objects), "objects", why, whylen);
	if (r < 0)
		return r;
	struct th_model_object *o = &m->objects[m->n_objects++];
	*o = (struct th_model_object){ .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 }, .first_vert = m->n_verts,
				       .first_face = m->n_faces };
	snprintf(o->name, sizeof(o->name), "%s", name ? name : "");
	return 0;
}

int th_model_vert_add(struct th_model *m, const float p[3], char *why, size_t whylen)
{
	int r = grow_said((void **)&m->pos, &m->cap_verts, m->n_verts, TH_MODEL_VERTS_MAX, sizeof(*m->pos), "vertices", why, whylen);
	if (r < 0)
		return r;
	memcpy(m->pos[m->n_verts], p, sizeof(m->pos[0]));
	m->n_verts++;
	m->objects[m->n_objects - 1].n_verts++;
	return 0;
}

int th_model_face_add(struct th_model *m, const uint32_t *corners, uint32_t n, uint32_t material, char *why,
		      size_t whylen)
{
	int r = grow_said((void **)&m->faces, &m->cap_faces, m->n_faces, TH_MODEL_FACES_MAX, sizeof(*m->faces), "faces", why, whylen);
	if (r < 0)
		return r;
	if (m->n_corners > TH_MODEL_CORNERS_MAX - n) {
		snprintf(why, whylen, "more than %u face corners", TH_MODEL_CORNERS_MAX);
		return -E2BIG;
	}
	while (m->cap_corners < m->n_corners + n) {
		r = grow_said((void **)&m->corners, &m->cap_corners, m->cap_corners, TH_MODEL_CORNERS_MAX, sizeof(uint32_t),
			      "face corners", why, whylen);
		if (r < 0)
			return r;
	}
	memcpy(m->corners + m->n_corners, corners, n * sizeof(uint32_t));
	m->faces[m->n_faces++] = (struct th_model_face){ .first = m->n_corners, .n = n, .material = material };
	m->n_corners += n;
	m->objects[m->n_objects - 1].n_faces++;
	return 0;
}

int th_model_material_add(struct th_model *m, const struct th_model_material *mt, char *why, size_t whylen)
{
	if (m->n_materials == TH_MODEL_MATERIALS_MAX) {
		snprintf(why, whylen, "more than %u materials", TH_MODEL_MATERIALS_MAX);
		return -E2BIG;
	}
	m->materials[m->n_materials] = *mt;
	return (int)m->n_materials++;
}

/* ---- weld ----------------------------------------------------------------------- */

static int weld_cmp(const void *a, const void *b, void *ud)
{
	const float(*pos)[3] = ud;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	for (int k = 0; k < 3; k++) {
		float x = pos[i][k], y = pos[j][k];
		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return i < j ? -1 : i > j; /* the first of equal ones first */
}

static bool same_pos(const float *a, const float *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2]; /* +0 == -0 */
}

int th_model_weld(struct th_model *m, uint32_t first_vert, uint32_t first_face, bool keep_unused, char *why,
		  size_t whylen)
{
	uint32_t nv = m->n_verts - first_vert;
	if (!nv)
		return 0;
	uint32_t *sorted = malloc((size_t)nv * sizeof(uint32_t)), *rep = malloc((size_t)nv * sizeof(uint32_t));
	uint8_t *used = calloc(nv, 1);
	int r = 0;
	if (!sorted || !rep || !used) {
		snprintf(why, whylen, "out of memory");
		r = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < nv; i++)
		sorted[i] = first_vert + i;
	qsort_r(sorted, nv, sizeof(uint32_t), weld_cmp, m->pos);
	for (uint32_t i = 0; i < nv; i++) {
		uint32_t v = sorted[i];
		rep[v - first_vert] = i && same_pos(m->pos[v], m->pos[sorted[i - 1]]) ? rep[sorted[i - 1] - first_vert] : v;
	}
	/* Corners name representatives; mark what faces use. */
	for (uint32_t f = first_face; f < m->n_faces; f++) {
		struct th_model_face *fc = &m->faces[f];
		for (uint32_t k = 0; k < fc->n; k++) {
			uint32_t *c = &m->corners[fc->first + k];
			*c = rep[*c - first_vert];
			used[*c - first_vert] = 1;
			for (uint32_t q = 0; q < k; q++)
				if (m->corners[fc->first + q] == *c) {
					snprintf(why, whylen, "corners %u and %u of face %u are at the same position", q, k,
						 f - first_face);
					r = -EINVAL;
					goto out;
				}
		}
	}
	/* Keep representatives (and, with keep_unused, unused vertices that
	 * are their own), in their order; renumber. */
	uint32_t w = 0;
	for (uint32_t i = 0; i < nv; i++) {
		bool keep = rep[i] == first_vert + i && (used[i] || keep_unused);
		if (keep) {
			memmove(m->pos[first_vert + w], m->pos[first_vert + i], sizeof(m->pos[0]));
			sorted[i] = first_vert + w++; /* reused: old -> new */
		} else {
			sorted[i] = UINT32_MAX;
		}
	}
	for (uint32_t f = first_face; f < m->n_faces; f++)
		for (uint32_t k = 0; k < m->faces[f].n; k++) {
			uint32_t *c = &m->corners[m->faces[f].first + k];
			*c = sorted[*c - first_vert];
		}
	m->objects[m->n_objects - 1].n_verts -= nv - w;
	m->n_verts = first_vert + w;
out:
	free(sorted);
	free(rep);
	free(used);
	return r;
}

/* ---- n-gons from triangles ----------------------------------------------------------- */

int th_model_merge_triangles(struct th_model *m, uint32_t first_face, const uint32_t *counts, uint32_t n,
			     char *why, size_t whylen)
{
	uint64_t total = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (counts[k] < 1 || counts[k] > TH_MODEL_FACE_VERTS_MAX - 2) {
			snprintf(why, whylen, "face %u is made of %u triangles; a face has 1 to %u", k, counts[k],
				 TH_MODEL_FACE_VERTS_MAX - 2);
			return -EINVAL;
		}
		total += counts[k];
	}
	if (total != m->n_faces - first_face) {
		snprintf(why, whylen, "the faces' triangle counts add up to %llu, but there are %u triangles",
			 (unsigned long long)total, m->n_faces - first_face);
		return -EINVAL;
	}
	for (uint32_t f = first_face; f < m->n_faces; f++)
		if (m->faces[f].n != 3) {
			snprintf(why, whylen, "face %u is not a triangle", f - first_face);
			return -EINVAL;
		}
	/* Faces shrink in place: face k's corners go where its first
	 * triangle's were, at most counts[k] + 2 <= 3 * counts[k]. */
	uint32_t src = first_face, dst = first_face;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t t = counts[k], ne = 3 * t, nb = 0;
		uint32_t from[3 * (TH_MODEL_FACE_VERTS_MAX - 2)], to[3 * (TH_MODEL_FACE_VERTS_MAX - 2)];
		uint32_t loop[TH_MODEL_FACE_VERTS_MAX];
		uint32_t first_corner = m->faces[src].first, material = m->faces[src].material;
		for (uint32_t i = 0; i < ne; i++) {
			const uint32_t *c = &m->corners[m->faces[src + i / 3].first];
			uint32_t a = c[i % 3], b = c[(i + 1) % 3];
			bool inner = false;
			for (uint32_t j = 0; j < ne && !inner; j++) {
				const uint32_t *d = &m->corners[m->faces[src + j / 3].first];
				inner = d[j % 3] == b && d[(j + 1) % 3] == a;
			}
			if (!inner) {
				from[nb] = a;
				to[nb++] = b;
			}
		}
		if (nb != t + 2) {
			snprintf(why, whylen, "the %u triangles of face %u do not form one polygon (%u boundary edges, expected %u)",
				 t, k, nb, t + 2);
			return -EINVAL;
		}
		/* Walk the boundary from its first edge. */
		loop[0] = from[0];
		uint32_t len = 1, cur = to[0];
		while (cur != loop[0] && len < nb) {
			uint32_t hit = UINT32_MAX;
			for (uint32_t i = 0; i < nb; i++)
				if (from[i] == cur) {
					if (hit != UINT32_MAX) {
						hit = UINT32_MAX - 1;
						break;
					}
					hit = i;
				}
			if (hit >= UINT32_MAX - 1)
				break;
			loop[len++] = cur;
			cur = to[hit];
		}
		if (cur != loop[0] || len != nb) {
			snprintf(why, whylen, "the %u triangles of face %u do not form one polygon (its boundary is not one loop)",
				 t, k);
			return -EINVAL;
		}
		memcpy(&m->corners[first_corner], loop, len * sizeof(uint32_t));
		m->faces[dst++] = (struct th_model_face){ .first = first_corner, .n = len, .material = material };
		src += t;
	}
	m->objects[m->n_objects - 1].n_faces -= m->n_faces - dst;
	m->n_faces = dst;
	return 0;
}

/* ---- a joinable order ------------------------------------------------------------------ */

/* The faces are added to a scratch mesh one at a time, growing a connected
 * region through shared edges (breadth first): a face that would meet the
 * region at a vertex only (a bowtie for now) waits until the faces between
 * have joined; a region that can grow no more is left for a new one (a
 * face that joins validly, often another part of the object). What never
 * joins is not manifold (or repeats or flips a face). */

struct edge_face {
	uint64_t key; /* lower vertex << 32 | higher */
	uint32_t face;
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge_face *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->face > y->face) - (x->face < y->face);
}

struct order {
	const struct th_model *m;
	const struct th_model_object *o;
	struct th_mesh mesh;
	struct edge_face *edges;
	uint32_t n_edges;
	uint8_t *state; /* 0 waiting, 1 queued, 2 placed */
	uint32_t *queue, qh, qt; /* ring of n_faces + 1 */
	const char *why;
};

static uint64_t edge_key(uint32_t a, uint32_t b)
{
	return a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
}

/* 0 placed, -EINVAL refused (o->why), -ENOMEM. */
static int try_face(struct order *w, uint32_t f)
{
	const struct th_model_face *fc = &w->m->faces[w->o->first_face + f];
	struct th_pl_mesh_op ops[1 + TH_MODEL_FACE_VERTS_MAX];
	uint64_t ids[1 + TH_MODEL_FACE_VERTS_MAX];
	ops[0] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_FACE_ADD };
	ids[0] = 1 + (uint64_t)w->o->n_verts + f;
	for (uint32_t k = 0; k < fc->n; k++) {
		ops[1 + k] = (struct th_pl_mesh_op){ .op = TH_PL_MESH_OP_LOOP, .arg = TH_PL_MESH_REF_ID,
						     .element = 1 + (uint64_t)(w->m->corners[fc->first + k] - w->o->first_vert) };
		ids[1 + k] = 0;
	}
	const char *why = NULL;
	int r = th_mesh_apply(&w->mesh, ops, 1 + fc->n, ids, NULL, &why);
	if (r == -EINVAL)
		w->why = why ? why : "refused";
	return r == -ENOSPC ? -ENOMEM : r;
}

static void push(struct order *w, uint32_t f)
{
	uint32_t cap = w->o->n_faces + 1;
	if (w->state[f] == 1 || w->state[f] == 2)
		return; /* queued already, or placed (as a new region's first face) */
	w->state[f] = 1;
	w->queue[w->qt] = f;
	w->qt = (w->qt + 1) % cap;
}

/* Queues the waiting faces that share an edge with face f. */
static void push_neighbours(struct order *w, uint32_t f)
{
	const struct th_model_face *fc = &w->m->faces[w->o->first_face + f];
	for (uint32_t k = 0; k < fc->n; k++) {
		uint64_t key = edge_key(w->m->corners[fc->first + k], w->m->corners[fc->first + (k + 1) % fc->n]);
		uint32_t lo = 0, hi = w->n_edges;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (w->edges[mid].key < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < w->n_edges && w->edges[lo].key == key; lo++)
			if (!w->state[w->edges[lo].face])
				push(w, w->edges[lo].face);
	}
}

static int order_object(const struct th_model *m, struct th_model_object *o, char *why, size_t whylen)
{
	struct order w = { .m = m, .o = o };
	uint32_t placed = 0, nf = o->n_faces, *deferred = NULL, n_def = 0, last_bad = 0;
	int r = th_mesh_init(&w.mesh, 1);
	if (r < 0) {
		snprintf(why, whylen, "out of memory");
		return r;
	}
	uint64_t ncorn = 0;
	for (uint32_t f = 0; f < nf; f++)
		ncorn += m->faces[o->first_face + f].n;
	o->order = malloc(((size_t)nf + 1) * sizeof(uint32_t));
	deferred = malloc(((size_t)nf + 1) * sizeof(uint32_t));
	w.queue = malloc(((size_t)nf + 1) * sizeof(uint32_t));
	w.state = calloc((size_t)nf + 1, 1);
	w.edges = malloc(((size_t)ncorn + 1) * sizeof(*w.edges));
	if (!o->order || !deferred || !w.queue || !w.state || !w.edges)
		goto nomem;
	for (uint32_t f = 0; f < nf; f++) {
		const struct th_model_face *fc = &m->faces[o->first_face + f];
		for (uint32_t k = 0; k < fc->n; k++)
			w.edges[w.n_edges++] = (struct edge_face){
				.key = edge_key(m->corners[fc->first + k], m->corners[fc->first + (k + 1) % fc->n]), .face = f };
	}
	qsort(w.edges, w.n_edges, sizeof(*w.edges), edge_cmp);
	/* Vertex ids: 1 + local index; face ids after them. */
	for (uint32_t v = 0; v < o->n_verts; v++) {
		struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_VERTEX_ADD };
		uint64_t id = 1 + (uint64_t)v;
		const char *vw = NULL;
		memcpy(op.position, m->pos[o->first_vert + v], sizeof(op.position));
		if ((r = th_mesh_apply(&w.mesh, &op, 1, &id, NULL, &vw)) < 0) {
			snprintf(why, whylen, "object %u '%s': vertex %u: %s", (unsigned)(o - m->objects), o->name, v,
				 vw ? vw : "refused");
			goto out;
		}
	}
	uint32_t seed = 0;
	bool progress = false;
	while (placed < nf) {
		if (w.qh != w.qt) {
			uint32_t f = w.queue[w.qh];
			w.qh = (w.qh + 1) % (nf + 1);
			if (w.state[f] == 2)
				continue;
			if ((r = try_face(&w, f)) == -ENOMEM)
				goto nomem;
			if (r < 0) {
				w.state[f] = 3; /* deferred */
				deferred[n_def++] = f;
				last_bad = f;
				continue;
			}
			w.state[f] = 2;
			o->order[placed++] = f;
			progress = true;
			push_neighbours(&w, f);
			continue;
		}
		if (n_def && progress) {
			/* The region grew: what waited may join now. */
			for (uint32_t i = 0; i < n_def; i++)
				push(&w, deferred[i]);
			n_def = 0;
			progress = false;
			continue;
		}
		/* A new region: the next face that joins, looking on from the
		 * last region's first face (and round to the faces before it). */
		bool found = false;
		for (uint32_t step = 0; step < nf && !found; step++) {
			uint32_t f = (seed + step) % nf;
			if (w.state[f] == 2)
				continue;
			if ((r = try_face(&w, f)) == -ENOMEM)
				goto nomem;
			if (r == 0) {
				found = true;
				seed = f;
				w.state[f] = 2;
				o->order[placed++] = f;
				push_neighbours(&w, f);
			} else {
				last_bad = f;
			}
		}
		if (!found) {
			const struct th_model_face *fc = &m->faces[o->first_face + last_bad];
			snprintf(why, whylen, "object %u '%s': face %u (%u corners) cannot join the mesh: %s",
				 (unsigned)(o - m->objects), o->name, last_bad, fc->n, w.why ? w.why : "refused");
			r = -EINVAL;
			goto out;
		}
		for (uint32_t i = 0; i < n_def; i++)
			push(&w, deferred[i]);
		n_def = 0;
		progress = false;
	}
	r = 0;
	goto out;
nomem:
	snprintf(why, whylen, "out of memory");
	r = -ENOMEM;
out:
	free(deferred);
	free(w.queue);
	free(w.state);
	free(w.edges);
	th_mesh_fini(&w.mesh);
	return r;
}

int th_model_order(struct th_model *m, char *why, size_t whylen)
{
	for (uint32_t i = 0; i < m->n_objects; i++) {
		free(m->objects[i].order);
		m->objects[i].order = NULL;
	}
	for (uint32_t i = 0; i < m->n_objects; i++) {
		int r = order_object(m, &m->objects[i], why, whylen);
		if (r < 0)
			return r;
	}
	return 0;
}
