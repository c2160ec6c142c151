/* The client's voice controls (aud_voice.h). */
#include "aud/aud_voice.h"

#include "ipc.h"

void aud_voice_init(struct aud_voice *v, bool on, bool ptt, bool muted)
{
	*v = (struct aud_voice){ .on = on, .ptt = ptt, .muted = muted };
}

void aud_voice_headset(const struct aud_voice *v, const struct inp_state *in, struct aud_voice_input *out)
{
	const struct inp_controller *c = &in->hand[AUD_VOICE_HAND];
	*out = (struct aud_voice_input){ 0 };
	if (v->ptt)
		out->talk = (c->buttons & AUD_VOICE_BUTTON) || (c->pressed & AUD_VOICE_BUTTON);
	else
		out->toggle_mute = c->pressed & AUD_VOICE_BUTTON;
}

bool aud_voice_apply(struct aud_voice *v, const struct aud_voice_input *in)
{
	if (!v->on)
		return false;
	uint32_t before = aud_voice_flags(v);
	if (in->toggle_mute)
		v->muted = !v->muted;
	v->talk = v->ptt && in->talk;
	return aud_voice_flags(v) != before;
}

uint32_t aud_voice_flags(const struct aud_voice *v)
{
	if (!v->on)
		return 0;
	return PROTO_IPC_VOICE_F_ON | (v->muted ? PROTO_IPC_VOICE_F_MUTED : 0) | (v->ptt ? PROTO_IPC_VOICE_F_PTT : 0) |
	       (v->talk ? PROTO_IPC_VOICE_F_TALK : 0);
}

bool aud_voice_gate(const struct aud_voice *v)
{
	return v->on && !v->muted && (!v->ptt || v->talk);
}
