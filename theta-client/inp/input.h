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
	struct inp_pose pose; /* the grip: where the hand holds the controller (the tool tip) */
	struct inp_pose aim;  /* the pointing ray: origin, and -Z of the rotation is its direction
			       * (OpenXR's aim pose); valid false when the source has no ray */
	uint32_t buttons;  /* TH_BUTTON_* held now */
	uint32_t pressed;  /* went down since the previous poll */
	uint32_t released; /* went up since the previous poll */
	float trigger;     /* [0, 1] */
	float grip;        /* [0, 1] */
	float thumbstick[2]; /* [-1, 1] */
};

/* Interaction profile path (OpenXR), "/interaction_profiles/khr/simple_controller";
 * "" while none is active. */
#define INP_PROFILE_MAX 96u

/* The desktop's raw devices (GLFW), this frame. The desktop mapping
 * (edit/edit_desk.h) turns them into a camera, a mouse ray and tool
 * commands; sources without a desktop leave present false. */
#define INP_DESK_KEYS_MAX 32u
#define INP_DESK_HELD_MAX 8u /* keys held down at once that are reported (held[]) */
enum inp_mouse_button { INP_MOUSE_LEFT = 1u << 0, INP_MOUSE_RIGHT = 1u << 1, INP_MOUSE_MIDDLE = 1u << 2 };
enum inp_key_mod {
	INP_MOD_SHIFT = 1u << 0,
	INP_MOD_CTRL = 1u << 1,
	INP_MOD_ALT = 1u << 2,
	INP_MOD_SUPER = 1u << 3, /* the Windows / Command key */
};
struct inp_key {
	int key;      /* GLFW_KEY_* (printable keys are their upper-case ASCII) */
	uint32_t mods; /* INP_MOD_* held when it went down */
	bool repeat;  /* the key repeating while held, not a new press */
};
struct inp_desktop {
	bool present;       /* a window feeds this */
	bool focused;
	uint32_t width, height; /* the window's framebuffer, pixels */
	double cursor[2];   /* pixels from the window's top left */
	bool cursor_inside;
	uint32_t buttons, pressed, released; /* INP_MOUSE_* */
	uint32_t mods;      /* INP_MOD_* held now */
	double scroll;      /* wheel steps since the previous poll (up positive) */
	unsigned nkeys;     /* keys that went down since the previous poll, in order (repeats included) */
	struct inp_key keys[INP_DESK_KEYS_MAX];
	uint64_t keys_dropped; /* keys past INP_DESK_KEYS_MAX in a frame, counted since the source began */
	/* Keys held down now (GLFW_KEY_*, the first INP_DESK_HELD_MAX pressed;
	 * none while the window is not focused): push-to-talk. */
	unsigned nheld;
	int held[INP_DESK_HELD_MAX];
};

struct inp_state {
	struct inp_pose head;
	struct inp_controller hand[INP_HANDS];
	bool quit;       /* the source asks the client to stop */
	uint64_t events; /* input events consumed so far */
	char profile[INP_HANDS][INP_PROFILE_MAX]; /* OpenXR: the active interaction profile of each hand */
	struct inp_desktop desk;
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

/* Haptic pulses the editor asks for (theta-client main.c): what each means. */
#define INP_PULSE_SNAP_AMPLITUDE 0.3f
#define INP_PULSE_SNAP_NS (10ull * 1000 * 1000)
#define INP_PULSE_SELECT_AMPLITUDE 0.5f
#define INP_PULSE_SELECT_NS (20ull * 1000 * 1000)
#define INP_PULSE_REFUSED_AMPLITUDE 1.0f
#define INP_PULSE_REFUSED_NS (80ull * 1000 * 1000)
