/* The null renderer (see renderer.h). */
#include <errno.h>
#include <stdlib.h>

#include "app/renderer.h"

static int null_render(struct app_renderer *r, struct sim_world *w, const struct app_view *v)
{
	struct app_null_renderer *n = (struct app_null_renderer *)r;
	uint32_t drawn = 0;
	struct sim_iter it;
	sim_iter_init(&it, w, n->drawable);
	while (sim_iter_next(&it)) {
		const uint64_t *mesh = sim_iter_field(&it, TH_COMP_MESH_REF, TH_F(mesh_ref, mesh));
		for (uint32_t i = 0; i < it.count; i++)
			drawn += mesh[i] != 0; /* mesh 0: nothing to draw */
	}
	n->last_drawn = drawn;
	n->frames++;
	return 0;
}

static void null_destroy(struct app_renderer *r) { free(r); }

static const struct app_renderer_ops null_ops = { .render = null_render, .destroy = null_destroy };

int app_null_renderer_create(struct sim_world *w, struct app_renderer **out)
{
	struct app_null_renderer *n = calloc(1, sizeof *n);
	if (!n)
		return -ENOMEM;
	int r = sim_query_create(w, &(struct sim_query_desc){
		.with = SIM_BIT(TH_COMP_MESH_REF) | SIM_BIT(TH_COMP_TRANSFORM) }, &n->drawable);
	if (r < 0) {
		free(n);
		return r;
	}
	n->base.ops = &null_ops;
	n->base.name = "null";
	*out = &n->base;
	return 0;
}
