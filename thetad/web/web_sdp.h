/* SDP for a data-channel-only WebRTC peer (RFC 8866, RFC 8841, RFC 8839,
 * RFC 8122): what we read from a browser's offer and the answer we write.
 * Pure: text in, text out.
 *
 * From the offer we need exactly one "m=application <port> UDP/DTLS/SCTP
 * webrtc-datachannel" section (other m= sections are answered as rejected:
 * port 0, the same media, format and mid), and for it (session level
 * attributes apply where the media level has none):
 *   a=ice-ufrag, a=ice-pwd        (lengths and characters per RFC 8839)
 *   a=fingerprint:sha-256 HEX     (32 bytes, ':'-separated, any case;
 *                                  other hash names are skipped, at least
 *                                  one sha-256 is required)
 *   a=setup:actpass|active        (passive is refused: we are DTLS server;
 *                                  absent means active, RFC 4145's default)
 *   a=mid:X                       (echoed in the answer and its BUNDLE group)
 *   a=sctp-port:N                 (default 5000)
 *   a=max-message-size:N          (default 65536; 0 means "no limit")
 * Lines end in CRLF or LF; a line longer than WEB_SDP_LINE_MAX, a total
 * longer than WEB_SDP_MAX, more than WEB_SDP_MAX_MLINES m= sections, or any
 * NUL or control byte refuses the offer. An offer that is itself ice-lite is
 * refused too (two lite agents never connect).
 *
 * The answer: a=ice-lite at session level, our ufrag/pwd, our certificate's
 * sha-256 fingerprint, a=setup:passive, one host candidate per address we
 * answer on (UDP, the web endpoint's port), a=sctp-port:5000 and our
 * max-message-size. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define WEB_SDP_MAX 16384u
#define WEB_SDP_LINE_MAX 1024u
#define WEB_SDP_MID_MAX 32u
#define WEB_SDP_UFRAG_MAX 256u
#define WEB_SDP_PWD_MAX 256u
#define WEB_SDP_FP_LEN 32u
#define WEB_SDP_SCTP_PORT 5000u
#define WEB_SDP_MAX_MESSAGE 65536u     /* what we offer in the answer, and our receive cap */
#define WEB_SDP_MAX_CANDIDATES 4u
#define WEB_SDP_ANSWER_MAX 4096u
#define WEB_SDP_MAX_MLINES 16u
#define WEB_SDP_TOKEN_MAX 32u          /* media, proto and format tokens of an m= line */

/* One m= section of the offer, as its rejection in the answer repeats it. */
struct web_sdp_mline {
	char media[WEB_SDP_TOKEN_MAX + 1];
	char proto[WEB_SDP_TOKEN_MAX + 1];
	char fmt[WEB_SDP_TOKEN_MAX + 1];    /* the first format */
	char mid[WEB_SDP_MID_MAX + 1];      /* "" when the section has no a=mid */
};

struct web_sdp_offer {
	char ice_ufrag[WEB_SDP_UFRAG_MAX + 1];
	char ice_pwd[WEB_SDP_PWD_MAX + 1];
	uint8_t fp[WEB_SDP_FP_LEN]; /* the browser's DTLS certificate, SHA-256 */
	char mid[WEB_SDP_MID_MAX + 1];
	unsigned mline_index;       /* which m= section is the data channel */
	unsigned n_mlines;          /* all m= sections (the others are rejected in the answer) */
	uint16_t sctp_port;
	uint64_t max_message_size;  /* 0: no limit */
	bool setup_active;          /* a=setup:active (else actpass) */
	bool ice_lite;              /* the offer itself says ice-lite (such an offer is refused: always false) */
	bool bundle;                /* the offer's a=group:BUNDLE names mid (the answer's group then does) */
	struct web_sdp_mline mlines[WEB_SDP_MAX_MLINES]; /* [0, n_mlines) */
};

/* 0 and *out, or -EBADMSG with *why (static, one sentence for the page:
 * "the offer has no data channel section", "the offer's DTLS fingerprint
 * is not sha-256", ...). */
int web_sdp_parse_offer(const char *sdp, size_t len, struct web_sdp_offer *out, const char **why);

struct web_sdp_answer_params {
	const struct web_sdp_offer *offer;
	const char *ice_ufrag, *ice_pwd;        /* ours: web_sdp_ice_credentials */
	const uint8_t *fp;                      /* our certificate's SHA-256 (32 bytes) */
	uint64_t session_id;                    /* o= line */
	const struct sockaddr_storage *cands;   /* our host candidates (port set) */
	unsigned n_cands;
	uint64_t max_message_size;              /* 0: WEB_SDP_MAX_MESSAGE */
};

/* Writes the answer (CRLF lines, NUL-terminated) into out[cap]; returns its
 * length, -ENOBUFS, or -EINVAL (no candidate, bad parameters). */
int web_sdp_build_answer(const struct web_sdp_answer_params *p, char *out, size_t cap);

/* Fresh random ICE credentials: ufrag 8 and pwd 24 characters of
 * [A-Za-z0-9+/] (RFC 8839 ice-char), NUL-terminated. */
void web_sdp_ice_credentials(char ufrag[9], char pwd[25]);
