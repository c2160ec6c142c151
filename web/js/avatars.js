// The other users' avatars from their POSE_UPDATEs (head and hands as
// boxes, a name label over the head), their PRESENCE (the tool cursor as a
// small box, "speaking" on the label and a bar over the head while they
// speak; docs/presence.md), and this page's own pose to send.
// Checks as theta-client's app/avatars.c: a part without TRACKED is not
// shown, a position beyond reach or a rotation far from unit is dropped,
// an older update (reordered on the unordered channel) is dropped.
import * as M from './math.js';
import { C } from './ipc.js';

export const AVATARS_MAX = 64;
export const REACH_MAX_M = 1000;
export const QUAT_SLACK = 0.01;
export const REORDER_NS = 1000000000n;
// A user whose poses stopped for this long leaves the view.
export const STALE_MS = 5000;
const PRES_F_CURSOR = C.PRES_F_CURSOR, PRES_F_SPEAKING = C.PRES_F_SPEAKING;
const CURSOR_SIZE = [0.03, 0.03, 0.03];
const SPEAKING_AT = [0, 0.22, 0], SPEAKING_SIZE = [0.16, 0.02, 0.16]; // a bar over the head
const POSE_F_HEAD = C.POSE_F_HEAD, POSE_F_LEFT = C.POSE_F_LEFT, POSE_F_RIGHT = C.POSE_F_RIGHT, POSE_F_TRACKED = C.POSE_F_TRACKED;
const PARTS = [[POSE_F_HEAD, 'head', [0.22, 0.26, 0.24]], [POSE_F_LEFT, 'left', [0.07, 0.07, 0.12]],
	       [POSE_F_RIGHT, 'right', [0.07, 0.07, 0.12]]];

// A stable colour per user, from its entity id.
function colorOf(entity) {
	const h = Number(entity % 360n) / 360;
	const f = n => { const k = (n + h * 12) % 12; return 0.55 - 0.35 * Math.max(-1, Math.min(k - 3, 9 - k, 1)); };
	return [f(0), f(8), f(4)];
}

// The first 4 bytes of a user's key as hex, from their entity (the key's
// first 8 bytes, little-endian): the label main.js gives from EVENT authors.
export function keyPrefix(entity) {
	let h = '';
	for (let i = 0n; i < 4n; i++) h += ((entity >> (8n * i)) & 0xffn).toString(16).padStart(2, '0');
	return h;
}

export class Avatars {
	constructor(layer) {
		this.layer = layer; // an element over the canvas for the labels
		this.users = new Map();
		this.names = new Map(); // entity -> label
		this.stats = { received: 0, dropped: 0, joined: 0, left: 0 };
	}

	// The label a user's avatar shows (their key's short form, or a name).
	setName(entity, name) {
		this.names.set(entity, name);
		const u = this.users.get(entity);
		if (u) u.label.textContent = name;
	}

	onPose(p, nowMs) {
		this.stats.received++;
		const parts = p.flags & (POSE_F_HEAD | POSE_F_LEFT | POSE_F_RIGHT);
		if (p.entity === 0n || !parts) { this.stats.dropped++; return false; }
		const tracked = (p.flags & POSE_F_TRACKED) !== 0;
		const pos = [p.px, p.py, p.pz];
		let rot = [p.qx, p.qy, p.qz, p.qw];
		if (tracked) {
			const q = Math.hypot(...rot);
			if (!(M.length(pos) <= REACH_MAX_M) || !(Math.abs(q - 1) <= QUAT_SLACK)) { this.stats.dropped++; return false; }
			rot = rot.map(v => v / q);
		}
		const u = this.user(p.entity, nowMs);
		if (!u) return false;
		for (const [flag, name] of PARTS) {
			if (!(parts & flag)) continue;
			const old = u.parts[name];
			if (old && p.t_ns < old.t && old.t - p.t_ns < REORDER_NS) { this.stats.dropped++; return false; }
			u.parts[name] = { pos, rot, t: p.t_ns, tracked };
		}
		u.seen = nowMs;
		return true;
	}

	// Another user's PRESENCE: the cursor shown while CURSOR is set, the
	// speaking marks while SPEAKING is (a cleared flag: that ended). An
	// older one (within REORDER_NS) or a cursor beyond reach is dropped.
	onPresence(p, nowMs) {
		this.stats.received++;
		const cursor = [p.cx, p.cy, p.cz];
		if (p.entity === 0n || ((p.flags & PRES_F_CURSOR) && !(M.length(cursor) <= REACH_MAX_M))) {
			this.stats.dropped++;
			return false;
		}
		const u = this.user(p.entity, nowMs);
		if (!u) return false;
		if (u.presT !== undefined && p.t_ns < u.presT && u.presT - p.t_ns < REORDER_NS) { this.stats.dropped++; return false; }
		u.presT = p.t_ns;
		u.seen = nowMs; // presence keeps a user as poses do (theta-client's app/avatars.c too)
		u.cursor = (p.flags & PRES_F_CURSOR) ? cursor : null;
		u.speaking = (p.flags & PRES_F_SPEAKING) !== 0;
		u.label.textContent = (u.speaking ? 'speaking: ' : '') + (this.names.get(p.entity) || 'user ' + keyPrefix(p.entity));
		return true;
	}

	// The user's record, made on first sight (null past AVATARS_MAX).
	user(entity, nowMs) {
		let u = this.users.get(entity);
		if (!u) {
			if (this.users.size >= AVATARS_MAX) { this.stats.dropped++; return null; }
			const text = this.names.get(entity) || 'user ' + keyPrefix(entity);
			const label = this.layer ? document.createElement('div') : { textContent: '', style: {}, remove() {} };
			label.className = 'avatar-label';
			label.textContent = text;
			if (this.layer) this.layer.appendChild(label);
			u = { entity, color: colorOf(entity), parts: {}, label, seen: nowMs, cursor: null, speaking: false };
			this.users.set(entity, u);
			this.stats.joined++;
		}
		return u;
	}

	// Drops users not heard from for STALE_MS; true when one left.
	expire(nowMs) {
		let gone = false;
		for (const [e, u] of this.users)
			if (nowMs - u.seen > STALE_MS) {
				u.label.remove();
				this.users.delete(e);
				this.stats.left++;
				gone = true;
			}
		return gone;
	}

	// What the renderer draws.
	drawList() {
		const out = [];
		for (const u of this.users.values()) {
			const parts = [];
			for (const [, name, size] of PARTS) {
				const p = u.parts[name];
				if (p && p.tracked) parts.push({ pos: p.pos, rot: p.rot, size });
			}
			if (u.cursor) parts.push({ pos: u.cursor, rot: [0, 0, 0, 1], size: CURSOR_SIZE });
			const head = u.parts.head;
			if (u.speaking && head && head.tracked)
				parts.push({ pos: M.add(head.pos, SPEAKING_AT), rot: [0, 0, 0, 1], size: SPEAKING_SIZE });
			if (parts.length) out.push({ color: u.color, parts });
		}
		return out;
	}

	// Places each label over its head (viewProj of the canvas, its CSS size).
	placeLabels(vp, w, h) {
		for (const u of this.users.values()) {
			const head = u.parts.head;
			if (!head || !head.tracked) { u.label.style.display = 'none'; continue; }
			const c = M.transformPoint(vp, M.add(head.pos, [0, 0.25, 0]));
			const behind = vp[3] * head.pos[0] + vp[7] * head.pos[1] + vp[11] * head.pos[2] + vp[15] <= 0;
			if (behind || Math.abs(c[0]) > 1.2 || Math.abs(c[1]) > 1.2) { u.label.style.display = 'none'; continue; }
			u.label.style.display = '';
			u.label.style.transform = `translate(${((c[0] + 1) / 2) * w}px, ${((1 - c[1]) / 2) * h}px) translate(-50%, -100%)`;
		}
	}
}

// The page's own pose updates: the camera (or the XR viewer) as the head,
// XR controllers as hands. poses: {head: {pos, rot}, left?, right?}.
export function ownPoseRecords(poses, tNs) {
	const out = [];
	for (const [flag, name] of PARTS) {
		const p = poses[name];
		if (!p) continue;
		out.push({ entity: 0n, t_ns: tNs, px: p.pos[0], py: p.pos[1], pz: p.pos[2], qx: p.rot[0], qy: p.rot[1], qz: p.rot[2],
			   qw: p.rot[3], flags: flag | POSE_F_TRACKED });
	}
	return out;
}
