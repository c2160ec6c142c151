/* common/th_scene.c: every command applied and refused on known scenes,
 * exact reverts of long mixed histories, change notifications, the world
 * hash, and the canonical encoding (layout, round trip, refusals). Entries
 * are built directly (struct th_logrec_entry, payload through
 * th_cmd_payload_encode): no daemon, no signatures. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_id.h"
#include "th_journal.h"
#include "th_logrec.h"
#include "th_mesh.h"
#include "th_payload.h"
#include "th_scene.h"
#include "th_schema.h"

/* ---- building entries ------------------------------------------------------ */

#define ARENA_MAX 8192

struct author {
	uint8_t key[TH_LOGREC_KEY_LEN];
	uint64_t seq;
};

static struct th_logrec_entry *arena[ARENA_MAX];
static size_t narena;
static uint64_t lamport;
static union th_pl_any pl; /* the payload being built */
static uint8_t plbuf[TH_LOGREC_PAYLOAD_MAX];
static uint8_t valbuf[TH_PL_COMPONENTS_MAX][TH_PL_VALUE_MAX];

static void arena_free(void)
{
	for (size_t i = 0; i < narena; i++)
		free(arena[i]);
	narena = 0;
}

static void author_init(struct author *a, uint8_t b)
{
	memset(a->key, b, sizeof a->key);
	a->key[0] = (uint8_t)(b ^ 0x5a);
	a->seq = 0;
}

/* An entry of a's next seq: type, scope and the payload in `pl` (or raw
 * bytes when raw is not NULL). */
static const struct th_logrec_entry *mk_raw(struct author *a, uint16_t type, uint64_t scope, const uint8_t *raw,
					     size_t len)
{
	assert_true(narena < ARENA_MAX);
	struct th_logrec_entry *e = calloc(1, sizeof *e + len + 1);
	assert_non_null(e);
	uint8_t *p = (uint8_t *)(e + 1);
	memcpy(p, raw, len);
	const struct th_cmd_info *c = th_cmd_find(type);
	e->version = TH_LOGREC_VERSION;
	e->scope_kind = c ? c->scope : 0;
	e->type = type;
	e->lamport = ++lamport;
	e->seq = ++a->seq;
	e->scope_id = scope;
	memcpy(e->author, a->key, sizeof e->author);
	e->payload_len = (uint32_t)len;
	e->payload = p;
	arena[narena++] = e;
	return e;
}

static const struct th_logrec_entry *mk(struct author *a, uint16_t type, uint64_t scope)
{
	int n = th_cmd_payload_encode(type, &pl, plbuf, sizeof plbuf);
	if (n < 0)
		fail_msg("payload of type 0x%04x does not encode (%d)", type, n);
	memset(&pl, 0, sizeof pl);
	return mk_raw(a, type, scope, plbuf, (size_t)n);
}

static uint64_t entity_of(const struct th_logrec_entry *e) { return th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0); }
static uint64_t element_of(const struct th_logrec_entry *e, uint32_t index)
{
	return th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, index);
}

static struct th_c_transform xf(float x)
{
	return (struct th_c_transform){ .position = { x, 0, 0 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
}

static void value(unsigned k, unsigned comp, const void *cstruct, uint64_t *id, const uint8_t **v, uint16_t *len)
{
	int n = th_schema_encode(th_component_record(comp), cstruct, valbuf[k], sizeof valbuf[k]);
	assert_true(n >= 0);
	*id = th_component_id(comp);
	*v = valbuf[k];
	*len = (uint16_t)n;
}

static void add_comp(unsigned comp, const void *cstruct)
{
	unsigned k = pl.entity_create.components_count++;
	struct th_pl_component_value *cv = &pl.entity_create.components[k];
	value(k, comp, cstruct, &cv->component, &cv->value, &cv->value_len);
}

static const struct th_logrec_entry *mk_write(struct author *a, uint64_t ent, unsigned comp, const void *cstruct)
{
	value(0, comp, cstruct, &pl.component_write.component, &pl.component_write.value, &pl.component_write.value_len);
	return mk(a, TH_CMD_COMPONENT_WRITE, ent);
}

static const struct th_logrec_entry *mk_remove(struct author *a, uint64_t ent, unsigned comp)
{
	pl.component_remove.component = th_component_id(comp);
	return mk(a, TH_CMD_COMPONENT_REMOVE, ent);
}

static const struct th_logrec_entry *mk_material(struct author *a, uint8_t index, const char *name, float c)
{
	pl.material_set.index = index;
	snprintf(pl.material_set.name, sizeof pl.material_set.name, "%s", name);
	pl.material_set.base_color[0] = c;
	pl.material_set.base_color[1] = 1 - c;
	pl.material_set.base_color[3] = 1;
	pl.material_set.roughness_metallic[0] = c / 2;
	pl.material_set.roughness_metallic[1] = 1;
	return mk(a, TH_CMD_MATERIAL_SET, 0);
}

static void op(struct th_pl_mesh_op *ops, uint16_t *n, uint8_t kind, uint64_t element, uint32_t arg, float x, float y)
{
	ops[*n] = (struct th_pl_mesh_op){ kind, element, arg, { x, y, 0 } };
	(*n)++;
}

/* mesh.create of a unit quad at x0: vertices are ops 0..3 (element
 * indices 1..4), the face op 4 (element index 5). */
static const struct th_logrec_entry *mk_quad(struct author *a, float x0, uint32_t material)
{
	struct th_pl_mesh_create *c = &pl.mesh_create;
	struct th_c_transform t = xf(x0);
	memcpy(c->transform, t.position, 12);
	memcpy(c->transform + 3, t.rotation, 16);
	memcpy(c->transform + 7, t.scale, 12);
	c->material = material;
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 0, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 1, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 1, 1);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 0, 1);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 0, 0, 0);
	for (unsigned i = 1; i <= 4; i++)
		op(c->ops, &c->ops_count, TH_PL_MESH_OP_LOOP, i, TH_PL_MESH_REF_LOCAL, 0, 0);
	return mk(a, TH_CMD_MESH_CREATE, 0);
}

static const struct th_logrec_entry *mk_move(struct author *a, uint64_t mesh, uint64_t vert, float x, float y)
{
	op(pl.mesh_patch.ops, &pl.mesh_patch.ops_count, TH_PL_MESH_OP_VERTEX_MOVE, vert, 0, x, y);
	return mk(a, TH_CMD_MESH_PATCH, mesh);
}

/* ---- checking -------------------------------------------------------------- */

static void ok(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j)
{
	struct th_scene_refusal r;
	int rv = th_scene_apply(s, e, j, &r);
	if (rv != 0)
		fail_msg("%s refused (%s): %s", th_cmd_find(e->type) ? th_cmd_find(e->type)->name : "?",
			 th_refusal_name(r.code), r.why ? r.why : "");
	assert_int_equal(r.code, TH_REFUSE_NONE);
}

/* An empty scene in *s and author a, seeded with b. */
static void scene_new(struct th_scene **s, struct author *a, uint8_t b)
{
	author_init(a, b);
	assert_int_equal(th_scene_create(s), 0);
}

/* Ends a test: the journal j (NULL for none), the scene and the arena freed. */
static void scene_done(struct th_scene **s, struct th_journal *j)
{
	if (j)
		th_journal_fini(j);
	th_scene_destroy(s);
	arena_free();
}

/* An entity.create by a with Transform t applied (no journal): the entity's id. */
static uint64_t create_entity_with(struct th_scene *s, struct author *a, const struct th_c_transform *t)
{
	add_comp(TH_COMP_TRANSFORM, t);
	const struct th_logrec_entry *c = mk(a, TH_CMD_ENTITY_CREATE, 0);
	ok(s, c, NULL);
	return entity_of(c);
}

static struct th_wbuf encoding(const struct th_scene *s)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	assert_int_equal(th_scene_encode(s, &w), 0);
	return w;
}

static void assert_encoding(const struct th_scene *s, const struct th_wbuf *want)
{
	struct th_wbuf w = encoding(s);
	assert_int_equal(w.len, want->len);
	assert_memory_equal(w.data, want->data, w.len);
	th_wbuf_fini(&w);
}

/* Refused with `code` and a reason; scene and journal unchanged. */
static void refused(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j, int code)
{
	struct th_wbuf before = encoding(s);
	size_t jlen = j ? j->len : 0;
	struct th_scene_refusal r = { 0 };
	assert_int_equal(th_scene_apply(s, e, j, &r), -EINVAL);
	if (r.code != code)
		fail_msg("refused as %s (%s), wanted %s", th_refusal_name(r.code), r.why ? r.why : "",
			 th_refusal_name(code));
	assert_non_null(r.why);
	assert_true(strlen(r.why) > 8);
	if (j)
		assert_int_equal(j->len, jlen);
	assert_encoding(s, &before);
	th_wbuf_fini(&before);
}

static void hash_of(const struct th_scene *s, uint8_t h[TH_SCENE_HASH_LEN])
{
	assert_int_equal(th_scene_hash(s, h), 0);
}

/* Notifications, recorded. */
#define EVENTS_MAX 64
struct events {
	size_t n;
	enum th_scene_change kind[EVENTS_MAX];
	uint64_t id[EVENTS_MAX];
};
static void on_change(void *ud, enum th_scene_change kind, uint64_t id)
{
	struct events *ev = ud;
	if (ev->n < EVENTS_MAX) {
		ev->kind[ev->n] = kind;
		ev->id[ev->n] = id;
	}
	ev->n++;
}
static void expect_events(struct events *ev, size_t n, ...)
{
	va_list ap;
	va_start(ap, n);
	assert_int_equal(ev->n, n);
	for (size_t i = 0; i < n; i++) {
		enum th_scene_change k = va_arg(ap, enum th_scene_change);
		uint64_t id = va_arg(ap, uint64_t);
		assert_int_equal(ev->kind[i], k);
		assert_int_equal(ev->id[i], id);
	}
	va_end(ap);
	ev->n = 0;
}

/* ---- the encoding as th_scene.h documents it, written by hand ------------- */

static void put_header(struct th_wbuf *w)
{
	th_wbuf_put(w, "THSC", 4);
	th_wbuf_u32(w, 2);
}
static void put_material(struct th_wbuf *w, uint8_t idx, const char *name, const float f[6])
{
	th_wbuf_u8(w, idx);
	th_wbuf_str16(w, name);
	th_wbuf_f32s(w, f, 6);
}
static const float default_mat[6] = { 0.8f, 0.8f, 0.8f, 1.0f, 0.5f, 0.0f };

static void put_entity(struct th_wbuf *w, uint64_t id, uint32_t mask, const void *const *comps)
{
	th_wbuf_u64(w, id);
	th_wbuf_u32(w, mask);
	for (unsigned c = 0, k = 0; c < TH_COMP_COUNT; c++)
		if (mask & (1u << c))
			assert_int_equal(th_schema_encode_wbuf(th_component_record(c), comps[k++], w), 0);
}
static void put_empty_mesh(struct th_wbuf *w, uint64_t id)
{
	th_wbuf_u64(w, id);
	th_wbuf_u32(w, 0); /* vertices */
	th_wbuf_u32(w, 0); /* authors */
	th_wbuf_u32(w, 0); /* faces */
}

/* ---- tests -------------------------------------------------------------------- */

static void a_new_scene_holds_the_default_material_and_encodes_as_documented(void **state)
{
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	const struct th_scene_material *m = th_scene_material(s, 0);
	assert_true(m->defined);
	assert_string_equal(m->name, "default");
	assert_true(m->base_color[0] == 0.8f && m->base_color[1] == 0.8f && m->base_color[2] == 0.8f);
	assert_true(m->base_color[3] == 1.0f && m->roughness == 0.5f && m->metallic == 0.0f);
	assert_false(th_scene_material(s, 1)->defined);
	assert_false(th_scene_material(s, TH_SCENE_MATERIALS - 1)->defined);
	assert_null(th_scene_material(s, TH_SCENE_MATERIALS));
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.entities + st.meshes + st.vertices + st.faces + st.edges, 0);
	assert_int_equal(st.materials, 1);

	struct th_wbuf want;
	th_wbuf_init(&want, 0);
	put_header(&want);
	th_wbuf_u32(&want, 1);
	put_material(&want, 0, "default", default_mat);
	th_wbuf_u32(&want, 0);
	th_wbuf_u32(&want, 0);
	assert_encoding(s, &want);

	/* World hash = BLAKE2b-256("theta.world.v1\0\0" || encoding). */
	uint8_t h[TH_SCENE_HASH_LEN], doc[32];
	crypto_generichash_state st2;
	crypto_generichash_init(&st2, NULL, 0, 32);
	crypto_generichash_update(&st2, (const uint8_t *)"theta.world.v1\0\0", 16);
	crypto_generichash_update(&st2, want.data, want.len);
	crypto_generichash_final(&st2, doc, 32);
	hash_of(s, h);
	assert_memory_equal(h, doc, 32);

	size_t cur = 0;
	uint64_t id;
	const struct th_mesh *mesh;
	assert_false(th_scene_next_entity(s, &cur, &id));
	cur = 0;
	assert_false(th_scene_next_mesh(s, &cur, &mesh));
	th_wbuf_fini(&want);
	th_scene_destroy(&s);
	assert_null(s);
	th_scene_destroy(&s);
}

static void refusal_names_are_stable(void **state)
{
	static const char *const want[] = { "none", "malformed", "no-entity", "no-component", "no-mesh", "exists",
					    "mesh", "intent", "denied", "undo-target", "limit", "not-scene" };
	assert_int_equal(sizeof want / sizeof want[0], TH_REFUSE_COUNT);
	for (int i = 0; i < TH_REFUSE_COUNT; i++)
		assert_string_equal(th_refusal_name(i), want[i]);
	assert_string_equal(th_refusal_name(TH_REFUSE_COUNT), "?");
	assert_string_equal(th_refusal_name(-1), "?");
}

static void entity_create_derives_the_id_and_stores_the_components(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 1);
	struct events ev = { 0 };
	th_scene_on_change(s, on_change, &ev);
	struct th_c_transform t = xf(2.5f);
	struct th_c_selection sel = { .owner = 77, .mode = TH_SELECT_OBJECT, .element = 0 };
	add_comp(TH_COMP_SELECTION, &sel);
	add_comp(TH_COMP_TRANSFORM, &t);
	const struct th_logrec_entry *e = mk(&a, TH_CMD_ENTITY_CREATE, 0);
	ok(s, e, NULL);
	uint64_t id = entity_of(e);
	expect_events(&ev, 1, TH_SCENE_ENTITY_CREATED, id);
	assert_true(th_scene_has_entity(s, id));
	const struct th_c_transform *got = th_scene_component(s, id, TH_COMP_TRANSFORM);
	assert_non_null(got);
	assert_memory_equal(got, &t, sizeof t);
	const struct th_c_selection *gs = th_scene_component(s, id, TH_COMP_SELECTION);
	assert_non_null(gs);
	assert_int_equal(gs->owner, 77);
	assert_null(th_scene_component(s, id, TH_COMP_MESH_REF));
	assert_null(th_scene_component(s, id, TH_COMP_VELOCITY)); /* LOCAL: never in the scene */
	assert_null(th_scene_component(s, id, TH_COMP_COUNT));
	assert_null(th_scene_component(s, id + 1, TH_COMP_TRANSFORM));

	/* The encoding: one entity, Transform (index 0) before Selection. */
	struct th_wbuf want;
	th_wbuf_init(&want, 0);
	put_header(&want);
	th_wbuf_u32(&want, 1);
	put_material(&want, 0, "default", default_mat);
	th_wbuf_u32(&want, 1);
	const void *comps[] = { &t, &sel };
	put_entity(&want, id, (1u << TH_COMP_TRANSFORM) | (1u << TH_COMP_SELECTION), comps);
	th_wbuf_u32(&want, 0);
	assert_encoding(s, &want);
	th_wbuf_fini(&want);

	/* The same entry again derives the same id. */
	refused(s, e, NULL, TH_REFUSE_EXISTS);
	/* An entity with no component. */
	const struct th_logrec_entry *e2 = mk(&a, TH_CMD_ENTITY_CREATE, 0);
	ok(s, e2, NULL);
	expect_events(&ev, 1, TH_SCENE_ENTITY_CREATED, entity_of(e2));
	assert_true(th_scene_has_entity(s, entity_of(e2)));
	assert_int_not_equal(entity_of(e2), id);
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.entities, 2);
	size_t cur = 0, seen = 0;
	uint64_t it;
	while (th_scene_next_entity(s, &cur, &it)) {
		assert_true(it == id || it == entity_of(e2));
		seen++;
	}
	assert_int_equal(seen, 2);
	/* A MeshRef must name a mesh. */
	struct th_c_mesh_ref mr = { .mesh = 1234, .material = 0 };
	add_comp(TH_COMP_MESH_REF, &mr);
	refused(s, mk(&a, TH_CMD_ENTITY_CREATE, 0), NULL, TH_REFUSE_NO_MESH);
	/* Bytes that do not decode. */
	static const uint8_t junk[] = { 1, 0, 0xff };
	refused(s, mk_raw(&a, TH_CMD_ENTITY_CREATE, 0, junk, sizeof junk), NULL, TH_REFUSE_MALFORMED);
	refused(s, mk_raw(&a, 0x7777, 0, junk, sizeof junk), NULL, TH_REFUSE_MALFORMED);
	assert_int_equal(ev.n, 0);
	scene_done(&s, NULL);
}

static void entity_destroy_and_component_edits_apply_refuse_and_revert(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 2);
	struct events ev = { 0 };
	struct th_journal j;
	th_journal_init(&j, 0);
	struct th_c_transform t = xf(1);
	uint64_t id = create_entity_with(s, &a, &t);
	struct th_wbuf start = encoding(s);
	th_scene_on_change(s, on_change, &ev);

	/* component.write replaces a component and adds a new one. */
	struct th_c_transform t2 = xf(-3);
	size_t m0 = th_journal_mark(&j);
	ok(s, mk_write(&a, id, TH_COMP_TRANSFORM, &t2), &j);
	assert_memory_equal(th_scene_component(s, id, TH_COMP_TRANSFORM), &t2, sizeof t2);
	struct th_c_tool_state ts = { .owner = 5, .tool = 2, .phase = 1, .params = { 0.5f, 0, 0, 1 } };
	ok(s, mk_write(&a, id, TH_COMP_TOOL_STATE, &ts), &j);
	assert_memory_equal(th_scene_component(s, id, TH_COMP_TOOL_STATE), &ts, sizeof ts);
	expect_events(&ev, 2, TH_SCENE_ENTITY_CHANGED, id, TH_SCENE_ENTITY_CHANGED, id);
	refused(s, mk_write(&a, id + 1, TH_COMP_TRANSFORM, &t2), &j, TH_REFUSE_NO_ENTITY);
	struct th_c_mesh_ref mr = { .mesh = 99 };
	refused(s, mk_write(&a, id, TH_COMP_MESH_REF, &mr), &j, TH_REFUSE_NO_MESH);
	/* A LOCAL component is not a payload the decoder accepts. */
	struct th_c_velocity v = { .linear = { 1, 0, 0 } };
	uint8_t raw[8 + 2 + TH_PL_VALUE_MAX];
	int n = th_schema_encode(th_component_record(TH_COMP_VELOCITY), &v, raw + 10, TH_PL_VALUE_MAX);
	assert_true(n > 0);
	th_put_le64(raw, th_component_id(TH_COMP_VELOCITY));
	th_put_le16(raw + 8, (uint16_t)n);
	refused(s, mk_raw(&a, TH_CMD_COMPONENT_WRITE, id, raw, 10 + (size_t)n), &j, TH_REFUSE_MALFORMED);
	/* A non-finite float in the value. */
	struct th_c_transform bad = xf(1);
	n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &bad, raw + 10, TH_PL_VALUE_MAX);
	th_put_le64(raw, th_component_id(TH_COMP_TRANSFORM));
	th_put_le16(raw + 8, (uint16_t)n);
	th_put_le32(raw + 10, 0x7fc00000u); /* NaN as position.x */
	refused(s, mk_raw(&a, TH_CMD_COMPONENT_WRITE, id, raw, 10 + (size_t)n), &j, TH_REFUSE_MALFORMED);

	/* component.remove */
	ok(s, mk_remove(&a, id, TH_COMP_TOOL_STATE), &j);
	assert_null(th_scene_component(s, id, TH_COMP_TOOL_STATE));
	refused(s, mk_remove(&a, id, TH_COMP_TOOL_STATE), &j, TH_REFUSE_NO_COMPONENT);
	refused(s, mk_remove(&a, id, TH_COMP_SELECTION), &j, TH_REFUSE_NO_COMPONENT);
	refused(s, mk_remove(&a, id + 1, TH_COMP_TRANSFORM), &j, TH_REFUSE_NO_ENTITY);
	expect_events(&ev, 1, TH_SCENE_ENTITY_CHANGED, id);

	/* entity.destroy */
	ok(s, mk(&a, TH_CMD_ENTITY_DESTROY, id), &j);
	assert_false(th_scene_has_entity(s, id));
	assert_null(th_scene_component(s, id, TH_COMP_TRANSFORM));
	expect_events(&ev, 1, TH_SCENE_ENTITY_DESTROYED, id);
	refused(s, mk(&a, TH_CMD_ENTITY_DESTROY, id), &j, TH_REFUSE_NO_ENTITY);
	refused(s, mk_write(&a, id, TH_COMP_TRANSFORM, &t2), &j, TH_REFUSE_NO_ENTITY);
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.entities, 0);

	/* Revert all four changes: each reported, newest first. */
	th_scene_revert(s, &j, m0);
	assert_int_equal(j.len, m0);
	expect_events(&ev, 4, TH_SCENE_ENTITY_CREATED, id, TH_SCENE_ENTITY_CHANGED, id, TH_SCENE_ENTITY_CHANGED, id,
		      TH_SCENE_ENTITY_CHANGED, id);
	assert_encoding(s, &start);
	assert_memory_equal(th_scene_component(s, id, TH_COMP_TRANSFORM), &t, sizeof t);
	assert_null(th_scene_component(s, id, TH_COMP_TOOL_STATE));
	th_scene_revert(s, &j, m0); /* nothing above the mark: nothing happens */
	assert_int_equal(ev.n, 0);
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

static void materials_are_set_and_reverted(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 3);
	struct events ev = { 0 };
	th_scene_on_change(s, on_change, &ev);
	struct th_journal j;
	th_journal_init(&j, 0);
	struct th_wbuf start = encoding(s);
	ok(s, mk_material(&a, 7, "brick", 0.25f), &j);
	ok(s, mk_material(&a, 0, "chalk", 1.0f), &j);
	ok(s, mk_material(&a, 7, "brass", 0.75f), &j);
	expect_events(&ev, 3, TH_SCENE_MATERIAL_CHANGED, (uint64_t)7, TH_SCENE_MATERIAL_CHANGED, (uint64_t)0,
		      TH_SCENE_MATERIAL_CHANGED, (uint64_t)7);
	const struct th_scene_material *m = th_scene_material(s, 7);
	assert_true(m->defined);
	assert_string_equal(m->name, "brass");
	assert_true(m->base_color[0] == 0.75f && m->base_color[1] == 0.25f && m->base_color[2] == 0);
	assert_true(m->roughness == 0.375f && m->metallic == 1);
	assert_string_equal(th_scene_material(s, 0)->name, "chalk");
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.materials, 2);

	/* Encoded in ascending index. */
	struct th_wbuf want;
	th_wbuf_init(&want, 0);
	put_header(&want);
	th_wbuf_u32(&want, 2);
	const float chalk[6] = { 1, 0, 0, 1, 0.5f, 1 }, brass[6] = { 0.75f, 0.25f, 0, 1, 0.375f, 1 };
	put_material(&want, 0, "chalk", chalk);
	put_material(&want, 7, "brass", brass);
	th_wbuf_u32(&want, 0);
	th_wbuf_u32(&want, 0);
	assert_encoding(s, &want);

	/* A colour out of [0, 1] does not decode. */
	uint8_t raw[128];
	pl.material_set.index = 1;
	strcpy(pl.material_set.name, "x");
	int n = th_cmd_payload_encode(TH_CMD_MATERIAL_SET, &pl, raw, sizeof raw);
	assert_true(n > 0);
	memset(&pl, 0, sizeof pl);
	float two = 2;
	memcpy(raw + 1 + 2 + 1, &two, 4);
	refused(s, mk_raw(&a, TH_CMD_MATERIAL_SET, 0, raw, (size_t)n), &j, TH_REFUSE_MALFORMED);

	th_scene_revert(s, &j, 0);
	expect_events(&ev, 3, TH_SCENE_MATERIAL_CHANGED, (uint64_t)7, TH_SCENE_MATERIAL_CHANGED, (uint64_t)0,
		      TH_SCENE_MATERIAL_CHANGED, (uint64_t)7);
	assert_false(th_scene_material(s, 7)->defined);
	assert_encoding(s, &start);
	th_wbuf_fini(&want);
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

static void control_intent_and_inert_commands(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 4);
	struct events ev = { 0 };
	th_scene_on_change(s, on_change, &ev);
	struct th_journal j;
	th_journal_init(&j, 0);
	pl.edit_undo.lamport = 1;
	memset(pl.edit_undo.author, 0x11, TH_PL_KEY_LEN);
	refused(s, mk(&a, TH_CMD_EDIT_UNDO, 0), &j, TH_REFUSE_NOT_SCENE);
	pl.edit_redo.lamport = 1;
	memset(pl.edit_redo.author, 0x11, TH_PL_KEY_LEN);
	refused(s, mk(&a, TH_CMD_EDIT_REDO, 0), &j, TH_REFUSE_NOT_SCENE);
	pl.session_role_set.role = TH_ROLE_EDITOR;
	memset(pl.session_role_set.member, 0x11, TH_PL_KEY_LEN);
	refused(s, mk(&a, TH_CMD_SESSION_ROLE_SET, 0), &j, TH_REFUSE_NOT_SCENE);
	for (int i = 0; i < 4; i++)
		pl.mesh_transform.matrix[i * 5] = 1;
	refused(s, mk(&a, TH_CMD_MESH_TRANSFORM, 42), &j, TH_REFUSE_INTENT);

	/* tool.state, annotation.add and session.rename: applied, nothing changes. */
	struct th_wbuf start = encoding(s);
	static const uint8_t settings[] = { 1, 2, 3 };
	pl.tool_state = (struct th_pl_tool_state){ 3, settings, sizeof settings };
	ok(s, mk(&a, TH_CMD_TOOL_STATE, 9), &j);
	strcpy(pl.annotation_add.text, "look here");
	ok(s, mk(&a, TH_CMD_ANNOTATION_ADD, 12345), &j);
	strcpy(pl.session_rename.name, "workshop");
	ok(s, mk(&a, TH_CMD_SESSION_RENAME, 0), &j);
	assert_encoding(s, &start);
	assert_int_equal(j.len, 0);
	assert_int_equal(ev.n, 0);
	/* ... but their payloads must still decode. */
	static const uint8_t empty_text[] = { 0, 0 };
	refused(s, mk_raw(&a, TH_CMD_ANNOTATION_ADD, 12345, empty_text, sizeof empty_text), &j, TH_REFUSE_MALFORMED);
	static const uint8_t extra[] = { 0 };
	refused(s, mk_raw(&a, TH_CMD_ENTITY_DESTROY, 1, extra, sizeof extra), &j, TH_REFUSE_MALFORMED);
	/* The refusal pointer may be NULL. */
	pl.edit_undo.lamport = 2;
	memset(pl.edit_undo.author, 0x12, TH_PL_KEY_LEN);
	assert_int_equal(th_scene_apply(s, mk(&a, TH_CMD_EDIT_UNDO, 0), &j, NULL), -EINVAL);
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

static void mesh_create_makes_an_entity_and_a_mesh_and_reverts_to_nothing(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 5);
	struct events ev = { 0 };
	th_scene_on_change(s, on_change, &ev);
	struct th_journal j;
	th_journal_init(&j, 0);
	struct th_wbuf start = encoding(s);
	const struct th_logrec_entry *e = mk_quad(&a, 3, 2);
	ok(s, e, &j);
	uint64_t eid = entity_of(e), mid = element_of(e, 0);
	expect_events(&ev, 2, TH_SCENE_MESH_CREATED, mid, TH_SCENE_ENTITY_CREATED, eid);
	const struct th_c_transform *t = th_scene_component(s, eid, TH_COMP_TRANSFORM);
	struct th_c_transform want_t = xf(3);
	assert_non_null(t);
	assert_memory_equal(t, &want_t, sizeof want_t);
	const struct th_c_mesh_ref *mr = th_scene_component(s, eid, TH_COMP_MESH_REF);
	assert_non_null(mr);
	assert_int_equal(mr->mesh, mid);
	assert_int_equal(mr->material, 2);
	assert_int_equal(mr->flags, 0);
	const struct th_mesh *m = th_scene_mesh(s, mid);
	assert_non_null(m);
	assert_int_equal(m->id, mid);
	for (uint32_t i = 0; i < 4; i++)
		assert_true(th_mesh_vert_find(m, element_of(e, i + 1)) != TH_MESH_NONE);
	assert_true(th_mesh_face_find(m, element_of(e, 5)) != TH_MESH_NONE);
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.entities, 1);
	assert_int_equal(st.meshes, 1);
	assert_int_equal(st.vertices, 4);
	assert_int_equal(st.faces, 1);
	assert_int_equal(st.edges, 4);
	size_t cur = 0;
	const struct th_mesh *it;
	assert_true(th_scene_next_mesh(s, &cur, &it));
	assert_ptr_equal(it, m);
	assert_false(th_scene_next_mesh(s, &cur, &it));

	/* Replayed: both ids exist. */
	refused(s, e, &j, TH_REFUSE_EXISTS);
	/* Ops that do not make a valid mesh: a face on two corners' worth of
	 * distinct vertices (a repeated corner). */
	struct th_pl_mesh_create *c = &pl.mesh_create;
	c->transform[6] = 1;
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 0, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 1, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 0, 0, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_LOOP, 1, TH_PL_MESH_REF_LOCAL, 0, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_LOOP, 2, TH_PL_MESH_REF_LOCAL, 0, 0);
	op(c->ops, &c->ops_count, TH_PL_MESH_OP_LOOP, 1, TH_PL_MESH_REF_LOCAL, 0, 0);
	refused(s, mk(&a, TH_CMD_MESH_CREATE, 0), &j, TH_REFUSE_MESH);
	/* An empty mesh is a mesh. */
	pl.mesh_create.transform[6] = 1;
	const struct th_logrec_entry *e2 = mk(&a, TH_CMD_MESH_CREATE, 0);
	ok(s, e2, &j);
	assert_non_null(th_scene_mesh(s, element_of(e2, 0)));
	expect_events(&ev, 2, TH_SCENE_MESH_CREATED, element_of(e2, 0), TH_SCENE_ENTITY_CREATED, entity_of(e2));

	th_scene_revert(s, &j, 0);
	expect_events(&ev, 4, TH_SCENE_ENTITY_DESTROYED, entity_of(e2), TH_SCENE_MESH_DESTROYED, element_of(e2, 0),
		      TH_SCENE_ENTITY_DESTROYED, eid, TH_SCENE_MESH_DESTROYED, mid);
	assert_null(th_scene_mesh(s, mid));
	assert_false(th_scene_has_entity(s, eid));
	assert_encoding(s, &start);
	/* And it can be created again. */
	ok(s, e, &j);
	assert_non_null(th_scene_mesh(s, mid));
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

static void mesh_patch_applies_all_or_nothing_and_reverts_exactly(void **state)
{
	struct th_scene *s;
	struct author a, b;
	author_init(&a, 6);
	author_init(&b, 7);
	assert_int_equal(th_scene_create(&s), 0);
	struct events ev = { 0 };
	struct th_journal j;
	th_journal_init(&j, 0);
	const struct th_logrec_entry *q = mk_quad(&a, 0, 0);
	ok(s, q, NULL);
	uint64_t mid = element_of(q, 0), eid = entity_of(q);
	uint64_t v[4];
	for (uint32_t i = 0; i < 4; i++)
		v[i] = element_of(q, i + 1);
	struct th_wbuf start = encoding(s);
	uint8_t h0[32], h[32];
	hash_of(s, h0);
	th_scene_on_change(s, on_change, &ev);

	/* A triangle across the quad's edge v1 -> v2, on a new vertex: the new
	 * elements get the ids of index op + 1. */
	struct th_pl_mesh_patch *p = &pl.mesh_patch;
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_VERTEX_ADD, 0, 0, 2, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 1, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, v[2], TH_PL_MESH_REF_ID, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, v[1], TH_PL_MESH_REF_ID, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, 1, TH_PL_MESH_REF_LOCAL, 0, 0);
	const struct th_logrec_entry *pe = mk(&b, TH_CMD_MESH_PATCH, mid);
	ok(s, pe, &j);
	expect_events(&ev, 1, TH_SCENE_MESH_CHANGED, mid);
	const struct th_mesh *m = th_scene_mesh(s, mid);
	int32_t nv = th_mesh_vert_find(m, element_of(pe, 1));
	assert_true(nv != TH_MESH_NONE);
	assert_true(m->verts[nv].pos[0] == 2);
	int32_t nf = th_mesh_face_find(m, element_of(pe, 2));
	assert_true(nf != TH_MESH_NONE);
	assert_int_equal(m->faces[nf].material, 1);
	/* Provenance: the patch's face is b's, at the patch's lamport; the
	 * quad stays a's, at the mesh.create's. */
	struct th_mesh_origin o;
	assert_int_equal(th_mesh_face_origin(m, nf, &o), 0);
	assert_memory_equal(o.author, b.key, 32);
	assert_int_equal(o.lamport, pe->lamport);
	assert_int_equal(th_mesh_face_origin(m, th_mesh_face_find(m, element_of(q, 5)), &o), 0);
	assert_memory_equal(o.author, a.key, 32);
	assert_int_equal(o.lamport, q->lamport);
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.vertices, 5);
	assert_int_equal(st.faces, 2);
	assert_int_equal(st.edges, 6);

	/* Moves; a refused patch changes nothing, even its valid first op. */
	ok(s, mk_move(&a, mid, v[0], -1, -1), &j);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_VERTEX_MOVE, v[3], 0, 5, 5);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_VERTEX_MOVE, 0x1234567, 0, 5, 5);
	refused(s, mk(&a, TH_CMD_MESH_PATCH, mid), &j, TH_REFUSE_MESH);
	/* The directed edge v0 -> v1 is the quad's already. */
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_FACE_ADD, 0, 0, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, v[0], TH_PL_MESH_REF_ID, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, v[1], TH_PL_MESH_REF_ID, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_LOOP, element_of(pe, 1), TH_PL_MESH_REF_ID, 0, 0);
	refused(s, mk(&a, TH_CMD_MESH_PATCH, mid), &j, TH_REFUSE_MESH);
	refused(s, mk_move(&a, mid + 1, v[0], 0, 0), &j, TH_REFUSE_NO_MESH);
	refused(s, mk_move(&a, eid, v[0], 0, 0), &j, TH_REFUSE_NO_MESH); /* an entity is not a mesh */
	/* Removing the quad's face, then a vertex only it used. */
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_REMOVE, element_of(q, 5), 0, 0, 0);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_REMOVE, v[3], 0, 0, 0);
	ok(s, mk(&b, TH_CMD_MESH_PATCH, mid), &j);
	op(p->ops, &p->ops_count, TH_PL_MESH_OP_FACE_MATERIAL, element_of(pe, 2), 9, 0, 0);
	ok(s, mk(&b, TH_CMD_MESH_PATCH, mid), &j);
	assert_int_equal(m->faces[th_mesh_face_find(m, element_of(pe, 2))].material, 9);
	th_scene_stats(s, &st);
	assert_int_equal(st.vertices, 4);
	assert_int_equal(st.faces, 1);
	expect_events(&ev, 3, TH_SCENE_MESH_CHANGED, mid, TH_SCENE_MESH_CHANGED, mid, TH_SCENE_MESH_CHANGED, mid);
	const char *why = NULL;
	assert_int_equal(th_mesh_check(m, &why), 0);

	/* Four patches reverted: one notification each. */
	th_scene_revert(s, &j, 0);
	expect_events(&ev, 4, TH_SCENE_MESH_CHANGED, mid, TH_SCENE_MESH_CHANGED, mid, TH_SCENE_MESH_CHANGED, mid,
		      TH_SCENE_MESH_CHANGED, mid);
	assert_encoding(s, &start);
	hash_of(s, h);
	assert_memory_equal(h, h0, 32);
	assert_int_equal(th_mesh_check(th_scene_mesh(s, mid), &why), 0);

	/* entity.destroy keeps the mesh; its revert points at it again. */
	ok(s, mk(&a, TH_CMD_ENTITY_DESTROY, eid), &j);
	assert_non_null(th_scene_mesh(s, mid));
	ok(s, mk_move(&a, mid, v[2], 3, 3), &j);
	/* A MeshRef to the orphaned mesh may be written on another entity. */
	const struct th_logrec_entry *other = mk(&b, TH_CMD_ENTITY_CREATE, 0);
	ok(s, other, &j);
	struct th_c_mesh_ref mr = { .mesh = mid, .material = 4 };
	ok(s, mk_write(&b, entity_of(other), TH_COMP_MESH_REF, &mr), &j);
	th_scene_revert(s, &j, 0);
	const struct th_c_mesh_ref *got = th_scene_component(s, eid, TH_COMP_MESH_REF);
	assert_non_null(got);
	assert_int_equal(got->mesh, mid);
	assert_encoding(s, &start);
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

static void a_full_journal_refuses_nothing_and_changes_nothing(void **state)
{
	struct th_scene *s;
	struct author a;
	scene_new(&s, &a, 8);
	struct events ev = { 0 };
	struct th_journal j;
	/* Room for one 8-byte record (13 bytes with its framing), not two. */
	th_journal_init(&j, 20);
	struct th_c_transform t = xf(1);
	uint64_t id = create_entity_with(s, &a, &t);
	th_scene_on_change(s, on_change, &ev);
	struct th_wbuf start = encoding(s);
	struct th_scene_refusal r;
	int rv = th_scene_apply(s, mk(&a, TH_CMD_ENTITY_DESTROY, id), &j, &r);
	assert_int_equal(rv, -ENOSPC);
	rv = th_scene_apply(s, mk_write(&a, id, TH_COMP_TRANSFORM, &t), &j, &r);
	assert_int_equal(rv, -ENOSPC);
	assert_int_equal(th_scene_apply(s, mk_material(&a, 3, "m", 0), &j, &r), -ENOSPC);
	/* mesh.create pushes two records: the second does not fit. */
	assert_int_equal(th_scene_apply(s, mk_quad(&a, 0, 0), &j, &r), -ENOSPC);
	assert_int_equal(j.len, 0);
	assert_int_equal(ev.n, 0);
	assert_encoding(s, &start);
	/* One that fits. */
	ok(s, mk(&a, TH_CMD_ENTITY_CREATE, 0), &j);
	th_wbuf_fini(&start);
	scene_done(&s, &j);
}

/* ---- long histories ------------------------------------------------------------ */

struct world {
	uint64_t ents[512];
	size_t nents;
	uint64_t meshes[64];
	uint64_t verts[64][4];
	size_t nmeshes;
};

static uint32_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (uint32_t)(*x >> 16);
}

/* A random entry on w (names ids that may or may not exist any more). */
static const struct th_logrec_entry *random_entry(struct author *au, struct world *w, uint64_t *x)
{
	uint64_t ent = w->nents ? w->ents[rnd(x) % w->nents] : 1;
	size_t mi = w->nmeshes ? rnd(x) % w->nmeshes : 0;
	uint64_t mesh = w->nmeshes ? w->meshes[mi] : 2;
	float f = (float)(rnd(x) % 1000) / 100;
	switch (rnd(x) % 12) {
	case 0:
	case 1: {
		struct th_c_transform t = xf(f);
		struct th_c_selection sel = { .owner = rnd(x), .mode = TH_SELECT_FACE, .element = rnd(x) };
		struct th_c_mesh_ref mr = { .mesh = mesh, .material = rnd(x) % 4 };
		if (rnd(x) % 2)
			add_comp(TH_COMP_TRANSFORM, &t);
		if (rnd(x) % 2)
			add_comp(TH_COMP_SELECTION, &sel);
		if (w->nmeshes && rnd(x) % 2)
			add_comp(TH_COMP_MESH_REF, &mr);
		const struct th_logrec_entry *e = mk(au, TH_CMD_ENTITY_CREATE, 0);
		if (w->nents < sizeof w->ents / sizeof w->ents[0])
			w->ents[w->nents++] = entity_of(e);
		return e;
	}
	case 2:
		return mk(au, TH_CMD_ENTITY_DESTROY, ent);
	case 3:
	case 4: {
		struct th_c_transform t = xf(f);
		return mk_write(au, ent, TH_COMP_TRANSFORM, &t);
	}
	case 5: {
		struct th_c_mesh_ref mr = { .mesh = rnd(x) % 4 ? mesh : mesh + 1, .material = 1 };
		return mk_write(au, ent, TH_COMP_MESH_REF, &mr);
	}
	case 6: {
		static const unsigned comps[] = { TH_COMP_TRANSFORM, TH_COMP_SELECTION, TH_COMP_MESH_REF, TH_COMP_TOOL_STATE };
		return mk_remove(au, ent, comps[rnd(x) % 4]);
	}
	case 7:
		return mk_material(au, (uint8_t)(rnd(x) % 6), "mat", (float)(rnd(x) % 5) / 4);
	case 8: {
		const struct th_logrec_entry *e = mk_quad(au, f, rnd(x) % 3);
		if (w->nmeshes < sizeof w->meshes / sizeof w->meshes[0]) {
			w->meshes[w->nmeshes] = element_of(e, 0);
			for (uint32_t i = 0; i < 4; i++)
				w->verts[w->nmeshes][i] = element_of(e, i + 1);
			w->nmeshes++;
		}
		w->ents[w->nents < sizeof w->ents / sizeof w->ents[0] ? w->nents++ : 0] = entity_of(e);
		return e;
	}
	case 9:
	case 10:
		return mk_move(au, mesh, w->nmeshes ? w->verts[mi][rnd(x) % 4] : 3, f, -f);
	default: {
		struct th_c_tool_state ts = { .owner = 1, .tool = rnd(x) % 5 };
		return mk_write(au, ent, TH_COMP_TOOL_STATE, &ts);
	}
	}
}

static void long_mixed_histories_revert_to_the_exact_encoding_and_hash(void **state)
{
	enum { STEPS = 600, EVERY = 25 };
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct th_scene *s;
		assert_int_equal(th_scene_create(&s), 0);
		struct author au[3];
		for (int i = 0; i < 3; i++)
			author_init(&au[i], (uint8_t)(0x30 + i));
		struct world w = { 0 };
		uint64_t x = seed * 0x9e3779b97f4a7c15ull;
		struct th_journal j;
		th_journal_init(&j, 0);
		/* A non-empty start: reverting must stop there. */
		for (int i = 0; i < 10; i++)
			(void)th_scene_apply(s, random_entry(&au[i % 3], &w, &x), NULL, NULL);
		struct th_wbuf snaps[STEPS / EVERY + 1];
		uint8_t hashes[STEPS / EVERY + 1][32];
		size_t marks[STEPS / EVERY + 1];
		size_t nsnap = 0, applied = 0, refusals = 0;
		for (int i = 0; i < STEPS; i++) {
			if (i % EVERY == 0) {
				snaps[nsnap] = encoding(s);
				hash_of(s, hashes[nsnap]);
				marks[nsnap++] = th_journal_mark(&j);
			}
			struct th_scene_refusal r;
			int rv = th_scene_apply(s, random_entry(&au[rnd(&x) % 3], &w, &x), &j, &r);
			assert_true(rv == 0 || rv == -EINVAL);
			applied += rv == 0;
			refusals += rv != 0;
		}
		/* Both outcomes occur often. */
		assert_true(applied > STEPS / 4);
		assert_true(refusals > STEPS / 20);
		/* Back, one checkpoint at a time. */
		while (nsnap--) {
			th_scene_revert(s, &j, marks[nsnap]);
			assert_encoding(s, &snaps[nsnap]);
			uint8_t h[32];
			hash_of(s, h);
			assert_memory_equal(h, hashes[nsnap], 32);
			th_wbuf_fini(&snaps[nsnap]);
		}
		assert_int_equal(j.len, 0);
		th_journal_fini(&j);
		th_scene_destroy(&s);
		arena_free();
	}
}

/* A mirror kept from notifications alone ends with the scene's entities. */
struct mirror {
	uint64_t ids[1024];
	size_t n;
	size_t mesh_events, material_events;
	bool bad;
};
static void mirror_change(void *ud, enum th_scene_change kind, uint64_t id)
{
	struct mirror *m = ud;
	size_t i = 0;
	while (i < m->n && m->ids[i] != id)
		i++;
	switch (kind) {
	case TH_SCENE_ENTITY_CREATED:
		if (i < m->n)
			m->bad = true;
		else
			m->ids[m->n++] = id;
		break;
	case TH_SCENE_ENTITY_DESTROYED:
		if (i == m->n)
			m->bad = true;
		else
			m->ids[i] = m->ids[--m->n];
		break;
	case TH_SCENE_ENTITY_CHANGED:
		m->bad |= i == m->n;
		break;
	case TH_SCENE_MATERIAL_CHANGED:
		m->material_events++;
		break;
	default:
		m->mesh_events++;
		break;
	}
}

static void a_mirror_of_the_notifications_tracks_apply_and_revert(void **state)
{
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	static struct mirror mir;
	memset(&mir, 0, sizeof mir);
	th_scene_on_change(s, mirror_change, &mir);
	struct author au[2];
	author_init(&au[0], 0x61);
	author_init(&au[1], 0x62);
	struct world w = { 0 };
	uint64_t x = 77;
	struct th_journal j;
	th_journal_init(&j, 0);
	size_t half = 0;
	for (int i = 0; i < 400; i++) {
		if (i == 200)
			half = th_journal_mark(&j);
		(void)th_scene_apply(s, random_entry(&au[i % 2], &w, &x), &j, NULL);
	}
	th_scene_revert(s, &j, half);
	assert_false(mir.bad);
	assert_true(mir.mesh_events > 0 && mir.material_events > 0);
	size_t cur = 0, n = 0;
	uint64_t id;
	while (th_scene_next_entity(s, &cur, &id)) {
		size_t i = 0;
		while (i < mir.n && mir.ids[i] != id)
			i++;
		assert_true(i < mir.n);
		n++;
	}
	assert_int_equal(n, mir.n);
	th_scene_revert(s, &j, 0);
	assert_int_equal(mir.n, 0);
	assert_false(mir.bad);
	scene_done(&s, &j);
}

static void the_world_hash_depends_on_content_not_on_the_path(void **state)
{
	struct author a, b;
	author_init(&a, 0x11);
	author_init(&b, 0x22);
	struct th_c_transform t = xf(1), t2 = xf(4);
	struct th_c_selection sel = { .owner = 9 };
	add_comp(TH_COMP_TRANSFORM, &t);
	const struct th_logrec_entry *ea = mk(&a, TH_CMD_ENTITY_CREATE, 0);
	add_comp(TH_COMP_SELECTION, &sel);
	const struct th_logrec_entry *eb = mk(&b, TH_CMD_ENTITY_CREATE, 0);
	const struct th_logrec_entry *qa = mk_quad(&a, 0, 0);
	const struct th_logrec_entry *wa = mk_write(&a, entity_of(ea), TH_COMP_TRANSFORM, &t2);
	const struct th_logrec_entry *wb = mk_write(&b, entity_of(eb), TH_COMP_TRANSFORM, &t);
	const struct th_logrec_entry *ma = mk_material(&a, 2, "red", 1);
	const struct th_logrec_entry *mb = mk_material(&b, 3, "blue", 0);
	const struct th_logrec_entry *va = mk_move(&a, element_of(qa, 0), element_of(qa, 1), 0, -1);
	const struct th_logrec_entry *vb = mk_move(&b, element_of(qa, 0), element_of(qa, 3), -1, 1);
	const struct th_logrec_entry *order1[] = { ea, eb, qa, wa, wb, ma, mb, va, vb };
	const struct th_logrec_entry *order2[] = { qa, vb, eb, mb, wb, ea, va, ma, wa };
	/* A detour: an extra entity created and destroyed, a component added
	 * and removed, a vertex moved away and back. */
	const struct th_logrec_entry *tmp = mk(&b, TH_CMD_ENTITY_CREATE, 0);
	const struct th_logrec_entry *tmp_d = mk(&b, TH_CMD_ENTITY_DESTROY, entity_of(tmp));
	struct th_c_tool_state ts = { .owner = 3 };
	const struct th_logrec_entry *add_t = mk_write(&a, entity_of(eb), TH_COMP_TOOL_STATE, &ts);
	const struct th_logrec_entry *rm_t = mk_remove(&a, entity_of(eb), TH_COMP_TOOL_STATE);
	const struct th_logrec_entry *away = mk_move(&b, element_of(qa, 0), element_of(qa, 3), 9, 9);
	const struct th_logrec_entry *back = mk_move(&a, element_of(qa, 0), element_of(qa, 3), 1, 1);
	const struct th_logrec_entry *order3[] = { qa, away, ea, tmp, eb, add_t, wb, back, mb, tmp_d, va,
						   ma, rm_t, vb, wa };
	struct th_scene *s1, *s2, *s3;
	assert_int_equal(th_scene_create(&s1), 0);
	assert_int_equal(th_scene_create(&s2), 0);
	assert_int_equal(th_scene_create(&s3), 0);
	for (size_t i = 0; i < sizeof order1 / sizeof order1[0]; i++) {
		ok(s1, order1[i], NULL);
		ok(s2, order2[i], NULL);
	}
	for (size_t i = 0; i < sizeof order3 / sizeof order3[0]; i++)
		ok(s3, order3[i], NULL);
	uint8_t h1[32], h2[32], h3[32];
	hash_of(s1, h1);
	hash_of(s2, h2);
	hash_of(s3, h3);
	assert_memory_equal(h1, h2, 32);
	assert_memory_equal(h1, h3, 32);
	/* Any difference changes it: one float, one material, one vertex. */
	struct th_c_transform t3 = xf(4.0000005f);
	ok(s2, mk_write(&a, entity_of(ea), TH_COMP_TRANSFORM, &t3), NULL);
	hash_of(s2, h2);
	assert_memory_not_equal(h1, h2, 32);
	ok(s3, mk_material(&b, 4, "x", 0), NULL);
	hash_of(s3, h3);
	assert_memory_not_equal(h1, h3, 32);
	ok(s1, mk_move(&b, element_of(qa, 0), element_of(qa, 2), 1, 1.5f), NULL);
	hash_of(s1, h3);
	assert_memory_not_equal(h1, h3, 32);
	th_scene_destroy(&s1);
	th_scene_destroy(&s2);
	th_scene_destroy(&s3);
	arena_free();
}

static void many_entities_come_and_go_through_the_id_table(void **state)
{
	enum { N = 20000 };
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	struct author a;
	author_init(&a, 0x77);
	struct th_journal j;
	th_journal_init(&j, 0);
	struct th_wbuf start = encoding(s);
	uint64_t *ids = calloc(N, sizeof *ids);
	bool *alive = calloc(N, sizeof *alive);
	assert_non_null(ids);
	assert_non_null(alive);
	struct th_logrec_entry e = { .version = TH_LOGREC_VERSION, .type = TH_CMD_ENTITY_CREATE };
	memcpy(e.author, a.key, 32);
	static const uint8_t none[2] = { 0, 0 }; /* an empty component list */
	e.payload = none;
	e.payload_len = 2;
	for (int i = 0; i < N; i++) {
		e.seq = (uint64_t)i + 1;
		ok(s, &e, &j);
		ids[i] = entity_of(&e);
		alive[i] = true;
	}
	size_t mid = th_journal_mark(&j);
	struct th_wbuf full = encoding(s);
	uint64_t x = 5;
	struct th_logrec_entry d = { .version = TH_LOGREC_VERSION, .type = TH_CMD_ENTITY_DESTROY };
	for (int i = 0; i < N * 3 / 4; i++) {
		uint32_t k = rnd(&x) % N;
		d.scope_id = ids[k];
		struct th_scene_refusal r;
		int rv = th_scene_apply(s, &d, &j, &r);
		assert_int_equal(rv, alive[k] ? 0 : -EINVAL);
		alive[k] = false;
	}
	size_t live = 0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(th_scene_has_entity(s, ids[i]), alive[i]);
		live += alive[i];
	}
	struct th_scene_stats st;
	th_scene_stats(s, &st);
	assert_int_equal(st.entities, live);
	th_scene_revert(s, &j, mid);
	assert_encoding(s, &full);
	th_scene_revert(s, &j, 0);
	assert_encoding(s, &start);
	for (int i = 0; i < N; i += 97)
		assert_false(th_scene_has_entity(s, ids[i]));
	free(ids);
	free(alive);
	th_wbuf_fini(&full);
	th_wbuf_fini(&start);
	th_journal_fini(&j);
	th_scene_destroy(&s);
}

/* ---- decoding ------------------------------------------------------------------- */

/* A scene with a bit of everything; its encoding into *out. */
static struct th_scene *populated(struct th_wbuf *out)
{
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	struct author a;
	author_init(&a, 0x44);
	struct th_c_transform t = xf(7);
	struct th_c_tool_state ts = { .owner = 8, .tool = 1, .params = { 1, 2, 3, 4 } };
	add_comp(TH_COMP_TRANSFORM, &t);
	add_comp(TH_COMP_TOOL_STATE, &ts);
	ok(s, mk(&a, TH_CMD_ENTITY_CREATE, 0), NULL);
	const struct th_logrec_entry *q = mk_quad(&a, 1, 1);
	ok(s, q, NULL);
	ok(s, mk_quad(&a, 2, 0), NULL);
	ok(s, mk_move(&a, element_of(q, 0), element_of(q, 1), 0.5f, 0.25f), NULL);
	ok(s, mk_material(&a, 9, "steel", 0.5f), NULL);
	ok(s, mk(&a, TH_CMD_ENTITY_CREATE, 0), NULL);
	*out = encoding(s);
	return s;
}

static void decoding_round_trips_and_replaces_the_content(void **state)
{
	struct th_wbuf enc;
	struct th_scene *src = populated(&enc);
	struct th_scene *dst;
	assert_int_equal(th_scene_create(&dst), 0);
	struct author b;
	author_init(&b, 0x55);
	ok(dst, mk_material(&b, 100, "gone", 1), NULL); /* replaced by the decode */
	ok(dst, mk(&b, TH_CMD_ENTITY_CREATE, 0), NULL);
	struct events ev = { 0 };
	th_scene_on_change(dst, on_change, &ev);
	const char *why = NULL;
	assert_int_equal(th_scene_decode(dst, enc.data, enc.len, &why), 0);
	assert_int_equal(ev.n, 0); /* decoding reports no changes */
	assert_encoding(dst, &enc);
	uint8_t h1[32], h2[32];
	hash_of(src, h1);
	hash_of(dst, h2);
	assert_memory_equal(h1, h2, 32);
	assert_false(th_scene_material(dst, 100)->defined);
	struct th_scene_stats a, b2;
	th_scene_stats(src, &a);
	th_scene_stats(dst, &b2);
	assert_memory_equal(&a, &b2, sizeof a);
	size_t cur = 0;
	uint64_t id;
	while (th_scene_next_entity(src, &cur, &id))
		for (unsigned c = 0; c < TH_COMP_COUNT; c++) {
			const void *x = th_scene_component(src, id, c), *y = th_scene_component(dst, id, c);
			assert_true(!x == !y);
			if (x)
				assert_memory_equal(x, y, th_component_record(c)->c_size);
		}
	/* The decoded scene folds on: the same edits give the same scene. */
	struct author a2;
	author_init(&a2, 0x66);
	struct th_journal j;
	th_journal_init(&j, 0);
	/* (a vertex of a decoded mesh moves: its encoding must follow) */
	const struct th_mesh *dm = NULL;
	cur = 0;
	assert_true(th_scene_next_mesh(dst, &cur, &dm));
	uint64_t dv = 0;
	for (uint32_t i = 0; i < dm->nverts && !dv; i++)
		dv = dm->verts[i].id;
	const struct th_logrec_entry *more[] = { mk(&a2, TH_CMD_ENTITY_CREATE, 0), mk_quad(&a2, 5, 0),
						 mk_material(&a2, 9, "iron", 0), mk_move(&a2, dm->id, dv, 7, 7) };
	for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
		ok(src, more[i], NULL);
		ok(dst, more[i], &j);
	}
	hash_of(src, h1);
	hash_of(dst, h2);
	assert_memory_equal(h1, h2, 32);
	/* The encoding carries the move. */
	struct th_wbuf moved = encoding(dst);
	struct th_scene *back;
	assert_int_equal(th_scene_create(&back), 0);
	assert_int_equal(th_scene_decode(back, moved.data, moved.len, &why), 0);
	const struct th_mesh *bm = th_scene_mesh(back, dm->id);
	assert_non_null(bm);
	int32_t bv = th_mesh_vert_find(bm, dv);
	assert_true(bv != TH_MESH_NONE && bm->verts[bv].pos[0] == 7 && bm->verts[bv].pos[1] == 7);
	th_scene_destroy(&back);
	th_wbuf_fini(&moved);
	th_scene_revert(dst, &j, 0);
	assert_encoding(dst, &enc);
	th_journal_fini(&j);
	th_wbuf_fini(&enc);
	th_scene_destroy(&src);
	th_scene_destroy(&dst);
	arena_free();
}

static void encoding_appends_counts_and_reports_a_short_buffer(void **state)
{
	struct th_wbuf enc;
	struct th_scene *s = populated(&enc);
	/* Appended after what the buffer holds. */
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_put(&w, "abc", 3);
	assert_int_equal(th_scene_encode(s, &w), 0);
	assert_int_equal(w.len, 3 + enc.len);
	assert_memory_equal(w.data, "abc", 3);
	assert_memory_equal(w.data + 3, enc.data, enc.len);
	/* A counting buffer learns the size; a fixed one too small says so. */
	struct th_wbuf count;
	th_wbuf_init_fixed(&count, NULL, 0);
	assert_int_equal(th_scene_encode(s, &count), 0);
	assert_int_equal(count.len, enc.len);
	uint8_t *small = malloc(enc.len - 1);
	assert_non_null(small);
	struct th_wbuf fixed;
	th_wbuf_init_fixed(&fixed, small, enc.len - 1);
	assert_int_equal(th_scene_encode(s, &fixed), -EMSGSIZE);
	uint8_t *exact = malloc(enc.len);
	assert_non_null(exact);
	th_wbuf_init_fixed(&fixed, exact, enc.len);
	assert_int_equal(th_scene_encode(s, &fixed), 0);
	assert_memory_equal(exact, enc.data, enc.len);
	free(small);
	free(exact);
	th_wbuf_fini(&w);
	th_wbuf_fini(&enc);
	scene_done(&s, NULL);
}

/* Decoding p is refused with a reason and leaves s as it was. */
static void refuses(struct th_scene *s, const uint8_t *p, size_t len)
{
	struct th_wbuf before = encoding(s);
	const char *why = NULL;
	assert_int_equal(th_scene_decode(s, p, len, &why), -EBADMSG);
	assert_non_null(why);
	assert_true(strlen(why) > 8);
	assert_encoding(s, &before);
	th_wbuf_fini(&before);
}

static void decoding_refuses_truncated_and_corrupted_encodings(void **state)
{
	struct th_wbuf enc;
	struct th_scene *s = populated(&enc);
	/* Every prefix, and one trailing byte. */
	for (size_t n = 0; n < enc.len; n++)
		refuses(s, enc.data, n);
	uint8_t *p = malloc(enc.len + 1);
	assert_non_null(p);
	memcpy(p, enc.data, enc.len);
	p[enc.len] = 0;
	refuses(s, p, enc.len + 1);
	/* Every single-byte change is refused or decodes to a scene that
	 * encodes to exactly those bytes (one encoding per scene). */
	struct th_scene *t;
	assert_int_equal(th_scene_create(&t), 0);
	size_t accepted = 0;
	for (size_t i = 0; i < enc.len; i++) {
		p[i] ^= 0x41;
		const char *why = NULL;
		if (th_scene_decode(t, p, enc.len, &why) == 0) {
			struct th_wbuf w = encoding(t);
			assert_int_equal(w.len, enc.len);
			assert_memory_equal(w.data, p, enc.len);
			th_wbuf_fini(&w);
			accepted++;
		} else {
			assert_non_null(why);
		}
		p[i] ^= 0x41;
	}
	assert_true(accepted > 0 && accepted < enc.len);
	free(p);
	th_scene_destroy(&t);
	th_wbuf_fini(&enc);
	scene_done(&s, NULL);
}

static void decoding_refuses_out_of_order_duplicated_and_invalid_content(void **state)
{
	struct th_scene *s;
	assert_int_equal(th_scene_create(&s), 0);
	struct th_c_transform t = xf(1);
	const void *ct[] = { &t };
	const uint32_t tm = 1u << TH_COMP_TRANSFORM;
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
#define CASE(body)                            \
	do {                                  \
		th_wbuf_reset(&w);            \
		body;                         \
		refuses(s, w.data, w.len);    \
	} while (0)
#define MATS0 (th_wbuf_u32(&w, 1), put_material(&w, 0, "default", default_mat))
	/* The valid base these cases break: accepted. */
	th_wbuf_reset(&w);
	put_header(&w);
	MATS0;
	th_wbuf_u32(&w, 2);
	put_entity(&w, 3, tm, ct);
	put_entity(&w, 5, 0, NULL);
	th_wbuf_u32(&w, 2);
	put_empty_mesh(&w, 8);
	put_empty_mesh(&w, 9);
	const char *why;
	assert_int_equal(th_scene_decode(s, w.data, w.len, &why), 0);
	assert_true(th_scene_has_entity(s, 3) && th_scene_has_entity(s, 5));
	assert_non_null(th_scene_mesh(s, 9));

	CASE((th_wbuf_put(&w, "THSD", 4), th_wbuf_u32(&w, 1), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	CASE((th_wbuf_put(&w, "THSC", 4), th_wbuf_u32(&w, 1), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	CASE((th_wbuf_put(&w, "THSC", 4), th_wbuf_u32(&w, 3), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	/* materials: out of order, repeated, the default missing, too many,
	 * an empty name, a NUL in a name, NaN, a value above 1 */
	CASE((put_header(&w), th_wbuf_u32(&w, 3), put_material(&w, 0, "d", default_mat),
	      put_material(&w, 7, "a", default_mat), put_material(&w, 3, "b", default_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 3), put_material(&w, 0, "d", default_mat),
	      put_material(&w, 3, "a", default_mat), put_material(&w, 3, "b", default_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 1), put_material(&w, 3, "b", default_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, TH_SCENE_MATERIALS + 1), put_material(&w, 0, "d", default_mat),
	      th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 1), put_material(&w, 0, "", default_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 1), th_wbuf_u8(&w, 0), th_wbuf_u16(&w, 3), th_wbuf_put(&w, "a\0b", 3),
	      th_wbuf_f32s(&w, default_mat, 6), th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 1), th_wbuf_u8(&w, 0), th_wbuf_u16(&w, 2), th_wbuf_put(&w, "\xc3\x28", 2),
	      th_wbuf_f32s(&w, default_mat, 6), th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 0)));
	const float nan_mat[6] = { NAN, 0, 0, 1, 0, 0 }, big_mat[6] = { 0, 0, 0, 1, 1.5f, 0 };
	CASE((put_header(&w), th_wbuf_u32(&w, 1), put_material(&w, 0, "d", nan_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), th_wbuf_u32(&w, 1), put_material(&w, 0, "d", big_mat), th_wbuf_u32(&w, 0),
	      th_wbuf_u32(&w, 0)));
	/* entities: out of order, repeated, id 0, a LOCAL component, a bit past
	 * the schema, a non-finite float, a count the bytes cannot carry */
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 2), put_entity(&w, 5, tm, ct), put_entity(&w, 3, tm, ct),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 2), put_entity(&w, 5, tm, ct), put_entity(&w, 5, tm, ct),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 1), put_entity(&w, 0, tm, ct), th_wbuf_u32(&w, 0)));
	struct th_c_velocity vel = { .linear = { 1, 2, 3 } };
	const void *cv[] = { &vel };
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 1), put_entity(&w, 4, 1u << TH_COMP_VELOCITY, cv),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 1), th_wbuf_u64(&w, 4), th_wbuf_u32(&w, 1u << 31),
	      th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 1), th_wbuf_u64(&w, 4), th_wbuf_u32(&w, tm),
	      th_wbuf_u32(&w, 0x7f800000u), /* +inf as position.x */
	      th_wbuf_put(&w, (const uint8_t[36]){ 0 }, 36), th_wbuf_u32(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, UINT32_MAX), put_entity(&w, 4, tm, ct), th_wbuf_u32(&w, 0)));
	/* a MeshRef to a mesh the encoding does not have */
	struct th_c_mesh_ref mr = { .mesh = 10 };
	const void *cm[] = { &mr };
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 1), put_entity(&w, 4, 1u << TH_COMP_MESH_REF, cm),
	      th_wbuf_u32(&w, 1), put_empty_mesh(&w, 11)));
	/* meshes: out of order, repeated, id 0, a count the bytes cannot carry */
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 2), put_empty_mesh(&w, 9),
	      put_empty_mesh(&w, 8)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 2), put_empty_mesh(&w, 9),
	      put_empty_mesh(&w, 9)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 1), put_empty_mesh(&w, 0)));
	CASE((put_header(&w), MATS0, th_wbuf_u32(&w, 0), th_wbuf_u32(&w, 1000), put_empty_mesh(&w, 9)));
	/* The same MeshRef with its mesh present: accepted. */
	th_wbuf_reset(&w);
	put_header(&w);
	MATS0;
	th_wbuf_u32(&w, 1);
	put_entity(&w, 4, 1u << TH_COMP_MESH_REF, cm);
	th_wbuf_u32(&w, 1);
	put_empty_mesh(&w, 10);
	assert_int_equal(th_scene_decode(s, w.data, w.len, &why), 0);
	assert_encoding(s, &w);
#undef CASE
#undef MATS0
	th_wbuf_fini(&w);
	th_scene_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_new_scene_holds_the_default_material_and_encodes_as_documented),
		cmocka_unit_test(refusal_names_are_stable),
		cmocka_unit_test(entity_create_derives_the_id_and_stores_the_components),
		cmocka_unit_test(entity_destroy_and_component_edits_apply_refuse_and_revert),
		cmocka_unit_test(materials_are_set_and_reverted),
		cmocka_unit_test(control_intent_and_inert_commands),
		cmocka_unit_test(mesh_create_makes_an_entity_and_a_mesh_and_reverts_to_nothing),
		cmocka_unit_test(mesh_patch_applies_all_or_nothing_and_reverts_exactly),
		cmocka_unit_test(a_full_journal_refuses_nothing_and_changes_nothing),
		cmocka_unit_test(long_mixed_histories_revert_to_the_exact_encoding_and_hash),
		cmocka_unit_test(a_mirror_of_the_notifications_tracks_apply_and_revert),
		cmocka_unit_test(the_world_hash_depends_on_content_not_on_the_path),
		cmocka_unit_test(many_entities_come_and_go_through_the_id_table),
		cmocka_unit_test(decoding_round_trips_and_replaces_the_content),
		cmocka_unit_test(encoding_appends_counts_and_reports_a_short_buffer),
		cmocka_unit_test(decoding_refuses_truncated_and_corrupted_encodings),
		cmocka_unit_test(decoding_refuses_out_of_order_duplicated_and_invalid_content),
	};
	return cmocka_run_group_tests_name("scene", tests, NULL, NULL);
}
