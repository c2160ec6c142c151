/* libFuzzer target: proto_ctl_frame_check on arbitrary received bytes, with
 * the daemon's request limit, thetactl's reply limit and a small limit taken
 * from the input. Checks the contract: a reported frame lies within the
 * bytes received and within the limit; frame_len is written only on 1. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

static void fz_check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void fz_one(const uint8_t *data, size_t size, size_t max)
{
	size_t fl = SIZE_MAX;
	int r = proto_ctl_frame_check(data, size, max, &fl);
	fz_check(r == 1 || r == 0 || r == -EMSGSIZE || r == -EBADMSG);
	if (r == 1) {
		fz_check(fl > PROTO_CTL_HEADER_BYTES);
		fz_check(fl <= size);
		fz_check(fl - PROTO_CTL_HEADER_BYTES <= max);
		/* The header says exactly this length. */
		uint32_t n = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			     (uint32_t)data[3] << 24;
		fz_check(fl == PROTO_CTL_HEADER_BYTES + (size_t)n);
		/* Re-checking the frame alone gives the same answer. */
		size_t fl2 = 0;
		fz_check(proto_ctl_frame_check(data, fl, max, &fl2) == 1 && fl2 == fl);
		/* One byte short needs more. */
		fz_check(proto_ctl_frame_check(data, fl - 1, max, &fl2) == 0);
	} else {
		fz_check(fl == SIZE_MAX);
	}
	if (size < PROTO_CTL_HEADER_BYTES)
		fz_check(r == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_one(data, size, PROTO_CTL_MAX_REQUEST);
	fz_one(data, size, PROTO_CTL_MAX_REPLY);
	if (size > 0)
		fz_one(data + 1, size - 1, data[0]); /* small limits: 0..255 */
	return 0;
}
