/* The primitive tool: the trigger stamps the option's primitive (cube, UV
 * sphere, icosphere, cylinder, cone, torus, plane; th_op_primitive) as one
 * mesh.create, centred at the tip snapped to the nearest vertex, edge
 * midpoint or face centre within reach, else to the grid. The parameter
 * (thumbstick up/down) scales it by EDIT_PRIM_SIZE_STEP a step from
 * EDIT_PRIM_SIZE_DEFAULT. */
#include "edit/edit_int.h"

#include <math.h>
#include <stdio.h>

static const char *const prim_options[] = { "cube", "uv sphere", "icosphere", "cylinder", "cone", "torus", "plane" };
static const uint32_t prim_kinds[] = { TH_PRIM_CUBE, TH_PRIM_UVSPHERE, TH_PRIM_ICOSPHERE, TH_PRIM_CYLINDER,
				       TH_PRIM_CONE, TH_PRIM_TORUS, TH_PRIM_PLANE };
_Static_assert(sizeof prim_options / sizeof prim_options[0] == sizeof prim_kinds / sizeof prim_kinds[0],
	       "one name per kind");

/* The stamped size for parameter p, in [EDIT_PRIM_SIZE_MIN, EDIT_PRIM_SIZE_MAX]. */
static float prim_size(int p)
{
	float s = EDIT_PRIM_SIZE_DEFAULT * powf(EDIT_PRIM_SIZE_STEP, (float)p);
	return s < EDIT_PRIM_SIZE_MIN ? EDIT_PRIM_SIZE_MIN : s > EDIT_PRIM_SIZE_MAX ? EDIT_PRIM_SIZE_MAX : s;
}

/* The defaults (1 m across) scaled to size s. */
static void prim_params(unsigned option, float s, struct th_prim *pp)
{
	th_prim_defaults(pp, prim_kinds[option]);
	for (int k = 0; k < 3; k++)
		pp->size[k] *= s;
	pp->radius *= s;
	pp->radius2 *= s;
	pp->height *= s;
}

static void prim_frame(struct edit *ed, const struct edit_in *in)
{
	if (!in->act_down || !in->tracked)
		return;
	unsigned option = in->option % (sizeof prim_kinds / sizeof prim_kinds[0]);
	float s = prim_size(in->param);
	struct th_prim pp;
	prim_params(option, s, &pp);
	th_patch_clear(&ed->patch);
	const char *why = NULL;
	int r = th_op_primitive(&pp, &ed->patch, &why);
	if (r < 0) {
		edit_say(ed, "primitive: cannot make a %s of %.2f m: %s", prim_options[option], s,
			 why ? why : "out of memory");
		return;
	}
	struct th_c_transform xf = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	/* On a vertex, an edge's midpoint or a face's centre near the tip, else
	 * on the grid. */
	if (!edit_snap_feature(ed, in->sc, in->tip, xf.position)) {
		for (int k = 0; k < 3; k++)
			xf.position[k] = in->tip[k];
		edit_snap_point(ed, xf.position);
	}
	char text[EDIT_HISTORY_TEXT];
	snprintf(text, sizeof text, "stamp a %s (%.2f m) at (%.2f, %.2f, %.2f)", prim_options[option], s,
		 xf.position[0], xf.position[1], xf.position[2]);
	edit_send_create(ed, &xf, 0, text);
}

const struct edit_tool_ops edit_tool_primitive = {
	.tool = EDIT_TOOL_PRIMITIVE, .name = "primitive", .noptions = sizeof prim_options / sizeof prim_options[0],
	.options = prim_options, .frame = prim_frame,
};
