/* libFuzzer: Opus voice packets from a peer (voice_codec.h). The input is a
 * run of packets, each a length byte and that many bytes, fed to one
 * decoder as a jitter buffer would: checked by voice_packet_samples first,
 * then decoded, recovered from (FEC) or concealed. Whatever the bytes, the
 * check says 480, 960 or -EBADMSG, the decoder fills the whole frame or
 * refuses, and nothing reads or writes out of bounds. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "voice/voice_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct voice_dec *d = NULL;
	if (voice_dec_create(&d) < 0)
		abort();
	int16_t pcm[VOICE_FRAME_SAMPLES_MAX];
	unsigned last = 960;
	size_t at = 0;
	while (at < size) {
		size_t len = data[at++];
		if (len > size - at)
			len = size - at;
		const uint8_t *p = data + at;
		at += len;
		int n = voice_packet_samples(p, len);
		if (n != 480 && n != 960 && n != -EBADMSG)
			abort();
		int f = voice_packet_has_fec(p, len);
		if (f != 0 && f != 1 && f != -EBADMSG)
			abort();
		if ((n < 0) != (f < 0))
			abort();
		if (n < 0) {
			/* A refused packet: the frame is concealed. */
			if (voice_dec_plc(d, pcm, last) != (int)last)
				abort();
			continue;
		}
		/* Even lengths: the frame before it was lost and is recovered. */
		if (!(len & 1u)) {
			int r = voice_dec_fec(d, p, len, pcm, (unsigned)n);
			if (r != n && r != -ENODATA)
				abort();
		}
		int r = voice_dec_frame(d, p, len, pcm, (unsigned)n);
		if (r != n && r != -EBADMSG)
			abort();
		/* A duration the packet does not have is refused. */
		if (voice_dec_frame(d, p, len, pcm, n == 480 ? 960u : 480u) != -EBADMSG)
			abort();
		last = (unsigned)n;
	}
	voice_dec_destroy(&d);
	return 0;
}
