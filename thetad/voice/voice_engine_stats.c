/* The voice engine's names, "who is speaking" and statistics
 * (voice_engine.h; docs/voice.md, "The engine"). */
#include "voice/voice_engine_int.h"

#include <string.h>

#include "th_logrec.h"
#include "th_utf8.h"

/* A name is shown as given when it is 1..VOICE_NAME_MAX bytes of UTF-8
 * without control characters (SESSION_INFO separates names with '\n');
 * anything else shows the key's fingerprint, cut to VOICE_NAME_MAX bytes
 * ("SHA256:" and 25 characters, a prefix `thetactl mute` takes). */
static bool name_ok(const char *name)
{
	if (!name)
		return false;
	size_t n = strnlen(name, VOICE_NAME_MAX + 1);
	if (n == 0 || n > VOICE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return th_utf8_valid((const uint8_t *)name, n);
}

void voice_spk_set_name(struct voice_spk *s, const char *name)
{
	if (name_ok(name)) {
		size_t n = strlen(name);
		memcpy(s->name, name, n);
		s->name[n] = '\0';
		s->named = true;
		return;
	}
	if (name && s->named)
		return; /* a bad name does not replace a good one */
	char fpr[TH_KEY_FPR_LEN];
	if (th_key_fingerprint(s->key, fpr, sizeof(fpr)) < 0)
		fpr[0] = '\0';
	memcpy(s->name, fpr, VOICE_NAME_MAX);
	s->name[VOICE_NAME_MAX] = '\0';
	s->named = false;
}

bool voice_spk_speaking(const struct voice_engine *e, const struct voice_spk *s, uint64_t now_ns)
{
	if (!s->used || s->admin_muted || now_ns >= s->speaking_until_ns)
		return false;
	if (s->local >= 0)
		return voice_client_gate_open(e, &e->cl[s->local]);
	return s->stream;
}

void voice_spk_count_bytes(struct voice_spk *s, size_t len, uint64_t now_ns)
{
	/* Epochs count from 1: a zeroed slice is no slice. */
	uint64_t ep = now_ns / VOICE_RATE_SLICE_NS + 1;
	unsigned i = (unsigned)(ep % VOICE_RATE_SLICES);
	if (s->rate_epoch[i] != ep) {
		s->rate_epoch[i] = ep;
		s->rate_bytes[i] = 0;
	}
	s->rate_bytes[i] += (uint32_t)len;
}

static uint32_t bitrate(const struct voice_spk *s, uint64_t now_ns)
{
	uint64_t ep = now_ns / VOICE_RATE_SLICE_NS + 1, sum = 0;
	for (unsigned i = 0; i < VOICE_RATE_SLICES; i++)
		if (s->rate_epoch[i] && s->rate_epoch[i] + VOICE_RATE_SLICES > ep && s->rate_epoch[i] <= ep)
			sum += s->rate_bytes[i];
	return (uint32_t)(sum * 8u);
}

static uint64_t expected(const struct voice_spk *s)
{
	return s->seq_init ? s->seq_max - s->seq_base + 1 : 0;
}

void voice_spk_loss_snapshot(struct voice_spk *s)
{
	const unsigned n = VOICE_LOSS_WINDOW_S + 1;
	unsigned at = (s->snap_head + s->snap_n) % n;
	if (s->snap_n == n) {
		s->snap_head = (s->snap_head + 1) % n;
		at = (s->snap_head + n - 1) % n;
	} else {
		s->snap_n++;
	}
	s->snap[at].expected = expected(s);
	s->snap[at].received = s->received;
}

static uint64_t lost_between(uint64_t exp0, uint64_t rec0, uint64_t exp1, uint64_t rec1, uint64_t *exp)
{
	*exp = exp1 > exp0 ? exp1 - exp0 : 0;
	uint64_t rec = rec1 > rec0 ? rec1 - rec0 : 0;
	return *exp > rec ? *exp - rec : 0;
}

unsigned voice_engine_speakers(const struct voice_engine *e, struct voice_speaker_stats *out, unsigned max,
			       uint64_t now_ns)
{
	if (!e)
		return 0;
	unsigned n = 0;
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		const struct voice_spk *s = &e->spk[i];
		if (!s->used || !(s->stream || s->local >= 0 || s->admin_muted))
			continue;
		if (out && n < max) {
			struct voice_speaker_stats *o = &out[n];
			memset(o, 0, sizeof(*o));
			memcpy(o->speaker, s->key, VOICE_KEY_LEN);
			memcpy(o->name, s->name, sizeof(o->name));
			o->local = s->local >= 0;
			o->speaking = voice_spk_speaking(e, s, now_ns);
			o->muted = s->local >= 0 && (e->cl[s->local].flags & VOICE_CL_MUTED);
			o->admin_muted = s->admin_muted;
			o->packets = s->packets;
			o->bytes = s->bytes;
			o->late = s->late;
			o->concealed = s->concealed;
			o->fec_recovered = s->fec;
			o->dropped = s->dropped;
			o->bitrate_bps = bitrate(s, now_ns);
			if (s->stream) {
				uint64_t exp = expected(s);
				o->frames_lost = exp > s->received ? exp - s->received : 0;
				if (s->snap_n) {
					uint64_t wexp;
					uint64_t lost = lost_between(s->snap[s->snap_head].expected,
								     s->snap[s->snap_head].received, exp, s->received,
								     &wexp);
					o->loss_permille = wexp ? (uint32_t)(lost * 1000u / wexp) : 0;
				}
				struct voice_jb_stats js;
				voice_jb_stats(&s->jb, now_ns, &js);
				o->jb_depth_ms = js.depth_ms;
				o->jb_target_ms = js.target_ms;
				o->jitter_us = js.jitter_us;
			}
		}
		n++;
	}
	return n;
}

unsigned voice_engine_speaking(const struct voice_engine *e, char *buf, size_t cap, uint64_t now_ns)
{
	size_t used = 0;
	if (buf && cap)
		buf[0] = '\0';
	if (!e)
		return 0;
	unsigned n = 0;
	for (unsigned i = 0; i < VOICE_SPEAKERS_MAX; i++) {
		const struct voice_spk *s = &e->spk[i];
		if (!voice_spk_speaking(e, s, now_ns))
			continue;
		n++;
		size_t len = strlen(s->name), sep = used ? 1 : 0;
		if (!buf || used + sep + len + 1 > cap)
			continue; /* whole names only */
		if (sep)
			buf[used++] = '\n';
		memcpy(buf + used, s->name, len);
		used += len;
		buf[used] = '\0';
	}
	return n;
}

void voice_engine_totals(const struct voice_engine *e, struct voice_engine_totals *out)
{
	if (!out)
		return;
	if (!e) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = e->tot;
}
