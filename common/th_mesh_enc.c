/* Canonical encoding of half-edge meshes (th_mesh.h): th_mesh_encode and
 * th_mesh_decode. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "th_mesh.h"
#include "th_mesh_int.h"

/* ---- canonical encoding ----------------------------------------------------- */

struct enc_key {
	uint64_t id;
	int32_t slot;
	uint32_t n; /* a face's corners */
};

#define RADIX_BITS 11u
#define RADIX_DIGITS (1u << RADIX_BITS)

/* Ascending id. Small arrays by insertion; larger ones by an LSD radix sort
 * on the id, RADIX_BITS at a time, through tmp[n] (a pass is skipped when
 * every key has the same digit there). Returns the sorted array: k or tmp. */
static struct enc_key *sort_keys(struct enc_key *k, struct enc_key *tmp, uint32_t n)
{
	if (n <= ENC_SMALL || !tmp) {
		for (uint32_t i = 1; i < n; i++) {
			struct enc_key t = k[i];
			uint32_t j = i;
			for (; j > 0 && k[j - 1].id > t.id; j--)
				k[j] = k[j - 1];
			k[j] = t;
		}
		return k;
	}
	uint32_t count[RADIX_DIGITS];
	for (unsigned shift = 0; shift < 64; shift += RADIX_BITS) {
		memset(count, 0, sizeof(count));
		for (uint32_t i = 0; i < n; i++)
			count[(k[i].id >> shift) & (RADIX_DIGITS - 1)]++;
		if (count[(k[0].id >> shift) & (RADIX_DIGITS - 1)] == n)
			continue;
		uint32_t sum = 0;
		for (unsigned d = 0; d < RADIX_DIGITS; d++) {
			uint32_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (uint32_t i = 0; i < n; i++)
			tmp[count[(k[i].id >> shift) & (RADIX_DIGITS - 1)]++] = k[i];
		struct enc_key *t = k;
		k = tmp;
		tmp = t;
	}
	return k;
}

#define AUTHORS_SMALL 16u /* authors mapped on the stack by th_mesh_encode */

struct author_key {
	const uint8_t *key;
	uint32_t k; /* index in the mesh */
};

static int author_cmp(const void *a, const void *b)
{
	return memcmp(((const struct author_key *)a)->key, ((const struct author_key *)b)->key, TH_MESH_AUTHOR_LEN);
}

/* The encoding's author list: amap[k] for each mesh index k (0..nauthors)
 * is its number in the list (0: unknown, or an author no live face has),
 * ak[0..*count-1] the listed authors in ascending key order. */
static void author_map(const struct th_mesh *m, uint32_t *amap, struct author_key *ak, uint32_t *count)
{
	const struct th_mesh_index *x = m->index;
	memset(amap, 0, ((size_t)x->nauthors + 1) * sizeof(*amap));
	uint32_t n = 0;
	for (uint32_t f = 0; f < m->nfaces && n < x->nauthors; f++) {
		uint32_t k = m->faces[f].author;
		if (m->faces[f].id && k && !amap[k]) {
			amap[k] = 1;
			ak[n++] = (struct author_key){ .key = x->authors[k - 1], .k = k };
		}
	}
	qsort(ak, n, sizeof(*ak), author_cmp);
	for (uint32_t i = 0; i < n; i++)
		amap[ak[i].k] = i + 1;
	*count = n;
}

static size_t encoded_size(const struct th_mesh *m, uint32_t listed)
{
	return 8 + 4 + (size_t)m->live_verts * VERT_BYTES + 4 + (size_t)listed * TH_MESH_AUTHOR_LEN + 4 +
	       (size_t)m->live_faces * FACE_HEAD_BYTES + (size_t)m->live_hes * 8;
}

int th_mesh_encoded_size(const struct th_mesh *m, size_t *size)
{
	uint32_t nauthors = m->index->nauthors, listed = 0;
	uint8_t small[AUTHORS_SMALL + 1];
	uint8_t *seen = small;
	if (nauthors > AUTHORS_SMALL && !(seen = malloc((size_t)nauthors + 1)))
		return -ENOMEM;
	memset(seen, 0, (size_t)nauthors + 1);
	for (uint32_t f = 0; f < m->nfaces && listed < nauthors; f++) {
		uint32_t k = m->faces[f].author;
		if (m->faces[f].id && k && !seen[k]) {
			seen[k] = 1;
			listed++;
		}
	}
	if (seen != small)
		free(seen);
	*size = encoded_size(m, listed);
	return 0;
}

static uint8_t *put_face(const struct th_mesh *m, const struct th_mesh_face *e, const uint32_t *amap, uint8_t *p)
{
	st64(p, e->id);
	st32(p + 8, e->material);
	st32(p + 12, amap[e->author]);
	st64(p + 16, e->lamport);
	st16(p + 24, e->n);
	p += FACE_HEAD_BYTES;
	int32_t h = e->he;
	for (unsigned k = 0; k < e->n; k++, p += 8, h = m->hes[h].next)
		st64(p, m->verts[m->hes[h].vert].id);
	return p;
}

/* Vertices in ascending id; faces too, but a large mesh's faces are written
 * in slot order, each at the offset its rank gives: their half-edges and
 * vertices are read where they lie, not in the random order of their ids. */
int th_mesh_encode(const struct th_mesh *m, struct th_wbuf *w)
{
	struct enc_key small[ENC_SMALL];
	uint32_t amap_small[AUTHORS_SMALL + 1];
	struct author_key ak_small[AUTHORS_SMALL];
	uint32_t most = m->live_verts > m->live_faces ? m->live_verts : m->live_faces;
	uint32_t nauthors = m->index->nauthors, nlisted = 0;
	bool large = most > ENC_SMALL;
	struct enc_key *buf = small, *tmp = NULL, *keys;
	uint32_t *face_off = NULL, *amap = amap_small;
	struct author_key *ak = ak_small;
	if (nauthors > AUTHORS_SMALL) {
		/* One block: the map, then the keys at their alignment. */
		size_t al = _Alignof(struct author_key);
		size_t off = (((size_t)nauthors + 1) * sizeof(*amap) + al - 1) / al * al;
		amap = malloc(off + (size_t)nauthors * sizeof(*ak));
		if (!amap)
			return -ENOMEM;
		ak = (struct author_key *)((char *)amap + off);
	}
	author_map(m, amap, ak, &nlisted);
	if (large) {
		buf = malloc(2 * (size_t)most * sizeof(*buf) + (size_t)m->nfaces * sizeof(*face_off));
		if (!buf) {
			if (amap != amap_small)
				free(amap);
			return -ENOMEM;
		}
		tmp = buf + most;
		face_off = (uint32_t *)(tmp + most);
	}
	size_t size = encoded_size(m, nlisted);
	uint8_t *p = th_wbuf_extend(w, size);
	if (p) {
		st64(p, m->id);
		st32(p + 8, m->live_verts);
		p += 12;
		uint32_t n = 0;
		for (uint32_t v = 0; v < m->nverts; v++)
			if (m->verts[v].id)
				buf[n++] = (struct enc_key){ .id = m->verts[v].id, .slot = (int32_t)v };
		keys = sort_keys(buf, tmp, n);
		for (uint32_t i = 0; i < n; i++, p += VERT_BYTES) {
			const struct th_mesh_vert *e = &m->verts[keys[i].slot];
			st64(p, e->id);
			th_mesh_i_put_pos(p + 8, e->pos);
		}
		st32(p, nlisted);
		p += 4;
		for (uint32_t i = 0; i < nlisted; i++, p += TH_MESH_AUTHOR_LEN)
			memcpy(p, ak[i].key, TH_MESH_AUTHOR_LEN);
		st32(p, m->live_faces);
		p += 4;
		n = 0;
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (m->faces[f].id)
				buf[n++] = (struct enc_key){ .id = m->faces[f].id, .slot = (int32_t)f, .n = m->faces[f].n };
		keys = sort_keys(buf, tmp, n);
		if (!large) {
			for (uint32_t i = 0; i < n; i++)
				p = put_face(m, &m->faces[keys[i].slot], amap, p);
		} else {
			uint32_t off = 0;
			for (uint32_t i = 0; i < n; i++) {
				face_off[keys[i].slot] = off;
				off += FACE_HEAD_BYTES + 8 * keys[i].n;
			}
			for (uint32_t f = 0; f < m->nfaces; f++)
				if (m->faces[f].id)
					put_face(m, &m->faces[f], amap, p + face_off[f]);
		}
	}
	if (buf != small)
		free(buf);
	if (amap != amap_small)
		free(amap);
	return th_wbuf_error(w);
}

int th_mesh_decode(struct th_mesh *m, const uint8_t *p, size_t len, size_t *used, const char **why)
{
	const char *w = NULL;
	int r = -EBADMSG;
	size_t off = 12;
	struct th_mesh d;
	uint8_t *aused = NULL;
	if (len < 12) {
		if (why)
			*why = "mesh: truncated";
		return -EBADMSG;
	}
	r = th_mesh_init(&d, ld64(p));
	if (r == -EINVAL) {
		if (why)
			*why = "mesh: id 0";
		return -EBADMSG;
	}
	if (r)
		return r;
	r = -EBADMSG;
	uint32_t nv = ld32(p + 8);
	if (nv > TH_MESH_ELEMENTS_MAX) {
		w = "mesh: more than TH_MESH_ELEMENTS_MAX elements";
		goto fail;
	}
	if ((uint64_t)nv * VERT_BYTES + 4 > len - off) {
		w = "mesh: vertices truncated";
		goto fail;
	}
	if ((r = th_mesh_i_reserve(&d, nv, 0, 0, true)))
		goto fail;
	r = -EBADMSG;
	uint64_t prev = 0;
	for (uint32_t i = 0; i < nv; i++, off += VERT_BYTES) {
		uint64_t id = ld64(p + off);
		float pos[3];
		th_mesh_i_get_pos(p + off + 8, pos);
		if (id <= prev) {
			w = "mesh: vertex ids out of order, repeated or 0";
			goto fail;
		}
		if (!th_mesh_i_finite3(pos)) {
			w = "mesh: a vertex position is not finite";
			goto fail;
		}
		th_mesh_i_vert_put(&d, id, pos);
		prev = id;
	}
	uint32_t na = ld32(p + off);
	off += 4;
	if (na > TH_MESH_AUTHORS_MAX) {
		w = "mesh: more than TH_MESH_AUTHORS_MAX authors";
		goto fail;
	}
	if ((uint64_t)na * TH_MESH_AUTHOR_LEN + 4 > len - off) {
		w = "mesh: authors truncated";
		goto fail;
	}
	if (na) {
		if ((r = th_mesh_i_authors_reserve(d.index, na)))
			goto fail;
		if (!(aused = calloc(na, 1))) {
			r = -ENOMEM;
			goto fail;
		}
		r = -EBADMSG;
	}
	for (uint32_t i = 0; i < na; i++, off += TH_MESH_AUTHOR_LEN) {
		static const uint8_t zero[TH_MESH_AUTHOR_LEN];
		const uint8_t *prev_key = i ? p + off - TH_MESH_AUTHOR_LEN : zero;
		if (memcmp(p + off, prev_key, TH_MESH_AUTHOR_LEN) <= 0) {
			w = "mesh: author keys out of order, repeated or zero";
			goto fail;
		}
		memcpy(d.index->authors[i], p + off, TH_MESH_AUTHOR_LEN);
	}
	d.index->nauthors = na;
	uint32_t nf = ld32(p + off);
	off += 4;
	if ((uint64_t)nf + nv > TH_MESH_ELEMENTS_MAX) {
		w = "mesh: more than TH_MESH_ELEMENTS_MAX elements";
		goto fail;
	}
	if ((uint64_t)nf * FACE_MIN_BYTES > len - off) {
		w = "mesh: faces truncated";
		goto fail;
	}
	/* Room for every face and corner at once (as many as the bytes hold;
	 * the loop below validates them). */
	uint64_t corners = 0;
	for (size_t o = off, i = 0; i < nf && len - o >= FACE_HEAD_BYTES; i++) {
		unsigned n = ld16(p + o + FACE_HEAD_BYTES - 2);
		if (n < 3 || n > TH_MESH_FACE_VERTS_MAX || (size_t)n * 8 > len - o - FACE_HEAD_BYTES)
			break;
		corners += n;
		o += FACE_HEAD_BYTES + 8 * (size_t)n;
	}
	if ((r = th_mesh_i_reserve(&d, 0, nf, (uint32_t)corners, true)))
		goto fail;
	r = -EBADMSG;
	prev = 0;
	for (uint32_t i = 0; i < nf; i++) {
		if (len - off < FACE_HEAD_BYTES) {
			w = "mesh: faces truncated";
			goto fail;
		}
		uint64_t id = ld64(p + off);
		uint32_t material = ld32(p + off + 8), author = ld32(p + off + 12);
		uint64_t lamport = ld64(p + off + 16);
		unsigned n = ld16(p + off + 24);
		off += FACE_HEAD_BYTES;
		if (id <= prev) {
			w = "mesh: face ids out of order, repeated or 0";
			goto fail;
		}
		if (material >= TH_PL_MATERIALS_MAX) {
			w = "mesh: a face material is out of range";
			goto fail;
		}
		if (author > na) {
			w = "mesh: a face's author is not in the mesh's list";
			goto fail;
		}
		if (n < 3 || n > TH_MESH_FACE_VERTS_MAX) {
			w = "mesh: a face has fewer than 3 or more than FACE_VERTS_MAX corners";
			goto fail;
		}
		if ((size_t)n * 8 > len - off) {
			w = "mesh: faces truncated";
			goto fail;
		}
		int32_t vs[TH_MESH_FACE_VERTS_MAX];
		for (unsigned k = 0; k < n; k++, off += 8) {
			if ((vs[k] = th_mesh_i_find(d.index, ld64(p + off), IX_VERT)) == TH_MESH_NONE) {
				w = "mesh: a face names a missing vertex";
				goto fail;
			}
		}
		if ((w = th_mesh_i_face_shape_refusal(&d, id, vs, n)))
			goto fail;
		if ((r = reserve(&d, 0, 1, n)))
			goto fail;
		r = -EBADMSG;
		int32_t f = th_mesh_i_face_put(&d, id, material, vs, n, true);
		if (f == TH_MESH_NONE) {
			w = WHY_DIRECTED_EDGE;
			goto fail;
		}
		d.faces[f].author = author;
		d.faces[f].lamport = lamport;
		if (author)
			aused[author - 1] = 1;
		prev = id;
	}
	for (uint32_t i = 0; i < na; i++) {
		if (!aused[i]) {
			w = "mesh: an author in the mesh's list has no face";
			goto fail;
		}
	}
	for (uint32_t v = 0; v < d.nverts; v++) {
		if (!th_mesh_i_fan_ok(&d, (int32_t)v)) {
			w = "mesh: a vertex's faces do not form a single fan";
			goto fail;
		}
	}
	free(aused);
	*m = d;
	if (used)
		*used = off;
	return 0;
fail:
	free(aused);
	th_mesh_fini(&d);
	if (r == -EBADMSG && why)
		*why = w;
	return r;
}
