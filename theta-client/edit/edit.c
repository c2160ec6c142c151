/* The editor (edit.h): the input mapping, tool switching, tool.state, the
 * command helpers every tool uses, previews, undo/redo and the answers. */
#include "edit/edit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_cmd.h"
#include "th_id.h"
#include "th_snap.h"

/* The tools, in the order right a / b cycles through them. */
static const struct edit_tool_ops *const tools[] = {
	&edit_tool_select, &edit_tool_move, &edit_tool_extrude, &edit_tool_subdivide, &edit_tool_vertex,
	&edit_tool_primitive, &edit_tool_paint, &edit_tool_delete, &edit_tool_mirror, &edit_tool_shape,
};
#define NTOOLS (sizeof tools / sizeof tools[0])

static const struct edit_tool_ops *tool_ops(uint32_t tool)
{
	for (size_t i = 0; i < NTOOLS; i++)
		if (tools[i]->tool == tool)
			return tools[i];
	return NULL;
}

const char *edit_tool_name(uint32_t tool)
{
	static const char *const names[EDIT_TOOL_MAX + 1] = {
		[EDIT_TOOL_SELECT] = "select", [EDIT_TOOL_MOVE] = "move", [EDIT_TOOL_EXTRUDE] = "extrude",
		[EDIT_TOOL_SUBDIVIDE] = "subdivide", [EDIT_TOOL_VERTEX] = "vertex", [EDIT_TOOL_PRIMITIVE] = "primitive",
		[EDIT_TOOL_PAINT] = "paint", [EDIT_TOOL_DELETE] = "delete", [EDIT_TOOL_MIRROR] = "mirror",
		[EDIT_TOOL_SHAPE] = "shape",
	};
	return tool <= EDIT_TOOL_MAX && names[tool] ? names[tool] : "?";
}

uint64_t edit_owner_of(const uint8_t key[TH_LOGREC_KEY_LEN])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | key[i];
	return v ? v : 1;
}

uint64_t edit_owner(const struct edit *ed)
{
	return ed->hist.have_key ? edit_owner_of(ed->hist.key) : 0;
}

/* ---- life cycle ----------------------------------------------------------------------- */

int edit_create(const struct edit_config *c, struct edit **out)
{
	struct edit_config cfg = c ? *c : (struct edit_config){ 0 };
	if (cfg.first_tool == 0)
		cfg.first_tool = EDIT_TOOL_SELECT;
	if (cfg.grid == 0)
		cfg.grid = TH_SNAP_GRID_DEFAULT;
	if (!tool_ops(cfg.first_tool) || !(cfg.pick_radius >= 0 && cfg.pick_radius <= EDIT_PICK_RADIUS_MAX) ||
	    !(cfg.grid < 0 || (cfg.grid >= TH_SNAP_GRID_MIN && cfg.grid <= TH_SNAP_GRID_MAX)))
		return -EINVAL;
	if (cfg.pick_radius == 0)
		cfg.pick_radius = EDIT_PICK_RADIUS_DEFAULT;
	struct edit *ed = calloc(1, sizeof *ed);
	if (!ed)
		return -ENOMEM;
	ed->cfg = cfg;
	ed->reach_scale = 1;
	ed->tool = cfg.first_tool;
	ed->pres.rotation[3] = 1;
	ed->stick_x_armed = ed->stick_y_armed = true;
	th_patch_init(&ed->patch);
	edit_preview_init(&ed->pv);
	edit_hist_init(&ed->hist);
	*out = ed;
	return 0;
}

void edit_destroy(struct edit **p)
{
	struct edit *ed = p ? *p : NULL;
	if (!ed)
		return;
	edit_preview_fini(&ed->pv);
	th_patch_fini(&ed->patch);
	free(ed);
	*p = NULL;
}

/* ---- messages and sending ---------------------------------------------------------------- */

void edit_say(struct edit *ed, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ed->msg, sizeof ed->msg, fmt, ap);
	va_end(ap);
	ed->has_msg = true;
	ed->st.refusals++;
}

const char *edit_take_message(struct edit *ed)
{
	if (!ed->has_msg)
		return NULL;
	ed->has_msg = false;
	return ed->msg;
}

const char *edit_short_id(uint64_t id, char buf[20])
{
	snprintf(buf, 20, "%08" PRIx64, id >> 32);
	return buf;
}

int edit_send(struct edit *ed, uint16_t type, uint64_t scope, const void *pl, uint8_t kind, uint64_t target,
	      const char *text)
{
	int n = th_cmd_payload_encode(type, pl, ed->buf, sizeof ed->buf);
	if (n < 0) {
		edit_say(ed, "%s: the command does not encode (%d); nothing sent", text ? text : "edit", n);
		return n;
	}
	uint64_t tag = edit_hist_add(&ed->hist, kind, target, text);
	int r = ed->cfg.sink.submit ? ed->cfg.sink.submit(ed->cfg.sink.ud, type, scope, ed->buf, (uint32_t)n, tag)
				    : -ENOTCONN;
	if (r < 0) {
		struct edit_hist_entry *e = edit_hist_find(&ed->hist, tag);
		if (e)
			e->state = EDIT_H_REJECTED;
		ed->st.send_errors++;
		edit_say(ed, "%s: could not be sent (%s); try again", text ? text : "edit",
			 r == -ENOBUFS ? "the outbox is full" : "no link");
		return r;
	}
	ed->st.commands++;
	if (type == TH_CMD_MESH_CREATE && ed->ncreates < EDIT_PENDING_CREATES)
		ed->creates[ed->ncreates++] = (struct edit_pending_create){ .tag = tag };
	return 0;
}

int edit_send_patch(struct edit *ed, uint64_t mesh, const char *text)
{
	if (!th_patch_fits(&ed->patch)) {
		edit_say(ed, "%s: this edit changes %" PRIu32 " ops; one edit carries at most %u: select fewer", text,
			 ed->patch.n, (unsigned)TH_PATCH_ENTRY_OPS);
		return -E2BIG;
	}
	ed->pl.patch.ops_count = (uint16_t)ed->patch.n;
	memcpy(ed->pl.patch.ops, ed->patch.ops, ed->patch.n * sizeof ed->patch.ops[0]);
	return edit_send(ed, TH_CMD_MESH_PATCH, mesh, &ed->pl.patch, EDIT_H_EDIT, 0, text);
}

int edit_send_create(struct edit *ed, const struct th_c_transform *xf, uint32_t material, const char *text)
{
	if (!th_patch_fits(&ed->patch)) {
		edit_say(ed, "%s: this primitive has %" PRIu32 " ops; one edit carries at most %u: use fewer segments",
			 text, ed->patch.n, (unsigned)TH_PATCH_ENTRY_OPS);
		return -E2BIG;
	}
	struct th_pl_mesh_create *c = &ed->pl.create;
	memcpy(c->transform, xf->position, 3 * sizeof(float));
	memcpy(c->transform + 3, xf->rotation, 4 * sizeof(float));
	memcpy(c->transform + 7, xf->scale, 3 * sizeof(float));
	c->material = material;
	c->ops_count = (uint16_t)ed->patch.n;
	memcpy(c->ops, ed->patch.ops, ed->patch.n * sizeof ed->patch.ops[0]);
	return edit_send(ed, TH_CMD_MESH_CREATE, 0, c, EDIT_H_EDIT, 0, text);
}

int edit_send_transform(struct edit *ed, uint64_t entity, const struct th_c_transform *xf, const char *text)
{
	uint8_t value[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(th_component_record(TH_COMP_TRANSFORM), xf, value, sizeof value);
	if (n < 0) {
		edit_say(ed, "%s: the transform is not finite; nothing sent", text);
		return n;
	}
	ed->pl.cw = (struct th_pl_component_write){ .component = th_component_id(TH_COMP_TRANSFORM), .value = value,
						    .value_len = (uint16_t)n };
	return edit_send(ed, TH_CMD_COMPONENT_WRITE, entity, &ed->pl.cw, EDIT_H_EDIT, 0, text);
}

void edit_set_reach_scale(struct edit *ed, float scale)
{
	ed->reach_scale = isfinite(scale) && scale > 0 ? scale : 1.0f;
}

float edit_pick_radius(const struct edit *ed)
{
	return fminf(ed->cfg.pick_radius * ed->reach_scale, EDIT_PICK_RADIUS_MAX);
}

bool edit_provisional(const struct edit *ed, uint64_t entity)
{
	for (unsigned i = 0; i < ed->ncreates; i++)
		if (ed->creates[i].entity == entity && entity)
			return true;
	return false;
}

int edit_pick_at(struct edit *ed, const struct edit_in *in, float radius, uint32_t mode, struct edit_hit *out)
{
	struct edit_hit h;
	if (!edit_pick(in->sc, in->tip, radius, mode, &h))
		return 0;
	if (edit_provisional(ed, h.entity)) {
		edit_say(ed, "that mesh is still on its way to the daemon (its ids are not final yet); try again in a moment");
		return -EAGAIN;
	}
	*out = h;
	return 1;
}

int edit_pick_tool(struct edit *ed, const struct edit_in *in, uint32_t mode, const char *op, struct edit_hit *hit,
		   const struct th_c_transform **t, const struct th_mesh **m)
{
	static const char *const kinds[] = { "mesh", "face", "edge", "vertex" };
	float r = edit_pick_radius(ed);
	int got = edit_pick_at(ed, in, r, mode, hit);
	if (got <= 0 || !edit_entity_mesh(in->sc, hit->entity, t, m)) {
		if (got == 0)
			edit_say(ed, "%s: no %s within %.0f cm of the controller", op, kinds[mode & 3], r * 100);
		return 0;
	}
	return 1;
}

bool edit_drag_begin(struct edit *ed, const struct edit_in *in, uint64_t entity)
{
	if (edit_preview_begin(ed, in->sc, entity) < 0)
		return false;
	struct edit_drag *d = &ed->drag;
	d->on = true;
	memcpy(d->start, in->tip, sizeof d->start);
	memcpy(d->rot0, in->rot, sizeof d->rot0);
	return true;
}

int edit_drag_mesh(const struct edit *ed, const struct th_scene *sc, const struct th_c_transform **t,
		   const struct th_mesh **m, const char **why)
{
	if (!edit_entity_mesh(sc, ed->drag.entity, t, m) || (*m)->id != ed->drag.mesh) {
		*why = "the mesh is gone";
		return -ENOENT;
	}
	return 0;
}

int edit_op_send(struct edit *ed, const char *op, int rv, const char *why, const char *big, const char *fewer,
		 uint64_t mesh, const char *text)
{
	if (rv == -E2BIG && big) {
		edit_say(ed, "%s: the %s is too large for one edit (more than %u ops): select fewer%s%s", op, big,
			 (unsigned)TH_PATCH_ENTRY_OPS, fewer ? " " : "", fewer ? fewer : "");
		return rv;
	}
	if (rv < 0) {
		edit_say(ed, "%s: %s", op, why ? why : "out of memory");
		return rv;
	}
	return edit_send_patch(ed, mesh, text);
}

/* An answered mesh.create's entity has its real id from now on. */
static void create_settled(struct edit *ed, uint64_t tag)
{
	for (unsigned i = 0; i < ed->ncreates; i++)
		if (ed->creates[i].tag == tag) {
			ed->creates[i] = ed->creates[--ed->ncreates];
			return;
		}
}

float edit_snap_length(const struct edit *ed, float d)
{
	float v[3] = { d, 0, 0 };
	const char *why;
	if (ed->cfg.grid > 0 && th_snap_grid(v, ed->cfg.grid, NULL, v, &why) == 0)
		return v[0];
	return d;
}

void edit_snap_point(const struct edit *ed, float p[3])
{
	const char *why;
	if (ed->cfg.grid > 0)
		th_snap_grid(p, ed->cfg.grid, NULL, p, &why);
}

int edit_snap_feature(const struct edit *ed, const struct th_scene *sc, const float p[3], float out[3])
{
	float r = edit_pick_radius(ed), best = r;
	bool got = false;
	size_t cur = 0;
	uint64_t id;
	while (sc && th_scene_next_entity(sc, &cur, &id)) {
		const struct th_c_transform *t;
		const struct th_mesh *m;
		if (!edit_entity_mesh(sc, id, &t, &m))
			continue;
		/* The radius in mesh units (by the largest scale: never wider than asked). */
		float s = fmaxf(fabsf(t->scale[0]), fmaxf(fabsf(t->scale[1]), fabsf(t->scale[2])));
		float l[3], w[3], d[3];
		struct th_snap_hit hit;
		const char *why;
		edit_xf_point_to_local(t, p, l);
		if (s <= 0 || th_snap_mesh(m, l, r / s, TH_SNAP_ALL, &hit, &why) != 1)
			continue;
		edit_xf_point_to_world(t, hit.pos, w);
		for (int k = 0; k < 3; k++)
			d[k] = w[k] - p[k];
		float dist = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
		if (dist <= best) {
			best = dist;
			memcpy(out, w, sizeof w);
			got = true;
		}
	}
	return got;
}

/* ---- previews ------------------------------------------------------------------------- */

int edit_preview_begin(struct edit *ed, const struct th_scene *sc, uint64_t entity)
{
	const struct th_c_transform *t;
	const struct th_mesh *m;
	if (!edit_entity_mesh(sc, entity, &t, &m))
		return -ENOENT;
	return edit_preview_start(&ed->pv, entity, m, t);
}

int edit_preview_patch(struct edit *ed)
{
	const char *why = NULL;
	ed->st.previews++;
	return edit_preview_show(&ed->pv, &ed->patch, &why);
}

void edit_preview_transform(struct edit *ed, const struct th_c_transform *xf)
{
	ed->st.previews++;
	edit_preview_move(&ed->pv, xf);
}

void edit_preview_end(struct edit *ed)
{
	edit_preview_stop(&ed->pv);
}

/* ---- tools, options, tool.state ----------------------------------------------------------- */

static void send_tool_state(struct edit *ed, uint64_t now_ns)
{
	/* Quick changes (a run of flicks) coalesce into the newest state. */
	if (ed->tool_sent && now_ns - ed->tool_sent_ns < EDIT_TOOL_STATE_MIN_NS)
		return;
	static uint8_t settings[3];
	settings[0] = EDIT_TOOL_SETTINGS_VERSION;
	settings[1] = (uint8_t)ed->option[ed->tool];
	settings[2] = (uint8_t)(int8_t)ed->param[ed->tool];
	ed->pl.tool = (struct th_pl_tool_state){ .tool = ed->tool, .settings = settings, .settings_len = sizeof settings };
	char text[64];
	snprintf(text, sizeof text, "tool %s (%s)", edit_tool_name(ed->tool), edit_option_name(ed));
	if (edit_send(ed, TH_CMD_TOOL_STATE, ed->tool, &ed->pl.tool, EDIT_H_STATE, 0, text) == 0) {
		ed->tool_dirty = false;
		ed->tool_sent = true;
		ed->tool_sent_ns = now_ns;
	}
}

static void cancel_tool(struct edit *ed)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	if (t && t->cancel)
		t->cancel(ed);
	ed->drag.on = false;
	edit_preview_end(ed);
}

int edit_set_tool(struct edit *ed, uint32_t tool)
{
	if (!tool_ops(tool))
		return -EINVAL;
	if (tool == ed->tool)
		return 0;
	cancel_tool(ed);
	ed->tool = tool;
	ed->tool_dirty = true;
	ed->st.tool_switches++;
	return 0;
}

static void step_tool(struct edit *ed, int dir)
{
	size_t i = 0;
	while (i < NTOOLS && tools[i]->tool != ed->tool)
		i++;
	i = (i + NTOOLS + (size_t)(dir > 0 ? 1 : NTOOLS - 1)) % NTOOLS;
	edit_set_tool(ed, tools[i]->tool);
}

uint32_t edit_tool(const struct edit *ed) { return ed->tool; }
unsigned edit_option(const struct edit *ed) { return ed->option[ed->tool]; }

const char *edit_option_name(const struct edit *ed)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	return t && t->noptions ? t->options[ed->option[ed->tool] % t->noptions] : "-";
}

static void step_option(struct edit *ed, int dir)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	if (!t || t->noptions < 2)
		return;
	if (ed->drag.on)
		cancel_tool(ed);
	unsigned o = ed->option[ed->tool];
	ed->option[ed->tool] = (o + (dir > 0 ? 1 : t->noptions - 1)) % t->noptions;
	ed->tool_dirty = true;
}

unsigned edit_options(const struct edit *ed)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	return t ? t->noptions : 0;
}

int edit_set_option(struct edit *ed, unsigned option)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	if (!t || option >= t->noptions)
		return -EINVAL;
	if (ed->option[ed->tool] == option)
		return 0;
	if (ed->drag.on)
		cancel_tool(ed);
	ed->option[ed->tool] = option;
	ed->tool_dirty = true;
	return 0;
}

void edit_step_option(struct edit *ed, int dir)
{
	if (dir)
		step_option(ed, dir);
}

static void step_param(struct edit *ed, int dir)
{
	int param = ed->param[ed->tool] + (dir > 0 ? 1 : -1);
	if (dir && param >= -EDIT_PARAM_MAX && param <= EDIT_PARAM_MAX) {
		ed->param[ed->tool] = param;
		ed->tool_dirty = true;
	}
}

void edit_step_param(struct edit *ed, int dir) { step_param(ed, dir); }
int edit_param(const struct edit *ed) { return ed->param[ed->tool]; }
void edit_clear_selection(struct edit *ed) { edit_sel_clear(ed); }

uint32_t edit_tool_mode(const struct edit *ed)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	return t && t->mode ? t->mode(ed->option[ed->tool], ed->param[ed->tool]) : EDIT_MODE_NONE;
}

const struct edit_hover *edit_hover(const struct edit *ed) { return &ed->hover; }

/* What a trigger press would pick now (no drag on, the tip tracked). */
static void find_hover(struct edit *ed, const struct edit_in *in)
{
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	struct edit_hover *h = &ed->hover;
	*h = (struct edit_hover){ .tracked = in->tracked, .tool = ed->tool, .mode = edit_tool_mode(ed) };
	memcpy(h->tip, in->tip, sizeof h->tip);
	if (!in->sc || !in->tracked || ed->drag.on || h->mode == EDIT_MODE_NONE)
		return;
	if (t->hover)
		h->hit = t->hover(ed, in, &h->h) == 1;
	else
		h->hit = edit_pick(in->sc, in->tip, edit_pick_radius(ed), h->mode, &h->h) == 1;
}

const struct edit_selection *edit_selection(const struct edit *ed) { return &ed->sel; }
const struct edit_preview *edit_preview(const struct edit *ed) { return &ed->pv; }
const struct edit_presence *edit_presence(const struct edit *ed) { return &ed->pres; }

static bool moved(const float *a, const float *b, unsigned n, float min)
{
	for (unsigned k = 0; k < n; k++)
		if (fabsf(a[k] - b[k]) >= min)
			return true;
	return false;
}

/* The frame's presence; the sink is told when it changed. */
static void update_presence(struct edit *ed)
{
	struct edit_presence p = { .rotation = { 0, 0, 0, 1 } };
	const struct edit_hover *h = &ed->hover;
	if (h->tracked) {
		p.flags |= EDIT_PRES_CURSOR;
		p.tool = h->tool;
		memcpy(p.cursor, h->tip, sizeof p.cursor);
	}
	if (ed->drag.on && ed->drag.whole && ed->pv.active && ed->pv.entity == ed->drag.entity) {
		p.flags |= EDIT_PRES_PREVIEW;
		p.target = ed->pv.entity;
		memcpy(p.position, ed->pv.xf.position, sizeof p.position);
		memcpy(p.rotation, ed->pv.xf.rotation, sizeof p.rotation);
	}
	const struct edit_presence *o = &ed->pres;
	bool changed = p.flags != o->flags || p.tool != o->tool || p.target != o->target ||
		       moved(p.cursor, o->cursor, 3, EDIT_PRES_MOVE_MIN) ||
		       moved(p.position, o->position, 3, EDIT_PRES_MOVE_MIN) ||
		       moved(p.rotation, o->rotation, 4, EDIT_PRES_TURN_MIN);
	if (!changed)
		return;
	ed->pres = p;
	ed->st.presences++;
	if (ed->cfg.sink.presence)
		ed->cfg.sink.presence(ed->cfg.sink.ud, &ed->pres);
}
const struct edit_history *edit_history(const struct edit *ed) { return &ed->hist; }
const struct edit_stats *edit_stats(const struct edit *ed) { return &ed->st; }

uint32_t edit_peer_tool(const struct edit *ed, uint64_t owner)
{
	for (unsigned i = 0; i < ed->npeers; i++)
		if (ed->peers[i].owner == owner)
			return ed->peers[i].tool;
	return 0;
}

/* ---- undo / redo ------------------------------------------------------------------------------ */

int edit_undo(struct edit *ed)
{
	struct edit_hist_entry *t = edit_hist_undo_target(&ed->hist);
	if (!t) {
		edit_say(ed, ed->hist.have_key ? "nothing to undo: none of your edits is logged and standing"
					       : "nothing to undo yet: the daemon has not confirmed any of your edits");
		return -ENOENT;
	}
	ed->pl.undo = (struct th_pl_edit_undo){ .lamport = t->lamport };
	memcpy(ed->pl.undo.author, ed->hist.key, sizeof ed->pl.undo.author);
	char text[EDIT_HISTORY_TEXT];
	snprintf(text, sizeof text, "undo #%" PRIu64 " (%.70s)", t->tag, t->text);
	uint64_t target = t->tag;
	int r = edit_send(ed, TH_CMD_EDIT_UNDO, 0, &ed->pl.undo, EDIT_H_UNDO, target, text);
	if (r == 0) {
		if ((t = edit_hist_find(&ed->hist, target)))
			t->undone = true;
		ed->st.undos++;
	}
	return r;
}

int edit_redo(struct edit *ed)
{
	struct edit_hist_entry *u = edit_hist_redo_target(&ed->hist);
	if (!u) {
		edit_say(ed, "nothing to redo: no undo of yours is standing");
		return -ENOENT;
	}
	struct th_pl_edit_redo *p = (struct th_pl_edit_redo *)&ed->pl.undo;
	*p = (struct th_pl_edit_redo){ .lamport = u->lamport };
	memcpy(p->author, ed->hist.key, sizeof p->author);
	char text[EDIT_HISTORY_TEXT];
	snprintf(text, sizeof text, "redo #%" PRIu64 " (%.70s)", u->target, u->text);
	uint64_t undo_tag = u->tag;
	int r = edit_send(ed, TH_CMD_EDIT_REDO, 0, p, EDIT_H_REDO, undo_tag, text);
	if (r == 0) {
		if ((u = edit_hist_find(&ed->hist, undo_tag))) {
			u->undone = true;
			struct edit_hist_entry *t = edit_hist_find(&ed->hist, u->target);
			if (t)
				t->undone = false;
		}
		ed->st.redos++;
	}
	return r;
}

/* ---- answers ----------------------------------------------------------------------------------- */

void edit_on_sent(struct edit *ed, uint64_t tag, uint64_t client_seq)
{
	edit_hist_sent(&ed->hist, tag, client_seq);
	static const uint8_t provisional_author[TH_LOGREC_KEY_LEN];
	for (unsigned i = 0; i < ed->ncreates; i++)
		if (ed->creates[i].tag == tag)
			ed->creates[i].entity = th_id_derive(TH_ID_ENTITY, provisional_author, client_seq, 0);
}

void edit_on_answer(struct edit *ed, uint64_t client_seq, bool rejected, uint64_t lamport, uint64_t seq)
{
	struct edit_hist_entry *e = edit_hist_answer(&ed->hist, client_seq, rejected, lamport, seq);
	if (e)
		create_settled(ed, e->tag);
}

void edit_on_refused(struct edit *ed, uint64_t lamport, uint64_t seq)
{
	edit_hist_refused(&ed->hist, lamport, seq);
}

void edit_on_entry(struct edit *ed, const struct th_logrec_entry *e)
{
	edit_hist_folded(&ed->hist, e->lamport, e->seq, e->author);
	if (e->type != TH_CMD_TOOL_STATE || (ed->hist.have_key && !memcmp(e->author, ed->hist.key, TH_LOGREC_KEY_LEN)))
		return;
	struct th_pl_tool_state ts;
	const char *why;
	if (th_pl_decode_tool_state(e->payload, e->payload_len, &ts, &why) < 0)
		return;
	uint64_t owner = edit_owner_of(e->author);
	unsigned i = 0;
	while (i < ed->npeers && ed->peers[i].owner != owner)
		i++;
	if (i == ed->npeers) {
		if (ed->npeers == EDIT_PEERS_MAX)
			return;
		ed->npeers++;
	}
	ed->peers[i] = (struct edit_peer){ .owner = owner, .tool = ts.tool };
}

/* ---- the frame ----------------------------------------------------------------------------------- */

/* The trigger: analog with hysteresis, or the click button. */
bool edit_trigger_held(bool was_held, const struct inp_controller *c)
{
	bool click = (c->buttons | c->pressed) & TH_BUTTON_TRIGGER;
	return was_held ? (c->trigger > EDIT_TRIGGER_UP || (c->buttons & TH_BUTTON_TRIGGER))
			: (c->trigger >= EDIT_TRIGGER_DOWN || click);
}

/* A thumbstick axis as flicks: +1 / -1 once per deflection past the flick
 * threshold, re-armed near the centre. */
static int flick(float v, bool *armed)
{
	if (*armed && fabsf(v) >= EDIT_STICK_FLICK) {
		*armed = false;
		return v > 0 ? 1 : -1;
	}
	if (!*armed && fabsf(v) <= EDIT_STICK_REARM)
		*armed = true;
	return 0;
}

int edit_frame(struct edit *ed, uint64_t now_ns, const struct inp_state *in, const struct th_scene *sc)
{
	const struct inp_controller *r = &in->hand[INP_RIGHT], *l = &in->hand[INP_LEFT];
	if (r->pressed & TH_BUTTON_A)
		step_tool(ed, 1);
	if (r->pressed & TH_BUTTON_B)
		step_tool(ed, -1);
	int fx = flick(r->thumbstick[0], &ed->stick_x_armed), fy = flick(r->thumbstick[1], &ed->stick_y_armed);
	if (fx)
		step_option(ed, fx);
	if (fy)
		step_param(ed, fy);
	if (l->pressed & TH_BUTTON_X)
		edit_undo(ed);
	if (l->pressed & TH_BUTTON_Y)
		edit_redo(ed);
	if (l->pressed & TH_BUTTON_MENU)
		edit_sel_clear(ed);

	bool held = edit_trigger_held(ed->trig_held, r);
	struct edit_in ei = { .now_ns = now_ns, .sc = sc, .tracked = r->pose.valid, .act_held = held,
			      .act_down = held && !ed->trig_held, .act_up = !held && ed->trig_held,
			      .add = r->grip >= EDIT_GRIP_HELD || (r->buttons & TH_BUTTON_GRIP),
			      .option = ed->option[ed->tool], .param = ed->param[ed->tool] };
	/* A click inside one frame (pressed, released): down now, up next frame. */
	ed->trig_held = held;
	memcpy(ei.tip, r->pose.position, sizeof ei.tip);
	memcpy(ei.rot, r->pose.rotation, sizeof ei.rot);

	if (sc)
		edit_sel_validate(ed, sc);
	const struct edit_tool_ops *t = tool_ops(ed->tool);
	if (sc && t)
		t->frame(ed, &ei);
	if (sc)
		edit_sel_publish(ed, sc);
	if (ed->tool_dirty)
		send_tool_state(ed, now_ns);
	find_hover(ed, &ei);
	update_presence(ed);
	return 0;
}
