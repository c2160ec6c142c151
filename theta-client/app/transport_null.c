/* The null transport (see transport.h). */
#include <errno.h>
#include <stdlib.h>

#include "app/transport.h"

static int null_drain(struct app_transport *t, struct sim_world *w, uint64_t now_ns)
{
	((struct app_null_transport *)t)->drains++;
	return 0;
}

static int null_publish(struct app_transport *t, const struct app_outgoing *o, uint64_t now_ns)
{
	struct app_null_transport *n = (struct app_null_transport *)t;
	n->publishes++;
	n->commands += o->ncommands;
	if (o->has_pose) {
		n->poses++;
		n->last_pose = o->pose;
	}
	return 0;
}

static int null_send_stats(struct app_transport *t, const struct app_frame_stats *st, uint64_t now_ns)
{
	struct app_null_transport *n = (struct app_null_transport *)t;
	n->stats++;
	n->last_stats = *st;
	return 0;
}

static void null_destroy(struct app_transport *t) { free(t); }

static const struct app_transport_ops null_ops = {
	.drain = null_drain,
	.publish = null_publish,
	.send_stats = null_send_stats,
	.destroy = null_destroy,
};

int app_null_transport_create(struct app_transport **out)
{
	struct app_null_transport *n = calloc(1, sizeof *n);
	if (!n)
		return -ENOMEM;
	n->base.ops = &null_ops;
	n->base.name = "null";
	*out = &n->base;
	return 0;
}
