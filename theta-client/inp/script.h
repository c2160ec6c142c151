/* Scripted input: a small text format of timed input events (head and
 * controller poses, buttons, trigger, grip, thumbstick, quit) that drives a
 * headless client deterministically. Format: docs/scripted-input.md.
 *
 * The parser treats the text as untrusted: every limit below is enforced
 * and every error names the line and column (1-based) where it was found. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "inp/input.h"

#define INP_SCRIPT_MAX_BYTES (16u << 20)
#define INP_SCRIPT_MAX_LINE 4096
#define INP_SCRIPT_MAX_EVENTS (1u << 20)
#define INP_SCRIPT_MAX_TIME_NS (24ull * 3600 * 1000000000ull) /* 24 h */
#define INP_SCRIPT_MAX_COORD 1000.0f /* metres from the stage origin */

enum inp_script_target { INP_TARGET_HEAD = 0, INP_TARGET_LEFT = 1, INP_TARGET_RIGHT = 2, INP_TARGET_NONE = 3 };

enum inp_event_kind {
	INP_EV_POSE = 1, /* v[0..2] position, v[3..6] rotation */
	INP_EV_POSITION, /* v[0..2] */
	INP_EV_ROTATION, /* v[0..3] */
	INP_EV_LOST,     /* tracking lost: pose invalid until the next pose */
	INP_EV_TRIGGER,  /* v[0] */
	INP_EV_GRIP,     /* v[0] */
	INP_EV_THUMBSTICK, /* v[0], v[1] */
	INP_EV_PRESS,    /* button */
	INP_EV_RELEASE,  /* button */
	INP_EV_QUIT,
};

struct inp_script_event {
	uint64_t time_ns;
	uint32_t line;
	uint8_t kind;   /* enum inp_event_kind */
	uint8_t target; /* enum inp_script_target */
	uint32_t button; /* TH_BUTTON_* */
	float v[7];
};

struct inp_script_error {
	unsigned line;   /* 0: not about a line (file, size) */
	unsigned column;
	char msg[160];
};

struct inp_script;

/* Parses text[len]. On failure returns -EBADMSG (or -ENOMEM, -EFBIG) and
 * fills *err when err is non-NULL; *out is untouched. */
int inp_script_parse(const char *text, size_t len, struct inp_script **out, struct inp_script_error *err);
/* Reads and parses a file (err->line 0 for read errors). */
int inp_script_load(const char *path, struct inp_script **out, struct inp_script_error *err);
void inp_script_destroy(struct inp_script **p);
size_t inp_script_count(const struct inp_script *s);
const struct inp_script_event *inp_script_event(const struct inp_script *s, size_t i);
/* Time of the last event. */
uint64_t inp_script_duration_ns(const struct inp_script *s);
/* "line L, column C: msg" into buf. */
void inp_script_error_format(const struct inp_script_error *e, char *buf, size_t cap);

/* An input source replaying the script: poll(time_ns) applies every event
 * with time <= time_ns in order. Takes ownership of script (also on
 * failure). */
int inp_script_source_create(struct inp_script *script, struct inp_source **out);
