// The shim over Debian's webrtc-audio-processing 0.3 (voice_vad_webrtc.h):
// one AudioProcessing per detector with only voice detection (and noise
// suppression when asked) enabled; every chunk goes through ProcessStream,
// whose output is dropped: the caller keeps its own samples. This file is
// built with -fno-exceptions and allocates its own state with nothrow new
// (-ENOMEM); the library allocates with plain new inside Create() and
// Initialize(), so running out of memory there ends the process (std::
// terminate: no exception can cross these frames into C).
#include "voice/voice_vad_webrtc.h"

#include <errno.h>
#include <string.h>

#include <new>

#include <webrtc/modules/audio_processing/include/audio_processing.h>
#include <webrtc/modules/interface/module_common_types.h>

#include "voice/voice.h"

struct voice_webrtc {
	webrtc::AudioProcessing *apm;
	webrtc::AudioFrame frame;
};

static const webrtc::VoiceDetection::Likelihood likelihoods[VOICE_WEBRTC_LIKELIHOOD_MAX + 1] = {
	webrtc::VoiceDetection::kVeryLowLikelihood,
	webrtc::VoiceDetection::kLowLikelihood,
	webrtc::VoiceDetection::kModerateLikelihood,
	webrtc::VoiceDetection::kHighLikelihood,
};

extern "C" int voice_webrtc_create(const struct voice_webrtc_config *c, struct voice_webrtc **out)
{
	if (!c || !out || c->likelihood < 0 || c->likelihood > VOICE_WEBRTC_LIKELIHOOD_MAX)
		return -EINVAL;
	struct voice_webrtc *w = new (std::nothrow) voice_webrtc;
	if (!w)
		return -ENOMEM;
	w->apm = webrtc::AudioProcessing::Create();
	if (!w->apm) {
		delete w;
		return -ENOMEM;
	}
	webrtc::AudioProcessing *a = w->apm;
	bool ok = a->Initialize(VOICE_RATE, VOICE_RATE, VOICE_RATE, webrtc::AudioProcessing::kMono,
				webrtc::AudioProcessing::kMono, webrtc::AudioProcessing::kMono) == 0 &&
		  a->voice_detection()->Enable(true) == 0 &&
		  a->voice_detection()->set_likelihood(likelihoods[c->likelihood]) == 0 &&
		  a->voice_detection()->set_frame_size_ms((int)VOICE_CHUNK_MS) == 0;
	if (ok && c->noise_suppression)
		ok = a->noise_suppression()->set_level(webrtc::NoiseSuppression::kHigh) == 0 &&
		     a->noise_suppression()->Enable(true) == 0;
	if (!ok) {
		delete a;
		delete w;
		return -EIO;
	}
	w->frame.sample_rate_hz_ = (int)VOICE_RATE;
	w->frame.num_channels_ = 1;
	w->frame.samples_per_channel_ = VOICE_CHUNK_SAMPLES;
	*out = w;
	return 0;
}

extern "C" void voice_webrtc_destroy(struct voice_webrtc *w)
{
	if (!w)
		return;
	delete w->apm;
	delete w;
}

extern "C" int voice_webrtc_chunk(struct voice_webrtc *w, const int16_t *pcm)
{
	webrtc::AudioFrame *f = &w->frame;
	// ProcessStream may have rewritten the format fields: set them each time.
	f->sample_rate_hz_ = (int)VOICE_RATE;
	f->num_channels_ = 1;
	f->samples_per_channel_ = VOICE_CHUNK_SAMPLES;
	memcpy(f->data_, pcm, VOICE_CHUNK_SAMPLES * sizeof(int16_t));
	if (w->apm->ProcessStream(f) != 0)
		return -EIO;
	return w->apm->voice_detection()->stream_has_voice() ? 1 : 0;
}
