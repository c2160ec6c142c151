/* The net module's public interface for other thetad modules (the voice
 * module: thetad/voice/module.c). Reach net's state with
 * srv_daemon_module_state(d, "net"). Every function runs on the daemon's
 * loop thread. See docs/network.md, "Voice". */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct sess_session;
struct proto_sess_dgram;

struct net_voice_hooks {
	/* A VOICE datagram for s that passed every check (host: size, rate, ownership, admin mute).
	 * d->opus points into the received datagram: valid during the call only. */
	void (*voice)(void *user, struct sess_session *s, const struct proto_sess_dgram *d, uint64_t now_ns);
	/* A speaker's name (VOICE_NAME). */
	void (*name)(void *user, struct sess_session *s, const uint8_t speaker[32], const char *name);
	/* An admin muted / unmuted a speaker of s. */
	void (*muted)(void *user, struct sess_session *s, const uint8_t speaker[32], bool muted);
};
/* h NULL: no hooks (the module stops). */
void net_module_set_voice(void *state, const struct net_voice_hooks *h, void *user);
/* A local speaker's frame (sent as kind PROTO_SESS_DG_VOICE, author = the speaker): host -> every member,
 * member -> its host. 0, -ENOTCONN (no peer to send it to), -EMSGSIZE (does not encode: opus_len
 * 0 or over PROTO_SESS_VOICE_OPUS_MAX, unknown vflags), -EPERM (admin-muted). */
int net_module_send_voice(void *state, struct sess_session *s, const struct proto_sess_dgram *d);
/* Announces a local speaker's name to the session (reliable; sent again to every peer that
 * connects later). 0, -EINVAL (longer than PROTO_SESS_VOICE_NAME_MAX or a control byte),
 * -ENOSPC (the session's speaker table is full). */
int net_module_voice_name(void *state, struct sess_session *s, const uint8_t speaker[32], const char *name);
/* The worst loss measured now on s's links, percent (0..100): the heartbeats' round-trip loss
 * as one way's (1 - sqrt(1 - p)), rounded up. */
unsigned net_module_loss_pct(void *state, struct sess_session *s);
