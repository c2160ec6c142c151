/* The client's voice controls (theta-client/aud/aud_voice.h): the flags
 * the daemon gets and the capture gate, from mute and push-to-talk on the
 * desktop's keys and the headset's right thumbstick click. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "aud/aud_voice.h"
#include "ipc.h"

static struct aud_voice_input keys(bool toggle, bool talk)
{
	return (struct aud_voice_input){ .toggle_mute = toggle, .talk = talk };
}

static void open_mic_mutes_and_unmutes(void **state)
{
	(void)state;
	struct aud_voice v;
	aud_voice_init(&v, true, false, false);
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON);
	assert_true(aud_voice_gate(&v));
	/* Nothing pressed: nothing changes. */
	struct aud_voice_input in = keys(false, false);
	assert_false(aud_voice_apply(&v, &in));
	in = keys(true, false);
	assert_true(aud_voice_apply(&v, &in));
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED);
	assert_false(aud_voice_gate(&v));
	/* Talk means nothing without push-to-talk mode. */
	in = keys(false, true);
	assert_false(aud_voice_apply(&v, &in));
	assert_false(aud_voice_gate(&v));
	in = keys(true, true);
	assert_true(aud_voice_apply(&v, &in));
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON);
	assert_true(aud_voice_gate(&v));
}

static void push_to_talk_opens_while_held(void **state)
{
	(void)state;
	struct aud_voice v;
	aud_voice_init(&v, true, true, false);
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
	assert_false(aud_voice_gate(&v));
	struct aud_voice_input in = keys(false, true);
	assert_true(aud_voice_apply(&v, &in));
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT | PROTO_IPC_VOICE_F_TALK);
	assert_true(aud_voice_gate(&v));
	assert_false(aud_voice_apply(&v, &in)); /* still held */
	/* Muted while held: the gate closes, talk stays what the user does. */
	in = keys(true, true);
	assert_true(aud_voice_apply(&v, &in));
	assert_true(aud_voice_flags(&v) & PROTO_IPC_VOICE_F_MUTED);
	assert_true(aud_voice_flags(&v) & PROTO_IPC_VOICE_F_TALK);
	assert_false(aud_voice_gate(&v));
	in = keys(true, false);
	assert_true(aud_voice_apply(&v, &in));
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_PTT);
	assert_false(aud_voice_gate(&v));
}

static void started_muted_and_off(void **state)
{
	(void)state;
	struct aud_voice v;
	aud_voice_init(&v, true, false, true);
	assert_int_equal(aud_voice_flags(&v), PROTO_IPC_VOICE_F_ON | PROTO_IPC_VOICE_F_MUTED);
	assert_false(aud_voice_gate(&v));
	/* Off: no flags, no gate, and the controls change nothing. */
	aud_voice_init(&v, false, true, false);
	struct aud_voice_input in = keys(true, true);
	assert_false(aud_voice_apply(&v, &in));
	assert_int_equal(aud_voice_flags(&v), 0);
	assert_false(aud_voice_gate(&v));
}

static void the_headset_button(void **state)
{
	(void)state;
	struct inp_state in;
	inp_state_init(&in);
	struct aud_voice v;
	struct aud_voice_input out;
	/* Open mic: a press of the right thumbstick toggles mute; held on,
	 * it does not toggle again. */
	aud_voice_init(&v, true, false, false);
	in.hand[INP_RIGHT].buttons = in.hand[INP_RIGHT].pressed = TH_BUTTON_THUMBSTICK;
	aud_voice_headset(&v, &in, &out);
	assert_true(out.toggle_mute);
	assert_false(out.talk);
	in.hand[INP_RIGHT].pressed = 0;
	aud_voice_headset(&v, &in, &out);
	assert_false(out.toggle_mute);
	/* The left one is the overlay's (docs/ui.md), not the voice's. */
	in.hand[INP_RIGHT].buttons = 0;
	in.hand[INP_LEFT].buttons = in.hand[INP_LEFT].pressed = TH_BUTTON_THUMBSTICK;
	aud_voice_headset(&v, &in, &out);
	assert_false(out.toggle_mute);
	/* Push-to-talk: held talks; pressed and released within one frame
	 * talks for that frame. */
	aud_voice_init(&v, true, true, false);
	in.hand[INP_RIGHT].buttons = TH_BUTTON_THUMBSTICK;
	aud_voice_headset(&v, &in, &out);
	assert_true(out.talk);
	assert_false(out.toggle_mute);
	in.hand[INP_RIGHT].buttons = 0;
	in.hand[INP_RIGHT].pressed = in.hand[INP_RIGHT].released = TH_BUTTON_THUMBSTICK;
	aud_voice_headset(&v, &in, &out);
	assert_true(out.talk);
	in.hand[INP_RIGHT].pressed = 0;
	aud_voice_headset(&v, &in, &out);
	assert_false(out.talk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_mic_mutes_and_unmutes),
		cmocka_unit_test(push_to_talk_opens_while_held),
		cmocka_unit_test(started_muted_and_off),
		cmocka_unit_test(the_headset_button),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
