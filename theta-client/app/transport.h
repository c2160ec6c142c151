/* The client's link to its daemon, as the frame loop sees it. The real
 * implementation (shared-memory ring + Unix socket) lives in
 * theta-client/link/; the null transport here lets the client run alone.
 * Implementations embed struct app_transport first and set ops; the loop
 * calls the static inline wrappers. All calls come from the frame loop's
 * thread, outside stages. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "app/stats.h"
#include "sim/world.h"
#include "th_schema.h"

/* One outgoing command, already encoded by the editor (proto/ owns the
 * encoding); the transport copies what it keeps. */
struct app_command {
	uint16_t type;
	uint64_t scope; /* entity, tool or mesh element id; 0 for global commands */
	uint32_t len;
	const uint8_t *payload;
	uint64_t tag; /* the submitter's name for it (app_submit_tagged), 0: none */
};

/* What one frame publishes. */
struct app_outgoing {
	uint64_t frame;
	uint32_t tick;
	uint32_t ncommands;
	const struct app_command *commands; /* never dropped: -EAGAIN keeps them queued */
	bool has_pose;                      /* ephemeral: may be dropped or coalesced */
	struct th_c_tracked_pose pose;
};

struct app_transport;

struct app_transport_ops {
	/* Applies everything the daemon sent since the last call (deltas,
	 * snapshots, events) to the world. Called once per frame, before the
	 * stages. Returns records applied or -errno (the loop counts errors and
	 * carries on: the client survives the daemon restarting). */
	int (*drain)(struct app_transport *t, struct sim_world *w, uint64_t now_ns);
	/* Sends this frame's commands and pose. 0, or -EAGAIN when commands
	 * could not be queued (the loop offers them again next frame). */
	int (*publish)(struct app_transport *t, const struct app_outgoing *out, uint64_t now_ns);
	/* Sends frame statistics (about once a second). */
	int (*send_stats)(struct app_transport *t, const struct app_frame_stats *st, uint64_t now_ns);
	void (*destroy)(struct app_transport *t);
};

struct app_transport {
	const struct app_transport_ops *ops;
	const char *name;
	void *user_data;
};

static inline int app_transport_drain(struct app_transport *t, struct sim_world *w, uint64_t now_ns)
{
	return t->ops->drain(t, w, now_ns);
}

static inline int app_transport_publish(struct app_transport *t, const struct app_outgoing *o, uint64_t now_ns)
{
	return t->ops->publish(t, o, now_ns);
}

static inline int app_transport_send_stats(struct app_transport *t, const struct app_frame_stats *st,
					   uint64_t now_ns)
{
	return t->ops->send_stats(t, st, now_ns);
}

static inline void app_transport_destroy(struct app_transport **p)
{
	if (p && *p) {
		(*p)->ops->destroy(*p);
		*p = NULL;
	}
}

/* The null transport: receives nothing, accepts and counts everything. */
struct app_null_transport {
	struct app_transport base;
	uint64_t drains, publishes, commands, poses, stats;
	struct app_frame_stats last_stats;
	struct th_c_tracked_pose last_pose;
};

int app_null_transport_create(struct app_transport **out);
