/* Half-edge meshes (th_mesh.h). Storage: slot arrays with free lists (the
 * header's structs), and a private index: an open-addressing table from
 * element id to slot, one from directed edge (origin slot, dest slot) to
 * half-edge, and each vertex's outgoing half-edges as a doubly linked list
 * (so a vertex keeps a valid `he` through a patch that passes through a
 * non-manifold state on its way to a valid one). Both tables use linear
 * probing with backward-shift deletion and never shrink, so reverting a
 * failed patch never needs memory.
 *
 * th_mesh_apply applies op after op, each pushing its inverse to the
 * journal before it changes anything, and checks the fans of the vertices
 * the patch touched at the end; on any failure it pops and undoes its own
 * records, newest first. */
#include "th_mesh.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "th_array.h"
#include "th_hash.h"
#include "th_mesh_int.h"

/* ---- id table --------------------------------------------------------------- */

int32_t th_mesh_i_find(const struct th_mesh_index *x, uint64_t id, uint32_t kind)
{
	if (!x || !x->ids_cap || !id)
		return TH_MESH_NONE;
	uint32_t mask = x->ids_cap - 1;
	for (uint32_t i = (uint32_t)mix64(id) & mask;; i = (i + 1) & mask) {
		const struct ix_id *e = &x->ids[i];
		if (!e->id)
			return TH_MESH_NONE;
		if (e->id == id)
			return kind && e->kind != kind ? TH_MESH_NONE : e->slot;
	}
}

static void ix_put(struct ix_id *t, uint32_t cap, uint64_t id, int32_t slot, uint32_t kind)
{
	uint32_t mask = cap - 1, i = (uint32_t)mix64(id) & mask;
	while (t[i].id)
		i = (i + 1) & mask;
	t[i] = (struct ix_id){ id, slot, kind };
}

static void ix_insert(struct th_mesh_index *x, uint64_t id, int32_t slot, uint32_t kind)
{
	ix_put(x->ids, x->ids_cap, id, slot, kind);
	x->ids_len++;
}

static void ix_remove(struct th_mesh_index *x, uint64_t id)
{
	uint32_t mask = x->ids_cap - 1, i = (uint32_t)mix64(id) & mask;
	while (x->ids[i].id != id) {
		if (!x->ids[i].id)
			return;
		i = (i + 1) & mask;
	}
	for (uint32_t j = i;;) {
		j = (j + 1) & mask;
		if (!x->ids[j].id)
			break;
		uint32_t home = (uint32_t)mix64(x->ids[j].id) & mask;
		/* j's entry may fill the hole at i unless its home lies in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			x->ids[i] = x->ids[j];
			i = j;
		}
	}
	x->ids[i] = (struct ix_id){ 0 };
	x->ids_len--;
}

/* Room for `want` entries at a load of at most 1/2 (linear probing: a
 * lookup that misses, as every new id and edge does, stays near 2.5 probes). */
static bool table_fits(uint64_t cap, uint64_t want) { return want * 2 <= cap; }

static uint32_t table_cap(uint32_t cap, uint64_t want)
{
	uint64_t c = cap ? cap : IX_MIN_CAP;
	while (!table_fits(c, want))
		c *= 2;
	return c > UINT32_C(1) << 31 ? 0 : (uint32_t)c;
}

static int ix_reserve(struct th_mesh_index *x, uint32_t add)
{
	uint64_t want = (uint64_t)x->ids_len + add;
	if (x->ids_cap && table_fits(x->ids_cap, want))
		return 0;
	uint32_t cap = table_cap(x->ids_cap, want);
	struct ix_id *t = cap ? calloc(cap, sizeof(*t)) : NULL;
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < x->ids_cap; i++)
		if (x->ids[i].id)
			ix_put(t, cap, x->ids[i].id, x->ids[i].slot, x->ids[i].kind);
	free(x->ids);
	x->ids = t;
	x->ids_cap = cap;
	return 0;
}

/* ---- edge table ------------------------------------------------------------- */

static int32_t edge_find(const struct th_mesh_index *x, int32_t a, int32_t b)
{
	if (!x || !x->edges_cap)
		return TH_MESH_NONE;
	uint64_t key = edge_key(a, b);
	uint32_t mask = x->edges_cap - 1;
	for (uint32_t i = (uint32_t)mix64(key) & mask;; i = (i + 1) & mask) {
		const struct ix_edge *e = &x->edges[i];
		if (e->key == key)
			return e->he;
		if (e->key == EDGE_EMPTY)
			return TH_MESH_NONE;
	}
}

static void edge_put(struct ix_edge *t, uint32_t cap, uint64_t key, int32_t he)
{
	uint32_t mask = cap - 1, i = (uint32_t)mix64(key) & mask;
	while (t[i].key != EDGE_EMPTY)
		i = (i + 1) & mask;
	t[i] = (struct ix_edge){ .key = key, .he = he };
}

static void edge_insert(struct th_mesh_index *x, int32_t a, int32_t b, int32_t he)
{
	edge_put(x->edges, x->edges_cap, edge_key(a, b), he);
	x->edges_len++;
}

/* Inserts a -> b unless it is there already (one probe for the check and
 * the insert); false when it was. */
static bool edge_insert_new(struct th_mesh_index *x, int32_t a, int32_t b, int32_t he)
{
	uint64_t key = edge_key(a, b);
	uint32_t mask = x->edges_cap - 1, i = (uint32_t)mix64(key) & mask;
	for (; x->edges[i].key != EDGE_EMPTY; i = (i + 1) & mask)
		if (x->edges[i].key == key)
			return false;
	x->edges[i] = (struct ix_edge){ .key = key, .he = he };
	x->edges_len++;
	return true;
}

static void edge_remove(struct th_mesh_index *x, int32_t a, int32_t b)
{
	uint64_t key = edge_key(a, b);
	uint32_t mask = x->edges_cap - 1, i = (uint32_t)mix64(key) & mask;
	while (x->edges[i].key != key) {
		if (x->edges[i].key == EDGE_EMPTY)
			return;
		i = (i + 1) & mask;
	}
	for (uint32_t j = i;;) {
		j = (j + 1) & mask;
		if (x->edges[j].key == EDGE_EMPTY)
			break;
		uint32_t home = (uint32_t)mix64(x->edges[j].key) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			x->edges[i] = x->edges[j];
			i = j;
		}
	}
	x->edges[i] = (struct ix_edge){ .key = EDGE_EMPTY };
	x->edges_len--;
}

static int edge_reserve(struct th_mesh_index *x, uint32_t add)
{
	uint64_t want = (uint64_t)x->edges_len + add;
	if (x->edges_cap && table_fits(x->edges_cap, want))
		return 0;
	uint32_t cap = table_cap(x->edges_cap, want);
	struct ix_edge *t = cap ? th_array_realloc(NULL, cap, sizeof(*t)) : NULL;
	if (!t)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		t[i] = (struct ix_edge){ .key = EDGE_EMPTY };
	for (uint32_t i = 0; i < x->edges_cap; i++)
		if (x->edges[i].key != EDGE_EMPTY)
			edge_put(t, cap, x->edges[i].key, x->edges[i].he);
	free(x->edges);
	x->edges = t;
	x->edges_cap = cap;
	return 0;
}

/* ---- slots ------------------------------------------------------------------ */

static uint32_t grown(uint32_t cap, uint64_t need, bool exact)
{
	if (exact)
		return (uint32_t)need;
	uint64_t c = cap ? cap : SLOTS_MIN_CAP;
	while (c < need)
		c *= 2;
	return c > INT32_MAX ? (uint32_t)need : (uint32_t)c;
}

/* Room for nv more vertices, nf faces and nhe half-edges (slots and index);
 * exact: no room to spare in the slot arrays (decode knows its counts). */
int th_mesh_i_reserve(struct th_mesh *m, uint32_t nv, uint32_t nf, uint32_t nhe, bool exact)
{
	struct th_mesh_index *x = m->index;
	uint32_t vfree = m->nverts - m->live_verts, ffree = m->nfaces - m->live_faces, hfree = m->nhes - m->live_hes;
	uint64_t needv = (uint64_t)m->nverts + (nv > vfree ? nv - vfree : 0);
	uint64_t needf = (uint64_t)m->nfaces + (nf > ffree ? nf - ffree : 0);
	uint64_t needh = (uint64_t)m->nhes + (nhe > hfree ? nhe - hfree : 0);
	if (needv > INT32_MAX || needf > INT32_MAX || needh > INT32_MAX)
		return -ENOMEM;
	if (needv > m->cap_verts) {
		uint32_t cap = grown(m->cap_verts, needv, exact);
		struct th_mesh_vert *v = th_array_realloc(m->verts, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->verts = v;
		struct vert_aux *a = th_array_realloc(x->vaux, cap, sizeof(*a));
		if (!a)
			return -ENOMEM;
		memset(a + m->cap_verts, 0, (size_t)(cap - m->cap_verts) * sizeof(*a));
		x->vaux = a;
		m->cap_verts = cap;
	}
	if (needf > m->cap_faces) {
		uint32_t cap = grown(m->cap_faces, needf, exact);
		struct th_mesh_face *f = th_array_realloc(m->faces, cap, sizeof(*f));
		if (!f)
			return -ENOMEM;
		m->faces = f;
		m->cap_faces = cap;
	}
	if (needh > m->cap_hes) {
		uint32_t cap = grown(m->cap_hes, needh, exact);
		struct th_mesh_he *h = th_array_realloc(m->hes, cap, sizeof(*h));
		if (!h)
			return -ENOMEM;
		m->hes = h;
		struct he_ring *r = th_array_realloc(x->ring, cap, sizeof(*r));
		if (!r)
			return -ENOMEM;
		x->ring = r;
		m->cap_hes = cap;
	}
	int rc = ix_reserve(x, nv + nf);
	return rc ? rc : edge_reserve(x, nhe);
}

int32_t th_mesh_i_vert_put(struct th_mesh *m, uint64_t id, const float pos[3])
{
	int32_t s;
	if (m->free_vert != TH_MESH_NONE) {
		s = m->free_vert;
		m->free_vert = m->verts[s].he;
	} else {
		s = (int32_t)m->nverts++;
	}
	m->verts[s] = (struct th_mesh_vert){ .id = id, .pos = { pos[0], pos[1], pos[2] }, .he = TH_MESH_NONE };
	m->index->vaux[s].deg = 0;
	ix_insert(m->index, id, s, IX_VERT);
	m->live_verts++;
	return s;
}

static void vert_drop(struct th_mesh *m, int32_t s)
{
	ix_remove(m->index, m->verts[s].id);
	m->verts[s] = (struct th_mesh_vert){ .id = 0, .he = m->free_vert };
	m->free_vert = s;
	m->live_verts--;
}

static void ring_push(struct th_mesh *m, int32_t v, int32_t h)
{
	struct he_ring *r = m->index->ring;
	int32_t head = m->verts[v].he;
	r[h] = (struct he_ring){ .vnext = head, .vprev = TH_MESH_NONE };
	if (head != TH_MESH_NONE)
		r[head].vprev = h;
	m->verts[v].he = h;
	m->index->vaux[v].deg++;
}

static void ring_del(struct th_mesh *m, int32_t v, int32_t h)
{
	struct he_ring *r = m->index->ring;
	int32_t p = r[h].vprev, n = r[h].vnext;
	if (p != TH_MESH_NONE)
		r[p].vnext = n;
	else
		m->verts[v].he = n;
	if (n != TH_MESH_NONE)
		r[n].vprev = p;
	m->index->vaux[v].deg--;
}

/* A new face over distinct vertex slots vs[n] (face_refusal said yes and
 * reserve made room). With unchecked_edges (decode: th_mesh_i_face_shape_refusal
 * said yes), a directed edge already used stops it halfway and it returns
 * TH_MESH_NONE: the mesh is then fit only for th_mesh_fini. */
int32_t th_mesh_i_face_put(struct th_mesh *m, uint64_t id, uint32_t material, const int32_t *vs, unsigned n,
			      bool unchecked_edges)
{
	struct th_mesh_index *x = m->index;
	int32_t h[TH_MESH_FACE_VERTS_MAX];
	int32_t f;
	if (m->free_face != TH_MESH_NONE) {
		f = m->free_face;
		m->free_face = m->faces[f].he;
	} else {
		f = (int32_t)m->nfaces++;
	}
	for (unsigned k = 0; k < n; k++) {
		if (m->free_he != TH_MESH_NONE) {
			h[k] = m->free_he;
			m->free_he = m->hes[h[k]].next;
		} else {
			h[k] = (int32_t)m->nhes++;
		}
	}
	for (unsigned k = 0; k < n; k++) {
		unsigned kn = k + 1 == n ? 0 : k + 1, kp = k ? k - 1 : n - 1;
		m->hes[h[k]] = (struct th_mesh_he){
			.vert = vs[k], .face = f, .next = h[kn], .prev = h[kp], .twin = TH_MESH_NONE
		};
	}
	for (unsigned k = 0; k < n; k++) {
		int32_t a = vs[k], b = vs[k + 1 == n ? 0 : k + 1];
		if (!unchecked_edges)
			edge_insert(x, a, b, h[k]);
		else if (!edge_insert_new(x, a, b, h[k]))
			return TH_MESH_NONE;
		int32_t t = edge_find(x, b, a);
		if (t != TH_MESH_NONE) {
			m->hes[h[k]].twin = t;
			m->hes[t].twin = h[k];
			x->boundary--; /* t's edge has two faces now */
		} else {
			x->boundary++;
		}
		ring_push(m, a, h[k]);
	}
	m->faces[f] = (struct th_mesh_face){ .id = id, .he = h[0], .n = (uint16_t)n, .material = material };
	ix_insert(x, id, f, IX_FACE);
	m->live_faces++;
	m->live_hes += n;
	return f;
}

static int32_t face_put(struct th_mesh *m, uint64_t id, uint32_t material, const int32_t *vs, unsigned n)
{
	return th_mesh_i_face_put(m, id, material, vs, n, false);
}

static void face_drop(struct th_mesh *m, int32_t f)
{
	struct th_mesh_index *x = m->index;
	int32_t h[TH_MESH_FACE_VERTS_MAX];
	unsigned n = m->faces[f].n;
	h[0] = m->faces[f].he;
	for (unsigned k = 1; k < n; k++)
		h[k] = m->hes[h[k - 1]].next;
	for (unsigned k = 0; k < n; k++) {
		struct th_mesh_he *e = &m->hes[h[k]];
		int32_t a = e->vert, b = m->hes[h[k + 1 == n ? 0 : k + 1]].vert;
		edge_remove(x, a, b);
		if (e->twin != TH_MESH_NONE) {
			m->hes[e->twin].twin = TH_MESH_NONE;
			x->boundary++; /* the twin is a boundary now */
		} else {
			x->boundary--;
		}
		ring_del(m, a, h[k]);
	}
	for (unsigned k = 0; k < n; k++) {
		m->hes[h[k]] = (struct th_mesh_he){
			.vert = TH_MESH_NONE, .face = TH_MESH_NONE, .next = m->free_he,
			.prev = TH_MESH_NONE, .twin = TH_MESH_NONE
		};
		m->free_he = h[k];
	}
	ix_remove(x, m->faces[f].id);
	m->faces[f] = (struct th_mesh_face){ .id = 0, .he = m->free_face };
	m->free_face = f;
	m->live_faces--;
	m->live_hes -= n;
}

/* Why a face `id` over vertex slots vs[n] cannot be added, its edges aside,
 * or NULL. */
const char *th_mesh_i_face_shape_refusal(const struct th_mesh *m, uint64_t id, const int32_t *vs, unsigned n)
{
	if (n < 3 || n > TH_MESH_FACE_VERTS_MAX)
		return "a face needs 3 to FACE_VERTS_MAX corners";
	if (!id)
		return "a new element needs a non-zero id";
	if (th_mesh_i_find(m->index, id, 0) != TH_MESH_NONE)
		return "the id of a new element is already used in the mesh";
	for (unsigned k = 0; k < n; k++)
		for (unsigned i = 0; i < k; i++)
			if (vs[i] == vs[k])
				return "a face repeats a vertex";
	return NULL;
}

/* Why a face `id` over vertex slots vs[n] cannot be added now, or NULL. */
static const char *face_refusal(const struct th_mesh *m, uint64_t id, const int32_t *vs, unsigned n)
{
	const char *w = th_mesh_i_face_shape_refusal(m, id, vs, n);
	if (w)
		return w;
	for (unsigned k = 0; k < n; k++)
		if (edge_find(m->index, vs[k], vs[k + 1 == n ? 0 : k + 1]) != TH_MESH_NONE)
			return WHY_DIRECTED_EDGE;
	return NULL;
}

/* Every face at vertex v forms one fan: rotating around v from one outgoing
 * half-edge reaches all of them. */
bool th_mesh_i_fan_ok(const struct th_mesh *m, int32_t v)
{
	int32_t h0 = m->verts[v].he;
	if (h0 == TH_MESH_NONE)
		return true;
	uint32_t k = m->index->vaux[v].deg, c = 1;
	int32_t h = m->hes[m->hes[h0].prev].twin; /* the next face around v */
	while (h != TH_MESH_NONE && h != h0 && c <= k) {
		c++;
		h = m->hes[m->hes[h].prev].twin;
	}
	if (h == TH_MESH_NONE) { /* a boundary: go the other way too */
		for (int32_t t = m->hes[h0].twin; t != TH_MESH_NONE && c <= k; t = m->hes[h].twin) {
			h = m->hes[t].next;
			c++;
		}
	}
	return c == k;
}

/* ---- lifecycle and queries -------------------------------------------------- */

/* The next of the process-wide versions (th_mesh.version): atomic, as
 * meshes live on more than one thread. */
static uint64_t next_version(void)
{
	static uint64_t last;
	return __atomic_add_fetch(&last, 1, __ATOMIC_RELAXED);
}

int th_mesh_init(struct th_mesh *m, uint64_t id)
{
	if (!id)
		return -EINVAL;
	struct th_mesh_index *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	th_journal_init(&x->scratch, 0);
	*m = (struct th_mesh){
		.id = id,
		.version = next_version(),
		.free_vert = TH_MESH_NONE,
		.free_face = TH_MESH_NONE,
		.free_he = TH_MESH_NONE,
		.index = x,
	};
	return 0;
}

void th_mesh_fini(struct th_mesh *m)
{
	struct th_mesh_index *x = m->index;
	if (x) {
		free(x->ids);
		free(x->edges);
		free(x->ring);
		free(x->vaux);
		free(x->touched);
		free(x->authors);
		th_journal_fini(&x->scratch);
		free(x);
	}
	free(m->verts);
	free(m->faces);
	free(m->hes);
	*m = (struct th_mesh){ .free_vert = TH_MESH_NONE, .free_face = TH_MESH_NONE, .free_he = TH_MESH_NONE };
}

static int dup_array(void **dst, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (!n)
		return 0;
	*dst = th_array_realloc(NULL, n, size);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * size);
	return 0;
}

int th_mesh_copy(struct th_mesh *dst, const struct th_mesh *src)
{
	const struct th_mesh_index *sx = src->index;
	struct th_mesh_index *x = calloc(1, sizeof(*x));
	struct th_mesh d = *src;
	d.verts = NULL;
	d.faces = NULL;
	d.hes = NULL;
	d.index = x;
	d.version = next_version();
	if (!x)
		return -ENOMEM;
	th_journal_init(&x->scratch, 0);
	x->ids_cap = sx->ids_cap;
	x->ids_len = sx->ids_len;
	x->edges_cap = sx->edges_cap;
	x->edges_len = sx->edges_len;
	x->epoch = sx->epoch;
	x->boundary = sx->boundary;
	x->nauthors = x->cap_authors = sx->nauthors;
	x->last_author = sx->last_author;
	if (dup_array((void **)&d.verts, src->verts, src->cap_verts, sizeof(*d.verts)) ||
	    dup_array((void **)&d.faces, src->faces, src->cap_faces, sizeof(*d.faces)) ||
	    dup_array((void **)&d.hes, src->hes, src->cap_hes, sizeof(*d.hes)) ||
	    dup_array((void **)&x->ids, sx->ids, sx->ids_cap, sizeof(*x->ids)) ||
	    dup_array((void **)&x->edges, sx->edges, sx->edges_cap, sizeof(*x->edges)) ||
	    dup_array((void **)&x->ring, sx->ring, src->cap_hes, sizeof(*x->ring)) ||
	    dup_array((void **)&x->vaux, sx->vaux, src->cap_verts, sizeof(*x->vaux)) ||
	    dup_array((void **)&x->authors, sx->authors, sx->nauthors, sizeof(*x->authors))) {
		th_mesh_fini(&d);
		return -ENOMEM;
	}
	*dst = d;
	return 0;
}

int32_t th_mesh_vert_find(const struct th_mesh *m, uint64_t id) { return th_mesh_i_find(m->index, id, IX_VERT); }

int32_t th_mesh_face_find(const struct th_mesh *m, uint64_t id) { return th_mesh_i_find(m->index, id, IX_FACE); }

int32_t th_mesh_he_find(const struct th_mesh *m, int32_t a, int32_t b)
{
	if (a < 0 || b < 0 || (uint32_t)a >= m->nverts || (uint32_t)b >= m->nverts)
		return TH_MESH_NONE;
	return edge_find(m->index, a, b);
}

int th_mesh_face_loop(const struct th_mesh *m, int32_t f, uint64_t *ids, unsigned cap)
{
	if (f < 0 || (uint32_t)f >= m->nfaces || !m->faces[f].id)
		return -EINVAL;
	unsigned n = m->faces[f].n;
	if (n > cap)
		return -ENOBUFS;
	int32_t h = m->faces[f].he;
	for (unsigned k = 0; k < n; k++, h = m->hes[h].next)
		ids[k] = m->verts[m->hes[h].vert].id;
	return (int)n;
}

const uint8_t *th_mesh_author(const struct th_mesh *m, uint32_t k)
{
	const struct th_mesh_index *x = m->index;
	return x && k && k <= x->nauthors ? x->authors[k - 1] : NULL;
}

int th_mesh_face_origin(const struct th_mesh *m, int32_t f, struct th_mesh_origin *out)
{
	if (f < 0 || (uint32_t)f >= m->nfaces || !m->faces[f].id)
		return -EINVAL;
	const uint8_t *a = th_mesh_author(m, m->faces[f].author);
	out->lamport = m->faces[f].lamport;
	if (a)
		memcpy(out->author, a, TH_MESH_AUTHOR_LEN);
	else
		memset(out->author, 0, TH_MESH_AUTHOR_LEN);
	return 0;
}

int th_mesh_i_authors_reserve(struct th_mesh_index *x, uint32_t n)
{
	if (n <= x->cap_authors)
		return 0;
	uint32_t cap = x->cap_authors ? x->cap_authors : AUTHOR_MIN_CAP;
	while (cap < n)
		cap *= 2;
	if (cap > TH_MESH_AUTHORS_MAX)
		cap = n;
	void *a = th_array_realloc(x->authors, cap, sizeof(*x->authors));
	if (!a)
		return -ENOMEM;
	x->authors = a;
	x->cap_authors = cap;
	return 0;
}

static bool key_is_zero(const uint8_t *k)
{
	uint8_t acc = 0;
	for (unsigned i = 0; i < TH_MESH_AUTHOR_LEN; i++)
		acc |= k[i];
	return !acc;
}

/* The author index of key (0 for the zero key), added to the mesh's list
 * when it is new: 0, -ENOMEM, -ENOSPC (the list is full). */
static int author_index(struct th_mesh *m, const uint8_t *key, uint32_t *k)
{
	struct th_mesh_index *x = m->index;
	*k = 0;
	if (key_is_zero(key))
		return 0;
	if (x->last_author && !memcmp(x->authors[x->last_author - 1], key, TH_MESH_AUTHOR_LEN)) {
		*k = x->last_author;
		return 0;
	}
	for (uint32_t i = 0; i < x->nauthors; i++) {
		if (!memcmp(x->authors[i], key, TH_MESH_AUTHOR_LEN)) {
			*k = x->last_author = i + 1;
			return 0;
		}
	}
	if (x->nauthors >= TH_MESH_AUTHORS_MAX)
		return -ENOSPC;
	int r = th_mesh_i_authors_reserve(x, x->nauthors + 1);
	if (r)
		return r;
	memcpy(x->authors[x->nauthors++], key, TH_MESH_AUTHOR_LEN);
	*k = x->last_author = x->nauthors;
	return 0;
}

uint64_t th_mesh_edge_id(uint64_t a, uint64_t b)
{
	uint8_t buf[16];
	st64(buf, a < b ? a : b);
	st64(buf + 8, a < b ? b : a);
	uint64_t h = th_siphash(buf, sizeof(buf));
	return h ? h : 1;
}

void th_mesh_stats(const struct th_mesh *m, struct th_mesh_stats *out)
{
	uint32_t boundary = m->index ? m->index->boundary : 0;
	uint32_t edges = boundary + (m->live_hes - boundary) / 2;
	*out = (struct th_mesh_stats){
		.vertices = m->live_verts, .faces = m->live_faces, .edges = edges, .boundary_edges = boundary,
		.half_edges = m->live_hes,
		.euler = (int64_t)m->live_verts - (int64_t)edges + (int64_t)m->live_faces,
	};
}

/* ---- apply and undo --------------------------------------------------------- */

static void rec_head(uint8_t *p, const struct th_mesh *m, uint64_t id)
{
	st64(p, m->id);
	st64(p + 8, id);
}

static bool room_for(const struct th_mesh *m, unsigned add)
{
	return (uint64_t)m->live_verts + m->live_faces + add <= TH_MESH_ELEMENTS_MAX;
}

/* Room in the touched list for `add` more vertices (before an op changes
 * anything). */
static int touch_reserve(struct th_mesh_index *x, unsigned add)
{
	if (x->ntouched + add <= x->touched_cap)
		return 0;
	uint32_t cap = x->touched_cap ? x->touched_cap : 64;
	while (cap < x->ntouched + add)
		cap *= 2;
	int32_t *t = th_array_realloc(x->touched, cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	x->touched = t;
	x->touched_cap = cap;
	return 0;
}

static void touch(struct th_mesh *m, int32_t v)
{
	struct th_mesh_index *x = m->index;
	if (x->vaux[v].mark == x->epoch)
		return;
	x->vaux[v].mark = x->epoch;
	x->touched[x->ntouched++] = v;
}

static int undo(struct th_mesh *m, uint8_t kind, const uint8_t *d, size_t len)
{
	if (len < 16 || ld64(d) != m->id)
		return -EINVAL;
	uint64_t id = ld64(d + 8);
	int32_t s;
	float pos[3];
	switch (kind) {
	case REC_VERT_ADD:
		s = th_mesh_i_find(m->index, id, IX_VERT);
		if (len != 16 || s == TH_MESH_NONE || m->verts[s].he != TH_MESH_NONE)
			return -EINVAL;
		vert_drop(m, s);
		return 0;
	case REC_VERT_MOVE:
		s = th_mesh_i_find(m->index, id, IX_VERT);
		if (len != 28 || s == TH_MESH_NONE)
			return -EINVAL;
		th_mesh_i_get_pos(d + 16, pos);
		if (!th_mesh_i_finite3(pos))
			return -EINVAL;
		memcpy(m->verts[s].pos, pos, sizeof(pos));
		return 0;
	case REC_VERT_REMOVE: {
		th_mesh_i_get_pos(d + 16, pos);
		if (len != 28 || !id || th_mesh_i_find(m->index, id, 0) != TH_MESH_NONE || !th_mesh_i_finite3(pos))
			return -EINVAL;
		int r = reserve(m, 1, 0, 0);
		if (r)
			return r;
		th_mesh_i_vert_put(m, id, pos);
		return 0;
	}
	case REC_FACE_ADD:
		s = th_mesh_i_find(m->index, id, IX_FACE);
		if (len != 16 || s == TH_MESH_NONE)
			return -EINVAL;
		face_drop(m, s);
		return 0;
	case REC_FACE_REMOVE: {
		if (len < REC_FACE_HEAD)
			return -EINVAL;
		uint32_t material = ld32(d + 16), author = ld32(d + 20);
		uint64_t lamport = ld64(d + 24);
		unsigned n = ld16(d + 32);
		int32_t vs[TH_MESH_FACE_VERTS_MAX];
		if (material >= TH_PL_MATERIALS_MAX || author > m->index->nauthors || n < 3 ||
		    n > TH_MESH_FACE_VERTS_MAX || len != REC_FACE_HEAD + 8 * (size_t)n)
			return -EINVAL;
		for (unsigned k = 0; k < n; k++)
			if ((vs[k] = th_mesh_i_find(m->index, ld64(d + REC_FACE_HEAD + 8 * k), IX_VERT)) == TH_MESH_NONE)
				return -EINVAL;
		if (face_refusal(m, id, vs, n))
			return -EINVAL;
		int r = reserve(m, 0, 1, n);
		if (r)
			return r;
		s = face_put(m, id, material, vs, n);
		m->faces[s].author = author;
		m->faces[s].lamport = lamport;
		return 0;
	}
	case REC_FACE_MATERIAL: {
		s = th_mesh_i_find(m->index, id, IX_FACE);
		uint32_t material = len == 20 ? ld32(d + 16) : 0;
		if (len != 20 || s == TH_MESH_NONE || material >= TH_PL_MATERIALS_MAX)
			return -EINVAL;
		m->faces[s].material = material;
		return 0;
	}
	}
	return -EINVAL;
}

int th_mesh_undo_record(struct th_mesh *m, uint8_t kind, const uint8_t *data, size_t len)
{
	int r = undo(m, kind, data, len);
	if (!r)
		m->version = next_version();
	return r;
}

uint64_t th_mesh_record_mesh(const uint8_t *data, size_t len) { return len >= 8 ? ld64(data) : 0; }

static int op_vert_add(struct th_mesh *m, struct th_journal *j, uint64_t id, const float pos[3], const char **why)
{
	uint8_t rec[16];
	if (!id)
		return *why = "a new element needs a non-zero id", -EINVAL;
	if (th_mesh_i_find(m->index, id, 0) != TH_MESH_NONE)
		return *why = "the id of a new element is already used in the mesh", -EINVAL;
	if (!th_mesh_i_finite3(pos))
		return *why = "position: must be finite", -EINVAL;
	if (!room_for(m, 1))
		return *why = "the mesh would have more than TH_MESH_ELEMENTS_MAX elements", -EINVAL;
	int r = reserve(m, 1, 0, 0);
	if (r)
		return r;
	rec_head(rec, m, id);
	if ((r = th_journal_push(j, REC_VERT_ADD, rec, sizeof(rec))))
		return r;
	th_mesh_i_vert_put(m, id, pos);
	return 0;
}

static int op_vert_move(struct th_mesh *m, struct th_journal *j, uint64_t id, const float pos[3], const char **why)
{
	uint8_t rec[28];
	int32_t s = th_mesh_i_find(m->index, id, IX_VERT);
	if (s == TH_MESH_NONE)
		return *why = "element: the vertex to move does not exist", -EINVAL;
	if (!th_mesh_i_finite3(pos))
		return *why = "position: must be finite", -EINVAL;
	rec_head(rec, m, id);
	th_mesh_i_put_pos(rec + 16, m->verts[s].pos);
	int r = th_journal_push(j, REC_VERT_MOVE, rec, sizeof(rec));
	if (r)
		return r;
	memcpy(m->verts[s].pos, pos, sizeof(m->verts[s].pos));
	return 0;
}

static int op_remove(struct th_mesh *m, struct th_journal *j, uint64_t id, const char **why)
{
	uint8_t rec[REC_FACE_MAX];
	uint32_t kind = 0;
	int32_t s = TH_MESH_NONE;
	if (id) {
		s = th_mesh_i_find(m->index, id, IX_VERT);
		kind = IX_VERT;
		if (s == TH_MESH_NONE) {
			s = th_mesh_i_find(m->index, id, IX_FACE);
			kind = IX_FACE;
		}
	}
	if (s == TH_MESH_NONE)
		return *why = "element: the element to remove does not exist", -EINVAL;
	rec_head(rec, m, id);
	int r;
	if (kind == IX_VERT) {
		if (m->verts[s].he != TH_MESH_NONE)
			return *why = "element: the vertex is used by a face (remove its faces first)", -EINVAL;
		th_mesh_i_put_pos(rec + 16, m->verts[s].pos);
		if ((r = th_journal_push(j, REC_VERT_REMOVE, rec, 28)))
			return r;
		vert_drop(m, s);
		return 0;
	}
	const struct th_mesh_face *f = &m->faces[s];
	st32(rec + 16, f->material);
	st32(rec + 20, f->author);
	st64(rec + 24, f->lamport);
	st16(rec + 32, f->n);
	int32_t h = f->he;
	for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next)
		st64(rec + REC_FACE_HEAD + 8 * k, m->verts[m->hes[h].vert].id);
	if ((r = touch_reserve(m->index, f->n)) ||
	    (r = th_journal_push(j, REC_FACE_REMOVE, rec, REC_FACE_HEAD + 8 * (size_t)f->n)))
		return r;
	h = f->he;
	for (unsigned k = 0; k < f->n; k++, h = m->hes[h].next)
		touch(m, m->hes[h].vert);
	face_drop(m, s);
	return 0;
}

/* ops[i] is a FACE_ADD, ops[i + 1 .. i + n] its LOOPs. */
static int op_face_add(struct th_mesh *m, struct th_journal *j, const struct th_pl_mesh_op *ops, unsigned i,
		       unsigned n, const uint64_t *new_ids, uint32_t author, uint64_t lamport, const char **why)
{
	int32_t vs[TH_MESH_FACE_VERTS_MAX];
	uint64_t id = new_ids ? new_ids[i] : 0;
	if (n < 3 || n > TH_MESH_FACE_VERTS_MAX)
		return *why = "ops: a face needs 3 to FACE_VERTS_MAX corners", -EINVAL;
	if (ops[i].arg >= TH_PL_MATERIALS_MAX)
		return *why = "arg: material index out of range", -EINVAL;
	for (unsigned k = 0; k < n; k++) {
		const struct th_pl_mesh_op *c = &ops[i + 1 + k];
		uint64_t vid = c->element;
		if (c->arg == TH_PL_MESH_REF_LOCAL) {
			if (!vid || vid > i || ops[vid - 1].op != TH_PL_MESH_OP_VERTEX_ADD)
				return *why = "ops: a local reference must name an earlier VERTEX_ADD", -EINVAL;
			vid = new_ids ? new_ids[vid - 1] : 0;
		} else if (c->arg != TH_PL_MESH_REF_ID) {
			return *why = "arg: must be MESH_REF_ID or MESH_REF_LOCAL", -EINVAL;
		}
		if ((vs[k] = th_mesh_i_find(m->index, vid, IX_VERT)) == TH_MESH_NONE)
			return *why = "a face corner names a vertex that does not exist", -EINVAL;
	}
	const char *w = face_refusal(m, id, vs, n);
	if (w)
		return *why = w, -EINVAL;
	if (!room_for(m, 1))
		return *why = "the mesh would have more than TH_MESH_ELEMENTS_MAX elements", -EINVAL;
	int r = reserve(m, 0, 1, n);
	if (!r)
		r = touch_reserve(m->index, n);
	if (r)
		return r;
	uint8_t rec[16];
	rec_head(rec, m, id);
	if ((r = th_journal_push(j, REC_FACE_ADD, rec, sizeof(rec))))
		return r;
	int32_t f = face_put(m, id, ops[i].arg, vs, n);
	m->faces[f].author = author;
	m->faces[f].lamport = lamport;
	for (unsigned k = 0; k < n; k++)
		touch(m, vs[k]);
	return 0;
}

static int op_face_material(struct th_mesh *m, struct th_journal *j, uint64_t id, uint32_t material,
			    const char **why)
{
	uint8_t rec[20];
	int32_t s = th_mesh_i_find(m->index, id, IX_FACE);
	if (s == TH_MESH_NONE)
		return *why = "element: the face does not exist", -EINVAL;
	if (material >= TH_PL_MATERIALS_MAX)
		return *why = "arg: material index out of range", -EINVAL;
	rec_head(rec, m, id);
	st32(rec + 16, m->faces[s].material);
	int r = th_journal_push(j, REC_FACE_MATERIAL, rec, sizeof(rec));
	if (r)
		return r;
	m->faces[s].material = material;
	return 0;
}

static void revert(struct th_mesh *m, struct th_journal *j, size_t mark)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	while (th_journal_pop(j, mark, &kind, &d, &len) == 1)
		(void)undo(m, kind, d, len);
}

int th_mesh_apply(struct th_mesh *m, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *new_ids,
		  struct th_journal *j, const char **why)
{
	return th_mesh_apply_origin(m, ops, n, new_ids, NULL, j, why);
}

int th_mesh_apply_origin(struct th_mesh *m, const struct th_pl_mesh_op *ops, unsigned n, const uint64_t *new_ids,
			 const struct th_mesh_origin *origin, struct th_journal *j, const char **why)
{
	struct th_mesh_index *x = m->index;
	struct th_journal *jj = j ? j : &x->scratch;
	size_t mark = th_journal_mark(jj);
	const char *w = NULL;
	int r = 0;
	uint32_t author = 0;
	uint64_t lamport = origin ? origin->lamport : 0;
	if (n && !ops) {
		w = "ops: missing";
		r = -EINVAL;
		goto out;
	}
	/* The author is looked up (or added) once, before any change: a list
	 * refused later leaves at most an unused author behind, which the
	 * encoding does not show. */
	for (unsigned i = 0; i < n && origin; i++) {
		if (ops[i].op == TH_PL_MESH_OP_FACE_ADD) {
			if ((r = author_index(m, origin->author, &author)))
				goto out;
			break;
		}
	}
	x->ntouched = 0;
	if (++x->epoch == 0) {
		for (uint32_t v = 0; v < m->cap_verts; v++)
			x->vaux[v].mark = 0;
		x->epoch = 1;
	}
	for (unsigned i = 0; i < n && !r; i++) {
		const struct th_pl_mesh_op *o = &ops[i];
		switch (o->op) {
		case TH_PL_MESH_OP_VERTEX_ADD:
			r = op_vert_add(m, jj, new_ids ? new_ids[i] : 0, o->position, &w);
			break;
		case TH_PL_MESH_OP_VERTEX_MOVE:
			r = op_vert_move(m, jj, o->element, o->position, &w);
			break;
		case TH_PL_MESH_OP_REMOVE:
			r = op_remove(m, jj, o->element, &w);
			break;
		case TH_PL_MESH_OP_FACE_ADD: {
			unsigned k = 0;
			while (i + 1 + k < n && ops[i + 1 + k].op == TH_PL_MESH_OP_LOOP && k <= TH_MESH_FACE_VERTS_MAX)
				k++;
			r = op_face_add(m, jj, ops, i, k, new_ids, author, lamport, &w);
			i += k;
			break;
		}
		case TH_PL_MESH_OP_LOOP:
			w = "ops: a LOOP must follow a FACE_ADD or a LOOP";
			r = -EINVAL;
			break;
		case TH_PL_MESH_OP_FACE_MATERIAL:
			r = op_face_material(m, jj, o->element, o->arg, &w);
			break;
		default:
			w = "op: value out of range";
			r = -EINVAL;
		}
	}
	for (uint32_t t = 0; t < x->ntouched && !r; t++) {
		int32_t v = x->touched[t];
		if (m->verts[v].id && !th_mesh_i_fan_ok(m, v)) {
			w = "a vertex's faces would not form a single fan (faces may meet at a vertex only "
			    "through shared edges)";
			r = -EINVAL;
		}
	}
out:
	if (r)
		revert(m, jj, mark);
	else
		m->version = next_version();
	if (!j)
		th_journal_truncate(jj, 0);
	if (r == -EINVAL && why)
		*why = w;
	return r;
}

/* ---- check ------------------------------------------------------------------ */

static bool free_list_ok(int32_t head, uint32_t nslots, uint32_t count, const void *base, size_t stride,
			 size_t link_off, bool (*is_free)(const void *))
{
	uint32_t c = 0;
	for (int32_t s = head; s != TH_MESH_NONE; c++) {
		if (s < 0 || (uint32_t)s >= nslots || c >= count)
			return false;
		const uint8_t *e = (const uint8_t *)base + (size_t)s * stride;
		if (!is_free(e))
			return false;
		memcpy(&s, e + link_off, sizeof(s));
	}
	return c == count;
}

static bool vert_is_free(const void *e) { return ((const struct th_mesh_vert *)e)->id == 0; }
static bool face_is_free(const void *e) { return ((const struct th_mesh_face *)e)->id == 0; }
static bool he_is_free(const void *e) { return ((const struct th_mesh_he *)e)->vert == TH_MESH_NONE; }

static bool slot_ok(int32_t s, uint32_t n) { return s >= 0 && (uint32_t)s < n; }

static const char *check(const struct th_mesh *m)
{
	const struct th_mesh_index *x = m->index;
	if (!m->id || !x)
		return "the mesh has id 0 or no index";
	if (m->nverts > m->cap_verts || m->nfaces > m->cap_faces || m->nhes > m->cap_hes ||
	    m->live_verts > m->nverts || m->live_faces > m->nfaces || m->live_hes > m->nhes)
		return "slot counts are inconsistent";
	if ((uint64_t)m->live_verts + m->live_faces > TH_MESH_ELEMENTS_MAX)
		return "the mesh has more than TH_MESH_ELEMENTS_MAX elements";
	if (x->ids_len != m->live_verts + m->live_faces || x->edges_len != m->live_hes)
		return "the index does not count the live elements";
	uint32_t lv = 0, lf = 0, lh = 0, ring_total = 0, boundary = 0;
	for (uint32_t v = 0; v < m->nverts; v++) {
		const struct th_mesh_vert *e = &m->verts[v];
		if (!e->id)
			continue;
		lv++;
		if (!th_mesh_i_finite3(e->pos))
			return "a vertex position is not finite";
		if (th_mesh_i_find(x, e->id, IX_VERT) != (int32_t)v)
			return "a vertex id is repeated or not indexed";
		int32_t prev = TH_MESH_NONE;
		uint32_t deg = 0;
		for (int32_t h = e->he; h != TH_MESH_NONE; h = x->ring[h].vnext) {
			if (!slot_ok(h, m->nhes) || m->hes[h].vert != (int32_t)v || x->ring[h].vprev != prev ||
			    ring_total >= m->live_hes)
				return "a vertex's outgoing half-edges are inconsistent";
			ring_total++;
			deg++;
			prev = h;
		}
		if (deg != x->vaux[v].deg)
			return "a vertex's count of outgoing half-edges is wrong";
	}
	if (ring_total != m->live_hes)
		return "a half-edge is missing from its vertex";
	uint64_t loop_total = 0;
	for (uint32_t f = 0; f < m->nfaces; f++) {
		const struct th_mesh_face *e = &m->faces[f];
		if (!e->id)
			continue;
		lf++;
		if (th_mesh_i_find(x, e->id, IX_FACE) != (int32_t)f)
			return "a face id is repeated, used by a vertex, or not indexed";
		if (e->n < 3 || e->n > TH_MESH_FACE_VERTS_MAX)
			return "a face has fewer than 3 or more than FACE_VERTS_MAX corners";
		if (e->material >= TH_PL_MATERIALS_MAX)
			return "a face material is out of range";
		if (e->author > x->nauthors)
			return "a face's author index is out of range";
		int32_t vs[TH_MESH_FACE_VERTS_MAX];
		int32_t h = e->he;
		for (unsigned k = 0; k < e->n; k++) {
			if (!slot_ok(h, m->nhes) || m->hes[h].face != (int32_t)f || (k && h == e->he))
				return "a face loop is broken";
			const struct th_mesh_he *he = &m->hes[h];
			if (!slot_ok(he->next, m->nhes) || m->hes[he->next].prev != h)
				return "a face loop's next and prev disagree";
			if (!slot_ok(he->vert, m->nverts) || !m->verts[he->vert].id)
				return "a face corner is not a live vertex";
			vs[k] = he->vert;
			for (unsigned i = 0; i < k; i++)
				if (vs[i] == vs[k])
					return "a face repeats a vertex";
			h = he->next;
		}
		if (h != e->he)
			return "a face loop does not close after its corners";
		loop_total += e->n;
	}
	if (loop_total != m->live_hes)
		return "a half-edge belongs to no face";
	for (uint32_t h = 0; h < m->nhes; h++) {
		const struct th_mesh_he *e = &m->hes[h];
		if (e->vert == TH_MESH_NONE)
			continue;
		lh++;
		if (!slot_ok(e->face, m->nfaces) || !m->faces[e->face].id)
			return "a half-edge's face is not live";
		int32_t dest = m->hes[e->next].vert;
		if (edge_find(x, e->vert, dest) != (int32_t)h)
			return "a directed edge is repeated or not indexed";
		if (e->twin != edge_find(x, dest, e->vert))
			return "a half-edge's twin is wrong";
		boundary += e->twin == TH_MESH_NONE;
	}
	if (lv != m->live_verts || lf != m->live_faces || lh != m->live_hes)
		return "live counts are wrong";
	if (boundary != x->boundary)
		return "the count of boundary half-edges is wrong";
	if (!free_list_ok(m->free_vert, m->nverts, m->nverts - lv, m->verts, sizeof(*m->verts),
			  offsetof(struct th_mesh_vert, he), vert_is_free) ||
	    !free_list_ok(m->free_face, m->nfaces, m->nfaces - lf, m->faces, sizeof(*m->faces),
			  offsetof(struct th_mesh_face, he), face_is_free) ||
	    !free_list_ok(m->free_he, m->nhes, m->nhes - lh, m->hes, sizeof(*m->hes),
			  offsetof(struct th_mesh_he, next), he_is_free))
		return "a free list is broken";
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id && !th_mesh_i_fan_ok(m, (int32_t)v))
			return "a vertex's faces do not form a single fan";
	return NULL;
}

int th_mesh_check(const struct th_mesh *m, const char **why)
{
	const char *w = check(m);
	if (!w)
		return 0;
	if (why)
		*why = w;
	return -EINVAL;
}

