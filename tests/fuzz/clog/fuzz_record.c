/* libFuzzer target: the command-log record decoder (framing, CRC, entry
 * fields, registry). Property: whatever decodes re-encodes to the same
 * bytes, and nothing reads outside the input.
 *
 * Input: one mode byte, then the record. Mode bit 0 set: the frame's CRC is
 * recomputed first, so mutations reach the entry decoder instead of
 * stopping at the checksum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_logrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct th_logrec_frame f;
	struct th_logrec_entry e;
	int why = 0;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	data++, size--;
	/* Copy so that reads past the end are caught by ASan exactly. */
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	if ((mode & 1) && size >= TH_LOGREC_FRAME_LEN) {
		struct th_logrec_frame g = {
			.body_len = th_get_le32(p + 4), .batch = th_get_le64(p + 8), .kind = p[16], .flags = p[17]
		};
		if (g.body_len <= size - TH_LOGREC_FRAME_LEN && th_get_le16(p + 18) == 0)
			th_logrec_frame_put(p, &g, p + TH_LOGREC_FRAME_LEN);
	}

	int n = th_logrec_record_decode(p, size, &f, &e, &why);
	if (n > 0) {
		uint8_t *out = malloc((size_t)n);
		int m = th_logrec_record_put(out, (size_t)n, &e, f.batch, f.flags);
		if (m != n || memcmp(out, p, (size_t)n) != 0)
			abort(); /* decoding then encoding must be the identity */
		uint8_t h[TH_LOGREC_HASH_LEN];
		th_logrec_entry_hash(&e, h);
		if (e.has_sig)
			(void)th_logrec_verify(h, e.author, e.sig);
		free(out);
	} else if (why <= 0 || why >= TH_LR_FAULT_COUNT) {
		abort(); /* every refusal names its reason */
	}
	/* The bare entry decoder on the same bytes. */
	if (th_logrec_decode(p, size, &e, &why) == 0) {
		uint8_t *out = malloc(size ? size : 1);
		if (th_logrec_encode(&e, out, size) != (int)size || memcmp(out, p, size) != 0)
			abort();
		free(out);
	}
	free(p);
	return 0;
}
