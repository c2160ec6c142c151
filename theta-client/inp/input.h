/* Input sources: the headset runtime (OpenXR), the desktop (GLFW) and the
 * scripted source for deterministic tests all fill the same struct
 * inp_state once per frame. Implementations embed struct inp_source first
 * and set its ops; callers use the static inline wrappers. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum inp_hand { INP_LEFT = 0, INP_RIGHT = 1, INP_HANDS = 2 };

struct inp_pose {
	float position[3]; /* metres, stage space */
	float rotation[4]; /* unit quaternion (x, y, z, w) */
	bool valid;        /* tracked this frame */
};

struct inp_controller {
	struct inp_pose pose;
	uint32_t buttons;  /* TH_BUTTON_* held now */
	uint32_t pressed;  /* went down since the previous poll */
	uint32_t released; /* went up since the previous poll */
	float trigger;     /* [0, 1] */
	float grip;        /* [0, 1] */
	float thumbstick[2]; /* [-1, 1] */
};

struct inp_state {
	struct inp_pose head;
	struct inp_controller hand[INP_HANDS];
	bool quit;       /* the source asks the client to stop */
	uint64_t events; /* input events consumed so far */
};

/* Identity pose, no buttons, nothing valid. */
void inp_state_init(struct inp_state *s);

struct inp_source;

struct inp_source_ops {
	/* Brings *state up to time_ns (the frame's simulation time; sources
	 * backed by a device use their own clock and may ignore it). Clears
	 * pressed/released first. Returns events applied (>= 0) or -errno. */
	int (*poll)(struct inp_source *src, uint64_t time_ns, struct inp_state *state);
	/* Optional: vibrate a controller; -EOPNOTSUPP when NULL. */
	int (*haptic)(struct inp_source *src, enum inp_hand hand, float amplitude, uint64_t duration_ns);
	void (*destroy)(struct inp_source *src);
};

struct inp_source {
	const struct inp_source_ops *ops;
	const char *name;
	void *user_data;
};

static inline int inp_poll(struct inp_source *s, uint64_t time_ns, struct inp_state *state)
{
	return s->ops->poll(s, time_ns, state);
}

static inline int inp_haptic(struct inp_source *s, enum inp_hand hand, float amplitude, uint64_t duration_ns)
{
	return s->ops->haptic ? s->ops->haptic(s, hand, amplitude, duration_ns) : -EOPNOTSUPP;
}

static inline void inp_destroy(struct inp_source **p)
{
	if (p && *p) {
		(*p)->ops->destroy(*p);
		*p = NULL;
	}
}

/* A source with no devices: the state stays at rest (tests, servers). */
int inp_null_create(struct inp_source **out);
