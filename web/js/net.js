// The page's transport (docs/web.md "The browser client"): one
// RTCPeerConnection to the session's host daemon, without ICE servers (the
// daemon is ICE-lite and answers with one host candidate), its data
// channels "theta" (reliable, ordered: every record but poses) and
// "theta-pose" (unordered, no retransmission: POSE_UPDATE), created before
// the offer; the offer goes to POST /offer with the invite's token (or the
// resume secret this browser keeps for the session), and the answer is
// accepted only when its DTLS fingerprint is the one the invite names.

export const CHAN_MAIN = 'theta';
export const CHAN_POSE = 'theta-pose';
// From the answer to both channels open.
export const OPEN_TIMEOUT_MS = 20000;
// Reconnect back-off after a link that was open closes.
export const RETRY_FIRST_MS = 1000;
export const RETRY_MAX_MS = 10000;
export const RETRY_MAX = 30;
// Poses are dropped while the pose channel holds this much unsent.
export const POSE_BUFFER_MAX = 16384;

const RESUME_KEY = s => 'theta.resume.' + s;

// The invite link's fragment: #s=<32 hex>&fp=<64 hex>&token=<base64url>.
// Returns {session, fp, token} or throws an Error whose message is the
// sentence to show.
export function parseInvite(hash) {
	const q = new URLSearchParams(hash.replace(/^#/, ''));
	const session = (q.get('s') || '').toLowerCase(), fp = (q.get('fp') || '').toLowerCase().replace(/:/g, '');
	const token = q.get('token') || '';
	if (!session && !fp && !token)
		throw new Error('This page needs an invite link: ask the session\'s host for one (thetactl invite SESSION prints it).');
	if (!/^[0-9a-f]{32}$/.test(session))
		throw new Error('The invite link is damaged: its session (s=) is not 32 hexadecimal digits.');
	if (!/^[0-9a-f]{64}$/.test(fp))
		throw new Error('The invite link is damaged: its certificate fingerprint (fp=) is not 64 hexadecimal digits.');
	if (token && !/^[A-Za-z0-9_-]+$/.test(token))
		throw new Error('The invite link is damaged: its token is not base64url.');
	return { session, fp, token };
}

export function loadResume(session) {
	try { return localStorage.getItem(RESUME_KEY(session)) || ''; } catch (e) { return ''; }
}

export function saveResume(session, secret) {
	try { localStorage.setItem(RESUME_KEY(session), secret); } catch (e) { /* private mode: no resume after a reload */ }
}

export function forgetResume(session) {
	try { localStorage.removeItem(RESUME_KEY(session)); } catch (e) { /* nothing kept */ }
}

// Every a=fingerprint:sha-256 of an SDP, as 64 lowercase hex digits.
export function sdpFingerprints(sdp) {
	const out = [];
	for (const line of sdp.split(/\r?\n/)) {
		const m = /^a=fingerprint:sha-256\s+([0-9A-Fa-f:]+)\s*$/.exec(line);
		if (m) out.push(m[1].replace(/:/g, '').toLowerCase());
	}
	return out;
}

// The sentence for an answer whose certificate is not the invite's, or ''.
export function fingerprintProblem(fp, answerSdp, replyFp) {
	const fps = sdpFingerprints(answerSdp);
	const pretty = h => h.replace(/(..)(?!$)/g, '$1:').toUpperCase();
	if (!fps.length)
		return 'The host\'s certificate is not the one this invite names: its answer has no sha-256 fingerprint.';
	for (const f of fps)
		if (f !== fp)
			return `The host's certificate is not the one this invite names: the invite names ${pretty(fp)}, the host presented ${pretty(f)}.`;
	const rf = (replyFp || '').toLowerCase().replace(/:/g, '');
	if (rf !== fp)
		return `The host's certificate is not the one this invite names: the invite names ${pretty(fp)}, the host's reply says ${pretty(rf || '(none)')}.`;
	return '';
}

class Stop extends Error {}

// One link to the host. cb: onOpen(reply, again), onRecord(u8, chan),
// onClosed(sentence, willRetry), onError(sentence) (final: no retry),
// onState(text).
export class Link {
	constructor({ origin, invite, name, cb }) {
		this.origin = origin;
		this.invite = invite;
		this.name = name;
		this.cb = cb;
		this.pc = null;
		this.main = null;
		this.pose = null;
		this.reply = null;
		this.open = false;
		this.stopped = false;
		this.retries = 0;
		this.stats = { connects: 0, reconnects: 0, sent: 0, received: 0, posesSent: 0, posesDropped: 0,
			       posesReceived: 0, offerMs: 0, openMs: 0 };
	}

	async start() {
		await this.connect(false);
	}

	stop() {
		this.stopped = true;
		this.teardown();
	}

	teardown() {
		this.open = false;
		if (this.pc) {
			this.pc.onconnectionstatechange = null;
			try { this.pc.close(); } catch (e) { /* closing twice */ }
		}
		this.pc = this.main = this.pose = null;
	}

	async connect(again) {
		const t0 = performance.now();
		this.teardown();
		const pc = new RTCPeerConnection({ iceServers: [] });
		this.pc = pc;
		const main = pc.createDataChannel(CHAN_MAIN, { ordered: true });
		const pose = pc.createDataChannel(CHAN_POSE, { ordered: false, maxRetransmits: 0 });
		main.binaryType = pose.binaryType = 'arraybuffer';
		this.main = main;
		this.pose = pose;
		this.cb.onState(again ? 'reconnecting' : 'offering');
		// The offer goes at once, before ICE gathering: the daemon is
		// ICE-lite and never uses the offer's candidates (the browser's
		// checks to its candidate tell it the browser's address), and
		// waiting for gathering (mDNS host candidates) cost ~170 ms.
		await pc.setLocalDescription(await pc.createOffer());
		const body = { sdp: pc.localDescription.sdp, name: this.name };
		const resume = loadResume(this.invite.session);
		let reply = null;
		if (resume) {
			body.resume = resume;
			reply = await this.post(body);
			if (reply.error && this.invite.token && !again) {
				// A secret the host no longer knows: join with the token.
				forgetResume(this.invite.session);
				delete body.resume;
				reply = null;
			}
		}
		if (!reply) {
			if (!this.invite.token)
				throw new Stop('This browser has no way back into the session: open the invite link again.');
			body.token = this.invite.token;
			reply = await this.post(body);
		}
		if (reply.error)
			throw new Stop(reply.error);
		this.stats.offerMs = performance.now() - t0;
		if (typeof reply.sdp !== 'string')
			throw new Stop('The host\'s reply to the offer has no answer: it is not a Theta daemon, or a broken one.');
		const bad = fingerprintProblem(this.invite.fp, reply.sdp, reply.fingerprint);
		if (bad)
			throw new Stop(bad);
		if (reply.session && reply.session.toLowerCase() !== this.invite.session)
			throw new Stop(`The host answered for session ${reply.session}, not the invite's ${this.invite.session}.`);
		if (typeof reply.resume === 'string' && /^[0-9a-f]{64}$/.test(reply.resume))
			saveResume(this.invite.session, reply.resume);
		if (pc !== this.pc)
			return;
		this.cb.onState('connecting');
		await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
		await this.channelsOpen(pc, main, pose);
		this.stats.openMs = performance.now() - t0;
		this.reply = reply;
		this.open = true;
		this.retries = 0;
		this.stats.connects++;
		if (again) this.stats.reconnects++;
		main.onmessage = e => this.onMessage(e, CHAN_MAIN);
		pose.onmessage = e => this.onMessage(e, CHAN_POSE);
		const lost = () => this.lost(pc);
		main.onclose = lost;
		pose.onclose = lost;
		pc.onconnectionstatechange = () => {
			if (pc.connectionState === 'failed' || pc.connectionState === 'closed') lost();
		};
		this.cb.onState('open');
		this.cb.onOpen(reply, again);
	}

	async post(body) {
		let res;
		try {
			res = await fetch(this.origin + '/offer', { method: 'POST', headers: { 'Content-Type': 'application/json' },
								   body: JSON.stringify(body), cache: 'no-store' });
		} catch (e) {
			throw new Error(`Cannot reach the session's host at ${this.origin}: ${e.message}.`);
		}
		let j = null;
		try { j = await res.json(); } catch (e) { j = null; }
		if (!j || typeof j !== 'object')
			return { error: `The host answered the offer with HTTP ${res.status} and no JSON.` };
		if (!res.ok && typeof j.error !== 'string')
			j.error = `The host refused the offer with HTTP ${res.status}.`;
		return j;
	}

	channelsOpen(pc, main, pose) {
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(
				`The host answered but the data channels did not open within ${OPEN_TIMEOUT_MS / 1000} s (ICE or DTLS did not get through).`)), OPEN_TIMEOUT_MS);
			const check = () => {
				if (main.readyState === 'open' && pose.readyState === 'open') {
					clearTimeout(timer);
					resolve();
				}
			};
			main.onopen = pose.onopen = check;
			pc.onconnectionstatechange = () => {
				if (pc.connectionState === 'failed') {
					clearTimeout(timer);
					reject(new Error('The connection to the host failed (ICE or DTLS).'));
				}
			};
			check();
		});
	}

	onMessage(e, chan) {
		if (!(e.data instanceof ArrayBuffer))
			return; // the protocol is binary records only
		this.stats.received++;
		this.cb.onRecord(new Uint8Array(e.data), chan);
	}

	lost(pc) {
		if (pc !== this.pc || !this.open)
			return;
		this.teardown();
		this.retry('The link to the host closed.');
	}

	retry(why) {
		if (this.stopped)
			return;
		if (this.retries >= RETRY_MAX) {
			this.cb.onError(`${why} Gave up after ${RETRY_MAX} attempts to reconnect: reload the page to try again.`);
			return;
		}
		const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retries);
		this.retries++;
		this.cb.onClosed(`${why} Reconnecting in ${Math.round(wait / 1000)} s...`, true);
		setTimeout(() => this.reconnect(), wait);
	}

	async reconnect() {
		if (this.stopped)
			return;
		try {
			await this.connect(true);
		} catch (e) {
			if (e instanceof Stop) {
				this.stopped = true;
				this.teardown();
				this.cb.onError(e.message);
			} else {
				this.teardown();
				this.retry(e.message);
			}
		}
	}

	send(u8) {
		if (!this.open || this.main.readyState !== 'open')
			return false;
		this.main.send(u8);
		this.stats.sent++;
		return true;
	}

	sendPose(u8) {
		if (!this.open || this.pose.readyState !== 'open' || this.pose.bufferedAmount > POSE_BUFFER_MAX) {
			this.stats.posesDropped++;
			return false;
		}
		this.pose.send(u8);
		this.stats.posesSent++;
		return true;
	}
}

export { Stop };

