/* DCEP, the data channel establishment protocol (RFC 8832), and the SCTP
 * payload protocol identifiers of WebRTC data channels (RFC 8831). Pure.
 *
 * The browser opens its channels (it is the DTLS client, so it uses even
 * stream ids): DATA_CHANNEL_OPEN on stream S (PPID 50), we answer
 * DATA_CHANNEL_ACK on S; messages on S then carry PPID 51 (string), 53
 * (binary), 56 (empty string) or 57 (empty binary). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_PPID_DCEP 50u
#define WEB_PPID_STRING 51u
#define WEB_PPID_BINARY 53u
#define WEB_PPID_STRING_EMPTY 56u
#define WEB_PPID_BINARY_EMPTY 57u

#define WEB_DCEP_OPEN 0x03u
#define WEB_DCEP_ACK 0x02u
#define WEB_DCEP_LABEL_MAX 128u    /* longer labels are refused */
#define WEB_DCEP_PROTOCOL_MAX 128u

/* Channel types (RFC 8832 5.1); the 0x80 bit means unordered. */
#define WEB_DCEP_RELIABLE 0x00u
#define WEB_DCEP_PARTIAL_RELIABLE_REXMIT 0x01u
#define WEB_DCEP_PARTIAL_RELIABLE_TIMED 0x02u
#define WEB_DCEP_UNORDERED 0x80u

struct web_dcep_open {
	uint8_t channel_type;
	uint16_t priority;
	uint32_t reliability; /* retransmissions or milliseconds, by type */
	char label[WEB_DCEP_LABEL_MAX + 1];
	char protocol[WEB_DCEP_PROTOCOL_MAX + 1];
};

/* A DCEP message (PPID 50): 0 and *out for a valid OPEN, -EBADMSG for
 * anything malformed (lengths past the end, unknown channel type, a label
 * or protocol too long or not UTF-8 without NUL), -ENOTSUP for a valid
 * message that is not an OPEN (an ACK, which we never expect). */
int web_dcep_parse_open(const uint8_t *p, size_t len, struct web_dcep_open *out);
/* The one-byte ACK into out[cap]: returns 1 or -ENOBUFS. */
int web_dcep_build_ack(uint8_t *out, size_t cap);
/* An OPEN, for tests and the in-tree browser stand-in: returns its length,
 * -EINVAL (unknown channel type, label or protocol too long), -ENOBUFS. */
int web_dcep_build_open(const struct web_dcep_open *o, uint8_t *out, size_t cap);
bool web_dcep_unordered(uint8_t channel_type);
