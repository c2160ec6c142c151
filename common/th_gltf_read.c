/* glTF 2.0 reader (.glb, and .gltf with data: URI buffers) into the
 * neutral model (th_model.h). Outside bytes: every length, offset, index
 * and number is checked before use; a refusal is one sentence naming what
 * and where (a byte offset, or the accessor / mesh / node index).
 *
 * Read: the default scene's node tree (node TRS or matrix; a world
 * transform that is rotation and positive scale becomes the object's
 * transform, one with shear or a mirror is baked into the positions),
 * triangle primitives (mode 4) of float VEC3 POSITION accessors with u8 /
 * u16 / u32 indices or none, materials' pbrMetallicRoughness factors, and
 * the export's extras (docs/export.md): a primitive's
 * extras.theta_faces.triangles puts the original n-gons back together.
 * Equal positions are welded within a primitive, then across the
 * primitives of one mesh (the export writes a mesh's faces of each
 * material as a primitive of their own). Not read (refused with a
 * sentence): external buffer files, sparse accessors, other primitive
 * modes, required extensions. */
#include "th_model.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_GLTF_MAGIC 0x46546c67u   /* "glTF" */
#define TH_GLTF_CHUNK_JSON 0x4e4f534au
#define TH_GLTF_CHUNK_BIN 0x004e4942u
#define TH_GLTF_JSON_DEPTH 64        /* nesting of the JSON document */
#define TH_GLTF_BUFFERS_MAX 256u
#define TH_GLTF_NODE_DEPTH 64u       /* levels of the node tree */
#define TH_GLTF_NODES_MAX 65536u
#define TH_GLTF_PRIMITIVES_MAX 4096u /* per mesh */
/* A world matrix counts as rotation and scale when its axes are this
 * close to orthogonal (relative); otherwise it is baked into positions. */
#define TH_GLTF_ORTHO_EPS 1e-6

struct gl {
	struct json_object *root;
	const uint8_t *bin; /* GLB BIN chunk */
	size_t bin_len;
	uint8_t **bufs;     /* decoded data: URI buffers (NULL: the BIN chunk) */
	size_t *buf_len;
	uint32_t n_bufs;
	struct th_model *m;
	uint32_t n_materials;
	uint8_t *visited;  /* nodes reached in the tree */
	char *why;
	size_t whylen;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int fail(struct gl *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct gl *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->why, g->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- JSON helpers -------------------------------------------------------------------- */

static struct json_object *member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static struct json_object *array_of(struct json_object *o, const char *k)
{
	struct json_object *v = member(o, k);
	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* An integer member in [0, max]: 0 with *out, 1 when absent, -EINVAL. */
static int get_uint(struct json_object *o, const char *k, uint64_t max, uint64_t *out)
{
	struct json_object *v = member(o, k);
	if (!v)
		return 1;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	int64_t x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x > max)
		return -EINVAL;
	*out = (uint64_t)x;
	return 0;
}

static int get_number(struct json_object *v, double *out)
{
	if (!v || (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int)))
		return -EINVAL;
	*out = json_object_get_double(v);
	return isfinite(*out) ? 0 : -EINVAL;
}

/* n numbers of member k into out: 0, 1 absent, -EINVAL. */
static int get_numbers(struct json_object *o, const char *k, unsigned n, double *out)
{
	struct json_object *v = member(o, k);
	if (!v)
		return 1;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) != n)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (get_number(json_object_array_get_idx(v, i), &out[i]) < 0)
			return -EINVAL;
	return 0;
}

static size_t array_len(struct json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

/* ---- buffers ------------------------------------------------------------------------- */

static int load_buffers(struct gl *g)
{
	struct json_object *bufs = array_of(g->root, "buffers");
	size_t n = array_len(bufs);
	if (member(g->root, "buffers") && !bufs)
		return fail(g, "\"buffers\" is not an array");
	if (n > TH_GLTF_BUFFERS_MAX)
		return fail(g, "%zu buffers; at most %u are read", n, TH_GLTF_BUFFERS_MAX);
	g->bufs = calloc(n ? n : 1, sizeof(*g->bufs));
	g->buf_len = calloc(n ? n : 1, sizeof(*g->buf_len));
	if (!g->bufs || !g->buf_len)
		return fail(g, "out of memory"), -ENOMEM;
	g->n_bufs = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = json_object_array_get_idx(bufs, i), *uri = member(b, "uri");
		uint64_t blen;
		if (get_uint(b, "byteLength", TH_MODEL_FILE_MAX, &blen) != 0 || blen < 1)
			return fail(g, "buffer %zu: byteLength is missing or not 1 to %u", i, TH_MODEL_FILE_MAX);
		if (!uri) {
			if (i != 0 || !g->bin)
				return fail(g, "buffer %zu has no uri and is not a .glb's BIN chunk", i);
			if (blen > g->bin_len)
				return fail(g, "buffer 0: byteLength %llu is larger than the BIN chunk (%zu bytes)",
					    (unsigned long long)blen, g->bin_len);
			g->buf_len[i] = (size_t)blen;
			continue;
		}
		const char *u = json_object_is_type(uri, json_type_string) ? json_object_get_string(uri) : "";
		const char *comma = strchr(u, ',');
		if (strncmp(u, "data:", 5) || !comma || comma - u < 12 || strncmp(comma - 7, ";base64", 7))
			return fail(g, "buffer %zu: uri '%.40s%s' is not a base64 data: URI (files beside a .gltf are not read; use .glb)",
				    i, u, strlen(u) > 40 ? "..." : "");
		size_t enc = strlen(comma + 1), got = 0;
		g->bufs[i] = malloc(enc / 4 * 3 + 3);
		if (!g->bufs[i])
			return fail(g, "out of memory"), -ENOMEM;
		if (sodium_base642bin(g->bufs[i], enc / 4 * 3 + 3, comma + 1, enc, NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0)
			return fail(g, "buffer %zu: the data: URI is not valid base64", i);
		if (got < blen)
			return fail(g, "buffer %zu: byteLength %llu but its data: URI holds %zu bytes", i,
				    (unsigned long long)blen, got);
		g->buf_len[i] = (size_t)blen;
	}
	return 0;
}

static const uint8_t *buffer_bytes(struct gl *g, uint32_t i)
{
	return g->bufs[i] ? g->bufs[i] : g->bin;
}

/* ---- accessors ------------------------------------------------------------------------ */

struct acc {
	const uint8_t *p; /* first element */
	size_t stride, count;
	unsigned comp;    /* componentType */
};

static unsigned comp_size(unsigned ct)
{
	return ct == 5126 || ct == 5125 ? 4 : ct == 5123 ? 2 : ct == 5121 ? 1 : 0;
}

/* Accessor idx as `type` with one of the component types allowed. */
static int accessor(struct gl *g, uint64_t idx, const char *type, bool want_float, struct acc *a)
{
	struct json_object *accs = array_of(g->root, "accessors"), *views = array_of(g->root, "bufferViews");
	if (idx >= array_len(accs))
		return fail(g, "accessor %llu does not exist (%zu accessors)", (unsigned long long)idx, array_len(accs));
	struct json_object *ac = json_object_array_get_idx(accs, idx), *t = member(ac, "type");
	uint64_t view, off = 0, ct, count, voff = 0, vlen, vstride = 0, buf;
	if (member(ac, "sparse"))
		return fail(g, "accessor %llu is sparse; sparse accessors are not read", (unsigned long long)idx);
	if (!t || !json_object_is_type(t, json_type_string) || strcmp(json_object_get_string(t), type))
		return fail(g, "accessor %llu: type is not %s", (unsigned long long)idx, type);
	if (get_uint(ac, "componentType", 0xffff, &ct) != 0 || !comp_size((unsigned)ct) || want_float != (ct == 5126))
		return fail(g, "accessor %llu: componentType must be %s", (unsigned long long)idx,
			    want_float ? "5126 (float)" : "5121, 5123 or 5125 (unsigned byte, short or int)");
	struct json_object *nz = member(ac, "normalized");
	if (nz && json_object_get_boolean(nz))
		return fail(g, "accessor %llu is normalized; positions and indices are not", (unsigned long long)idx);
	if (get_uint(ac, "count", TH_MODEL_CORNERS_MAX, &count) != 0 || count < 1)
		return fail(g, "accessor %llu: count is missing or not 1 to %u", (unsigned long long)idx, TH_MODEL_CORNERS_MAX);
	if (get_uint(ac, "bufferView", UINT32_MAX, &view) != 0)
		return fail(g, "accessor %llu has no bufferView", (unsigned long long)idx);
	if (get_uint(ac, "byteOffset", TH_MODEL_FILE_MAX, &off) < 0)
		return fail(g, "accessor %llu: byteOffset is not 0 to %u", (unsigned long long)idx, TH_MODEL_FILE_MAX);
	if (view >= array_len(views))
		return fail(g, "accessor %llu names bufferView %llu, which does not exist", (unsigned long long)idx,
			    (unsigned long long)view);
	struct json_object *bv = json_object_array_get_idx(views, view);
	if (get_uint(bv, "buffer", UINT32_MAX, &buf) != 0 || buf >= g->n_bufs)
		return fail(g, "bufferView %llu: buffer is missing or names none of the %u buffers", (unsigned long long)view,
			    g->n_bufs);
	if (get_uint(bv, "byteLength", TH_MODEL_FILE_MAX, &vlen) != 0 ||
	    get_uint(bv, "byteOffset", TH_MODEL_FILE_MAX, &voff) < 0 ||
	    get_uint(bv, "byteStride", 252, &vstride) < 0 || (vstride && (vstride < 4 || vstride % 4)))
		return fail(g, "bufferView %llu: byteLength, byteOffset or byteStride is missing or out of range",
			    (unsigned long long)view);
	if (voff + vlen > g->buf_len[buf])
		return fail(g, "bufferView %llu: bytes %llu to %llu lie past the end of buffer %llu (%zu bytes)",
			    (unsigned long long)view, (unsigned long long)voff, (unsigned long long)(voff + vlen),
			    (unsigned long long)buf, g->buf_len[buf]);
	unsigned cs = comp_size((unsigned)ct), ncomp = !strcmp(type, "VEC3") ? 3 : 1;
	size_t esize = (size_t)cs * ncomp, stride = vstride ? vstride : esize;
	if (stride < esize || off % cs)
		return fail(g, "accessor %llu: its elements do not fit the bufferView's stride or alignment",
			    (unsigned long long)idx);
	if (off + (count - 1) * stride + esize > vlen)
		return fail(g, "accessor %llu: %llu elements from byte %llu run past the end of bufferView %llu (%llu bytes)",
			    (unsigned long long)idx, (unsigned long long)count, (unsigned long long)off,
			    (unsigned long long)view, (unsigned long long)vlen);
	*a = (struct acc){ .p = buffer_bytes(g, (uint32_t)buf) + voff + off, .stride = stride, .count = (size_t)count,
			   .comp = (unsigned)ct };
	return 0;
}

static uint32_t acc_index(const struct acc *a, size_t i)
{
	const uint8_t *p = a->p + i * a->stride;
	return a->comp == 5121 ? p[0] : a->comp == 5123 ? (uint32_t)(p[0] | p[1] << 8) : le32(p);
}

/* ---- materials ------------------------------------------------------------------------- */

/* name into out (at most TH_MODEL_MATERIAL_NAME_MAX bytes, cut at a UTF-8
 * character boundary, printable); "material N" when absent or not UTF-8. */
static void material_name(struct json_object *n, size_t idx, char *out, size_t cap)
{
	const char *s = n && json_object_is_type(n, json_type_string) ? json_object_get_string(n) : "";
	size_t len = strlen(s);
	if (len > TH_MODEL_MATERIAL_NAME_MAX) {
		len = TH_MODEL_MATERIAL_NAME_MAX;
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	bool ok = len > 0;
	for (size_t i = 0; i < len && ok; i++)
		ok = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
	if (ok)
		snprintf(out, cap, "%.*s", (int)len, s);
	else
		snprintf(out, cap, "material %zu", idx);
}

static int load_materials(struct gl *g)
{
	struct json_object *mats = array_of(g->root, "materials");
	size_t n = array_len(mats);
	if (n > TH_MODEL_MATERIALS_MAX)
		return fail(g, "%zu materials; at most %u are read", n, TH_MODEL_MATERIALS_MAX);
	for (size_t i = 0; i < n; i++) {
		struct json_object *mt = json_object_array_get_idx(mats, i), *pbr = member(mt, "pbrMetallicRoughness");
		struct th_model_material out = { .base_color = { 1, 1, 1, 1 }, .roughness = 1, .metallic = 1,
						 .source_index = TH_MODEL_NO_MATERIAL };
		double c[4] = { 1, 1, 1, 1 }, x;
		uint64_t src;
		material_name(member(mt, "name"), i, out.name, sizeof(out.name));
		/* A Theta export names the table entry: index and "m<index>_<name>". */
		if (get_uint(member(mt, "extras"), "theta_material", TH_PL_MATERIALS_MAX - 1, &src) == 0) {
			char pre[16];
			int pl = snprintf(pre, sizeof(pre), "m%u_", (unsigned)src);
			out.source_index = (uint32_t)src;
			if (!strncmp(out.name, pre, (size_t)pl) && out.name[pl])
				memmove(out.name, out.name + pl, strlen(out.name + pl) + 1);
		}
		if (get_numbers(pbr, "baseColorFactor", 4, c) < 0)
			return fail(g, "material %zu: baseColorFactor is not 4 numbers", i);
		for (int k = 0; k < 4; k++) {
			if (c[k] < 0 || c[k] > 1)
				return fail(g, "material %zu: baseColorFactor[%d] is %g, outside 0 to 1", i, k, c[k]);
			out.base_color[k] = (float)c[k];
		}
		static const char *const fk[2] = { "roughnessFactor", "metallicFactor" };
		for (int k = 0; k < 2; k++) {
			struct json_object *v = member(pbr, fk[k]);
			if (!v)
				continue;
			if (get_number(v, &x) < 0 || x < 0 || x > 1)
				return fail(g, "material %zu: %s is not a number from 0 to 1", i, fk[k]);
			*(k ? &out.metallic : &out.roughness) = (float)x;
		}
		int r = th_model_material_add(g->m, &out, g->why, g->whylen);
		if (r < 0)
			return r;
	}
	g->n_materials = (uint32_t)n;
	return 0;
}

/* ---- meshes ----------------------------------------------------------------------------- */

static int read_primitive(struct gl *g, size_t mi, size_t pi, struct json_object *pr, const double *bake)
{
	uint64_t pos_idx, ind_idx, mode = 4, mat = TH_MODEL_NO_MATERIAL;
	struct acc pos, ind;
	int r;
	if (get_uint(pr, "mode", 6, &mode) < 0 || mode != 4)
		return fail(g, "mesh %zu primitive %zu: mode %llu is not 4 (triangles); only triangles are read", mi, pi,
			    (unsigned long long)mode);
	if (get_uint(member(pr, "attributes"), "POSITION", UINT32_MAX, &pos_idx) != 0)
		return fail(g, "mesh %zu primitive %zu has no POSITION attribute", mi, pi);
	if ((r = get_uint(pr, "material", UINT32_MAX, &mat)) < 0 || (r == 0 && mat >= g->n_materials))
		return fail(g, "mesh %zu primitive %zu names material %llu of %u", mi, pi, (unsigned long long)mat,
			    g->n_materials);
	if ((r = accessor(g, pos_idx, "VEC3", true, &pos)) < 0)
		return r;
	bool indexed = (r = get_uint(pr, "indices", UINT32_MAX, &ind_idx)) == 0;
	if (r < 0)
		return fail(g, "mesh %zu primitive %zu: indices is not an accessor index", mi, pi);
	if (indexed && (r = accessor(g, ind_idx, "SCALAR", false, &ind)) < 0)
		return r;
	size_t n_idx = indexed ? ind.count : pos.count;
	if (n_idx % 3)
		return fail(g, "mesh %zu primitive %zu: %zu %s is not a whole number of triangles", mi, pi, n_idx,
			    indexed ? "indices" : "vertices");
	uint32_t v0 = g->m->n_verts, f0 = g->m->n_faces;
	for (size_t i = 0; i < pos.count; i++) {
		float p[3];
		const uint8_t *b = pos.p + i * pos.stride;
		for (int k = 0; k < 3; k++) {
			uint32_t bits = le32(b + 4 * k);
			memcpy(&p[k], &bits, 4);
			if (!isfinite(p[k]))
				return fail(g, "accessor %llu: vertex %zu has a coordinate that is not a finite number",
					    (unsigned long long)pos_idx, i);
		}
		if (bake) {
			float q[3];
			for (int k = 0; k < 3; k++)
				q[k] = (float)(bake[k] * p[0] + bake[4 + k] * p[1] + bake[8 + k] * p[2] + bake[12 + k]);
			memcpy(p, q, sizeof(p));
		}
		if ((r = th_model_vert_add(g->m, p, g->why, g->whylen)) < 0)
			return r;
	}
	for (size_t t = 0; t < n_idx / 3; t++) {
		uint32_t c[3];
		for (int k = 0; k < 3; k++) {
			uint32_t x = indexed ? acc_index(&ind, 3 * t + (size_t)k) : (uint32_t)(3 * t + (size_t)k);
			if (x >= pos.count)
				return fail(g, "mesh %zu primitive %zu: index %zu is %u, past the %zu vertices", mi, pi,
					    3 * t + (size_t)k, x, pos.count);
			c[k] = v0 + x;
		}
		if (c[0] == c[1] || c[1] == c[2] || c[0] == c[2])
			return fail(g, "mesh %zu primitive %zu: triangle %zu uses one vertex twice", mi, pi, t);
		if ((r = th_model_face_add(g->m, c, 3, (uint32_t)mat, g->why, g->whylen)) < 0)
			return r;
	}
	char sub[TH_MODEL_WHY_LEN];
	if ((r = th_model_weld(g->m, v0, f0, false, sub, sizeof(sub))) < 0)
		return r == -ENOMEM ? (fail(g, "out of memory"), r) : fail(g, "mesh %zu primitive %zu: %s", mi, pi, sub);
	struct json_object *ft = array_of(member(member(pr, "extras"), "theta_faces"), "triangles");
	if (ft) {
		size_t n = json_object_array_length(ft);
		if (n > TH_MODEL_FACES_MAX)
			return fail(g, "mesh %zu primitive %zu: extras.theta_faces.triangles has more than %u entries", mi, pi,
				    TH_MODEL_FACES_MAX);
		uint32_t *counts = malloc((n ? n : 1) * sizeof(uint32_t));
		if (!counts)
			return fail(g, "out of memory"), -ENOMEM;
		for (size_t k = 0; k < n; k++) {
			struct json_object *v = json_object_array_get_idx(ft, k);
			int64_t x = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
			if (x < 1 || x > TH_MODEL_FACE_VERTS_MAX) {
				free(counts);
				return fail(g, "mesh %zu primitive %zu: extras.theta_faces.triangles[%zu] is not a count of triangles",
					    mi, pi, k);
			}
			counts[k] = (uint32_t)x;
		}
		r = th_model_merge_triangles(g->m, f0, counts, (uint32_t)n, sub, sizeof(sub));
		free(counts);
		if (r < 0)
			return fail(g, "mesh %zu primitive %zu: extras.theta_faces.triangles: %s", mi, pi, sub);
	}
	return 0;
}

/* ---- nodes and transforms ----------------------------------------------------------------- */

/* Column-major 4x4: out = a * b. */
static void mat_mul(const double *a, const double *b, double *out)
{
	double t[16];
	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 4; r++) {
			double s = 0;
			for (int k = 0; k < 4; k++)
				s += a[k * 4 + r] * b[c * 4 + k];
			t[c * 4 + r] = s;
		}
	memcpy(out, t, sizeof(t));
}

static void mat_trs(const double *t, const double *q, const double *s, double *out)
{
	double x = q[0], y = q[1], z = q[2], w = q[3];
	double rm[9] = { 1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w),
			 2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w),
			 2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y) };
	for (int c = 0; c < 3; c++) {
		for (int r = 0; r < 3; r++)
			out[c * 4 + r] = rm[c * 3 + r] * s[c];
		out[c * 4 + 3] = 0;
	}
	for (int r = 0; r < 3; r++)
		out[12 + r] = t[r];
	out[15] = 1;
}

struct node_tf {
	double m[16];
	bool identity;     /* no transform on the way down */
	bool exact;        /* the node's own TRS, its ancestors identity */
	double t[3], r[4], s[3];
};

static int node_local(struct gl *g, size_t ni, struct json_object *nd, struct node_tf *l)
{
	double t[3] = { 0, 0, 0 }, q[4] = { 0, 0, 0, 1 }, s[3] = { 1, 1, 1 }, mx[16];
	int rt = get_numbers(nd, "translation", 3, t), rr = get_numbers(nd, "rotation", 4, q),
	    rs = get_numbers(nd, "scale", 3, s), rm = get_numbers(nd, "matrix", 16, mx);
	if (rt < 0 || rr < 0 || rs < 0 || rm < 0)
		return fail(g, "node %zu: translation, rotation, scale or matrix is not the right count of finite numbers", ni);
	if (rm == 0 && (rt == 0 || rr == 0 || rs == 0))
		return fail(g, "node %zu has both a matrix and translation / rotation / scale", ni);
	if (rm == 0) {
		if (mx[3] != 0 || mx[7] != 0 || mx[11] != 0 || mx[15] != 1)
			return fail(g, "node %zu: matrix is not affine (last row 0 0 0 1)", ni);
		memcpy(l->m, mx, sizeof(mx));
		l->identity = false;
		l->exact = false;
		return 0;
	}
	double qn = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	if (fabs(qn - 1) > 1e-3)
		return fail(g, "node %zu: rotation is not a unit quaternion (length %g)", ni, qn);
	mat_trs(t, q, s, l->m);
	l->identity = rt && rr && rs;
	l->exact = true;
	memcpy(l->t, t, sizeof(t));
	memcpy(l->r, q, sizeof(q));
	memcpy(l->s, s, sizeof(s));
	return 0;
}

/* The object's transform from world matrix w: rotation and positive scale
 * (0, with TRS set), or 1 when it must be baked (shear, mirror, zero scale). */
static int decompose(const double *w, struct th_model_object *o)
{
	double sc[3], ax[3][3];
	for (int c = 0; c < 3; c++) {
		sc[c] = sqrt(w[c * 4] * w[c * 4] + w[c * 4 + 1] * w[c * 4 + 1] + w[c * 4 + 2] * w[c * 4 + 2]);
		if (!(sc[c] > 0))
			return 1;
		for (int r = 0; r < 3; r++)
			ax[c][r] = w[c * 4 + r] / sc[c];
	}
	for (int a = 0; a < 3; a++)
		for (int b = a + 1; b < 3; b++)
			if (fabs(ax[a][0] * ax[b][0] + ax[a][1] * ax[b][1] + ax[a][2] * ax[b][2]) > TH_GLTF_ORTHO_EPS)
				return 1;
	double det = ax[0][0] * (ax[1][1] * ax[2][2] - ax[2][1] * ax[1][2]) -
		     ax[1][0] * (ax[0][1] * ax[2][2] - ax[2][1] * ax[0][2]) +
		     ax[2][0] * (ax[0][1] * ax[1][2] - ax[1][1] * ax[0][2]);
	if (det <= 0)
		return 1;
	/* Rotation matrix R[r][c] = ax[c][r] to a quaternion. */
	double m00 = ax[0][0], m11 = ax[1][1], m22 = ax[2][2], q[4], tr = m00 + m11 + m22;
	if (tr > 0) {
		double s = sqrt(tr + 1) * 2;
		q[3] = s / 4;
		q[0] = (ax[1][2] - ax[2][1]) / s;
		q[1] = (ax[2][0] - ax[0][2]) / s;
		q[2] = (ax[0][1] - ax[1][0]) / s;
	} else if (m00 > m11 && m00 > m22) {
		double s = sqrt(1 + m00 - m11 - m22) * 2;
		q[3] = (ax[1][2] - ax[2][1]) / s;
		q[0] = s / 4;
		q[1] = (ax[1][0] + ax[0][1]) / s;
		q[2] = (ax[2][0] + ax[0][2]) / s;
	} else if (m11 > m22) {
		double s = sqrt(1 + m11 - m00 - m22) * 2;
		q[3] = (ax[2][0] - ax[0][2]) / s;
		q[0] = (ax[1][0] + ax[0][1]) / s;
		q[1] = s / 4;
		q[2] = (ax[2][1] + ax[1][2]) / s;
	} else {
		double s = sqrt(1 + m22 - m00 - m11) * 2;
		q[3] = (ax[0][1] - ax[1][0]) / s;
		q[0] = (ax[2][0] + ax[0][2]) / s;
		q[1] = (ax[2][1] + ax[1][2]) / s;
		q[2] = s / 4;
	}
	double n = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
	for (int k = 0; k < 4; k++)
		o->rotation[k] = (float)(q[k] / n);
	for (int k = 0; k < 3; k++) {
		o->position[k] = (float)w[12 + k];
		o->scale[k] = (float)sc[k];
	}
	return 0;
}

static int read_mesh_object(struct gl *g, size_t ni, struct json_object *nd, uint64_t mesh, const struct node_tf *w)
{
	struct json_object *meshes = array_of(g->root, "meshes");
	if (mesh >= array_len(meshes))
		return fail(g, "node %zu names mesh %llu, which does not exist", ni, (unsigned long long)mesh);
	struct json_object *me = json_object_array_get_idx(meshes, mesh), *prims = array_of(me, "primitives"), *nm;
	size_t np = array_len(prims);
	if (!np || np > TH_GLTF_PRIMITIVES_MAX)
		return fail(g, "mesh %llu has %zu primitives (1 to %u are read)", (unsigned long long)mesh, np,
			    TH_GLTF_PRIMITIVES_MAX);
	char name[TH_MODEL_NAME_MAX + 1];
	nm = member(nd, "name");
	if (!nm || !json_object_is_type(nm, json_type_string))
		nm = member(me, "name");
	if (nm && json_object_is_type(nm, json_type_string))
		snprintf(name, sizeof(name), "%s", json_object_get_string(nm));
	else
		snprintf(name, sizeof(name), "node %zu", ni);
	int r = th_model_object_add(g->m, name, g->why, g->whylen);
	if (r < 0)
		return r;
	struct th_model_object *o = &g->m->objects[g->m->n_objects - 1];
	const double *bake = NULL;
	if (w->exact) {
		for (int k = 0; k < 3; k++) {
			o->position[k] = (float)w->t[k];
			o->scale[k] = (float)w->s[k];
		}
		for (int k = 0; k < 4; k++)
			o->rotation[k] = (float)w->r[k];
	} else if (!w->identity && decompose(w->m, o) == 1) {
		bake = w->m; /* shear or a mirror: into the positions */
	}
	for (size_t p = 0; p < np; p++)
		if ((r = read_primitive(g, (size_t)mesh, p, json_object_array_get_idx(prims, p), bake)) < 0)
			return r;
	char sub[TH_MODEL_WHY_LEN];
	if (np > 1 && (r = th_model_weld(g->m, o->first_vert, o->first_face, false, sub, sizeof(sub))) < 0)
		return r == -ENOMEM ? (fail(g, "out of memory"), r) : fail(g, "mesh %llu: %s", (unsigned long long)mesh, sub);
	return 0;
}

static int walk(struct gl *g, uint64_t ni, const struct node_tf *parent, unsigned depth)
{
	struct json_object *nodes = array_of(g->root, "nodes");
	if (ni >= array_len(nodes))
		return fail(g, "node %llu does not exist (%zu nodes)", (unsigned long long)ni, array_len(nodes));
	if (depth > TH_GLTF_NODE_DEPTH)
		return fail(g, "node %llu lies deeper than %u levels in the node tree", (unsigned long long)ni,
			    TH_GLTF_NODE_DEPTH);
	if (g->visited[ni])
		return fail(g, "node %llu appears twice in the node tree (a cycle, or two parents)", (unsigned long long)ni);
	g->visited[ni] = 1;
	struct json_object *nd = json_object_array_get_idx(nodes, ni), *kids = member(nd, "children");
	struct node_tf l, w;
	int r = node_local(g, (size_t)ni, nd, &l);
	if (r < 0)
		return r;
	mat_mul(parent->m, l.m, w.m);
	w.identity = parent->identity && l.identity;
	w.exact = parent->identity && l.exact;
	memcpy(w.t, l.t, sizeof(w.t));
	memcpy(w.r, l.r, sizeof(w.r));
	memcpy(w.s, l.s, sizeof(w.s));
	uint64_t mesh;
	if ((r = get_uint(nd, "mesh", UINT32_MAX, &mesh)) < 0)
		return fail(g, "node %llu: mesh is not a mesh index", (unsigned long long)ni);
	if (r == 0 && (r = read_mesh_object(g, (size_t)ni, nd, mesh, &w)) < 0)
		return r;
	if (kids && !json_object_is_type(kids, json_type_array))
		return fail(g, "node %llu: children is not an array", (unsigned long long)ni);
	for (size_t k = 0; k < array_len(kids); k++) {
		struct json_object *c = json_object_array_get_idx(kids, k);
		if (!json_object_is_type(c, json_type_int) || json_object_get_int64(c) < 0)
			return fail(g, "node %llu: children[%zu] is not a node index", (unsigned long long)ni, k);
		if ((r = walk(g, (uint64_t)json_object_get_int64(c), &w, depth + 1)) < 0)
			return r;
	}
	return 0;
}

static int read_scene(struct gl *g)
{
	struct json_object *nodes = array_of(g->root, "nodes"), *scenes = array_of(g->root, "scenes"), *roots = NULL;
	size_t nn = array_len(nodes);
	uint64_t si = 0;
	if (nn > TH_GLTF_NODES_MAX)
		return fail(g, "%zu nodes; at most %u are read", nn, TH_GLTF_NODES_MAX);
	g->visited = calloc(nn ? nn : 1, 1);
	if (!g->visited)
		return fail(g, "out of memory"), -ENOMEM;
	struct node_tf top = { .m = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 }, .identity = true };
	int r = get_uint(g->root, "scene", UINT32_MAX, &si);
	if (r < 0 || (array_len(scenes) && si >= array_len(scenes)) || (r == 0 && !array_len(scenes)))
		return fail(g, "\"scene\" names no scene of the %zu", array_len(scenes));
	if (array_len(scenes)) {
		roots = array_of(json_object_array_get_idx(scenes, si), "nodes");
		for (size_t k = 0; k < array_len(roots); k++) {
			struct json_object *c = json_object_array_get_idx(roots, k);
			if (!json_object_is_type(c, json_type_int) || json_object_get_int64(c) < 0)
				return fail(g, "scene %llu: nodes[%zu] is not a node index", (unsigned long long)si, k);
			if ((r = walk(g, (uint64_t)json_object_get_int64(c), &top, 0)) < 0)
				return r;
		}
		return 0;
	}
	/* No scene: every node that is nobody's child is a root. */
	uint8_t *child = calloc(nn ? nn : 1, 1);
	if (!child)
		return fail(g, "out of memory"), -ENOMEM;
	for (size_t i = 0; i < nn; i++) {
		struct json_object *kids = array_of(json_object_array_get_idx(nodes, i), "children");
		for (size_t k = 0; k < array_len(kids); k++) {
			int64_t c = json_object_get_int64(json_object_array_get_idx(kids, k));
			if (c >= 0 && (size_t)c < nn)
				child[c] = 1;
		}
	}
	for (size_t i = 0; i < nn && r >= 0; i++)
		if (!child[i])
			r = walk(g, i, &top, 0);
	free(child);
	return r < 0 ? r : 0;
}

/* ---- the file ------------------------------------------------------------------------------- */

static int parse_json(struct gl *g, const uint8_t *p, size_t len, size_t at)
{
	struct json_tokener *tok = json_tokener_new_ex(TH_GLTF_JSON_DEPTH);
	if (!tok)
		return fail(g, "out of memory"), -ENOMEM;
	if (memchr(p, 0, len)) {
		size_t z = (size_t)((const uint8_t *)memchr(p, 0, len) - p);
		/* A .glb's JSON chunk may be padded with spaces, never NULs. */
		json_tokener_free(tok);
		return fail(g, "byte %zu: a NUL byte inside the JSON", at + z);
	}
	g->root = json_tokener_parse_ex(tok, (const char *)p, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue)
		g->root = NULL;
	json_tokener_free(tok);
	if (!g->root) {
		return fail(g, "byte %zu: the JSON is not valid (%s)", at + end,
			    e == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(e));
	}
	for (size_t i = end; i < len; i++)
		if (p[i] != ' ' && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return fail(g, "byte %zu: bytes follow the JSON document", at + i);
	if (!json_object_is_type(g->root, json_type_object))
		return fail(g, "byte %zu: the JSON document is not an object", at);
	return 0;
}

static int read_glb(struct gl *g, const uint8_t *p, size_t len)
{
	if (len < 20)
		return fail(g, "byte 0: a .glb of %zu bytes is shorter than its header and first chunk header (20 bytes)", len);
	if (le32(p + 4) != 2)
		return fail(g, "byte 4: glTF container version %u; only 2 is read", le32(p + 4));
	if (le32(p + 8) != len)
		return fail(g, "byte 8: the header says %u bytes but the file has %zu", le32(p + 8), len);
	size_t jlen = le32(p + 12);
	if (le32(p + 16) != TH_GLTF_CHUNK_JSON)
		return fail(g, "byte 16: the first chunk is not JSON");
	if (jlen > len - 20)
		return fail(g, "byte 12: the JSON chunk's %zu bytes run past the end of the file", jlen);
	size_t at = 20 + jlen;
	if (at + 8 <= len && le32(p + at + 4) == TH_GLTF_CHUNK_BIN) {
		size_t blen = le32(p + at);
		if (blen > len - at - 8)
			return fail(g, "byte %zu: the BIN chunk's %zu bytes run past the end of the file", at, blen);
		g->bin = p + at + 8;
		g->bin_len = blen;
	} else if (at != len && at + 8 > len) {
		return fail(g, "byte %zu: %zu stray bytes after the JSON chunk", at, len - at);
	}
	return parse_json(g, p + 20, jlen, 20);
}

int th_gltf_read(const uint8_t *p, size_t len, struct th_model *m, char *why, size_t whylen)
{
	struct gl g = { .m = m, .why = why, .whylen = whylen };
	int r;
	th_model_init(m);
	if (len > TH_MODEL_FILE_MAX) {
		snprintf(why, whylen, "the file has %zu bytes; at most %u are read", len, TH_MODEL_FILE_MAX);
		return -E2BIG;
	}
	if (len >= 4 && le32(p) == TH_GLTF_MAGIC)
		r = read_glb(&g, p, len);
	else
		r = parse_json(&g, p, len, 0);
	if (r < 0)
		goto out;
	struct json_object *asset = member(g.root, "asset"), *ver = member(asset, "version");
	const char *vs = ver && json_object_is_type(ver, json_type_string) ? json_object_get_string(ver) : "";
	if (strncmp(vs, "2.", 2)) {
		r = fail(&g, "asset.version is '%s'; only glTF 2.x is read", vs);
		goto out;
	}
	struct json_object *req = array_of(g.root, "extensionsRequired");
	if (array_len(req)) {
		r = fail(&g, "the file requires extension '%s', which is not read",
			 json_object_get_string(json_object_array_get_idx(req, 0)));
		goto out;
	}
	if ((r = load_buffers(&g)) >= 0 && (r = load_materials(&g)) >= 0)
		r = read_scene(&g);
out:
	for (uint32_t i = 0; i < g.n_bufs; i++)
		free(g.bufs[i]);
	free(g.bufs);
	free(g.buf_len);
	free(g.visited);
	json_object_put(g.root);
	return th_model_finish(m, r, "the scene has no node with a mesh", why, whylen);
}
