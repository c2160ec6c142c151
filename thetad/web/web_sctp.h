/* SCTP over DTLS for WebRTC data channels (RFC 8261, RFC 8831), with
 * usrsctp in its external-transport mode (AF_CONN): packets in and out
 * through callbacks, no socket of its own. usrsctp is started without its
 * threads (usrsctp_init_nothreads): everything, timers included, runs
 * inside the calls below, on the daemon's loop thread.
 *
 * One association per browser peer, local and remote port from the SDP
 * (a=sctp-port, 5000). Both sides connect (SCTP's simultaneous open, as
 * browsers do). Path MTU fixed at the DTLS record's capacity
 * (web_dtls_data_mtu), heartbeats off (ICE consent does that job), up to
 * WEB_SCTP_STREAMS streams each way. Messages up to WEB_SCTP_MAX_MESSAGE
 * bytes are reassembled before on_message (larger ones close the
 * association: the answer's max-message-size told the browser). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_SCTP_STREAMS 64u
#define WEB_SCTP_MAX_MESSAGE 262144u
/* Bytes a peer may have queued in usrsctp's send buffer; past it
 * web_sctp_send answers -EAGAIN (and on_writable follows when it drains). */
#define WEB_SCTP_SNDBUF (1u << 20)
/* How often web_sctp_timers should run (usrsctp's timer granularity). */
#define WEB_SCTP_TICK_NS (10ull * 1000 * 1000)
/* The mtu web_sctp_create accepts (bytes of one SCTP packet). */
#define WEB_SCTP_MIN_MTU 512u
#define WEB_SCTP_MAX_MTU 65535u

enum web_sctp_state { WEB_SCTP_CONNECTING = 1, WEB_SCTP_OPEN, WEB_SCTP_CLOSED };

/* output is called from inside usrsctp, during any web_sctp call
 * (web_sctp_create for the INIT, web_sctp_destroy for the ABORT,
 * web_sctp_timers for retransmissions): it must not call web_sctp
 * functions. The other callbacks run after usrsctp has returned and may
 * call anything, web_sctp_destroy included. */
struct web_sctp_ops {
	/* One SCTP packet to send through DTLS (len <= the mtu given). */
	int (*output)(void *user, const uint8_t *p, size_t len);
	/* A whole message on stream with its PPID (WEB_PPID_*, web_dcep.h). */
	void (*on_message)(void *user, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len);
	/* The association changed state (OPEN, or CLOSED with why). */
	void (*on_state)(void *user, enum web_sctp_state st, const char *why);
	/* Send-buffer room came back after an -EAGAIN. */
	void (*on_writable)(void *user);
	/* May be NULL. The browser reset its outgoing stream (it closed the
	 * channel on it, RFC 8831 6.7); ours is reset in answer already. */
	void (*on_stream_reset)(void *user, uint16_t stream);
};

struct web_sctp;

/* Once per process (idempotent): usrsctp_init_nothreads and its sysctls.
 * 0 or negative errno. */
int web_sctp_global_init(void);
/* Runs usrsctp's timers: call about every WEB_SCTP_TICK_NS with now
 * (CLOCK_MONOTONIC). Real time only: usrsctp checks by its own clock that
 * a chunk was out for a retransmission timeout before it resends it, so
 * timers run faster than real time never retransmit. */
void web_sctp_timers(uint64_t now_ns);

int web_sctp_create(uint16_t local_port, uint16_t remote_port, size_t mtu, const struct web_sctp_ops *ops, void *user,
		    struct web_sctp **out);
/* Aborts the association if open (the ABORT leaves through output during
 * this call: destroy it before the DTLS layer under it), frees
 * everything; no callback after. */
void web_sctp_destroy(struct web_sctp **s);
/* A packet from DTLS (one decrypted record). */
void web_sctp_input(struct web_sctp *s, const uint8_t *p, size_t len);
/* One message: unordered and max_rtx (-1: fully reliable, 0: no
 * retransmission) as the channel's DCEP type says. 0, -ENOTCONN,
 * -EMSGSIZE (len > WEB_SCTP_MAX_MESSAGE), -EAGAIN (send buffer full),
 * -EINVAL (stream >= WEB_SCTP_STREAMS). A zero-length message is sent as
 * one byte with the *_EMPTY PPID, as RFC 8831 says. */
int web_sctp_send(struct web_sctp *s, uint16_t stream, uint32_t ppid, const uint8_t *p, size_t len, bool unordered,
		  int max_rtx);
/* Resets our outgoing stream (RFC 8831 6.7: what a page's channel.close()
 * does); the other side answers with its own, which on_stream_reset
 * reports. 0, -ENOTCONN, -EINVAL (stream >= WEB_SCTP_STREAMS), -EALREADY
 * (reset and nothing sent on it since). */
int web_sctp_reset_stream(struct web_sctp *s, uint16_t stream);
/* Bytes waiting in the send buffer. */
size_t web_sctp_buffered(const struct web_sctp *s);
enum web_sctp_state web_sctp_state(const struct web_sctp *s);
/* Sends SHUTDOWN (graceful close). */
void web_sctp_shutdown(struct web_sctp *s);

struct web_sctp_stats {
	uint64_t msgs_in, msgs_out, bytes_in, bytes_out, packets_in, packets_out;
};
void web_sctp_get_stats(const struct web_sctp *s, struct web_sctp_stats *out);
