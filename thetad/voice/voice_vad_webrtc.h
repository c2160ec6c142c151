/* The C side of voice_vad_webrtc.cc: webrtc-audio-processing's voice
 * detection (and, optionally, its noise suppression ahead of it) on 10 ms
 * chunks of 48 kHz mono. Private to voice_vad.c; built only when the
 * library is there (VOICE_HAVE_WEBRTC, set by the Makefile). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How readily webrtc calls a chunk speech: 0 (very low) .. 3 (high). */
#define VOICE_WEBRTC_LIKELIHOOD_MAX 3

struct voice_webrtc_config {
	int likelihood;          /* 0..VOICE_WEBRTC_LIKELIHOOD_MAX */
	bool noise_suppression;  /* run webrtc's noise suppression before detecting */
};

struct voice_webrtc;
/* 0, -EINVAL (config), -ENOMEM, -EIO (the library refused a setting). */
int voice_webrtc_create(const struct voice_webrtc_config *c, struct voice_webrtc **out);
void voice_webrtc_destroy(struct voice_webrtc *w);
/* One chunk of VOICE_CHUNK_SAMPLES: 1 voice, 0 none, -EIO. */
int voice_webrtc_chunk(struct voice_webrtc *w, const int16_t *pcm);

#ifdef __cplusplus
}
#endif
