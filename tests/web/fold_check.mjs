// node tests/web/fold_check.mjs THETA.WASM ENTRIES [EDIT...]
// Folds a session's log entries in the browser's fold (theta.wasm through
// web/js/scene.js, as the page does) and prints what tests/web/test_web_fold.c
// compares with the C fold. ENTRIES: "TWF1", the host key (32 bytes), then per
// entry u64 pos LE, u32 length LE, the entry's canonical body (an EVENT's
// payload). Prints, one per line:
//   add POS R                 for an add that did not answer 0 (R: 1, or -errno then its name and the reason)
//   hash HEX / entities N / next_pos N / entries N
//   outcome STATUS LAMPORT REASON        every outcome reported, in order
//   draw ENTITY MESH TRIANGLES EDGES AREA one per drawn entity (AREA: sum of triangle areas)
//   fold_us N                 microseconds the adds took
// then for each EDIT (cube:x,y,z,size  move:entity,dx,dy,dz
// moveface:entity,face,dx,dy,dz  extrude:entity,face,distance
// paint:entity,face,slot,whole  undo:lamport,authorhex,redo):
//   edit I K                  K commands, then K lines "cmd TYPE SCOPE HEX"; K 0: "why SENTENCE"
// and for the edit "trap" (a fault inside the module: tw_fold_add given an entry past its memory):
//   trap SAME|DIFFER SENTENCE  what scene.js threw, and whether a later addEvent threw the same
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const { loadScene } = await import(join(here, '..', '..', 'web', 'js', 'scene.js'));

const [wasmPath, entriesPath, ...edits] = process.argv.slice(2);
if (!wasmPath || !entriesPath) {
	console.error('usage: node fold_check.mjs THETA.WASM ENTRIES [EDIT...]');
	process.exit(2);
}
const tw = await loadScene(readFileSync(wasmPath));
const buf = readFileSync(entriesPath);
if (buf.length < 36 || buf.toString('latin1', 0, 4) !== 'TWF1') {
	console.error(`${entriesPath} is not an entries file (no TWF1 header)`);
	process.exit(2);
}
const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
const scene = tw.create(new Uint8Array(buf.subarray(4, 36)));
const entries = [];
for (let off = 36; off < buf.length;) {
	if (off + 12 > buf.length) { console.error('truncated entries file'); process.exit(2); }
	const pos = dv.getBigUint64(off, true), len = dv.getUint32(off + 8, true);
	if (off + 12 + len > buf.length) { console.error('truncated entries file'); process.exit(2); }
	entries.push([pos, new Uint8Array(buf.subarray(off + 12, off + 12 + len))]);
	off += 12 + len;
}
const hex = (u8) => Buffer.from(u8).toString('hex');
const t0 = process.hrtime.bigint();
const lines = [], outcomes = [];
for (const [pos, body] of entries) {
	const r = scene.addEvent(pos, body);
	if (r !== 0) lines.push(`add ${pos} ${r} ${r < 0 ? `${tw.errnoName(r)} ${scene.why()}` : 'duplicate'}`);
	for (const o of scene.outcomes()) outcomes.push(o);
}
const t1 = process.hrtime.bigint();
for (const l of lines) console.log(l);
console.log(`hash ${hex(scene.worldHash())}`);
console.log(`entities ${scene.entityCount()}`);
console.log(`next_pos ${scene.nextPos()}`);
console.log(`entries ${scene.entryCount()}`);
for (const o of outcomes) console.log(`outcome ${o.status} ${o.lamport} ${o.reasonName}`);
for (const m of scene.meshes()) {
	let area = 0;
	const p = m.positions;
	for (let t = 0; t < m.triangles; t++) {
		const a = [p[9 * t + 3] - p[9 * t], p[9 * t + 4] - p[9 * t + 1], p[9 * t + 5] - p[9 * t + 2]];
		const b = [p[9 * t + 6] - p[9 * t], p[9 * t + 7] - p[9 * t + 1], p[9 * t + 8] - p[9 * t + 2]];
		const c = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
		area += Math.hypot(c[0], c[1], c[2]) / 2;
	}
	console.log(`draw ${m.entity} ${m.id} ${m.triangles} ${m.edges.length / 6} ${area.toFixed(6)}`);
}
console.log(`fold_us ${(t1 - t0) / 1000n}`);
edits.forEach((spec, i) => {
	const [kind, argText = ''] = spec.split(':');
	const a = argText.split(',');
	const f = (k) => Number(a[k]);
	if (kind === 'trap') {
		let first = '', later = '';
		try { scene.tw.call(() => scene.x.tw_fold_add(scene.h, 0n, 0xfffff000, 4096)); } catch (e) { first = e.message; }
		try { scene.addEvent(0n, new Uint8Array(8)); } catch (e) { later = e.message; }
		console.log(`trap ${first && first === later ? 'SAME' : 'DIFFER'} ${first}`);
		return;
	}
	let res;
	switch (kind) {
	case 'cube': res = scene.cube([f(0), f(1), f(2)], f(3)); break;
	case 'move': res = scene.move(BigInt(a[0]), [f(1), f(2), f(3)]); break;
	case 'moveface': res = scene.moveFace(BigInt(a[0]), BigInt(a[1]), [f(2), f(3), f(4)]); break;
	case 'extrude': res = scene.extrude(BigInt(a[0]), BigInt(a[1]), f(2)); break;
	case 'paint': res = scene.paint(BigInt(a[0]), BigInt(a[1]), f(2), a[3] === '1'); break;
	case 'undo': res = scene.undo(BigInt(a[0]), new Uint8Array(Buffer.from(a[1], 'hex')), a[2] === '1'); break;
	default: console.error(`unknown edit ${spec}`); process.exit(2);
	}
	console.log(`edit ${i} ${res.cmds.length}`);
	for (const c of res.cmds) console.log(`cmd ${c.cmdType} ${c.scope} ${hex(c.payload)}`);
	if (!res.cmds.length) console.log(`why ${res.why}`);
});
