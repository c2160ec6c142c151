#include "ctlproto.h"

#include <errno.h>

#include "th_buf.h"

int proto_ctl_frame_check(const uint8_t *buf, size_t len, size_t max, size_t *frame_len)
{
	if (len < PROTO_CTL_HEADER_BYTES)
		return 0;
	uint32_t n = th_get_le32(buf);
	if (n == 0)
		return -EBADMSG;
	if (n > max)
		return -EMSGSIZE;
	if (len - PROTO_CTL_HEADER_BYTES < n)
		return 0;
	*frame_len = PROTO_CTL_HEADER_BYTES + (size_t)n;
	return 1;
}

void proto_ctl_frame_header(uint8_t hdr[PROTO_CTL_HEADER_BYTES], uint32_t n)
{
	th_put_le32(hdr, n);
}
