/* The scene of a session (th_scene.h): entities with their REPLICATED
 * components, meshes and the material table, one fold step at a time, each
 * change journalled so th_scene_revert can take it back exactly.
 *
 * Storage: entities live in dense slots (id, component mask, one column per
 * REPLICATED component holding the C structs), meshes in slots of their own;
 * an open-addressing table maps each id to its slot. Slots and tables only
 * grow, so a revert (which only brings back what was there before) never
 * allocates. The canonical encoding sorts ids at encode time (radix sort)
 * and keeps each mesh's encoding until that mesh changes, so encoding a
 * scene again costs the meshes changed since, not all of them. */
#include "th_scene.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "th_array.h"
#include "th_cmd.h"
#include "th_id.h"
#include "th_utf8.h"

_Static_assert(TH_COMP_COUNT <= 32, "the component mask of the encoding is a u32");
_Static_assert(TH_SCENE_MATERIALS <= 256, "material indices are a u8 in the encoding");

#define SCENE_MAGIC "THSC"
#define SCENE_MAGIC_LEN 4u
#define SCENE_HASH_DOMAIN_LEN 16u
static const uint8_t scene_hash_domain[SCENE_HASH_DOMAIN_LEN] = "theta.world.v1\0";
#define SCENE_SLOTS_MIN 16u   /* first slot array of entities or meshes */
#define SCENE_MAP_MIN 32u     /* first id table (cells, a power of two) */
#define SCENE_ENTITY_MIN_ENC 12u /* u64 id + u32 mask */
#define SCENE_MESH_MIN_ENC 16u   /* u64 id + u32 vertices + u32 faces */
#define SCENE_SORT_SMALL 32u  /* below this, insertion sort */

/* Journal records of the scene; the mesh's are 1..TH_MESH_REC_MAX. */
enum {
	REC_ENTITY_CREATED = TH_MESH_REC_MAX + 1, /* u64 id */
	REC_ENTITY_DESTROYED, /* u64 id, u32 mask, each present component's C struct in index order */
	REC_COMPONENT_PREV,   /* u64 id, u8 component, u8 had, [the C struct it had] */
	REC_MESH_CREATED,     /* u64 mesh id */
	REC_MESH_PATCHED,     /* u64 mesh id (the mesh's own records follow it) */
	REC_MATERIAL_PREV,    /* u8 index, struct th_scene_material as it was */
};

/* ---- id -> slot table: linear probing, backward-shift deletion ------------ */

struct idmap_cell {
	uint64_t key; /* 0: empty (no id is 0) */
	uint32_t val;
};
struct idmap {
	struct idmap_cell *cells;
	uint32_t cap; /* a power of two, or 0 */
	uint32_t n;
};

static inline uint64_t id_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static int64_t idmap_find(const struct idmap *m, uint64_t key)
{
	if (!key || !m->cap)
		return -1;
	uint32_t mask = m->cap - 1;
	for (uint32_t i = (uint32_t)id_mix(key) & mask;; i = (i + 1) & mask) {
		if (m->cells[i].key == key)
			return m->cells[i].val;
		if (!m->cells[i].key)
			return -1;
	}
}

static void idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)id_mix(key) & mask;
	while (m->cells[i].key)
		i = (i + 1) & mask;
	m->cells[i].key = key;
	m->cells[i].val = val;
	m->n++;
}

/* Room for n keys at a load of at most one half. */
static int idmap_reserve(struct idmap *m, uint64_t n)
{
	if (n * 2 <= m->cap)
		return 0;
	uint64_t cap = m->cap ? m->cap : SCENE_MAP_MIN;
	while (cap < n * 2)
		cap *= 2;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	struct idmap_cell *c = calloc(cap, sizeof *c);
	if (!c)
		return -ENOMEM;
	struct idmap old = *m;
	m->cells = c;
	m->cap = (uint32_t)cap;
	m->n = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.cells[i].key)
			idmap_put(m, old.cells[i].key, old.cells[i].val);
	free(old.cells);
	return 0;
}

static void idmap_del(struct idmap *m, uint64_t key)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)id_mix(key) & mask;
	while (m->cells[i].key != key) {
		if (!m->cells[i].key)
			return;
		i = (i + 1) & mask;
	}
	/* Shift later cells of the run back over the hole when their home
	 * position does not lie cyclically in (hole, cell]. */
	uint32_t hole = i;
	for (uint32_t k = (i + 1) & mask; m->cells[k].key; k = (k + 1) & mask) {
		uint32_t home = (uint32_t)id_mix(m->cells[k].key) & mask;
		if (((k - home) & mask) >= ((k - hole) & mask)) {
			m->cells[hole] = m->cells[k];
			hole = k;
		}
	}
	m->cells[hole].key = 0;
	m->n--;
}

/* ---- content ------------------------------------------------------------- */

struct scene_entities {
	uint64_t *id;   /* per slot; 0: free */
	uint32_t *mask; /* bit i: has component i */
	uint8_t *col[TH_COMP_COUNT]; /* REPLICATED component i: cap C structs; NULL for others */
	uint32_t *free; /* stack of free slots below nslots */
	uint32_t nfree, nslots, cap, count;
	struct idmap map;
};

/* A mesh's canonical encoding, kept until the mesh changes: encoding a
 * scene re-encodes only the meshes changed since the last time. */
struct mesh_enc {
	uint8_t *p;
	size_t len, cap;
	bool valid;
};

struct scene_meshes {
	struct th_mesh **m; /* per slot; NULL: free */
	struct mesh_enc *enc; /* per slot */
	uint32_t *free;
	uint32_t nfree, nslots, cap, count;
	struct idmap map;
};

struct scene_content {
	struct scene_entities ents;
	struct scene_meshes meshes;
	struct th_scene_material mat[TH_SCENE_MATERIALS];
};

struct th_scene {
	struct scene_content c;
	th_scene_change_fn *on_change;
	void *ud;
	const struct th_schema_record *rec[TH_COMP_COUNT]; /* REPLICATED ones, else NULL */
	uint32_t rep_mask; /* bits of the REPLICATED components */
	uint32_t plain_mask; /* of those, the ones whose C struct is their encoding */
	/* Scratch of one apply, here rather than on the stack (large). */
	union th_pl_any pl;
	uint64_t new_ids[TH_PL_MESH_OPS_MAX];
	_Alignas(max_align_t) uint8_t vals[TH_PL_COMPONENTS_MAX][TH_SCHEMA_MAX_VALUE_SIZE];
	uint8_t jrec[12 + TH_COMP_COUNT * TH_SCHEMA_MAX_VALUE_SIZE];
};

static void material_default(struct th_scene_material *m)
{
	memset(m, 0, sizeof *m);
	m->defined = true;
	memcpy(m->name, "default", sizeof "default");
	m->base_color[0] = m->base_color[1] = m->base_color[2] = 0.8f;
	m->base_color[3] = 1.0f;
	m->roughness = 0.5f;
	m->metallic = 0.0f;
}

static void content_fini(struct scene_content *c)
{
	struct scene_entities *e = &c->ents;
	free(e->id);
	free(e->mask);
	free(e->free);
	for (unsigned i = 0; i < TH_COMP_COUNT; i++)
		free(e->col[i]);
	free(e->map.cells);
	struct scene_meshes *ms = &c->meshes;
	for (uint32_t i = 0; i < ms->nslots; i++) {
		if (ms->m[i]) {
			th_mesh_fini(ms->m[i]);
			free(ms->m[i]);
		}
		free(ms->enc[i].p);
	}
	free(ms->m);
	free(ms->enc);
	free(ms->free);
	free(ms->map.cells);
	memset(c, 0, sizeof *c);
}

static int grow(void *pp, size_t n, size_t size)
{
	void **p = pp;
	void *q = th_array_realloc(*p, n, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* Slots for at least `want` entities. */
static int ents_grow(const struct th_scene *s, struct scene_entities *e, uint64_t want)
{
	if (want <= e->cap)
		return 0;
	uint64_t cap = e->cap ? e->cap : SCENE_SLOTS_MIN;
	while (cap < want)
		cap *= 2;
	if (cap > TH_SCENE_ENTITIES_MAX)
		cap = TH_SCENE_ENTITIES_MAX;
	if (cap < want)
		return -ENOMEM;
	if (grow(&e->id, cap, sizeof *e->id) || grow(&e->mask, cap, sizeof *e->mask) ||
	    grow(&e->free, cap, sizeof *e->free))
		return -ENOMEM;
	for (unsigned i = 0; i < TH_COMP_COUNT; i++)
		if (s->rec[i] && grow(&e->col[i], cap, s->rec[i]->c_size))
			return -ENOMEM;
	e->cap = (uint32_t)cap;
	return 0;
}

/* Room for one more entity: a slot and a cell. */
static int ents_reserve(const struct th_scene *s, struct scene_entities *e)
{
	if (idmap_reserve(&e->map, (uint64_t)e->count + 1))
		return -ENOMEM;
	if (e->nfree || e->nslots < e->cap)
		return 0;
	return ents_grow(s, e, (uint64_t)e->nslots + 1);
}

static uint32_t ents_add(struct scene_entities *e, uint64_t id, uint32_t mask)
{
	uint32_t slot = e->nfree ? e->free[--e->nfree] : e->nslots++;
	e->id[slot] = id;
	e->mask[slot] = mask;
	idmap_put(&e->map, id, slot);
	e->count++;
	return slot;
}

static void ents_remove(struct scene_entities *e, uint32_t slot)
{
	idmap_del(&e->map, e->id[slot]);
	e->id[slot] = 0;
	e->mask[slot] = 0;
	e->free[e->nfree++] = slot;
	e->count--;
}

static int ents_find(const struct scene_entities *e, uint64_t id) { return (int)idmap_find(&e->map, id); }

static inline void *comp_at(const struct th_scene *s, const struct scene_entities *e, unsigned c, uint32_t slot)
{
	return e->col[c] + (size_t)slot * s->rec[c]->c_size;
}

static int meshes_reserve(struct scene_meshes *ms)
{
	if (idmap_reserve(&ms->map, (uint64_t)ms->count + 1))
		return -ENOMEM;
	if (ms->nfree || ms->nslots < ms->cap)
		return 0;
	uint32_t cap = ms->cap ? ms->cap * 2 : SCENE_SLOTS_MIN;
	if (cap > TH_SCENE_MESHES_MAX)
		cap = TH_SCENE_MESHES_MAX;
	if (cap <= ms->nslots)
		return -ENOMEM;
	if (grow(&ms->m, cap, sizeof *ms->m) || grow(&ms->free, cap, sizeof *ms->free) ||
	    grow(&ms->enc, cap, sizeof *ms->enc))
		return -ENOMEM;
	memset(ms->enc + ms->cap, 0, (cap - ms->cap) * sizeof *ms->enc);
	ms->cap = cap;
	return 0;
}

static uint32_t meshes_add(struct scene_meshes *ms, struct th_mesh *m)
{
	uint32_t slot = ms->nfree ? ms->free[--ms->nfree] : ms->nslots++;
	ms->m[slot] = m; /* its enc is empty: new, or cleared by meshes_destroy */
	idmap_put(&ms->map, m->id, slot);
	ms->count++;
	return slot;
}

static struct th_mesh *meshes_get(const struct scene_meshes *ms, uint64_t id)
{
	int64_t slot = idmap_find(&ms->map, id);
	return slot < 0 ? NULL : ms->m[slot];
}

static void meshes_destroy(struct scene_meshes *ms, uint64_t id)
{
	int64_t slot = idmap_find(&ms->map, id);
	if (slot < 0)
		return;
	idmap_del(&ms->map, id);
	th_mesh_fini(ms->m[slot]);
	free(ms->m[slot]);
	ms->m[slot] = NULL;
	free(ms->enc[slot].p);
	memset(&ms->enc[slot], 0, sizeof ms->enc[slot]);
	ms->free[ms->nfree++] = (uint32_t)slot;
	ms->count--;
}

/* ---- lifetime and reading -------------------------------------------------- */

/* True when a record's C struct holds exactly its canonical encoding on this
 * host: little-endian, fields packed in declaration order with no padding.
 * Encoding such a value is a copy (its floats were checked finite when they
 * entered the scene). */
static bool plain(const struct th_schema_record *r)
{
	const uint16_t one = 1;
	if (*(const uint8_t *)&one != 1 || r->c_size != r->wire_size)
		return false;
	uint32_t off = 0;
	for (uint32_t i = 0; i < r->nfields; i++) {
		if (r->fields[i].offset != off)
			return false;
		off += (uint32_t)th_ftype_size(r->fields[i].type) * r->fields[i].count;
	}
	return off == r->wire_size;
}

int th_scene_create(struct th_scene **out)
{
	struct th_scene *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (unsigned i = 0; i < TH_COMP_COUNT; i++) {
		const struct th_schema_record *r = th_component_record(i);
		if (r && r->kind == TH_KIND_REPLICATED) {
			s->rec[i] = r;
			s->rep_mask |= 1u << i;
			if (plain(r))
				s->plain_mask |= 1u << i;
		}
	}
	material_default(&s->c.mat[0]);
	*out = s;
	return 0;
}

void th_scene_destroy(struct th_scene **s)
{
	if (!s || !*s)
		return;
	content_fini(&(*s)->c);
	free(*s);
	*s = NULL;
}

void th_scene_on_change(struct th_scene *s, th_scene_change_fn *fn, void *ud)
{
	s->on_change = fn;
	s->ud = ud;
}

static inline void changed(const struct th_scene *s, enum th_scene_change kind, uint64_t id)
{
	if (s->on_change)
		s->on_change(s->ud, kind, id);
}

bool th_scene_has_entity(const struct th_scene *s, uint64_t id) { return ents_find(&s->c.ents, id) >= 0; }

const void *th_scene_component(const struct th_scene *s, uint64_t entity, unsigned comp)
{
	if (comp >= TH_COMP_COUNT || !s->rec[comp])
		return NULL;
	int slot = ents_find(&s->c.ents, entity);
	if (slot < 0 || !(s->c.ents.mask[slot] & (1u << comp)))
		return NULL;
	return comp_at(s, &s->c.ents, comp, (uint32_t)slot);
}

bool th_scene_next_entity(const struct th_scene *s, size_t *cursor, uint64_t *id)
{
	const struct scene_entities *e = &s->c.ents;
	while (*cursor < e->nslots) {
		size_t i = (*cursor)++;
		if (e->id[i]) {
			*id = e->id[i];
			return true;
		}
	}
	return false;
}

bool th_scene_next_mesh(const struct th_scene *s, size_t *cursor, const struct th_mesh **m)
{
	const struct scene_meshes *ms = &s->c.meshes;
	while (*cursor < ms->nslots) {
		size_t i = (*cursor)++;
		if (ms->m[i]) {
			*m = ms->m[i];
			return true;
		}
	}
	return false;
}

const struct th_mesh *th_scene_mesh(const struct th_scene *s, uint64_t id) { return meshes_get(&s->c.meshes, id); }

const struct th_scene_material *th_scene_material(const struct th_scene *s, unsigned index)
{
	return index < TH_SCENE_MATERIALS ? &s->c.mat[index] : NULL;
}

void th_scene_stats(const struct th_scene *s, struct th_scene_stats *out)
{
	memset(out, 0, sizeof *out);
	out->entities = s->c.ents.count;
	out->meshes = s->c.meshes.count;
	for (uint32_t i = 0; i < s->c.meshes.nslots; i++) {
		const struct th_mesh *m = s->c.meshes.m[i];
		if (!m)
			continue;
		struct th_mesh_stats ms;
		th_mesh_stats(m, &ms);
		out->vertices += ms.vertices;
		out->faces += ms.faces;
		out->edges += ms.edges;
	}
	for (unsigned i = 0; i < TH_SCENE_MATERIALS; i++)
		out->materials += s->c.mat[i].defined;
}

const char *th_refusal_name(int r)
{
	static const char *const names[TH_REFUSE_COUNT] = {
		[TH_REFUSE_NONE] = "none",
		[TH_REFUSE_MALFORMED] = "malformed",
		[TH_REFUSE_NO_ENTITY] = "no-entity",
		[TH_REFUSE_NO_COMPONENT] = "no-component",
		[TH_REFUSE_NO_MESH] = "no-mesh",
		[TH_REFUSE_EXISTS] = "exists",
		[TH_REFUSE_MESH] = "mesh",
		[TH_REFUSE_INTENT] = "intent",
		[TH_REFUSE_DENIED] = "denied",
		[TH_REFUSE_UNDO_TARGET] = "undo-target",
		[TH_REFUSE_LIMIT] = "limit",
		[TH_REFUSE_NOT_SCENE] = "not-scene",
	};
	return r >= 0 && r < TH_REFUSE_COUNT && names[r] ? names[r] : "?";
}

/* ---- apply ------------------------------------------------------------------ */

static int refuse(struct th_scene_refusal *r, enum th_refusal code, const char *why)
{
	r->code = (uint8_t)code;
	r->why = why;
	return -EINVAL;
}

static int jpush(struct th_journal *j, uint8_t kind, const void *data, size_t len)
{
	return j ? th_journal_push(j, kind, data, len) : 0;
}

static int jpush_id(struct th_journal *j, uint8_t kind, uint64_t id)
{
	uint8_t b[8];
	memcpy(b, &id, 8);
	return jpush(j, kind, b, sizeof b);
}

/* A component value that names another thing must name one that exists. */
static const char *refs_bad(const struct th_scene *s, unsigned comp, const void *value)
{
	if (comp == TH_COMP_MESH_REF && !meshes_get(&s->c.meshes, ((const struct th_c_mesh_ref *)value)->mesh))
		return "MeshRef.mesh: no mesh has this id";
	return NULL;
}

/* The REPLICATED component with this id (the payload decoder checked it). */
static int comp_index(const struct th_scene *s, uint64_t id)
{
	int c = th_component_find(id);
	return c >= 0 && s->rec[c] ? c : -1;
}

/* A component value from a payload into its C struct. The payload decoder
 * checked it (exact size, finite floats): a plain component is a copy. */
static int payload_value(const struct th_scene *s, unsigned c, const uint8_t *v, size_t len, void *out)
{
	if (!(s->plain_mask & (1u << c)))
		return th_schema_decode(s->rec[c], v, len, out);
	if (len != s->rec[c]->wire_size)
		return -EBADMSG;
	memcpy(out, v, len);
	return 0;
}

static int apply_entity_create(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
			       struct th_scene_refusal *r)
{
	const struct th_pl_entity_create *p = &s->pl.entity_create;
	struct scene_entities *ents = &s->c.ents;
	uint64_t id = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
	if (ents_find(ents, id) >= 0)
		return refuse(r, TH_REFUSE_EXISTS, "entity: an entity with the id this entry derives exists");
	if (ents->count >= TH_SCENE_ENTITIES_MAX)
		return refuse(r, TH_REFUSE_LIMIT, "entity: the scene holds the most entities it may");
	uint32_t mask = 0;
	int idx[TH_PL_COMPONENTS_MAX];
	for (unsigned i = 0; i < p->components_count; i++) {
		const struct th_pl_component_value *cv = &p->components[i];
		int c = comp_index(s, cv->component);
		if (c < 0 || payload_value(s, (unsigned)c, cv->value, cv->value_len, s->vals[i]) < 0)
			return refuse(r, TH_REFUSE_MALFORMED, "components: not a REPLICATED component value");
		const char *bad = refs_bad(s, (unsigned)c, s->vals[i]);
		if (bad)
			return refuse(r, TH_REFUSE_NO_MESH, bad);
		idx[i] = c;
		mask |= 1u << c;
	}
	int rv = ents_reserve(s, ents);
	if (rv < 0 || (rv = jpush_id(j, REC_ENTITY_CREATED, id)) < 0)
		return rv;
	uint32_t slot = ents_add(ents, id, mask);
	for (unsigned i = 0; i < p->components_count; i++)
		memcpy(comp_at(s, ents, (unsigned)idx[i], slot), s->vals[i], s->rec[idx[i]]->c_size);
	changed(s, TH_SCENE_ENTITY_CREATED, id);
	return 0;
}

/* The entity's record for a revert of its destruction, into s->jrec. */
static size_t entity_record(struct th_scene *s, uint32_t slot)
{
	const struct scene_entities *ents = &s->c.ents;
	uint8_t *p = s->jrec;
	memcpy(p, &ents->id[slot], 8);
	memcpy(p + 8, &ents->mask[slot], 4);
	size_t n = 12;
	for (unsigned c = 0; c < TH_COMP_COUNT; c++)
		if (ents->mask[slot] & (1u << c)) {
			memcpy(p + n, comp_at(s, ents, c, slot), s->rec[c]->c_size);
			n += s->rec[c]->c_size;
		}
	return n;
}

static int apply_entity_destroy(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
				struct th_scene_refusal *r)
{
	struct scene_entities *ents = &s->c.ents;
	int slot = ents_find(ents, e->scope_id);
	if (slot < 0)
		return refuse(r, TH_REFUSE_NO_ENTITY, "scope: no entity has this id");
	if (j) {
		int rv = th_journal_push(j, REC_ENTITY_DESTROYED, s->jrec, entity_record(s, (uint32_t)slot));
		if (rv < 0)
			return rv;
	}
	ents_remove(ents, (uint32_t)slot);
	changed(s, TH_SCENE_ENTITY_DESTROYED, e->scope_id);
	return 0;
}

/* Pushes the component's state before a change: had it, and its value. */
static int push_component_prev(struct th_scene *s, struct th_journal *j, uint32_t slot, unsigned c)
{
	if (!j)
		return 0;
	const struct scene_entities *ents = &s->c.ents;
	uint8_t b[10 + TH_SCHEMA_MAX_VALUE_SIZE];
	bool had = ents->mask[slot] & (1u << c);
	memcpy(b, &ents->id[slot], 8);
	b[8] = (uint8_t)c;
	b[9] = had;
	size_t n = 10;
	if (had) {
		memcpy(b + 10, comp_at(s, ents, c, slot), s->rec[c]->c_size);
		n += s->rec[c]->c_size;
	}
	return th_journal_push(j, REC_COMPONENT_PREV, b, n);
}

static int apply_component_write(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
				 struct th_scene_refusal *r)
{
	const struct th_pl_component_write *p = &s->pl.component_write;
	struct scene_entities *ents = &s->c.ents;
	int slot = ents_find(ents, e->scope_id);
	if (slot < 0)
		return refuse(r, TH_REFUSE_NO_ENTITY, "scope: no entity has this id");
	int c = comp_index(s, p->component);
	if (c < 0 || payload_value(s, (unsigned)c, p->value, p->value_len, s->vals[0]) < 0)
		return refuse(r, TH_REFUSE_MALFORMED, "value: not a REPLICATED component value");
	const char *bad = refs_bad(s, (unsigned)c, s->vals[0]);
	if (bad)
		return refuse(r, TH_REFUSE_NO_MESH, bad);
	int rv = push_component_prev(s, j, (uint32_t)slot, (unsigned)c);
	if (rv < 0)
		return rv;
	memcpy(comp_at(s, ents, (unsigned)c, (uint32_t)slot), s->vals[0], s->rec[c]->c_size);
	ents->mask[slot] |= 1u << c;
	changed(s, TH_SCENE_ENTITY_CHANGED, e->scope_id);
	return 0;
}

static int apply_component_remove(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
				  struct th_scene_refusal *r)
{
	struct scene_entities *ents = &s->c.ents;
	int slot = ents_find(ents, e->scope_id);
	if (slot < 0)
		return refuse(r, TH_REFUSE_NO_ENTITY, "scope: no entity has this id");
	int c = comp_index(s, s->pl.component_remove.component);
	if (c < 0)
		return refuse(r, TH_REFUSE_MALFORMED, "component: not a REPLICATED component");
	if (!(ents->mask[slot] & (1u << c)))
		return refuse(r, TH_REFUSE_NO_COMPONENT, "component: the entity does not have it");
	int rv = push_component_prev(s, j, (uint32_t)slot, (unsigned)c);
	if (rv < 0)
		return rv;
	ents->mask[slot] &= ~(1u << c);
	changed(s, TH_SCENE_ENTITY_CHANGED, e->scope_id);
	return 0;
}

/* Ids of the elements ops create (schemas/ids.def: index i + 1), into
 * s->new_ids; returns how many ops create one. */
static unsigned derive_new_ids(struct th_scene *s, const struct th_logrec_entry *e, const struct th_pl_mesh_op *ops,
			       unsigned n)
{
	unsigned created = 0;
	for (unsigned i = 0; i < n; i++) {
		bool creates = ops[i].op == TH_PL_MESH_OP_VERTEX_ADD || ops[i].op == TH_PL_MESH_OP_FACE_ADD;
		s->new_ids[i] = creates ? th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, i + 1) : 0;
		created += creates;
	}
	return created;
}

_Static_assert(TH_MESH_AUTHOR_LEN == TH_LOGREC_KEY_LEN, "a face's author is an entry's author key");

/* The provenance of the faces an entry creates: its author and lamport. */
static struct th_mesh_origin entry_origin(const struct th_logrec_entry *e)
{
	struct th_mesh_origin o = { .lamport = e->lamport };
	memcpy(o.author, e->author, sizeof o.author);
	return o;
}

static int apply_mesh_create(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
			     struct th_scene_refusal *r)
{
	const struct th_pl_mesh_create *p = &s->pl.mesh_create;
	struct scene_entities *ents = &s->c.ents;
	struct scene_meshes *ms = &s->c.meshes;
	uint64_t eid = th_id_derive(TH_ID_ENTITY, e->author, e->seq, 0);
	uint64_t mid = th_id_derive(TH_ID_MESH_ELEMENT, e->author, e->seq, 0);
	if (ents_find(ents, eid) >= 0)
		return refuse(r, TH_REFUSE_EXISTS, "entity: an entity with the id this entry derives exists");
	if (meshes_get(ms, mid))
		return refuse(r, TH_REFUSE_EXISTS, "mesh: a mesh with the id this entry derives exists");
	if (ents->count >= TH_SCENE_ENTITIES_MAX)
		return refuse(r, TH_REFUSE_LIMIT, "entity: the scene holds the most entities it may");
	if (ms->count >= TH_SCENE_MESHES_MAX)
		return refuse(r, TH_REFUSE_LIMIT, "mesh: the scene holds the most meshes it may");
	if (derive_new_ids(s, e, p->ops, p->ops_count) > TH_MESH_ELEMENTS_MAX)
		return refuse(r, TH_REFUSE_LIMIT, "ops: the mesh would hold more elements than a mesh may");
	int rv = ents_reserve(s, ents);
	if (rv < 0 || (rv = meshes_reserve(ms)) < 0)
		return rv;
	struct th_mesh *m = malloc(sizeof *m);
	if (!m)
		return -ENOMEM;
	if ((rv = th_mesh_init(m, mid)) < 0) {
		free(m);
		return rv;
	}
	/* No mesh records: reverting the creation destroys the whole mesh. */
	const char *why = NULL;
	struct th_mesh_origin origin = entry_origin(e);
	rv = th_mesh_apply_origin(m, p->ops, p->ops_count, s->new_ids, &origin, NULL, &why);
	if (rv == 0 && (rv = jpush_id(j, REC_MESH_CREATED, mid)) == 0)
		rv = jpush_id(j, REC_ENTITY_CREATED, eid);
	if (rv < 0) {
		th_mesh_fini(m);
		free(m);
		return rv == -EINVAL ? refuse(r, TH_REFUSE_MESH, why ? why : "ops: the mesh would be invalid") : rv;
	}
	meshes_add(ms, m);
	changed(s, TH_SCENE_MESH_CREATED, mid);
	uint32_t slot = ents_add(ents, eid, (1u << TH_COMP_TRANSFORM) | (1u << TH_COMP_MESH_REF));
	struct th_c_transform *t = comp_at(s, ents, TH_COMP_TRANSFORM, slot);
	memcpy(t->position, p->transform, sizeof t->position);
	memcpy(t->rotation, p->transform + 3, sizeof t->rotation);
	memcpy(t->scale, p->transform + 7, sizeof t->scale);
	struct th_c_mesh_ref *mr = comp_at(s, ents, TH_COMP_MESH_REF, slot);
	memset(mr, 0, sizeof *mr);
	mr->mesh = mid;
	mr->material = p->material;
	changed(s, TH_SCENE_ENTITY_CREATED, eid);
	return 0;
}

static int apply_mesh_patch(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
			    struct th_scene_refusal *r)
{
	const struct th_pl_mesh_patch *p = &s->pl.mesh_patch;
	int64_t slot = idmap_find(&s->c.meshes.map, e->scope_id);
	if (slot < 0)
		return refuse(r, TH_REFUSE_NO_MESH, "scope: no mesh has this id");
	struct th_mesh *m = s->c.meshes.m[slot];
	uint64_t created = derive_new_ids(s, e, p->ops, p->ops_count);
	if ((uint64_t)m->live_verts + m->live_faces + created > TH_MESH_ELEMENTS_MAX)
		return refuse(r, TH_REFUSE_LIMIT, "ops: the mesh would hold more elements than a mesh may");
	int rv = jpush_id(j, REC_MESH_PATCHED, m->id);
	if (rv < 0)
		return rv;
	const char *why = NULL;
	struct th_mesh_origin origin = entry_origin(e);
	rv = th_mesh_apply_origin(m, p->ops, p->ops_count, s->new_ids, &origin, j, &why);
	if (rv == -EINVAL)
		return refuse(r, TH_REFUSE_MESH, why ? why : "ops: the patch does not fit the mesh");
	if (rv < 0)
		return rv;
	s->c.meshes.enc[slot].valid = false;
	changed(s, TH_SCENE_MESH_CHANGED, m->id);
	return 0;
}

static int apply_material_set(struct th_scene *s, struct th_journal *j)
{
	const struct th_pl_material_set *p = &s->pl.material_set;
	struct th_scene_material *m = &s->c.mat[p->index];
	if (j) {
		uint8_t b[1 + sizeof *m];
		b[0] = p->index;
		memcpy(b + 1, m, sizeof *m);
		int rv = th_journal_push(j, REC_MATERIAL_PREV, b, sizeof b);
		if (rv < 0)
			return rv;
	}
	memset(m, 0, sizeof *m);
	m->defined = true;
	_Static_assert(sizeof m->name == sizeof p->name, "material names have one limit");
	memcpy(m->name, p->name, sizeof m->name);
	memcpy(m->base_color, p->base_color, sizeof m->base_color);
	m->roughness = p->roughness_metallic[0];
	m->metallic = p->roughness_metallic[1];
	changed(s, TH_SCENE_MATERIAL_CHANGED, p->index);
	return 0;
}

int th_scene_apply(struct th_scene *s, const struct th_logrec_entry *e, struct th_journal *j,
		   struct th_scene_refusal *r)
{
	struct th_scene_refusal none;
	if (!r)
		r = &none;
	r->code = TH_REFUSE_NONE;
	r->why = NULL;
	switch (e->type) {
	case TH_CMD_EDIT_UNDO:
	case TH_CMD_EDIT_REDO:
	case TH_CMD_SESSION_ROLE_SET:
		return refuse(r, TH_REFUSE_NOT_SCENE, "type: a control entry, folded by th_fold, not the scene");
	}
	const char *why = NULL;
	if (th_cmd_payload_decode(e->type, e->payload, e->payload_len, &s->pl, &why) < 0)
		return refuse(r, TH_REFUSE_MALFORMED, why ? why : "payload: does not decode");
	size_t mark = j ? th_journal_mark(j) : 0;
	int rv;
	switch (e->type) {
	case TH_CMD_ENTITY_CREATE: rv = apply_entity_create(s, e, j, r); break;
	case TH_CMD_ENTITY_DESTROY: rv = apply_entity_destroy(s, e, j, r); break;
	case TH_CMD_COMPONENT_WRITE: rv = apply_component_write(s, e, j, r); break;
	case TH_CMD_COMPONENT_REMOVE: rv = apply_component_remove(s, e, j, r); break;
	case TH_CMD_MESH_CREATE: rv = apply_mesh_create(s, e, j, r); break;
	case TH_CMD_MESH_PATCH: rv = apply_mesh_patch(s, e, j, r); break;
	case TH_CMD_MATERIAL_SET: rv = apply_material_set(s, j); break;
	case TH_CMD_MESH_TRANSFORM:
		rv = refuse(r, TH_REFUSE_INTENT, "type: mesh.transform carries a matrix (an intent), not its results");
		break;
	case TH_CMD_TOOL_STATE:
	case TH_CMD_ANNOTATION_ADD:
	case TH_CMD_SESSION_RENAME:
		rv = 0; /* nothing in the scene */
		break;
	default:
		rv = refuse(r, TH_REFUSE_MALFORMED, "type: the scene has no rule for this command");
		break;
	}
	if (rv < 0 && j)
		th_journal_truncate(j, mark);
	return rv;
}

/* ---- revert ----------------------------------------------------------------- */

static void revert_scene_record(struct th_scene *s, uint8_t kind, const uint8_t *d, size_t len)
{
	struct scene_entities *ents = &s->c.ents;
	uint64_t id = 0;
	if (len >= 8)
		memcpy(&id, d, 8);
	switch (kind) {
	case REC_ENTITY_CREATED: {
		int slot = ents_find(ents, id);
		if (slot >= 0) {
			ents_remove(ents, (uint32_t)slot);
			changed(s, TH_SCENE_ENTITY_DESTROYED, id);
		}
		break;
	}
	case REC_ENTITY_DESTROYED: {
		uint32_t mask;
		if (len < 12 || ents_find(ents, id) >= 0 || ents_reserve(s, ents) < 0)
			break;
		memcpy(&mask, d + 8, 4);
		uint32_t slot = ents_add(ents, id, mask & s->rep_mask);
		size_t off = 12;
		for (unsigned c = 0; c < TH_COMP_COUNT; c++)
			if ((mask & s->rep_mask & (1u << c)) && off + s->rec[c]->c_size <= len) {
				memcpy(comp_at(s, ents, c, slot), d + off, s->rec[c]->c_size);
				off += s->rec[c]->c_size;
			}
		changed(s, TH_SCENE_ENTITY_CREATED, id);
		break;
	}
	case REC_COMPONENT_PREV: {
		int slot = ents_find(ents, id);
		if (len < 10 || slot < 0 || d[8] >= TH_COMP_COUNT || !s->rec[d[8]])
			break;
		unsigned c = d[8];
		if (d[9] && len >= 10 + s->rec[c]->c_size) {
			memcpy(comp_at(s, ents, c, (uint32_t)slot), d + 10, s->rec[c]->c_size);
			ents->mask[slot] |= 1u << c;
		} else {
			ents->mask[slot] &= ~(1u << c);
		}
		changed(s, TH_SCENE_ENTITY_CHANGED, id);
		break;
	}
	case REC_MESH_CREATED:
		meshes_destroy(&s->c.meshes, id);
		changed(s, TH_SCENE_MESH_DESTROYED, id);
		break;
	case REC_MESH_PATCHED:
		changed(s, TH_SCENE_MESH_CHANGED, id);
		break;
	case REC_MATERIAL_PREV:
		if (len == 1 + sizeof(struct th_scene_material)) { /* d[0] < TH_SCENE_MATERIALS: a u8 */
			memcpy(&s->c.mat[d[0]], d + 1, sizeof(struct th_scene_material));
			changed(s, TH_SCENE_MATERIAL_CHANGED, d[0]);
		}
		break;
	}
}

void th_scene_revert(struct th_scene *s, struct th_journal *j, size_t mark)
{
	uint8_t kind;
	const uint8_t *d;
	size_t len;
	struct scene_meshes *ms = &s->c.meshes;
	int64_t last = -1; /* the slot of the previous mesh record's mesh */
	while (th_journal_pop(j, mark, &kind, &d, &len) == 1) {
		if (kind >= 1 && kind <= TH_MESH_REC_MAX) {
			uint64_t mid = th_mesh_record_mesh(d, len);
			if (last < 0 || ms->m[last]->id != mid)
				last = idmap_find(&ms->map, mid);
			if (last >= 0) {
				(void)th_mesh_undo_record(ms->m[last], kind, d, len);
				ms->enc[last].valid = false;
			}
			continue;
		}
		if (kind == REC_MESH_CREATED)
			last = -1;
		revert_scene_record(s, kind, d, len);
	}
}

/* ---- canonical encoding ------------------------------------------------------- */

struct sort_item {
	uint64_t key;
	uint32_t slot;
};

/* Sorts a[0..n) by key ascending (keys distinct); tmp has room for n. LSD
 * radix over 11-bit digits, skipping digits every key shares. */
#define SORT_BITS 11u
#define SORT_BUCKETS (1u << SORT_BITS)
#define SORT_PASSES ((64u + SORT_BITS - 1) / SORT_BITS)
static struct sort_item *sort_items(struct sort_item *a, struct sort_item *tmp, size_t n)
{
	if (n < SCENE_SORT_SMALL) {
		for (size_t i = 1; i < n; i++) {
			struct sort_item x = a[i];
			size_t k = i;
			for (; k > 0 && a[k - 1].key > x.key; k--)
				a[k] = a[k - 1];
			a[k] = x;
		}
		return a;
	}
	static _Thread_local uint32_t count[SORT_PASSES][SORT_BUCKETS];
	memset(count, 0, sizeof count);
	for (size_t i = 0; i < n; i++)
		for (unsigned p = 0; p < SORT_PASSES; p++)
			count[p][(a[i].key >> (p * SORT_BITS)) & (SORT_BUCKETS - 1)]++;
	for (unsigned p = 0; p < SORT_PASSES; p++) {
		uint32_t *c = count[p];
		if (c[(a[0].key >> (p * SORT_BITS)) & (SORT_BUCKETS - 1)] == n)
			continue;
		uint32_t sum = 0;
		for (unsigned b = 0; b < SORT_BUCKETS; b++) {
			uint32_t v = c[b];
			c[b] = sum;
			sum += v;
		}
		for (size_t i = 0; i < n; i++)
			tmp[c[(a[i].key >> (p * SORT_BITS)) & (SORT_BUCKETS - 1)]++] = a[i];
		struct sort_item *x = a;
		a = tmp;
		tmp = x;
	}
	return a;
}

static int encode_entities(const struct th_scene *s, struct th_wbuf *w)
{
	const struct scene_entities *ents = &s->c.ents;
	th_wbuf_u32(w, ents->count);
	if (!ents->count)
		return th_wbuf_error(w);
	struct sort_item *a = malloc(2 * (size_t)ents->count * sizeof *a);
	if (!a)
		return -ENOMEM;
	size_t n = 0, bytes = 0;
	for (uint32_t i = 0; i < ents->nslots; i++) {
		if (!ents->id[i])
			continue;
		a[n].key = ents->id[i];
		a[n++].slot = i;
		bytes += SCENE_ENTITY_MIN_ENC;
		for (uint32_t m = ents->mask[i]; m; m &= m - 1)
			bytes += s->rec[__builtin_ctz(m)]->wire_size;
	}
	struct sort_item *sorted = sort_items(a, a + n, n);
	uint8_t *p = th_wbuf_extend(w, bytes);
	int rv = th_wbuf_error(w);
	if (p) {
		for (size_t k = 0; k < n && rv == 0; k++) {
			uint32_t slot = sorted[k].slot;
			th_put_le64(p, sorted[k].key);
			th_put_le32(p + 8, ents->mask[slot]);
			p += SCENE_ENTITY_MIN_ENC;
			for (uint32_t m = ents->mask[slot]; m; m &= m - 1) {
				unsigned c = (unsigned)__builtin_ctz(m);
				const void *v = comp_at(s, ents, c, slot);
				int k2 = (s->plain_mask & (1u << c)) ? (memcpy(p, v, s->rec[c]->wire_size), (int)s->rec[c]->wire_size)
								      : th_schema_encode(s->rec[c], v, p, s->rec[c]->wire_size);
				if (k2 < 0)
					rv = k2;
				else
					p += k2;
			}
		}
	}
	free(a);
	return rv;
}

/* The mesh in slot's canonical encoding, from the cache or encoded into it
 * (a buffer of exactly its size). The cache is not the scene's content:
 * filling it while encoding a const scene changes nothing a reader sees. */
static const struct mesh_enc *mesh_encoding(const struct scene_meshes *ms, uint32_t slot, int *rv)
{
	struct mesh_enc *c = (struct mesh_enc *)&ms->enc[slot];
	if (c->valid)
		return c;
	size_t want;
	if ((*rv = th_mesh_encoded_size(ms->m[slot], &want)) < 0)
		return NULL;
	if (c->cap < want) {
		uint8_t *p = realloc(c->p, want);
		if (!p) {
			*rv = -ENOMEM;
			return NULL;
		}
		c->p = p;
		c->cap = want;
	}
	struct th_wbuf b;
	th_wbuf_init_fixed(&b, c->p, want);
	*rv = th_mesh_encode(ms->m[slot], &b);
	c->len = b.len;
	c->valid = *rv == 0;
	return *rv ? NULL : c;
}

/* Every mesh's encoding, ascending id, into *out (malloc'd; NULL when there
 * is no mesh), and their total size. */
static int mesh_pieces(const struct scene_meshes *ms, const struct mesh_enc ***out, size_t *total)
{
	*out = NULL;
	*total = 0;
	if (!ms->count)
		return 0;
	struct sort_item *a = malloc(2 * (size_t)ms->count * sizeof *a);
	const struct mesh_enc **v = malloc((size_t)ms->count * sizeof *v);
	if (!a || !v) {
		free(a);
		free(v);
		return -ENOMEM;
	}
	size_t n = 0;
	for (uint32_t i = 0; i < ms->nslots; i++)
		if (ms->m[i]) {
			a[n].key = ms->m[i]->id;
			a[n++].slot = i;
		}
	struct sort_item *sorted = sort_items(a, a + n, n);
	int rv = 0;
	for (size_t k = 0; k < n && rv == 0; k++)
		if ((v[k] = mesh_encoding(ms, sorted[k].slot, &rv)))
			*total += v[k]->len;
	free(a);
	if (rv < 0) {
		free(v);
		return rv;
	}
	*out = v;
	return 0;
}

/* Everything before the first mesh: header, materials, entities, mesh count. */
static int encode_head(const struct th_scene *s, struct th_wbuf *w)
{
	th_wbuf_put(w, SCENE_MAGIC, SCENE_MAGIC_LEN);
	th_wbuf_u32(w, TH_SCENE_ENCODING_VERSION);
	uint32_t nmat = 0;
	for (unsigned i = 0; i < TH_SCENE_MATERIALS; i++)
		nmat += s->c.mat[i].defined;
	th_wbuf_u32(w, nmat);
	for (unsigned i = 0; i < TH_SCENE_MATERIALS; i++) {
		const struct th_scene_material *m = &s->c.mat[i];
		if (!m->defined)
			continue;
		th_wbuf_u8(w, (uint8_t)i);
		th_wbuf_str16(w, m->name);
		th_wbuf_f32s(w, m->base_color, 4);
		th_wbuf_f32s(w, &m->roughness, 1);
		th_wbuf_f32s(w, &m->metallic, 1);
	}
	int rv = encode_entities(s, w);
	th_wbuf_u32(w, s->c.meshes.count);
	return rv ? rv : th_wbuf_error(w);
}

int th_scene_encode(const struct th_scene *s, struct th_wbuf *w)
{
	const struct mesh_enc **v;
	size_t total;
	int rv = encode_head(s, w);
	if (rv < 0 || (rv = mesh_pieces(&s->c.meshes, &v, &total)) < 0)
		return rv;
	uint8_t *p = th_wbuf_extend(w, total);
	for (uint32_t k = 0; p && k < s->c.meshes.count; k++) {
		memcpy(p, v[k]->p, v[k]->len);
		p += v[k]->len;
	}
	free(v);
	return th_wbuf_error(w);
}

int th_scene_hash(const struct th_scene *s, uint8_t out[TH_SCENE_HASH_LEN])
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, TH_SCENE_HASH_LEN);
	crypto_generichash_update(&st, scene_hash_domain, sizeof scene_hash_domain);
	int rv = encode_head(s, &w);
	const struct mesh_enc **v;
	size_t total;
	if (rv == 0 && (rv = mesh_pieces(&s->c.meshes, &v, &total)) == 0) {
		crypto_generichash_update(&st, w.data, w.len);
		for (uint32_t k = 0; k < s->c.meshes.count; k++)
			crypto_generichash_update(&st, v[k]->p, v[k]->len);
		free(v);
		crypto_generichash_final(&st, out, TH_SCENE_HASH_LEN);
	}
	th_wbuf_fini(&w);
	return rv;
}

/* ---- decoding ------------------------------------------------------------------- */

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EBADMSG;
}

static bool unit(float v) { return v >= 0 && v <= 1; }

static int decode_materials(struct scene_content *c, struct th_rbuf *r, const char **why)
{
	uint32_t n;
	if (th_rbuf_u32(r, &n) < 0)
		return bad(why, "materials: truncated");
	if (n > TH_SCENE_MATERIALS)
		return bad(why, "materials: more than the table holds");
	int prev = -1;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t idx;
		uint16_t nlen;
		const uint8_t *name;
		float f[6];
		if (th_rbuf_u8(r, &idx) < 0 || th_rbuf_u16(r, &nlen) < 0 || th_rbuf_view(r, &name, nlen) < 0 ||
		    th_rbuf_f32s(r, f, 6) < 0)
			return bad(why, "materials: truncated");
		if ((int)idx <= prev)
			return bad(why, "materials: indices out of order or repeated");
		if (nlen < 1 || nlen > TH_PL_MATERIAL_NAME_MAX || memchr(name, 0, nlen) || !th_utf8_valid(name, nlen))
			return bad(why, "materials: a name is empty, too long or not UTF-8");
		for (unsigned k = 0; k < 6; k++)
			if (!th_f32s_finite(&f[k], 1) || !unit(f[k]))
				return bad(why, "materials: a colour or factor is not a finite value in [0, 1]");
		prev = idx;
		struct th_scene_material *m = &c->mat[idx];
		m->defined = true;
		memcpy(m->name, name, nlen);
		memcpy(m->base_color, f, sizeof m->base_color);
		m->roughness = f[4];
		m->metallic = f[5];
	}
	if (!c->mat[0].defined)
		return bad(why, "materials: the default material (index 0) is missing");
	return 0;
}

static int decode_entities(const struct th_scene *s, struct scene_content *c, struct th_rbuf *r, const char **why)
{
	struct scene_entities *e = &c->ents;
	uint32_t n;
	if (th_rbuf_u32(r, &n) < 0)
		return bad(why, "entities: truncated");
	if (n > TH_SCENE_ENTITIES_MAX || n > th_rbuf_left(r) / SCENE_ENTITY_MIN_ENC)
		return bad(why, "entities: more than the scene may hold or the bytes can carry");
	if (ents_grow(s, e, n) < 0 || idmap_reserve(&e->map, n) < 0)
		return -ENOMEM;
	uint64_t prev = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t id;
		uint32_t mask;
		if (th_rbuf_u64(r, &id) < 0 || th_rbuf_u32(r, &mask) < 0)
			return bad(why, "entities: truncated");
		if (id <= prev)
			return bad(why, "entities: ids out of order, repeated or 0");
		if (mask & ~s->rep_mask)
			return bad(why, "entities: the mask names a component that is not REPLICATED");
		prev = id;
		uint32_t slot = ents_add(e, id, mask);
		for (uint32_t m = mask; m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctz(m);
			const uint8_t *v;
			if (th_rbuf_view(r, &v, s->rec[k]->wire_size) < 0)
				return bad(why, "entities: truncated");
			if (th_schema_decode(s->rec[k], v, s->rec[k]->wire_size, comp_at(s, e, k, slot)) < 0)
				return bad(why, "entities: a component value holds a non-finite float");
		}
	}
	return 0;
}

static int decode_meshes(struct scene_content *c, struct th_rbuf *r, const char **why)
{
	struct scene_meshes *ms = &c->meshes;
	uint32_t n;
	if (th_rbuf_u32(r, &n) < 0)
		return bad(why, "meshes: truncated");
	if (n > TH_SCENE_MESHES_MAX || n > th_rbuf_left(r) / SCENE_MESH_MIN_ENC)
		return bad(why, "meshes: more than the scene may hold or the bytes can carry");
	uint64_t prev = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (meshes_reserve(ms) < 0)
			return -ENOMEM;
		struct th_mesh *m = malloc(sizeof *m);
		if (!m)
			return -ENOMEM;
		size_t used = 0;
		const char *mwhy = NULL;
		int rv = th_mesh_decode(m, r->p + r->off, th_rbuf_left(r), &used, &mwhy);
		if (rv < 0) {
			free(m);
			return rv == -EBADMSG ? bad(why, mwhy ? mwhy : "meshes: a mesh does not decode") : rv;
		}
		if (m->id <= prev) {
			th_mesh_fini(m);
			free(m);
			return bad(why, "meshes: ids out of order, repeated or 0");
		}
		prev = m->id;
		uint32_t slot = meshes_add(ms, m);
		/* The input is this mesh's canonical encoding (th_mesh_decode
		 * accepts nothing else): keep it as the cache, if memory allows. */
		struct mesh_enc *ce = &ms->enc[slot];
		ce->p = malloc(used);
		if (ce->p) {
			memcpy(ce->p, r->p + r->off, used);
			ce->len = ce->cap = used;
			ce->valid = true;
		}
		r->off += used;
	}
	return 0;
}

static int decode_content(const struct th_scene *s, struct scene_content *c, const uint8_t *p, size_t len,
			  const char **why)
{
	struct th_rbuf r;
	th_rbuf_init(&r, p, len);
	uint8_t magic[SCENE_MAGIC_LEN];
	uint32_t version;
	if (th_rbuf_bytes(&r, magic, sizeof magic) < 0 || memcmp(magic, SCENE_MAGIC, SCENE_MAGIC_LEN) != 0)
		return bad(why, "magic: not a scene encoding");
	if (th_rbuf_u32(&r, &version) < 0 || version != TH_SCENE_ENCODING_VERSION)
		return bad(why, "version: not a scene encoding version this build reads");
	int rv = decode_materials(c, &r, why);
	if (rv == 0)
		rv = decode_entities(s, c, &r, why);
	if (rv == 0)
		rv = decode_meshes(c, &r, why);
	if (rv < 0)
		return rv;
	if (th_rbuf_left(&r))
		return bad(why, "trailing bytes after the scene");
	const struct scene_entities *e = &c->ents;
	if (s->rec[TH_COMP_MESH_REF])
		for (uint32_t i = 0; i < e->nslots; i++)
			if ((e->mask[i] & (1u << TH_COMP_MESH_REF)) &&
			    !meshes_get(&c->meshes, ((const struct th_c_mesh_ref *)comp_at(s, e, TH_COMP_MESH_REF, i))->mesh))
				return bad(why, "entities: a MeshRef names a mesh the scene lacks");
	return 0;
}

int th_scene_decode(struct th_scene *s, const uint8_t *p, size_t len, const char **why)
{
	struct scene_content c;
	memset(&c, 0, sizeof c);
	int rv = decode_content(s, &c, p, len, why);
	if (rv < 0) {
		content_fini(&c);
		return rv;
	}
	content_fini(&s->c);
	s->c = c;
	return 0;
}
