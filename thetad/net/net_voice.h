/* Voice between daemons, the part without I/O (docs/network.md, "Voice"):
 * one session's table of speakers (a speaker is a user's key: its name,
 * which daemon it speaks through, whether an admin muted it, its frame
 * rate) and the host's checks of a member's VOICE datagram, in order:
 *
 *   1. ownership: the speaker key must belong to the member it came from,
 *      by the pose owners' rules (net_sl_pose.h: speaker = author; an
 *      unbound key is claimed, within the member's claim budget);
 *   2. admin mute: a muted speaker's frames go nowhere (a speaker is muted
 *      by its key, or with every speaker of a muted member);
 *   3. rate per speaker: NET_VOICE_SPEAKER_RATE_PER_S (the voice channel's
 *      own limit, per member, came before: net_chan).
 *
 * The glue (net_voice.c) decodes, calls net_voice_host_take, counts the
 * verdict, delivers and relays. No clock, socket or log inside: callers
 * pass now_ns. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "net/net_chan.h"
#include "net/net_sl_pose.h"
#include "session.h"

/* What a host takes from one member on the voice channel (all its
 * speakers together): 64 speakers at 10 ms frames, bursts of 4 s of one. */
/* The voice channel's largest datagram: a VOICE is at most 444 bytes (kind,
 * author, seq, ts, vflags, the Opus packet's u16 length and
 * PROTO_SESS_VOICE_OPUS_MAX bytes); one a little longer decodes as
 * malformed, one past this is over the channel's size. */
#define NET_VOICE_DGRAM_MAX        512u
#define NET_VOICE_RATE_PER_S       6400u
#define NET_VOICE_BURST            400u
/* One speaker: 100 frames a second at 10 ms (50 at 20 ms) with room for a
 * late burst of 0.5 s after a stall; a flood past it is dropped. */
#define NET_VOICE_SPEAKER_RATE_PER_S 120u
#define NET_VOICE_SPEAKER_BURST    50u
/* Name changes the host takes for one speaker: a name is given once and
 * seldom changed, and the host passes each change to every other member and
 * its voice module; a member renaming faster has the extra ones ignored. */
#define NET_VOICE_NAME_RATE_PER_S  1u
#define NET_VOICE_NAME_BURST       4u
#define NET_VOICE_SPEAKERS_MAX     128u  /* speakers one session's table holds (== VOICE_SPEAKERS_MAX) */
#define NET_VOICE_MUTED_PEERS_MAX  32u   /* members muted whole (== NET_SESS_MAX_PEERS) */
#define NET_VOICE_SESS_ID_MAX      40u
#define NET_VOICE_OWNER_NONE       UINT32_MAX /* member side: a speaker the host told us about */

struct net_voice_speaker {
	uint8_t key[PROTO_SESS_KEY_LEN];
	char name[PROTO_SESS_VOICE_NAME_MAX + 1]; /* "" until VOICE_NAME */
	uint32_t owner;     /* host: NET_POSE_OWNER_LOCAL or the member's peer id; member: 0 local, else NONE */
	bool muted;         /* by an admin of the session */
	bool told;          /* host: the members were told it is muted */
	struct net_rate rate;
	struct net_rate name_rate; /* host: changes of its name (NET_VOICE_NAME_RATE_PER_S) */
	uint64_t last_ns;   /* last frame or name (the least recent is replaced when full) */
	uint64_t frames, dropped;
};

struct net_voice_sess {
	char id[NET_VOICE_SESS_ID_MAX];
	struct net_voice_speaker sp[NET_VOICE_SPEAKERS_MAX];
	unsigned n;
	uint32_t muted_peers[NET_VOICE_MUTED_PEERS_MAX];
	unsigned n_muted_peers;
};

enum net_voice_verdict {
	NET_VOICE_OK = 0,
	NET_VOICE_NOT_OWNER, /* the speaker belongs to another daemon (or the member may claim no more) */
	NET_VOICE_MUTED,     /* an admin muted the speaker (or its member) */
	NET_VOICE_OVER_RATE, /* the speaker sends faster than NET_VOICE_SPEAKER_RATE_PER_S */
	NET_VOICE_FULL,      /* no room in the speaker table (every slot muted) */
};

void net_voice_sess_init(struct net_voice_sess *v, const char *id);
struct net_voice_speaker *net_voice_find(struct net_voice_sess *v, const uint8_t key[PROTO_SESS_KEY_LEN]);
/* The speaker's entry, made when new (owner recorded; a muted member's new
 * speaker starts muted: *new_muted tells the caller to announce it). When
 * the table is full the least recently heard unmuted speaker is replaced;
 * NULL when all are muted. */
struct net_voice_speaker *net_voice_add(struct net_voice_sess *v, const uint8_t key[PROTO_SESS_KEY_LEN],
					uint32_t owner, uint64_t now_ns, bool *new_muted);
/* Host: a member's frame of speaker key arrived from member `from`. */
enum net_voice_verdict net_voice_host_take(struct net_voice_sess *v, struct net_pose_owners *o,
					   const uint8_t key[PROTO_SESS_KEY_LEN], uint32_t from, uint64_t now_ns);
/* Host: may member `from` name speaker key? 0, or -EPERM / -ENOSPC as
 * net_pose_owners_check. */
int net_voice_host_may_name(struct net_pose_owners *o, const uint8_t key[PROTO_SESS_KEY_LEN], uint32_t from);
/* Host: may a member change speaker sp's name now (NET_VOICE_NAME_RATE_PER_S)? */
bool net_voice_host_rename_ok(struct net_voice_speaker *sp, uint64_t now_ns);
bool net_voice_peer_muted(const struct net_voice_sess *v, uint32_t peer);
/* Sets a member's whole mute: 1 changed, 0 already so, -ENOSPC (table full). */
int net_voice_mute_peer(struct net_voice_sess *v, uint32_t peer, bool muted);
/* Speakers whose name is exactly name: the count, *out the first. */
unsigned net_voice_by_name(struct net_voice_sess *v, const char *name, struct net_voice_speaker **out);
/* One direction's loss in percent, rounded up, from the heartbeats'
 * round-trip loss (0..1): 1 - sqrt(1 - p). */
unsigned net_voice_loss_pct(double rt_loss);
