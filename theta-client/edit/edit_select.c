/* The selection and the select tool: pick an object, faces, edges or
 * vertices at the tip (grip held: add or toggle), replicate it as the
 * Selection component of the entity, owner = the user. */
#include "edit/edit_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "th_cmd.h"

static const char *const select_options[] = { "object", "face", "edge", "vertex" };

void edit_sel_clear(struct edit *ed)
{
	if (!ed->sel.entity)
		return;
	ed->sel.entity = 0;
	ed->sel.mesh = 0;
	ed->sel.n = 0;
	ed->sel_dirty = true;
}

static int find_elem(const struct edit_selection *s, uint64_t id)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->el[i].id == id)
			return (int)i;
	return -1;
}

bool edit_sel_has(const struct edit *ed, const struct edit_hit *hit)
{
	if (ed->sel.entity != hit->entity || !ed->sel.entity)
		return false;
	if (ed->sel.mode == TH_SELECT_OBJECT)
		return true;
	return ed->sel.mode == hit->mode && find_elem(&ed->sel, hit->element) >= 0;
}

void edit_sel_take(struct edit *ed, const struct edit_hit *hit, bool add)
{
	struct edit_selection *s = &ed->sel;
	struct edit_sel_elem el = { .id = hit->element, .a = hit->a, .b = hit->b };
	if (add && s->entity == hit->entity && s->mode == hit->mode && hit->mode != TH_SELECT_OBJECT) {
		int i = find_elem(s, hit->element);
		if (i >= 0) {
			s->el[i] = s->el[--s->n];
			if (!s->n)
				edit_sel_clear(ed);
		} else if (s->n < EDIT_SELECT_MAX) {
			s->el[s->n++] = el;
		} else {
			edit_say(ed, "the selection holds at most %u elements", EDIT_SELECT_MAX);
			return;
		}
		ed->sel_dirty = true;
		return;
	}
	s->entity = hit->entity;
	s->mesh = hit->mesh;
	s->mode = hit->mode;
	s->n = hit->mode == TH_SELECT_OBJECT ? 0 : 1;
	s->el[0] = el;
	ed->sel_dirty = true;
}

static bool elem_exists(const struct th_mesh *m, uint32_t mode, const struct edit_sel_elem *e)
{
	switch (mode) {
	case TH_SELECT_FACE: return th_mesh_face_find(m, e->id) != TH_MESH_NONE;
	case TH_SELECT_VERTEX: return th_mesh_vert_find(m, e->id) != TH_MESH_NONE;
	case TH_SELECT_EDGE: {
		int32_t a = th_mesh_vert_find(m, e->a), b = th_mesh_vert_find(m, e->b);
		return a != TH_MESH_NONE && b != TH_MESH_NONE &&
		       (th_mesh_he_find(m, a, b) != TH_MESH_NONE || th_mesh_he_find(m, b, a) != TH_MESH_NONE);
	}
	}
	return true;
}

void edit_sel_validate(struct edit *ed, const struct th_scene *sc)
{
	struct edit_selection *s = &ed->sel;
	if (ed->sel_published && !th_scene_has_entity(sc, ed->sel_published))
		ed->sel_published = 0; /* gone: nothing to take back */
	if (!s->entity)
		return;
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(sc, s->entity, &t, &m) || m->id != s->mesh) {
		edit_sel_clear(ed);
		return;
	}
	unsigned before = s->n;
	for (unsigned i = 0; i < s->n;)
		if (!elem_exists(m, s->mode, &s->el[i]))
			s->el[i] = s->el[--s->n];
		else
			i++;
	if (s->n != before) {
		ed->sel_dirty = true;
		if (!s->n)
			edit_sel_clear(ed);
	}
}

unsigned edit_sel_ids(const struct edit *ed, uint64_t entity, uint32_t mode, uint64_t *out, unsigned cap)
{
	if (ed->sel.entity != entity || ed->sel.mode != mode || !entity)
		return 0;
	unsigned n = 0;
	for (unsigned i = 0; i < ed->sel.n && n < cap; i++)
		out[n++] = ed->sel.el[i].id;
	return n;
}

unsigned edit_sel_or_hit(const struct edit *ed, const struct edit_hit *hit, uint64_t *ids, uint64_t *a, uint64_t *b)
{
	unsigned n = 0;
	if (edit_sel_has(ed, hit) && ed->sel.mode == hit->mode)
		for (; n < ed->sel.n && n < EDIT_SELECT_MAX; n++) {
			if (ids)
				ids[n] = ed->sel.el[n].id;
			if (a)
				a[n] = ed->sel.el[n].a;
			if (b)
				b[n] = ed->sel.el[n].b;
		}
	if (!n) {
		if (ids)
			ids[0] = hit->element;
		if (a)
			a[0] = hit->a;
		if (b)
			b[0] = hit->b;
		n = 1;
	}
	return n;
}

static const char *mode_word(uint32_t mode, unsigned n)
{
	static const char *const one[] = { "object", "face", "edge", "vertex" }, *const many[] = { "objects", "faces",
												  "edges", "vertices" };
	return mode <= TH_SELECT_VERTEX ? (n == 1 ? one[mode] : many[mode]) : "?";
}

static void write_selection(struct edit *ed, uint64_t owner)
{
	const struct edit_selection *s = &ed->sel;
	struct th_c_selection v = { .owner = owner, .mode = s->mode,
				    .element = s->n ? s->el[s->n - 1].id : TH_SELECT_WHOLE };
	uint8_t value[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_SELECTION), &v, value, sizeof value);
	if (n < 0)
		return;
	ed->pl.cw = (struct th_pl_component_write){ .component = th_component_id(TH_COMP_SELECTION), .value = value,
						    .value_len = (uint16_t)n };
	char text[EDIT_HISTORY_TEXT], b[20];
	if (s->mode == TH_SELECT_OBJECT)
		snprintf(text, sizeof text, "select mesh %s", edit_short_id(s->mesh, b));
	else
		snprintf(text, sizeof text, "select %u %s of mesh %s", s->n, mode_word(s->mode, s->n),
			 edit_short_id(s->mesh, b));
	edit_send(ed, TH_CMD_COMPONENT_WRITE, s->entity, &ed->pl.cw, EDIT_H_STATE, 0, text);
}

void edit_sel_publish(struct edit *ed, const struct th_scene *sc)
{
	if (!ed->sel_dirty)
		return;
	uint64_t owner = edit_owner(ed);
	if (!owner) {
		/* Selection.owner is the user's key, which only the log tells: a
		 * tool.state (the tool in hand) brings it back with its entry. */
		if (!edit_hist_unsettled(&ed->hist))
			ed->tool_dirty = true;
		return;
	}
	ed->sel_dirty = false;
	uint64_t old = ed->sel_published;
	if (old && old != ed->sel.entity) {
		const struct th_c_selection *cur = th_scene_component(sc, old, TH_COMP_SELECTION);
		if (cur && cur->owner == owner) {
			ed->pl.cr = (struct th_pl_component_remove){ .component = th_component_id(TH_COMP_SELECTION) };
			char text[EDIT_HISTORY_TEXT], b[20];
			snprintf(text, sizeof text, "deselect entity %s", edit_short_id(old, b));
			edit_send(ed, TH_CMD_COMPONENT_REMOVE, old, &ed->pl.cr, EDIT_H_STATE, 0, text);
		}
		ed->sel_published = 0;
	}
	if (!ed->sel.entity)
		return;
	write_selection(ed, owner);
	ed->sel_published = ed->sel.entity;
}

unsigned edit_selections(const struct edit *ed, const struct th_scene *sc, unsigned *of_others)
{
	uint64_t me = edit_owner(ed), id;
	size_t cur = 0;
	unsigned n = 0, others = 0;
	while (sc && th_scene_next_entity(sc, &cur, &id)) {
		const struct th_c_selection *s = th_scene_component(sc, id, TH_COMP_SELECTION);
		n += s != NULL;
		others += s && s->owner != me;
	}
	if (of_others)
		*of_others = others;
	return n;
}

static uint32_t select_mode(unsigned option, int param)
{
	(void)param;
	return option; /* the options are the four TH_SELECT_* in order */
}

static void select_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	struct edit_hit hit;
	uint32_t mode = select_mode(in->option, in->param);
	int got = edit_pick_at(ed, in, edit_pick_radius(ed), mode, &hit);
	if (got > 0)
		edit_sel_take(ed, &hit, in->add);
	else if (got == 0 && !in->add)
		edit_sel_clear(ed);
}

const struct edit_tool_ops edit_tool_select = {
	.tool = EDIT_TOOL_SELECT, .name = "select", .noptions = 4, .options = select_options, .frame = select_frame,
	.mode = select_mode,
};
