/* Other users' avatars from their pose updates (avatars.h). */
#include "app/avatars.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct app_avatars {
	struct app_avatar v[APP_AVATARS_MAX];
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

/* The update's pose, checked: position within reach, rotation unit (out
 * normalised). The decoder already refused non-finite floats; a peer's
 * values are checked again here all the same. */
static bool pose_ok(const struct proto_ipc_pose_update *p, float pos[3], float rot[4])
{
	pos[0] = p->px, pos[1] = p->py, pos[2] = p->pz;
	rot[0] = p->qx, rot[1] = p->qy, rot[2] = p->qz, rot[3] = p->qw;
	double d2 = 0, q2 = 0;
	for (int k = 0; k < 3; k++)
		d2 += (double)pos[k] * pos[k];
	for (int k = 0; k < 4; k++)
		q2 += (double)rot[k] * rot[k];
	if (!(d2 <= (double)APP_AVATARS_REACH_MAX * APP_AVATARS_REACH_MAX))
		return false;
	double len = sqrt(q2);
	if (!(fabs(len - 1.0) <= APP_AVATARS_QUAT_SLACK))
		return false;
	for (int k = 0; k < 4; k++)
		rot[k] = (float)(rot[k] / len);
	return true;
}

/* The user's index, a->n when absent. */
static unsigned index_of(const struct app_avatars *a, uint64_t entity)
{
	unsigned i = 0;
	while (i < a->n && a->v[i].entity != entity)
		i++;
	return i;
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
	bool tracked = p->flags & PROTO_IPC_POSE_F_TRACKED;
	float pos[3], rot[4];
	if (tracked && !pose_ok(p, pos, rot)) {
		a->st.invalid++;
		return -EINVAL;
	}
	unsigned i = index_of(a, p->entity);
	struct app_avatar *u = i < a->n ? &a->v[i] : NULL;
	if (u) {
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
			if ((parts & part_flag[k]) && u->seen_ns[k] && p->t_ns < u->t_ns[k] &&
			    u->t_ns[k] - p->t_ns < APP_AVATARS_REORDER_NS) {
				a->st.reordered++;
				return -EINVAL;
			}
	} else {
		if (a->n == APP_AVATARS_MAX) {
			a->st.full++;
			return -ENOSPC;
		}
		u = &a->v[a->n++];
		memset(u, 0, sizeof *u);
		u->entity = p->entity;
		u->first_ns = now_ns;
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++)
			part_rotation(&u->pose, k)[3] = 1;
		a->st.joined++;
	}
	for (unsigned k = 0; k < APP_AVATAR_PARTS; k++) {
		if (!(parts & part_flag[k]))
			continue;
		u->seen_ns[k] = now_ns;
		u->t_ns[k] = p->t_ns;
		if (tracked) {
			memcpy(part_position(&u->pose, k), pos, sizeof pos);
			memcpy(part_rotation(&u->pose, k), rot, sizeof rot);
			u->pose.valid |= part_valid[k];
		} else {
			u->pose.valid &= ~part_valid[k];
		}
	}
	a->st.updates++;
	return 0;
}

/* Seen within the timeout (a part never seen is not). */
static bool fresh(uint64_t seen, uint64_t now_ns)
{
	return seen && (now_ns < seen || now_ns - seen < APP_AVATARS_TIMEOUT_NS);
}

unsigned app_avatars_expire(struct app_avatars *a, uint64_t now_ns)
{
	unsigned dropped = 0, out = 0;
	for (unsigned i = 0; i < a->n; i++) {
		struct app_avatar *u = &a->v[i];
		bool any = false;
		for (unsigned k = 0; k < APP_AVATAR_PARTS; k++) {
			if (fresh(u->seen_ns[k], now_ns))
				any = true;
			else
				u->pose.valid &= ~part_valid[k];
		}
		if (!any) {
			dropped++;
			continue;
		}
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
	return a && i < a->n ? &a->v[i] : NULL;
}

const struct app_avatar *app_avatars_find(const struct app_avatars *a, uint64_t entity)
{
	unsigned i = a ? index_of(a, entity) : 0;
	return a && i < a->n ? &a->v[i] : NULL;
}

const struct app_avatars_stats *app_avatars_stats(const struct app_avatars *a)
{
	return &a->st;
}
