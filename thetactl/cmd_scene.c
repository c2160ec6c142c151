/* thetactl scene: the session's scene as the daemon folds it (the daemon's
 * `scene` control command), and `scene diff A B`, what changed between two
 * log positions, rebuilt offline from the log (rebuild.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"
#include "rebuild.h"
#include "th_err.h"
#include "th_hex.h"
#include "th_mesh.h"
#include "th_scene.h"
#include "th_schema.h"

#define CTL_SCENE_HASH_SHORT 16 /* hex digits of a hash in one-line listings */

/* ---- thetactl scene [--session S] [--json] ---------------------------------- */

static void ctl_scene_print(struct json_object *res)
{
	struct json_object *cp, *v;
	printf("session %s (%s)\n", ctl_jstr(res, "session"), ctl_jstr(res, "name"));
	if (json_object_object_get_ex(res, "state", &v)) {
		const char *state = json_object_get_string(v);
		printf("  state:         %s (the log holds %s entries", state, ctl_jstr(res, "log_count"));
		if (json_object_object_get_ex(res, "rebuild_folded", &v))
			printf("; %s folded so far", json_object_get_string(v));
		printf(")\n");
		if (json_object_object_get_ex(res, "error", &v))
			printf("  error:         %s\n", json_object_get_string(v));
	}
	printf("  world hash:    %s\n", ctl_jstr(res, "world_hash"));
	printf("  log position:  %s (folded %s: %s applied, %s refused, %s excluded by undo; %s rollbacks, %s rebuilds)\n",
	       ctl_jstr(res, "log_position"), ctl_jstr(res, "folded"), ctl_jstr(res, "applied"), ctl_jstr(res, "refused"),
	       ctl_jstr(res, "excluded"), ctl_jstr(res, "rollbacks"), ctl_jstr(res, "rebuilds"));
	static const char *const hdr[] = { "ENTITIES", "MESHES", "FACES", "VERTICES", "EDGES", "MATERIALS" };
	struct ctl_table *t = ctl_table_new(6, hdr);
	const char *row[] = { ctl_jstr(res, "entities"), ctl_jstr(res, "meshes"), ctl_jstr(res, "faces"),
			      ctl_jstr(res, "vertices"), ctl_jstr(res, "edges"), ctl_jstr(res, "materials") };
	ctl_table_row(t, row);
	ctl_table_print(t);
	ctl_table_free(t);
	if (json_object_object_get_ex(res, "checkpoint", &cp) && json_object_is_type(cp, json_type_object)) {
		char age[64] = "-";
		if (json_object_object_get_ex(cp, "age_s", &v))
			ctl_format_duration(json_object_get_double(v), age, sizeof(age));
		printf("  checkpoint:    position %s, %s old, world hash %s\n", ctl_jstr(cp, "position"), age,
		       ctl_jstr(cp, "world_hash"));
	} else {
		printf("  checkpoint:    none yet\n");
	}
}

static int ctl_scene_diff(struct ctl_ctx *ctx, int argc, char **argv);

int ctl_cmd_scene(struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "diff"))
		return ctl_scene_diff(ctx, argc - 1, argv + 1);
	struct json_object *res;
	int r = ctl_query_session(ctx, "scene", argc, argv, &res);
	if (r || !res)
		return r;
	ctl_scene_print(res);
	json_object_put(res);
	return CTL_EXIT_OK;
}

/* ---- thetactl scene diff A B [--session S | LOGFILE] ---------------------- */

/* The log directory of a session this daemon keeps: STATE/sessions/ID/log,
 * S an id or name (NULL: the current session). */
static int ctl_scene_session_log(struct ctl_ctx *ctx, const char *session, char *path, size_t cap)
{
	struct json_object *st = NULL, *ss = NULL, *list, *found = NULL;
	int r = ctl_call(ctx, "status", NULL, &st);
	if (r)
		return r;
	if ((r = ctl_call(ctx, "sessions", NULL, &ss))) {
		json_object_put(st);
		return r;
	}
	unsigned named = 0;
	if (json_object_object_get_ex(ss, "sessions", &list) && json_object_is_type(list, json_type_array)) {
		for (size_t k = 0; k < json_object_array_length(list); k++) {
			struct json_object *s = json_object_array_get_idx(list, k), *v;
			if (!session) {
				if (json_object_object_get_ex(s, "current", &v) && json_object_get_boolean(v))
					found = s;
			} else if (!strcmp(ctl_jstr(s, "id"), session)) {
				found = s;
				named = 1;
				break;
			} else if (!strcmp(ctl_jstr(s, "name"), session)) {
				found = s;
				named++;
			}
		}
	}
	r = CTL_EXIT_OK;
	if (!found || named > 1) {
		if (!session)
			ctl_eprintf(ctx, "%s scene diff: the daemon has no current session; name one with --session S\n", ctx->prog);
		else if (named > 1)
			ctl_eprintf(ctx, "%s scene diff: %u sessions are named '%s'; give its id (thetactl sessions lists them)\n",
				ctx->prog, named, session);
		else
			ctl_eprintf(ctx, "%s scene diff: unknown session '%s' (thetactl sessions lists them)\n", ctx->prog, session);
		r = CTL_EXIT_ERROR;
	} else if (snprintf(path, cap, "%s/sessions/%s/log", ctl_jstr(st, "state_dir"), ctl_jstr(found, "id")) >= (int)cap) {
		ctl_eprintf(ctx, "%s scene diff: the session's log path is too long\n", ctx->prog);
		r = CTL_EXIT_ERROR;
	}
	json_object_put(st);
	json_object_put(ss);
	return r;
}

static int ctl_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Every entity (meshes: with_meshes) id of s, sorted, in *out (caller frees). */
static int ctl_scene_ids(const struct th_scene *s, bool meshes, uint64_t **out, size_t *n)
{
	struct th_scene_stats ss;
	th_scene_stats(s, &ss);
	size_t cap = (size_t)(meshes ? ss.meshes : ss.entities), k = 0, cur = 0;
	uint64_t *ids = malloc((cap ? cap : 1) * sizeof(*ids)), id;
	const struct th_mesh *m;
	if (!ids)
		return -ENOMEM;
	if (meshes)
		while (k < cap && th_scene_next_mesh(s, &cur, &m))
			ids[k++] = m->id;
	else
		while (k < cap && th_scene_next_entity(s, &cur, &id))
			ids[k++] = id;
	qsort(ids, k, sizeof(*ids), ctl_u64_cmp);
	*out = ids;
	*n = k;
	return 0;
}

static bool ctl_comp_equal(const struct th_schema_record *rec, const void *a, const void *b)
{
	uint8_t ea[TH_SCHEMA_MAX_VALUE_SIZE], eb[TH_SCHEMA_MAX_VALUE_SIZE];
	int na = th_schema_encode(rec, a, ea, sizeof(ea)), nb = th_schema_encode(rec, b, eb, sizeof(eb));
	return na == nb && na >= 0 && !memcmp(ea, eb, (size_t)na);
}

static struct json_object *ctl_hex_id(uint64_t id)
{
	char b[24];
	snprintf(b, sizeof(b), "%016" PRIx64, id);
	return json_object_new_string(b);
}

/* The names of the REPLICATED components entity id has in s. */
static struct json_object *ctl_comp_names(const struct th_scene *s, uint64_t id)
{
	struct json_object *a = json_object_new_array();
	for (unsigned c = 0; c < TH_COMP_COUNT; c++)
		if (th_scene_component(s, id, c))
			json_object_array_add(a, json_object_new_string(th_component_record(c)->name));
	return a;
}

static void ctl_diff_entities(const struct th_scene *x, const struct th_scene *y, const uint64_t *a, size_t na,
			      const uint64_t *b, size_t nb, struct json_object *out)
{
	struct json_object *cre = json_object_new_array(), *des = json_object_new_array(), *chg = json_object_new_array();
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		if (j >= nb || (i < na && a[i] < b[j])) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id", ctl_hex_id(a[i]));
			json_object_object_add(o, "components", ctl_comp_names(x, a[i]));
			json_object_array_add(des, o);
			i++;
		} else if (i >= na || b[j] < a[i]) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "id", ctl_hex_id(b[j]));
			json_object_object_add(o, "components", ctl_comp_names(y, b[j]));
			json_object_array_add(cre, o);
			j++;
		} else {
			struct json_object *ch = json_object_new_array(), *ad = json_object_new_array(),
					   *rm = json_object_new_array();
			for (unsigned c = 0; c < TH_COMP_COUNT; c++) {
				const struct th_schema_record *rec = th_component_record(c);
				const void *pa = th_scene_component(x, a[i], c), *pb = th_scene_component(y, b[j], c);
				if (pa && !pb)
					json_object_array_add(rm, json_object_new_string(rec->name));
				else if (!pa && pb)
					json_object_array_add(ad, json_object_new_string(rec->name));
				else if (pa && pb && !ctl_comp_equal(rec, pa, pb))
					json_object_array_add(ch, json_object_new_string(rec->name));
			}
			if (json_object_array_length(ch) + json_object_array_length(ad) + json_object_array_length(rm)) {
				struct json_object *o = json_object_new_object();
				json_object_object_add(o, "id", ctl_hex_id(a[i]));
				json_object_object_add(o, "changed", ch);
				json_object_object_add(o, "added", ad);
				json_object_object_add(o, "removed", rm);
				json_object_array_add(chg, o);
			} else {
				json_object_put(ch);
				json_object_put(ad);
				json_object_put(rm);
			}
			i++;
			j++;
		}
	}
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "created", cre);
	json_object_object_add(e, "destroyed", des);
	json_object_object_add(e, "changed", chg);
	json_object_object_add(out, "entities", e);
}

static struct json_object *ctl_mesh_change(uint64_t id, const struct th_mesh *ma, const struct th_mesh *mb)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", ctl_hex_id(id));
	json_object_object_add(o, "vertices_before", json_object_new_uint64(ma ? ma->live_verts : 0));
	json_object_object_add(o, "vertices_after", json_object_new_uint64(mb ? mb->live_verts : 0));
	json_object_object_add(o, "faces_before", json_object_new_uint64(ma ? ma->live_faces : 0));
	json_object_object_add(o, "faces_after", json_object_new_uint64(mb ? mb->live_faces : 0));
	return o;
}

/* Whether two meshes differ: their canonical encodings. */
static int ctl_mesh_differs(const struct th_mesh *ma, const struct th_mesh *mb)
{
	if (ma->live_verts != mb->live_verts || ma->live_faces != mb->live_faces)
		return 1;
	struct th_wbuf wa, wb;
	th_wbuf_init(&wa, 0);
	th_wbuf_init(&wb, 0);
	int r = th_mesh_encode(ma, &wa);
	if (r == 0)
		r = th_mesh_encode(mb, &wb);
	if (r == 0)
		r = wa.len != wb.len || memcmp(wa.data, wb.data, wa.len) != 0;
	th_wbuf_fini(&wa);
	th_wbuf_fini(&wb);
	return r;
}

static int ctl_diff_meshes(const struct th_scene *x, const struct th_scene *y, const uint64_t *a, size_t na,
			   const uint64_t *b, size_t nb, struct json_object *out)
{
	struct json_object *cre = json_object_new_array(), *des = json_object_new_array(), *chg = json_object_new_array();
	size_t i = 0, j = 0;
	int r = 0;
	while (r >= 0 && (i < na || j < nb)) {
		if (j >= nb || (i < na && a[i] < b[j])) {
			json_object_array_add(des, ctl_mesh_change(a[i], th_scene_mesh(x, a[i]), NULL));
			i++;
		} else if (i >= na || b[j] < a[i]) {
			json_object_array_add(cre, ctl_mesh_change(b[j], NULL, th_scene_mesh(y, b[j])));
			j++;
		} else {
			const struct th_mesh *ma = th_scene_mesh(x, a[i]), *mb = th_scene_mesh(y, b[j]);
			if ((r = ctl_mesh_differs(ma, mb)) > 0)
				json_object_array_add(chg, ctl_mesh_change(a[i], ma, mb));
			i++;
			j++;
		}
	}
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "created", cre);
	json_object_object_add(e, "destroyed", des);
	json_object_object_add(e, "changed", chg);
	json_object_object_add(out, "meshes", e);
	return r < 0 ? r : 0;
}

static struct json_object *ctl_material_json(const struct th_scene_material *m)
{
	if (!m || !m->defined)
		return NULL;
	struct json_object *o = json_object_new_object(), *c = json_object_new_array();
	json_object_object_add(o, "name", json_object_new_string(m->name));
	for (int k = 0; k < 4; k++)
		json_object_array_add(c, json_object_new_double(m->base_color[k]));
	json_object_object_add(o, "base_color", c);
	json_object_object_add(o, "roughness", json_object_new_double(m->roughness));
	json_object_object_add(o, "metallic", json_object_new_double(m->metallic));
	return o;
}

static bool ctl_material_same(const struct th_scene_material *p, const struct th_scene_material *q)
{
	bool dp = p && p->defined, dq = q && q->defined;
	if (!dp || !dq)
		return dp == dq;
	return !strcmp(p->name, q->name) && !memcmp(p->base_color, q->base_color, sizeof(p->base_color)) &&
	       !memcmp(&p->roughness, &q->roughness, sizeof(float)) && !memcmp(&p->metallic, &q->metallic, sizeof(float));
}

static void ctl_diff_materials(const struct th_scene *x, const struct th_scene *y, struct json_object *out)
{
	struct json_object *chg = json_object_new_array();
	for (unsigned k = 0; k < TH_SCENE_MATERIALS; k++) {
		const struct th_scene_material *p = th_scene_material(x, k), *q = th_scene_material(y, k);
		if (ctl_material_same(p, q))
			continue;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_int((int)k));
		json_object_object_add(o, "before", ctl_material_json(p));
		json_object_object_add(o, "after", ctl_material_json(q));
		json_object_array_add(chg, o);
	}
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "changed", chg);
	json_object_object_add(out, "materials", e);
}

/* The diff from scene x (at position pa) to y (at pb) as a JSON object. */
static int ctl_diff_build(const struct th_scene *x, const struct th_scene *y, struct json_object *out)
{
	uint64_t *ea = NULL, *eb = NULL, *ma = NULL, *mb = NULL;
	size_t nea, neb, nma, nmb;
	int r;
	if ((r = ctl_scene_ids(x, false, &ea, &nea)) < 0 || (r = ctl_scene_ids(y, false, &eb, &neb)) < 0 ||
	    (r = ctl_scene_ids(x, true, &ma, &nma)) < 0 || (r = ctl_scene_ids(y, true, &mb, &nmb)) < 0)
		goto out;
	ctl_diff_entities(x, y, ea, nea, eb, neb, out);
	if ((r = ctl_diff_meshes(x, y, ma, nma, mb, nmb, out)) < 0)
		goto out;
	ctl_diff_materials(x, y, out);
out:
	free(ea);
	free(eb);
	free(ma);
	free(mb);
	return r;
}

static void ctl_print_names(struct json_object *a, const char *prefix)
{
	for (size_t k = 0; k < json_object_array_length(a); k++)
		printf(" %s%s", prefix, json_object_get_string(json_object_array_get_idx(a, k)));
}

static void ctl_diff_print(struct json_object *d)
{
	struct json_object *e = json_object_object_get(d, "entities"), *m = json_object_object_get(d, "meshes");
	struct json_object *mat = json_object_object_get(d, "materials");
	struct json_object *ec = json_object_object_get(e, "created"), *ed = json_object_object_get(e, "destroyed"),
			   *eh = json_object_object_get(e, "changed");
	struct json_object *mc = json_object_object_get(m, "created"), *md = json_object_object_get(m, "destroyed"),
			   *mh = json_object_object_get(m, "changed");
	struct json_object *xc = json_object_object_get(mat, "changed");
	printf("scene diff %s -> %s: world hash %.*s -> %.*s\n", ctl_jstr(d, "from"), ctl_jstr(d, "to"),
	       CTL_SCENE_HASH_SHORT, ctl_jstr(d, "world_hash_from"), CTL_SCENE_HASH_SHORT, ctl_jstr(d, "world_hash_to"));
	printf("entities: %zu created, %zu destroyed, %zu changed\n", json_object_array_length(ec),
	       json_object_array_length(ed), json_object_array_length(eh));
	for (size_t k = 0; k < json_object_array_length(ec); k++) {
		struct json_object *o = json_object_array_get_idx(ec, k);
		printf("  + %s", ctl_jstr(o, "id"));
		ctl_print_names(json_object_object_get(o, "components"), "");
		printf("\n");
	}
	for (size_t k = 0; k < json_object_array_length(ed); k++) {
		struct json_object *o = json_object_array_get_idx(ed, k);
		printf("  - %s", ctl_jstr(o, "id"));
		ctl_print_names(json_object_object_get(o, "components"), "");
		printf("\n");
	}
	for (size_t k = 0; k < json_object_array_length(eh); k++) {
		struct json_object *o = json_object_array_get_idx(eh, k);
		printf("  ~ %s", ctl_jstr(o, "id"));
		ctl_print_names(json_object_object_get(o, "changed"), "");
		ctl_print_names(json_object_object_get(o, "added"), "+");
		ctl_print_names(json_object_object_get(o, "removed"), "-");
		printf("\n");
	}
	printf("meshes: %zu created, %zu destroyed, %zu changed\n", json_object_array_length(mc),
	       json_object_array_length(md), json_object_array_length(mh));
	struct json_object *lists[3] = { mc, md, mh };
	const char marks[3] = { '+', '-', '~' };
	for (int l = 0; l < 3; l++)
		for (size_t k = 0; k < json_object_array_length(lists[l]); k++) {
			struct json_object *o = json_object_array_get_idx(lists[l], k);
			printf("  %c %s  vertices %s -> %s, faces %s -> %s\n", marks[l], ctl_jstr(o, "id"),
			       ctl_jstr(o, "vertices_before"), ctl_jstr(o, "vertices_after"), ctl_jstr(o, "faces_before"),
			       ctl_jstr(o, "faces_after"));
		}
	printf("materials: %zu changed\n", json_object_array_length(xc));
	for (size_t k = 0; k < json_object_array_length(xc); k++) {
		struct json_object *o = json_object_array_get_idx(xc, k), *b = json_object_object_get(o, "before"),
				   *a = json_object_object_get(o, "after");
		printf("  ~ %s  %s -> %s\n", ctl_jstr(o, "index"), b ? ctl_jstr(b, "name") : "(undefined)",
		       a ? ctl_jstr(a, "name") : "(undefined)");
	}
}

#define CTL_DIFF_USAGE "A B [--session S | LOGFILE] [--json] [--host-key HEX] [--window N]"

static int ctl_scene_diff(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },          { "session", required_argument, NULL, 'S' },
		{ "host-key", required_argument, NULL, 'k' }, { "window", required_argument, NULL, 'w' },
		{ 0 },
	};
	struct ctl_rebuild rb = { .at = CTL_REBUILD_ALL, .mark = CTL_REBUILD_ALL };
	const char *session = NULL, *pos[3] = { 0 };
	unsigned npos = 0;
	uint64_t a, b, w;
	char path[4200];
	int c;
	optind = 0; /* glibc: start over, with this optstring's ordering ('-') */
	opterr = 0;
	/* Options may follow the operands. */
	while (optind < argc) {
		if ((c = getopt_long(argc, argv, "-", opts, NULL)) == -1)
			break;
		switch (c) {
		case 1:
			if (npos == 3)
				return ctl_usage_error(ctx, "scene diff", "unexpected argument '%s'", optarg);
			pos[npos++] = optarg;
			break;
		case 'j':
			ctx->json = true;
			break;
		case 'S':
			session = optarg;
			break;
		case 'k':
			if (ctl_rebuild_parse_key(optarg, rb.host) < 0)
				return ctl_usage_error(ctx, "scene diff",
						       "--host-key needs the host's public key as 64 hex digits, not '%s'", optarg);
			rb.host_given = true;
			break;
		case 'w':
			if (!ctl_rebuild_parse_u64(optarg, &w) || w == 0 || w > UINT32_MAX)
				return ctl_usage_error(ctx, "scene diff",
						       "--window needs a count of entries from 1 to 4294967295, not '%s'", optarg);
			rb.window = (uint32_t)w;
			break;
		default:
			return ctl_option_error(ctx, "scene diff", argv);
		}
	}
	if (npos < 2)
		return ctl_usage_error(ctx, "scene diff", "needs two positions: thetactl scene diff " CTL_DIFF_USAGE);
	if (npos == 2 && ctl_rebuild_parse_u64(pos[0], &a) && !ctl_rebuild_parse_u64(pos[1], &b))
		return ctl_usage_error(ctx, "scene diff", "needs two positions before the LOGFILE, A and B, not only '%s'",
				       pos[0]);
	if (!ctl_rebuild_parse_u64(pos[0], &a) || !ctl_rebuild_parse_u64(pos[1], &b))
		return ctl_usage_error(ctx, "scene diff", "A and B are log positions (whole numbers), not '%s'",
				       ctl_rebuild_parse_u64(pos[0], &a) ? pos[1] : pos[0]);
	if (npos == 3 && session)
		return ctl_usage_error(ctx, "scene diff", "give a LOGFILE or --session, not both");
	if (npos == 3) {
		snprintf(path, sizeof(path), "%s", pos[2]);
	} else {
		int r = ctl_scene_session_log(ctx, session, path, sizeof(path));
		if (r)
			return r;
	}
	rb.path = path;
	rb.at = a > b ? a : b;
	rb.mark = a > b ? b : a;
	int r = ctl_rebuild_run(&rb);
	if (r == 0 && !rb.scan.ok && rb.scan.torn)
		ctl_eprintf(ctx,
			"%s scene diff: the log's last batch is incomplete (being written, or torn) from position %" PRIu64
			"; the positions before it are used\n",
			ctx->prog, rb.scan.records);
	else if (r == 0 && !rb.scan.ok) {
		snprintf(rb.err, sizeof(rb.err),
			 "%s does not verify (record %" PRIu64 ": %s); thetactl log verify %s says more", path,
			 rb.scan.bad_index, th_logrec_fault_str(rb.scan.bad_reason), path);
		r = -EBADMSG;
	}
	struct th_scene *marked = NULL;
	const char *why = "";
	if (r == 0 && (r = th_scene_create(&marked)) < 0)
		snprintf(rb.err, sizeof(rb.err), "cannot create a scene: %s", th_strerror(r));
	if (r == 0 && (r = th_scene_decode(marked, rb.marked.data, rb.marked.len, &why)) < 0)
		snprintf(rb.err, sizeof(rb.err), "cannot decode the scene at position %" PRIu64 ": %s", rb.mark, why);
	if (r < 0) {
		ctl_eprintf(ctx, "%s scene diff: %s\n", ctx->prog, rb.err);
		th_scene_destroy(&marked);
		ctl_rebuild_fini(&rb);
		return CTL_EXIT_ERROR;
	}
	/* x: the scene at A, y: at B. */
	const struct th_scene *folded = th_fold_scene(rb.fold);
	const struct th_scene *x = a <= b ? marked : folded, *y = a <= b ? folded : marked;
	uint8_t hx[TH_SCENE_HASH_LEN], hy[TH_SCENE_HASH_LEN];
	char hex[2 * TH_SCENE_HASH_LEN + 1];
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "from", json_object_new_uint64(a));
	json_object_object_add(d, "to", json_object_new_uint64(b));
	json_object_object_add(d, "log", json_object_new_string(path));
	if ((r = th_scene_hash(x, hx)) == 0 && (r = th_scene_hash(y, hy)) == 0) {
		th_hex_encode(hx, sizeof(hx), hex);
		json_object_object_add(d, "world_hash_from", json_object_new_string(hex));
		th_hex_encode(hy, sizeof(hy), hex);
		json_object_object_add(d, "world_hash_to", json_object_new_string(hex));
		r = ctl_diff_build(x, y, d);
	}
	if (r < 0) {
		ctl_eprintf(ctx, "%s scene diff: cannot compare the scenes: %s\n", ctx->prog, th_strerror(r));
	} else if (ctx->json) {
		ctl_print_json(d);
	} else {
		ctl_diff_print(d);
	}
	json_object_put(d);
	th_scene_destroy(&marked);
	ctl_rebuild_fini(&rb);
	return r < 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}
