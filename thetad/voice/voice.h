/* Constants every part of thetad's voice pipeline shares (docs/voice.md).
 * PCM between theta-client and thetad, and inside the pipeline, is signed
 * 16-bit at 48 kHz in chunks of 10 ms: mono from the microphone, stereo to
 * the speakers. Opus frames are 10 or 20 ms (VOICE_FRAME_MS_*). */
#pragma once
#include <stdint.h>

#define VOICE_RATE            48000u
#define VOICE_CHUNK_MS        10u
#define VOICE_CHUNK_SAMPLES   480u   /* one 10 ms chunk, per channel */
#define VOICE_FRAME_MS_MIN    10u
#define VOICE_FRAME_MS_MAX    20u
#define VOICE_FRAME_MS_DEFAULT 20u
#define VOICE_FRAME_SAMPLES_MAX (VOICE_RATE / 1000u * VOICE_FRAME_MS_MAX)
/* Largest Opus packet a daemon sends or takes (a 20 ms frame at 64 kbit/s
 * with FEC is about 200 bytes). Must fit PROTO_SESS_VOICE_OPUS_MAX. */
#define VOICE_OPUS_MAX        400u
#define VOICE_KEY_LEN         32u    /* a speaker is a user's Ed25519 key */
#define VOICE_NAME_MAX        32u    /* a speaker's display name, bytes */
#define VOICE_SPEAKERS_MAX    128u   /* speakers one daemon mixes */
#define VOICE_LISTENERS_MAX   64u    /* local clients one daemon mixes for */

/* Flags of one voice frame on the wire (datagram VOICE). */
#define VOICE_PKT_F_SPEECH    1u     /* voice activity in this frame */
#define VOICE_PKT_F_ALL       1u
