/* Wavefront OBJ reader into the neutral model (th_model.h). Outside
 * bytes: each line is checked, a refusal names line:column.
 *
 * Read: v (x y z, an optional w or r g b ignored), vt and vn (counted so
 * f's v/vt/vn forms can be checked), f with v, v/vt, v//vn and v/vt/vn
 * corners and negative (relative) indices, o and g (each starts a new
 * object once faces were given since the last), usemtl (materials by
 * name: from the MTL bytes the caller passes, else a default-valued
 * material of that name). Ignored: comments, s, mtllib (the caller
 * decides which MTL file to read), l and p (lines and points: no faces).
 * Anything else is refused. Each object takes the vertices its faces use,
 * in first-use order, and the v lines no face uses that it declared (free
 * vertices); exactly equal positions of an object are welded. */
#include "th_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_OBJ_LINE_MAX 4096u         /* bytes of one line */
#define TH_OBJ_VT_MAX (1u << 22)      /* vt / vn lines counted */

struct ob {
	struct th_model *m;
	char *why;
	size_t whylen;
	unsigned line;
	unsigned line_len; /* of the line being read, before tokens cut it */
	/* every v line: position and the object it was declared in */
	float (*v)[3];
	uint32_t *v_obj;
	uint32_t nv, cap_v;
	uint64_t nvt, nvn;
	/* faces as given: global v indices, per face its object */
	uint32_t *fc;     /* corners */
	uint32_t nfc, cap_fc;
	struct { uint32_t first, n, material, obj; } *f;
	uint32_t nf, cap_f;
	char (*names)[TH_MODEL_NAME_MAX + 1];
	uint32_t nobj, cap_obj;
	uint32_t material;
};

static int fail(struct ob *o, unsigned col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ob *o, unsigned col, const char *fmt, ...)
{
	char msg[TH_MODEL_WHY_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(o->why, o->whylen, "line %u:%u: %s", o->line, col, msg);
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The next token of line from *at: its start (NUL-terminated in place),
 * or NULL at the end. */
static char *token(char *line, size_t *at)
{
	size_t i = *at;
	while (line[i] && is_space(line[i]))
		i++;
	if (!line[i])
		return NULL;
	char *s = line + i;
	while (line[i] && !is_space(line[i]))
		i++;
	if (line[i])
		line[i++] = 0;
	*at = i;
	return s;
}

static unsigned col_of(const char *line, const char *tok)
{
	return (unsigned)(tok - line) + 1;
}

static int number(struct ob *o, const char *line, const char *t, float *out)
{
	char *end;
	if (!t)
		return fail(o, o->line_len + 1, "a number is missing");
	double x = strtod(t, &end);
	if (*end || end == t || !isfinite(x) || fabs(x) > 3.4e38)
		return fail(o, col_of(line, t), "'%.20s' is not a finite number", t);
	*out = (float)x;
	return 0;
}

static int new_object(struct ob *o, const char *name, bool force)
{
	/* A name before any face renames the object being filled. */
	bool has_faces = o->nf && o->f[o->nf - 1].obj == o->nobj - 1;
	if (o->nobj && !has_faces && !force) {
		snprintf(o->names[o->nobj - 1], sizeof(o->names[0]), "%s", name);
		return 0;
	}
	int r = th_model_grow((void **)&o->names, &o->cap_obj, o->nobj, TH_MODEL_OBJECTS_MAX, sizeof(*o->names));
	if (r == -E2BIG)
		return fail(o, 1, "more than %u objects", TH_MODEL_OBJECTS_MAX);
	if (r < 0)
		return fail(o, 1, "out of memory"), -ENOMEM;
	snprintf(o->names[o->nobj++], sizeof(o->names[0]), "%s", name);
	return 0;
}

/* One index of an f corner: 1-based, negative relative to count. */
static int index_of(struct ob *o, const char *line, const char *s, const char *what, const char *whats, uint64_t count,
		    uint32_t *out)
{
	char *end;
	long long x = strtoll(s, &end, 10);
	if (end == s || (*end && *end != '/'))
		return fail(o, col_of(line, s), "'%.20s' is not a %s index", s, what);
	long long i = x < 0 ? (long long)count + x : x - 1;
	if (x == 0 || i < 0 || (uint64_t)i >= count)
		return fail(o, col_of(line, s), "%s index %lld names none of the %llu %s so far", what, x,
			    (unsigned long long)count, whats);
	*out = (uint32_t)i;
	return 0;
}

static int face_line(struct ob *o, char *line, size_t at)
{
	uint32_t c[TH_MODEL_FACE_VERTS_MAX], n = 0;
	int form = -1; /* bit 0: vt, bit 1: vn */
	for (char *t; (t = token(line, &at));) {
		if (n == TH_MODEL_FACE_VERTS_MAX)
			return fail(o, col_of(line, t), "a face has more than %u corners", TH_MODEL_FACE_VERTS_MAX);
		char *s1 = strchr(t, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		int f = (s1 && s1[1] && s1[1] != '/' ? 1 : 0) | (s2 ? 2 : 0);
		if (s1 && !s2 && !s1[1])
			return fail(o, col_of(line, t), "corner '%.20s' ends with '/'", t);
		if (form >= 0 && f != form)
			return fail(o, col_of(line, t), "corner '%.20s' mixes forms (v, v/vt, v//vn, v/vt/vn) within one face", t);
		form = f;
		int r = index_of(o, line, t, "vertex", "vertices", o->nv, &c[n]);
		uint32_t dummy;
		if (r == 0 && (f & 1))
			r = index_of(o, line, s1 + 1, "texture coordinate", "texture coordinates", o->nvt, &dummy);
		if (r == 0 && (f & 2)) {
			if (!s2[1])
				return fail(o, col_of(line, s2 + 1), "a normal index is missing after '//'");
			r = index_of(o, line, s2 + 1, "normal", "normals", o->nvn, &dummy);
		}
		if (r < 0)
			return r;
		for (uint32_t k = 0; k < n; k++)
			if (c[k] == c[n])
				return fail(o, col_of(line, t), "the face uses vertex %u twice", c[n] + 1);
		n++;
	}
	if (n < 3)
		return fail(o, 1, "a face needs at least 3 corners, this one has %u", n);
	if (o->nf == TH_MODEL_FACES_MAX || o->nfc > TH_MODEL_CORNERS_MAX - n)
		return fail(o, 1, "more than %u faces or %u corners", TH_MODEL_FACES_MAX, TH_MODEL_CORNERS_MAX);
	if (th_model_grow((void **)&o->f, &o->cap_f, o->nf, TH_MODEL_FACES_MAX, sizeof(*o->f)) < 0)
		return fail(o, 1, "out of memory"), -ENOMEM;
	while (o->cap_fc < o->nfc + n)
		if (th_model_grow((void **)&o->fc, &o->cap_fc, o->cap_fc, TH_MODEL_CORNERS_MAX, sizeof(uint32_t)) < 0)
			return fail(o, 1, "out of memory"), -ENOMEM;
	memcpy(o->fc + o->nfc, c, n * sizeof(uint32_t));
	o->f[o->nf].first = o->nfc;
	o->f[o->nf].n = n;
	o->f[o->nf].material = o->material;
	o->f[o->nf].obj = o->nobj - 1;
	o->nf++;
	o->nfc += n;
	return 0;
}

/* The model's material named name: from the MTL, else a new default one. */
static int material_named(struct ob *o, const char *line, const char *name, uint32_t *out)
{
	for (uint32_t i = 0; i < o->m->n_materials; i++)
		if (!strncmp(o->m->materials[i].name, name, TH_MODEL_MATERIAL_NAME_MAX) &&
		    strlen(name) <= TH_MODEL_MATERIAL_NAME_MAX) {
			*out = i;
			return 0;
		}
	struct th_model_material mt = { .base_color = { 0.8f, 0.8f, 0.8f, 1 }, .roughness = 1, .metallic = 0,
					.source_index = TH_MODEL_NO_MATERIAL };
	if (strlen(name) > TH_MODEL_MATERIAL_NAME_MAX)
		return fail(o, col_of(line, name), "material name '%.20s...' is longer than %u bytes", name,
			    TH_MODEL_MATERIAL_NAME_MAX);
	snprintf(mt.name, sizeof(mt.name), "%s", name);
	int r = th_model_material_add(o->m, &mt, o->why, o->whylen);
	if (r < 0)
		return fail(o, col_of(line, name), "more than %u materials", TH_MODEL_MATERIALS_MAX);
	*out = (uint32_t)r;
	return 0;
}

/* Calls fn for every line of p[len] (NUL-terminated copy, without the
 * newline); o->line counts them. */
static int each_line(struct ob *o, const uint8_t *p, size_t len, int (*fn)(struct ob *, char *))
{
	char *line = malloc(TH_OBJ_LINE_MAX + 1);
	size_t i = 0;
	int r = 0;
	if (!line)
		return fail(o, 0, "out of memory"), -ENOMEM;
	o->line = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && p[j] != '\n')
			j++;
		o->line++;
		if (j - i > TH_OBJ_LINE_MAX) {
			r = fail(o, TH_OBJ_LINE_MAX + 1, "the line is longer than %u bytes", TH_OBJ_LINE_MAX);
			break;
		}
		if (memchr(p + i, 0, j - i)) {
			r = fail(o, (unsigned)((const uint8_t *)memchr(p + i, 0, j - i) - (p + i)) + 1, "a NUL byte");
			break;
		}
		memcpy(line, p + i, j - i);
		line[j - i] = 0;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		o->line_len = (unsigned)strlen(line);
		if ((r = fn(o, line)) < 0)
			break;
		i = j + 1;
	}
	free(line);
	return r < 0 ? r : 0;
}

static int obj_line(struct ob *o, char *line)
{
	size_t at = 0;
	char *kw = token(line, &at);
	int r;
	if (!kw)
		return 0;
	if (!strcmp(kw, "v")) {
		float p[3];
		for (int k = 0; k < 3; k++)
			if ((r = number(o, line, token(line, &at), &p[k])) < 0)
				return r;
		for (int k = 0; k < 4; k++) { /* w, or r g b */
			char *t = token(line, &at);
			float x;
			if (!t)
				break;
			if (k == 3)
				return fail(o, col_of(line, t), "a v line has at most 6 numbers");
			if ((r = number(o, line, t, &x)) < 0)
				return r;
		}
		if (o->nv == TH_MODEL_VERTS_MAX)
			return fail(o, 1, "more than %u vertices", TH_MODEL_VERTS_MAX);
		uint32_t cap = o->cap_v;
		if (th_model_grow((void **)&o->v, &o->cap_v, o->nv, TH_MODEL_VERTS_MAX, sizeof(*o->v)) < 0)
			return fail(o, 1, "out of memory"), -ENOMEM;
		if (cap != o->cap_v) {
			uint32_t *vo = realloc(o->v_obj, (size_t)o->cap_v * sizeof(uint32_t));
			if (!vo)
				return fail(o, 1, "out of memory"), -ENOMEM;
			o->v_obj = vo;
		}
		memcpy(o->v[o->nv], p, sizeof(p));
		o->v_obj[o->nv++] = o->nobj - 1;
		return 0;
	}
	if (!strcmp(kw, "vt") || !strcmp(kw, "vn")) {
		float x;
		unsigned k = 0;
		for (char *t; (t = token(line, &at)); k++)
			if (k == 3 || (r = number(o, line, t, &x)) < 0)
				return k == 3 ? fail(o, col_of(line, t), "a %s line has at most 3 numbers", kw) : r;
		if (k < (kw[1] == 'n' ? 3u : 1u))
			return fail(o, o->line_len + 1, "a %s line needs %s numbers", kw, kw[1] == 'n' ? "3" : "1 to 3");
		uint64_t *n = kw[1] == 'n' ? &o->nvn : &o->nvt;
		if (*n == TH_OBJ_VT_MAX)
			return fail(o, 1, "more than %u %s lines", TH_OBJ_VT_MAX, kw);
		(*n)++;
		return 0;
	}
	if (!strcmp(kw, "f"))
		return face_line(o, line, at);
	if (!strcmp(kw, "o") || !strcmp(kw, "g")) {
		char *t = token(line, &at);
		return new_object(o, t ? t : kw, false);
	}
	if (!strcmp(kw, "usemtl")) {
		char *t = token(line, &at);
		if (!t)
			return fail(o, o->line_len + 1, "usemtl needs a material name");
		return material_named(o, line, t, &o->material);
	}
	if (!strcmp(kw, "s") || !strcmp(kw, "mtllib") || !strcmp(kw, "l") || !strcmp(kw, "p"))
		return 0;
	return fail(o, col_of(line, kw), "'%.20s' is not a statement this reader takes (v, vt, vn, f, o, g, usemtl, s, mtllib, l, p)",
		    kw);
}

/* ---- MTL -------------------------------------------------------------------------------------- */

static int mtl_line(struct ob *o, char *line)
{
	size_t at = 0;
	char *kw = token(line, &at);
	struct th_model *m = o->m;
	int r;
	if (!kw)
		return 0;
	if (!strcmp(kw, "newmtl")) {
		char *t = token(line, &at);
		if (!t || strlen(t) > TH_MODEL_MATERIAL_NAME_MAX)
			return fail(o, t ? col_of(line, t) : 1, "newmtl needs a name of 1 to %u bytes", TH_MODEL_MATERIAL_NAME_MAX);
		struct th_model_material mt = { .base_color = { 0.8f, 0.8f, 0.8f, 1 }, .roughness = 1, .metallic = 0,
					.source_index = TH_MODEL_NO_MATERIAL };
		snprintf(mt.name, sizeof(mt.name), "%s", t);
		r = th_model_material_add(m, &mt, o->why, o->whylen);
		return r < 0 ? fail(o, 1, "more than %u materials", TH_MODEL_MATERIALS_MAX) : 0;
	}
	float x[3];
	unsigned want = !strcmp(kw, "Kd") ? 3 : (!strcmp(kw, "d") || !strcmp(kw, "Tr") || !strcmp(kw, "Pr") ||
						 !strcmp(kw, "Pm")) ? 1 : 0;
	if (!want)
		return 0; /* Ka, Ks, Ns, illum, maps: not part of the scene's materials */
	if (!m->n_materials)
		return fail(o, col_of(line, kw), "'%s' before any newmtl", kw);
	for (unsigned k = 0; k < want; k++) {
		if ((r = number(o, line, token(line, &at), &x[k])) < 0)
			return r;
		if (x[k] < 0 || x[k] > 1)
			return fail(o, col_of(line, kw), "%s must lie from 0 to 1", kw);
	}
	struct th_model_material *mt = &m->materials[m->n_materials - 1];
	if (want == 3)
		memcpy(mt->base_color, x, sizeof(x));
	else if (!strcmp(kw, "d"))
		mt->base_color[3] = x[0];
	else if (!strcmp(kw, "Tr"))
		mt->base_color[3] = 1 - x[0];
	else if (!strcmp(kw, "Pr"))
		mt->roughness = x[0];
	else
		mt->metallic = x[0];
	return 0;
}

/* ---- objects ------------------------------------------------------------------------------------ */

/* Objects were opened in file order, so each one's faces and v lines are
 * consecutive runs of o->f and o->v. */
static int build(struct ob *o)
{
	struct th_model *m = o->m;
	uint32_t *map = malloc(((size_t)o->nv + 1) * sizeof(uint32_t));
	int r = 0;
	if (!map)
		return fail(o, 0, "out of memory"), -ENOMEM;
	for (uint32_t v = 0; v < o->nv; v++)
		map[v] = UINT32_MAX;
	uint32_t f = 0, dv = 0;
	for (uint32_t ob = 0; ob < o->nobj && r >= 0; ob++) {
		uint32_t fe = f, ve = dv;
		while (fe < o->nf && o->f[fe].obj == ob)
			fe++;
		while (ve < o->nv && o->v_obj[ve] == ob)
			ve++;
		if (fe == f && ve == dv)
			continue;
		if ((r = th_model_object_add(m, o->names[ob], o->why, o->whylen)) < 0)
			break;
		uint32_t v0 = m->n_verts, f0 = m->n_faces;
		for (uint32_t i = f; i < fe && r >= 0; i++) {
			uint32_t c[TH_MODEL_FACE_VERTS_MAX];
			for (uint32_t k = 0; k < o->f[i].n && r >= 0; k++) {
				uint32_t g = o->fc[o->f[i].first + k];
				if (map[g] == UINT32_MAX) {
					map[g] = m->n_verts;
					r = th_model_vert_add(m, o->v[g], o->why, o->whylen);
				}
				c[k] = map[g];
			}
			if (r >= 0)
				r = th_model_face_add(m, c, o->f[i].n, o->f[i].material, o->why, o->whylen);
		}
		/* The v lines it declared that no face of it uses: free vertices. */
		for (uint32_t v = dv; v < ve && r >= 0; v++)
			if (map[v] == UINT32_MAX)
				r = th_model_vert_add(m, o->v[v], o->why, o->whylen);
		for (uint32_t i = f; i < fe; i++)
			for (uint32_t k = 0; k < o->f[i].n; k++)
				map[o->fc[o->f[i].first + k]] = UINT32_MAX;
		if (r >= 0) {
			char sub[TH_MODEL_WHY_LEN];
			r = th_model_weld(m, v0, f0, true, sub, sizeof(sub));
			if (r < 0)
				snprintf(o->why, o->whylen, "object '%s': %s", o->names[ob], sub);
		}
		f = fe;
		dv = ve;
	}
	free(map);
	return r;
}

int th_obj_read(const uint8_t *p, size_t len, const uint8_t *mtl, size_t mtl_len, struct th_model *m, char *why,
		size_t whylen)
{
	struct ob o = { .m = m, .why = why, .whylen = whylen, .material = TH_MODEL_NO_MATERIAL };
	int r;
	th_model_init(m);
	if (len > TH_MODEL_FILE_MAX || mtl_len > TH_MODEL_FILE_MAX) {
		snprintf(why, whylen, "the %s file has %zu bytes; at most %u are read", len > TH_MODEL_FILE_MAX ? "OBJ" : "MTL",
			 len > TH_MODEL_FILE_MAX ? len : mtl_len, TH_MODEL_FILE_MAX);
		return -E2BIG;
	}
	if (mtl && (r = each_line(&o, mtl, mtl_len, mtl_line)) < 0) {
		char sub[TH_MODEL_WHY_LEN];
		snprintf(sub, sizeof(sub), "%s", why);
		snprintf(why, whylen, "the MTL file, %s", sub);
		goto out;
	}
	if ((r = new_object(&o, "object", true)) >= 0 && (r = each_line(&o, p, len, obj_line)) >= 0)
		r = build(&o);
out:
	free(o.v);
	free(o.v_obj);
	free(o.fc);
	free(o.f);
	free(o.names);
	return th_model_finish(m, r, "the file has no vertices or faces", why, whylen);
}
