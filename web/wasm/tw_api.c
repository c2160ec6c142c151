/* The exports of theta.wasm (tw.h): the fold of common/ for the browser,
 * the triangle buffers the page draws, and its edits' payloads made as
 * theta-client's editor makes them (theta-client/edit/: the palette, the
 * transform helpers; common/th_meshop.h: the operations; the renderer's
 * triangulation, theta-client/gfx/gfx_mesh.c). Single-threaded: the result
 * buffers and the reason are module-wide. */
#include "tw.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit_palette.h"
#include "edit/edit_pick.h"
#include "gfx/gfx_mesh.h"
#include "th_cmd.h"
#include "th_fold.h"
#include "th_meshop.h"
#include "th_payload.h"
#include "th_scene.h"
#include "th_schema.h"

#define TW_HISTORY_TEXT 96u       /* the editor's EDIT_HISTORY_TEXT */
#define TW_DRAG_MIN 0.001f        /* the editor's EDIT_DRAG_MIN: less moves nothing */
#define TW_FACE_VERTS TH_MESH_FACE_VERTS_MAX
#define TW_DRAW_MAX TH_SCENE_ENTITIES_MAX
#define TW_BUF_TRIS_MAX (TH_MESH_ELEMENTS_MAX * 2u) /* a mesh's triangles at most (faces x corners bound) */

static const float tw_default_rgba[4] = { 0.8f, 0.8f, 0.8f, 1.0f }; /* the renderer's default_base */

static char tw_why_buf[TW_WHY_MAX];

static int say(int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tw_why_buf, sizeof tw_why_buf, fmt, ap);
	va_end(ap);
	return r;
}

static void said_nothing(void)
{
	tw_why_buf[0] = 0;
}

const char *tw_why(void)
{
	return tw_why_buf;
}

void *tw_alloc(uint32_t n)
{
	return n ? malloc(n) : NULL;
}

void tw_free(void *p)
{
	free(p);
}

/* ---- folds --------------------------------------------------------------------------------- */

struct tw_outcome {
	uint64_t lamport, seq, pos;
	uint8_t author[TH_LOGREC_KEY_LEN];
	uint16_t type;
	uint8_t status, reason, again;
	char why[TW_WHY_MAX];
};

struct tw_draw {
	uint64_t entity, mesh, version;
	float xf[TW_XF_FLOATS];
	uint32_t material;
};

struct tw_fold {
	struct th_fold *f;
	uint64_t generation;
	struct tw_outcome outcomes[TW_OUTCOMES_MAX];
	uint32_t out_first, out_n; /* a ring: the oldest at out_first */
	struct tw_draw *draw;
	uint32_t ndraw, cap_draw;
};

static struct tw_fold *tw_folds[TW_FOLDS_MAX];

static struct tw_fold *fold_of(int h)
{
	if (h < 1 || h > (int)TW_FOLDS_MAX || !tw_folds[h - 1]) {
		say(-EINVAL, "no such fold (handle %d)", h);
		return NULL;
	}
	return tw_folds[h - 1];
}

static void on_outcome(void *ud, const struct th_fold_outcome *o)
{
	struct tw_fold *t = ud;
	struct tw_outcome *q;
	if (t->out_n == TW_OUTCOMES_MAX) { /* full: the oldest goes */
		q = &t->outcomes[t->out_first];
		t->out_first = (t->out_first + 1) % TW_OUTCOMES_MAX;
	} else {
		q = &t->outcomes[(t->out_first + t->out_n++) % TW_OUTCOMES_MAX];
	}
	q->lamport = o->lamport;
	q->seq = o->seq;
	q->pos = o->pos;
	memcpy(q->author, o->author, TH_LOGREC_KEY_LEN);
	q->type = o->type;
	q->status = o->status;
	q->reason = o->reason;
	q->again = o->again;
	snprintf(q->why, sizeof q->why, "%s", o->why ? o->why : "");
}

static void on_change(void *ud, enum th_scene_change kind, uint64_t id)
{
	struct tw_fold *t = ud;
	t->generation++;
}

int tw_fold_new(const uint8_t *host_key)
{
	unsigned slot = 0;
	while (slot < TW_FOLDS_MAX && tw_folds[slot])
		slot++;
	if (slot == TW_FOLDS_MAX)
		return say(-ENOSPC, "%u folds are open already: free one first", TW_FOLDS_MAX);
	struct tw_fold *t = calloc(1, sizeof *t);
	if (!t)
		return say(-ENOMEM, "out of memory for a new fold");
	struct th_fold_config c = { .window_entries = UINT32_MAX, .window_bytes = SIZE_MAX, .on_outcome = on_outcome,
				    .on_change = on_change, .ud = t };
	memcpy(c.host_key, host_key, TH_LOGREC_KEY_LEN);
	int r = th_fold_create(&c, &t->f);
	if (r < 0) {
		free(t);
		return say(r, "the fold could not be created (out of memory)");
	}
	tw_folds[slot] = t;
	said_nothing();
	return (int)slot + 1;
}

void tw_fold_free(int h)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return;
	th_fold_destroy(&t->f);
	free(t->draw);
	free(t);
	tw_folds[h - 1] = NULL;
}

int tw_fold_add(int h, uint64_t pos, const uint8_t *entry, uint32_t len)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return -EINVAL;
	struct th_logrec_entry e;
	int fault = 0;
	if (th_logrec_decode(entry, len, &e, &fault) < 0)
		return say(-EBADMSG, "the log entry at position %" PRIu64 " does not decode: %s", pos,
			   th_logrec_fault_str(fault));
	int r = th_fold_add(t->f, &e, pos);
	switch (r) {
	case 0:
	case 1:
		said_nothing();
		return r;
	case -EPROTO:
		return say(r, "the entry at position %" PRIu64 " (seq %" PRIu64 ") does not follow its author's last one: "
			      "a hole in the log; fold it again from position 0",
			   pos, e.seq);
	case -ERANGE:
		return say(r, "the entry at position %" PRIu64 " sorts below the fold's rollback window", pos);
	case -ENOSPC:
		return say(r, "the entry at position %" PRIu64 " brings one author more than a session may have (%u)", pos,
			   TH_FOLD_AUTHORS_MAX);
	default:
		return say(r, "the entry at position %" PRIu64 " could not be folded: out of memory", pos);
	}
}

int tw_world_hash(int h, uint8_t *out)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return -EINVAL;
	int r = th_fold_world_hash(t->f, out);
	return r < 0 ? say(r, "the world hash could not be computed: out of memory") : 0;
}

static void stats_of(int h, struct th_fold_stats *st)
{
	struct tw_fold *t = fold_of(h);
	memset(st, 0, sizeof *st);
	if (t)
		th_fold_stats(t->f, st);
}

uint64_t tw_next_pos(int h)
{
	struct th_fold_stats st;
	stats_of(h, &st);
	return st.next_pos;
}

uint64_t tw_entry_count(int h)
{
	struct th_fold_stats st;
	stats_of(h, &st);
	return st.entries;
}

uint32_t tw_entity_count(int h)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return 0;
	struct th_scene_stats st;
	th_scene_stats(th_fold_scene(t->f), &st);
	return (uint32_t)st.entities;
}

uint64_t tw_scene_generation(int h)
{
	struct tw_fold *t = fold_of(h);
	return t ? t->generation : 0;
}

/* ---- outcomes ------------------------------------------------------------------------------ */

static const struct tw_outcome *outcome_at(int h, uint32_t i)
{
	struct tw_fold *t = fold_of(h);
	if (!t || i >= t->out_n)
		return NULL;
	return &t->outcomes[(t->out_first + i) % TW_OUTCOMES_MAX];
}

uint32_t tw_outcome_count(int h)
{
	struct tw_fold *t = fold_of(h);
	return t ? t->out_n : 0;
}

void tw_outcome_clear(int h)
{
	struct tw_fold *t = fold_of(h);
	if (t)
		t->out_first = t->out_n = 0;
}

#define OUTCOME_GETTER(type, name, expr)                       \
	type tw_outcome_##name(int h, uint32_t i)              \
	{                                                      \
		const struct tw_outcome *o = outcome_at(h, i); \
		return o ? (expr) : 0;                         \
	}
OUTCOME_GETTER(uint64_t, lamport, o->lamport)
OUTCOME_GETTER(uint64_t, seq, o->seq)
OUTCOME_GETTER(uint64_t, pos, o->pos)
OUTCOME_GETTER(const uint8_t *, author, o->author)
OUTCOME_GETTER(uint32_t, type, o->type)
OUTCOME_GETTER(uint32_t, status, o->status)
OUTCOME_GETTER(uint32_t, reason, o->reason)
OUTCOME_GETTER(uint32_t, again, o->again)
OUTCOME_GETTER(const char *, why, o->why)
#undef OUTCOME_GETTER

int tw_outcome_of(int h, uint64_t lamport, const uint8_t *author)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return -EINVAL;
	struct th_fold_outcome o;
	if (th_fold_outcome_of(t->f, lamport, author, &o) < 0)
		return say(-ENOENT, "the fold keeps no entry with lamport %" PRIu64 " by that author", lamport);
	snprintf(tw_why_buf, sizeof tw_why_buf, "%s", o.why ? o.why : "");
	return o.status;
}

_Static_assert(TW_APPLIED == TH_FOLD_APPLIED && TW_REFUSED == TH_FOLD_REFUSED && TW_EXCLUDED == TH_FOLD_EXCLUDED &&
		       TW_CONTROL == TH_FOLD_CONTROL,
	       "tw.h's outcome statuses are th_fold's");

const char *tw_status_name(uint32_t status)
{
	switch (status) {
	case TW_APPLIED: return "applied";
	case TW_REFUSED: return "refused";
	case TW_EXCLUDED: return "excluded";
	case TW_CONTROL: return "control";
	}
	return "";
}

const char *tw_errno_name(int r)
{
	switch (-r) {
	case E2BIG: return "E2BIG";
	case EBADMSG: return "EBADMSG";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case EPROTO: return "EPROTO";
	case ERANGE: return "ERANGE";
	}
	return "";
}

const char *tw_refusal_name(uint32_t reason)
{
	return th_refusal_name((int)reason);
}

const char *tw_cmd_name(uint32_t type)
{
	const struct th_cmd_info *ci = type <= UINT16_MAX ? th_cmd_find((uint16_t)type) : NULL;
	return ci ? ci->name : "";
}

/* ---- the draw list ------------------------------------------------------------------------- */

static int cmp_draw(const void *a, const void *b)
{
	uint64_t x = ((const struct tw_draw *)a)->entity, y = ((const struct tw_draw *)b)->entity;
	return x < y ? -1 : x > y;
}

int tw_draw_list(int h)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return -EINVAL;
	const struct th_scene *sc = th_fold_scene(t->f);
	t->ndraw = 0;
	size_t cur = 0;
	uint64_t id;
	while (th_scene_next_entity(sc, &cur, &id)) {
		const struct th_c_transform *xf;
		const struct th_mesh *m;
		if (!edit_entity_mesh(sc, id, &xf, &m))
			continue;
		if (t->ndraw == t->cap_draw) {
			uint32_t cap = t->cap_draw ? t->cap_draw * 2 : 64;
			struct tw_draw *d = cap <= TW_DRAW_MAX ? realloc(t->draw, (size_t)cap * sizeof *d) : NULL;
			if (!d) {
				t->ndraw = 0;
				return say(-ENOMEM, "out of memory for the list of meshes to draw");
			}
			t->draw = d;
			t->cap_draw = cap;
		}
		struct tw_draw *d = &t->draw[t->ndraw++];
		const struct th_c_mesh_ref *mr = th_scene_component(sc, id, TH_COMP_MESH_REF);
		d->entity = id;
		d->mesh = m->id;
		d->version = m->version;
		d->material = mr->material;
		memcpy(d->xf, xf->position, 3 * sizeof(float));
		memcpy(d->xf + 3, xf->rotation, 4 * sizeof(float));
		memcpy(d->xf + 7, xf->scale, 3 * sizeof(float));
	}
	qsort(t->draw, t->ndraw, sizeof *t->draw, cmp_draw);
	return (int)t->ndraw;
}

static const struct tw_draw *draw_at(int h, uint32_t i)
{
	struct tw_fold *t = fold_of(h);
	return t && i < t->ndraw ? &t->draw[i] : NULL;
}

uint64_t tw_draw_entity(int h, uint32_t i)
{
	const struct tw_draw *d = draw_at(h, i);
	return d ? d->entity : 0;
}

uint64_t tw_draw_mesh(int h, uint32_t i)
{
	const struct tw_draw *d = draw_at(h, i);
	return d ? d->mesh : 0;
}

uint64_t tw_draw_version(int h, uint32_t i)
{
	const struct tw_draw *d = draw_at(h, i);
	return d ? d->version : 0;
}

const float *tw_draw_transform(int h, uint32_t i)
{
	const struct tw_draw *d = draw_at(h, i);
	return d ? d->xf : NULL;
}

uint32_t tw_draw_material(int h, uint32_t i)
{
	const struct tw_draw *d = draw_at(h, i);
	return d ? d->material : 0;
}

/* ---- mesh buffers -------------------------------------------------------------------------- */

static struct {
	float *pos, *nrm, *rgba, *edges;
	uint64_t *face;
	uint32_t cap_tris, ntris, cap_edges, nedges;
} tw_buf;

static int buf_reserve_tris(uint32_t n)
{
	if (n <= tw_buf.cap_tris)
		return 0;
	if (n > TW_BUF_TRIS_MAX)
		return -E2BIG;
	uint32_t cap = tw_buf.cap_tris ? tw_buf.cap_tris : 256;
	while (cap < n)
		cap *= 2;
	float *p = realloc(tw_buf.pos, (size_t)cap * 9 * sizeof(float));
	if (p)
		tw_buf.pos = p;
	float *q = p ? realloc(tw_buf.nrm, (size_t)cap * 9 * sizeof(float)) : NULL;
	if (q)
		tw_buf.nrm = q;
	float *c = q ? realloc(tw_buf.rgba, (size_t)cap * 12 * sizeof(float)) : NULL;
	if (c)
		tw_buf.rgba = c;
	uint64_t *f = c ? realloc(tw_buf.face, (size_t)cap * sizeof(uint64_t)) : NULL;
	if (!f)
		return -ENOMEM; /* the buffers that grew stay grown; cap_tris still true of all */
	tw_buf.face = f;
	tw_buf.cap_tris = cap;
	return 0;
}

static int buf_push_edge(const float a[3], const float b[3])
{
	if (tw_buf.nedges == tw_buf.cap_edges) {
		uint32_t cap = tw_buf.cap_edges ? tw_buf.cap_edges * 2 : 256;
		if (cap > TW_BUF_TRIS_MAX)
			return -E2BIG;
		float *e = realloc(tw_buf.edges, (size_t)cap * 6 * sizeof(float));
		if (!e)
			return -ENOMEM;
		tw_buf.edges = e;
		tw_buf.cap_edges = cap;
	}
	float *o = tw_buf.edges + 6 * (size_t)tw_buf.nedges++;
	memcpy(o, a, 3 * sizeof(float));
	memcpy(o + 3, b, 3 * sizeof(float));
	return 0;
}

static int cmp_face_slot(const void *a, const void *b, void *mesh)
{
	const struct th_mesh *m = mesh;
	uint64_t x = m->faces[*(const int32_t *)a].id, y = m->faces[*(const int32_t *)b].id;
	return x < y ? -1 : x > y;
}

int tw_mesh_build(int h, uint64_t mesh)
{
	struct tw_fold *t = fold_of(h);
	if (!t)
		return -EINVAL;
	const struct th_scene *sc = th_fold_scene(t->f);
	const struct th_mesh *m = th_scene_mesh(sc, mesh);
	tw_buf.ntris = tw_buf.nedges = 0;
	if (!m)
		return say(-ENOENT, "no mesh %016" PRIx64 " in the scene", mesh);
	/* Faces in ascending id, so the buffers do not depend on slot order. */
	int32_t *slots = malloc(((size_t)m->live_faces + 1) * sizeof *slots);
	if (!slots)
		return say(-ENOMEM, "out of memory for mesh %016" PRIx64 "'s faces", mesh);
	uint32_t nf = 0, ntri = 0;
	for (uint32_t f = 0; f < m->nfaces; f++)
		if (m->faces[f].id && nf < m->live_faces) {
			slots[nf++] = (int32_t)f;
			ntri += m->faces[f].n - 2u;
		}
	qsort_r(slots, nf, sizeof *slots, cmp_face_slot, (void *)m);
	int r = buf_reserve_tris(ntri);
	if (r < 0) {
		free(slots);
		return say(r, "mesh %016" PRIx64 " has too many triangles to draw (%" PRIu32 ")", mesh, ntri);
	}
	for (uint32_t i = 0; i < nf; i++) {
		const struct th_mesh_face *fc = &m->faces[slots[i]];
		int32_t vs[TW_FACE_VERTS];
		float pts[TW_FACE_VERTS][3], nrm[3], centre[3];
		uint32_t tri[(TW_FACE_VERTS - 2) * 3];
		unsigned n = gfx_face_corners(m, (uint32_t)slots[i], vs, pts);
		gfx_triangulate((const float (*)[3])pts, n, tri);
		if (th_mesh_face_normal(m, slots[i], nrm, centre) < 0) {
			nrm[0] = nrm[1] = 0; /* degenerate: the renderer's default normal */
			nrm[2] = 1;
		}
		const struct th_scene_material *mat = th_scene_material(sc, fc->material);
		const float *rgba = mat && mat->defined ? mat->base_color : tw_default_rgba;
		for (unsigned k = 0; k + 2 < n; k++) {
			uint32_t o = tw_buf.ntris++;
			for (unsigned c = 0; c < 3; c++) {
				memcpy(tw_buf.pos + 9 * (size_t)o + 3 * c, pts[tri[3 * k + c]], 3 * sizeof(float));
				memcpy(tw_buf.nrm + 9 * (size_t)o + 3 * c, nrm, 3 * sizeof(float));
				memcpy(tw_buf.rgba + 12 * (size_t)o + 4 * c, rgba, 4 * sizeof(float));
			}
			tw_buf.face[o] = fc->id;
		}
		/* Each undirected edge once: from the lower vertex id, or a
		 * boundary edge (no twin). */
		int32_t he = fc->he;
		for (unsigned k = 0; k < n; k++, he = m->hes[he].next) {
			int32_t a = m->hes[he].vert, b = m->hes[m->hes[he].next].vert;
			if (m->hes[he].twin != TH_MESH_NONE && m->verts[a].id > m->verts[b].id)
				continue;
			if ((r = buf_push_edge(m->verts[a].pos, m->verts[b].pos)) < 0) {
				free(slots);
				tw_buf.ntris = tw_buf.nedges = 0;
				return r == -E2BIG ? say(r, "mesh %016" PRIx64 " has too many edges to draw (more than %u)", mesh,
							  TW_BUF_TRIS_MAX)
						   : say(r, "out of memory for mesh %016" PRIx64 "'s edges", mesh);
			}
		}
	}
	free(slots);
	said_nothing();
	return (int)tw_buf.ntris;
}

const float *tw_buf_positions(void)
{
	return tw_buf.pos;
}

const float *tw_buf_normals(void)
{
	return tw_buf.nrm;
}

const float *tw_buf_colors(void)
{
	return tw_buf.rgba;
}

const uint64_t *tw_buf_face_ids(void)
{
	return tw_buf.face;
}

const float *tw_buf_edges(void)
{
	return tw_buf.edges;
}

uint32_t tw_buf_edge_count(void)
{
	return tw_buf.nedges;
}

/* ---- edits --------------------------------------------------------------------------------- */

struct tw_cmd {
	uint32_t type;
	uint64_t scope;
	uint32_t len;
	char text[TW_HISTORY_TEXT];
	uint8_t payload[TH_LOGREC_PAYLOAD_MAX];
};

static struct tw_cmd tw_cmds[TW_CMDS_MAX];
static unsigned tw_ncmds;
static union th_pl_any tw_pl; /* a payload being made (mesh payloads are large) */
static struct th_patch tw_patch;
static bool tw_patch_ready;

static struct th_patch *patch_fresh(void)
{
	if (!tw_patch_ready) {
		th_patch_init(&tw_patch);
		tw_patch.max = TH_PATCH_ENTRY_OPS; /* one command's worth; more is refused at once */
		tw_patch_ready = true;
	}
	th_patch_clear(&tw_patch);
	return &tw_patch;
}

/* Appends a command: its payload encoded from pl. Returns the count so far
 * or a negative errno (said). */
static int cmd_push(uint16_t type, uint64_t scope, const void *pl, const char *fmt, ...)
{
	if (tw_ncmds == TW_CMDS_MAX)
		return say(-E2BIG, "an edit makes at most %u commands", TW_CMDS_MAX);
	struct tw_cmd *c = &tw_cmds[tw_ncmds];
	int n = th_cmd_payload_encode(type, pl, c->payload, sizeof c->payload);
	if (n < 0)
		return say(n, "%s: the payload does not encode (%s)", tw_cmd_name(type),
			   n == -ENOBUFS ? "too large" : "a value out of range");
	c->type = type;
	c->scope = scope;
	c->len = (uint32_t)n;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof c->text, fmt, ap);
	va_end(ap);
	return (int)++tw_ncmds;
}

static int patch_push(const struct th_patch *p, uint64_t mesh, const char *what, const char *text)
{
	if (!th_patch_fits(p))
		return say(-E2BIG, "%s: this edit changes %" PRIu32 " ops; one edit carries at most %u", what, p->n,
			   (unsigned)TH_PATCH_ENTRY_OPS);
	tw_pl.mesh_patch.ops_count = (uint16_t)p->n;
	memcpy(tw_pl.mesh_patch.ops, p->ops, p->n * sizeof p->ops[0]);
	return cmd_push(TH_CMD_MESH_PATCH, mesh, &tw_pl.mesh_patch, "%s", text);
}

static const char *short_id(uint64_t id, char buf[20])
{
	snprintf(buf, 20, "%08" PRIx64, id >> 32); /* as the editor shows ids */
	return buf;
}

/* The entity's transform and mesh, or NULL (said, prefixed by what). */
static const struct th_mesh *entity_mesh(int h, uint64_t entity, const char *what, const struct th_c_transform **xf,
					 const struct th_scene **scp)
{
	tw_ncmds = 0;
	struct tw_fold *t = fold_of(h);
	if (!t)
		return NULL;
	const struct th_scene *sc = th_fold_scene(t->f);
	const struct th_mesh *m;
	if (!edit_entity_mesh(sc, entity, xf, &m)) {
		say(-ENOENT, "%s: entity %016" PRIx64 " shows no mesh (removed meanwhile?)", what, entity);
		return NULL;
	}
	*scp = sc;
	return m;
}

static bool finite3(float x, float y, float z)
{
	return isfinite(x) && isfinite(y) && isfinite(z);
}

int tw_edit_cube(int h, float x, float y, float z, float size)
{
	tw_ncmds = 0;
	if (!fold_of(h))
		return -EINVAL;
	if (!finite3(x, y, z) || !isfinite(size))
		return say(-EINVAL, "cube: the position and size must be finite numbers");
	struct th_prim pp;
	th_prim_defaults(&pp, TH_PRIM_CUBE);
	for (int k = 0; k < 3; k++)
		pp.size[k] *= size;
	struct th_patch *p = patch_fresh();
	const char *why = NULL;
	int r = th_op_primitive(&pp, p, &why);
	if (r < 0)
		return say(r, "cube: cannot make a cube of %.2f m: %s", (double)size, why ? why : "out of memory");
	if (!th_patch_fits(p))
		return say(-E2BIG, "cube: %" PRIu32 " ops do not fit one edit", p->n);
	struct th_pl_mesh_create *c = &tw_pl.mesh_create;
	const float xf[TW_XF_FLOATS] = { x, y, z, 0, 0, 0, 1, 1, 1, 1 };
	memcpy(c->transform, xf, sizeof xf);
	c->material = 0;
	c->ops_count = (uint16_t)p->n;
	memcpy(c->ops, p->ops, p->n * sizeof p->ops[0]);
	return cmd_push(TH_CMD_MESH_CREATE, 0, c, "stamp a cube (%.2f m) at (%.2f, %.2f, %.2f)", (double)size,
			(double)x, (double)y, (double)z);
}

static float len3(const float v[3])
{
	return sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

int tw_edit_move(int h, uint64_t entity, float dx, float dy, float dz)
{
	const struct th_c_transform *xf;
	const struct th_scene *sc;
	const struct th_mesh *m = entity_mesh(h, entity, "move", &xf, &sc);
	if (!m)
		return -ENOENT;
	float d[3] = { dx, dy, dz };
	if (!finite3(dx, dy, dz))
		return say(-EINVAL, "move: the displacement must be finite numbers");
	if (len3(d) < TW_DRAG_MIN)
		return say(0, "move: moved less than a millimetre");
	struct th_c_transform moved = *xf;
	for (int k = 0; k < 3; k++)
		moved.position[k] += d[k];
	uint8_t value[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &moved, value, sizeof value);
	if (n < 0)
		return say(-EINVAL, "move: the moved transform is not finite; nothing sent");
	tw_pl.component_write = (struct th_pl_component_write){ .component = th_component_id(TH_COMP_TRANSFORM),
								.value = value, .value_len = (uint16_t)n };
	char b[20];
	return cmd_push(TH_CMD_COMPONENT_WRITE, entity, &tw_pl.component_write, "move mesh %s by (%.3f, %.3f, %.3f)",
			short_id(m->id, b), (double)dx, (double)dy, (double)dz);
}

int tw_edit_move_face(int h, uint64_t entity, uint64_t face, float dx, float dy, float dz)
{
	const struct th_c_transform *xf;
	const struct th_scene *sc;
	const struct th_mesh *m = entity_mesh(h, entity, "move", &xf, &sc);
	if (!m)
		return -ENOENT;
	float w[3] = { dx, dy, dz }, l[3];
	if (!finite3(dx, dy, dz))
		return say(-EINVAL, "move: the displacement must be finite numbers");
	if (len3(w) < TW_DRAG_MIN)
		return say(0, "move: moved less than a millimetre");
	uint64_t verts[TW_FACE_VERTS];
	int nv = th_op_vertices_of(m, &face, 1, NULL, NULL, 0, verts, TW_FACE_VERTS);
	if (nv < 0)
		return say(-ENOENT, "move: no face %016" PRIx64 " in mesh %016" PRIx64, face, m->id);
	edit_xf_dir_to_local(xf, w, l);
	struct th_affine a;
	th_affine_translate(&a, l);
	struct th_patch *p = patch_fresh();
	const char *why = NULL;
	int r = th_op_transform(m, verts, (unsigned)nv, &a, p, &why);
	if (r < 0)
		return say(r, "move: %s", why ? why : "out of memory");
	char text[TW_HISTORY_TEXT], b[20];
	snprintf(text, sizeof text, "move %d vert%s of mesh %s by (%.3f, %.3f, %.3f)", nv, nv == 1 ? "ex" : "ices",
		 short_id(m->id, b), (double)dx, (double)dy, (double)dz);
	return patch_push(p, m->id, "move", text);
}

int tw_edit_extrude(int h, uint64_t entity, uint64_t face, float distance)
{
	const struct th_c_transform *xf;
	const struct th_scene *sc;
	const struct th_mesh *m = entity_mesh(h, entity, "extrude", &xf, &sc);
	if (!m)
		return -ENOENT;
	if (!isfinite(distance))
		return say(-EINVAL, "extrude: the distance must be a finite number");
	if (fabsf(distance) < TW_DRAG_MIN)
		return say(0, "extrude: pulled less than a millimetre");
	int32_t fs = th_mesh_face_find(m, face);
	float nrm[3], centre[3], wn[3], ln[3];
	if (fs == TH_MESH_NONE)
		return say(-ENOENT, "extrude: no face %016" PRIx64 " in mesh %016" PRIx64, face, m->id);
	if (th_mesh_face_normal(m, fs, nrm, centre) < 0)
		return say(-EINVAL, "extrude: the face has no direction to pull along (degenerate)");
	/* As the extrude tool: the world normal, and the world distance along
	 * it in mesh units. */
	edit_xf_normal_to_world(xf, nrm, wn);
	edit_xf_dir_to_local(xf, wn, ln);
	struct th_patch *p = patch_fresh();
	const char *why = NULL;
	int r = th_op_extrude_faces(m, &face, 1, NULL, distance * len3(ln), false, p, &why);
	if (r < 0)
		return say(r, "extrude: %s", why ? why : "out of memory");
	char text[TW_HISTORY_TEXT], b[20];
	snprintf(text, sizeof text, "extrude 1 face of mesh %s by %.3f m", short_id(m->id, b), (double)distance);
	return patch_push(p, m->id, "extrude", text);
}

int tw_edit_paint(int h, uint64_t entity, uint64_t face, uint32_t slot, uint32_t whole)
{
	const struct th_c_transform *xf;
	const struct th_scene *sc;
	const struct th_mesh *m = entity_mesh(h, entity, "paint", &xf, &sc);
	if (!m)
		return -ENOENT;
	const struct edit_palette_entry *pe = edit_palette(slot);
	if (!pe)
		return say(-EINVAL, "paint: no palette slot %" PRIu32 " (0 to %u)", slot, EDIT_PALETTE_SLOTS - 1);
	uint32_t material = edit_palette_material(slot);
	struct th_patch *p = patch_fresh();
	unsigned n = 0;
	if (whole) {
		for (uint32_t f = 0; f < m->nfaces; f++)
			if (m->faces[f].id && m->faces[f].material != material) {
				if (th_patch_face_material(p, m->faces[f].id, material) < 0)
					return say(-E2BIG, "paint: the mesh has more faces than one edit carries");
				n++;
			}
	} else {
		int32_t f = th_mesh_face_find(m, face);
		if (f == TH_MESH_NONE)
			return say(-ENOENT, "paint: no face %016" PRIx64 " in mesh %016" PRIx64, face, m->id);
		if (m->faces[f].material != material) {
			if (th_patch_face_material(p, face, material) < 0)
				return say(-ENOMEM, "paint: out of memory");
			n++;
		}
	}
	if (!n)
		return say(0, "paint: already %s", pe->name);
	if (!edit_palette_defined(sc, slot)) {
		edit_palette_payload(slot, &tw_pl.material_set);
		int r = cmd_push(TH_CMD_MATERIAL_SET, 0, &tw_pl.material_set, "define material %" PRIu32 " (%s)",
				 material, pe->name);
		if (r < 0)
			return r;
	}
	char text[TW_HISTORY_TEXT], b[20];
	snprintf(text, sizeof text, "paint %u face%s of mesh %s %s", n, n == 1 ? "" : "s", short_id(m->id, b), pe->name);
	return patch_push(p, m->id, "paint", text);
}

int tw_edit_undo(int h, uint64_t lamport, const uint8_t *author, uint32_t redo)
{
	tw_ncmds = 0;
	if (!fold_of(h))
		return -EINVAL;
	if (!lamport)
		return say(-EINVAL, "%s: no entry has lamport 0", redo ? "redo" : "undo");
	if (redo) {
		tw_pl.edit_redo.lamport = lamport;
		memcpy(tw_pl.edit_redo.author, author, TH_PL_KEY_LEN);
		return cmd_push(TH_CMD_EDIT_REDO, 0, &tw_pl.edit_redo, "redo the undo at lamport %" PRIu64, lamport);
	}
	tw_pl.edit_undo.lamport = lamport;
	memcpy(tw_pl.edit_undo.author, author, TH_PL_KEY_LEN);
	return cmd_push(TH_CMD_EDIT_UNDO, 0, &tw_pl.edit_undo, "undo the edit at lamport %" PRIu64, lamport);
}

static const struct tw_cmd *cmd_at(uint32_t i)
{
	return i < tw_ncmds ? &tw_cmds[i] : NULL;
}

uint32_t tw_cmd_type(uint32_t i)
{
	const struct tw_cmd *c = cmd_at(i);
	return c ? c->type : 0;
}

uint64_t tw_cmd_scope(uint32_t i)
{
	const struct tw_cmd *c = cmd_at(i);
	return c ? c->scope : 0;
}

const uint8_t *tw_cmd_payload(uint32_t i)
{
	const struct tw_cmd *c = cmd_at(i);
	return c ? c->payload : NULL;
}

uint32_t tw_cmd_payload_len(uint32_t i)
{
	const struct tw_cmd *c = cmd_at(i);
	return c ? c->len : 0;
}

const char *tw_cmd_text(uint32_t i)
{
	const struct tw_cmd *c = cmd_at(i);
	return c ? c->text : "";
}

/* ---- the palette --------------------------------------------------------------------------- */

uint32_t tw_palette_count(void)
{
	return EDIT_PALETTE_SLOTS;
}

const char *tw_palette_name(uint32_t slot)
{
	const struct edit_palette_entry *pe = edit_palette(slot);
	return pe ? pe->name : "";
}

const float *tw_palette_rgba(uint32_t slot)
{
	const struct edit_palette_entry *pe = edit_palette(slot);
	return pe ? pe->rgba : NULL;
}
