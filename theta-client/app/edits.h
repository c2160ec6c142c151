/* A scripted editor for tests, benchmarks and an operator's smoke check:
 * `theta-client --edits N` moves a demo entity N times. Each edit is a
 * component.write of Transform (schemas/commands.def) on entity
 * APP_EDITS_DEMO_ENTITY, carried as data so every peer applies it
 * identically. At most `window` edits are in flight (submitted, not yet
 * acknowledged or rejected), so the driver never outruns the daemon's rate
 * limit by more than a window. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct app;

#define APP_EDITS_DEMO_ENTITY 1u
#define APP_EDITS_WINDOW_DEFAULT 32u

struct app_edits {
	uint64_t target;    /* edits to make */
	uint64_t submitted; /* handed to the outbox */
	uint64_t window;
	uint64_t entity;
};

void app_edits_init(struct app_edits *e, uint64_t n, uint64_t entity, uint64_t window);
/* Queues edits while fewer than `window` are in flight; `answered` is how
 * many of this driver's edits were acknowledged or rejected so far.
 * Returns the number queued now, or a negative errno from app_submit. */
int app_edits_pump(struct app_edits *e, struct app *a, uint64_t answered);
/* The canonical payload of edit i: a component.write of a Transform value
 * (th_payload.h); its length, or -ENOBUFS when cap is too small. */
int app_edits_payload(uint64_t i, uint8_t *out, unsigned cap);
static inline bool app_edits_done(const struct app_edits *e, uint64_t answered)
{
	return e->submitted == e->target && answered >= e->target;
}
