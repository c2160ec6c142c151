/* Small column-major 4x4 matrix and quaternion helpers for the renderer.
 * Conventions: right-handed world, +Y up, metres; a view looks down -Z;
 * clip space is Vulkan's (x right, y down, depth 0 near .. 1 far).
 * Matrices are float[16], column-major (m[col * 4 + row]), multiplying
 * column vectors: p' = M p. Quaternions are (x, y, z, w). */
#pragma once
#include <math.h>
#include <string.h>

static inline void gfx_mat4_identity(float m[16])
{
	memset(m, 0, 16 * sizeof *m);
	m[0] = m[5] = m[10] = m[15] = 1.0f;
}

/* out = a * b (out may alias neither). */
static inline void gfx_mat4_mul(float out[16], const float a[16], const float b[16])
{
	for (int c = 0; c < 4; c++)
		for (int r = 0; r < 4; r++) {
			float s = 0.0f;
			for (int k = 0; k < 4; k++)
				s += a[k * 4 + r] * b[c * 4 + k];
			out[c * 4 + r] = s;
		}
}

/* Translation * rotation(q) * scale(s); s may be NULL (1, 1, 1). */
static inline void gfx_mat4_trs(float m[16], const float t[3], const float q[4], const float s[3])
{
	float x = q[0], y = q[1], z = q[2], w = q[3];
	float sx = s ? s[0] : 1.0f, sy = s ? s[1] : 1.0f, sz = s ? s[2] : 1.0f;
	m[0] = (1 - 2 * (y * y + z * z)) * sx;
	m[1] = (2 * (x * y + z * w)) * sx;
	m[2] = (2 * (x * z - y * w)) * sx;
	m[3] = 0;
	m[4] = (2 * (x * y - z * w)) * sy;
	m[5] = (1 - 2 * (x * x + z * z)) * sy;
	m[6] = (2 * (y * z + x * w)) * sy;
	m[7] = 0;
	m[8] = (2 * (x * z + y * w)) * sz;
	m[9] = (2 * (y * z - x * w)) * sz;
	m[10] = (1 - 2 * (x * x + y * y)) * sz;
	m[11] = 0;
	m[12] = t[0];
	m[13] = t[1];
	m[14] = t[2];
	m[15] = 1;
}

/* The inverse of a rigid map (rotation + translation only). */
static inline void gfx_mat4_rigid_inverse(float out[16], const float m[16])
{
	for (int c = 0; c < 3; c++)
		for (int r = 0; r < 3; r++)
			out[c * 4 + r] = m[r * 4 + c];
	out[3] = out[7] = out[11] = 0;
	for (int r = 0; r < 3; r++)
		out[12 + r] = -(out[r] * m[12] + out[4 + r] * m[13] + out[8 + r] * m[14]);
	out[15] = 1;
}

/* The view matrix of an eye at pose (position, orientation). */
static inline void gfx_mat4_view_from_pose(float view[16], const float pos[3], const float q[4])
{
	float world[16];
	gfx_mat4_trs(world, pos, q, NULL);
	gfx_mat4_rigid_inverse(view, world);
}

/* An eye at `eye` looking at `target`, +Y up (eye != target). */
static inline void gfx_mat4_look_at(float view[16], const float eye[3], const float target[3])
{
	float f[3] = { target[0] - eye[0], target[1] - eye[1], target[2] - eye[2] };
	float fl = sqrtf(f[0] * f[0] + f[1] * f[1] + f[2] * f[2]);
	for (int i = 0; i < 3; i++)
		f[i] /= fl;
	float up[3] = { 0, 1, 0 };
	if (fabsf(f[1]) > 0.999f) {
		up[1] = 0;
		up[2] = -1;
	}
	float s[3] = { f[1] * up[2] - f[2] * up[1], f[2] * up[0] - f[0] * up[2], f[0] * up[1] - f[1] * up[0] };
	float sl = sqrtf(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]);
	for (int i = 0; i < 3; i++)
		s[i] /= sl;
	float u[3] = { s[1] * f[2] - s[2] * f[1], s[2] * f[0] - s[0] * f[2], s[0] * f[1] - s[1] * f[0] };
	float m[16] = { s[0], u[0], -f[0], 0, s[1], u[1], -f[1], 0, s[2], u[2], -f[2], 0, 0, 0, 0, 1 };
	m[12] = -(s[0] * eye[0] + s[1] * eye[1] + s[2] * eye[2]);
	m[13] = -(u[0] * eye[0] + u[1] * eye[1] + u[2] * eye[2]);
	m[14] = f[0] * eye[0] + f[1] * eye[1] + f[2] * eye[2];
	memcpy(view, m, sizeof m);
}

/* Asymmetric perspective from OpenXR's field-of-view angles (radians;
 * left and down negative), Vulkan clip space, depth 0 at near, 1 at far. */
static inline void gfx_mat4_perspective_fov(float p[16], float left, float right, float up, float down, float near,
					    float far)
{
	float l = tanf(left), r = tanf(right), u = tanf(up), d = tanf(down);
	float w = r - l, h = d - u; /* y flips: Vulkan's y points down */
	memset(p, 0, 16 * sizeof *p);
	p[0] = 2.0f / w;
	p[5] = 2.0f / h;
	p[8] = (r + l) / w;
	p[9] = (u + d) / h;
	p[10] = far / (near - far);
	p[11] = -1.0f;
	p[14] = near * far / (near - far);
}

/* Symmetric perspective: vertical field of view in radians, width / height. */
static inline void gfx_mat4_perspective(float p[16], float fovy, float aspect, float near, float far)
{
	float t = atanf(tanf(fovy * 0.5f)), r = atanf(tanf(fovy * 0.5f) * aspect);
	gfx_mat4_perspective_fov(p, -r, r, t, -t, near, far);
}

/* p' = M p for a point (w = 1), divided by w. */
static inline void gfx_mat4_apply_point(const float m[16], const float p[3], float out[3])
{
	float v[4];
	for (int r = 0; r < 4; r++)
		v[r] = m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r];
	for (int r = 0; r < 3; r++)
		out[r] = v[r] / v[3];
}
