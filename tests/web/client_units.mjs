// The browser client's pure parts under node (tests/web/test_web_client.c):
// the invite fragment, the answer's fingerprint check, picking, the
// avatar checks and the editor's submit bookkeeping. Prints one JSON line
// {ok, checks, failures: [...]}.
//   node client_units.mjs BUILD/web/js   (the page's modules as served, with gen/)
import { resolve, join } from 'node:path';

const dir = resolve(process.argv[2] || 'build/web/js');
const js = f => import(join(dir, f));
const net = await js('net.js');
const { pick, Editor, UNDO_KEPT } = await js('edit.js');
const { Avatars } = await js('avatars.js');

const failures = [];
let checks = 0;
function check(what, cond) {
	checks++;
	if (!cond) failures.push(what);
}
function throwsWith(what, fn, needle) {
	try {
		fn();
		check(`${what}: throws`, false);
	} catch (e) {
		check(`${what}: says '${needle}' (said '${e.message}')`, e.message.includes(needle));
	}
}

const S = '0123456789abcdef0123456789abcdef', FP = 'ab'.repeat(32);
// ---- the invite
const inv = net.parseInvite(`#s=${S}&fp=${FP.toUpperCase()}&token=abc-_DEF`);
check('parseInvite: session', inv.session === S);
check('parseInvite: fp lowercased', inv.fp === FP);
check('parseInvite: token', inv.token === 'abc-_DEF');
throwsWith('no fragment', () => net.parseInvite(''), 'needs an invite link');
throwsWith('short session', () => net.parseInvite(`#s=0123&fp=${FP}&token=x`), 'session (s=)');
throwsWith('bad fp', () => net.parseInvite(`#s=${S}&fp=zz&token=x`), 'fingerprint (fp=)');
throwsWith('bad token', () => net.parseInvite(`#s=${S}&fp=${FP}&token=a+b`), 'base64url');

// ---- the answer's fingerprint
const colon = h => h.match(/../g).join(':').toUpperCase();
const answer = fp => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${colon(fp)}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n`;
check('the invite\'s certificate passes', net.fingerprintProblem(FP, answer(FP), FP) === '');
const other = 'cd'.repeat(32);
const bad = net.fingerprintProblem(FP, answer(other), FP);
check(`another certificate is refused (${bad})`, bad.startsWith('The host\'s certificate is not the one this invite names:') && bad.includes(colon(other)));
check('a reply fingerprint that differs is refused', net.fingerprintProblem(FP, answer(FP), other) !== '');
check('an answer without a fingerprint is refused', net.fingerprintProblem(FP, 'v=0\r\n', FP).includes('no sha-256'));
check('every fingerprint line counts', net.fingerprintProblem(FP, answer(FP) + `a=fingerprint:sha-256 ${colon(other)}\r\n`, FP) !== '');
check('sdpFingerprints', net.sdpFingerprints(answer(FP)).join() === FP);

// ---- picking: two unit squares (two triangles each), the second 2 m farther along -z
const square = z => new Float32Array([0, 0, z, 1, 0, z, 1, 1, z, 0, 0, z, 1, 1, z, 0, 1, z]);
const item = (entity, z, dx) => ({ entity, transform: new Float32Array([dx, 0, 0, 0, 0, 0, 1, 1, 1, 1]), positions: square(z),
	normals: new Float32Array(18).map((_, i) => (i % 3 === 2 ? 1 : 0)), faceIds: new BigUint64Array([7n, 7n]),
	faceIndex: new Float32Array(6) });
const items = [item(1n, -2, 0), item(2n, 0, 0)];
const hit = pick(items, [0.5, 0.5, 5], [0, 0, -1]);
check('pick: the nearer square', hit && hit.entity === 2n && hit.face === 7n && Math.abs(hit.dist - 5) < 1e-5);
check('pick: its normal faces the ray', hit && Math.abs(hit.normal[2] - 1) < 1e-5);
check('pick: the transform moves it', pick([item(3n, 0, 10)], [0.5, 0.5, 5], [0, 0, -1]) === null &&
      pick([item(3n, 0, 10)], [10.5, 0.5, 5], [0, 0, -1]).entity === 3n);
check('pick: a miss', pick(items, [5, 5, 5], [0, 0, -1]) === null);

// ---- avatars
const av = new Avatars(null);
const { C } = await js('ipc.js');
const pose = (e, t, flags, extra = {}) => ({ entity: e, t_ns: t, px: 0, py: 1.6, pz: 0, qx: 0, qy: 0, qz: 0, qw: 1, flags, ...extra });
check('avatar: a tracked head', av.onPose(pose(5n, 100n, C.POSE_F_HEAD | C.POSE_F_TRACKED), 0) && av.drawList().length === 1);
check('avatar: entity 0 (ourselves) is dropped', !av.onPose(pose(0n, 100n, C.POSE_F_HEAD | C.POSE_F_TRACKED), 0));
check('avatar: no part is dropped', !av.onPose(pose(5n, 200n, C.POSE_F_TRACKED), 0));
check('avatar: beyond reach is dropped', !av.onPose(pose(5n, 300n, C.POSE_F_HEAD | C.POSE_F_TRACKED, { px: 2000 }), 0));
check('avatar: a rotation far from unit is dropped', !av.onPose(pose(5n, 300n, C.POSE_F_HEAD | C.POSE_F_TRACKED, { qw: 2 }), 0));
check('avatar: an older update is dropped', !av.onPose(pose(5n, 50n, C.POSE_F_HEAD | C.POSE_F_TRACKED), 0));
check('avatar: untracked hides the part', av.onPose(pose(5n, 400n, C.POSE_F_HEAD), 0) && av.drawList().length === 0);
const pres = (e, t, flags, extra = {}) => ({ entity: e, t_ns: t, flags, tool: 2, cx: 0.2, cy: 1.1, cz: -0.3, target: 0n, tx: 0, ty: 0, tz: 0,
					    rx: 0, ry: 0, rz: 0, rw: 1, ...extra });
check('presence: a cursor is a small box', av.onPresence(pres(5n, 500n, C.PRES_F_CURSOR), 0) &&
      av.drawList().length === 1 && av.drawList()[0].parts.length === 1 && av.drawList()[0].parts[0].pos[1] === 1.1);
check('presence: speaking marks the label and the head', av.onPose(pose(5n, 600n, C.POSE_F_HEAD | C.POSE_F_TRACKED), 0) &&
      av.onPresence(pres(5n, 600n, C.PRES_F_SPEAKING), 0) && av.users.get(5n).label.textContent.startsWith('speaking') &&
      av.drawList()[0].parts.length === 2 && av.drawList()[0].parts[1].pos[1] > 1.6);
check('presence: an older one is dropped', !av.onPresence(pres(5n, 550n, C.PRES_F_CURSOR), 0) && av.users.get(5n).cursor === null);
check('presence: a cursor beyond reach is dropped', !av.onPresence(pres(5n, 700n, C.PRES_F_CURSOR, { cx: 5000 }), 0));
check('presence: ended, nothing more shown', av.onPresence(pres(5n, 800n, 0), 0) && !av.users.get(5n).speaking &&
      av.drawList()[0].parts.length === 1 && !av.users.get(5n).label.textContent.startsWith('speaking'));
check('presence: entity 0 (ourselves) is dropped', !av.onPresence(pres(0n, 900n, C.PRES_F_CURSOR), 0));
check('avatar: silent users leave', av.expire(10000) && av.users.size === 0);
check('presence: keeps a user whose poses stopped', av.onPresence(pres(6n, 100n, C.PRES_F_CURSOR), 1000) &&
      av.onPresence(pres(6n, 200n, C.PRES_F_CURSOR, { cx: 0.2 }), 5500) && !av.expire(7000) && av.users.has(6n) &&
      av.expire(11000) && !av.users.has(6n));

// ---- the editor: a builder's commands become CMD_SUBMITs with fresh seqs and one nonce; answers settle them
const sent = [], said = [];
const fold = { extrude: (e, f, d) => ({ cmds: [{ cmdType: 16, scope: e, payload: new Uint8Array([1]), text: `extrude by ${d}` }], why: '' }),
	       paint: () => ({ cmds: [], why: 'paint: already red' }) };
const ed = new Editor({ fold: () => fold, items: () => items, encode: f => f, send: r => sent.push(r), say: (t, k) => said.push([t, k]),
			changed: () => {}, selfKey: () => null, cmdName: () => 'mesh.patch' });
check('editor: nothing selected', ed.extrude(0.5) === -1 && said.pop()[0].includes('pick a face first'));
ed.click([0.5, 0.5, 5], [0, 0, -1]);
check('editor: a click selects', ed.selection && ed.selection.entity === 2n && ed.selection.face === 7n);
const s1 = ed.extrude(0.5), s2 = ed.extrude(0.25);
check('editor: seqs count up', s1 === 1n && s2 === 2n && sent.length === 2);
check('editor: one non-zero nonce', sent[0].nonce === sent[1].nonce && sent[0].nonce !== 0n);
check('editor: the command as built', sent[0].cmd_type === 16 && sent[0].scope === 2n);
check('editor: a bad distance is refused', ed.extrude(0) === -1 && ed.extrude(11) === -1 && sent.length === 2);
check('editor: an edit that changes nothing says why', ed.paint(3) === -1 && said.pop()[0] === 'paint: already red');
ed.onAck({ client_seq: 1n, lamport: 9n, log_index: 4n });
check('editor: an ack settles its edit', ed.pending.size === 1 && ed.counters.acks === 1 && ed.acked[0].lamport === 9n);
ed.onReject({ client_seq: 2n, reason: 1, detail: 'viewers cannot edit' });
check('editor: a reject says its detail', ed.pending.size === 0 && said.pop()[0].includes('viewers cannot edit'));
ed.extrude(0.5);
sent.length = 0;
ed.resend();
check('editor: a resend keeps seq and nonce', sent.length === 1 && sent[0].client_seq === 3n);
ed.onAck({ client_seq: 3n, lamport: 10n, log_index: 5n });
for (let i = 0; i < UNDO_KEPT + 5; i++) {
	const q = ed.extrude(0.5);
	ed.onAck({ client_seq: q, lamport: 100n + BigInt(i), log_index: 6n + BigInt(i) });
}
check(`editor: Undo keeps the newest ${UNDO_KEPT} edits (has ${ed.acked.length})`, ed.acked.length === UNDO_KEPT &&
      ed.acked[UNDO_KEPT - 1].lamport === 100n + BigInt(UNDO_KEPT + 4) && ed.acked[0].lamport === 105n && ed.pending.size === 0);

console.log(JSON.stringify({ ok: failures.length === 0, checks, failures }));
process.exit(failures.length ? 1 : 0);
