/* Which member a pose's author belongs to, on the host (see docs/network.md,
 * "Poses"). A member daemon relays the poses of its local users; the host
 * passes a pose on only for an author that belongs to the member it came
 * from, so one member cannot move another's avatar. What the host knows:
 *
 *  - proof: an entry by the author became durable at the host from that
 *    member's connection (or from this daemon itself, owner 0: its own local
 *    users, whose poses and entries the host sees directly). A proof binds
 *    the author to that owner and overrides any claim.
 *  - the member's identity key belongs to it (bound as a proof when the
 *    host accepts its HELLO).
 *  - claim: a pose for an author nobody is bound to binds it to the member
 *    that sent it (at most NET_POSE_CLAIMS_MAX per member, so a member cannot
 *    fill the table), until that member's connection ends.
 *
 * A pose for an author bound to someone else is refused (and counted by the
 * caller). Bindings outlive a member's reconnect, not a restart of the host;
 * after one, a member's users are claimed again by their next pose, and an
 * entry proves them. No I/O. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define NET_POSE_OWNERS_MAX 256u /* authors bound per hosted session */
#define NET_POSE_CLAIMS_MAX 16u  /* authors one member may bind by pose alone */
#define NET_POSE_OWNER_LOCAL 0u  /* the host daemon's own users (members have peer ids >= 1) */

struct net_pose_owners {
	struct net_pose_owner {
		uint8_t author[32];
		uint32_t owner;     /* NET_POSE_OWNER_LOCAL or a member's peer id */
		bool proven;        /* by an entry; else a claim */
	} v[NET_POSE_OWNERS_MAX];
	unsigned n;
};

void net_pose_owners_init(struct net_pose_owners *o);
/* An entry by author became durable from owner, or owner is a member whose
 * identity key is author. */
void net_pose_owners_prove(struct net_pose_owners *o, const uint8_t author[32], uint32_t owner);
/* A pose by author arrived from member `owner`: 0 accept (a claim may be
 * recorded), -EPERM it belongs to someone else, -ENOSPC it belongs to
 * nobody and this member may claim no more. */
int net_pose_owners_check(struct net_pose_owners *o, const uint8_t author[32], uint32_t owner);
/* owner's connection ended: its claims go (proofs stay). */
void net_pose_owners_release(struct net_pose_owners *o, uint32_t owner);
