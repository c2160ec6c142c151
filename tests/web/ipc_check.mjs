// node tests/web/ipc_check.mjs decode RECORDS     (tests/web/test_web_ipc.c)
//   RECORDS: per record u32 length LE, the record (u16 type + body), u8 1 (valid) or 0.
//   Prints per record "ok HEX" (decoded by web/js/ipc.js and encoded again: HEX)
//   or "bad REASON" (decodeRecord threw).
// node tests/web/ipc_check.mjs gen SEED N
//   Prints N random valid records of every message, "rec NAME HEX", encoded by ipc.js;
//   then one line "refused NAME FIELD: reason" per message with a field encodeRecord
//   must refuse (a value past its limit).
// node tests/web/ipc_check.mjs payloads FILE
//   FILE: per payload u8 kind (1 EVENT_REFUSED, 2 EVENT_REJECTED), u32 length LE, the payload.
//   Prints per payload "ok AUTHOR SEQ LAMPORT REASON TEXT" (hex author and text; decodeRefused /
//   decodeRejected) or "bad REASON" (it threw).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const build = process.env.THETA_BUILD || 'build';
// ipc.js imports ./gen/ipc_msgs.js: the copy under build/web has it beside it.
const ipc = await import(join(process.cwd(), build, 'web', 'js', 'ipc.js'));
const hex = (u8) => Buffer.from(u8).toString('hex');
const [mode, a1, a2] = process.argv.slice(2);

if (mode === 'decode') {
	const buf = readFileSync(a1);
	const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	for (let off = 0; off < buf.length;) {
		const n = dv.getUint32(off, true);
		const rec = new Uint8Array(buf.subarray(off + 4, off + 4 + n));
		off += 4 + n + 1;
		try {
			const m = ipc.decodeRecord(rec);
			const { type, msg, ...fields } = m;
			console.log(`ok ${hex(ipc.encodeRecord(msg, fields))}`);
		} catch (e) {
			if (!(e instanceof ipc.IpcError)) throw e;
			console.log(`bad ${e.message}`);
		}
	}
} else if (mode === 'gen') {
	let seed = Number(a1) >>> 0;
	const rnd = () => {
		seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
		return seed / 4294967296;
	};
	const pieces = ['a', 'Z', '7', ' ', 'é', '€', '😀', '-', 'ß'];
	const text = (limit) => {
		let s = '';
		const want = Math.floor(rnd() * (limit + 1));
		for (;;) {
			const p = pieces[Math.floor(rnd() * pieces.length)];
			if (Buffer.byteLength(s + p) > want) return s;
			s += p;
		}
	};
	const value = (f) => {
		switch (f.kind) {
		case 'u16': return Math.floor(rnd() * 65536);
		case 'u32': return Math.floor(rnd() * 4294967296);
		case 'u64': return (BigInt(Math.floor(rnd() * 4294967296)) << 32n) | BigInt(Math.floor(rnd() * 4294967296));
		case 'f32': return Math.fround((rnd() - 0.5) * 1e6);
		case 'enum': return Math.floor(rnd() * (f.limit + 1));
		case 'flags': return (Math.floor(rnd() * 4294967296) & f.limit) >>> 0;
		case 'str': return text(f.limit);
		case 'path': return rnd() < 0.3 ? '' : '/interaction_profiles/a.b/c-d_e9'.slice(0, f.limit);
		case 'list': return rnd() < 0.3 ? '' : 'alice\nbob\nzoë';
		case 'blob': {
			const n = rnd() < 0.1 ? f.limit : Math.floor(rnd() * Math.min(f.limit, 300));
			const u = new Uint8Array(n);
			for (let i = 0; i < n; i++) u[i] = Math.floor(rnd() * 256);
			return u;
		}
		}
		throw new Error(`kind ${f.kind}`);
	};
	for (let k = 0; k < Number(a2); k++)
		for (const m of ipc.MSGS) {
			const obj = {};
			for (const f of m.fields) obj[f.name] = value(f);
			console.log(`rec ${m.name} ${hex(ipc.encodeRecord(m.name, obj))}`);
		}
	for (const m of ipc.MSGS) {
		const f = m.fields.find((x) => x.kind === 'enum' || x.kind === 'str' || x.kind === 'blob');
		if (!f) continue;
		const obj = {};
		for (const g of m.fields) obj[g.name] = value(g);
		obj[f.name] = f.kind === 'enum' ? f.limit + 1 : f.kind === 'str' ? 'x'.repeat(f.limit + 1) : new Uint8Array(f.limit + 1);
		try {
			ipc.encodeRecord(m.name, obj);
			console.log(`accepted ${m.name} ${f.name}`);
		} catch (e) {
			console.log(`refused ${m.name} ${e.message}`);
		}
	}
} else if (mode === 'payloads') {
	const buf = readFileSync(a1);
	const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	for (let off = 0; off < buf.length;) {
		const kind = buf[off], n = dv.getUint32(off + 1, true);
		const p = new Uint8Array(buf.subarray(off + 5, off + 5 + n));
		off += 5 + n;
		try {
			const m = kind === 1 ? ipc.decodeRefused(p) : ipc.decodeRejected(p);
			console.log(`ok ${hex(m.author)} ${m.seq} ${m.lamport} ${m.reason} ${Buffer.from(m.text, 'latin1').toString('hex')}`);
		} catch (e) {
			if (!(e instanceof ipc.IpcError)) throw e;
			console.log(`bad ${e.message}`);
		}
	}
} else {
	console.error('usage: node ipc_check.mjs decode RECORDS | gen SEED N | payloads FILE');
	process.exit(2);
}
