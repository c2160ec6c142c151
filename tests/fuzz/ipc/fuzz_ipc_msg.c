/* libFuzzer target: every IPC message validator.
 *
 * Input: u16 type (little-endian, mapped onto the defined types most of the
 * time) then the message bytes. A message the decoder accepts must encode
 * back to exactly the same bytes (one canonical encoding); the socket
 * framing is fed the whole input as a datagram. */
#include "ipc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t out[PROTO_IPC_MAX_MSG + PROTO_IPC_SOCK_HDR];

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 2)
		return 0;
	uint16_t raw = (uint16_t)(d[0] | d[1] << 8);
	uint16_t type = raw & 0x8000 ? raw : proto_ipc_descs[raw % proto_ipc_n_descs].type;
	const uint8_t *msg = d + 2;
	size_t len = n - 2;
	static union proto_ipc_any m;
	const char *why = NULL;
	int r = proto_ipc_decode(type, msg, len, &m, &why);
	if (r == 0) {
		int k = proto_ipc_encode(type, &m, out, sizeof out);
		if (k < 0 || (size_t)k != len || memcmp(out, msg, len) != 0)
			abort(); /* accepted bytes must be the canonical encoding */
	} else if (r != -EBADMSG || !why) {
		abort();
	}
	struct proto_ipc_sock_hdr h;
	for (int chan = PROTO_IPC_CHAN_SOCK_C2D; chan <= PROTO_IPC_CHAN_SOCK_D2C; chan *= 2) {
		r = proto_ipc_sock_decode(d, n, chan, &h, &m, &why);
		if (r == 0) {
			proto_ipc_sock_check(&h);
			if (proto_ipc_check_chan(h.type, chan) < 0)
				abort();
		}
	}
	return 0;
}
