// The local IPC's records for the browser (docs/web.md "A browser is a
// client"): one data-channel message is one record, the u16 message type
// (little-endian) then the body as proto_ipc_encode writes it. Encoders and
// decoders run off the generated table (./gen/ipc_msgs.js, written by
// tools/webgen/gen_ipc_js from proto/ipc_msgs.def) and validate as the C
// decoders do: exact lengths, no trailing bytes, enums within their max, flags
// within their mask, finite floats, strings valid UTF-8 without NUL within
// their limit (paths and lists by their rules), blobs within their limit.
// u64 fields are BigInt; u16/u32/enum/flags and f32 are Numbers; strings are
// JS strings; blobs Uint8Array. A bad record throws IpcError("FIELD: reason").
//
//   const rec = encodeRecord('CMD_SUBMIT', { client_seq: 1n, nonce: 7n, cmd_type: 0x12, scope: 0n, payload });
//   const m = decodeRecord(bytes);     // { type: 8, msg: 'EVENT', kind, pos, lamport, author, payload }
// (msg, not name: CLIENT_INFO, HELLO and SESSION_INFO have a field called name.)

import { C, SESS, MSGS, COMMANDS, REFUSALS } from './gen/ipc_msgs.js';

export { C, SESS, MSGS, COMMANDS, REFUSALS };

export class IpcError extends Error {}

const byName = new Map(MSGS.map((m) => [m.name, m]));
const byId = new Map(MSGS.map((m) => [m.id, m]));
const commandsById = new Map(COMMANDS.map((c) => [c.id, c]));

const U64_MAX = (1n << 64n) - 1n;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function msgByName(name) {
	return byName.get(name);
}

export function msgById(id) {
	return byId.get(id);
}

export function commandName(id) {
	return commandsById.get(id)?.name ?? '';
}

// The channel a record of this message type may travel on, seen from the
// browser: 'C2D' (it sends), 'D2C' (it receives), 'BOTH'; others never go on a
// data channel.
export function chanOf(name) {
	return byName.get(name)?.chan;
}

function fail(field, why) {
	throw new IpcError(`${field}: ${why}`);
}

// F_PATH's rule (proto/ipc.c path_ok) on a string already valid.
function pathOk(s) {
	if (s.length === 0) return true;
	if (s[0] !== '/' || s[s.length - 1] === '/') return false;
	let onlyDots = true;
	for (let i = 1; i < s.length; i++) {
		const c = s[i];
		if (c === '/') {
			if (s[i - 1] === '/' || onlyDots) return false;
			onlyDots = true;
		} else if (!/[a-z0-9._-]/.test(c)) {
			return false;
		} else if (c !== '.') {
			onlyDots = false;
		}
	}
	return !onlyDots;
}

// F_LIST's rule (proto/ipc.c list_ok).
function listOk(s) {
	if (s.length === 0) return true;
	if (s[0] === '\n' || s[s.length - 1] === '\n') return false;
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c === 10 && s.charCodeAt(i - 1) === 10) return false;
		if ((c < 0x20 && c !== 10) || c === 0x7f) return false;
	}
	return true;
}

function wellFormed(s) {
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c >= 0xd800 && c <= 0xdbff) {
			const d = s.charCodeAt(i + 1);
			if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
			i++;
		} else if (c >= 0xdc00 && c <= 0xdfff) {
			return false;
		}
	}
	return true;
}

function checkText(f, s) {
	if (s.includes('\0')) fail(f.name, 'contains NUL');
	if (f.kind === 'path' && !pathOk(s)) fail(f.name, 'not a path of [a-z0-9._-] components');
	if (f.kind === 'list' && !listOk(s)) fail(f.name, 'not a list of names (one per line, no control characters)');
}

function uint(f, v, max) {
	if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(f.name, `not an integer in 0..${max}`);
	return v;
}

// One message's body (without the type) from obj.
export function encodeBody(name, obj) {
	const m = byName.get(name);
	if (!m) throw new IpcError(`unknown message ${name}`);
	const parts = [];
	let size = 0;
	for (const f of m.fields) {
		const v = obj[f.name];
		let b;
		switch (f.kind) {
		case 'u16':
			b = new Uint8Array(2);
			new DataView(b.buffer).setUint16(0, uint(f, v ?? 0, 0xffff), true);
			break;
		case 'u32':
		case 'enum':
		case 'flags': {
			const x = uint(f, v ?? 0, 0xffffffff);
			if (f.kind === 'enum' && x > f.limit) fail(f.name, `above ${f.limit}`);
			if (f.kind === 'flags' && ((x & ~f.limit) >>> 0) !== 0) fail(f.name, 'a flag outside the mask');
			b = new Uint8Array(4);
			new DataView(b.buffer).setUint32(0, x, true);
			break;
		}
		case 'u64': {
			const x = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v ?? 0n;
			if (typeof x !== 'bigint' || x < 0n || x > U64_MAX) fail(f.name, 'not a u64 (BigInt)');
			b = new Uint8Array(8);
			new DataView(b.buffer).setBigUint64(0, x, true);
			break;
		}
		case 'f32': {
			const x = v ?? 0;
			if (typeof x !== 'number' || !Number.isFinite(x) || !Number.isFinite(Math.fround(x)))
				fail(f.name, 'not a finite float');
			b = new Uint8Array(4);
			new DataView(b.buffer).setFloat32(0, x, true);
			break;
		}
		case 'str':
		case 'path':
		case 'list': {
			const s = v ?? '';
			if (typeof s !== 'string' || !wellFormed(s)) fail(f.name, 'not a string of valid UTF-16');
			checkText(f, s);
			const u = enc.encode(s);
			if (u.length > f.limit) fail(f.name, `longer than ${f.limit} bytes`);
			b = new Uint8Array(2 + u.length);
			new DataView(b.buffer).setUint16(0, u.length, true);
			b.set(u, 2);
			break;
		}
		case 'blob': {
			const u = v ?? new Uint8Array(0);
			if (!(u instanceof Uint8Array)) fail(f.name, 'not a Uint8Array');
			if (u.length > f.limit) fail(f.name, `longer than ${f.limit} bytes`);
			b = new Uint8Array(4 + u.length);
			new DataView(b.buffer).setUint32(0, u.length, true);
			b.set(u, 4);
			break;
		}
		default:
			fail(f.name, `field kind ${f.kind} unknown to ipc.js`);
		}
		parts.push(b);
		size += b.length;
	}
	const out = new Uint8Array(size);
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}

// A record: u16 type LE + body.
export function encodeRecord(name, obj) {
	const m = byName.get(name);
	if (!m) throw new IpcError(`unknown message ${name}`);
	const body = encodeBody(name, obj);
	const out = new Uint8Array(2 + body.length);
	new DataView(out.buffer).setUint16(0, m.id, true);
	out.set(body, 2);
	return out;
}

// One message's body of type id: { field: value, ... }.
export function decodeBody(id, u8) {
	const m = byId.get(id);
	if (!m) throw new IpcError(`unknown message type ${id}`);
	const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
	const out = {};
	let off = 0;
	const need = (f, n) => {
		if (u8.length - off < n) fail(f.name, 'truncated');
	};
	for (const f of m.fields) {
		switch (f.kind) {
		case 'u16':
			need(f, 2);
			out[f.name] = dv.getUint16(off, true);
			off += 2;
			break;
		case 'u32':
		case 'enum':
		case 'flags': {
			need(f, 4);
			const x = dv.getUint32(off, true);
			off += 4;
			if (f.kind === 'enum' && x > f.limit) fail(f.name, `value ${x} above ${f.limit}`);
			if (f.kind === 'flags' && ((x & ~f.limit) >>> 0) !== 0) fail(f.name, 'unknown flag bits');
			out[f.name] = x;
			break;
		}
		case 'u64':
			need(f, 8);
			out[f.name] = dv.getBigUint64(off, true);
			off += 8;
			break;
		case 'f32': {
			need(f, 4);
			const x = dv.getFloat32(off, true);
			off += 4;
			if (!Number.isFinite(x)) fail(f.name, 'not a finite float');
			out[f.name] = x;
			break;
		}
		case 'str':
		case 'path':
		case 'list': {
			need(f, 2);
			const n = dv.getUint16(off, true);
			off += 2;
			if (n > f.limit) fail(f.name, `longer than ${f.limit} bytes`);
			need(f, n);
			let s;
			try {
				s = dec.decode(u8.subarray(off, off + n));
			} catch {
				fail(f.name, 'not valid UTF-8');
			}
			off += n;
			checkText(f, s);
			out[f.name] = s;
			break;
		}
		case 'blob': {
			need(f, 4);
			const n = dv.getUint32(off, true);
			off += 4;
			if (n > f.limit) fail(f.name, `longer than ${f.limit} bytes`);
			need(f, n);
			out[f.name] = u8.slice(off, off + n);
			off += n;
			break;
		}
		default:
			fail(f.name, `field kind ${f.kind} unknown to ipc.js`);
		}
	}
	if (off !== u8.length) throw new IpcError('trailing bytes after the last field');
	return out;
}

// A record (u16 type LE + body) -> { type, msg, ...fields } (msg: the message's name).
export function decodeRecord(u8) {
	if (!(u8 instanceof Uint8Array)) u8 = new Uint8Array(u8);
	if (u8.length < 2) throw new IpcError('a record shorter than its type');
	const id = u8[0] | (u8[1] << 8);
	const m = byId.get(id);
	if (!m) throw new IpcError(`unknown message type ${id}`);
	return { type: id, msg: m.name, ...decodeBody(id, u8.subarray(2)) };
}

// Printable ASCII text[n] at p[off] (the payloads' PRINTABLE rule), or an IpcError.
function printable(p, off, n, what) {
	let text = '';
	for (let i = 0; i < n; i++) {
		const c = p[off + i];
		if (c < 0x20 || c > 0x7e) throw new IpcError(`${what}: text not printable ASCII`);
		text += String.fromCharCode(c);
	}
	return text;
}

// EVENT_REFUSED's payload (proto_ipc_refused_decode): the fold refused an
// entry of this user: author[KEY_LEN], u64 seq, u64 lamport, u8 reason, u16
// text length, text. { author, seq, lamport, reason, reasonName, text }.
export function decodeRefused(p) {
	const k = C.KEY_LEN, fixed = k + 8 + 8 + 1 + 2;
	if (!(p instanceof Uint8Array) || p.length < fixed) throw new IpcError('refusal: truncated');
	const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
	const reason = p[k + 16], tl = dv.getUint16(k + 17, true);
	if (reason >= C.REFUSAL_MAX) throw new IpcError('refusal: reason out of range');
	if (tl > C.REFUSED_TEXT_MAX || p.length !== fixed + tl) throw new IpcError('refusal: text length');
	const text = printable(p, fixed, tl, 'refusal');
	return { author: p.slice(0, k), seq: dv.getBigUint64(k, true), lamport: dv.getBigUint64(k + 8, true), reason,
		reasonName: REFUSALS[reason] ?? String(reason), text };
}

// EVENT_REJECTED's payload (proto_sess_rejected_event_decode, proto/session.h):
// the session's host refused an entry this daemon had made durable for this
// user: author[KEY_LEN], u64 seq (>= 1), u64 lamport, u32 reason (a REJECT_*
// code), u16 text length, text. { author, seq, lamport, reason, text }.
export function decodeRejected(p) {
	const k = C.KEY_LEN, fixed = k + 8 + 8 + 4 + 2;
	if (!(p instanceof Uint8Array) || p.length < fixed) throw new IpcError('rejection: truncated');
	const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
	const seq = dv.getBigUint64(k, true), reason = dv.getUint32(k + 16, true), tl = dv.getUint16(k + 20, true);
	if (seq === 0n) throw new IpcError('rejection: seq 0');
	if (reason > SESS.REJECT_REASON_MAX) throw new IpcError('rejection: reason out of range');
	if (tl > SESS.REJECT_TEXT_MAX || p.length !== fixed + tl) throw new IpcError('rejection: text length');
	const text = printable(p, fixed, tl, 'rejection');
	return { author: p.slice(0, k), seq, lamport: dv.getBigUint64(k + 8, true), reason, text };
}
