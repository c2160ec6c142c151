/* The control protocol between thetactl (or any script) and thetad over
 * control.sock (SOCK_STREAM). Each message is a frame:
 *
 *   u32 little-endian length N (1 <= N <= limit) | N bytes of UTF-8 JSON
 *
 * Request:  {"cmd": "status", "args": {...}}          (args optional)
 * Reply:    {"ok": true, "result": {...}}
 *        or {"ok": false, "error": "one sentence", "code": "EPERM"}
 *
 * One request, one reply, in order; a connection may carry many. The
 * commands and their arguments are listed in docs/protocol.md. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define PROTO_CTL_HEADER_BYTES 4
#define PROTO_CTL_MAX_REQUEST  (64u * 1024)       /* daemon refuses larger requests */
#define PROTO_CTL_MAX_REPLY    (16u * 1024 * 1024) /* thetactl refuses larger replies */
#define PROTO_CTL_MAX_CMD_NAME 32

/* Looks at the bytes received so far. Returns 1 and sets *frame_len
 * (header included) when a whole frame is there, 0 when more bytes are
 * needed, -EMSGSIZE when the header announces more than max, -EBADMSG for an
 * empty frame. */
int proto_ctl_frame_check(const uint8_t *buf, size_t len, size_t max, size_t *frame_len);
/* Writes the 4-byte header for a payload of n bytes. */
void proto_ctl_frame_header(uint8_t hdr[PROTO_CTL_HEADER_BYTES], uint32_t n);
