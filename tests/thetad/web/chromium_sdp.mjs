// Drives Debian's chromium (headless, through playwright-core) for
// tests/thetad/web/test_web_sdp.c: one request per stdin line, one reply per
// stdout line (SDP travels base64-encoded, so every message is one line).
//   offer | offer-audio   -> "offer BASE64"   a fresh RTCPeerConnection with
//        data channel "theta" (after an audio transceiver for offer-audio),
//        its local description once ICE gathering is complete
//   answer BASE64         -> "ok STATE" or "refused MESSAGE"
//        setRemoteDescription({type: 'answer'}) on the last offer's connection
//   state                 -> "state ICE_STATE DTLS_STATE" of that connection
// A failure to start says "fatal MESSAGE".
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
const oneLine = (s) => String(s).replace(/[\r\n]+/g, ' ');
const say = (l) => process.stdout.write(oneLine(l) + '\n');

async function offer(page, audio) {
	return page.evaluate(async (withAudio) => {
		if (window.pc)
			window.pc.close();
		const pc = new RTCPeerConnection();
		window.pc = pc;
		if (withAudio)
			pc.addTransceiver('audio');
		pc.createDataChannel('theta');
		const gathered = new Promise((res) => {
			pc.addEventListener('icegatheringstatechange', () => {
				if (pc.iceGatheringState === 'complete')
					res();
			});
		});
		await pc.setLocalDescription();
		if (pc.iceGatheringState !== 'complete')
			await gathered;
		return pc.localDescription.sdp;
	}, audio);
}

async function answer(page, sdp) {
	return page.evaluate(async (text) => {
		try {
			await window.pc.setRemoteDescription({ type: 'answer', sdp: text });
			return 'ok ' + window.pc.signalingState;
		} catch (e) {
			return 'refused ' + (e && e.message || e);
		}
	}, sdp);
}

let ctx;
try {
	ctx = await pw.chromium.launchPersistentContext(profile, { executablePath: exe, headless: true, args });
	const page = ctx.pages()[0] || await ctx.newPage();
	for await (const line of createInterface({ input: process.stdin })) {
		const [cmd, arg] = line.trim().split(' ');
		if (cmd === 'offer' || cmd === 'offer-audio')
			say('offer ' + Buffer.from(await offer(page, cmd === 'offer-audio')).toString('base64'));
		else if (cmd === 'answer' && arg)
			say(await answer(page, Buffer.from(arg, 'base64').toString()));
		else if (cmd === 'state')
			say(await page.evaluate(() => 'state ' + window.pc.iceConnectionState + ' ' +
				(window.pc.sctp ? window.pc.sctp.transport.state : 'none')));
		else
			say('refused unknown request');
	}
} catch (e) {
	say('fatal ' + (e && e.message || e));
	process.exitCode = 1;
} finally {
	if (ctx)
		await ctx.close().catch(() => {});
	rmSync(profile, { recursive: true, force: true });
}
