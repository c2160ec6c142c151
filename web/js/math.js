// Small column-major 4x4 matrix and vector helpers for the renderer, the
// camera and picking (WebGL's layout: m[col * 4 + row]).

export function identity() {
	const m = new Float32Array(16);
	m[0] = m[5] = m[10] = m[15] = 1;
	return m;
}

export function multiply(a, b) {
	const o = new Float32Array(16);
	for (let c = 0; c < 4; c++)
		for (let r = 0; r < 4; r++) {
			let s = 0;
			for (let k = 0; k < 4; k++)
				s += a[k * 4 + r] * b[c * 4 + k];
			o[c * 4 + r] = s;
		}
	return o;
}

export function perspective(fovy, aspect, near, far) {
	const f = 1 / Math.tan(fovy / 2), m = new Float32Array(16);
	m[0] = f / aspect;
	m[5] = f;
	m[10] = (far + near) / (near - far);
	m[11] = -1;
	m[14] = (2 * far * near) / (near - far);
	return m;
}

export function lookAt(eye, target, up) {
	let z = normalize(sub(eye, target));
	let x = normalize(cross(up, z));
	if (!isFinite(x[0])) x = [1, 0, 0];
	const y = cross(z, x), m = new Float32Array(16);
	m[0] = x[0]; m[4] = x[1]; m[8] = x[2];
	m[1] = y[0]; m[5] = y[1]; m[9] = y[2];
	m[2] = z[0]; m[6] = z[1]; m[10] = z[2];
	m[12] = -dot(x, eye); m[13] = -dot(y, eye); m[14] = -dot(z, eye);
	m[15] = 1;
	return m;
}

// The model matrix of a Transform: position[3], rotation quaternion
// (x, y, z, w), scale[3] (the fold's order).
export function fromTRS(t) {
	const [px, py, pz, x, y, z, w, sx, sy, sz] = t;
	const m = new Float32Array(16);
	const xx = x * x, yy = y * y, zz = z * z, xy = x * y, xz = x * z, yz = y * z, wx = w * x, wy = w * y, wz = w * z;
	m[0] = (1 - 2 * (yy + zz)) * sx; m[1] = 2 * (xy + wz) * sx; m[2] = 2 * (xz - wy) * sx;
	m[4] = 2 * (xy - wz) * sy; m[5] = (1 - 2 * (xx + zz)) * sy; m[6] = 2 * (yz + wx) * sy;
	m[8] = 2 * (xz + wy) * sz; m[9] = 2 * (yz - wx) * sz; m[10] = (1 - 2 * (xx + yy)) * sz;
	m[12] = px; m[13] = py; m[14] = pz; m[15] = 1;
	return m;
}

export function invert(a) {
	const o = new Float32Array(16);
	const [a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33] = a;
	const b00 = a00 * a11 - a01 * a10, b01 = a00 * a12 - a02 * a10, b02 = a00 * a13 - a03 * a10;
	const b03 = a01 * a12 - a02 * a11, b04 = a01 * a13 - a03 * a11, b05 = a02 * a13 - a03 * a12;
	const b06 = a20 * a31 - a21 * a30, b07 = a20 * a32 - a22 * a30, b08 = a20 * a33 - a23 * a30;
	const b09 = a21 * a32 - a22 * a31, b10 = a21 * a33 - a23 * a31, b11 = a22 * a33 - a23 * a32;
	let det = b00 * b11 - b01 * b10 + b02 * b09 + b03 * b08 - b04 * b07 + b05 * b06;
	if (!det) return null;
	det = 1 / det;
	o[0] = (a11 * b11 - a12 * b10 + a13 * b09) * det;
	o[1] = (a02 * b10 - a01 * b11 - a03 * b09) * det;
	o[2] = (a31 * b05 - a32 * b04 + a33 * b03) * det;
	o[3] = (a22 * b04 - a21 * b05 - a23 * b03) * det;
	o[4] = (a12 * b08 - a10 * b11 - a13 * b07) * det;
	o[5] = (a00 * b11 - a02 * b08 + a03 * b07) * det;
	o[6] = (a32 * b02 - a30 * b05 - a33 * b01) * det;
	o[7] = (a20 * b05 - a22 * b02 + a23 * b01) * det;
	o[8] = (a10 * b10 - a11 * b08 + a13 * b06) * det;
	o[9] = (a01 * b08 - a00 * b10 - a03 * b06) * det;
	o[10] = (a30 * b04 - a31 * b02 + a33 * b00) * det;
	o[11] = (a21 * b02 - a20 * b04 - a23 * b00) * det;
	o[12] = (a11 * b07 - a10 * b09 - a12 * b06) * det;
	o[13] = (a00 * b09 - a01 * b07 + a02 * b06) * det;
	o[14] = (a31 * b01 - a30 * b03 - a32 * b00) * det;
	o[15] = (a20 * b03 - a21 * b01 + a22 * b00) * det;
	return o;
}

// The inverse transpose's upper 3x3 (normals), as a mat3.
export function normalMatrix(m) {
	const inv = invert(m) || identity();
	return new Float32Array([inv[0], inv[4], inv[8], inv[1], inv[5], inv[9], inv[2], inv[6], inv[10]]);
}

export function transformPoint(m, p) {
	const x = p[0], y = p[1], z = p[2];
	const w = m[3] * x + m[7] * y + m[11] * z + m[15];
	return [(m[0] * x + m[4] * y + m[8] * z + m[12]) / w, (m[1] * x + m[5] * y + m[9] * z + m[13]) / w,
		(m[2] * x + m[6] * y + m[10] * z + m[14]) / w];
}

export function transformDir(m, d) {
	return [m[0] * d[0] + m[4] * d[1] + m[8] * d[2], m[1] * d[0] + m[5] * d[1] + m[9] * d[2],
		m[2] * d[0] + m[6] * d[1] + m[10] * d[2]];
}

export function add(a, b) { return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]; }
export function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
export function scale(a, s) { return [a[0] * s, a[1] * s, a[2] * s]; }
export function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
export function cross(a, b) {
	return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
export function length(a) { return Math.hypot(a[0], a[1], a[2]); }
export function normalize(a) { const l = length(a); return [a[0] / l, a[1] / l, a[2] / l]; }

// The rotation of a view matrix's inverse (a camera's world pose) as a
// unit quaternion (x, y, z, w).
export function quatFromMatrix(m) {
	const m00 = m[0], m11 = m[5], m22 = m[10], tr = m00 + m11 + m22;
	let x, y, z, w;
	if (tr > 0) {
		const s = Math.sqrt(tr + 1) * 2;
		w = s / 4; x = (m[6] - m[9]) / s; y = (m[8] - m[2]) / s; z = (m[1] - m[4]) / s;
	} else if (m00 > m11 && m00 > m22) {
		const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
		w = (m[6] - m[9]) / s; x = s / 4; y = (m[4] + m[1]) / s; z = (m[8] + m[2]) / s;
	} else if (m11 > m22) {
		const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
		w = (m[8] - m[2]) / s; x = (m[4] + m[1]) / s; y = s / 4; z = (m[9] + m[6]) / s;
	} else {
		const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
		w = (m[1] - m[4]) / s; x = (m[8] + m[2]) / s; y = (m[9] + m[6]) / s; z = s / 4;
	}
	const l = Math.hypot(x, y, z, w);
	return [x / l, y / l, z / l, w / l];
}

// Ray (origin, unit dir) against triangle (a, b, c): the distance along
// the ray, or -1 (Moller-Trumbore, both sides).
export function rayTriangle(o, d, a, b, c) {
	const e1 = sub(b, a), e2 = sub(c, a), p = cross(d, e2), det = dot(e1, p);
	if (Math.abs(det) < 1e-12) return -1;
	const inv = 1 / det, t0 = sub(o, a), u = dot(t0, p) * inv;
	if (u < 0 || u > 1) return -1;
	const q = cross(t0, e1), v = dot(d, q) * inv;
	if (v < 0 || u + v > 1) return -1;
	const t = dot(e2, q) * inv;
	return t > 0 ? t : -1;
}

// Where the ray meets the plane through p with normal n, or null.
export function rayPlane(o, d, p, n) {
	const den = dot(d, n);
	if (Math.abs(den) < 1e-9) return null;
	const t = dot(sub(p, o), n) / den;
	return t > 0 ? add(o, scale(d, t)) : null;
}
