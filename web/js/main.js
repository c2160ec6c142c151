// The browser client (docs/web.md "The browser client"): joins the session
// the invite link names, folds its log with the C fold in WebAssembly,
// draws it, edits it, shows the others and sends its own pose.
import * as ipc from './ipc.js';
import { loadScene } from './scene.js';
import * as net from './net.js';
import { Renderer } from './render.js';
import { OrbitCamera, attachControls } from './camera.js';
import { Editor, faceCentre } from './edit.js';
import { Avatars, ownPoseRecords } from './avatars.js';
import { XrSession, xrSupported } from './xr.js';
import { Ui } from './ui.js';
import * as M from './math.js';

const C = ipc.C;
export const POSE_HZ = 25;
// A pose is sent when it changed, and at least this often while still.
export const POSE_KEEPALIVE_MS = 1000;
// SCENE_STATE at most this often (ipc_msgs.def: 100 ms).
export const SCENE_STATE_MS = 100;
// Fresh folds a page may start (a hole, a bad entry) before it gives up.
export const REFOLDS_MAX = 3;
// Recent entries' authors (and acked positions) kept to learn the page's key.
export const AUTHORS_KEPT = 256;
const VERSION = 'web-1';
const WASM_URL = 'wasm/theta.wasm';

// wasm hands u64 results to JS as i64: ids past 2^63 come negative.
const u64 = v => BigInt.asUintN(64, BigInt(v));
const hex = u8 => Array.from(u8, b => b.toString(16).padStart(2, '0')).join('');
function unhex(s) {
	const out = new Uint8Array(s.length / 2);
	for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
	return out;
}
// The avatar entity of a user: the first 8 bytes of their key, LE
// (thetad sess_entity_of).
function entityOfKey(key) {
	let v = 0n;
	for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(key[i]);
	return v;
}

const ui = new Ui();
const canvas = ui.el.view;
const cam = new OrbitCamera();
const app = {
	state: 'loading', lastError: '', invite: null, reply: null, info: null, tw: null, fold: null, hostKey: null,
	selfKey: null, items: [], drawnGen: -1n, framed: false, refolds: 0, expectFrom: null, lastSceneState: 0,
	sceneStateDue: false, lastPose: null, lastPoseMs: 0, dirty: true, xr: null, xrPoses: null, loadMs: 0,
	shownMs: 0, refusedShown: new Set(), authorOf: new Map(), acked: new Set(),
	counters: { records: 0, events: 0, badRecords: 0, posesIn: 0, posesOut: 0, resyncs: 0, sessionInfos: 0,
		    refusedEvents: 0, rejectedEvents: 0, sceneStates: 0, setAside: 0 },
};
let renderer = null, link = null;
const avatars = new Avatars(ui.el.labels);

function setState(s) {
	app.state = s;
	const words = { loading: 'loading...', name: 'choose a name', offering: 'asking the host...', connecting: 'connecting...',
			open: 'in the session', reconnecting: 'reconnecting...', stopped: 'stopped' };
	ui.status(words[s] || s);
}

// The page stops: the sentence stays shown and the link closes (what
// follows the first one are its consequences: that one stays).
function stop(sentence) {
	if (app.state === 'stopped') return;
	app.lastError = sentence;
	setState('stopped');
	ui.fatal(sentence);
	if (link) link.stop();
}

function say(text, kind) {
	if (kind === 'error') app.lastError = text;
	ui.say(text, kind);
}

function changed() {
	app.dirty = true;
	schedule();
}

let rafPending = false;
function schedule() {
	if (rafPending || app.xr) return;
	rafPending = true;
	requestAnimationFrame(() => {
		rafPending = false;
		frame();
	});
}

// ---- the scene ---------------------------------------------------------------

function newFold() {
	if (app.fold) app.fold.free();
	app.fold = app.tw.create(app.hostKey);
	app.items = [];
	app.drawnGen = -1n;
	app.refusedShown.clear();
}

// The drawn items from the fold's meshes (scene.js copies a mesh's
// buffers out once per version: the same arrays while it is unchanged).
function refreshItems() {
	const f = app.fold, old = new Map(app.items.map(i => [i.entity, i]));
	const out = [];
	for (const d of f.meshes()) {
		const prev = old.get(u64(d.entity));
		if (prev && prev.src === d.positions && prev.colors === d.colors) {
			prev.transform = d.transform;
			out.push(prev);
			continue;
		}
		const idx = new Map(), faceIndex = new Float32Array(d.faces.length * 3);
		for (let t = 0; t < d.faces.length; t++) {
			let k = idx.get(d.faces[t]);
			if (k === undefined) { k = idx.size; idx.set(d.faces[t], k); }
			faceIndex.fill(k, t * 3, t * 3 + 3);
		}
		out.push({ entity: u64(d.entity), mesh: u64(d.id), version: d.version, material: d.material, transform: d.transform,
			   positions: d.positions, normals: d.normals, colors: d.colors, faceIds: d.faces, faceIndex,
			   edges: d.edges, src: d.positions });
	}
	app.items = out;
	const s = editor.selection;
	if (s) {
		const it = out.find(i => i.entity === s.entity);
		if (!it) editor.selection = null;
		else {
			let fi = -1;
			for (let t = 0; t < it.faceIds.length; t++) if (it.faceIds[t] === s.face) { fi = it.faceIndex[t * 3]; break; }
			s.faceIndex = fi;
		}
	}
}

function bounds(items) {
	let min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
	for (const it of items) {
		const m = M.fromTRS(it.transform), p = it.positions;
		for (let v = 0; v < p.length; v += 3) {
			const w = M.transformPoint(m, [p[v], p[v + 1], p[v + 2]]);
			for (let k = 0; k < 3; k++) { min[k] = Math.min(min[k], w[k]); max[k] = Math.max(max[k], w[k]); }
		}
	}
	return isFinite(min[0]) ? { min, max } : null;
}

function frameModel() {
	const b = bounds(app.items);
	if (b) cam.frame(b.min, b.max);
	changed();
}

function caughtUp() {
	return !!app.fold && !!app.info && app.fold.nextPos() >= app.info.log_pos && app.expectFrom === null;
}

function onEvent(ev) {
	const f = app.fold;
	if (ev.kind === C.EVENT_LOG_ENTRY) {
		app.counters.events++;
		// Events before the answer to our RESYNC_REQUEST belong to the
		// stream it replaces (nc_client.h does the same).
		if (app.expectFrom !== null) {
			app.counters.setAside++;
			return;
		}
		if (ev.pos > f.nextPos()) return refold(`the host's event ${ev.pos} came after ${f.nextPos()}, a hole`);
		const r = f.addEvent(ev.pos, ev.payload);
		if (r < 0) return refold(f.why());
		avatars.setName(entityOfKey(ev.author), avatars.names.get(entityOfKey(ev.author)) || 'user ' + hex(ev.author.slice(0, 4)));
		for (const o of f.outcomes()) {
			noteEntry(u64(o.lamport), u64(o.seq), o.author);
			if (o.status === 'refused' && app.selfKey && hex(o.author) === hex(app.selfKey))
				showRefused(u64(o.lamport), o.why);
		}
		app.sceneStateDue = true;
		changed();
	} else if (ev.kind === C.EVENT_REFUSED) {
		// The session's fold refused an entry of ours: no effect anywhere.
		app.counters.refusedEvents++;
		let r;
		try { r = ipc.decodeRefused(ev.payload); } catch (e) { app.counters.badRecords++; return; }
		showRefused(r.lamport, r.text || r.reasonName, false);
	} else if (ev.kind === C.EVENT_REJECTED) {
		// The host refused an entry this daemon had made durable for us
		app.counters.rejectedEvents++;
		let r;
		try { r = ipc.decodeRejected(ev.payload); } catch (e) { app.counters.badRecords++; return; }
		showRefused(r.lamport, r.text || 'no reason given', true);
	}
}

// This page's user key: the author of the entry a CMD_ACK names by its
// lamport and the author's seq (log_index), from the fold's outcomes (the
// ack and the entry come in either order).
function noteEntry(lamport, seq, author) {
	if (app.selfKey) return;
	const id = `${lamport}:${seq}`;
	if (app.acked.has(id)) { app.selfKey = author.slice(); return; }
	app.authorOf.set(id, author.slice());
	if (app.authorOf.size > AUTHORS_KEPT) app.authorOf.delete(app.authorOf.keys().next().value);
}

function noteAcked(lamport, seq) {
	if (app.selfKey) return;
	const id = `${lamport}:${seq}`, a = app.authorOf.get(id);
	if (a) { app.selfKey = a; return; }
	app.acked.add(id);
	if (app.acked.size > AUTHORS_KEPT) app.acked.delete(app.acked.values().next().value);
}

function showRefused(lamport, why, byHost) {
	const key = String(lamport);
	if (app.refusedShown.has(key)) return;
	app.refusedShown.add(key);
	editor.counters.refused++;
	say(byHost ? `The session's host refused your edit: ${why}` : `Your edit had no effect: ${why}`, 'error');
}

// A fresh fold and the log again from its start.
function refold(why) {
	if (++app.refolds > REFOLDS_MAX) return stop(`The page cannot follow the session's log: ${why}.`);
	say(`Folding the session again from its start: ${why}.`, 'warn');
	newFold();
	requestResync(C.RESYNC_CLIENT_ASKED, 0n);
}

function requestResync(reason, from) {
	app.counters.resyncs++;
	app.expectFrom = from;
	sendRec('RESYNC_REQUEST', { reason, session: 0n, next_pos: from, flags: 0 });
}

function sendRec(name, obj) {
	return link && link.send(ipc.encodeRecord(name, obj));
}

function onRecord(u8, chan) {
	app.counters.records++;
	let r;
	try {
		r = ipc.decodeRecord(u8);
	} catch (e) {
		app.counters.badRecords++;
		return;
	}
	if (app.state === 'stopped') return;
	// What the scene module throws (after a wasm trap it refuses every
	// call with one sentence) stops the page with that sentence.
	try {
		onDecoded(r);
	} catch (e) {
		stop(e.message);
	}
}

function onDecoded(r) {
	switch (r.msg) {
	case 'EVENT': return onEvent(r);
	case 'CMD_ACK':
		editor.onAck(r);
		noteAcked(r.lamport, r.log_index);
		return;
	case 'CMD_REJECT': return editor.onReject(r);
	case 'POSE_UPDATE':
		app.counters.posesIn++;
		if (avatars.onPose(r, performance.now())) changed();
		return;
	case 'PRESENCE':
		if (avatars.onPresence(r, performance.now())) changed();
		return;
	case 'SESSION_INFO':
		app.counters.sessionInfos++;
		app.info = r;
		showSession();
		changed();
		return;
	case 'RESYNC_REQUEST':
		if (r.reason === C.RESYNC_FROM) {
			if (r.next_pos > app.fold.nextPos()) return refold(`the host resumes at ${r.next_pos}, the page has ${app.fold.nextPos()}`);
			app.expectFrom = null;
		} else if (r.reason === C.RESYNC_QUEUE_OVERFLOW) {
			requestResync(C.RESYNC_CLIENT_ASKED, app.fold.nextPos());
		} else if (r.reason === C.RESYNC_SESSION) {
			newFold();
			if (r.next_pos !== 0n) requestResync(C.RESYNC_CLIENT_ASKED, 0n);
		}
		return;
	case 'PING':
		sendRec('PONG', { seq: r.seq, send_ns: r.send_ns, reply_ns: BigInt(Math.round(performance.now() * 1e6)) });
		return;
	default:
		return;
	}
}

function showSession() {
	const i = app.info;
	const host = !i ? '' : i.host === C.SINFO_HOST_LOCAL ? 'this daemon' : i.host === C.SINFO_HOST_REMOTE
		? `remote, ${(i.rtt_us / 1000).toFixed(1)} ms` : i.host === C.SINFO_HOST_NONE ? 'none' : 'unreachable';
	ui.session(i, app.reply, host);
}

// ---- the link ----------------------------------------------------------------

function onOpen(reply, again) {
	ui.clearFatal();
	app.reply = reply;
	if (!again || !app.fold) {
		if (typeof reply.host !== 'string' || !/^[0-9a-f]{64}$/i.test(reply.host))
			return stop('The host\'s reply names no session host key: this daemon is older than this page.');
		app.hostKey = unhex(reply.host.toLowerCase());
		newFold();
	}
	sendRec('CLIENT_INFO', { pid: 0, mode: C.MODE_BROWSER, name: app.name, version: VERSION });
	requestResync(again ? C.RESYNC_RECONNECTED : C.RESYNC_CLIENT_ASKED, app.fold.nextPos());
	if (again) editor.resend();
	ui.el.tools.classList.remove('off');
	showSession();
	say(again ? 'Back in the session.' : `Joined ${reply.session_name || 'the session'} as ${reply.role}.`, 'ok');
}

// ---- frames, poses -----------------------------------------------------------

function view() { return cam.view(); }

function sceneForDraw() {
	return { selection: editor.selection, preview: editor.preview, avatars: avatars.drawList() };
}

function syncScene() {
	if (app.fold) {
		const gen = app.fold.generation();
		if (gen !== app.drawnGen) {
			refreshItems();
			app.drawnGen = gen;
		}
		// Framed once, when the page has what the log had as it joined
		// (SESSION_INFO may come before the events or after them).
		if (!app.framed && caughtUp() && app.items.length) {
			app.framed = true;
			const b = bounds(app.items);
			if (b) cam.frame(b.min, b.max);
			app.shownMs = performance.now();
		}
	}
	renderer.sync(app.items);
}

function frame() {
	if (!app.dirty || app.state === 'stopped') return;
	app.dirty = false;
	const t0 = performance.now();
	try {
		syncScene();
	} catch (e) {
		return stop(e.message);
	}
	const { w, h } = renderer.beginCanvas();
	const proj = cam.projection(w / h), v = view();
	renderer.draw(v, proj, sceneForDraw());
	avatars.placeLabels(M.multiply(proj, v), canvas.clientWidth, canvas.clientHeight);
	renderer.endFrame(performance.now() - t0);
	app.framesGen = app.drawnGen;
}

function ownPoses() {
	if (app.xr && app.xrPoses) return app.xrPoses;
	const inv = M.invert(cam.view());
	return { head: { pos: cam.eye(), rot: M.quatFromMatrix(inv) } };
}

function sendPoses() {
	if (!link || !link.open) return;
	const now = performance.now(), p = ownPoses(), key = JSON.stringify(p);
	if (key === app.lastPose && now - app.lastPoseMs < POSE_KEEPALIVE_MS) return;
	app.lastPose = key;
	app.lastPoseMs = now;
	const t = BigInt(Math.round((performance.timeOrigin + now) * 1e6));
	for (const r of ownPoseRecords(p, t))
		if (link.sendPose(ipc.encodeRecord('POSE_UPDATE', r))) app.counters.posesOut++;
}

function sendSceneState() {
	if (!app.sceneStateDue || !app.fold || !link || !link.open) return;
	const now = performance.now();
	if (now - app.lastSceneState < SCENE_STATE_MS) return;
	app.lastSceneState = now;
	app.sceneStateDue = false;
	let hash;
	try { hash = app.fold.worldHash(); } catch (e) { return stop(e.message); }
	if (sendRec('SCENE_STATE', { next_pos: app.fold.nextPos(), world_hash: hash, entities: app.fold.entityCount() }))
		app.counters.sceneStates++;
}

// ---- the editor and the controls -----------------------------------------------

const editor = new Editor({
	fold: () => (link && link.open ? app.fold : null),
	items: () => app.items,
	encode: f => ipc.encodeRecord('CMD_SUBMIT', f),
	send: rec => link && link.send(rec),
	// A builder's error is said; a scene module that stopped stops the page.
	say: (text, kind) => (app.tw && app.tw.broken ? stop(app.tw.broken) : say(text, kind)),
	changed,
	selfKey: () => app.selfKey,
	cmdName: t => app.tw.cmdName(t),
});

function rayAt(x, y) {
	return cam.ray(x, y, canvas.clientWidth, canvas.clientHeight);
}

// What the buttons, the keys, the canvas and the test hook call.
const actions = {
	tool: t => { editor.setTool(t); ui.markTool(t); },
	click: (x, y) => { const r = rayAt(x, y); return editor.click(r.origin, r.dir); },
	extrude: d => editor.extrude(isFinite(d) ? d : undefined),
	paint: slot => { if (slot !== undefined) actions.slot(slot); return editor.paint(); },
	slot: s => { editor.setSlot(s); ui.markSlot(s); },
	cube: () => editor.addCube([Math.round(cam.target[0]), 0.5, Math.round(cam.target[2])]),
	move: d => editor.move(d),
	undo: () => editor.undo(false),
	redo: () => editor.undo(true),
	frame: () => frameModel(),
	vr: () => enterVr(),
};

async function enterVr() {
	if (app.xr) return app.xr.stop();
	const xr = new XrSession(renderer, {
		draw: (v, p) => {
			try { syncScene(); } catch (e) { stop(e.message); app.xr && app.xr.stop(); return; }
			renderer.draw(v, p, sceneForDraw());
		},
		frameDone: ms => renderer.endFrame(ms),
		poses: p => { app.xrPoses = p; },
		select: (o, d) => editor.click(o, d),
		ended: () => { app.xr = null; app.xrPoses = null; ui.el.vr.textContent = 'Enter VR'; changed(); },
	});
	try {
		await xr.start();
		app.xr = xr;
		ui.el.vr.textContent = 'Exit VR';
	} catch (e) {
		say(`The browser did not start VR: ${e.message}`, 'error');
	}
}

// ---- the test hook (the same functions the controls call) ---------------------

function projectFace(entity, face) {
	const it = app.items.find(i => i.entity === entity);
	const c = it && faceCentre(it, face);
	if (!c) return null;
	const w = canvas.clientWidth, h = canvas.clientHeight;
	const p = M.transformPoint(M.multiply(cam.projection(w / h), view()), c);
	const r = canvas.getBoundingClientRect();
	return { x: r.left + ((p[0] + 1) / 2) * w, y: r.top + ((1 - p[1]) / 2) * h };
}

window.theta = {
	get state() { return app.state; },
	get lastError() { return app.lastError; },
	get reply() { return app.reply && { ...app.reply, sdp: undefined }; },
	get role() { return app.reply ? app.reply.role : ''; },
	worldHash: () => (app.fold ? hex(app.fold.worldHash()) : ''),
	nextPos: () => (app.fold ? Number(app.fold.nextPos()) : 0),
	entityCount: () => (app.fold ? app.fold.entityCount() : 0),
	caughtUp,
	framed: () => app.framed,
	drawnUpToDate: () => !!app.fold && app.framesGen === app.fold.generation() && !app.dirty,
	counters: () => ({ ...app.counters, ...editor.counters, ...(link ? link.stats : {}), frames: renderer ? renderer.stats.frames : 0,
			   uploads: renderer ? renderer.stats.uploads : 0, avatars: avatars.users.size, pending: editor.pending.size }),
	timings: () => ({ loadMs: app.loadMs, shownMs: app.shownMs, offerMs: link ? link.stats.offerMs : 0, openMs: link ? link.stats.openMs : 0 }),
	renderer: () => (renderer ? renderer.info : ''),
	// The VR session's frames and views drawn (null outside VR), whether the page offers VR.
	xr: () => (app.xr ? { ...app.xr.stats } : null),
	xrOffered: () => !ui.el.vr.hidden,
	meshes: () => app.items.map(i => ({ entity: i.entity.toString(), mesh: i.mesh.toString(), faces: [...new Set(i.faceIds)].map(String),
					    triangles: i.faceIds.length })),
	selection: () => (editor.selection ? { entity: editor.selection.entity.toString(), face: editor.selection.face.toString() } : null),
	lastAck: () => (editor.lastAck ? { seq: Number(editor.lastAck.seq), lamport: editor.lastAck.lamport.toString(),
					    authorSeq: editor.lastAck.authorSeq.toString(), text: editor.lastAck.text } : null),
	lastReject: () => editor.lastReject,
	// The others' avatars: entity (the key's first 8 bytes, LE), label,
	// head position, whether the head is tracked.
	avatars: () => [...avatars.users.values()].map(u => ({ entity: u.entity.toString(), label: u.label.textContent,
		head: u.parts.head ? [...u.parts.head.pos] : null, tracked: !!(u.parts.head && u.parts.head.tracked) })),
	// The page's user key (hex) once an acknowledged entry named it; ''.
	selfKey: () => (app.selfKey ? hex(app.selfKey) : ''),
	// Where a face's centre is on the page (CSS pixels): a test clicks there.
	project: (entity, face) => projectFace(BigInt(entity), BigInt(face)),
	// The model as drawn now, without the page's controls over it: a frame
	// drawn and read back in the same task (a PNG data URL).
	capture: () => {
		app.dirty = true;
		frame();
		return canvas.toDataURL('image/png');
	},
	// Renders n frames back to back, each waited for: ms per frame.
	benchFrames: n => {
		const t0 = performance.now();
		const px = new Uint8Array(4), gl = renderer.gl;
		for (let i = 0; i < n; i++) {
			app.dirty = true;
			frame();
			gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px); // waits for the frame (finish() need not)
		}
		return (performance.now() - t0) / n;
	},
	actions,
};

// ---- start ---------------------------------------------------------------------

async function main() {
	const t0 = performance.now();
	let invite;
	try {
		invite = net.parseInvite(location.hash);
	} catch (e) {
		return stop(e.message);
	}
	app.invite = invite;
	try {
		renderer = new Renderer(canvas, { xrCompatible: false });
	} catch (e) {
		return stop(e.message);
	}
	attachControls(canvas, cam, {
		onClick: (x, y) => actions.click(x, y),
		onDragStart: (x, y) => { const r = rayAt(x, y); return editor.dragStart(r.origin, r.dir); },
		onDragMove: (x, y) => { const r = rayAt(x, y); editor.dragMove(r.origin, r.dir); },
		onDragEnd: () => editor.dragEnd(),
		onChange: changed,
	});
	window.addEventListener('resize', changed);
	ui.wire(actions);
	const scene = loadScene(WASM_URL).then(tw => { app.tw = tw; return tw; }, e => { throw e; });
	changed();
	setState('name');
	const prefill = new URLSearchParams(location.search).get('name') || localStorage.getItem('theta.name') || '';
	app.name = await ui.askName(prefill, invite.fp);
	try { localStorage.setItem('theta.name', app.name); } catch (e) { /* not kept */ }
	try {
		await scene;
	} catch (e) {
		return stop(`The page could not load its scene code (${WASM_URL}): ${e.message}`);
	}
	ui.palette(app.tw.palette(), editor.slot, actions.slot);
	app.loadMs = performance.now() - t0;
	link = new net.Link({ origin: location.origin, invite, name: app.name,
		cb: { onOpen, onRecord, onState: setState, onClosed: why => say(why, 'warn'), onError: stop } });
	try {
		await link.start();
	} catch (e) {
		link.stop();
		return stop(e.message);
	}
	setInterval(sendPoses, 1000 / POSE_HZ);
	setInterval(() => { sendSceneState(); if (avatars.expire(performance.now())) changed(); }, SCENE_STATE_MS);
	if (await xrSupported()) {
		ui.showVr(true);
		renderer.gl.makeXRCompatible && renderer.gl.makeXRCompatible().catch(() => {});
	}
}

main();
