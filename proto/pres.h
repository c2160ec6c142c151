/* Presence frames (docs/presence.md): the ephemeral state of users — head
 * and hand poses, tool cursor, the live preview of a manipulation, the
 * speaking flag — as it travels between daemons in PRES datagrams
 * (proto/session_msgs.def: u8 kind PROTO_SESS_DG_PRES, then the bytes
 * proto_pres_encode writes).
 *
 * One channel per direction of a QUIC connection: the sender keeps a
 * struct proto_pres_tx, the receiver a struct proto_pres_rx. Every frame is
 * numbered (seq, from 1) and coded against a baseline: the newest frame of
 * this channel the receiver has acknowledged (0: none, the frame is whole).
 * Each side's frames carry an ack, the highest seq it has decoded from the
 * other side, so a channel's acks ride in the opposite channel's frames
 * (Quake 3's snapshots; Glenn Fiedler's "Snapshot Compression").
 *
 * A frame holds records for some users (the sender picks which: interest,
 * rates), each naming its user by a small slot number the sender assigns
 * per channel; a record for a slot the baseline does not hold carries the
 * user's whole key. Values are quantized — positions to 1 mm within
 * ±PROTO_PRES_RANGE_M of the origin (clamped), rotations as smallest-three
 * with PROTO_PRES_QBITS bits per component, sample times to 0.1 ms before
 * the frame's time — and coded as differences from the baseline's values,
 * fields that did not change omitted. The body is then compressed with zstd
 * and the dictionary shipped in schemas/presence.dict (its hash is part of
 * the session handshake hash, proto_sess_handshake_hash), unless that would
 * be larger.
 *
 * A user absent from a frame keeps its state (far users are sent less
 * often); a user the receiver should forget is sent as gone (GONE) until a
 * baseline without it is acknowledged.
 *
 * Both sides reconstruct the same quantized state for every frame, so the
 * receiver's view of a user is exactly what the sender encoded. Everything
 * decoded is validated: a frame that is malformed, names a baseline the
 * receiver no longer holds, or would exceed a limit is refused whole
 * (-EBADMSG, -ENOENT for the missing baseline) and changes nothing.
 *
 * Pure: no clock (times are arguments), no I/O, no logging. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_PRES_KEY_LEN 32u
#define PROTO_PRES_USERS_MAX 128u   /* users one channel carries (slots) */
#define PROTO_PRES_HISTORY 32u      /* sent frames a sender may remember for their acks (thetad/pres);
				     * the codec itself keeps PROTO_PRES_BASE_MAX_AGE + 1 snapshots */
#define PROTO_PRES_BASE_MAX_AGE 16u /* a baseline older than this many frames is not used: whole frame */
#define PROTO_PRES_FRAME_MAX 1152u  /* bytes of one encoded frame (fits a QUIC datagram) */
#define PROTO_PRES_RANGE_M 1000.0f  /* positions are clamped to [-RANGE, RANGE] metres per axis */
#define PROTO_PRES_QBITS 12u        /* bits per smallest-three component */

/* What a user record holds (struct proto_pres_user.valid). HEAD/LEFT/RIGHT
 * are the IPC POSE_F_* bits; the others are IPC PRES_F_*'s values. */
#define PROTO_PRES_F_HEAD 0x01u
#define PROTO_PRES_F_LEFT 0x02u
#define PROTO_PRES_F_RIGHT 0x04u
#define PROTO_PRES_F_CURSOR 0x08u   /* cursor[] and tool */
#define PROTO_PRES_F_PREVIEW 0x10u  /* preview_target and preview[] */
#define PROTO_PRES_F_SPEAKING 0x20u
#define PROTO_PRES_F_ALL 0x3fu

enum proto_pres_part { PROTO_PRES_HEAD, PROTO_PRES_LEFT, PROTO_PRES_RIGHT, PROTO_PRES_PARTS };

/* One user's presence as the encoder takes it and the decoder gives it
 * (floats; the codec quantizes). A pose is px py pz qx qy qz qw. */
struct proto_pres_user {
	uint8_t key[PROTO_PRES_KEY_LEN]; /* the user's identity key (author) */
	uint32_t valid;                  /* PROTO_PRES_F_*: which fields hold a value */
	uint64_t t_ns;                   /* the sender's sample time of the newest field */
	float pose[PROTO_PRES_PARTS][7]; /* HEAD, LEFT, RIGHT */
	float cursor[3];                 /* tool cursor, stage coordinates */
	uint32_t tool;                   /* the cursor's tool (editor tool id, < 256) */
	uint64_t preview_target;         /* the entity a drag in progress moves */
	float preview[7];                /* the transform the drag applies to it now */
};

/* A decoded frame: the users it updated (their whole state after it: the
 * baseline's values with the frame's differences applied) and the ones it
 * said are gone. */
struct proto_pres_frame {
	uint64_t seq;
	uint64_t ack;      /* the highest seq the sender had decoded from us (0: none) */
	uint64_t t_ns;     /* the frame's time (sender's clock) */
	unsigned n, n_gone;
	struct proto_pres_user users[PROTO_PRES_USERS_MAX];
	uint8_t gone[PROTO_PRES_USERS_MAX][PROTO_PRES_KEY_LEN];
};

struct proto_pres_tx; /* a sending channel: slots, the frames sent (history) and the peer's ack */
struct proto_pres_rx; /* a receiving channel: the frames decoded (history), the highest seq */

struct proto_pres_stats {
	uint64_t frames, bytes;          /* frames coded / decoded, their bytes */
	uint64_t records, whole_records; /* user records; of them, coded without a baseline value */
	uint64_t poses;                  /* HEAD/LEFT/RIGHT parts the records hold */
	uint64_t raw_bytes;              /* bodies before zstd */
	uint64_t refused;                /* rx: frames refused (malformed, no baseline) */
};

int proto_pres_tx_new(struct proto_pres_tx **out);
void proto_pres_tx_free(struct proto_pres_tx **tx);
int proto_pres_rx_new(struct proto_pres_rx **out);
void proto_pres_rx_free(struct proto_pres_rx **rx);

/* Code one frame holding records for users[0..n) (in that order, as many
 * as fit in cap and PROTO_PRES_FRAME_MAX) and gone[0..n_gone) (first),
 * against the newest acknowledged frame still usable. ack: what to put in
 * the frame's ack field (proto_pres_rx_ack of our rx for this peer).
 * Writes the frame (without the datagram kind byte) to out; returns its
 * length, and sets *taken to how many of users were included (the caller
 * offers the rest again next time). -ENOSPC when not even the header fits,
 * -EINVAL for a user with no key or more than PROTO_PRES_USERS_MAX distinct
 * users on the channel. */
int proto_pres_encode(struct proto_pres_tx *tx, uint64_t now_ns, const struct proto_pres_user *users, unsigned n,
		      const uint8_t (*gone)[PROTO_PRES_KEY_LEN], unsigned n_gone, uint64_t ack, uint8_t *out,
		      size_t cap, unsigned *taken);
/* The peer acknowledged frame seq (the ack field of a frame from it). */
void proto_pres_tx_on_ack(struct proto_pres_tx *tx, uint64_t seq);

/* Decode one frame (the bytes after the datagram kind) into *out. 0, or
 * -EBADMSG / -ENOENT (baseline no longer held) / -EALREADY (a duplicate or
 * a frame older than the newest decoded one: poses never go back). */
int proto_pres_decode(struct proto_pres_rx *rx, const uint8_t *p, size_t len, struct proto_pres_frame *out);
/* The highest seq decoded (0: none): the ack our frames carry. */
uint64_t proto_pres_rx_ack(const struct proto_pres_rx *rx);

void proto_pres_tx_stats(const struct proto_pres_tx *tx, struct proto_pres_stats *st);
void proto_pres_rx_stats(const struct proto_pres_rx *rx, struct proto_pres_stats *st);

/* The shipped dictionary's hash (first 8 bytes of its BLAKE2b-256, LE),
 * which proto_sess_handshake_hash covers. */
uint64_t proto_pres_dict_hash(void);
/* The raw size today's POSE datagram gives one pose (the figure
 * presence.bytes_per_pose is compared with): kind, author, t_ns, 7 floats,
 * flags. */
#define PROTO_PRES_RAW_POSE_BYTES 73u

/* How a channel's frames are coded: DICT (zstd with the shipped dictionary;
 * the default, PLAIN when the build has none), PLAIN (zstd alone) or RAW
 * (no zstd) — for benchmarks and the dictionary trainer. Each frame says
 * which, so every receiver decodes them all. 0, -ENOENT (DICT without a
 * dictionary) or -EINVAL. */
enum proto_pres_coding { PROTO_PRES_CODE_DICT, PROTO_PRES_CODE_PLAIN, PROTO_PRES_CODE_RAW };
int proto_pres_tx_set_coding(struct proto_pres_tx *tx, enum proto_pres_coding c);
/* Off (the default): a frame holds records only for the users offered to
 * that proto_pres_encode (and GONEs); the caller re-offers a user until a
 * frame carrying its newest state is acknowledged, or accepts that a lost
 * update waits for the next (thetad/pres does the former). On: every frame
 * also holds, after the users offered, each user whose newest state offered
 * the baseline lacks, until acknowledged (tests, the dictionary trainer). */
void proto_pres_tx_set_resend(struct proto_pres_tx *tx, bool on);
/* The last frame's body before zstd (the dictionary trainer's samples). */
const uint8_t *proto_pres_tx_last_body(const struct proto_pres_tx *tx, size_t *len);
/* The shipped dictionary (schemas/presence.dict, compiled in; len 0: none). */
const uint8_t *proto_pres_dict(size_t *len);
