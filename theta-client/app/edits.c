#include "app/edits.h"

#include <errno.h>
#include <string.h>

#include "app/loop.h"
#include "th_cmd.h"
#include "th_payload.h"
#include "th_schema.h"

void app_edits_init(struct app_edits *e, uint64_t n, uint64_t entity, uint64_t window)
{
	*e = (struct app_edits){ .target = n, .window = window ? window : APP_EDITS_WINDOW_DEFAULT,
				 .entity = entity ? entity : APP_EDITS_DEMO_ENTITY };
}

int app_edits_payload(uint64_t i, uint8_t *out, unsigned cap)
{
	/* The entity walks a circle of 1 m radius, one degree per edit. */
	struct th_c_transform t = { .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	float ang = (float)(i % 360) * 0.01745329252f;
	t.position[0] = __builtin_cosf(ang);
	t.position[1] = 1.0f;
	t.position[2] = __builtin_sinf(ang);
	const struct th_schema_record *rec = th_component_record(TH_COMP_TRANSFORM);
	uint8_t value[TH_SCHEMA_MAX_VALUE_SIZE];
	int n = th_schema_encode(rec, &t, value, sizeof value);
	if (n < 0)
		return n;
	struct th_pl_component_write w = {
		.component = th_component_id(TH_COMP_TRANSFORM), .value = value, .value_len = (uint16_t)n
	};
	return th_cmd_payload_encode(TH_CMD_COMPONENT_WRITE, &w, out, cap);
}

int app_edits_pump(struct app_edits *e, struct app *a, uint64_t answered)
{
	int queued = 0;
	while (e->submitted < e->target && (e->submitted <= answered || e->submitted - answered < e->window)) {
		uint8_t p[128];
		int n = app_edits_payload(e->submitted, p, sizeof(p));
		if (n < 0)
			return n;
		int r = app_submit(a, TH_CMD_COMPONENT_WRITE, e->entity, p, (uint32_t)n);
		if (r == -ENOBUFS)
			break; /* outbox full: next frame */
		if (r < 0)
			return r;
		e->submitted++;
		queued++;
	}
	return queued;
}
