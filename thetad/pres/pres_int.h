/* thetad/pres internals shared by pres_relay.c, pres_link.c and their tests:
 * the interest grid (pres_grid.c) and the user state and sent-frame history
 * both sides keep (pres_user.c). Not for use outside thetad/pres and its
 * tests. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "pres/pres.h"

/* ---- the interest grid ------------------------------------------------ */

/* Cubic cells cell_m wide; a cell is named by floor(p / cell_m) per axis,
 * p clamped to +-PROTO_PRES_RANGE_M first (as the codec clamps), so cell
 * coordinates stay within +-PRES_GRID_COORD_MAX. Items (user ids) hang off
 * the cell they are in; cells are found by a hash of their coordinates. */
#define PRES_GRID_ITEMS_MAX PROTO_PRES_USERS_MAX
#define PRES_GRID_BUCKETS 256u /* power of two, at least twice the cells a grid can hold */
#define PRES_GRID_NONE 0xffffu
#define PRES_GRID_COORD_MAX 2001

struct pres_grid_cell {
	int32_t c[3];
	uint16_t first;       /* first item in it */
	uint16_t next;        /* next cell of the same hash bucket */
};

struct pres_grid {
	float cell_m;
	unsigned n_cells, n_items;
	uint16_t bucket[PRES_GRID_BUCKETS];           /* first cell of each bucket */
	struct pres_grid_cell cells[PRES_GRID_ITEMS_MAX];
	uint16_t item_id[PRES_GRID_ITEMS_MAX];
	uint16_t item_next[PRES_GRID_ITEMS_MAX];      /* next item in the same cell */
	uint16_t item_cell[PRES_GRID_ITEMS_MAX];
};

struct pres_grid_hit {
	uint16_t id;
	uint16_t dist; /* Chebyshev distance in cells from the query's cell */
};

/* Empties g and sets its cell size (> 0, finite). */
void pres_grid_init(struct pres_grid *g, float cell_m);
void pres_grid_clear(struct pres_grid *g);
/* The cell of position p[3] (each coordinate finite; clamped to the range). */
void pres_grid_cell_of(float cell_m, const float p[3], int32_t out[3]);
/* Chebyshev distance between two cells. */
uint32_t pres_grid_dist(const int32_t a[3], const int32_t b[3]);
/* Adds item id at position p. -EINVAL for a non-finite coordinate or an id
 * >= PRES_GRID_ITEMS_MAX, -ENOSPC when the grid holds PRES_GRID_ITEMS_MAX. */
int pres_grid_add(struct pres_grid *g, unsigned id, const float p[3]);
/* The items within Chebyshev distance r (cells) of cell c, with their
 * distances, into out[0..cap): their count (at most cap). Probes the
 * (2r+1)^3 cells around c when that is fewer than the occupied cells,
 * otherwise walks the occupied cells: the cost is bounded by both. */
unsigned pres_grid_query(const struct pres_grid *g, const int32_t c[3], unsigned r, struct pres_grid_hit *out,
			 unsigned cap);
/* The cosine of a view cone's half angle (degrees, 0..180). */
float pres_grid_view_cos(float half_deg);
/* Whether target (a position) lies in the view cone of head (a pose: px py
 * pz qx qy qz qw; looking along -Z of its orientation, OpenXR's forward)
 * of half angle acos(cos_half). A target at the head's own position is in
 * view; a head without a usable orientation (zero quaternion) sees nothing. */
bool pres_grid_in_view(const float head[7], float cos_half, const float target[3]);

/* ---- user state -------------------------------------------------------- */

/* In pres_relay_update's and pres_link_local's u->valid, beside
 * PROTO_PRES_F_*: PRES_ENDED(f) says that field f has ended (the cursor
 * left, the drag ended or was cancelled, the user stopped speaking): the
 * user's f is cleared. Defined in pres.h; checked here. */
#define PRES_VALID_IN_MASK (PROTO_PRES_F_ALL | PRES_ENDED(PROTO_PRES_F_ALL))

#define PRES_TOOL_MAX 255u

#define PRES_POSE_FIELDS (PROTO_PRES_F_HEAD | PROTO_PRES_F_LEFT | PROTO_PRES_F_RIGHT)
#define PRES_PRESENCE_FIELDS (PROTO_PRES_F_CURSOR | PROTO_PRES_F_PREVIEW | PROTO_PRES_F_SPEAKING)

/* 0, or -EINVAL: no key (all zero), a bit outside PRES_VALID_IN_MASK, a
 * field both given and ended, a non-finite value in a given field, a tool
 * above PRES_TOOL_MAX. */
int pres_user_check(const struct proto_pres_user *u);
/* Merges src (checked) into dst: the fields in src->valid replace dst's,
 * the ended ones are cleared, t_ns is the newer. An update holding no pose
 * part and no PRES_ENDED bit is a presence change: its cursor, preview and
 * speaking flag replace the user's whole (one it lacks has ended). Returns
 * the PROTO_PRES_F_* fields whose value (or presence) changed. */
uint32_t pres_user_merge(struct proto_pres_user *dst, const struct proto_pres_user *src);
/* Replaces dst with src (a whole decoded state): the fields that changed. */
uint32_t pres_user_replace(struct proto_pres_user *dst, const struct proto_pres_user *src);

/* ---- what one sending channel sent --------------------------------------
 * Each frame coded remembers the version stamp it was coded at and which
 * user slots it carried; when the peer acknowledges it, each of those
 * slots' acked stamp rises to it (the peer holds that user's state as of
 * then). Only the acknowledged frame itself counts: frames below an ack
 * may have been lost. */
#define PRES_SLOT_WORDS ((PROTO_PRES_USERS_MAX + 63u) / 64u)

struct pres_sent {
	uint64_t seq, stamp;
	uint64_t slots[PRES_SLOT_WORDS];
};

struct pres_gone {
	uint8_t key[PROTO_PRES_KEY_LEN];
	uint64_t first_seq; /* the first frame that carried it (0: not sent yet) */
};

/* Users departed that the peer had: offered as gone with every frame from
 * first_seq on (the codec takes a repeat as the same departure) until the
 * peer acknowledges a frame at or after it; a pending departure is also
 * what keeps frames going to an otherwise idle peer until then. */
#define PRES_GONE_PER_FRAME 32u

struct pres_chan {
	struct proto_pres_tx *tx;
	struct proto_pres_rx *rx;
	uint64_t seq;         /* the newest frame coded (frames are numbered from 1) */
	uint64_t acked_seq;   /* the newest frame the peer acknowledged */
	bool rx_content;      /* a frame with users or gones decoded since our last frame */
	uint64_t acked[PROTO_PRES_USERS_MAX];     /* per slot: the stamp the peer holds */
	uint64_t last_sent_ns[PROTO_PRES_USERS_MAX];
	uint64_t last_sent_tick[PROTO_PRES_USERS_MAX];
	bool known[PROTO_PRES_USERS_MAX];         /* sent at least once (a departure is told) */
	bool pending[PROTO_PRES_USERS_MAX];       /* offered, did not fit: first next time */
	struct pres_sent hist[PROTO_PRES_HISTORY];
	struct pres_gone gone[PROTO_PRES_USERS_MAX]; /* departures not acknowledged yet */
	unsigned n_gone;
};

int pres_chan_init(struct pres_chan *ch);
void pres_chan_fini(struct pres_chan *ch);
/* Forget what the peer holds (every slot is offered again). */
void pres_chan_reset_acked(struct pres_chan *ch);
/* Slot s now holds another user (or none): its history goes. */
void pres_chan_slot_reset(struct pres_chan *ch, unsigned s);
/* The peer acknowledged seq (a frame's ack field). */
void pres_chan_on_ack(struct pres_chan *ch, uint64_t seq);
/* Queue a departure (a key already queued is kept once; when full, the
 * oldest is dropped: the peer's copy then times out). */
void pres_chan_gone_add(struct pres_chan *ch, const uint8_t key[PROTO_PRES_KEY_LEN]);
/* Drop a queued departure of key (the user came back). */
void pres_chan_gone_drop(struct pres_chan *ch, const uint8_t key[PROTO_PRES_KEY_LEN]);
/* The departures to put in the next frame (the first *n of ch->gone). */
unsigned pres_chan_gone_count(const struct pres_chan *ch);
/* After a frame seq was coded carrying slots[0..n) (those taken) and the
 * first n_gone departures, at stamp: remember it. */
void pres_chan_sent(struct pres_chan *ch, uint64_t seq, uint64_t stamp, const uint16_t *slots, unsigned n,
		    unsigned n_gone, uint64_t tick, uint64_t now_ns);

/* A user unchanged is offered again after this long (its t_ns advanced), so
 * the receiver's copy stays fresh (theta-client drops an avatar part not
 * updated for 2 s, APP_AVATARS_TIMEOUT_NS). */
#define PRES_REFRESH_NS (500ull * 1000 * 1000)

/* Candidates ordering: the longest unsent first, then tier, then distance. */
struct pres_cand {
	uint16_t slot;
	uint8_t tier;
	bool changed; /* not only a refresh */
	uint16_t dist;
	uint64_t last_tick;
};
void pres_cand_sort(struct pres_cand *c, unsigned n);
