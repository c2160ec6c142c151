/* Fixtures of the editor's tests: a scene folded in memory (a real
 * th_fold over chained entries of two authors, th_scenelog.h), an editor
 * whose sink records every command, and a "daemon" that turns the recorded
 * commands into the user's log entries and folds them, answering as the
 * link would (edit_on_sent, edit_on_answer, edit_on_entry). Frames are
 * driven with an inp_state built here (the right hand's tip, trigger,
 * buttons). Header-only; each test includes it once. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "edit/edit.h"
#include "th_cmd.h"
#include "th_fold.h"
#include "th_id.h"
#include "th_logtest.h"
#include "th_meshop.h"
#include "th_payload.h"
#include "th_scenelog.h"

#define EF_SENT_MAX 256u
#define EF_PRES_MAX 512u /* presence changes recorded */
#define EF_FRAME_NS 11111111ull /* 90 Hz */

static const float ef_nowhere[3] = { 100, 100, 100 }; /* far from every test's meshes */
/* The tests' cube (ef_new_cube): 20 cm, centred at ef_at; points just
 * above its top face and in front of its +z face. */
#define EF_CUBE_SIZE 0.2f
static const float ef_at[3] = { 0, 1, -0.5f };
static const float ef_top[3] = { 0, 1.11f, -0.5f };
static const float ef_front[3] = { 0, 1, -0.39f };

struct ef_cmd {
	uint16_t type;
	uint64_t scope;
	uint8_t payload[TH_LOGREC_PAYLOAD_MAX];
	uint32_t len;
	uint64_t tag;
};

struct ef {
	struct lt_author me, other;
	struct sh_log log;
	size_t folded;
	struct th_fold *fold;
	struct edit *ed;
	struct ef_cmd *cmds; /* recorded, not yet delivered: cmds[delivered, n) */
	unsigned n, delivered;
	uint64_t client_seq;
	struct inp_state in;
	uint64_t frame;
	int fail_submit; /* sink answers this (0: takes it) */
	struct edit_presence pres[EF_PRES_MAX]; /* the sink's presence calls, in order */
	unsigned npres;
};

static void ef_presence(void *ud, const struct edit_presence *p)
{
	struct ef *f = ud;
	assert_true(f->npres < EF_PRES_MAX);
	f->pres[f->npres++] = *p;
}

static int ef_submit(void *ud, uint16_t type, uint64_t scope, const void *payload, uint32_t len, uint64_t tag)
{
	struct ef *f = ud;
	if (f->fail_submit)
		return f->fail_submit;
	assert_true(f->n < EF_SENT_MAX);
	struct ef_cmd *c = &f->cmds[f->n++];
	c->type = type;
	c->scope = scope;
	c->len = len;
	c->tag = tag;
	memcpy(c->payload, payload, len);
	return 0;
}

static inline const struct th_scene *ef_scene(struct ef *f)
{
	return th_fold_scene(f->fold);
}

/* Folds the log's entries not folded yet. */
static inline void ef_fold(struct ef *f)
{
	for (; f->folded < f->log.n; f->folded++) {
		assert_int_equal(th_fold_add(f->fold, &f->log.v[f->folded].e, f->folded), 0);
		edit_on_entry(f->ed, &f->log.v[f->folded].e);
	}
}

static inline struct ef *ef_new(const struct edit_config *c)
{
	struct ef *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cmds = calloc(EF_SENT_MAX, sizeof *f->cmds);
	assert_non_null(f->cmds);
	lt_author_init(&f->me, 0x33);
	lt_author_init(&f->other, 0x44);
	sh_init(&f->log, false);
	struct th_fold_config fc = { 0 };
	memcpy(fc.host_key, f->other.kp.pk, sizeof fc.host_key);
	assert_int_equal(th_fold_create(&fc, &f->fold), 0);
	struct edit_config ec = c ? *c : (struct edit_config){ 0 };
	ec.sink = (struct edit_sink){ .submit = ef_submit, .presence = ef_presence, .ud = f };
	assert_int_equal(edit_create(&ec, &f->ed), 0);
	inp_state_init(&f->in);
	f->in.hand[INP_RIGHT].pose.valid = true;
	return f;
}

static inline void ef_free(struct ef *f)
{
	edit_destroy(&f->ed);
	th_fold_destroy(&f->fold);
	sh_fini(&f->log);
	free(f->cmds);
	free(f);
}

/* The daemon: every recorded command becomes the user's entry (sent, acked,
 * folded), in order. */
static inline void ef_deliver(struct ef *f)
{
	for (; f->delivered < f->n; f->delivered++) {
		struct ef_cmd *c = &f->cmds[f->delivered];
		uint8_t kind = th_cmd_find(c->type)->scope;
		uint64_t seq = ++f->client_seq;
		edit_on_sent(f->ed, c->tag, seq);
		long i = sh_add(&f->log, &f->me, c->type, kind, kind == TH_SCOPE_GLOBAL ? 0 : c->scope, c->payload, c->len,
				0);
		assert_true(i >= 0);
		edit_on_answer(f->ed, seq, false, f->log.v[i].e.lamport, f->log.v[i].e.seq);
		ef_fold(f);
	}
}

/* One frame with the right hand's tip at p, trigger value trig; pressed
 * buttons of the right and left hands for this frame. */
static inline void ef_frame(struct ef *f, const float p[3], float trig, uint32_t right_pressed, uint32_t left_pressed)
{
	struct inp_controller *r = &f->in.hand[INP_RIGHT], *l = &f->in.hand[INP_LEFT];
	memcpy(r->pose.position, p, sizeof r->pose.position);
	r->trigger = trig;
	r->pressed = right_pressed;
	r->released = 0;
	l->pressed = left_pressed;
	assert_int_equal(edit_frame(f->ed, f->frame++ * EF_FRAME_NS, &f->in, ef_scene(f)), 0);
	r->pressed = l->pressed = 0;
}

/* A trigger click at p: press, release. */
static inline void ef_click(struct ef *f, const float p[3])
{
	ef_frame(f, p, 1.0f, 0, 0);
	ef_frame(f, p, 0.0f, 0, 0);
}

/* Presses right a n times (next tool). */
static inline void ef_next_tool(struct ef *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ef_frame(f, ef_nowhere, 0, TH_BUTTON_A, 0);
}

/* A mesh.create of patch p (all local references) at pos turned by the
 * unit quaternion rot (x y z w; NULL: none) by `by`, folded. The entity id. */
static inline uint64_t ef_create_turned(struct ef *f, struct lt_author *by, const float pos[3], const float rot[4],
					const struct th_patch *p)
{
	struct th_pl_mesh_create *mc = calloc(1, sizeof *mc);
	assert_non_null(mc);
	memcpy(mc->transform, pos, 3 * sizeof(float));
	mc->transform[6] = 1;
	if (rot)
		memcpy(mc->transform + 3, rot, 4 * sizeof(float));
	mc->transform[7] = mc->transform[8] = mc->transform[9] = 1;
	mc->ops_count = (uint16_t)p->n;
	memcpy(mc->ops, p->ops, p->n * sizeof p->ops[0]);
	uint8_t *buf = malloc(TH_LOGREC_PAYLOAD_MAX);
	assert_non_null(buf);
	int n = th_cmd_payload_encode(TH_CMD_MESH_CREATE, mc, buf, TH_LOGREC_PAYLOAD_MAX);
	assert_true(n > 0);
	long i = sh_add(&f->log, by, TH_CMD_MESH_CREATE, TH_SCOPE_GLOBAL, 0, buf, (size_t)n, 0);
	assert_true(i >= 0);
	free(buf);
	free(mc);
	uint64_t id = th_id_derive(TH_ID_ENTITY, f->log.v[i].e.author, f->log.v[i].e.seq, 0);
	ef_fold(f);
	assert_true(th_scene_has_entity(ef_scene(f), id));
	return id;
}

static inline uint64_t ef_create(struct ef *f, struct lt_author *by, const float pos[3], const struct th_patch *p)
{
	return ef_create_turned(f, by, pos, NULL, p);
}

/* A cube of edge `size` centred on the origin of an entity at pos (turned
 * by rot, NULL: not), made by `by` (mesh.create: 8 vertices, 6 quads),
 * folded. The entity id. */
static inline uint64_t ef_cube_turned(struct ef *f, struct lt_author *by, const float pos[3], const float rot[4],
				      float size)
{
	struct th_patch p;
	th_patch_init(&p);
	float h = size / 2;
	int v[8];
	for (int i = 0; i < 8; i++) {
		float q[3] = { (i & 1) ? h : -h, (i & 2) ? h : -h, (i & 4) ? h : -h };
		v[i] = th_patch_vertex_add(&p, q);
		assert_true(v[i] > 0);
	}
	/* Corners counter-clockwise seen from outside. */
	static const int quads[6][4] = { { 0, 2, 3, 1 }, { 4, 5, 7, 6 }, { 0, 1, 5, 4 },
					 { 2, 6, 7, 3 }, { 0, 4, 6, 2 }, { 1, 3, 7, 5 } };
	for (int q = 0; q < 6; q++) {
		struct th_pref c[4];
		for (int k = 0; k < 4; k++)
			c[k] = th_pref_local((uint32_t)v[quads[q][k]]);
		assert_int_equal(th_patch_face_add(&p, 0, c, 4), 0);
	}
	uint64_t id = ef_create_turned(f, by, pos, rot, &p);
	th_patch_fini(&p);
	return id;
}

static inline uint64_t ef_cube(struct ef *f, struct lt_author *by, const float pos[3], float size)
{
	return ef_cube_turned(f, by, pos, NULL, size);
}

/* ef_new(NULL) with the other author's cube (EF_CUBE_SIZE at ef_at, its
 * entity in *e) folded. */
static inline struct ef *ef_new_cube(uint64_t *e)
{
	struct ef *f = ef_new(NULL);
	*e = ef_cube(f, &f->other, ef_at, EF_CUBE_SIZE);
	return f;
}

static inline const struct th_mesh *ef_mesh_of(struct ef *f, uint64_t entity)
{
	const struct th_c_mesh_ref *mr = th_scene_component(ef_scene(f), entity, TH_COMP_MESH_REF);
	assert_non_null(mr);
	const struct th_mesh *m = th_scene_mesh(ef_scene(f), mr->mesh);
	assert_non_null(m);
	return m;
}

/* entity's mesh has verts live vertices and faces live faces and passes
 * every check; its stats into *st when st is not NULL. */
static inline void ef_mesh_is(struct ef *f, uint64_t entity, uint32_t verts, uint32_t faces, struct th_mesh_stats *st)
{
	struct th_mesh_stats s;
	const struct th_mesh *m = ef_mesh_of(f, entity);
	th_mesh_stats(m, &s);
	assert_int_equal(s.vertices, verts);
	assert_int_equal(s.faces, faces);
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);
	if (st)
		*st = s;
}

/* The largest coordinate axis of m's live vertices, or 0 when every one is
 * below 0. */
static inline float ef_max_coord(const struct th_mesh *m, int axis)
{
	float hi = 0;
	for (uint32_t v = 0; v < m->nverts; v++)
		if (m->verts[v].id)
			hi = fmaxf(hi, m->verts[v].pos[axis]);
	return hi;
}

/* The entity the log's newest entry created (a mesh.create). */
static inline uint64_t ef_newest_entity(struct ef *f)
{
	assert_true(f->log.n > 0);
	const struct th_logrec_entry *e = &f->log.v[f->log.n - 1].e;
	return th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
}

/* The history's newest line, and its newest edit's (fails when none). */
static inline const char *ef_last_text(struct ef *f)
{
	const struct edit_history *h = edit_history(f->ed);
	assert_true(h->n > 0);
	return h->e[h->n - 1].text;
}

static inline const char *ef_last_edit(struct ef *f)
{
	const struct edit_history *h = edit_history(f->ed);
	unsigned k = h->n;
	while (k-- > 0 && h->e[k].kind != EDIT_H_EDIT)
		;
	assert_true(k < h->n);
	return h->e[k].text;
}

/* A click at p sends nothing and says a sentence holding words. */
static inline void ef_refused(struct ef *f, const float p[3], const char *words)
{
	unsigned n = f->n;
	ef_click(f, p);
	assert_int_equal(f->n, n);
	const char *msg = edit_take_message(f->ed);
	assert_non_null(msg);
	assert_non_null(strstr(msg, words));
}
/* The recorded command i decoded (type checked). */
static inline void ef_decode(struct ef *f, unsigned i, uint16_t type, union th_pl_any *out)
{
	assert_true(i < f->n);
	assert_int_equal(f->cmds[i].type, type);
	const char *why = NULL;
	assert_int_equal(th_cmd_payload_decode(type, f->cmds[i].payload, f->cmds[i].len, out, &why), 0);
}

/* How many recorded commands have this type. */
static inline unsigned ef_count(const struct ef *f, uint16_t type)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->n; i++)
		n += f->cmds[i].type == type;
	return n;
}

/* Flicks the right thumbstick along axis (0: right, the next option; 1:
 * up, the parameter up) n times. */
static inline void ef_flick(struct ef *f, int axis, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		f->in.hand[INP_RIGHT].thumbstick[axis] = 1;
		ef_frame(f, ef_nowhere, 0, 0, 0);
		f->in.hand[INP_RIGHT].thumbstick[axis] = 0;
		ef_frame(f, ef_nowhere, 0, 0, 0);
	}
}

static inline void ef_next_option(struct ef *f, unsigned n)
{
	ef_flick(f, 0, n);
}

static inline void ef_param_up(struct ef *f, unsigned n)
{
	ef_flick(f, 1, n);
}

/* The scene's Selection of entity (NULL when it has none). */
static inline const struct th_c_selection *ef_selection(struct ef *f, uint64_t entity)
{
	return th_scene_component(ef_scene(f), entity, TH_COMP_SELECTION);
}

/* How many recorded component.writes set component comp. */
static inline unsigned ef_count_writes(struct ef *f, unsigned comp)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->n; i++) {
		if (f->cmds[i].type != TH_CMD_COMPONENT_WRITE)
			continue;
		union th_pl_any pl;
		ef_decode(f, i, TH_CMD_COMPONENT_WRITE, &pl);
		n += pl.component_write.component == th_component_id(comp);
	}
	return n;
}

/* Frames with nothing happening until the tool.state interval has passed
 * (a coalesced tool.state goes out), then everything delivered. */
static inline void ef_settle(struct ef *f)
{
	for (uint64_t t = 0; t <= EDIT_TOOL_STATE_MIN_NS; t += EF_FRAME_NS)
		ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_deliver(f);
}

/* Everything delivered, one frame far from everything (the editor
 * replicates its selection in a frame), that delivered too. */
static inline void ef_publish(struct ef *f)
{
	ef_deliver(f);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_deliver(f);
}

/* The select tool with option o (named name: "face", "edge"), a click at
 * a, a click at b with the grip held: two elements selected. */
static inline void ef_select_two(struct ef *f, unsigned o, const char *name, const float a[3], const float b[3])
{
	assert_int_equal(edit_set_tool(f->ed, EDIT_TOOL_SELECT), 0);
	ef_next_option(f, o);
	assert_string_equal(edit_option_name(f->ed), name);
	ef_click(f, a);
	f->in.hand[INP_RIGHT].grip = 1;
	ef_click(f, b);
	f->in.hand[INP_RIGHT].grip = 0;
	assert_int_equal(edit_selection(f->ed)->n, 2);
}

/* Tool chosen, one frame far from everything, its tool.state delivered. */
static inline void ef_use_tool(struct ef *f, uint32_t tool)
{
	assert_int_equal(edit_set_tool(f->ed, tool), 0);
	ef_frame(f, ef_nowhere, 0, 0, 0);
	ef_deliver(f);
}

/* Tool chosen with option o (named name), its tool.state delivered. */
static inline void ef_tool_option(struct ef *f, uint32_t tool, unsigned o, const char *name)
{
	assert_int_equal(edit_set_tool(f->ed, tool), 0);
	while (edit_option(f->ed) != o)
		ef_next_option(f, 1);
	assert_string_equal(edit_option_name(f->ed), name);
	ef_settle(f);
}

/* The newest recorded tool.state (fails when there is none). */
static inline void ef_last_tool_state(struct ef *f, struct th_pl_tool_state *out)
{
	for (unsigned i = f->n; i-- > 0;)
		if (f->cmds[i].type == TH_CMD_TOOL_STATE) {
			const char *why;
			assert_int_equal(th_pl_decode_tool_state(f->cmds[i].payload, f->cmds[i].len, out, &why), 0);
			return;
		}
	fail_msg("no tool.state was sent");
}
