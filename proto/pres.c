/* Presence frames (proto/pres.h; the wire format byte by byte is in
 * docs/presence.md, "The frame").
 *
 * Both sides keep, per channel, the quantized state after each of the last
 * PRES_SNAPS frames (a snapshot: every slot's user as integers). A frame is
 * coded against one of them (the newest acknowledged) and its snapshot is
 * that baseline with the frame's records applied and its GONE slots
 * removed; the sender builds it as it codes, the receiver as it decodes, by
 * the same integer arithmetic, so both hold the same one. */
#define ZSTD_STATIC_LINKING_ONLY /* one bare block per frame: no frame or block header */
#include "pres.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "th_buf.h"
#include "pres/presence_dict.h" /* generated from schemas/presence.dict: pres_dict_bytes, PRES_DICT_LEN */

/* Snapshots kept: a baseline is at most PROTO_PRES_BASE_MAX_AGE frames
 * older than the frame coded against it, so older ones are never used. */
#define PRES_SNAPS (PROTO_PRES_BASE_MAX_AGE + 1u)
#define PRES_TUNIT_NS 100000ull    /* times travel in 0.1 ms */
#define PRES_MM_MAX 1000000        /* PROTO_PRES_RANGE_M in mm */
#define PRES_QMAX ((1 << PROTO_PRES_QBITS) - 1)
#define PRES_TOOL_MAX 255
#define PRES_PRED_SPAN 2500        /* extrapolate over at most 250 ms (0.1 ms units) */
#define PRES_T_MAX (UINT64_MAX / PRES_TUNIT_NS)
#define PRES_ZSTD_LEVEL 3
#define PRES_ZSTD_MIN 24           /* bodies shorter than this are sent raw */
#define PRES_HASH_BUCKETS 256u     /* key -> slot table (twice PROTO_PRES_USERS_MAX) */
#define PRES_HDR_MAX (1 + 10 + 10 + 1 + 10) /* flags, seq, ack, base age, time */
#define PRES_HDR_MIN 8             /* the smallest frame: a header of short fields, two counts */

/* Frame flags (byte 0): how the body is coded; other bits must be 0. */
#define PRES_CODING_MASK 0x03u
#define PRES_CODING_RAW 0u
#define PRES_CODING_DICT 1u
#define PRES_CODING_PLAIN 2u

/* Record header bytes. */
#define PRES_SLOT_KEY 0x80u   /* slot byte: the user's key follows (in the key column) */
#define PRES_SLOT_MASK 0x7fu
#define PRES_M_TARGET 0x20u   /* change mask: preview_target follows */
#define PRES_M_VALID 0x40u    /* change mask: the valid byte follows (else the baseline's) */
#define PRES_M_ALL (PRES_M_VALID | PRES_M_TARGET | ((1u << PRES_GROUPS) - 1))

/* Frame byte 0: coding (bits 0-1), baseline age (bits 2-6), bit 7 zero. */
#define PRES_AGE_SHIFT 2
#define PRES_F_RESERVED 0x80u

/* The integers of one user: per part px py pz (mm), the smallest-three
 * index, its three components; the cursor x y z and tool; the preview's
 * transform like a part. */
enum { PRES_NV = 32 };
enum { PRES_G_HEAD, PRES_G_LEFT, PRES_G_RIGHT, PRES_G_CURSOR, PRES_G_PREVIEW, PRES_GROUPS };
enum { K_POS, K_IDX, K_ROT, K_TOOL };
static const struct {
	uint8_t off, n, flag;
} groups[PRES_GROUPS] = {
	{ 0, 7, PROTO_PRES_F_HEAD },	{ 7, 7, PROTO_PRES_F_LEFT }, { 14, 7, PROTO_PRES_F_RIGHT },
	{ 21, 4, PROTO_PRES_F_CURSOR }, { 25, 7, PROTO_PRES_F_PREVIEW },
};
/* what each integer is (within a group of 7: pos pos pos idx rot rot rot; cursor: pos pos pos tool) */
static uint8_t kind_of(unsigned g, unsigned k)
{
	if (k < 3)
		return K_POS;
	if (g == PRES_G_CURSOR)
		return K_TOOL;
	return k == 3 ? K_IDX : K_ROT;
}

struct pres_ent {
	uint8_t key[PROTO_PRES_KEY_LEN];
	uint8_t valid;    /* PROTO_PRES_F_* */
	uint8_t has_prev; /* pv and pt hold the record before (extrapolation) */
	uint8_t slot;
	int64_t t, pt;    /* sample time of this record / the one before (0.1 ms) */
	int32_t v[PRES_NV], pv[PRES_NV];
	uint64_t target;
};

struct pres_snap {
	uint64_t seq;    /* 0: empty ring place */
	int64_t t;       /* the frame's time (0.1 ms) */
	uint64_t ack;    /* the frame's ack field */
	unsigned n;
	uint8_t at[PROTO_PRES_USERS_MAX]; /* slot -> index in e, 0xff none */
	struct pres_ent e[PROTO_PRES_USERS_MAX];
};

enum { SLOT_FREE, SLOT_ALIVE, SLOT_GONE };

/* A body before zstd is at most this long: records are coded until it
 * is reached, then as many kept as fit the frame once compressed. */
#define PRES_BODY_MAX (4u * PROTO_PRES_FRAME_MAX)
#define PRES_REC_MAX (3 + 10 + PRES_NV * 5 + 10)
#define PRES_COL_CAP (PRES_BODY_MAX + PRES_REC_MAX + PROTO_PRES_KEY_LEN)

/* A record coded but not yet part of the frame: where its columns start. */
struct pres_rec {
	size_t h, t, r, k;
	unsigned user;               /* its index in the encoder's users */
	uint8_t slot;
	const struct pres_ent *base; /* the baseline's entry, NULL: coded whole */
};

struct proto_pres_tx {
	uint64_t seq, acked;
	struct pres_snap *ring[PRES_SNAPS], *spare;
	uint8_t state[PROTO_PRES_USERS_MAX];
	uint8_t key[PROTO_PRES_USERS_MAX][PROTO_PRES_KEY_LEN];
	uint64_t gone_seq[PROTO_PRES_USERS_MAX];
	uint8_t hash[PRES_HASH_BUCKETS]; /* slot + 1, 0 empty */
	int coding;
	bool resend;
	ZSTD_CCtx *zc;
	size_t body_len;
	uint8_t body[PRES_BODY_MAX];
	struct pres_ent cur[PROTO_PRES_USERS_MAX]; /* every user's newest state offered (has_cur) */
	uint8_t has_cur[PROTO_PRES_USERS_MAX];
	uint8_t mark[PROTO_PRES_USERS_MAX];
	struct pres_rec rec[PROTO_PRES_USERS_MAX + 1];
	uint8_t order[PROTO_PRES_USERS_MAX];       /* the slots in the order they are coded */
	unsigned order_user[PROTO_PRES_USERS_MAX]; /* and the index of the user offered (n: not offered) */
	uint8_t col_gone[PROTO_PRES_USERS_MAX], col_hdr[PROTO_PRES_USERS_MAX * 3];
	uint8_t col_time[PROTO_PRES_USERS_MAX * 10 + 10], col_res[PRES_COL_CAP], col_key[PRES_COL_CAP];
	struct proto_pres_stats st;
};

struct proto_pres_rx {
	uint64_t newest;
	struct pres_snap *ring[PRES_SNAPS], *spare;
	uint8_t known[PROTO_PRES_USERS_MAX];
	uint8_t known_key[PROTO_PRES_USERS_MAX][PROTO_PRES_KEY_LEN];
	ZSTD_DCtx *zd;
	uint8_t body[PRES_BODY_MAX];
	struct proto_pres_stats st;
};

/* ---- the dictionary ------------------------------------------------------------------- */

static pthread_once_t dict_once = PTHREAD_ONCE_INIT;
static ZSTD_CDict *dict_c;
static ZSTD_DDict *dict_d;

static void dict_make(void)
{
	if (PRES_DICT_LEN == 0)
		return;
	/* a window that holds the dictionary and a whole body: a block can be the body */
	ZSTD_compressionParameters cp = ZSTD_getCParams(PRES_ZSTD_LEVEL, PRES_BODY_MAX, PRES_DICT_LEN);
	dict_c = ZSTD_createCDict_advanced(pres_dict_bytes, PRES_DICT_LEN, ZSTD_dlm_byRef, ZSTD_dct_auto, cp,
					   ZSTD_defaultCMem);
	dict_d = ZSTD_createDDict_advanced(pres_dict_bytes, PRES_DICT_LEN, ZSTD_dlm_byRef, ZSTD_dct_auto,
					   ZSTD_defaultCMem);
}

uint64_t proto_pres_dict_hash(void)
{
	uint8_t h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof h, pres_dict_bytes, PRES_DICT_LEN, NULL, 0);
	return th_get_le64(h);
}

const uint8_t *proto_pres_dict(size_t *len)
{
	*len = PRES_DICT_LEN;
	return pres_dict_bytes;
}

/* ---- bytes ---------------------------------------------------------------------------- */

static size_t put_var(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

struct rd {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

/* A minimal LEB128: no more than 10 bytes, no bits past 64, no redundant
 * trailing zero byte (one encoding per value). */
static uint64_t get_var(struct rd *r)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 10; i++) {
		if (r->at >= r->n) {
			r->bad = true;
			return 0;
		}
		uint8_t b = r->p[r->at++];
		if (i == 9 && b > 1) {
			r->bad = true;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				r->bad = true;
			return v;
		}
	}
	r->bad = true;
	return 0;
}

static uint8_t get_u8(struct rd *r)
{
	if (r->at >= r->n) {
		r->bad = true;
		return 0;
	}
	return r->p[r->at++];
}

static const uint8_t *get_bytes(struct rd *r, size_t n)
{
	if (r->n - r->at < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->at;
	r->at += n;
	return p;
}

/* ---- quantization --------------------------------------------------------------------- */

#define SQRT1_2 0.70710678f

static int32_t q_mm(float x)
{
	if (!(x == x))
		return 0;
	if (x > PROTO_PRES_RANGE_M)
		x = PROTO_PRES_RANGE_M;
	if (x < -PROTO_PRES_RANGE_M)
		x = -PROTO_PRES_RANGE_M;
	return (int32_t)lrintf(x * 1000.0f);
}

/* the float nearest mm / 1000, which q_mm takes back to mm */
static float dq_mm(int32_t v)
{
	return (float)v / 1000.0f;
}

static int32_t q_comp(float c)
{
	float u = (c / SQRT1_2 + 1.0f) * 0.5f * (float)PRES_QMAX;
	if (!(u >= 0))
		u = 0;
	if (u > (float)PRES_QMAX)
		u = (float)PRES_QMAX;
	return (int32_t)lrintf(u);
}

static float dq_comp(int32_t v)
{
	return ((float)v / (float)PRES_QMAX * 2.0f - 1.0f) * SQRT1_2;
}

static unsigned largest(const float *q)
{
	unsigned m = 0;
	for (unsigned k = 1; k < 4; k++)
		if (fabsf(q[k]) > fabsf(q[m]))
			m = k;
	return m;
}

/* the unit quaternion q as smallest-three with the largest at m */
static void q_rot(const float *q, unsigned m, int32_t *v)
{
	float s = q[m] < 0 ? -1.0f : 1.0f;
	v[0] = (int32_t)m;
	for (unsigned k = 0, j = 0; k < 4; k++)
		if (k != m)
			v[1 + j++] = q_comp(s * q[k]);
}

static void dq_rot(const int32_t *v, float *q)
{
	unsigned m = (unsigned)v[0] & 3u;
	float sum = 0;
	for (unsigned k = 0, j = 0; k < 4; k++)
		if (k != m) {
			q[k] = dq_comp(v[1 + j++]);
			sum += q[k] * q[k];
		}
	q[m] = sum < 1.0f ? sqrtf(1.0f - sum) : 0.0f;
}

#define PRES_TIE 1e-3f /* largest components this close: check the coding is a fixed point */

/* pose: px py pz qx qy qz qw -> v[0..7). Decoding and coding again gives
 * the same integers (a relay passes values on unchanged): when two
 * components are nearly the largest, the one the decoded quaternion
 * shows as largest is the one dropped. */
static void q_pose(const float *p, int32_t *v)
{
	for (unsigned k = 0; k < 3; k++)
		v[k] = q_mm(p[k]);
	float q[4], n2 = 0;
	for (unsigned k = 0; k < 4; k++) {
		q[k] = p[3 + k] == p[3 + k] ? p[3 + k] : 0;
		n2 += q[k] * q[k];
	}
	if (!(n2 > 1e-12f) || !isfinite(n2)) {
		q[0] = q[1] = q[2] = 0;
		q[3] = 1;
		n2 = 1;
	}
	float inv = 1.0f / sqrtf(n2);
	for (unsigned k = 0; k < 4; k++)
		q[k] *= inv;
	unsigned m = largest(q);
	q_rot(q, m, &v[3]);
	float second = 0;
	for (unsigned k = 0; k < 4; k++)
		if (k != m && fabsf(q[k]) > second)
			second = fabsf(q[k]);
	if (fabsf(q[m]) - second < PRES_TIE) {
		float d[4];
		dq_rot(&v[3], d);
		unsigned m2 = largest(d);
		if (m2 != m)
			q_rot(q, m2, &v[3]);
	}
}

static void dq_pose(const int32_t *v, float *p)
{
	for (unsigned k = 0; k < 3; k++)
		p[k] = dq_mm(v[k]);
	dq_rot(&v[3], &p[3]);
}

static void q_user(const struct proto_pres_user *u, struct pres_ent *e)
{
	memset(e->v, 0, sizeof e->v);
	e->valid = (uint8_t)(u->valid & PROTO_PRES_F_ALL);
	e->target = 0;
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++)
		if (e->valid & groups[p].flag)
			q_pose(u->pose[p], &e->v[groups[p].off]);
	if (e->valid & PROTO_PRES_F_CURSOR) {
		for (unsigned k = 0; k < 3; k++)
			e->v[groups[PRES_G_CURSOR].off + k] = q_mm(u->cursor[k]);
		e->v[groups[PRES_G_CURSOR].off + 3] = (int32_t)(u->tool > PRES_TOOL_MAX ? PRES_TOOL_MAX : u->tool);
	}
	if (e->valid & PROTO_PRES_F_PREVIEW) {
		q_pose(u->preview, &e->v[groups[PRES_G_PREVIEW].off]);
		e->target = u->preview_target;
	}
}

static void dq_user(const struct pres_ent *e, struct proto_pres_user *u)
{
	memset(u, 0, sizeof(*u));
	memcpy(u->key, e->key, PROTO_PRES_KEY_LEN);
	u->valid = e->valid;
	u->t_ns = (uint64_t)e->t * PRES_TUNIT_NS;
	for (unsigned p = 0; p < PROTO_PRES_PARTS; p++)
		if (e->valid & groups[p].flag)
			dq_pose(&e->v[groups[p].off], u->pose[p]);
	if (e->valid & PROTO_PRES_F_CURSOR) {
		for (unsigned k = 0; k < 3; k++)
			u->cursor[k] = dq_mm(e->v[groups[PRES_G_CURSOR].off + k]);
		u->tool = (uint32_t)e->v[groups[PRES_G_CURSOR].off + 3];
	}
	if (e->valid & PROTO_PRES_F_PREVIEW) {
		dq_pose(&e->v[groups[PRES_G_PREVIEW].off], u->preview);
		u->preview_target = e->target;
	}
}

static unsigned parts_of(unsigned valid)
{
	return !!(valid & PROTO_PRES_F_HEAD) + !!(valid & PROTO_PRES_F_LEFT) + !!(valid & PROTO_PRES_F_RIGHT);
}

/* ---- prediction: what a record's values are coded against ------------------------------ */

static int32_t clamp_kind(int64_t v, uint8_t kind)
{
	int64_t lo = 0, hi = PRES_QMAX;
	if (kind == K_POS) {
		lo = -PRES_MM_MAX;
		hi = PRES_MM_MAX;
	} else if (kind == K_IDX) {
		hi = 3;
	} else if (kind == K_TOOL) {
		hi = PRES_TOOL_MAX;
	}
	return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

/* The values of group g the baseline entry b predicts at time t: its own,
 * moved on along the line through its record before (positions and
 * rotation components, while the rotation's largest component stays the
 * same one), within 250 ms. A group b does not hold predicts zeros (the
 * record codes it whole). */
static void predict(const struct pres_ent *b, unsigned g, int64_t t, int32_t *out)
{
	unsigned off = groups[g].off, n = groups[g].n;
	if (!b || !(b->valid & groups[g].flag)) {
		memset(out, 0, n * sizeof *out);
		return;
	}
	int64_t dt = t - b->t, dp = b->t - b->pt;
	bool line = b->has_prev && dp > 0 && dp <= PRES_PRED_SPAN && dt > 0 && dt <= PRES_PRED_SPAN;
	bool rot_line = line && (g == PRES_G_CURSOR || b->v[off + 3] == b->pv[off + 3]);
	for (unsigned k = 0; k < n; k++) {
		uint8_t kind = kind_of(g, k);
		int64_t v = b->v[off + k];
		if ((kind == K_POS && line) || (kind == K_ROT && rot_line))
			v += ((int64_t)b->v[off + k] - b->pv[off + k]) * dt / dp;
		out[k] = clamp_kind(v, kind);
	}
}

/* ---- snapshots -------------------------------------------------------------------------- */

static void snap_clear(struct pres_snap *s)
{
	s->seq = 0;
	s->t = 0;
	s->ack = 0;
	s->n = 0;
	memset(s->at, 0xff, sizeof s->at);
}

static void snap_copy(struct pres_snap *d, const struct pres_snap *s)
{
	d->seq = s->seq;
	d->t = s->t;
	d->ack = s->ack;
	d->n = s->n;
	memcpy(d->at, s->at, sizeof d->at);
	memcpy(d->e, s->e, s->n * sizeof s->e[0]);
}

static struct pres_ent *snap_get(struct pres_snap *s, unsigned slot)
{
	return s->at[slot] == 0xff ? NULL : &s->e[s->at[slot]];
}

static struct pres_ent *snap_add(struct pres_snap *s, unsigned slot)
{
	struct pres_ent *e = &s->e[s->n];
	s->at[slot] = (uint8_t)s->n++;
	memset(e, 0, sizeof(*e));
	e->slot = (uint8_t)slot;
	return e;
}

static void snap_del(struct pres_snap *s, unsigned slot)
{
	unsigned i = s->at[slot];
	if (i == 0xff)
		return;
	s->at[slot] = 0xff;
	if (i != --s->n) {
		s->e[i] = s->e[s->n];
		s->at[s->e[i].slot] = (uint8_t)i;
	}
}

static struct pres_snap *ring_find(struct pres_snap *const *ring, uint64_t seq)
{
	struct pres_snap *s = ring[seq % PRES_SNAPS];
	return seq && s->seq == seq ? s : NULL;
}

static int ring_alloc(struct pres_snap **ring, struct pres_snap **spare)
{
	for (unsigned i = 0; i <= PRES_SNAPS; i++) {
		struct pres_snap *s = malloc(sizeof(*s));
		if (!s)
			return -ENOMEM;
		snap_clear(s);
		if (i < PRES_SNAPS)
			ring[i] = s;
		else
			*spare = s;
	}
	return 0;
}

static void ring_free(struct pres_snap **ring, struct pres_snap **spare)
{
	for (unsigned i = 0; i < PRES_SNAPS; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
	free(*spare);
	*spare = NULL;
}

/* The new snapshot takes the ring place of its seq; the one there becomes the spare. */
static void ring_commit(struct pres_snap **ring, struct pres_snap **spare)
{
	unsigned i = (unsigned)((*spare)->seq % PRES_SNAPS);
	struct pres_snap *old = ring[i];
	ring[i] = *spare;
	*spare = old;
}

/* A record's values (cur, time t, valid) applied to the entry: the one
 * before becomes the line's first point. */
static void ent_apply(struct pres_ent *e, const struct pres_ent *base, const int32_t *v, uint8_t valid,
		      uint64_t target, int64_t t)
{
	if (base) {
		memcpy(e->pv, base->v, sizeof e->pv);
		e->pt = base->t;
		e->has_prev = 1;
	} else {
		e->has_prev = 0;
		e->pt = 0;
	}
	memcpy(e->v, v, sizeof e->v);
	for (unsigned g = 0; g < PRES_GROUPS; g++) {
		unsigned off = groups[g].off, n = groups[g].n;
		/* a group that starts here has no line yet: it stands still */
		if (!base || !(base->valid & groups[g].flag))
			memcpy(&e->pv[off], &v[off], n * sizeof *v);
	}
	e->valid = valid;
	e->target = target;
	e->t = t;
}

/* ---- channels --------------------------------------------------------------------------- */

int proto_pres_tx_new(struct proto_pres_tx **out)
{
	struct proto_pres_tx *tx = calloc(1, sizeof(*tx));
	if (!tx)
		return -ENOMEM;
	pthread_once(&dict_once, dict_make);
	tx->coding = dict_c ? PRES_CODING_DICT : PRES_CODING_PLAIN;
	tx->zc = ZSTD_createCCtx();
	int r = tx->zc ? ring_alloc(tx->ring, &tx->spare) : -ENOMEM;
	if (r < 0) {
		proto_pres_tx_free(&tx);
		return r;
	}
	*out = tx;
	return 0;
}

void proto_pres_tx_free(struct proto_pres_tx **txp)
{
	struct proto_pres_tx *tx = *txp;
	if (!tx)
		return;
	ring_free(tx->ring, &tx->spare);
	ZSTD_freeCCtx(tx->zc);
	free(tx);
	*txp = NULL;
}

int proto_pres_tx_set_coding(struct proto_pres_tx *tx, enum proto_pres_coding c)
{
	switch (c) {
	case PROTO_PRES_CODE_DICT:
		if (!dict_c)
			return -ENOENT;
		tx->coding = PRES_CODING_DICT;
		return 0;
	case PROTO_PRES_CODE_PLAIN:
		tx->coding = PRES_CODING_PLAIN;
		return 0;
	case PROTO_PRES_CODE_RAW:
		tx->coding = PRES_CODING_RAW;
		return 0;
	}
	return -EINVAL;
}

void proto_pres_tx_set_resend(struct proto_pres_tx *tx, bool on)
{
	tx->resend = on;
}

const uint8_t *proto_pres_tx_last_body(const struct proto_pres_tx *tx, size_t *len)
{
	*len = tx->body_len;
	return tx->body;
}

int proto_pres_rx_new(struct proto_pres_rx **out)
{
	struct proto_pres_rx *rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	pthread_once(&dict_once, dict_make);
	rx->zd = ZSTD_createDCtx();
	int r = rx->zd ? ring_alloc(rx->ring, &rx->spare) : -ENOMEM;
	if (r < 0) {
		proto_pres_rx_free(&rx);
		return r;
	}
	*out = rx;
	return 0;
}

void proto_pres_rx_free(struct proto_pres_rx **rxp)
{
	struct proto_pres_rx *rx = *rxp;
	if (!rx)
		return;
	ring_free(rx->ring, &rx->spare);
	ZSTD_freeDCtx(rx->zd);
	free(rx);
	*rxp = NULL;
}

uint64_t proto_pres_rx_ack(const struct proto_pres_rx *rx)
{
	return rx->newest;
}

void proto_pres_tx_stats(const struct proto_pres_tx *tx, struct proto_pres_stats *st)
{
	*st = tx->st;
}

void proto_pres_rx_stats(const struct proto_pres_rx *rx, struct proto_pres_stats *st)
{
	*st = rx->st;
}

void proto_pres_tx_on_ack(struct proto_pres_tx *tx, uint64_t seq)
{
	if (seq > tx->acked && seq <= tx->seq)
		tx->acked = seq;
}

/* ---- the sender's slots ----------------------------------------------------------------- */

static unsigned key_hash(const uint8_t *k)
{
	return (unsigned)(k[0] ^ (k[1] << 3) ^ (k[2] << 5) ^ k[7]) % PRES_HASH_BUCKETS;
}

static int slot_find(const struct proto_pres_tx *tx, const uint8_t *key)
{
	for (unsigned h = key_hash(key), i = 0; i < PRES_HASH_BUCKETS; i++, h = (h + 1) % PRES_HASH_BUCKETS) {
		unsigned s = tx->hash[h];
		if (!s)
			return -1;
		if (memcmp(tx->key[s - 1], key, PROTO_PRES_KEY_LEN) == 0)
			return (int)s - 1;
	}
	return -1;
}

static void hash_put(struct proto_pres_tx *tx, unsigned slot)
{
	unsigned h = key_hash(tx->key[slot]);
	while (tx->hash[h])
		h = (h + 1) % PRES_HASH_BUCKETS;
	tx->hash[h] = (uint8_t)(slot + 1);
}

static void hash_rebuild(struct proto_pres_tx *tx)
{
	memset(tx->hash, 0, sizeof tx->hash);
	for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++)
		if (tx->state[s] != SLOT_FREE)
			hash_put(tx, s);
}

static int slot_new(struct proto_pres_tx *tx, const uint8_t *key)
{
	for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++)
		if (tx->state[s] == SLOT_FREE) {
			tx->state[s] = SLOT_ALIVE;
			memcpy(tx->key[s], key, PROTO_PRES_KEY_LEN);
			hash_put(tx, s);
			return (int)s;
		}
	return -ENOSPC;
}

static bool key_zero(const uint8_t *k)
{
	uint8_t acc = 0;
	for (unsigned i = 0; i < PROTO_PRES_KEY_LEN; i++)
		acc |= k[i];
	return acc == 0;
}

/* ---- encoding --------------------------------------------------------------------------- */

/* Nothing to send: the same values sampled at the same time (a newer
 * sample of unchanged values is sent: it says the user is still there). */
static bool ent_same(const struct pres_ent *a, const struct pres_ent *b)
{
	return a->valid == b->valid && a->t == b->t && a->target == b->target && memcmp(a->v, b->v, sizeof a->v) == 0;
}

/* One record into the columns (their lengths advanced); the entry e holds
 * the quantized user (v, valid, target, t), b the baseline's or NULL. */
static void code_record(struct proto_pres_tx *tx, unsigned slot, const struct pres_ent *e, const struct pres_ent *b,
			bool carry_key, int64_t frame_t, size_t *lh, size_t *lt, size_t *lr, size_t *lk)
{
	uint8_t mask = 0;
	for (unsigned g = 0; g < PRES_GROUPS; g++) {
		unsigned off = groups[g].off, n = groups[g].n;
		if (!(e->valid & groups[g].flag))
			continue;
		if (!b || !(b->valid & groups[g].flag) || memcmp(&b->v[off], &e->v[off], n * sizeof(int32_t)) != 0)
			mask |= (uint8_t)(1u << g);
	}
	if ((e->valid & PROTO_PRES_F_PREVIEW) && (!b || !(b->valid & PROTO_PRES_F_PREVIEW) || b->target != e->target))
		mask |= PRES_M_TARGET;
	if (!b || b->valid != e->valid)
		mask |= PRES_M_VALID;
	tx->col_hdr[(*lh)++] = (uint8_t)(slot | (carry_key ? PRES_SLOT_KEY : 0));
	tx->col_hdr[(*lh)++] = mask;
	if (mask & PRES_M_VALID)
		tx->col_hdr[(*lh)++] = e->valid;
	*lt += put_var(tx->col_time + *lt, (uint64_t)(frame_t - e->t));
	for (unsigned g = 0; g < PRES_GROUPS; g++) {
		if (!(mask & (1u << g)))
			continue;
		unsigned off = groups[g].off, n = groups[g].n;
		int32_t pred[7];
		predict(b, g, e->t, pred);
		bool abs_rot = g != PRES_G_CURSOR && pred[3] != e->v[off + 3];
		for (unsigned k = 0; k < n; k++) {
			int64_t p = (abs_rot && kind_of(g, k) == K_ROT) ? 0 : pred[k];
			*lr += put_var(tx->col_res + *lr, zz((int64_t)e->v[off + k] - p));
		}
	}
	if (mask & PRES_M_TARGET)
		*lr += put_var(tx->col_res + *lr, e->target);
	if (carry_key) {
		memcpy(tx->col_key + *lk, e->key, PROTO_PRES_KEY_LEN);
		*lk += PROTO_PRES_KEY_LEN;
	}
}

/* The body of a frame with the GONE records and the first k records:
 * the two counts, then the columns. */
static size_t assemble(struct proto_pres_tx *tx, unsigned ngone, size_t lg, unsigned k)
{
	const struct pres_rec *e = &tx->rec[k];
	size_t bl = 0;
	bl += put_var(tx->body + bl, ngone);
	bl += put_var(tx->body + bl, k);
	memcpy(tx->body + bl, tx->col_gone, lg), bl += lg;
	memcpy(tx->body + bl, tx->col_hdr, e->h), bl += e->h;
	memcpy(tx->body + bl, tx->col_time, e->t), bl += e->t;
	memcpy(tx->body + bl, tx->col_res, e->r), bl += e->r;
	memcpy(tx->body + bl, tx->col_key, e->k), bl += e->k;
	tx->body_len = bl;
	return bl;
}

int proto_pres_encode(struct proto_pres_tx *tx, uint64_t now_ns, const struct proto_pres_user *users, unsigned n,
		      const uint8_t (*gone)[PROTO_PRES_KEY_LEN], unsigned n_gone, uint64_t ack, uint8_t *out,
		      size_t cap, unsigned *taken)
{
	if (cap > PROTO_PRES_FRAME_MAX)
		cap = PROTO_PRES_FRAME_MAX;
	if ((n && !users) || (n_gone && !gone) || !out || !taken)
		return -EINVAL;
	if (cap < PRES_HDR_MIN)
		return -ENOSPC;
	/* refuse before anything changes: keyless users, more users than slots */
	unsigned need = 0, free_slots = 0;
	for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++)
		free_slots += tx->state[s] == SLOT_FREE ||
			      (tx->state[s] == SLOT_GONE && tx->acked >= tx->gone_seq[s]);
	for (unsigned i = 0; i < n; i++) {
		if (key_zero(users[i].key))
			return -EINVAL;
		need += slot_find(tx, users[i].key) < 0;
	}
	if (need > free_slots)
		return -EINVAL;

	uint64_t seq = tx->seq + 1;
	int64_t frame_t = (int64_t)(now_ns / PRES_TUNIT_NS);
	struct pres_snap *base = NULL;
	if (tx->acked && seq - tx->acked <= PROTO_PRES_BASE_MAX_AGE)
		base = ring_find(tx->ring, tx->acked);

	/* the frame's header: a whole frame names seq and ack in full, a
	 * delta frame seq's low 16 bits and ack against the baseline's */
	uint8_t hdr[PRES_HDR_MAX];
	size_t h = 0;
	unsigned age = base ? (unsigned)(seq - base->seq) : 0;
	hdr[h++] = (uint8_t)(tx->coding | (age << PRES_AGE_SHIFT)); /* the coding is set again below */
	if (base) {
		hdr[h++] = (uint8_t)seq;
		hdr[h++] = (uint8_t)(seq >> 8);
		h += put_var(hdr + h, zz((int64_t)(ack - base->ack)));
		h += put_var(hdr + h, zz(frame_t - base->t));
	} else {
		h += put_var(hdr + h, seq);
		h += put_var(hdr + h, ack);
		h += put_var(hdr + h, (uint64_t)frame_t);
	}
	if (h + 4 > cap)
		return -ENOSPC;

	/* slots whose departure the peer has seen are free again */
	bool freed = false;
	for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++)
		if (tx->state[s] == SLOT_GONE && tx->acked >= tx->gone_seq[s]) {
			tx->state[s] = SLOT_FREE;
			freed = true;
		}
	if (freed)
		hash_rebuild(tx);
	for (unsigned i = 0; i < n_gone; i++) {
		int s = slot_find(tx, gone[i]);
		if (s >= 0 && tx->state[s] == SLOT_ALIVE) {
			tx->state[s] = SLOT_GONE;
			tx->has_cur[s] = 0;
			tx->gone_seq[s] = seq;
		}
	}
	/* the users offered become the channel's newest state (one back is alive again) */
	memset(tx->mark, 0, sizeof tx->mark);
	unsigned nc = 0;
	for (unsigned i = 0; i < n; i++) {
		int s = slot_find(tx, users[i].key);
		if (s < 0)
			s = slot_new(tx, users[i].key);
		if (s < 0)
			return -EINVAL; /* counted above: cannot happen */
		tx->state[s] = SLOT_ALIVE;
		struct pres_ent *c = &tx->cur[s];
		memcpy(c->key, users[i].key, PROTO_PRES_KEY_LEN);
		q_user(&users[i], c);
		c->t = (int64_t)(users[i].t_ns / PRES_TUNIT_NS);
		if (c->t > frame_t)
			c->t = frame_t;
		tx->has_cur[s] = 1;
		if (!tx->mark[s]) {
			tx->mark[s] = 1;
			tx->order[nc] = (uint8_t)s;
			tx->order_user[nc++] = i;
		}
	}
	/* then (resend) every other user whose newest state the baseline
	 * lacks (sent in frames not acknowledged yet, or not at all), from a
	 * place that moves on each frame */
	for (unsigned j = 0; tx->resend && j < PROTO_PRES_USERS_MAX; j++) {
		unsigned s = (unsigned)(seq * 37 + j) % PROTO_PRES_USERS_MAX;
		if (tx->has_cur[s] && !tx->mark[s]) {
			tx->order[nc] = (uint8_t)s;
			tx->order_user[nc++] = n;
		}
	}

	struct pres_snap *ns = tx->spare;
	if (base)
		snap_copy(ns, base);
	else
		snap_clear(ns);
	ns->seq = seq;
	ns->t = frame_t;
	ns->ack = ack;

	size_t lg = 0, lk = 0;
	unsigned ngone = 0;
	for (unsigned s = 0; s < PROTO_PRES_USERS_MAX; s++) {
		if (tx->state[s] != SLOT_GONE)
			continue;
		const struct pres_ent *b = base ? snap_get(base, s) : NULL;
		bool carry = !b || memcmp(b->key, tx->key[s], PROTO_PRES_KEY_LEN) != 0;
		tx->col_gone[lg++] = (uint8_t)(s | (carry ? PRES_SLOT_KEY : 0));
		if (carry) {
			memcpy(tx->col_key + lk, tx->key[s], PROTO_PRES_KEY_LEN);
			lk += PROTO_PRES_KEY_LEN;
		}
		snap_del(ns, s);
		ngone++;
	}
	/* the body starts with two varints of at most 2 bytes */
	size_t limit = cap - h - 4;
	if (lg + lk > limit)
		return -ENOSPC;
	size_t lh = 0, lt = 0, lr = 0;

	unsigned nrec = 0, j = 0;
	size_t raw_fit = 0; /* records whose body fits the frame uncompressed */
	for (; j < nc; j++) {
		unsigned s = tx->order[j];
		const struct pres_ent *q = &tx->cur[s];
		const struct pres_ent *b = base ? snap_get(base, s) : NULL;
		if (b && memcmp(b->key, q->key, PROTO_PRES_KEY_LEN) != 0)
			b = NULL;
		if (b && ent_same(b, q))
			continue;
		struct pres_rec *rc = &tx->rec[nrec];
		rc->h = lh, rc->t = lt, rc->r = lr, rc->k = lk;
		rc->user = tx->order_user[j];
		rc->slot = (uint8_t)s;
		rc->base = b;
		code_record(tx, s, q, b, !b, frame_t, &lh, &lt, &lr, &lk);
		size_t total = 4 + lg + lh + lt + lr + lk;
		if (total > PRES_BODY_MAX) {
			lh = rc->h, lt = rc->t, lr = rc->r, lk = rc->k;
			break;
		}
		nrec++;
		if (total <= limit)
			raw_fit = nrec;
	}
	/* the end of the columns after all records */
	struct pres_rec *end = &tx->rec[nrec];
	end->h = lh, end->t = lt, end->r = lr, end->k = lk;
	end->user = j < nc ? tx->order_user[j] : n;

	/* as many records as fit: all of them if zstd brings them under the
	 * frame's size, else an estimate from what it made of them, else
	 * those that fit uncompressed */
	unsigned k = nrec;
	size_t zl = 0, bl = 0;
	for (unsigned attempt = 0;; attempt++) {
		bl = assemble(tx, ngone, lg, k);
		zl = 0;
		if (tx->coding != PRES_CODING_RAW && bl >= PRES_ZSTD_MIN) {
			size_t r = tx->coding == PRES_CODING_DICT ? ZSTD_compressBegin_usingCDict(tx->zc, dict_c)
								  : ZSTD_compressBegin(tx->zc, PRES_ZSTD_LEVEL);
			if (!ZSTD_isError(r))
				r = ZSTD_compressBlock(tx->zc, out + h, cap - h, tx->body, bl);
			if (!ZSTD_isError(r) && r > 0 && r < bl)
				zl = r;
		}
		if (zl || k <= raw_fit)
			break;
		/* it did not fit: zstd's output grows about with the body */
		unsigned guess = attempt == 0 ? (unsigned)((uint64_t)k * (cap - h) * 7 / (8 * (bl + 1))) : 0;
		k = guess > raw_fit && guess < k ? guess : (unsigned)raw_fit;
	}
	if (zl == 0) {
		hdr[0] = (uint8_t)(PRES_CODING_RAW | (age << PRES_AGE_SHIFT));
		memcpy(out + h, tx->body, bl);
		zl = bl;
	}
	memcpy(out, hdr, h);
	/* the offered users before the first one left out (it and the rest
	 * go with the next frames in any case: they are the newest state) */
	*taken = n;
	if (k < nrec && tx->rec[k].user < n)
		*taken = tx->rec[k].user;
	else if (k == nrec && end->user < n)
		*taken = end->user;

	/* the records taken join the new snapshot */
	for (unsigned r = 0; r < k; r++) {
		const struct pres_rec *rc = &tx->rec[r];
		const struct pres_ent *q = &tx->cur[rc->slot];
		struct pres_ent *e = snap_get(ns, rc->slot);
		if (!e)
			e = snap_add(ns, rc->slot);
		memcpy(e->key, q->key, PROTO_PRES_KEY_LEN);
		ent_apply(e, rc->base, q->v, q->valid, q->target, q->t);
		tx->st.whole_records += !rc->base;
		tx->st.poses += parts_of(q->valid);
	}
	tx->st.records += k;
	tx->seq = seq;
	ring_commit(tx->ring, &tx->spare);
	tx->st.frames++;
	tx->st.bytes += h + zl;
	tx->st.raw_bytes += bl;
	return (int)(h + zl);
}

/* ---- decoding --------------------------------------------------------------------------- */

static int bad(struct proto_pres_rx *rx)
{
	rx->st.refused++;
	return -EBADMSG;
}

int proto_pres_decode(struct proto_pres_rx *rx, const uint8_t *p, size_t len, struct proto_pres_frame *out)
{
	if (!p || len > PROTO_PRES_FRAME_MAX)
		return p ? bad(rx) : -EINVAL;
	struct rd r = { p, len, 0, false };
	uint8_t flags = get_u8(&r);
	unsigned age = (flags >> PRES_AGE_SHIFT) & 0x1fu, coding = flags & PRES_CODING_MASK;
	if (r.bad || (flags & PRES_F_RESERVED) || coding == 3 || age > PROTO_PRES_BASE_MAX_AGE)
		return bad(rx);
	uint64_t seq, ack, tv;
	struct pres_snap *base = NULL;
	if (age) {
		/* seq's low 16 bits: a frame coded against a baseline we hold is
		 * at most BASE_MAX_AGE past the newest one we decoded */
		unsigned lo = get_u8(&r);
		lo |= (unsigned)get_u8(&r) << 8;
		uint64_t ackd = get_var(&r);
		tv = get_var(&r);
		if (r.bad)
			return bad(rx);
		uint16_t ahead = (uint16_t)(lo - (uint16_t)rx->newest);
		if (ahead == 0 || ahead >= 0x8000u)
			return -EALREADY; /* behind the newest */
		seq = rx->newest + ahead;
		if (seq <= age)
			return bad(rx); /* a baseline before frame 1 */
		if (ahead > PROTO_PRES_BASE_MAX_AGE || !(base = ring_find(rx->ring, seq - age))) {
			rx->st.refused++;
			return -ENOENT;
		}
		int64_t d = unzz(ackd);
		if ((d < 0 && base->ack < (uint64_t)-d) || (d > 0 && base->ack > UINT64_MAX - (uint64_t)d))
			return bad(rx);
		ack = base->ack + (uint64_t)d;
	} else {
		seq = get_var(&r);
		ack = get_var(&r);
		tv = get_var(&r);
		if (r.bad || seq == 0)
			return bad(rx);
		if (seq <= rx->newest)
			return -EALREADY;
	}
	int64_t frame_t;
	if (base) {
		int64_t d = unzz(tv);
		if (d > (int64_t)PRES_T_MAX || d < -(int64_t)PRES_T_MAX || (d > 0 && base->t > (int64_t)PRES_T_MAX - d) ||
		    (d < 0 && base->t < -d))
			return bad(rx);
		frame_t = base->t + d;
	} else {
		if (tv > PRES_T_MAX)
			return bad(rx);
		frame_t = (int64_t)tv;
	}

	/* the body */
	const uint8_t *body = p + r.at;
	size_t bl = len - r.at;
	if (coding != PRES_CODING_RAW) {
		if (coding == PRES_CODING_DICT && !dict_d)
			return bad(rx);
		size_t z = coding == PRES_CODING_DICT ? ZSTD_decompressBegin_usingDDict(rx->zd, dict_d)
						      : ZSTD_decompressBegin(rx->zd);
		if (!ZSTD_isError(z))
			z = ZSTD_decompressBlock(rx->zd, rx->body, sizeof rx->body, body, bl);
		if (ZSTD_isError(z))
			return bad(rx);
		body = rx->body;
		bl = z;
	}

	struct rd b = { body, bl, 0, false };
	uint64_t ngone = get_var(&b), nrec = get_var(&b);
	if (b.bad || ngone > PROTO_PRES_USERS_MAX || nrec > PROTO_PRES_USERS_MAX ||
	    ngone + nrec > PROTO_PRES_USERS_MAX)
		return bad(rx);
	const uint8_t *cg = get_bytes(&b, ngone);
	uint8_t rs[PROTO_PRES_USERS_MAX], rm[PROTO_PRES_USERS_MAX], rv[PROTO_PRES_USERS_MAX];
	for (unsigned i = 0; i < nrec; i++) {
		rs[i] = get_u8(&b);
		rm[i] = get_u8(&b);
		rv[i] = (rm[i] & PRES_M_VALID) ? get_u8(&b) : 0;
	}
	if (b.bad)
		return bad(rx);

	struct pres_snap *ns = rx->spare;
	if (base)
		snap_copy(ns, base);
	else
		snap_clear(ns);
	ns->seq = seq;
	ns->t = frame_t;
	ns->ack = ack;

	/* each slot at most once in the frame */
	uint8_t seen[PROTO_PRES_USERS_MAX] = { 0 };
	for (unsigned i = 0; i < ngone; i++) {
		unsigned s = cg[i] & PRES_SLOT_MASK;
		if (s >= PROTO_PRES_USERS_MAX || seen[s])
			return bad(rx);
		seen[s] = 1;
	}
	for (unsigned i = 0; i < nrec; i++) {
		unsigned s = rs[i] & PRES_SLOT_MASK;
		if (s >= PROTO_PRES_USERS_MAX || seen[s] || (rv[i] & ~PROTO_PRES_F_ALL) || (rm[i] & ~PRES_M_ALL))
			return bad(rx);
		seen[s] = 1;
		/* no valid byte: the baseline's (a record carrying its key has one) */
		if (!(rm[i] & PRES_M_VALID)) {
			const struct pres_ent *be = base ? snap_get(base, s) : NULL;
			if ((rs[i] & PRES_SLOT_KEY) || !be)
				return bad(rx);
			rv[i] = be->valid;
		}
	}

	/* times */
	int64_t rt[PROTO_PRES_USERS_MAX];
	for (unsigned i = 0; i < nrec; i++) {
		uint64_t off = get_var(&b);
		if (b.bad || off > (uint64_t)frame_t)
			return bad(rx);
		rt[i] = frame_t - (int64_t)off;
	}

	/* records: values from the baseline's prediction and the residuals */
	for (unsigned i = 0; i < nrec; i++) {
		unsigned s = rs[i] & PRES_SLOT_MASK;
		bool carry = rs[i] & PRES_SLOT_KEY;
		uint8_t valid = rv[i], mask = rm[i];
		const struct pres_ent *be = base ? snap_get(base, s) : NULL;
		if (!carry && !be)
			return bad(rx); /* a slot the baseline does not hold needs the key */
		if (carry)
			be = NULL; /* decided below once the key is read: a slot taken by another user */
		int32_t v[PRES_NV] = { 0 };
		uint64_t target = 0;
		/* held for now in the new snapshot's place; keys come last */
		struct pres_ent *e = snap_get(ns, s);
		if (!e)
			e = snap_add(ns, s);
		else if (carry)
			memset(e, 0, sizeof(*e)), e->slot = (uint8_t)s;
		(void)e;
		if (!carry) {
			for (unsigned g = 0; g < PRES_GROUPS; g++) {
				unsigned off = groups[g].off, n = groups[g].n;
				bool in_new = valid & groups[g].flag, in_base = be->valid & groups[g].flag;
				if (!in_new) {
					if (mask & (1u << g))
						return bad(rx);
					continue;
				}
				if (!(mask & (1u << g))) {
					if (!in_base)
						return bad(rx);
					memcpy(&v[off], &be->v[off], n * sizeof *v);
				}
			}
			if (valid & PROTO_PRES_F_PREVIEW) {
				if (!(mask & PRES_M_TARGET) && !(be->valid & PROTO_PRES_F_PREVIEW))
					return bad(rx);
				target = be->target;
			} else if (mask & PRES_M_TARGET) {
				return bad(rx);
			}
		} else {
			for (unsigned g = 0; g < PRES_GROUPS; g++)
				if (!(valid & groups[g].flag) != !(mask & (1u << g)))
					return bad(rx);
			if (!(valid & PROTO_PRES_F_PREVIEW) != !(mask & PRES_M_TARGET))
				return bad(rx);
		}
		for (unsigned g = 0; g < PRES_GROUPS; g++) {
			if (!(mask & (1u << g)))
				continue;
			unsigned off = groups[g].off, n = groups[g].n;
			int32_t pred[7];
			predict(be, g, rt[i], pred);
			int64_t idx = pred[3];
			for (unsigned k = 0; k < n; k++) {
				uint8_t kind = kind_of(g, k);
				uint64_t raw = get_var(&b);
				if (b.bad)
					return bad(rx);
				int64_t d = unzz(raw);
				if (d > 4 * (int64_t)PRES_MM_MAX || d < -4 * (int64_t)PRES_MM_MAX)
					return bad(rx);
				int64_t pv = pred[k];
				if (kind == K_ROT && g != PRES_G_CURSOR && v[off + 3] != idx)
					pv = 0;
				int64_t val = pv + d;
				if (clamp_kind(val, kind) != val)
					return bad(rx);
				v[off + k] = (int32_t)val;
			}
		}
		/* rotations: the three components of a unit quaternion (squares at most 1) */
		for (unsigned g = 0; g < PRES_GROUPS; g++) {
			if (g == PRES_G_CURSOR || !(mask & (1u << g)))
				continue;
			int64_t sum = 0;
			for (unsigned k = 4; k < 7; k++) {
				int64_t c = 2 * (int64_t)v[groups[g].off + k] - PRES_QMAX;
				sum += c * c;
			}
			if (sum > 2 * (int64_t)PRES_QMAX * PRES_QMAX)
				return bad(rx);
		}
		if (mask & PRES_M_TARGET) {
			target = get_var(&b);
			if (b.bad)
				return bad(rx);
		}
		/* stash the decoded values in the entry; the key and the
		 * prediction line are set once the keys are read */
		memcpy(e->pv, v, sizeof v); /* scratch: moved to v below */
		e->valid = valid;
		e->target = target;
		e->t = rt[i];
	}

	/* keys: GONE records' first, then the records' */
	uint8_t gone_key[PROTO_PRES_USERS_MAX][PROTO_PRES_KEY_LEN];
	for (unsigned i = 0; i < ngone; i++) {
		unsigned s = cg[i] & PRES_SLOT_MASK;
		const struct pres_ent *be = base ? snap_get(base, s) : NULL;
		if (cg[i] & PRES_SLOT_KEY) {
			const uint8_t *k = get_bytes(&b, PROTO_PRES_KEY_LEN);
			if (b.bad || key_zero(k))
				return bad(rx);
			memcpy(gone_key[i], k, PROTO_PRES_KEY_LEN);
		} else {
			if (!be)
				return bad(rx);
			memcpy(gone_key[i], be->key, PROTO_PRES_KEY_LEN);
		}
	}
	for (unsigned i = 0; i < nrec; i++) {
		unsigned s = rs[i] & PRES_SLOT_MASK;
		struct pres_ent *e = snap_get(ns, s);
		const struct pres_ent *be = base ? snap_get(base, s) : NULL;
		if (rs[i] & PRES_SLOT_KEY) {
			const uint8_t *k = get_bytes(&b, PROTO_PRES_KEY_LEN);
			if (b.bad || key_zero(k))
				return bad(rx);
			memcpy(e->key, k, PROTO_PRES_KEY_LEN);
			be = NULL; /* coded whole */
		}
		int32_t v[PRES_NV];
		memcpy(v, e->pv, sizeof v);
		ent_apply(e, be, v, e->valid, e->target, e->t);
	}
	if (b.at != b.n)
		return bad(rx);
	for (unsigned i = 0; i < ngone; i++)
		snap_del(ns, cg[i] & PRES_SLOT_MASK);
	/* one user, one slot */
	for (unsigned i = 0; i < nrec; i++) {
		if (!(rs[i] & PRES_SLOT_KEY))
			continue;
		const struct pres_ent *e = snap_get(ns, rs[i] & PRES_SLOT_MASK);
		for (unsigned j = 0; j < ns->n; j++)
			if (&ns->e[j] != e && memcmp(ns->e[j].key, e->key, PROTO_PRES_KEY_LEN) == 0)
				return bad(rx);
	}

	/* accepted: the snapshot joins the ring and the frame is told */
	ring_commit(rx->ring, &rx->spare);
	rx->newest = seq;
	out->seq = seq;
	out->ack = ack;
	out->t_ns = (uint64_t)frame_t * PRES_TUNIT_NS;
	out->n = 0;
	out->n_gone = 0;
	for (unsigned i = 0; i < ngone; i++) {
		unsigned s = cg[i] & PRES_SLOT_MASK;
		if (rx->known[s] && memcmp(rx->known_key[s], gone_key[i], PROTO_PRES_KEY_LEN) == 0) {
			memcpy(out->gone[out->n_gone++], gone_key[i], PROTO_PRES_KEY_LEN);
			rx->known[s] = 0;
		}
	}
	for (unsigned i = 0; i < nrec; i++) {
		unsigned s = rs[i] & PRES_SLOT_MASK;
		const struct pres_ent *e = snap_get(rx->ring[seq % PRES_SNAPS], s);
		if (rx->known[s] && memcmp(rx->known_key[s], e->key, PROTO_PRES_KEY_LEN) != 0 &&
		    out->n_gone < PROTO_PRES_USERS_MAX)
			memcpy(out->gone[out->n_gone++], rx->known_key[s], PROTO_PRES_KEY_LEN);
		rx->known[s] = 1;
		memcpy(rx->known_key[s], e->key, PROTO_PRES_KEY_LEN);
		dq_user(e, &out->users[out->n++]);
	}
	rx->st.frames++;
	rx->st.bytes += len;
	rx->st.raw_bytes += bl;
	rx->st.records += nrec;
	for (unsigned i = 0; i < nrec; i++) {
		rx->st.whole_records += !!(rs[i] & PRES_SLOT_KEY);
		rx->st.poses += parts_of(rv[i]);
	}
	return 0;
}
