/* The browser's fold (build/web/wasm/theta.wasm through web/js/scene.js, run
 * by node: tests/web/fold_check.mjs) against the C fold of common/: scripted
 * sessions of two authors (cubes, extrudes, moves, paints, undo and redo
 * across authors, refusals, an entry that arrives below newer ones) give
 * the same world hash, the same outcomes in the same order and the same
 * meshes to draw; the page's edit builders make payloads the C fold applies
 * (the extrude's byte for byte what th_op_extrude_faces makes, as the
 * headset's extrude tool calls it); bad input is refused with a sentence;
 * the session's entries beside randomly broken copies (a byte changed, cut,
 * grown, a run of 0xff) answer and fold alike, none hanging or trapping; a
 * trap stops the module with one sentence. SKIP with the reason when node or theta.wasm is missing. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "edit/edit_palette.h"
#include "th_fold.h"
#include "th_foldfix.h"
#include "th_harness.h"
#include "th_hex.h"
#include "th_meshop.h"
#include "scene_edits.h"
#include "tw_node.h"

#define SCRIPT "tests/web/fold_check.mjs"
#define OUTCOMES_MAX 256u
#define LINE_MAX_ 512u

/* A C fold fed as the page is, recording its outcomes as fold_check prints them. */
struct cfold {
	struct th_fold *f;
	char outcomes[OUTCOMES_MAX][LINE_MAX_];
	unsigned n;
	struct th_wbuf file;
	uint64_t pos;
	unsigned high_ids; /* drawn ids at or past 2^63 (wasm's i64 is signed) */
};

static const char *const status_names[] = { "", "applied", "refused", "excluded", "control" };

static void on_outcome(void *ud, const struct th_fold_outcome *o)
{
	struct cfold *c = ud;
	if (c->n < OUTCOMES_MAX)
		snprintf(c->outcomes[c->n++], LINE_MAX_, "outcome %s %" PRIu64 " %s", status_names[o->status], o->lamport,
			 th_refusal_name(o->reason));
}

static void cfold_init(struct cfold *c, const uint8_t host[32])
{
	memset(c, 0, sizeof *c);
	struct th_fold_config cfg = { .window_entries = UINT32_MAX, .window_bytes = SIZE_MAX, .on_outcome = on_outcome,
				      .ud = c };
	memcpy(cfg.host_key, host, 32);
	assert_int_equal(th_fold_create(&cfg, &c->f), 0);
	twn_file_begin(&c->file, host);
}

static void cfold_fini(struct cfold *c)
{
	th_fold_destroy(&c->f);
	th_wbuf_fini(&c->file);
}

/* Folds entry i of ff_made at the next position and writes it to the file. */
static void cfold_add(struct cfold *c, size_t i)
{
	assert_int_equal(th_fold_add(c->f, ff_e(i), c->pos), 0);
	assert_int_equal(twn_file_entry(&c->file, c->pos, ff_e(i)), 0);
	c->pos++;
}

static const struct th_mesh *mesh_of(struct cfold *c, uint64_t id)
{
	const struct th_mesh *m = th_scene_mesh(th_fold_scene(c->f), id);
	assert_non_null(m);
	return m;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The live face ids of mesh m, ascending, into out[cap]; their count. */
static unsigned faces_of(const struct th_mesh *m, uint64_t *out, unsigned cap)
{
	unsigned n = 0;
	for (uint32_t f = 0; f < m->nfaces; f++)
		if (m->faces[f].id && n < cap)
			out[n++] = m->faces[f].id;
	qsort(out, n, sizeof *out, cmp_u64);
	return n;
}

/* A mesh.patch of p's ops by author a on mesh. */
static size_t make_patch(struct lt_author *a, uint64_t mesh, const struct th_patch *p, uint64_t lamport)
{
	struct th_pl_mesh_patch *mp = ff_patch();
	mp->ops_count = (uint16_t)p->n;
	memcpy(mp->ops, p->ops, p->n * sizeof p->ops[0]);
	return ff_make(a, TH_CMD_MESH_PATCH, mesh, lamport, mp);
}

static size_t make_raw(struct lt_author *a, uint16_t type, uint64_t scope, uint64_t lamport, const uint8_t *payload,
		       size_t len)
{
	union th_pl_any *pl = malloc(sizeof *pl);
	assert_non_null(pl);
	assert_int_equal(th_cmd_payload_decode(type, payload, len, pl, NULL), 0);
	size_t i = ff_make(a, type, scope, lamport, pl);
	free(pl);
	return i;
}

static char *run_check(struct cfold *c, const char *dir, const char *const *edits)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/entries.twf", dir);
	assert_int_equal(th_wbuf_error(&c->file), 0);
	assert_int_equal(lt_write_file(path, c->file.data, c->file.len), 0);
	const char *argv[32] = { SCRIPT, twn_wasm(), path };
	size_t n = 3;
	for (; edits && edits[n - 3] && n < 31; n++)
		argv[n] = edits[n - 3];
	argv[n] = NULL;
	char *out = NULL;
	int st = twn_run(argv, &out);
	assert_non_null(out);
	if (st != 0)
		fprintf(stderr, "fold_check said:\n%s", out);
	assert_int_equal(st, 0);
	return out;
}

/* The C fold's hash, entity count and outcomes equal what node printed. */
static void assert_same(struct cfold *c, const char *out)
{
	uint8_t h[32];
	char hex[65];
	assert_int_equal(th_fold_world_hash(c->f, h), 0);
	th_hex_encode(h, 32, hex);
	const char *got = twn_line(out, "hash");
	assert_non_null(got);
	if (strncmp(got, hex, 64))
		fprintf(stderr, "world hash: C %s, wasm %.64s\n", hex, got);
	assert_memory_equal(got, hex, 64);
	struct th_scene_stats ss;
	th_scene_stats(th_fold_scene(c->f), &ss);
	assert_int_equal(strtoull(twn_line(out, "entities"), NULL, 10), ss.entities);
	struct th_fold_stats fs;
	th_fold_stats(c->f, &fs);
	assert_int_equal(strtoull(twn_line(out, "next_pos"), NULL, 10), fs.next_pos);
	assert_int_equal(strtoull(twn_line(out, "entries"), NULL, 10), fs.entries);
	/* Outcomes: the same lines in the same order. */
	unsigned k = 0;
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "outcome ", 8))
			continue;
		size_t len = strcspn(p, "\n");
		assert_true(k < c->n);
		if (strlen(c->outcomes[k]) != len || strncmp(p, c->outcomes[k], len))
			fprintf(stderr, "outcome %u: C '%s', wasm '%.*s'\n", k, c->outcomes[k], (int)len, p);
		assert_int_equal(strlen(c->outcomes[k]), len);
		assert_memory_equal(p, c->outcomes[k], len);
		k++;
	}
	assert_int_equal(k, c->n);
}

/* Each drawn entity's triangles, edges and area as the C mesh says. */
static void assert_draws(struct cfold *c, const char *out)
{
	const struct th_scene *sc = th_fold_scene(c->f);
	unsigned draws = 0;
	for (const char *p = twn_line(out, "draw"); p; p = twn_line(strchr(p, '\n'), "draw")) {
		uint64_t entity, mesh;
		unsigned tris, edges;
		double area;
		assert_null(memchr(p, '-', strcspn(p, "\n"))); /* ids are u64: none printed negative */
		assert_int_equal(sscanf(p, "%" SCNu64 " %" SCNu64 " %u %u %lf", &entity, &mesh, &tris, &edges, &area), 5);
		c->high_ids += entity >> 63 | mesh >> 63;
		const struct th_c_mesh_ref *mr = th_scene_component(sc, entity, TH_COMP_MESH_REF);
		assert_non_null(mr);
		assert_int_equal(mr->mesh, mesh);
		const struct th_mesh *m = mesh_of(c, mesh);
		unsigned want_tris = 0;
		double want_area = 0;
		for (uint32_t f = 0; f < m->nfaces; f++) {
			if (!m->faces[f].id)
				continue;
			want_tris += m->faces[f].n - 2u;
			float nrm[3] = { 0 };
			int32_t h = m->faces[f].he;
			for (unsigned k = 0; k < m->faces[f].n; k++, h = m->hes[h].next) {
				const float *a = m->verts[m->hes[h].vert].pos, *b = m->verts[m->hes[m->hes[h].next].vert].pos;
				nrm[0] += (a[1] - b[1]) * (a[2] + b[2]);
				nrm[1] += (a[2] - b[2]) * (a[0] + b[0]);
				nrm[2] += (a[0] - b[0]) * (a[1] + b[1]);
			}
			want_area += sqrt((double)nrm[0] * nrm[0] + (double)nrm[1] * nrm[1] + (double)nrm[2] * nrm[2]) / 2;
		}
		struct th_mesh_stats ms;
		th_mesh_stats(m, &ms);
		assert_int_equal(tris, want_tris);
		assert_int_equal(edges, ms.edges);
		assert_true(fabs(area - want_area) <= 1e-4 * (1 + want_area));
		draws++;
	}
	assert_true(draws > 0);
}

/* ---- the session ------------------------------------------------------------------ */

struct session {
	struct lt_author a, b; /* a hosts the session (admin); b edits */
	struct cfold c;
	size_t cube_a, cube_b, extrude, paint, move_b, undo_a;
	uint64_t mesh_a, ent_a, mesh_b, ent_b;
};

static size_t cube(struct lt_author *au, float x, uint64_t lamport)
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
	const float pos[3] = { x, 0, 0 };
	int n = se_cube(pos, 1.0f, buf, sizeof buf);
	assert_true(n > 0);
	return make_raw(au, TH_CMD_MESH_CREATE, 0, lamport, buf, (size_t)n);
}

static void session_build(struct session *s)
{
	memset(s, 0, sizeof *s);
	ff_free_all();
	lt_author_init(&s->a, 0x11);
	lt_author_init(&s->b, 0x22);
	cfold_init(&s->c, s->a.kp.pk);
	struct cfold *c = &s->c;

	cfold_add(c, s->cube_a = cube(&s->a, 0, 1));
	cfold_add(c, s->cube_b = cube(&s->b, 3, 2));
	s->mesh_a = ff_element_of(s->cube_a, 0), s->ent_a = ff_entity_of(s->cube_a);
	s->mesh_b = ff_element_of(s->cube_b, 0), s->ent_b = ff_entity_of(s->cube_b);

	/* a extrudes its cube's first face, as the extrude tool does. */
	struct th_patch p;
	th_patch_init(&p);
	uint64_t faces[64];
	assert_true(faces_of(mesh_of(c, s->mesh_a), faces, 64) == 6);
	const char *why = NULL;
	assert_int_equal(th_op_extrude_faces(mesh_of(c, s->mesh_a), &faces[0], 1, NULL, 0.5f, false, &p, &why), 0);
	cfold_add(c, s->extrude = make_patch(&s->a, s->mesh_a, &p, 3));

	/* b paints one of a's faces: the palette's material, then the face. */
	struct th_pl_material_set ms;
	edit_palette_payload(3, &ms);
	cfold_add(c, ff_make(&s->b, TH_CMD_MATERIAL_SET, 0, 4, &ms));
	th_patch_clear(&p);
	assert_int_equal(th_patch_face_material(&p, faces[1], edit_palette_material(3)), 0);
	cfold_add(c, s->paint = make_patch(&s->b, s->mesh_a, &p, 5));

	/* b moves its cube; a (the host: an admin) undoes that move. */
	static uint8_t buf[256];
	const float to[3] = { 3, 1, 0 };
	int n = se_transform(to, buf, sizeof buf);
	assert_true(n > 0);
	cfold_add(c, s->move_b = make_raw(&s->b, TH_CMD_COMPONENT_WRITE, s->ent_b, 6, buf, (size_t)n));
	cfold_add(c, s->undo_a = ff_make(&s->a, TH_CMD_EDIT_UNDO, 0, 7, ff_target(ff_e(s->move_b)->lamport, s->b.kp.pk)));

	/* a undoes its extrude and redoes it. */
	size_t u = ff_make(&s->a, TH_CMD_EDIT_UNDO, 0, 8, ff_target(ff_e(s->extrude)->lamport, s->a.kp.pk));
	cfold_add(c, u);
	cfold_add(c, ff_make(&s->a, TH_CMD_EDIT_REDO, 0, 9, ff_target(ff_e(u)->lamport, s->a.kp.pk)));

	/* Refused: b undoing a's entry (b is no admin), a patch of a mesh that
	 * does not exist, a face that is gone already. */
	cfold_add(c, ff_make(&s->b, TH_CMD_EDIT_UNDO, 0, 10, ff_target(ff_e(s->cube_a)->lamport, s->a.kp.pk)));
	th_patch_clear(&p);
	assert_int_equal(th_patch_face_material(&p, faces[2], 1), 0);
	cfold_add(c, make_patch(&s->b, 0x1234567, &p, 11));
	th_patch_clear(&p);
	assert_int_equal(th_patch_remove(&p, faces[0]), 0); /* extruded away: its id is gone */
	cfold_add(c, make_patch(&s->b, s->mesh_a, &p, 12));

	/* a third cube by a, then an entry of b's that sorts below it (lamport
	 * 13 after a's 20): both folds roll back and replay. */
	cfold_add(c, cube(&s->a, 6, 20));
	const float to2[3] = { 3, 2, 0 };
	n = se_transform(to2, buf, sizeof buf);
	cfold_add(c, make_raw(&s->b, TH_CMD_COMPONENT_WRITE, s->ent_b, 13, buf, (size_t)n));
	th_patch_fini(&p);
	struct th_fold_stats st;
	th_fold_stats(c->f, &st);
	assert_true(st.refused >= 3);
	assert_true(st.rollbacks >= 1);
}

static void test_session_folds_alike(void **state)
{
	const char *why = twn_missing(true);
	if (why) {
		printf("SKIP: %s\n", why);
		skip();
	}
	struct th_tmpdir *td = *state;
	struct session s;
	session_build(&s);
	char *out = run_check(&s.c, td->path, NULL);
	assert_null(twn_line(out, "add")); /* every add answered 0 */
	assert_same(&s.c, out);
	assert_draws(&s.c, out);
	assert_true(s.c.high_ids > 0); /* the session has ids past 2^63: they must come out unsigned */
	const char *us = twn_line(out, "fold_us");
	printf("folded %" PRIu64 " entries in wasm in %.*s us\n", s.c.pos, us ? (int)strcspn(us, "\n") : 1, us ? us : "?");
	free(out);
	cfold_fini(&s.c);
	ff_free_all();
}

/* ---- edit builders -------------------------------------------------------------------- */

/* The k-th "cmd" line after "edit I": type, scope, payload bytes. */
static bool edit_cmd(const char *out, unsigned edit, unsigned k, uint32_t *type, uint64_t *scope, uint8_t *payload,
		     size_t *len, unsigned *ncmds, char *why, size_t why_cap)
{
	char key[32];
	snprintf(key, sizeof key, "edit %u", edit);
	const char *p = twn_line(out, key);
	if (!p)
		return false;
	*ncmds = (unsigned)strtoul(p, NULL, 10);
	p = strchr(p, '\n') + 1;
	if (*ncmds == 0) {
		assert_int_equal(strncmp(p, "why ", 4), 0);
		size_t n = strcspn(p + 4, "\n");
		snprintf(why, why_cap, "%.*s", (int)n, p + 4);
		return true;
	}
	for (unsigned i = 0; i < k; i++)
		p = strchr(p, '\n') + 1;
	char hex[2 * TH_LOGREC_PAYLOAD_MAX + 1];
	assert_null(memchr(p, '-', strcspn(p, "\n"))); /* the scope is a u64 */
	assert_int_equal(sscanf(p, "cmd %" SCNu32 " %" SCNu64 " %131072s", type, scope, hex), 3);
	size_t hl = strlen(hex);
	assert_int_equal(th_hex_decode(hex, hl, payload, hl / 2, true), 0);
	*len = hl / 2;
	return true;
}

static void test_edit_builders_fold_in_c(void **state)
{
	const char *skipwhy = twn_missing(true);
	if (skipwhy) {
		printf("SKIP: %s\n", skipwhy);
		skip();
	}
	struct th_tmpdir *td = *state;
	struct session s;
	session_build(&s);
	struct cfold *c = &s.c;
	uint64_t faces[64];
	unsigned nf = faces_of(mesh_of(c, s.mesh_a), faces, 64);
	assert_true(nf > 2);
	/* A face of a's mesh painted amber (slot 3) by the session, one not. */
	uint64_t painted = 0, plain = 0, plain2 = 0;
	const struct th_mesh *ma = mesh_of(c, s.mesh_a);
	for (unsigned i = 0; i < nf; i++) {
		int32_t f = th_mesh_face_find(ma, faces[i]);
		if (ma->faces[f].material == edit_palette_material(3))
			painted = faces[i];
		else if (!plain)
			plain = faces[i];
		else if (!plain2)
			plain2 = faces[i];
	}
	assert_true(painted && plain && plain2);
	char e[8][160];
	snprintf(e[0], sizeof e[0], "cube:1,2,3,0.5");
	snprintf(e[1], sizeof e[1], "extrude:%" PRIu64 ",%" PRIu64 ",0.25", s.ent_a, plain);
	snprintf(e[2], sizeof e[2], "paint:%" PRIu64 ",%" PRIu64 ",5,0", s.ent_a, plain2);
	snprintf(e[3], sizeof e[3], "paint:%" PRIu64 ",%" PRIu64 ",3,0", s.ent_a, painted);
	snprintf(e[4], sizeof e[4], "move:%" PRIu64 ",0.5,0,0", s.ent_b);
	snprintf(e[5], sizeof e[5], "extrude:%" PRIu64 ",12345,0.2", s.ent_a);
	snprintf(e[6], sizeof e[6], "moveface:%" PRIu64 ",%" PRIu64 ",0,0.1,0", s.ent_b,
		 faces_of(mesh_of(c, s.mesh_b), faces, 64) ? faces[0] : 0);
	const char *edits[] = { e[0], e[1], e[2], e[3], e[4], e[5], e[6], NULL };
	char *out = run_check(c, td->path, edits);

	static uint8_t pl[TH_LOGREC_PAYLOAD_MAX];
	size_t len;
	uint32_t type;
	uint64_t scope;
	unsigned n;
	char why[200] = "";

	/* The extrude: byte for byte th_op_extrude_faces of the same face by the
	 * same distance (the entity has the identity rotation and unit scale). */
	assert_true(edit_cmd(out, 1, 0, &type, &scope, pl, &len, &n, why, sizeof why));
	assert_int_equal(n, 1);
	assert_int_equal(type, TH_CMD_MESH_PATCH);
	assert_int_equal(scope, s.mesh_a);
	struct th_patch p;
	th_patch_init(&p);
	const char *opwhy = NULL;
	assert_int_equal(th_op_extrude_faces(ma, &plain, 1, NULL, 0.25f, false, &p, &opwhy), 0);
	struct th_pl_mesh_patch *mp = ff_patch();
	mp->ops_count = (uint16_t)p.n;
	memcpy(mp->ops, p.ops, p.n * sizeof p.ops[0]);
	static uint8_t want[TH_LOGREC_PAYLOAD_MAX];
	int wl = th_cmd_payload_encode(TH_CMD_MESH_PATCH, mp, want, sizeof want);
	assert_int_equal((size_t)wl, len);
	assert_memory_equal(pl, want, len);
	th_patch_fini(&p);

	/* Paint of an undefined slot: its material.set (the palette's), then the patch. */
	assert_true(edit_cmd(out, 2, 0, &type, &scope, pl, &len, &n, why, sizeof why));
	assert_int_equal(n, 2);
	assert_int_equal(type, TH_CMD_MATERIAL_SET);
	struct th_pl_material_set ms;
	edit_palette_payload(5, &ms);
	wl = th_cmd_payload_encode(TH_CMD_MATERIAL_SET, &ms, want, sizeof want);
	assert_int_equal((size_t)wl, len);
	assert_memory_equal(pl, want, len);
	/* Paint with what the face has: nothing, said. */
	assert_true(edit_cmd(out, 3, 0, &type, &scope, pl, &len, &n, why, sizeof why));
	assert_int_equal(n, 0);
	assert_string_equal(why, "paint: already amber");
	/* A face that does not exist: nothing, said. */
	assert_true(edit_cmd(out, 5, 0, &type, &scope, pl, &len, &n, why, sizeof why));
	assert_int_equal(n, 0);
	assert_non_null(strstr(why, "extrude: no face"));

	/* Every command the builders made, authored by b and folded in C:
	 * applied; then node folds the log with them: the same world. */
	const unsigned with_cmds[][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 2, 1 }, { 4, 0 }, { 6, 0 } };
	uint64_t lam = 100;
	for (size_t i = 0; i < sizeof with_cmds / sizeof with_cmds[0]; i++) {
		assert_true(edit_cmd(out, with_cmds[i][0], with_cmds[i][1], &type, &scope, pl, &len, &n, why, sizeof why));
		assert_true(n > with_cmds[i][1]);
		unsigned before = c->n;
		cfold_add(c, make_raw(&s.b, (uint16_t)type, scope, lam++, pl, len));
		assert_int_equal(c->n, before + 1);
		if (strncmp(c->outcomes[before], "outcome applied", 15))
			fprintf(stderr, "edit %u cmd %u: %s\n", with_cmds[i][0], with_cmds[i][1], c->outcomes[before]);
		assert_int_equal(strncmp(c->outcomes[before], "outcome applied", 15), 0);
	}
	free(out);
	out = run_check(c, td->path, NULL);
	assert_null(twn_line(out, "add"));
	assert_same(c, out);
	assert_draws(c, out);
	free(out);
	cfold_fini(c);
	ff_free_all();
}

/* ---- bad input -------------------------------------------------------------------- */

static void test_bad_entries_are_refused_with_a_reason(void **state)
{
	const char *skipwhy = twn_missing(true);
	if (skipwhy) {
		printf("SKIP: %s\n", skipwhy);
		skip();
	}
	struct th_tmpdir *td = *state;
	ff_free_all();
	struct lt_author a, b;
	lt_author_init(&a, 0x33);
	lt_author_init(&b, 0x44);
	struct cfold c;
	cfold_init(&c, a.kp.pk);
	cfold_add(&c, cube(&a, 0, 1));
	/* A truncated body at 1, b's seq 2 without its seq 1 at 2, a duplicate at 3. */
	static uint8_t body[TH_LOGREC_BODY_MAX];
	int n = th_logrec_encode(ff_e(0), body, sizeof body);
	assert_true(n > 20);
	twn_file_body(&c.file, 1, body, (uint32_t)n - 3);
	size_t b1 = cube(&b, 2, 2);
	size_t b2 = cube(&b, 4, 3);
	(void)b1;
	assert_int_equal(twn_file_entry(&c.file, 2, ff_e(b2)), 0);
	assert_int_equal(twn_file_entry(&c.file, 3, ff_e(0)), 0);
	assert_int_equal(th_fold_add(c.f, ff_e(0), 3), 1); /* the duplicate, in C too */
	c.pos = 4;
	char *out = run_check(&c, td->path, NULL);
	const char *l = twn_line(out, "add 1");
	assert_non_null(l);
	assert_int_equal(strtol(l, NULL, 10), -TWN_EBADMSG);
	assert_non_null(strstr(l, " EBADMSG ")); /* the module names its own errno */
	assert_non_null(strstr(l, "does not decode"));
	l = twn_line(out, "add 2");
	assert_non_null(l);
	assert_int_equal(strtol(l, NULL, 10), -TWN_EPROTO);
	assert_non_null(strstr(l, " EPROTO "));
	assert_non_null(strstr(l, "a hole in the log"));
	l = twn_line(out, "add 3");
	assert_non_null(l);
	assert_int_equal(strtol(l, NULL, 10), 1);
	/* Nothing of it changed the world: the C fold of the one good entry. */
	assert_same(&c, out);
	free(out);
	/* A fault inside the module (a trap, here an entry pointer past its
	 * memory) stops it with a sentence, and every later call says the same
	 * rather than run on a heap left in an unknown state. */
	const char *const trap[] = { "trap", NULL };
	out = run_check(&c, td->path, trap);
	l = twn_line(out, "trap");
	assert_non_null(l);
	assert_int_equal(strncmp(l, "SAME The scene module stopped (", 31), 0);
	assert_non_null(strstr(l, "reload the page"));
	free(out);
	cfold_fini(&c);
	ff_free_all();
}

/* ---- hostile entries: the session's entries broken at random ------------------------------- */

#define MUT_PER_ENTRY 4u  /* broken copies folded before each real entry */
#define MUT_TAIL_MAX 24u  /* bytes a broken copy may gain */

static uint32_t mut_seed = 0x5eed;

static uint32_t mut_rnd(void)
{
	mut_seed = mut_seed * 1664525u + 1013904223u;
	return mut_seed >> 8;
}

/* What the wasm fold answers for C's r: wasi-libc's errno numbers (tw.h). */
static long wasm_code(int r)
{
	switch (r) {
	case -EBADMSG: return -TWN_EBADMSG;
	case -EPROTO: return -TWN_EPROTO;
	case -ERANGE: return -68;
	case -ENOSPC: return -51;
	case -ENOMEM: return -48;
	default: return r;
	}
}

/* body[*len] broken one way: a byte changed, cut short, grown, or a run of
 * 0xff over a length or count. */
static void mutate(uint8_t *body, uint32_t *len)
{
	uint32_t n = *len, at = n ? mut_rnd() % n : 0;
	switch (mut_rnd() % 4) {
	case 0:
		if (n)
			body[at] ^= (uint8_t)(1 + mut_rnd() % 255);
		break;
	case 1:
		*len = at;
		break;
	case 2: {
		uint32_t k = 1 + mut_rnd() % MUT_TAIL_MAX;
		for (uint32_t i = 0; i < k && n + i < TH_LOGREC_BODY_MAX; i++)
			body[n + i] = (uint8_t)mut_rnd();
		*len = n + k < TH_LOGREC_BODY_MAX ? n + k : TH_LOGREC_BODY_MAX;
		break;
	}
	default:
		for (uint32_t i = at; i < at + 4 && i < n; i++)
			body[i] = 0xff;
	}
}

/* Every entry of the session beside broken copies of itself: each add
 * answers alike in C and in the page (the same code, none hangs or traps),
 * and the world, the outcomes and the drawn meshes come out the same. */
static void test_broken_entries_fold_alike(void **state)
{
	const char *skipwhy = twn_missing(true);
	if (skipwhy) {
		printf("SKIP: %s\n", skipwhy);
		skip();
	}
	struct th_tmpdir *td = *state;
	struct session *s = calloc(1, sizeof *s);
	struct cfold *c = calloc(1, sizeof *c);
	long *want = calloc((MUT_PER_ENTRY + 1) * 64, sizeof *want);
	static uint8_t body[TH_LOGREC_BODY_MAX];
	assert_true(s && c && want);
	session_build(s);
	assert_true(ff_nmade <= 64);
	cfold_init(c, s->a.kp.pk);
	unsigned decoded = 0, refused = 0, taken = 0; /* taken: broken copies the fold took as new */
	for (size_t i = 0; i < ff_nmade; i++) {
		int n = th_logrec_encode(ff_e(i), body, sizeof body);
		assert_true(n > 0);
		/* A broken copy the fold takes ends its author's chain (the next
		 * entry's prev is the real one's hash): the broken copies come
		 * before an author's last entry (their payloads reach the scene),
		 * after the others (decode, duplicate and chain checks). */
		bool last = true;
		for (size_t j = i + 1; j < ff_nmade; j++)
			if (!memcmp(ff_e(j)->author, ff_e(i)->author, TH_LOGREC_KEY_LEN))
				last = false;
		for (unsigned k = 0; k <= MUT_PER_ENTRY; k++) {
			uint32_t len = (uint32_t)n;
			bool broken = last ? k < MUT_PER_ENTRY : k > 0;
			if (broken)
				mutate(body, &len);
			struct th_logrec_entry e;
			int fault = 0, r;
			if (th_logrec_decode(body, len, &e, &fault) < 0) {
				r = -EBADMSG;
			} else {
				r = th_fold_add(c->f, &e, c->pos);
				decoded += broken;
			}
			refused += r < 0;
			taken += broken && r == 0;
			want[c->pos] = wasm_code(r);
			twn_file_body(&c->file, c->pos++, body, len);
			if (broken) /* the real one again for the next copy */
				assert_int_equal(th_logrec_encode(ff_e(i), body, sizeof body), n);
		}
	}
	assert_true(c->n < OUTCOMES_MAX); /* every outcome recorded, none dropped */
	char *out = run_check(c, td->path, NULL);
	for (uint64_t pos = 0; pos < c->pos; pos++) {
		char key[32];
		snprintf(key, sizeof key, "add %" PRIu64, pos);
		const char *l = twn_line(out, key);
		long got = l ? strtol(l, NULL, 10) : 0;
		if (got != want[pos])
			fprintf(stderr, "entry at %" PRIu64 ": C %ld, wasm %ld (%.120s)\n", pos, want[pos], got, l ? l : "");
		assert_int_equal(got, want[pos]);
	}
	assert_same(c, out);
	assert_draws(c, out);
	printf("%" PRIu64 " entries, %u broken copies that still decode, %u of them folded, %u adds refused: alike\n",
	       c->pos, decoded, taken, refused);
	assert_true(decoded > 0 && taken > 0 && refused > 0);
	free(out);
	cfold_fini(c);
	cfold_fini(&s->c);
	ff_free_all();
	free(want);
	free(c);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_folds_alike, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_edit_builders_fold_in_c, th_tmpdir_setup, th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries_are_refused_with_a_reason, th_tmpdir_setup,
						th_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_broken_entries_fold_alike, th_tmpdir_setup, th_tmpdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
