/* Reaching with the ray (edit_reach.h, docs/input.md): the right tip moved
 * to what the aim ray hits when nothing is within the pick radius. */
#include <math.h>
#include <string.h>

#include "edit/edit_int.h"
#include "edit/edit_reach.h"

void edit_reach_init(struct edit_reach *r) { memset(r, 0, sizeof *r); }

/* The kind of element the ray and the radius look for: the tool's, but the
 * vertex tool's faces (it adds a vertex on the edge or face at the tip). */
static uint32_t reach_mode(const struct edit *ed)
{
	uint32_t mode = edit_tool_mode(ed);
	return mode != EDIT_MODE_NONE && edit_tool(ed) == EDIT_TOOL_VERTEX ? TH_SELECT_FACE : mode;
}

/* Where the tip goes for hit h: on the element, so the editor's pick at the
 * tip finds that one. false when its vertices are gone. */
static bool place(const struct th_scene *sc, const struct edit_hit *h, float tip[3])
{
	if (h->mode == TH_SELECT_VERTEX)
		return edit_vertex_world(sc, h->entity, h->element, tip);
	if (h->mode == TH_SELECT_EDGE) {
		float a[3], b[3];
		if (!edit_vertex_world(sc, h->entity, h->a, a) || !edit_vertex_world(sc, h->entity, h->b, b))
			return false;
		float t = fminf(fmaxf(h->t, EDIT_REACH_EDGE_INSET), 1.0f - EDIT_REACH_EDGE_INSET);
		for (int k = 0; k < 3; k++)
			tip[k] = a[k] + t * (b[k] - a[k]);
		return true;
	}
	memcpy(tip, h->point, 3 * sizeof *tip);
	return true;
}

static void set_tip(struct edit_reach *r, struct inp_pose *p, const float origin[3], const float tip[3])
{
	memcpy(r->origin, origin, sizeof r->origin);
	memcpy(r->tip, tip, sizeof r->tip);
	memcpy(p->position, tip, sizeof p->position);
	r->reaching = true;
}

bool edit_reach_frame(struct edit_reach *r, struct inp_state *in, const struct edit *ed, struct edit_rays *rays,
		      const struct th_scene *sc)
{
	struct inp_controller *c = &in->hand[INP_RIGHT];
	bool was = r->trig_held, held = edit_trigger_held(was, c);
	r->trig_held = held;
	r->reaching = r->holding = r->hit = false;
	const float *hand = c->pose.position;

	if (r->hold) { /* a press made while reaching: hand + offset, its release frame included */
		r->hold = held;
		if (!c->pose.valid)
			return false;
		r->holding = true;
		float tip[3];
		for (int k = 0; k < 3; k++)
			tip[k] = hand[k] + r->offset[k];
		set_tip(r, &c->pose, c->aim.valid ? c->aim.position : hand, tip);
		return true;
	}
	/* A press made at the hand stays there, its release frame included. */
	if (was || !ed || !rays || !sc || !c->pose.valid || !c->aim.valid)
		return false;
	uint32_t mode = reach_mode(ed);
	struct edit_hit h;
	if (mode == EDIT_MODE_NONE || edit_pick(sc, hand, edit_pick_radius(ed), mode, &h) == 1)
		return false;
	static const float forward[3] = { 0, 0, -1 };
	struct edit_ray ray = { .tolerance = EDIT_REACH_TOLERANCE, .mode = mode };
	memcpy(ray.origin, c->aim.position, sizeof ray.origin);
	edit_quat_rotate(c->aim.rotation, forward, ray.dir);
	float tip[3];
	if (edit_raycast(rays, sc, &ray, &h) != 1 || !place(sc, &h, tip))
		return false;
	for (int k = 0; k < 3; k++)
		r->offset[k] = tip[k] - hand[k];
	r->h = h;
	r->hit = true;
	r->hold = held; /* pressed this frame */
	set_tip(r, &c->pose, ray.origin, tip);
	return true;
}
