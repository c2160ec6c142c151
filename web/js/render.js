// WebGL2 renderer: the scene's meshes (flat-shaded triangles with their
// faces' colours, outlined edges, the selected face and mesh highlighted),
// a floor grid, and the other users' avatars. One draw() renders one view
// (a canvas, or one eye of an XR frame into the XR framebuffer).
import * as M from './math.js';

export const BACKGROUND = [0.11, 0.12, 0.14, 1];
const GRID_HALF = 10; // metres each way from the origin
const SELECT_COLOR = [1.0, 0.62, 0.15];
const LIGHT_DIR = M.normalize([0.45, 0.85, 0.35]);

const MESH_VS = `#version 300 es
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec3 a_nrm;
layout(location = 2) in vec4 a_col;
layout(location = 3) in float a_face;
uniform mat4 u_vp, u_model;
uniform mat3 u_nmat;
uniform float u_sel_face;
out vec3 v_n;
out vec4 v_c;
out float v_sel;
void main() {
	v_n = normalize(u_nmat * a_nrm);
	v_c = a_col;
	v_sel = (u_sel_face >= 0.0 && abs(a_face - u_sel_face) < 0.5) ? 1.0 : 0.0;
	gl_Position = u_vp * u_model * vec4(a_pos, 1.0);
}`;

const MESH_FS = `#version 300 es
precision highp float;
in vec3 v_n;
in vec4 v_c;
in float v_sel;
uniform vec3 u_light;
uniform vec4 u_tint;
uniform float u_sel_mesh;
uniform vec3 u_sel_color;
out vec4 o;
void main() {
	vec3 n = normalize(gl_FrontFacing ? v_n : -v_n);
	float key = max(dot(n, u_light), 0.0);
	float sky = 0.5 + 0.5 * n.y;
	vec3 base = v_c.rgb * u_tint.rgb;
	base = mix(base, u_sel_color, 0.55 * v_sel);
	vec3 c = base * (0.28 + 0.22 * sky + 0.62 * key);
	c += u_sel_color * 0.10 * u_sel_mesh;
	o = vec4(c, v_c.a * u_tint.a);
}`;

const LINE_VS = `#version 300 es
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec4 a_col;
uniform mat4 u_vp, u_model;
out vec4 v_c;
void main() {
	v_c = a_col;
	gl_Position = u_vp * u_model * vec4(a_pos, 1.0);
}`;

const LINE_FS = `#version 300 es
precision highp float;
in vec4 v_c;
uniform vec4 u_tint;
out vec4 o;
void main() { o = v_c * u_tint; }`;

function compile(gl, vs, fs) {
	const p = gl.createProgram();
	for (const [type, src] of [[gl.VERTEX_SHADER, vs], [gl.FRAGMENT_SHADER, fs]]) {
		const s = gl.createShader(type);
		gl.shaderSource(s, src);
		gl.compileShader(s);
		if (!gl.getShaderParameter(s, gl.COMPILE_STATUS))
			throw new Error('A shader of the page did not compile: ' + gl.getShaderInfoLog(s));
		gl.attachShader(p, s);
	}
	gl.linkProgram(p);
	if (!gl.getProgramParameter(p, gl.LINK_STATUS))
		throw new Error('The page\'s shaders did not link: ' + gl.getProgramInfoLog(p));
	const u = {};
	const n = gl.getProgramParameter(p, gl.ACTIVE_UNIFORMS);
	for (let i = 0; i < n; i++) {
		const info = gl.getActiveUniform(p, i);
		u[info.name] = gl.getUniformLocation(p, info.name);
	}
	return { p, u };
}

// A unit cube centred on the origin (avatars): positions, normals, white.
function cubeArrays() {
	const pos = [], nrm = [];
	const faces = [[0, 1], [0, -1], [1, 1], [1, -1], [2, 1], [2, -1]];
	for (const [axis, sign] of faces) {
		const u = (axis + 1) % 3, v = (axis + 2) % 3;
		const corner = (a, b) => { const p = [0, 0, 0]; p[axis] = 0.5 * sign; p[u] = a * 0.5; p[v] = b * 0.5; return p; };
		const quad = [corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, -1), corner(1, 1), corner(-1, 1)];
		const n = [0, 0, 0];
		n[axis] = sign;
		for (const q of quad) { pos.push(...q); nrm.push(...n); }
	}
	const col = new Float32Array((pos.length / 3) * 4).fill(1), face = new Float32Array(pos.length / 3).fill(-1);
	return { pos: new Float32Array(pos), nrm: new Float32Array(nrm), col, face, count: pos.length / 3 };
}

// The floor grid as 1 m segments: a line with an end behind the camera is
// dropped whole by some rasterisers (SwiftShader), so no line spans more
// than a cell.
function gridArrays() {
	const pos = [], col = [];
	for (let i = -GRID_HALF; i <= GRID_HALF; i++) {
		const major = i % 5 === 0 ? 0.34 : 0.22;
		const c = [major, major, major + 0.02, 1];
		const cx = i === 0 ? [0.75, 0.22, 0.22, 1] : c, cz = i === 0 ? [0.22, 0.32, 0.78, 1] : c;
		for (let j = -GRID_HALF; j < GRID_HALF; j++) {
			pos.push(j, 0, i, j + 1, 0, i); col.push(...cx, ...cx);
			pos.push(i, 0, j, i, 0, j + 1); col.push(...cz, ...cz);
		}
	}
	return { pos: new Float32Array(pos), col: new Float32Array(col), count: pos.length / 3 };
}

export class Renderer {
	constructor(canvas, opts = {}) {
		const gl = canvas.getContext('webgl2', { antialias: true, alpha: false, preserveDrawingBuffer: !!opts.preserve,
							 xrCompatible: !!opts.xrCompatible });
		if (!gl)
			throw new Error('This browser cannot draw the model: it offers no WebGL2.');
		this.gl = gl;
		this.canvas = canvas;
		this.mesh = compile(gl, MESH_VS, MESH_FS);
		this.line = compile(gl, LINE_VS, LINE_FS);
		this.items = new Map(); // entity (BigInt) -> GPU buffers of its mesh
		const c = cubeArrays();
		this.cube = { vao: this.meshVao(c.pos, c.nrm, c.col, c.face), count: c.count, bufs: this.lastBufs };
		const g = gridArrays();
		this.grid = { vao: this.lineVao(g.pos, g.col), count: g.count, bufs: this.lastBufs };
		this.stats = { frames: 0, frameMs: 0, frameMsMax: 0, uploads: 0, triangles: 0 };
		this.info = '';
		const dbg = gl.getExtension('WEBGL_debug_renderer_info');
		this.info = dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
	}

	buffer(data, loc, size) {
		const gl = this.gl, b = gl.createBuffer();
		gl.bindBuffer(gl.ARRAY_BUFFER, b);
		gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
		gl.enableVertexAttribArray(loc);
		gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 0, 0);
		this.lastBufs.push(b);
	}

	meshVao(pos, nrm, col, face) {
		const gl = this.gl, vao = gl.createVertexArray();
		this.lastBufs = [];
		gl.bindVertexArray(vao);
		this.buffer(pos, 0, 3);
		this.buffer(nrm, 1, 3);
		this.buffer(col, 2, 4);
		this.buffer(face, 3, 1);
		gl.bindVertexArray(null);
		return vao;
	}

	lineVao(pos, col) {
		const gl = this.gl, vao = gl.createVertexArray();
		this.lastBufs = [];
		gl.bindVertexArray(vao);
		this.buffer(pos, 0, 3);
		this.buffer(col, 1, 4);
		gl.bindVertexArray(null);
		return vao;
	}

	drop(it) {
		const gl = this.gl;
		for (const x of [it.tri, it.edge])
			if (x) {
				gl.deleteVertexArray(x.vao);
				for (const b of x.bufs) gl.deleteBuffer(b);
			}
	}

	// items: the scene's drawn entities (main.js: entity, mesh, version,
	// material, transform, positions, normals, colors, faceIndex (per
	// vertex: the face's index in faceIds), edges). Uploads what changed,
	// drops what went.
	sync(items) {
		const seen = new Set();
		for (const d of items) {
			seen.add(d.entity);
			const old = this.items.get(d.entity);
			if (old && old.src === d.src) {
				old.model = M.fromTRS(d.transform);
				old.nmat = M.normalMatrix(old.model);
				old.sel = d;
				continue;
			}
			if (old) this.drop(old);
			const tri = { vao: this.meshVao(d.positions, d.normals, d.colors, d.faceIndex), count: d.positions.length / 3, bufs: this.lastBufs };
			let edge = null;
			if (d.edges && d.edges.length) {
				const ec = new Float32Array((d.edges.length / 3) * 4);
				for (let i = 0; i < ec.length; i += 4) ec.set([0.05, 0.05, 0.06, 1], i);
				edge = { vao: this.lineVao(d.edges, ec), count: d.edges.length / 3, bufs: this.lastBufs };
			}
			let glass = false;
			for (let i = 3; i < d.colors.length; i += 4) if (d.colors[i] < 1) { glass = true; break; }
			const model = M.fromTRS(d.transform);
			this.items.set(d.entity, { src: d.src, tri, edge, glass, model, nmat: M.normalMatrix(model), sel: d });
			this.stats.uploads++;
		}
		for (const [e, it] of this.items)
			if (!seen.has(e)) {
				this.drop(it);
				this.items.delete(e);
			}
	}

	// Starts a frame on the canvas (sized to its CSS box times the pixel ratio).
	beginCanvas() {
		const gl = this.gl, c = this.canvas, dpr = Math.min(2, window.devicePixelRatio || 1);
		const w = Math.max(1, Math.round(c.clientWidth * dpr)), h = Math.max(1, Math.round(c.clientHeight * dpr));
		if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
		gl.bindFramebuffer(gl.FRAMEBUFFER, null);
		gl.viewport(0, 0, w, h);
		this.clear();
		return { w, h };
	}

	clear() {
		const gl = this.gl;
		gl.clearColor(...BACKGROUND);
		gl.clearDepth(1);
		gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
	}

	// One view: view and projection matrices (Float32Array(16)); scene:
	// {selection: {entity, faceIndex}, preview: {entity, offset[3]},
	// avatars: [{color, parts: [{pos, rot, size}]}]}.
	draw(view, proj, scene) {
		const t0 = performance.now();
		const gl = this.gl, vp = M.multiply(proj, view);
		gl.enable(gl.DEPTH_TEST);
		gl.depthFunc(gl.LEQUAL);
		gl.disable(gl.CULL_FACE);

		const L = this.line;
		gl.useProgram(L.p);
		gl.uniformMatrix4fv(L.u.u_vp, false, vp);
		gl.uniformMatrix4fv(L.u.u_model, false, M.identity());
		gl.uniform4f(L.u.u_tint, 1, 1, 1, 1);
		gl.bindVertexArray(this.grid.vao);
		gl.drawArrays(gl.LINES, 0, this.grid.count);

		const P = this.mesh;
		gl.useProgram(P.p);
		gl.uniformMatrix4fv(P.u.u_vp, false, vp);
		gl.uniform3fv(P.u.u_light, LIGHT_DIR);
		gl.uniform3fv(P.u.u_sel_color, SELECT_COLOR);
		const sel = scene.selection || null, pv = scene.preview || null;
		let tris = 0;
		const modelOf = (e, it) => {
			if (pv && pv.entity === e) {
				const m = new Float32Array(it.model);
				m[12] += pv.offset[0]; m[13] += pv.offset[1]; m[14] += pv.offset[2];
				return m;
			}
			return it.model;
		};
		gl.enable(gl.POLYGON_OFFSET_FILL);
		gl.polygonOffset(1, 1);
		for (const pass of [false, true]) {
			if (pass) {
				gl.enable(gl.BLEND);
				gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
				gl.depthMask(false);
			}
			for (const [e, it] of this.items) {
				if (it.glass !== pass) continue;
				const model = modelOf(e, it);
				gl.uniformMatrix4fv(P.u.u_model, false, model);
				gl.uniformMatrix3fv(P.u.u_nmat, false, it.nmat);
				const mine = sel && sel.entity === e;
				gl.uniform1f(P.u.u_sel_face, mine && sel.faceIndex >= 0 ? sel.faceIndex : -1);
				gl.uniform1f(P.u.u_sel_mesh, mine ? 1 : 0);
				gl.uniform4f(P.u.u_tint, 1, 1, 1, 1);
				gl.bindVertexArray(it.tri.vao);
				gl.drawArrays(gl.TRIANGLES, 0, it.tri.count);
				tris += it.tri.count / 3;
			}
			gl.depthMask(true);
			gl.disable(gl.BLEND);
		}
		gl.disable(gl.POLYGON_OFFSET_FILL);

		gl.uniform1f(P.u.u_sel_face, -1);
		gl.uniform1f(P.u.u_sel_mesh, 0);
		gl.bindVertexArray(this.cube.vao);
		for (const a of scene.avatars || [])
			for (const part of a.parts) {
				const s = part.size;
				const m = M.fromTRS([...part.pos, ...part.rot, s[0], s[1], s[2]]);
				gl.uniformMatrix4fv(P.u.u_model, false, m);
				gl.uniformMatrix3fv(P.u.u_nmat, false, M.normalMatrix(m));
				gl.uniform4f(P.u.u_tint, a.color[0], a.color[1], a.color[2], 1);
				gl.drawArrays(gl.TRIANGLES, 0, this.cube.count);
			}

		gl.useProgram(L.p);
		gl.uniformMatrix4fv(L.u.u_vp, false, vp);
		for (const [e, it] of this.items) {
			if (!it.edge) continue;
			gl.uniformMatrix4fv(L.u.u_model, false, modelOf(e, it));
			const mine = sel && sel.entity === e;
			if (mine) gl.uniform4f(L.u.u_tint, 1, 1, 1, 1); else gl.uniform4f(L.u.u_tint, 1, 1, 1, 0.9);
			gl.bindVertexArray(it.edge.vao);
			gl.drawArrays(gl.LINES, 0, it.edge.count);
		}
		gl.bindVertexArray(null);
		this.stats.triangles = tris;
		this.cpuMs = performance.now() - t0;
	}

	// The frame's bookkeeping, once per displayed frame (all views).
	endFrame(ms) {
		this.stats.frames++;
		this.stats.frameMs = ms;
		if (ms > this.stats.frameMsMax) this.stats.frameMsMax = ms;
	}
}
