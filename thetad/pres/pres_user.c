/* What pres_relay.c and pres_link.c share (pres_int.h): the settings and
 * a user's state merged per field. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "pres/pres_int.h"

#define PRES_CELL_M_MIN 0.5f
#define PRES_CELL_M_MAX 100.0f
#define PRES_CELLS_MAX 1024u /* near/view/far/voice cells: beyond the range at the smallest cell anyway */
#define PRES_TICK_HZ_MIN 10u
#define PRES_TICK_HZ_MAX 240u

void pres_config_default(struct pres_config *c)
{
	*c = (struct pres_config){
		.cell_m = 4.0f,
		.near_cells = 1,
		.view_cells = 4,
		.view_deg = 55.0f,
		.far_cells = 8,
		.far_hz = 5,
		.tick_hz = 90,
		.voice_cells = 6,
	};
}

const char *pres_config_check(const struct pres_config *c)
{
	if (!(c->cell_m >= PRES_CELL_M_MIN && c->cell_m <= PRES_CELL_M_MAX))
		return "presence.cell_m must be between 0.5 and 100 (metres)";
	if (c->near_cells > PRES_CELLS_MAX)
		return "presence.near_cells must be between 0 and 1024";
	if (c->view_cells > PRES_CELLS_MAX)
		return "presence.view_cells must be between 0 and 1024";
	if (!(c->view_deg >= 0.0f && c->view_deg <= 180.0f))
		return "presence.view_deg must be between 0 and 180 (degrees, half the view cone)";
	if (c->far_cells > PRES_CELLS_MAX)
		return "presence.far_cells must be between 0 and 1024";
	if (c->tick_hz < PRES_TICK_HZ_MIN || c->tick_hz > PRES_TICK_HZ_MAX)
		return "presence.tick_hz must be between 10 and 240";
	if (c->far_hz < 1 || c->far_hz > c->tick_hz)
		return "presence.far_hz must be between 1 and presence.tick_hz";
	if (c->voice_cells > PRES_CELLS_MAX)
		return "presence.voice_cells must be between 0 and 1024";
	return NULL;
}

static bool finite_n(const float *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

int pres_user_check(const struct proto_pres_user *u)
{
	static const uint8_t zero[PROTO_PRES_KEY_LEN];
	if (!memcmp(u->key, zero, sizeof zero))
		return -EINVAL;
	if (u->valid & ~PRES_VALID_IN_MASK)
		return -EINVAL;
	uint32_t given = u->valid & PROTO_PRES_F_ALL, ended = (u->valid >> PRES_ENDED_SHIFT) & PROTO_PRES_F_ALL;
	if (given & ended)
		return -EINVAL;
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++)
		if ((given & (PROTO_PRES_F_HEAD << k)) && !finite_n(u->pose[k], 7))
			return -EINVAL;
	if ((given & PROTO_PRES_F_CURSOR) && (!finite_n(u->cursor, 3) || u->tool > PRES_TOOL_MAX))
		return -EINVAL;
	if ((given & PROTO_PRES_F_PREVIEW) && !finite_n(u->preview, 7))
		return -EINVAL;
	return 0;
}

/* The fields of a whose values differ from b's (both holding them), or
 * that one holds and the other not. */
static uint32_t differ(const struct proto_pres_user *a, const struct proto_pres_user *b, uint32_t fields)
{
	uint32_t ch = (a->valid ^ b->valid) & fields;
	uint32_t both = a->valid & b->valid & fields;
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++)
		if ((both & (PROTO_PRES_F_HEAD << k)) && memcmp(a->pose[k], b->pose[k], sizeof a->pose[k]))
			ch |= PROTO_PRES_F_HEAD << k;
	if ((both & PROTO_PRES_F_CURSOR) &&
	    (memcmp(a->cursor, b->cursor, sizeof a->cursor) || a->tool != b->tool))
		ch |= PROTO_PRES_F_CURSOR;
	if ((both & PROTO_PRES_F_PREVIEW) &&
	    (memcmp(a->preview, b->preview, sizeof a->preview) || a->preview_target != b->preview_target))
		ch |= PROTO_PRES_F_PREVIEW;
	return ch;
}

uint32_t pres_user_merge(struct proto_pres_user *dst, const struct proto_pres_user *src)
{
	struct proto_pres_user old = *dst;
	uint32_t given = src->valid & PROTO_PRES_F_ALL, ended = (src->valid >> PRES_ENDED_SHIFT) & PROTO_PRES_F_ALL;
	/* a presence change (no pose part, nothing ended explicitly): the
	 * cursor, preview and speaking flag it does not hold have ended */
	if (!(given & PRES_POSE_FIELDS) && !ended)
		ended = PRES_PRESENCE_FIELDS & ~given;
	memcpy(dst->key, src->key, sizeof dst->key);
	for (unsigned k = 0; k < PROTO_PRES_PARTS; k++)
		if (given & (PROTO_PRES_F_HEAD << k))
			memcpy(dst->pose[k], src->pose[k], sizeof dst->pose[k]);
	if (given & PROTO_PRES_F_CURSOR) {
		memcpy(dst->cursor, src->cursor, sizeof dst->cursor);
		dst->tool = src->tool;
	}
	if (given & PROTO_PRES_F_PREVIEW) {
		memcpy(dst->preview, src->preview, sizeof dst->preview);
		dst->preview_target = src->preview_target;
	}
	dst->valid = ((dst->valid | given) & ~ended) & PROTO_PRES_F_ALL;
	if (src->t_ns > dst->t_ns)
		dst->t_ns = src->t_ns;
	return differ(&old, dst, PROTO_PRES_F_ALL);
}

uint32_t pres_user_replace(struct proto_pres_user *dst, const struct proto_pres_user *src)
{
	struct proto_pres_user old = *dst;
	*dst = *src;
	dst->valid &= PROTO_PRES_F_ALL;
	return differ(&old, dst, PROTO_PRES_F_ALL);
}
