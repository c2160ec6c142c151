/* Other users' avatars from their pose updates, interpolated (avatars.h). */
#include "app/avatars.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_quat.h"

#define MIN_SPACING_NS (1000ull * 1000) /* a spacing below 1 ms teaches nothing */

struct sample {
	uint64_t t_ns; /* the sender's time */
	float pos[3], rot[4];
	bool tracked;
};

/* One part's samples, oldest first, in a ring. */
struct part_buf {
	struct sample s[APP_AVATARS_SAMPLES];
	unsigned head, n;
};

/* The public record and what only this file sees. */
struct user {
	struct app_avatar pub;
	struct part_buf part[APP_AVATAR_PARTS];
	/* The clock: the least arrival - t_ns in this window and the one
	 * before; the previous distinct sample's times for the jitter. */
	int64_t win_min[2];
	uint64_t win_start_ns;
	bool has_clock;
	uint64_t last_t_ns, last_arrival_ns;
	double jitter, interval, delay; /* ns */
	uint64_t frame_ns;              /* the last app_avatars_frame (0: none yet) */
};

struct app_avatars {
	struct user v[APP_AVATARS_MAX];
	unsigned n;
	struct app_avatars_stats st;
};

static const uint32_t part_flag[APP_AVATAR_PARTS] = { PROTO_IPC_POSE_F_HEAD, PROTO_IPC_POSE_F_LEFT,
						      PROTO_IPC_POSE_F_RIGHT };
static const uint32_t part_valid[APP_AVATAR_PARTS] = { TH_POSE_VALID_HEAD, TH_POSE_VALID_LEFT, TH_POSE_VALID_RIGHT };

int app_avatars_create(struct app_avatars **out)
{
	struct app_avatars *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}

void app_avatars_destroy(struct app_avatars **p)
{
	if (p && *p) {
		free(*p);
		*p = NULL;
	}
}

static float *part_position(struct th_c_tracked_pose *t, unsigned part)
{
	return part == APP_AVATAR_HEAD ? t->head_position : part == APP_AVATAR_LEFT ? t->left_position : t->right_position;
}

static float *part_rotation(struct th_c_tracked_pose *t, unsigned part)
{
	return part == APP_AVATAR_HEAD ? t->head_rotation : part == APP_AVATAR_LEFT ? t->left_rotation : t->right_rotation;
}

/* A position within reach and a unit rotation (normalised into rot). The
 * decoder already refused non-finite floats; a peer's values are checked
 * again here all the same. */
static bool in_reach(const float pos[3])
{
	double d2 = 0;
	for (int k = 0; k < 3; k++)
		d2 += (double)pos[k] * pos[k];
	return d2 <= (double)APP_AVATARS_REACH_MAX * APP_AVATARS_REACH_MAX;
}

static bool unit_rotation(float rot[4])
{
	double q2 = 0;
	for (int k = 0; k < 4; k++)
		q2 += (double)rot[k] * rot[k];
	double len = sqrt(q2);
	if (!(fabs(len - 1.0) <= APP_AVATARS_QUAT_SLACK))
		return false;
	for (int k = 0; k < 4; k++)
		rot[k] = (float)(rot[k] / len);
	return true;
}

static bool pose_ok(const struct proto_ipc_pose_update *p, float pos[3], float rot[4])
{
	pos[0] = p->px, pos[1] = p->py, pos[2] = p->pz;
	rot[0] = p->qx, rot[1] = p->qy, rot[2] = p->qz, rot[3] = p->qw;
	return in_reach(pos) && unit_rotation(rot);
}

/* The user's index, a->n when absent. */
static unsigned index_of(const struct app_avatars *a, uint64_t entity)
{
	unsigned i = 0;
	while (i < a->n && a->v[i].pub.entity != entity)
		i++;
	return i;
}

/* The user's record, a new one when absent (NULL past APP_AVATARS_MAX). */
static struct user *user_for(struct app_avatars *a, uint64_t entity, uint64_t now_ns)
{
	unsigned i = index_of(a, entity);
	if (i < a->n)
		return &a->v[i];
	if (a->n == APP_AVATARS_MAX) {
		a->st.full++;
		return NULL;
	}
	struct user *u = &a->v[a->n++];
	memset(u, 0, sizeof *u);
	u->pub.entity = entity;
	u->pub.first_ns = now_ns;
	for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
		part_rotation(&u->pub.pose, k)[3] = 1;
	u->pub.pres.rotation[3] = 1;
	u->interval = (double)APP_AVATARS_TICK_NS;
	u->delay = (double)APP_AVATARS_DELAY_MIN_NS;
	a->st.joined++;
	return u;
}

static struct sample *at(struct part_buf *b, unsigned i)
{
	return &b->s[(b->head + i) % APP_AVATARS_SAMPLES];
}

static struct sample *newest(struct part_buf *b)
{
	return b->n ? at(b, b->n - 1) : NULL;
}

static void push(struct part_buf *b, const struct sample *s)
{
	struct sample *last = newest(b);
	if (last && last->t_ns == s->t_ns) {
		*last = *s; /* the same instant again: the newer word on it */
		return;
	}
	if (b->n == APP_AVATARS_SAMPLES) {
		b->head = (b->head + 1) % APP_AVATARS_SAMPLES;
		b->n--;
	}
	*at(b, b->n++) = *s;
}

/* a - b on the 64-bit circle of times (a sender's clock may sit anywhere
 * on it, a hostile member's too): no signed overflow however far apart. */
static int64_t since(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

/* The sender time shown at local time now_ns. */
static uint64_t shown_time(const struct user *u, uint64_t now_ns)
{
	return now_ns - (uint64_t)u->delay - (uint64_t)u->pub.offset_ns;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The delay the user's updates call for now. */
static double target_delay(const struct user *u)
{
	return clampd(u->interval + APP_AVATARS_JITTER_K * u->jitter, (double)APP_AVATARS_DELAY_MIN_NS,
		      (double)APP_AVATARS_DELAY_MAX_NS);
}

/* A sample of sender time t_ns arrived at now_ns: the clock offset, the
 * jitter and spacing. true when the sender's clock is another one now (its
 * samples were dropped and the clock starts from this one). */
static bool clock_sample(struct app_avatars *a, struct user *u, uint64_t t_ns, uint64_t now_ns)
{
	int64_t c = (int64_t)(now_ns - t_ns); /* local - sender, two's complement */
	if (!u->has_clock) {
		u->has_clock = true;
		u->win_min[0] = u->win_min[1] = c;
		u->win_start_ns = now_ns;
		u->last_t_ns = t_ns;
		u->last_arrival_ns = now_ns;
		u->pub.offset_ns = c;
		return false;
	}
	int64_t step = since((uint64_t)c, (uint64_t)u->pub.offset_ns);
	if (step > (int64_t)APP_AVATARS_CLOCK_JUMP_NS || step < -(int64_t)APP_AVATARS_CLOCK_JUMP_NS) {
		/* A restarted sender (or another host's clock): start again. */
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
			u->part[k].n = u->part[k].head = 0;
		u->win_min[0] = u->win_min[1] = c;
		u->win_start_ns = now_ns;
		u->last_t_ns = t_ns;
		u->last_arrival_ns = now_ns;
		u->pub.offset_ns = c;
		a->st.clock_resets++;
		return true;
	}
	if (t_ns > u->last_t_ns) {
		/* A new instant (the parts of one update share it): RFC 3550's
		 * D = (arrival spacing) - (sender spacing), J += (|D| - J) / 16. */
		double dt = (double)(t_ns - u->last_t_ns);
		double d = (double)(now_ns - u->last_arrival_ns) - dt;
		u->jitter += (fabs(d) - u->jitter) / APP_AVATARS_JITTER_GAIN;
		if (dt >= (double)MIN_SPACING_NS)
			u->interval += (clampd(dt, 0, (double)APP_AVATARS_DELAY_MAX_NS) - u->interval) /
				       APP_AVATARS_JITTER_GAIN;
		u->last_t_ns = t_ns;
		u->last_arrival_ns = now_ns;
	}
	if (now_ns - u->win_start_ns >= APP_AVATARS_OFFSET_WINDOW_NS) {
		u->win_min[1] = u->win_min[0];
		u->win_min[0] = c;
		u->win_start_ns = now_ns;
	} else if (since((uint64_t)c, (uint64_t)u->win_min[0]) < 0) {
		u->win_min[0] = c;
	}
	u->pub.offset_ns = since((uint64_t)u->win_min[0], (uint64_t)u->win_min[1]) < 0 ? u->win_min[0] : u->win_min[1];
	u->pub.jitter_ns = (uint64_t)u->jitter;
	u->pub.interval_ns = (uint64_t)u->interval;
	return false;
}

int app_avatars_on_pose(struct app_avatars *a, const struct proto_ipc_pose_update *p, uint64_t now_ns)
{
	if (p->entity == 0) {
		a->st.self++;
		return -EINVAL;
	}
	uint32_t parts = p->flags & (PROTO_IPC_POSE_F_HEAD | PROTO_IPC_POSE_F_LEFT | PROTO_IPC_POSE_F_RIGHT);
	if (!parts) {
		a->st.no_part++;
		return -EINVAL;
	}
	struct sample s = { .t_ns = p->t_ns, .tracked = p->flags & PROTO_IPC_POSE_F_TRACKED, .rot = { 0, 0, 0, 1 } };
	if (s.tracked && !pose_ok(p, s.pos, s.rot)) {
		a->st.invalid++;
		return -EINVAL;
	}
	unsigned i = index_of(a, p->entity);
	struct user *u = i < a->n ? &a->v[i] : NULL;
	if (u) {
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
			if ((parts & part_flag[k]) && u->pub.seen_ns[k] && p->t_ns < u->pub.t_ns[k] &&
			    u->pub.t_ns[k] - p->t_ns < APP_AVATARS_REORDER_NS) {
				a->st.reordered++;
				return -EINVAL;
			}
	} else if (!(u = user_for(a, p->entity, now_ns))) {
		return -ENOSPC;
	}
	clock_sample(a, u, p->t_ns, now_ns);
	/* Behind the time it would be shown at: it only ends an extrapolation. */
	if (since(p->t_ns, shown_time(u, now_ns)) < 0)
		a->st.late++;
	for (unsigned k = 0; k < APP_AVATAR_PARTS; k++) {
		if (!(parts & part_flag[k]))
			continue;
		u->pub.seen_ns[k] = now_ns;
		u->pub.t_ns[k] = p->t_ns;
		push(&u->part[k], &s);
	}
	a->st.updates++;
	return 0;
}

int app_avatars_on_presence(struct app_avatars *a, const struct proto_ipc_presence *p, uint64_t now_ns)
{
	if (p->entity == 0) {
		a->st.self++;
		return -EINVAL;
	}
	struct app_avatar_presence n = {
		.flags = p->flags & PROTO_IPC_PRES_F_ALL, .tool = p->tool, .cursor = { p->cx, p->cy, p->cz },
		.target = p->target, .position = { p->tx, p->ty, p->tz }, .rotation = { p->rx, p->ry, p->rz, p->rw },
		.t_ns = p->t_ns, .seen_ns = now_ns,
	};
	if (((n.flags & PROTO_IPC_PRES_F_CURSOR) && !in_reach(n.cursor)) ||
	    ((n.flags & PROTO_IPC_PRES_F_PREVIEW) &&
	     (n.target == 0 || !in_reach(n.position) || !unit_rotation(n.rotation)))) {
		a->st.invalid++;
		return -EINVAL;
	}
	if (!(n.flags & PROTO_IPC_PRES_F_PREVIEW)) {
		n.target = 0;
		memset(n.position, 0, sizeof n.position);
		n.rotation[0] = n.rotation[1] = n.rotation[2] = 0, n.rotation[3] = 1;
	}
	unsigned i = index_of(a, p->entity);
	struct user *u = i < a->n ? &a->v[i] : NULL;
	if (u) {
		const struct app_avatar_presence *o = &u->pub.pres;
		if (o->seen_ns && p->t_ns < o->t_ns && o->t_ns - p->t_ns < APP_AVATARS_REORDER_NS) {
			a->st.reordered++;
			return -EINVAL;
		}
	} else if (!(u = user_for(a, p->entity, now_ns))) {
		return -ENOSPC;
	}
	u->pub.pres = n;
	a->st.presences++;
	return 0;
}

/* ---- what is shown -------------------------------------------------------------------------- */

static void normalize4(float q[4])
{
	double len = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
	for (int k = 0; k < 4; k++)
		q[k] = len > 0 ? (float)(q[k] / len) : (k == 3);
}

static void nlerp(const float a[4], const float b[4], float t, float out[4])
{
	float d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3];
	float s = d < 0 ? -1.0f : 1.0f; /* the short way round */
	for (int k = 0; k < 4; k++)
		out[k] = (1 - t) * a[k] + t * s * b[k];
	normalize4(out);
}

/* Rotation n turned on by the turn from p to n, scaled by f (the angular
 * velocity kept for f times the samples' spacing). */
static void extrapolate_rot(const float p[4], const float n[4], double f, float out[4])
{
	float pc[4] = { -p[0], -p[1], -p[2], p[3] }, d[4];
	th_quat_mul(n, pc, d);
	if (d[3] < 0)
		for (int k = 0; k < 4; k++)
			d[k] = -d[k];
	double s = sqrt((double)d[0] * d[0] + (double)d[1] * d[1] + (double)d[2] * d[2]);
	if (s < 1e-9) {
		memcpy(out, n, 4 * sizeof(float));
		return;
	}
	double angle = 2.0 * atan2(s, d[3]) * f;
	if (angle > M_PI)
		angle = M_PI;
	double h = sin(angle / 2) / s;
	float e[4] = { (float)(d[0] * h), (float)(d[1] * h), (float)(d[2] * h), (float)cos(angle / 2) };
	th_quat_mul(e, n, out);
	normalize4(out);
}

/* Part k of u as it was at sender time rt: into the shown pose. */
static enum app_avatar_shown show_part(struct user *u, unsigned k, uint64_t rt)
{
	struct part_buf *b = &u->part[k];
	float *pos = part_position(&u->pub.pose, k), *rot = part_rotation(&u->pub.pose, k);
	if (b->n == 0)
		return APP_AVATAR_SHOWN_NONE;
	const struct sample *n = at(b, b->n - 1);
	enum app_avatar_shown how;
	if (since(rt, n->t_ns) >= 0) {
		/* Past the newest: on at the last two samples' velocity, briefly. */
		if (!n->tracked)
			return APP_AVATAR_SHOWN_NONE;
		uint64_t ext = rt - n->t_ns;
		const struct sample *p = b->n >= 2 ? at(b, b->n - 2) : NULL;
		uint64_t gap = p ? n->t_ns - p->t_ns : 0;
		memcpy(pos, n->pos, sizeof n->pos);
		memcpy(rot, n->rot, sizeof n->rot);
		if (ext == 0 || !p || !p->tracked || gap < MIN_SPACING_NS || gap > APP_AVATARS_EXTRAP_GAP_MAX_NS)
			return APP_AVATAR_SHOWN_HOLD;
		how = ext <= APP_AVATARS_EXTRAP_MAX_NS ? APP_AVATAR_SHOWN_EXTRAP : APP_AVATAR_SHOWN_HOLD;
		double f = (double)(ext <= APP_AVATARS_EXTRAP_MAX_NS ? ext : APP_AVATARS_EXTRAP_MAX_NS) / (double)gap;
		for (int c = 0; c < 3; c++)
			pos[c] = (float)(n->pos[c] + (n->pos[c] - p->pos[c]) * f);
		extrapolate_rot(p->rot, n->rot, f, rot);
		return how;
	}
	/* The newest sample at or before rt, and the one after it. */
	unsigned i = b->n - 1;
	while (i > 0 && since(at(b, i)->t_ns, rt) > 0)
		i--;
	const struct sample *s0 = at(b, i);
	if (since(s0->t_ns, rt) > 0 || !at(b, i + 1)->tracked) {
		/* Before the oldest (a user just seen), or the next sample is
		 * not tracked: this one as it is. */
		if (!s0->tracked)
			return APP_AVATAR_SHOWN_NONE;
		memcpy(pos, s0->pos, sizeof s0->pos);
		memcpy(rot, s0->rot, sizeof s0->rot);
		return APP_AVATAR_SHOWN_HOLD;
	}
	if (!s0->tracked)
		return APP_AVATAR_SHOWN_NONE;
	const struct sample *s1 = at(b, i + 1);
	float t = (float)((double)(rt - s0->t_ns) / (double)(s1->t_ns - s0->t_ns));
	for (int c = 0; c < 3; c++)
		pos[c] = s0->pos[c] + (s1->pos[c] - s0->pos[c]) * t;
	nlerp(s0->rot, s1->rot, t, rot);
	return APP_AVATAR_SHOWN_INTERP;
}

/* Seen within the timeout (a part never seen is not). */
static bool fresh(uint64_t seen, uint64_t now_ns)
{
	return seen && (now_ns < seen || now_ns - seen < APP_AVATARS_TIMEOUT_NS);
}

static void show(struct app_avatars *a, struct user *u, uint64_t now_ns)
{
	double target = target_delay(u);
	if (u->frame_ns && now_ns > u->frame_ns) {
		double step = APP_AVATARS_DELAY_SLEW * (double)(now_ns - u->frame_ns);
		u->delay += clampd(target - u->delay, -step, step);
	} else if (!u->frame_ns) {
		u->delay = target;
	}
	u->frame_ns = now_ns;
	u->pub.delay_ns = (uint64_t)u->delay;
	uint64_t rt = shown_time(u, now_ns);
	for (unsigned k = 0; k < APP_AVATAR_PARTS; k++) {
		enum app_avatar_shown how =
			fresh(u->pub.seen_ns[k], now_ns) ? show_part(u, k, rt) : APP_AVATAR_SHOWN_NONE;
		u->pub.shown[k] = (uint8_t)how;
		if (how == APP_AVATAR_SHOWN_NONE)
			u->pub.pose.valid &= ~part_valid[k];
		else
			u->pub.pose.valid |= part_valid[k];
		a->st.interpolated += how == APP_AVATAR_SHOWN_INTERP;
		a->st.extrapolated += how == APP_AVATAR_SHOWN_EXTRAP;
		a->st.held += how == APP_AVATAR_SHOWN_HOLD;
	}
}

unsigned app_avatars_frame(struct app_avatars *a, uint64_t now_ns)
{
	unsigned dropped = 0, out = 0;
	for (unsigned i = 0; i < a->n; i++) {
		struct user *u = &a->v[i];
		bool any = fresh(u->pub.pres.seen_ns, now_ns);
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
			any |= fresh(u->pub.seen_ns[k], now_ns);
		if (!any) {
			dropped++;
			continue;
		}
		show(a, u, now_ns);
		if (out != i)
			a->v[out] = *u;
		out++;
	}
	a->n = out;
	a->st.timed_out += dropped;
	return dropped;
}

unsigned app_avatars_count(const struct app_avatars *a)
{
	return a ? a->n : 0;
}

const struct app_avatar *app_avatars_get(const struct app_avatars *a, unsigned i)
{
	return a && i < a->n ? &a->v[i].pub : NULL;
}

const struct app_avatar *app_avatars_find(const struct app_avatars *a, uint64_t entity)
{
	unsigned i = a ? index_of(a, entity) : 0;
	return a && i < a->n ? &a->v[i].pub : NULL;
}

const struct app_avatars_stats *app_avatars_stats(const struct app_avatars *a)
{
	return &a->st;
}
