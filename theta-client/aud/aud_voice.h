/* The client's voice controls (docs/voice.md, "The client"): the user's
 * mute and push-to-talk, from the desktop keys (edit_desk.h: M toggles
 * mute, V held talks) or the headset's right thumbstick click (held talks
 * in push-to-talk mode; otherwise a press toggles mute), turned into the
 * VOICE_STATE flags the daemon gets (link_set_voice) and the gate of the
 * capture stream (aud_set_gate). Mute and a released push-to-talk close
 * the gate: no PCM leaves the process. Pure: no clock, no I/O. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "inp/input.h"
#include "th_schema.h"

/* The headset's voice button (inp_controller.buttons of INP_RIGHT). */
#define AUD_VOICE_HAND INP_RIGHT
#define AUD_VOICE_BUTTON TH_BUTTON_THUMBSTICK

struct aud_voice {
	bool on;    /* the audio is open */
	bool muted; /* the user muted the microphone */
	bool ptt;   /* push-to-talk mode (--ptt) */
	bool talk;  /* push-to-talk held */
};

/* One frame's controls. */
struct aud_voice_input {
	bool toggle_mute; /* mute pressed (an odd number of times) */
	bool talk;        /* push-to-talk held now */
};

void aud_voice_init(struct aud_voice *v, bool on, bool ptt, bool muted);
/* The headset's (or a script's) controls this frame: in push-to-talk mode
 * the button held talks, otherwise its press toggles mute. */
void aud_voice_headset(const struct aud_voice *v, const struct inp_state *in, struct aud_voice_input *out);
/* Applies one frame's controls (ignored while off). True when the flags
 * changed (send them: link_set_voice, aud_set_gate). */
bool aud_voice_apply(struct aud_voice *v, const struct aud_voice_input *in);
/* PROTO_IPC_VOICE_F_*. */
uint32_t aud_voice_flags(const struct aud_voice *v);
/* Whether microphone chunks may leave: on, not muted, and talking in
 * push-to-talk mode. */
bool aud_voice_gate(const struct aud_voice *v);
