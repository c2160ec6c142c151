/* thetactl import FILE.glb|FILE.gltf|FILE.obj [--session S]: a model file
 * becomes signed commands of the caller (through the daemon's `submit`,
 * thetactl/submit.h), attributable and undoable like any edit: one
 * material.set per material, then per object a mesh.create (its transform,
 * its first faces) and as many mesh.patch entries as the rest takes. The
 * whole file is read, checked (common/th_model.h: the readers refuse bad
 * input with one sentence) and turned into every entry's ops, which are
 * applied to scratch meshes exactly as the fold will, before anything is
 * submitted: a bad file changes nothing.
 *
 * Splitting: an entry carries at most CTL_IMPORT_OPS_MAX ops (its payload
 * fits one submit); faces go in the reader's joinable order (each prefix a
 * valid mesh, so every entry is accepted on its own), each face with the
 * vertices it is first to use, whole in one entry. A later entry names
 * vertices of earlier ones by their derived ids, th_id_derive(MESH_ELEMENT,
 * author, seq, i + 1), with the seq each submit answered. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmds.h"
#include "ctl.h"
#include "submit.h"
#include "th_cmd.h"
#include "th_err.h"
#include "th_file.h"
#include "th_hex.h"
#include "th_id.h"
#include "th_mesh.h"
#include "th_model.h"
#include "th_payload.h"
#include "th_time.h"
#include "th_utf8.h"

/* Bytes of one mesh op, and of the fixed parts of mesh.create (transform,
 * material, op count) and mesh.patch (op count). */
#define CTL_IMPORT_OP_BYTES 25u
#define CTL_IMPORT_CREATE_HEAD (10u * 4 + 4 + 2)
#define CTL_IMPORT_OPS_MAX                                                                                    \
	((CTL_SUBMIT_PAYLOAD_MAX - CTL_IMPORT_CREATE_HEAD) / CTL_IMPORT_OP_BYTES < TH_PL_MESH_OPS_MAX                 \
		 ? (CTL_SUBMIT_PAYLOAD_MAX - CTL_IMPORT_CREATE_HEAD) / CTL_IMPORT_OP_BYTES                         \
		 : TH_PL_MESH_OPS_MAX)
#define CTL_IMPORT_MTL_PATH_MAX 4096u
/* Ops (and entries) of a plan at most: one per vertex, face and corner of
 * the model, and an entry per object and material on top. */
#define CTL_IMPORT_PLAN_MAX                                                                                   \
	(TH_MODEL_VERTS_MAX + TH_MODEL_FACES_MAX + TH_MODEL_CORNERS_MAX + TH_MODEL_OBJECTS_MAX + TH_MODEL_MATERIALS_MAX)
/* How long import waits for the scene to fold its last entry. */
#define CTL_IMPORT_WAIT_S 60u
#define CTL_IMPORT_POLL_US (20 * 1000)
#define CTL_NONE UINT32_MAX

struct imp_entry {
	uint16_t type;       /* TH_CMD_MATERIAL_SET, _MESH_CREATE, _MESH_PATCH */
	uint32_t object;     /* mesh entries */
	uint32_t create;     /* a patch: its object's mesh.create (an entry index) */
	uint32_t first, n;   /* its ops in plan.ops */
	uint32_t material;   /* material.set: the model's material; mesh.create: the table index */
	uint64_t seq, lamport; /* once submitted */
};

struct imp_plan {
	struct th_pl_mesh_op *ops;
	uint32_t *ref_entry, *ref_op; /* a LOOP naming an earlier entry's vertex: where it was made */
	uint32_t n_ops, cap_ops;
	struct imp_entry *e;
	uint32_t n_e, cap_e;
	uint32_t material_base;
	uint32_t table[TH_MODEL_MATERIALS_MAX]; /* model material -> scene table index */
};

static int plan_grow(void **p, uint32_t *cap, uint32_t n, size_t size)
{
	return th_model_grow(p, cap, n, CTL_IMPORT_PLAN_MAX, size);
}

static int plan_op(struct imp_plan *pl, struct th_pl_mesh_op op, uint32_t ref_entry, uint32_t ref_op)
{
	if (pl->n_ops == pl->cap_ops) {
		uint32_t c = pl->cap_ops;
		if (plan_grow((void **)&pl->ops, &pl->cap_ops, pl->n_ops, sizeof(*pl->ops)) < 0)
			return -ENOMEM;
		uint32_t *a = realloc(pl->ref_entry, (size_t)pl->cap_ops * sizeof(uint32_t)),
			 *b = a ? realloc(pl->ref_op, (size_t)pl->cap_ops * sizeof(uint32_t)) : NULL;
		if (a)
			pl->ref_entry = a;
		if (!b) {
			pl->cap_ops = c;
			return -ENOMEM;
		}
		pl->ref_op = b;
	}
	pl->ops[pl->n_ops] = op;
	pl->ref_entry[pl->n_ops] = ref_entry;
	pl->ref_op[pl->n_ops] = ref_op;
	pl->e[pl->n_e - 1].n++;
	pl->n_ops++;
	return 0;
}

static int plan_entry(struct imp_plan *pl, uint16_t type, uint32_t object, uint32_t create, uint32_t material)
{
	if (plan_grow((void **)&pl->e, &pl->cap_e, pl->n_e, sizeof(*pl->e)) < 0)
		return -ENOMEM;
	pl->e[pl->n_e++] = (struct imp_entry){ .type = type, .object = object, .create = create, .first = pl->n_ops,
					       .material = material };
	return 0;
}

static uint32_t table_index(const struct imp_plan *pl, uint32_t model_material)
{
	return model_material == TH_MODEL_NO_MATERIAL ? 0 : pl->table[model_material];
}

/* The entries of object oi: faces in o->order, each with its new
 * vertices; then its free vertices. */
static int plan_object(struct imp_plan *pl, const struct th_model *m, uint32_t oi, uint32_t *v_entry,
		       uint32_t *v_op)
{
	const struct th_model_object *o = &m->objects[oi];
	uint32_t create = pl->n_e;
	uint32_t mat0 = o->n_faces ? table_index(pl, m->faces[o->first_face + o->order[0]].material) : 0;
	if (plan_entry(pl, TH_CMD_MESH_CREATE, oi, create, mat0) < 0)
		return -ENOMEM;
	for (uint32_t v = 0; v < o->n_verts; v++)
		v_entry[v] = CTL_NONE;
	for (uint32_t k = 0; k <= o->n_faces; k++) {
		const struct th_model_face *fc = k < o->n_faces ? &m->faces[o->first_face + o->order[k]] : NULL;
		uint32_t need = 0;
		if (fc) {
			need = 1 + fc->n;
			for (uint32_t c = 0; c < fc->n; c++)
				need += v_entry[m->corners[fc->first + c] - o->first_vert] == CTL_NONE;
		} else {
			/* The free vertices, one op each. */
			for (uint32_t v = 0; v < o->n_verts; v++) {
				if (v_entry[v] != CTL_NONE)
					continue;
				if (pl->e[pl->n_e - 1].n + 1 > CTL_IMPORT_OPS_MAX &&
				    plan_entry(pl, TH_CMD_MESH_PATCH, oi, create, 0) < 0)
					return -ENOMEM;
				struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_VERTEX_ADD };
				memcpy(op.position, m->pos[o->first_vert + v], sizeof(op.position));
				v_entry[v] = pl->n_e - 1;
				v_op[v] = pl->e[pl->n_e - 1].n;
				if (plan_op(pl, op, CTL_NONE, CTL_NONE) < 0)
					return -ENOMEM;
			}
			break;
		}
		if (pl->e[pl->n_e - 1].n + need > CTL_IMPORT_OPS_MAX &&
		    plan_entry(pl, TH_CMD_MESH_PATCH, oi, create, 0) < 0)
			return -ENOMEM;
		uint32_t cur = pl->n_e - 1;
		for (uint32_t c = 0; c < fc->n; c++) {
			uint32_t v = m->corners[fc->first + c] - o->first_vert;
			if (v_entry[v] != CTL_NONE)
				continue;
			struct th_pl_mesh_op op = { .op = TH_PL_MESH_OP_VERTEX_ADD };
			memcpy(op.position, m->pos[o->first_vert + v], sizeof(op.position));
			v_entry[v] = cur;
			v_op[v] = pl->e[cur].n;
			if (plan_op(pl, op, CTL_NONE, CTL_NONE) < 0)
				return -ENOMEM;
		}
		struct th_pl_mesh_op fa = { .op = TH_PL_MESH_OP_FACE_ADD, .arg = table_index(pl, fc->material) };
		if (plan_op(pl, fa, CTL_NONE, CTL_NONE) < 0)
			return -ENOMEM;
		for (uint32_t c = 0; c < fc->n; c++) {
			uint32_t v = m->corners[fc->first + c] - o->first_vert;
			struct th_pl_mesh_op lp = { .op = TH_PL_MESH_OP_LOOP };
			bool here = v_entry[v] == cur;
			lp.arg = here ? TH_PL_MESH_REF_LOCAL : TH_PL_MESH_REF_ID;
			lp.element = here ? v_op[v] + 1 : 0;
			if (plan_op(pl, lp, here ? CTL_NONE : v_entry[v], here ? CTL_NONE : v_op[v]) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Entry e's ops with references resolved for author and the entries'
 * seqs, into ops (and the ids its elements get, when new_ids). */
static void plan_resolve(const struct imp_plan *pl, uint32_t e, const uint8_t author[32], struct th_pl_mesh_op *ops,
			 uint64_t *new_ids)
{
	const struct imp_entry *x = &pl->e[e];
	for (uint32_t i = 0; i < x->n; i++) {
		uint32_t k = x->first + i;
		ops[i] = pl->ops[k];
		if (pl->ref_entry[k] != CTL_NONE)
			ops[i].element = th_id_derive(TH_ID_MESH_ELEMENT, author, pl->e[pl->ref_entry[k]].seq, pl->ref_op[k] + 1);
		if (new_ids)
			new_ids[i] = ops[i].op == TH_PL_MESH_OP_VERTEX_ADD || ops[i].op == TH_PL_MESH_OP_FACE_ADD
					     ? th_id_derive(TH_ID_MESH_ELEMENT, author, x->seq, i + 1)
					     : 0;
	}
}

/* Entry e's payload (seqs of the entries it names set) into buf. */
static int plan_encode(const struct imp_plan *pl, const struct th_model *m, uint32_t e, const uint8_t author[32],
		       uint8_t *buf, size_t cap)
{
	static union {
		struct th_pl_mesh_create c;
		struct th_pl_mesh_patch p;
		struct th_pl_material_set s;
	} u;
	const struct imp_entry *x = &pl->e[e];
	memset(&u, 0, sizeof(u));
	if (x->type == TH_CMD_MATERIAL_SET) {
		const struct th_model_material *mt = &m->materials[x->material];
		u.s.index = (uint8_t)pl->table[x->material];
		if (th_utf8_valid((const uint8_t *)mt->name, strlen(mt->name)))
			snprintf(u.s.name, sizeof(u.s.name), "%s", mt->name);
		else
			snprintf(u.s.name, sizeof(u.s.name), "material %u", x->material);
		memcpy(u.s.base_color, mt->base_color, sizeof(u.s.base_color));
		u.s.roughness_metallic[0] = mt->roughness;
		u.s.roughness_metallic[1] = mt->metallic;
		return th_cmd_payload_encode(TH_CMD_MATERIAL_SET, &u.s, buf, cap);
	}
	if (x->type == TH_CMD_MESH_CREATE) {
		const struct th_model_object *o = &m->objects[x->object];
		memcpy(u.c.transform, o->position, 3 * sizeof(float));
		memcpy(u.c.transform + 3, o->rotation, 4 * sizeof(float));
		memcpy(u.c.transform + 7, o->scale, 3 * sizeof(float));
		u.c.material = x->material;
		u.c.ops_count = (uint16_t)x->n;
		plan_resolve(pl, e, author, u.c.ops, NULL);
		return th_cmd_payload_encode(TH_CMD_MESH_CREATE, &u.c, buf, cap);
	}
	u.p.ops_count = (uint16_t)x->n;
	plan_resolve(pl, e, author, u.p.ops, NULL);
	return th_cmd_payload_encode(TH_CMD_MESH_PATCH, &u.p, buf, cap);
}

/* Before anything is submitted: every entry encodes, and each object's
 * entries apply to a scratch mesh as the fold will apply them (with a
 * stand-in author: ids differ, validity does not). */
static int plan_check(struct imp_plan *pl, const struct th_model *m, uint8_t *buf, char *why, size_t whylen)
{
	static const uint8_t fake[32];
	static struct th_pl_mesh_op ops[TH_PL_MESH_OPS_MAX];
	static uint64_t ids[TH_PL_MESH_OPS_MAX];
	struct th_mesh mesh;
	bool open = false;
	int r = 0;
	for (uint32_t e = 0; e < pl->n_e; e++)
		pl->e[e].seq = e + 1;
	for (uint32_t e = 0; e < pl->n_e && r >= 0; e++) {
		const struct imp_entry *x = &pl->e[e];
		const char *name = th_cmd_find(x->type)->name;
		int len = plan_encode(pl, m, e, fake, buf, CTL_SUBMIT_PAYLOAD_MAX);
		if (len < 0) {
			snprintf(why, whylen, "entry %u (%s) of the import does not encode: %s", e + 1, name, th_strerror(len));
			r = -EINVAL;
			break;
		}
		if (x->type == TH_CMD_MATERIAL_SET)
			continue;
		if (x->type == TH_CMD_MESH_CREATE) {
			if (open)
				th_mesh_fini(&mesh);
			open = false;
			if ((r = th_mesh_init(&mesh, th_id_derive(TH_ID_MESH_ELEMENT, fake, x->seq, 0))) < 0) {
				snprintf(why, whylen, "out of memory");
				break;
			}
			open = true;
		}
		const char *w = NULL;
		plan_resolve(pl, e, fake, ops, ids);
		if ((r = th_mesh_apply(&mesh, ops, x->n, ids, NULL, &w)) < 0)
			snprintf(why, whylen, "object %u '%s': entry %u (%s) would be refused: %s", x->object,
				 m->objects[x->object].name, e + 1, name, w ? w : th_strerror(r));
	}
	if (open)
		th_mesh_fini(&mesh);
	for (uint32_t e = 0; e < pl->n_e; e++)
		pl->e[e].seq = 0;
	return r;
}

static const char *imp_ext(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	return dot && (!slash || dot > slash) ? dot + 1 : "";
}

/* The MTL bytes for an OBJ: --mtl, else the file its first mtllib names
 * beside it when that exists (NULL: none). */
static int imp_mtl(const char *obj_path, const char *text, size_t len, const char *given, char **mtl,
		   size_t *mtl_len, char *why, size_t whylen)
{
	char path[CTL_IMPORT_MTL_PATH_MAX];
	*mtl = NULL;
	*mtl_len = 0;
	if (given) {
		snprintf(path, sizeof(path), "%s", given);
	} else {
		const char *p = text, *end = text + len;
		for (; p < end; p = memchr(p, '\n', (size_t)(end - p)) ? (const char *)memchr(p, '\n', (size_t)(end - p)) + 1 : end)
			if ((size_t)(end - p) > 7 && !strncmp(p, "mtllib ", 7))
				break;
		if (p >= end)
			return 0;
		const char *n = p + 7, *e = n;
		while (e < end && *e != '\n' && *e != '\r' && *e != ' ' && *e != '\t')
			e++;
		char dir[CTL_IMPORT_MTL_PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", obj_path);
		snprintf(path, sizeof(path), "%s/%.*s", dirname(dir), (int)(e - n), n);
		if (access(path, R_OK) < 0) {
			fprintf(stderr, "thetactl import: mtllib %.*s is not beside %s: its materials get default values\n",
				(int)(e - n), n, obj_path);
			return 0;
		}
	}
	int r = th_file_read(path, TH_MODEL_FILE_MAX, mtl, mtl_len);
	if (r < 0)
		snprintf(why, whylen, "cannot read %s: %s", path, r == -EFBIG ? "larger than 64 MiB" : th_strerror(r));
	return r;
}

static void plan_free(struct imp_plan *pl)
{
	free(pl->ops);
	free(pl->ref_entry);
	free(pl->ref_op);
	free(pl->e);
}

/* Waits for the scene to fold the last entry, then counts what each
 * entry became; prints the refused ones. Returns how many were refused,
 * or -ETIMEDOUT / -errno. */
static int imp_outcomes(const struct ctl_ctx *ctx, int fd, const char *session, const struct imp_plan *pl,
			const char *author, uint32_t n_done)
{
	char err[CTL_ERR_LEN];
	uint64_t end = th_now_ns() + (uint64_t)CTL_IMPORT_WAIT_S * TH_NS_PER_S;
	struct json_object *res = NULL, *v;
	for (;;) {
		int r = ctl_entry(ctx, fd, session, pl->e[n_done - 1].lamport, author, &res, err, sizeof(err));
		if (r < 0)
			return r;
		bool pending = r != 0 || !json_object_object_get_ex(res, "outcome", &v) ||
			       !strcmp(json_object_get_string(v), "pending");
		json_object_put(res);
		res = NULL;
		if (!pending)
			break;
		if (th_now_ns() > end)
			return -ETIMEDOUT;
		usleep(CTL_IMPORT_POLL_US);
	}
	int refused = 0;
	for (uint32_t e = 0; e < n_done; e++) {
		if (ctl_entry(ctx, fd, session, pl->e[e].lamport, author, &res, err, sizeof(err)) != 0)
			continue;
		if (json_object_object_get_ex(res, "outcome", &v) && !strcmp(json_object_get_string(v), "refused")) {
			struct json_object *why = NULL;
			json_object_object_get_ex(res, "why", &why);
			ctl_eprintf(ctx, "thetactl import: the session refused entry %" PRIu64 " (%s): %s\n", pl->e[e].lamport,
				th_cmd_find(pl->e[e].type)->name, why ? json_object_get_string(why) : "?");
			refused++;
		}
		json_object_put(res);
		res = NULL;
	}
	return refused;
}

int ctl_cmd_import(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = { { "session", required_argument, NULL, 'S' },
					      { "mtl", required_argument, NULL, 'M' },
					      { "material-base", required_argument, NULL, 'B' },
					      { "dry-run", no_argument, NULL, 'n' },
					      { "no-wait", no_argument, NULL, 'W' },
					      { "json", no_argument, NULL, 'j' },
					      { 0 } };
	const char *session = NULL, *mtl_path = NULL;
	bool dry = false, wait = true, base_given = false;
	unsigned long base = 1;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'S':
			session = optarg;
			break;
		case 'M':
			mtl_path = optarg;
			break;
		case 'B':
			base = strtoul(optarg, &end, 10);
			base_given = true;
			if (*end || end == optarg || base > TH_PL_MATERIALS_MAX - 1)
				return ctl_usage_error(ctx, "import", "--material-base needs a table index from 0 to %u, not '%s'",
						       TH_PL_MATERIALS_MAX - 1, optarg);
			break;
		case 'n':
			dry = true;
			break;
		case 'W':
			wait = false;
			break;
		case 'j':
			ctx->json = true;
			break;
		default:
			return ctl_option_error(ctx, "import", argv);
		}
	}
	if (optind + 1 != argc)
		return ctl_usage_error(ctx, "import", optind == argc ? "needs FILE (.glb, .gltf or .obj)" : "unexpected argument '%s'",
				       argv[argc - 1]);
	const char *path = argv[optind], *ext = imp_ext(path);
	bool gltf = !strcasecmp(ext, "glb") || !strcasecmp(ext, "gltf"), obj = !strcasecmp(ext, "obj");
	if (!gltf && !obj)
		return ctl_usage_error(ctx, "import", "'%s' is not a .glb, .gltf or .obj file", path);

	char *text = NULL, *mtl = NULL, why[TH_MODEL_WHY_LEN + 64], sub[TH_MODEL_WHY_LEN];
	size_t len = 0, mtl_len = 0;
	struct th_model m;
	struct imp_plan pl = { .material_base = (uint32_t)base };
	uint8_t *buf = malloc(CTL_SUBMIT_PAYLOAD_MAX);
	uint32_t *v_entry = NULL, *v_op = NULL, n_done = 0;
	int rc = CTL_EXIT_ERROR, fd = -1, r;
	th_model_init(&m);
	if (!buf) {
		ctl_eprintf(ctx, "thetactl import: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	r = th_file_read(path, TH_MODEL_FILE_MAX, &text, &len);
	if (r < 0) {
		ctl_eprintf(ctx, "thetactl import: cannot read %s: %s\n", path,
			r == -EFBIG ? "it is larger than 64 MiB" : th_strerror(r));
		goto out;
	}
	if (obj && imp_mtl(path, text, len, mtl_path, &mtl, &mtl_len, sub, sizeof(sub)) < 0) {
		ctl_eprintf(ctx, "thetactl import: %s\n", sub);
		goto out;
	}
	r = gltf ? th_gltf_read((const uint8_t *)text, len, &m, sub, sizeof(sub))
		 : th_obj_read((const uint8_t *)text, len, (const uint8_t *)mtl, mtl_len, &m, sub, sizeof(sub));
	if (r < 0) {
		ctl_eprintf(ctx, "thetactl import: %s: %s; nothing was imported\n", path, sub);
		goto out;
	}
	/* A Theta export's materials go back to the table indices they came
	 * from (unless --material-base says otherwise); others from the base. */
	bool source = !base_given && m.n_materials;
	for (uint32_t i = 0; i < m.n_materials && source; i++)
		for (uint32_t k = 0; k <= i && source; k++)
			source = m.materials[i].source_index != TH_MODEL_NO_MATERIAL &&
				 (k == i || m.materials[k].source_index != m.materials[i].source_index);
	for (uint32_t i = 0; i < m.n_materials; i++)
		pl.table[i] = source ? m.materials[i].source_index : pl.material_base + i;
	if (!source && m.n_materials && pl.material_base + m.n_materials > TH_PL_MATERIALS_MAX) {
		ctl_eprintf(ctx, "thetactl import: %s has %u materials; from table index %u only %u fit (see --material-base)\n",
			path, m.n_materials, pl.material_base, TH_PL_MATERIALS_MAX - pl.material_base);
		goto out;
	}
	/* The plan: materials, then each object's entries. */
	uint32_t max_verts = 0;
	for (uint32_t i = 0; i < m.n_objects; i++)
		max_verts = m.objects[i].n_verts > max_verts ? m.objects[i].n_verts : max_verts;
	v_entry = malloc(((size_t)max_verts + 1) * sizeof(uint32_t));
	v_op = malloc(((size_t)max_verts + 1) * sizeof(uint32_t));
	r = v_entry && v_op ? 0 : -ENOMEM;
	for (uint32_t i = 0; i < m.n_materials && r == 0; i++)
		r = plan_entry(&pl, TH_CMD_MATERIAL_SET, CTL_NONE, CTL_NONE, i);
	for (uint32_t i = 0; i < m.n_objects && r == 0; i++)
		r = plan_object(&pl, &m, i, v_entry, v_op);
	if (r < 0) {
		ctl_eprintf(ctx, "thetactl import: out of memory\n");
		goto out;
	}
	if (plan_check(&pl, &m, buf, sub, sizeof(sub)) < 0) {
		ctl_eprintf(ctx, "thetactl import: %s: %s; nothing was imported\n", path, sub);
		goto out;
	}
	uint64_t faces = 0, verts = 0;
	for (uint32_t i = 0; i < m.n_objects; i++) {
		faces += m.objects[i].n_faces;
		verts += m.objects[i].n_verts;
	}
	char author[65] = "", fpr[64] = "";
	if (!dry) {
		fd = ctl_open(ctx);
		if (fd < 0)
			goto out;
		uint8_t key[32] = { 0 };
		for (uint32_t e = 0; e < pl.n_e; e++) {
			struct imp_entry *x = &pl.e[e];
			int plen = plan_encode(&pl, &m, e, key, buf, CTL_SUBMIT_PAYLOAD_MAX);
			uint64_t scope = x->type == TH_CMD_MESH_PATCH
						 ? th_id_derive(TH_ID_MESH_ELEMENT, key, pl.e[x->create].seq, 0)
						 : 0;
			struct ctl_submitted s;
			r = plen < 0 ? 1 : ctl_submit(ctx, fd, session, th_cmd_find(x->type)->name, scope, buf, (size_t)plen,
						      false, &s, why, sizeof(why));
			if (r) {
				ctl_eprintf(ctx, "thetactl import: entry %u of %u (%s) was refused: %s\n", e + 1, pl.n_e,
					th_cmd_find(x->type)->name, plen < 0 ? "it does not encode" : why);
				if (n_done)
					ctl_eprintf(ctx,
						"thetactl import: the %u entries before it stay in the session (lamports %" PRIu64
						" to %" PRIu64 "); thetactl undo removes them one by one\n",
						n_done, pl.e[0].lamport, pl.e[n_done - 1].lamport);
				goto out;
			}
			if (e == 0) {
				memcpy(key, s.author, sizeof(key));
				th_hex_encode(key, sizeof(key), author);
				snprintf(fpr, sizeof(fpr), "%s", s.fingerprint);
			} else if (memcmp(key, s.author, sizeof(key))) {
				ctl_eprintf(ctx, "thetactl import: the daemon signed entry %u with another key; stopping\n", e + 1);
				goto out;
			}
			x->seq = s.seq;
			x->lamport = s.lamport;
			n_done++;
		}
	}
	int refused = 0;
	if (!dry && wait && n_done) {
		refused = imp_outcomes(ctx, fd, session, &pl, author, n_done);
		if (refused == -ETIMEDOUT)
			ctl_eprintf(ctx, "thetactl import: the scene has not folded the import within %u s; see thetactl scene\n",
				CTL_IMPORT_WAIT_S);
		else if (refused < 0)
			ctl_eprintf(ctx, "thetactl import: cannot ask for the entries' outcomes: %s\n", th_strerror(refused));
	}
	if (ctx->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "objects", json_object_new_uint64(m.n_objects));
		json_object_object_add(o, "faces", json_object_new_uint64(faces));
		json_object_object_add(o, "vertices", json_object_new_uint64(verts));
		json_object_object_add(o, "materials", json_object_new_uint64(m.n_materials));
		json_object_object_add(o, "entries", json_object_new_uint64(pl.n_e));
		json_object_object_add(o, "submitted", json_object_new_uint64(n_done));
		if (n_done) {
			json_object_object_add(o, "author", json_object_new_string(fpr));
			json_object_object_add(o, "first_lamport", json_object_new_uint64(pl.e[0].lamport));
			json_object_object_add(o, "last_lamport", json_object_new_uint64(pl.e[n_done - 1].lamport));
			struct json_object *ents = json_object_new_array();
			for (uint32_t e = 0; e < n_done; e++) {
				char id[96];
				snprintf(id, sizeof(id), "%" PRIu64 ":%s", pl.e[e].lamport, fpr);
				json_object_array_add(ents, json_object_new_string(id));
			}
			json_object_object_add(o, "entry_ids", ents);
			/* Each object's entity and mesh, as the scene names them. */
			struct json_object *objs = json_object_new_array();
			for (uint32_t e = 0; e < n_done; e++) {
				const struct imp_entry *x = &pl.e[e];
				if (x->type != TH_CMD_MESH_CREATE)
					continue;
				const struct th_model_object *ob = &m.objects[x->object];
				struct json_object *j = json_object_new_object();
				uint8_t key[32];
				th_hex_decode(author, 64, key, sizeof(key), false);
				json_object_object_add(j, "name", json_object_new_string(ob->name));
				json_object_object_add(j, "entity", json_object_new_uint64(th_id_derive(TH_ID_ENTITY, key, x->seq, 0)));
				json_object_object_add(j, "mesh", json_object_new_uint64(th_id_derive(TH_ID_MESH_ELEMENT, key, x->seq, 0)));
				json_object_object_add(j, "faces", json_object_new_uint64(ob->n_faces));
				json_object_object_add(j, "vertices", json_object_new_uint64(ob->n_verts));
				json_object_object_add(j, "create", json_object_new_uint64(x->lamport));
				json_object_array_add(objs, j);
			}
			json_object_object_add(o, "objects_made", objs);
		}
		json_object_object_add(o, "refused", json_object_new_int(refused > 0 ? refused : 0));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		printf("%s %s: %u object%s (entities), %" PRIu64 " faces, %" PRIu64 " vertices, %u material%s in %u entr%s",
		       dry ? "would import" : "imported", path, m.n_objects, m.n_objects == 1 ? "" : "s", faces, verts,
		       m.n_materials, m.n_materials == 1 ? "" : "s", pl.n_e, pl.n_e == 1 ? "y" : "ies");
		if (n_done)
			printf(", lamports %" PRIu64 " to %" PRIu64 " by %s", pl.e[0].lamport, pl.e[n_done - 1].lamport, fpr);
		printf("\n");
	}
	rc = refused == 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
out:
	if (fd >= 0)
		close(fd);
	th_model_fini(&m);
	plan_free(&pl);
	free(v_entry);
	free(v_op);
	free(text);
	free(mtl);
	free(buf);
	return rc;
}
