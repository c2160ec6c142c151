// The page's editor: picking (a ray against the drawn triangles), the
// selection, and the tools: move (drag the picked mesh on a horizontal
// plane), extrude the picked face, paint it, add a cube, undo. Each edit's
// payloads come from the fold in WebAssembly (the same mesh operations the
// headset editor uses); this file only submits them (CMD_SUBMIT) and
// follows their answers (CMD_ACK, CMD_REJECT).
import * as M from './math.js';

export const EXTRUDE_DEFAULT_M = 0.25;
export const EXTRUDE_MAX_M = 10;
export const CUBE_SIZE_M = 1;
export const MOVE_SNAP_M = 0.05;
// Edits waiting for their answer at once; more are refused in the page.
export const PENDING_MAX = 64;
// Own acknowledged (and undone) edits the page remembers for Undo / Redo:
// older ones drop off, so a long session's page does not grow without bound.
export const UNDO_KEPT = 256;
const MOVE_MIN_M = 1e-4;

// Appends to an Undo / Redo list of at most UNDO_KEPT.
function keep(list, e) {
	list.push(e);
	if (list.length > UNDO_KEPT) list.splice(0, list.length - UNDO_KEPT);
}

// Nearest hit of a world ray on the drawn items: {entity, face (BigInt),
// faceIndex, dist, point, normal} or null.
export function pick(items, origin, dir) {
	let best = null;
	for (const it of items) {
		const model = M.fromTRS(it.transform), inv = M.invert(model);
		if (!inv) continue;
		const o = M.transformPoint(inv, origin), d = M.transformDir(inv, dir);
		const p = it.positions;
		for (let t = 0, v = 0; v < p.length; t++, v += 9) {
			const dist = M.rayTriangle(o, d, [p[v], p[v + 1], p[v + 2]], [p[v + 3], p[v + 4], p[v + 5]],
						   [p[v + 6], p[v + 7], p[v + 8]]);
			if (dist > 0 && (!best || dist < best.dist))
				best = { item: it, tri: t, dist };
		}
	}
	if (!best) return null;
	const it = best.item, t = best.tri, model = M.fromTRS(it.transform);
	const n = M.normalize(M.transformDir(M.invert(model).map((x, i, a) => a[(i % 4) * 4 + ((i / 4) | 0)]),
					   [it.normals[t * 9], it.normals[t * 9 + 1], it.normals[t * 9 + 2]]));
	return { entity: it.entity, face: it.faceIds[t], faceIndex: it.faceIndex[t * 3], dist: best.dist,
		 point: M.add(origin, M.scale(dir, best.dist)), normal: n };
}

// The centre of one face of an item, in world space (tests aim clicks at it).
export function faceCentre(it, face) {
	let s = [0, 0, 0], n = 0;
	for (let t = 0; t < it.faceIds.length; t++)
		if (it.faceIds[t] === face)
			for (let k = 0; k < 3; k++) {
				const v = (t * 3 + k) * 3;
				s = M.add(s, [it.positions[v], it.positions[v + 1], it.positions[v + 2]]);
				n++;
			}
	return n ? M.transformPoint(M.fromTRS(it.transform), M.scale(s, 1 / n)) : null;
}

function randomNonce() {
	const a = new BigUint64Array(1);
	do crypto.getRandomValues(a); while (a[0] === 0n);
	return a[0];
}

export class Editor {
	// env: fold() -> the fold, items() -> drawn items, send(rec) -> bool
	// (CMD_SUBMIT record built by encode), encode(fields) -> record,
	// say(text, kind), changed().
	constructor(env) {
		this.env = env;
		this.tool = 'select';
		this.slot = 1;
		this.extrudeDist = EXTRUDE_DEFAULT_M;
		this.selection = null;
		this.preview = null;
		this.drag = null;
		this.nonce = randomNonce();
		this.nextSeq = 1n;
		this.pending = new Map(); // client_seq -> {cmd, rec, text}
		this.acked = [];          // own entries, newest last: {lamport, text}
		this.undone = [];
		this.counters = { submits: 0, acks: 0, rejects: 0, refused: 0, localRefusals: 0 };
		this.lastAck = null;
		this.lastReject = '';
		this.lastRefusal = '';
	}

	setTool(t) {
		this.tool = t;
		this.env.changed();
	}

	setSlot(s) {
		this.slot = s;
		this.env.changed();
	}

	// A click at a world ray: select (and, with the paint tool, paint).
	click(origin, dir) {
		const hit = pick(this.env.items(), origin, dir);
		this.selection = hit ? { entity: hit.entity, face: hit.face, faceIndex: hit.faceIndex } : null;
		this.env.changed();
		if (hit && this.tool === 'paint')
			this.paint();
		return hit;
	}

	select(entity, face) {
		const it = this.env.items().find(i => i.entity === entity);
		if (!it) { this.selection = null; return false; }
		let fi = -1;
		for (let t = 0; t < it.faceIds.length; t++) if (it.faceIds[t] === face) { fi = it.faceIndex[t * 3]; break; }
		this.selection = { entity, face, faceIndex: fi };
		this.env.changed();
		return true;
	}

	// The move tool's drag: starts on a mesh, follows the horizontal plane
	// through the point it was taken at.
	dragStart(origin, dir) {
		if (this.tool !== 'move') return false;
		const hit = pick(this.env.items(), origin, dir);
		if (!hit) return false;
		this.selection = { entity: hit.entity, face: hit.face, faceIndex: hit.faceIndex };
		this.drag = { entity: hit.entity, from: hit.point };
		this.preview = { entity: hit.entity, offset: [0, 0, 0] };
		this.env.changed();
		return true;
	}

	dragMove(origin, dir) {
		if (!this.drag) return;
		const p = M.rayPlane(origin, dir, this.drag.from, [0, 1, 0]);
		if (!p) return;
		const snap = v => Math.round(v / MOVE_SNAP_M) * MOVE_SNAP_M;
		this.preview.offset = M.sub(p, this.drag.from).map(snap);
		this.env.changed();
	}

	dragEnd() {
		if (!this.drag) return;
		const off = this.preview.offset;
		this.drag = null;
		if (M.length(off) < MOVE_MIN_M) {
			this.preview = null;
			this.env.changed();
			return;
		}
		this.move(off);
	}

	need(what) {
		if (!this.selection) {
			this.env.say(`${what}: pick a face first (click on the model).`, 'warn');
			return null;
		}
		return this.selection;
	}

	// Moves the selected mesh by delta (world metres).
	move(delta) {
		const s = this.need('Move');
		if (!s) { this.preview = null; return -1; }
		this.preview = { entity: s.entity, offset: delta.slice() };
		const seq = this.build(f => f.move(s.entity, delta));
		if (seq < 0) this.preview = null;
		else this.pending.get(seq).preview = true;
		this.env.changed();
		return seq;
	}

	extrude(dist) {
		const s = this.need('Extrude');
		if (!s) return -1;
		const d = dist === undefined ? this.extrudeDist : Number(dist);
		if (!isFinite(d) || d === 0 || Math.abs(d) > EXTRUDE_MAX_M) {
			this.env.say(`Extrude: the distance must be a non-zero number of metres up to ${EXTRUDE_MAX_M}.`, 'warn');
			return -1;
		}
		return this.build(f => f.extrude(s.entity, s.face, d));
	}

	paint(slot) {
		const s = this.need('Paint');
		if (!s) return -1;
		return this.build(f => f.paint(s.entity, s.face, slot === undefined ? this.slot : slot, false));
	}

	// A cube standing on the floor in front of where the camera looks.
	addCube(at) {
		const p = at || [0, CUBE_SIZE_M / 2, 0];
		return this.build(f => f.cube(p, CUBE_SIZE_M));
	}

	undo(redo) {
		const from = redo ? this.undone : this.acked;
		const last = from[from.length - 1];
		if (!last || !this.env.selfKey()) {
			this.env.say(redo ? 'Redo: nothing undone to redo.' : 'Undo: none of your edits to undo yet.', 'warn');
			return -1;
		}
		const seq = this.build(f => f.undo(last.lamport, this.env.selfKey(), !!redo));
		if (seq >= 0) {
			from.pop();
			keep(redo ? this.acked : this.undone, last);
		}
		return seq;
	}

	// Runs a builder and submits what it returns: the last command's
	// client_seq, or -1 (the reason said in the page).
	build(fn) {
		const f = this.env.fold();
		if (!f) {
			this.env.say('Not connected to the session yet.', 'warn');
			return -1;
		}
		if (this.pending.size >= PENDING_MAX) {
			this.env.say(`${PENDING_MAX} edits are waiting for the host's answer: wait a moment.`, 'warn');
			return -1;
		}
		let r;
		try {
			r = fn(f);
		} catch (e) {
			this.counters.localRefusals++;
			this.env.say(e.message, 'error');
			return -1;
		}
		if (!r.cmds.length) {
			this.counters.localRefusals++;
			this.lastRefusal = r.why;
			this.env.say(r.why || 'That edit would change nothing.', 'warn');
			return -1;
		}
		let seq = -1;
		for (const c of r.cmds) {
			seq = this.nextSeq++;
			const rec = this.env.encode({ client_seq: seq, nonce: this.nonce, cmd_type: c.cmdType, scope: BigInt.asUintN(64, BigInt(c.scope)), payload: c.payload });
			this.pending.set(seq, { cmd: c, rec, text: c.text });
			this.env.send(rec);
			this.counters.submits++;
		}
		return seq;
	}

	// After a reconnect: every unanswered edit again, same nonce and seq
	// (the daemon answers a copy with the first one's result).
	resend() {
		for (const p of this.pending.values())
			this.env.send(p.rec);
	}

	onAck(a) {
		const p = this.pending.get(a.client_seq);
		if (!p) return;
		this.pending.delete(a.client_seq);
		this.counters.acks++;
		this.lastAck = { seq: a.client_seq, lamport: a.lamport, authorSeq: a.log_index, text: p.text };
		const name = this.env.cmdName(p.cmd.cmdType);
		if (name !== 'edit.undo' && name !== 'edit.redo')
			keep(this.acked, { lamport: a.lamport, text: p.text });
		if (p.preview) this.preview = null;
		this.env.say(`Done: ${p.text || 'edit'}.`, 'ok');
		this.env.changed();
	}

	onReject(r) {
		const p = this.pending.get(r.client_seq);
		this.pending.delete(r.client_seq);
		this.counters.rejects++;
		this.lastReject = r.detail || r.reasonName || 'refused';
		if (p && p.preview) this.preview = null;
		this.env.say(`The host refused ${p && p.text ? p.text : 'the edit'}: ${this.lastReject}`, 'error');
		this.env.changed();
	}
}
