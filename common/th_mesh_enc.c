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

static uint8_t *put_face(const struct th_mesh *m, const struct th_mesh_face *e, uint8_t *p)
{
	st64(p, e->id);
	st32(p + 8, e->material);
	st16(p + 12, e->n);
	p += 14;
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
	uint32_t most = m->live_verts > m->live_faces ? m->live_verts : m->live_faces;
	bool large = most > ENC_SMALL;
	struct enc_key *buf = small, *tmp = NULL, *keys;
	uint32_t *face_off = NULL;
	if (large) {
		buf = malloc(2 * (size_t)most * sizeof(*buf) + (size_t)m->nfaces * sizeof(*face_off));
		if (!buf)
			return -ENOMEM;
		tmp = buf + most;
		face_off = (uint32_t *)(tmp + most);
	}
	size_t size = 8 + 4 + (size_t)m->live_verts * VERT_BYTES + 4 + (size_t)m->live_faces * 14 +
		      (size_t)m->live_hes * 8;
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
		st32(p, m->live_faces);
		p += 4;
		n = 0;
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (m->faces[f].id)
				buf[n++] = (struct enc_key){ .id = m->faces[f].id, .slot = (int32_t)f, .n = m->faces[f].n };
		keys = sort_keys(buf, tmp, n);
		if (!large) {
			for (uint32_t i = 0; i < n; i++)
				p = put_face(m, &m->faces[keys[i].slot], p);
		} else {
			uint32_t off = 0;
			for (uint32_t i = 0; i < n; i++) {
				face_off[keys[i].slot] = off;
				off += 14 + 8 * keys[i].n;
			}
			for (uint32_t f = 0; f < m->nfaces; f++)
				if (m->faces[f].id)
					put_face(m, &m->faces[f], p + face_off[f]);
		}
	}
	if (buf != small)
		free(buf);
	return th_wbuf_error(w);
}

int th_mesh_decode(struct th_mesh *m, const uint8_t *p, size_t len, size_t *used, const char **why)
{
	const char *w = NULL;
	int r = -EBADMSG;
	size_t off = 12;
	struct th_mesh d;
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
	for (size_t o = off, i = 0; i < nf && len - o >= 14; i++) {
		unsigned n = ld16(p + o + 12);
		if (n < 3 || n > TH_MESH_FACE_VERTS_MAX || (size_t)n * 8 > len - o - 14)
			break;
		corners += n;
		o += 14 + 8 * (size_t)n;
	}
	if ((r = th_mesh_i_reserve(&d, 0, nf, (uint32_t)corners, true)))
		goto fail;
	r = -EBADMSG;
	prev = 0;
	for (uint32_t i = 0; i < nf; i++) {
		if (len - off < 14) {
			w = "mesh: faces truncated";
			goto fail;
		}
		uint64_t id = ld64(p + off);
		uint32_t material = ld32(p + off + 8);
		unsigned n = ld16(p + off + 12);
		off += 14;
		if (id <= prev) {
			w = "mesh: face ids out of order, repeated or 0";
			goto fail;
		}
		if (material >= TH_PL_MATERIALS_MAX) {
			w = "mesh: a face material is out of range";
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
		if (th_mesh_i_face_put(&d, id, material, vs, n, true) == TH_MESH_NONE) {
			w = WHY_DIRECTED_EDGE;
			goto fail;
		}
		prev = id;
	}
	for (uint32_t v = 0; v < d.nverts; v++) {
		if (!th_mesh_i_fan_ok(&d, (int32_t)v)) {
			w = "mesh: a vertex's faces do not form a single fan";
			goto fail;
		}
	}
	*m = d;
	if (used)
		*used = off;
	return 0;
fail:
	th_mesh_fini(&d);
	if (r == -EBADMSG && why)
		*why = w;
	return r;
}
