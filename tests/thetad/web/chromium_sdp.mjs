// Drives Debian's chromium (headless, through playwright-core) for the SDP
// tests: one JSON request per stdin line, one JSON reply per stdout line.
//   {"cmd":"offer","audio":false}  -> {"offer":"<sdp>"}  a fresh RTCPeerConnection
//        with data channel "theta" (and an audio transceiver when audio is true),
//        its local description once ICE gathering is complete
//   {"cmd":"answer","sdp":"<sdp>"} -> {"ok":true,"state":"stable"} or {"ok":false,"error":"..."}
//        setRemoteDescription({type:"answer"}) on the connection of the last offer
// Usage: node chromium_sdp.mjs PLAYWRIGHT_CORE_DIR [CHROMIUM]
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const pw = require(process.argv[2]);
const exe = process.argv[3] || '/usr/bin/chromium';
const profile = mkdtempSync(join(tmpdir(), 'theta-sdp-'));
const args = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync'];
let ctx;
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
try {
	ctx = await pw.chromium.launchPersistentContext(profile, { executablePath: exe, headless: true, args });
	const page = ctx.pages()[0] || await ctx.newPage();
	const rl = createInterface({ input: process.stdin });
	for await (const line of rl) {
		if (!line.trim())
			continue;
		const rq = JSON.parse(line);
		if (rq.cmd === 'offer') {
			const sdp = await page.evaluate(async (audio) => {
				if (window.pc)
					window.pc.close();
				const pc = new RTCPeerConnection();
				window.pc = pc;
				if (audio)
					pc.addTransceiver('audio');
				pc.createDataChannel('theta');
				const done = new Promise((res) => {
					if (pc.iceGatheringState === 'complete')
						return res();
					pc.addEventListener('icegatheringstatechange', () => {
						if (pc.iceGatheringState === 'complete')
							res();
					});
				});
				await pc.setLocalDescription();
				await done;
				return pc.localDescription.sdp;
			}, !!rq.audio);
			say({ offer: sdp });
		} else if (rq.cmd === 'answer') {
			say(await page.evaluate(async (sdp) => {
				try {
					await window.pc.setRemoteDescription({ type: 'answer', sdp });
					return { ok: true, state: window.pc.signalingState };
				} catch (e) {
					return { ok: false, error: String(e && e.message || e) };
				}
			}, rq.sdp));
		} else {
			say({ ok: false, error: 'unknown command' });
		}
	}
} catch (e) {
	say({ ok: false, fatal: String(e && e.message || e) });
	process.exitCode = 1;
} finally {
	if (ctx)
		await ctx.close().catch(() => {});
	rmSync(profile, { recursive: true, force: true });
}
