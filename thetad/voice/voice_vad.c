/* Voice activity detection (voice_vad.h; docs/voice.md, "Who is speaking").
 *
 * The energy detector: each 10 ms chunk is high-passed (the microphone's DC
 * and hum are not speech) and its level in dB compared with a noise floor,
 * the quietest chunk of the last 1.5 s (minimum statistics), so speech lifts
 * a chunk well above it while steady noise of any level does not, and a
 * louder room is the floor within the window. A chunk is speech when it is
 * VAD_MARGIN_DB over the floor and above an absolute minimum, and so was the
 * chunk before (a lone click is not). The
 * webrtc detector is the library's voice detection through the C++ shim.
 * Both share the hangover: a decision stays on VOICE_VAD_HANGOVER_MS after
 * the last speech chunk. */
#include "voice/voice_vad.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#ifdef VOICE_HAVE_WEBRTC
#include "voice/voice_vad_webrtc.h"
#endif

/* Energy detector. */
#define VAD_HP_POLE        0.987   /* one-pole high-pass at about 100 Hz at 48 kHz */
#define VAD_MARGIN_DB      7.5     /* over the floor: speech (6: misses less, flags clicks) */
#define VAD_ABS_MIN_DBFS   -60.0   /* below this nothing is speech */
#define VAD_FLOOR_CHUNKS   150u    /* the floor: the quietest chunk of the last 1.5 s */
#define VAD_SILENCE_DBFS   -120.0  /* the level of an all-zero chunk */

/* The webrtc detector's settings, chosen by make bench-voice (voice.vad.*). */
#define VAD_WEBRTC_LIKELIHOOD 0    /* kVeryLowLikelihood: flags the least noise */
#define VAD_WEBRTC_NS         false

#define VAD_HANGOVER_CHUNKS (VOICE_VAD_HANGOVER_MS / VOICE_CHUNK_MS)

struct voice_vad {
	enum voice_vad_kind kind;
	bool raw;
	unsigned hang;            /* chunks of hangover left */
	/* energy */
	double hp_x, hp_y;
	float level_db[VAD_FLOOR_CHUNKS];   /* the last chunks' levels, a ring */
	unsigned level_at, levels;
	bool above;               /* the last chunk was over the margin */
#ifdef VOICE_HAVE_WEBRTC
	struct voice_webrtc *w;
#endif
};

const char *voice_vad_name(enum voice_vad_kind kind)
{
	switch (kind) {
	case VOICE_VAD_WEBRTC:
		return "webrtc";
	case VOICE_VAD_ENERGY:
		return "energy";
	}
	return "unknown";
}

bool voice_vad_built(enum voice_vad_kind kind)
{
#ifdef VOICE_HAVE_WEBRTC
	return kind == VOICE_VAD_WEBRTC || kind == VOICE_VAD_ENERGY;
#else
	return kind == VOICE_VAD_ENERGY;
#endif
}

int voice_vad_create(enum voice_vad_kind kind, struct voice_vad **out)
{
	if (!out || (kind != VOICE_VAD_WEBRTC && kind != VOICE_VAD_ENERGY))
		return -EINVAL;
	if (!voice_vad_built(kind))
		return -ENOTSUP;
	struct voice_vad *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->kind = kind;
#ifdef VOICE_HAVE_WEBRTC
	if (kind == VOICE_VAD_WEBRTC) {
		struct voice_webrtc_config c = { .likelihood = VAD_WEBRTC_LIKELIHOOD,
						 .noise_suppression = VAD_WEBRTC_NS };
		int rv = voice_webrtc_create(&c, &v->w);
		if (rv < 0) {
			free(v);
			return rv;
		}
	}
#endif
	*out = v;
	return 0;
}

void voice_vad_destroy(struct voice_vad **p)
{
	if (!p || !*p)
		return;
#ifdef VOICE_HAVE_WEBRTC
	voice_webrtc_destroy((*p)->w);
#endif
	free(*p);
	*p = NULL;
}

static bool energy_chunk(struct voice_vad *v, const int16_t *pcm)
{
	double sum = 0, x1 = v->hp_x, y1 = v->hp_y;
	for (unsigned i = 0; i < VOICE_CHUNK_SAMPLES; i++) {
		double x = pcm[i];
		double y = VAD_HP_POLE * (y1 + x - x1);
		x1 = x;
		y1 = y;
		sum += y * y;
	}
	v->hp_x = x1;
	v->hp_y = y1;
	double ms = sum / VOICE_CHUNK_SAMPLES / (32768.0 * 32768.0);
	double db = ms > 0 ? 10.0 * log10(ms) : VAD_SILENCE_DBFS;
	if (db < VAD_SILENCE_DBFS)
		db = VAD_SILENCE_DBFS;

	/* The floor: the quietest of the last VAD_FLOOR_CHUNKS chunks, this one
	 * included (a minimum follows a quieter room at once and a louder one
	 * within the window, while speech, never loud for that long without a
	 * gap, does not lift it). */
	v->level_db[v->level_at] = (float)db;
	v->level_at = (v->level_at + 1u) % VAD_FLOOR_CHUNKS;
	if (v->levels < VAD_FLOOR_CHUNKS)
		v->levels++;
	double floor_db = db;
	for (unsigned i = 0; i < v->levels; i++)
		if (v->level_db[i] < floor_db)
			floor_db = v->level_db[i];
	bool above = db > floor_db + VAD_MARGIN_DB && db > VAD_ABS_MIN_DBFS;
	bool speech = above && v->above;
	v->above = above;
	return speech;
}

bool voice_vad_chunk(struct voice_vad *v, const int16_t *pcm)
{
	bool raw = false;
	if (v->kind == VOICE_VAD_ENERGY)
		raw = energy_chunk(v, pcm);
#ifdef VOICE_HAVE_WEBRTC
	else
		raw = voice_webrtc_chunk(v->w, pcm) == 1;
#endif
	v->raw = raw;
	if (raw) {
		v->hang = VAD_HANGOVER_CHUNKS;
		return true;
	}
	if (v->hang) {
		v->hang--;
		return true;
	}
	return false;
}

void voice_vad_reset(struct voice_vad *v)
{
	v->raw = false;
	v->hang = 0;
	v->above = false;
}

bool voice_vad_raw(const struct voice_vad *v)
{
	return v->raw;
}
