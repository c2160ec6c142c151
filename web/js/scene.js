// The browser's scene: a class over theta.wasm's exports (web/wasm/tw.h), the
// C fold of common/ compiled to WebAssembly (docs/web.md, "The fold in the
// browser"). The page feeds it the session's EVENTs, draws what meshes() gives
// and submits what the edit builders return. Runs in the browser and in node
// (tests/web/fold_check.mjs).
//
//   const tw = await loadScene('/wasm/theta.wasm');   // or the module's bytes
//   const scene = tw.create(hostKey);                 // Uint8Array(32): the /offer reply's host
//   scene.addEvent(ev.pos, ev.payload);               // 0 folded, 1 duplicate, < 0 (scene.why())
//   scene.worldHash();                                 // Uint8Array(32), for SCENE_STATE
//   for (const m of scene.meshes()) draw(m);          // rebuilt only when a mesh changed
//   const { cmds, why } = scene.extrude(entity, face, 0.25);
//   for (const c of cmds) submit(c.cmdType, c.scope, c.payload);   // CMD_SUBMIT; none: show why

const ENOSYS = 52; // wasi's errno for the three calls below

// wasi-libc's printf core names fd_write, fd_seek and fd_close; the module only
// formats into memory (snprintf) and never calls them: they answer ENOSYS.
const wasiImports = {
	wasi_snapshot_preview1: {
		fd_write: () => ENOSYS,
		fd_seek: () => ENOSYS,
		fd_close: () => ENOSYS,
	},
};

const utf8 = new TextDecoder('utf-8');

// wasm's i64 comes to JS as a signed BigInt: every u64 the module returns
// (ids, lamports, positions) goes through u64() so ids at or past 2^63 stay
// positive. (A BigInt passed in wraps to the same bits either way.)
const u64 = (x) => BigInt.asUintN(64, x);

class TwModule {
	constructor(instance) {
		this.x = instance.exports;
	}

	u8() {
		return new Uint8Array(this.x.memory.buffer);
	}

	cstr(p) {
		if (!p) return '';
		const m = this.u8();
		let e = p;
		while (m[e]) e++;
		return utf8.decode(m.subarray(p, e));
	}

	why() {
		return this.cstr(this.x.tw_why());
	}

	// The calls that run the fold or the mesh code go through here. A trap
	// (WebAssembly.RuntimeError: a fault in the module; a bad entry is
	// refused with a sentence, it never traps) leaves the module's memory
	// in an unknown state, so every later call is refused with the same
	// sentence rather than run on a broken heap.
	call(fn) {
		if (this.broken) throw new Error(this.broken);
		try {
			return fn();
		} catch (e) {
			if (!(e instanceof WebAssembly.RuntimeError)) throw e;
			this.broken = `The scene module stopped (${e.message}); reload the page.`;
			throw new Error(this.broken);
		}
	}

	// Copies bytes into module memory for the duration of fn(ptr, len).
	withBytes(bytes, fn) {
		const len = bytes.length;
		const p = this.x.tw_alloc(len || 1);
		if (!p) throw new Error('theta.wasm is out of memory');
		try {
			this.u8().set(bytes, p);
			return fn(p, len);
		} finally {
			this.x.tw_free(p);
		}
	}

	create(hostKey) {
		if (!(hostKey instanceof Uint8Array) || hostKey.length !== 32)
			throw new Error('the host key must be 32 bytes');
		const h = this.call(() => this.withBytes(hostKey, (p) => this.x.tw_fold_new(p)));
		if (h < 0) throw new Error(this.why());
		return new Scene(this, h);
	}

	palette() {
		const out = [];
		for (let s = 0; s < this.x.tw_palette_count(); s++) {
			const p = this.x.tw_palette_rgba(s);
			out.push({ slot: s, name: this.cstr(this.x.tw_palette_name(s)), rgba: Array.from(new Float32Array(this.x.memory.buffer, p, 4)) });
		}
		return out;
	}

	cmdName(type) {
		return this.cstr(this.x.tw_cmd_name(type));
	}

	refusalName(reason) {
		return this.cstr(this.x.tw_refusal_name(reason));
	}

	// An outcome's status ('applied', 'refused', 'excluded', 'control'), as
	// the module names it.
	statusName(status) {
		return this.cstr(this.x.tw_status_name(status));
	}

	// The name of a negative errno the module returned ('EINVAL'; its
	// numbers are wasi-libc's, not the host's).
	errnoName(r) {
		return this.cstr(this.x.tw_errno_name(r)) || `errno ${-r}`;
	}
}

export class Scene {
	constructor(tw, h) {
		this.tw = tw;
		this.x = tw.x;
		this.h = h;
		this.cache = new Map(); // mesh id -> { version, buffers }
	}

	free() {
		if (this.h) this.x.tw_fold_free(this.h);
		this.h = 0;
		this.cache.clear();
	}

	why() {
		return this.tw.why();
	}

	// One EVENT of kind LOG_ENTRY: 0 folded, 1 already folded, negative errno
	// (scene.why() says why: a hole in the log, an entry that does not decode).
	addEvent(pos, entry) {
		return this.tw.call(() => this.tw.withBytes(entry, (p, n) => this.x.tw_fold_add(this.h, BigInt(pos), p, n)));
	}

	worldHash() {
		return this.tw.call(() => this.hashNow());
	}

	hashNow() {
		const p = this.x.tw_alloc(32);
		try {
			const r = this.x.tw_world_hash(this.h, p);
			if (r < 0) throw new Error(this.why());
			return this.tw.u8().slice(p, p + 32);
		} finally {
			this.x.tw_free(p);
		}
	}

	nextPos() {
		return u64(this.x.tw_next_pos(this.h));
	}

	entityCount() {
		return this.x.tw_entity_count(this.h);
	}

	entryCount() {
		return u64(this.x.tw_entry_count(this.h));
	}

	generation() {
		return u64(this.x.tw_scene_generation(this.h));
	}

	// The outcomes queued since the last call (first folds and changed replays).
	outcomes() {
		const x = this.x, h = this.h, out = [];
		const n = x.tw_outcome_count(h);
		for (let i = 0; i < n; i++) {
			const ap = x.tw_outcome_author(h, i);
			const reason = x.tw_outcome_reason(h, i), type = x.tw_outcome_type(h, i);
			out.push({
				lamport: u64(x.tw_outcome_lamport(h, i)), seq: u64(x.tw_outcome_seq(h, i)), pos: u64(x.tw_outcome_pos(h, i)),
				author: this.tw.u8().slice(ap, ap + 32), type, typeName: this.tw.cmdName(type),
				status: this.tw.statusName(x.tw_outcome_status(h, i)), reason, reasonName: this.tw.refusalName(reason),
				again: x.tw_outcome_again(h, i) !== 0, why: this.tw.cstr(x.tw_outcome_why(h, i)),
			});
		}
		x.tw_outcome_clear(h);
		return out;
	}

	// The outcome of entry (lamport, author) while the fold keeps it:
	// { status, why } or null.
	outcomeOf(lamport, author) {
		const r = this.tw.withBytes(author, (p) => this.x.tw_outcome_of(this.h, BigInt(lamport), p));
		return r < 0 ? null : { status: this.tw.statusName(r), why: this.why() };
	}

	// Every entity that shows a mesh, in ascending entity id: { entity, id
	// (the mesh), version, transform (Float32Array 10: position, rotation
	// x y z w, scale), material, positions / normals (Float32Array, 9 a
	// triangle, mesh space), colors (12 a triangle), faces (BigUint64Array, the
	// face id of each triangle), edges (Float32Array, 6 an edge), triangles }.
	// A mesh's buffers are copied out of the module once per version.
	meshes() {
		return this.tw.call(() => this.drawNow());
	}

	drawNow() {
		const x = this.x, h = this.h, out = [], seen = new Set();
		const n = x.tw_draw_list(h);
		if (n < 0) throw new Error(this.why());
		for (let i = 0; i < n; i++) {
			const id = u64(x.tw_draw_mesh(h, i)), version = u64(x.tw_draw_version(h, i));
			seen.add(id);
			let c = this.cache.get(id);
			if (!c || c.version !== version) {
				c = { version, ...this.build(id) };
				this.cache.set(id, c);
			}
			const transform = new Float32Array(x.memory.buffer, x.tw_draw_transform(h, i), 10).slice();
			out.push({ entity: u64(x.tw_draw_entity(h, i)), id, version, transform, material: x.tw_draw_material(h, i),
				positions: c.positions, normals: c.normals, colors: c.colors, faces: c.faces, edges: c.edges,
				triangles: c.triangles });
		}
		for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);
		return out;
	}

	build(id) {
		const x = this.x;
		const t = x.tw_mesh_build(this.h, id);
		if (t < 0) throw new Error(this.why());
		const buf = x.memory.buffer, ne = x.tw_buf_edge_count();
		return {
			triangles: t,
			positions: new Float32Array(buf, x.tw_buf_positions(), t * 9).slice(),
			normals: new Float32Array(buf, x.tw_buf_normals(), t * 9).slice(),
			colors: new Float32Array(buf, x.tw_buf_colors(), t * 12).slice(),
			faces: new BigUint64Array(buf, x.tw_buf_face_ids(), t).slice(),
			edges: new Float32Array(buf, x.tw_buf_edges(), ne * 6).slice(),
		};
	}

	// ---- edits: { cmds: [{ cmdType, scope, payload, text }], why } -------------
	// cmds empty: nothing to submit, why says why ("paint: already red").

	// build: the builder's call into the module (run through call()).
	commands(build) {
		const x = this.x, r = this.tw.call(build);
		if (r <= 0) return { cmds: [], why: this.why(), code: r };
		const cmds = [];
		for (let i = 0; i < r; i++) {
			const p = x.tw_cmd_payload(i), n = x.tw_cmd_payload_len(i);
			cmds.push({ cmdType: x.tw_cmd_type(i), scope: u64(x.tw_cmd_scope(i)), payload: this.tw.u8().slice(p, p + n),
				text: this.tw.cstr(x.tw_cmd_text(i)) });
		}
		return { cmds, why: '', code: r };
	}

	// A cube of edge size metres centred at pos [x, y, z] (mesh.create).
	cube(pos, size) {
		return this.commands(() => this.x.tw_edit_cube(this.h, pos[0], pos[1], pos[2], size));
	}

	// The whole entity moved by d [dx, dy, dz] world metres (component.write).
	move(entity, d) {
		return this.commands(() => this.x.tw_edit_move(this.h, BigInt(entity), d[0], d[1], d[2]));
	}

	// One face of the entity's mesh moved by d (mesh.patch).
	moveFace(entity, face, d) {
		return this.commands(() => this.x.tw_edit_move_face(this.h, BigInt(entity), BigInt(face), d[0], d[1], d[2]));
	}

	// One face pulled out along its normal by distance world metres (mesh.patch).
	extrude(entity, face, distance) {
		return this.commands(() => this.x.tw_edit_extrude(this.h, BigInt(entity), BigInt(face), distance));
	}

	// One face (whole: every face) painted with palette slot (material.set
	// first when the scene lacks the slot's definition, then mesh.patch).
	paint(entity, face, slot, whole = false) {
		return this.commands(() => this.x.tw_edit_paint(this.h, BigInt(entity), BigInt(face), slot, whole ? 1 : 0));
	}

	// edit.undo (redo false) or edit.redo of entry (lamport, author).
	undo(lamport, author, redo = false) {
		return this.commands(() => this.tw.withBytes(author, (p) => this.x.tw_edit_undo(this.h, BigInt(lamport), p, redo ? 1 : 0)));
	}
}

// src: a URL (fetched), or the module's bytes (ArrayBuffer or Uint8Array).
export async function loadScene(src) {
	let instance;
	if (typeof src === 'string' || src instanceof URL) {
		const res = await fetch(src);
		if (!res.ok) throw new Error(`the scene module ${src} could not be loaded (HTTP ${res.status})`);
		({ instance } = await WebAssembly.instantiate(await res.arrayBuffer(), wasiImports));
	} else {
		({ instance } = await WebAssembly.instantiate(src, wasiImports));
	}
	return new TwModule(instance);
}
