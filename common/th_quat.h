/* Quaternion product (x, y, z, w), shared by the client's layers (app/,
 * edit/) that may not include each other's helpers. Header-only, pure. */
#pragma once

/* out = a b (apply b, then a), not normalised; out may alias a or b. */
static inline void th_quat_mul(const float a[4], const float b[4], float out[4])
{
	float r[4] = {
		a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
		a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
		a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
		a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
	};
	for (int i = 0; i < 4; i++)
		out[i] = r[i];
}
