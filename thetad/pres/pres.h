/* thetad/pres: presence at the host and at a member (docs/presence.md).
 *
 * The host keeps one struct pres_relay per hosted session: every user's
 * newest presence (from its own clients, PRES_FROM_LOCAL, and from members'
 * PRES frames), an interest grid of cubic cells PRES cell_m wide, and per
 * receiver (a member's connection, by peer id) the channel pair of
 * proto/pres.h. Every 1/tick_hz s it codes one frame per receiver: the
 * users that changed since the receiver's acknowledged baseline, each at
 * the rate its distance from the receiver's viewpoints allows —
 *
 *   near  within near_cells (Chebyshev, in cells) of a viewpoint, or in a
 *         viewpoint's view cone (half angle view_deg) within view_cells:
 *         every tick;
 *   far   within far_cells: far_hz;
 *   culled  beyond: never (the receiver's avatar times out).
 *
 * A receiver's viewpoints are the heads of the users that came from it
 * (a member daemon's local users); a receiver with none gets every user at
 * the far rate. Previews (PROTO_PRES_F_PREVIEW) go only to receivers whose
 * role edits (viewers see poses, cursors and speaking flags). The same grid
 * answers pres_relay_audible, with which the host's voice relay culls far
 * speakers (beyond voice_cells).
 *
 * A member keeps one struct pres_link per joined session: its local users'
 * presence, coded to the host every tick (every user that changed), and
 * the host's frames decoded for delivery to its clients.
 *
 * Pure: times are arguments, no I/O, no logging; frames leave through the
 * caller's emit callback. Everything from a peer is validated
 * (proto_pres_decode) and an update for a user that does not belong to the
 * sending member is refused through the caller's may_update check. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* proto/pres.h by its path: "pres.h" would name this file itself. */
#include "../../proto/pres.h"

#define PRES_FROM_LOCAL 0u /* the host daemon's own clients (members have peer ids >= 1) */
#define PRES_RECEIVERS_MAX 256u

struct pres_config {
	float cell_m;          /* [presence] cell_m: 4 */
	unsigned near_cells;   /* near_cells: 1 */
	unsigned view_cells;   /* view_cells: 4 */
	float view_deg;        /* view_deg: 55 (half angle of the view cone) */
	unsigned far_cells;    /* far_cells: 8 */
	unsigned far_hz;       /* far_hz: 5 */
	unsigned tick_hz;      /* tick_hz: 90 */
	unsigned voice_cells;  /* voice_cells: 6 */
};
void pres_config_default(struct pres_config *c);
/* NULL, or a sentence saying which value is out of range. */
const char *pres_config_check(const struct pres_config *c);

struct pres_stats {
	uint64_t ticks, frames_out, bytes_out, frames_in, bytes_in, refused_in;
	uint64_t records_out;      /* user records sent */
	uint64_t poses_out;        /* pose parts in them (the figure bytes_per_pose divides by) */
	uint64_t updates_in;       /* user updates taken (local and from members) */
	uint64_t considered;       /* (receiver, user) pairs with a change to send, each tick */
	uint64_t irrelevant;       /* of them, far or culled for that receiver */
	uint64_t irrelevant_sent;  /* of those, sent anyway (far_hz) */
	uint64_t previews_withheld;/* previews not sent to a viewer */
	uint64_t voice_culled, voice_passed;
};

struct pres_relay;
int pres_relay_new(const struct pres_config *c, struct pres_relay **out);
void pres_relay_free(struct pres_relay **r);
/* New settings (reload); the grid is rebuilt at the next tick. */
void pres_relay_configure(struct pres_relay *r, const struct pres_config *c);

/* In pres_relay_update's and pres_link_local's u->valid, beside
 * PROTO_PRES_F_*: PRES_ENDED(f) says field f has ended (the cursor left,
 * the drag ended or was cancelled, the user stopped speaking): the user's
 * f is cleared, and receivers see it without f. */
#define PRES_ENDED_SHIFT 8u
#define PRES_ENDED(f) ((uint32_t)(f) << PRES_ENDED_SHIFT)

/* A user's presence from `from` (PRES_FROM_LOCAL or a member's peer id):
 * the fields in u->valid replace the user's, others stay, except that an
 * update with no pose part (HEAD/LEFT/RIGHT) and no PRES_ENDED bit is a
 * presence change whose CURSOR/PREVIEW/SPEAKING replace the user's whole
 * (a bit not set: that thing ended); an update older
 * than the user's newest (t_ns) is ignored. -ENOSPC: as many users as the
 * session holds (PROTO_PRES_USERS_MAX). */
int pres_relay_update(struct pres_relay *r, uint32_t from, const struct proto_pres_user *u, uint64_t now_ns);
/* The user is gone (its client left): receivers are told so. */
void pres_relay_user_gone(struct pres_relay *r, const uint8_t key[PROTO_PRES_KEY_LEN]);

/* A member's connection became active (editor: its role may edit), changed
 * role, or ended (its users go with it). */
int pres_relay_receiver_add(struct pres_relay *r, uint32_t peer, bool editor);
void pres_relay_receiver_role(struct pres_relay *r, uint32_t peer, bool editor);
void pres_relay_receiver_remove(struct pres_relay *r, uint32_t peer);

/* A PRES frame from member peer (the bytes after the datagram kind):
 * decoded, its ack taken, each user in it checked with may_update (false:
 * not that member's user, refused and counted by the caller) and taken;
 * on_user (may be NULL) hears every user taken (the host delivers it to its
 * own clients). 0, or proto_pres_decode's error. */
int pres_relay_on_frame(struct pres_relay *r, uint32_t peer, const uint8_t *p, size_t len, uint64_t now_ns,
			bool (*may_update)(void *ud, uint32_t peer, const uint8_t key[PROTO_PRES_KEY_LEN]),
			void (*on_user)(void *ud, const struct proto_pres_user *u), void *ud);

/* When the next tick is due (CLOCK_MONOTONIC ns). */
uint64_t pres_relay_next(const struct pres_relay *r);
/* If due, code one frame per receiver and hand each to emit. */
void pres_relay_tick(struct pres_relay *r, uint64_t now_ns,
		     void (*emit)(void *ud, uint32_t peer, const uint8_t *frame, size_t len), void *ud);

/* Whether receiver peer should hear speaker (the voice relay's cull): true
 * when the speaker has no known head, the receiver no viewpoint, or the
 * speaker is within voice_cells of one of them. Counted in the stats. */
bool pres_relay_audible(struct pres_relay *r, const uint8_t speaker[PROTO_PRES_KEY_LEN], uint32_t peer);

void pres_relay_stats(const struct pres_relay *r, struct pres_stats *st);

/* ---- a member's side -------------------------------------------------- */
struct pres_link;
int pres_link_new(const struct pres_config *c, struct pres_link **out);
void pres_link_free(struct pres_link **l);
/* A local user's presence (merged as in pres_relay_update) or departure. */
int pres_link_local(struct pres_link *l, const struct proto_pres_user *u, uint64_t now_ns);
void pres_link_local_gone(struct pres_link *l, const uint8_t key[PROTO_PRES_KEY_LEN]);
uint64_t pres_link_next(const struct pres_link *l);
/* If due, code the frame for the host (every local user that changed, the
 * ack of the host's frames) into out: its length, 0 when not due, <0 error. */
int pres_link_tick(struct pres_link *l, uint64_t now_ns, uint8_t *out, size_t cap);
/* A frame from the host: decoded into *f (the users to deliver to local
 * clients and those gone), its ack taken. */
int pres_link_on_frame(struct pres_link *l, const uint8_t *p, size_t len, struct proto_pres_frame *f);
void pres_link_stats(const struct pres_link *l, struct pres_stats *st);
