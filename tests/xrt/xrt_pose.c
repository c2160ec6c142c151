/* Poses (rigid transforms as OpenXR writes them), the scripted head, and
 * the frame pacer: a pure function of (period, previous prediction, now),
 * like a compositor's pacer with the compositor taken out. */
#include <math.h>
#include <time.h>

#include "xrt.h"

#define XRT_UNIT_EPSILON 1e-3f /* |q| may differ from 1 by this much */

static XrVector3f v_add(XrVector3f a, XrVector3f b) { return (XrVector3f){a.x + b.x, a.y + b.y, a.z + b.z}; }
static XrVector3f v_cross(XrVector3f a, XrVector3f b)
{
	return (XrVector3f){a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
static XrVector3f v_scale(XrVector3f a, float s) { return (XrVector3f){a.x * s, a.y * s, a.z * s}; }

static XrQuaternionf q_mul(XrQuaternionf a, XrQuaternionf b)
{
	return (XrQuaternionf){
		a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
		a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
		a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
		a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
	};
}

static XrVector3f q_rotate(XrQuaternionf q, XrVector3f v)
{
	XrVector3f u = {q.x, q.y, q.z};
	XrVector3f t = v_scale(v_cross(u, v), 2.0f);
	return v_add(v_add(v, v_scale(t, q.w)), v_cross(u, t));
}

XrPosef xrt_pose_identity(void) { return (XrPosef){{0, 0, 0, 1}, {0, 0, 0}}; }

XrPosef xrt_pose_mul(XrPosef a, XrPosef b)
{
	return (XrPosef){q_mul(a.orientation, b.orientation), v_add(a.position, q_rotate(a.orientation, b.position))};
}

XrPosef xrt_pose_inverse(XrPosef p)
{
	XrQuaternionf c = {-p.orientation.x, -p.orientation.y, -p.orientation.z, p.orientation.w};
	return (XrPosef){c, v_scale(q_rotate(c, p.position), -1.0f)};
}

bool xrt_pose_valid(const XrPosef *p)
{
	const float *f = &p->orientation.x;
	for (int i = 0; i < 4; i++)
		if (!isfinite(f[i]))
			return false;
	if (!isfinite(p->position.x) || !isfinite(p->position.y) || !isfinite(p->position.z))
		return false;
	float n = sqrtf(f[0] * f[0] + f[1] * f[1] + f[2] * f[2] + f[3] * f[3]);
	return fabsf(n - 1.0f) <= XRT_UNIT_EPSILON;
}

XrQuaternionf xrt_quat_yaw(float yaw) { return (XrQuaternionf){0, sinf(yaw * 0.5f), 0, cosf(yaw * 0.5f)}; }

XrPosef xrt_head_pose(const struct xrt_config *cfg, int64_t t0, XrTime t)
{
	double dt = t0 > 0 ? (double)(t - t0) * 1e-9 : 0.0;
	XrPosef p;
	p.orientation = xrt_quat_yaw((float)(cfg->head_yaw + cfg->head_yaw_rate * dt));
	p.position = v_add(cfg->head_pos, v_scale(cfg->head_vel, (float)dt));
	return p;
}

XrPosef xrt_eye_of_head(const struct xrt_config *cfg, XrPosef head, uint32_t eye)
{
	XrPosef off = xrt_pose_identity();
	off.position.x = (eye == 0 ? -0.5f : 0.5f) * cfg->ipd;
	return xrt_pose_mul(head, off);
}

XrPosef xrt_eye_pose(const struct xrt_config *cfg, int64_t t0, XrTime t, uint32_t eye)
{
	return xrt_eye_of_head(cfg, xrt_head_pose(cfg, t0, t), eye);
}

XrPosef xrt_space_origin(const struct xrt_config *cfg, int64_t t0, XrReferenceSpaceType type, XrTime t)
{
	switch (type) {
	case XR_REFERENCE_SPACE_TYPE_VIEW:
		return xrt_head_pose(cfg, t0, t);
	case XR_REFERENCE_SPACE_TYPE_LOCAL:
		return xrt_head_pose(cfg, t0, t0);
	default:
		return xrt_pose_identity();
	}
}

void xrt_pacer_init(struct xrt_pacer *p, int64_t period_ns, bool unpaced)
{
	p->period_ns = period_ns;
	p->last_display_ns = 0;
	p->unpaced = unpaced;
}

/* Paced: display times lie on a grid of one period from the first one
 * (first wait + one period); a wait returns one period before its display
 * time, and a client that came late skips the slots it missed. Unpaced:
 * no sleep, and each display time is the previous plus one period. */
void xrt_pacer_next(struct xrt_pacer *p, int64_t now_ns, int64_t *wake_ns, int64_t *display_ns)
{
	int64_t display;
	if (p->last_display_ns == 0) {
		display = now_ns + p->period_ns;
	} else {
		display = p->last_display_ns + p->period_ns;
		if (!p->unpaced && display - p->period_ns < now_ns) {
			int64_t late = now_ns - (display - p->period_ns);
			display += (late / p->period_ns) * p->period_ns;
			if (display - p->period_ns < now_ns)
				display += p->period_ns;
		}
	}
	p->last_display_ns = display;
	*display_ns = display;
	*wake_ns = p->unpaced ? now_ns : display - p->period_ns;
}

int64_t xrt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}
