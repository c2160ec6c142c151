/* Private to theta-client/edit/: the 3-vector arithmetic that picking
 * (edit_pick.c), the rays (edit_ray.c, edit_bvh.c) and the desktop tools
 * (edit_desk.c) share. */
#pragma once

static inline float edit_dot3(const float a[3], const float b[3])
{
	return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* o = a - b (o may be a or b). */
static inline void edit_sub3(const float a[3], const float b[3], float o[3])
{
	o[0] = a[0] - b[0];
	o[1] = a[1] - b[1];
	o[2] = a[2] - b[2];
}

/* o = a x b (o may be a or b). */
static inline void edit_cross3(const float a[3], const float b[3], float o[3])
{
	float x = a[1] * b[2] - a[2] * b[1], y = a[2] * b[0] - a[0] * b[2], z = a[0] * b[1] - a[1] * b[0];
	o[0] = x;
	o[1] = y;
	o[2] = z;
}
