// The end-to-end tests' browser (tests/lib/th_webpage.h drives it): one
// Debian chromium through playwright-core for a whole test binary, its
// pages each in their own browser context (their own localStorage, so
// their own resume secrets: their own identities), driven by requests on
// stdin, one JSON object a line: {"id": N, "op": OP, ...}; each answered on
// stdout with {"id": N, "ok": true, "value": ...} or {"id": N, "ok": false,
// "error": sentence, "page": where the page stood}. Lines that are not
// answers go to stderr.
//
// Ops: page {page, iwer?: {x, y, z}} (a new context and page; iwer: the
// WebXR emulator installed before the page's scripts, its headset at that
// spot), join {page, url, name} (the invite link with ?name=, the name
// form, until the model is folded and drawn: the page's timings),
// open {page, url, name} (the link and the name form only), eval {page,
// expr} (an expression in the page: its value), wait {page, expr, what, ms}
// (polls expr until truthy; a value with an "error" fails), click {page,
// selector}, fill {page, selector, value}, mouse {page, x, y} (a click
// there), pick {page} (clicks the drawn face nearest the view's middle:
// the selection), shot {page, file} (theta.capture() as a PNG file),
// xrpixels {page} (the last XR frame's pixels counted per view, from the
// init script's read-back), offers {page} (its POST /offer replies:
// [{status, body}]), console {page}, close {page}, quit.
import { createRequire } from 'module';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CHROMIUM_FLAGS, VIEWPORT, env, newPage } from './browser.mjs';

const require = createRequire(import.meta.url);
const POLL_MS = 50;
const DEFAULT_WAIT_MS = 20000;
const pages = new Map(); // name -> {ctx, page, console: []}
let browser = null;

const big = (k, v) => (typeof v === 'bigint' ? v.toString() : v);
function answer(o) { process.stdout.write(JSON.stringify(o, big) + '\n'); }

// The WebXR emulator (iwer's UMD build sets globalThis.IWER), a Quest 3 at
// the given spot with stereo on (iwer's default is one view the whole
// width and the other eye's zero wide), installed over whatever the browser has; and a read-back
// of every view of the XR framebuffer after the page's frame callback has
// drawn it: pixels that are not the clear colour, per view, and a small
// digest of each view so the two eyes can be told apart.
function iwerScript(at) {
	const lib = readFileSync(`${env('THETA_PLAYWRIGHT')}/../iwer/build/iwer.min.js`, 'utf8');
	return `${lib}
;(() => {
	const dev = new IWER.XRDevice(IWER.metaQuest3, { stereoEnabled: true });
	dev.position.set(${Number(at.x)}, ${Number(at.y)}, ${Number(at.z)});
	dev.installRuntime({ forceInstall: true });
	window.__e2eXr = { frames: 0, views: [] };
	const Layer = XRWebGLLayer;
	window.XRWebGLLayer = class extends Layer {
		constructor(session, gl, opts) { super(session, gl, opts); this.__e2eGl = gl; }
	};
	const raf = XRSession.prototype.requestAnimationFrame;
	XRSession.prototype.requestAnimationFrame = function (cb) {
		return raf.call(this, (t, frame) => {
			cb(t, frame);
			const s = frame.session, layer = s.renderState.baseLayer, gl = layer && layer.__e2eGl;
			if (!gl || window.__e2eXr.frames++ % 10 !== 9) return;
			// The viewer pose's views, as the page drew them.
			let pose = null;
			try { pose = frame.getViewerPose(window.__e2eXrSpace); } catch (e) { pose = null; }
			if (!pose) return;
			gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
			const out = [];
			for (const v of pose.views) {
				const vp = layer.getViewport(v);
				const px = new Uint8Array(vp.width * vp.height * 4);
				gl.readPixels(vp.x, vp.y, vp.width, vp.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
				const bg = [px[0], px[1], px[2]];
				let lit = 0, digest = 0;
				for (let i = 0; i < px.length; i += 4) {
					if (Math.abs(px[i] - bg[0]) + Math.abs(px[i + 1] - bg[1]) + Math.abs(px[i + 2] - bg[2]) > 24) lit++;
					digest = (digest * 31 + px[i] + px[i + 1] * 7 + px[i + 2] * 13) >>> 0;
				}
				out.push({ eye: v.eye, width: vp.width, height: vp.height, lit, digest, corner: bg });
			}
			window.__e2eXr.views = out;
		});
	};
	// The page's reference space, for the read-back's getViewerPose.
	const rrs = XRSession.prototype.requestReferenceSpace;
	XRSession.prototype.requestReferenceSpace = async function (type) {
		const sp = await rrs.call(this, type);
		window.__e2eXrSpace = sp;
		return sp;
	};
})();`;
}

async function diag(p) {
	try {
		return await p.page.evaluate(() => window.theta && { state: theta.state, lastError: theta.lastError,
			counters: theta.counters(), timings: theta.timings(), nextPos: theta.nextPos(), caughtUp: theta.caughtUp(),
			framed: theta.framed(), status: document.getElementById('status')?.textContent,
			error: document.getElementById('error')?.textContent,
			messages: [...document.querySelectorAll('.msg')].map(m => m.textContent) });
	} catch (e) {
		return `the page did not answer: ${e.message}`;
	}
}

async function waitExpr(page, what, expr, ms) {
	const end = Date.now() + (ms || DEFAULT_WAIT_MS);
	for (;;) {
		const v = await page.evaluate(expr);
		if (v && typeof v === 'object' && v.error) throw new Error(`${what}: ${v.error}`);
		if (v) return v;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise(r => setTimeout(r, POLL_MS));
	}
}

const JOINED = `(() => { const t = window.theta; if (!t) return null; if (t.lastError) return { error: t.lastError };
	return t.state === 'open' && t.caughtUp() && t.framed() && t.drawnUpToDate() ? true : null; })()`;

function linkWithName(url, name) {
	const u = new URL(url);
	if (name) u.searchParams.set('name', name);
	return u.toString();
}

const ops = {
	async page(r) {
		if (pages.has(r.page)) throw new Error(`page ${r.page} is open already`);
		const ctx = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
		if (r.iwer) await ctx.addInitScript({ content: iwerScript(r.iwer) });
		const p = { ctx, console: [], offers: [] };
		p.page = await newPage(ctx, p);
		// The page's POST /offer replies as they came (status and JSON).
		p.page.on('response', res => {
			if (new URL(res.url()).pathname !== '/offer') return;
			p.offers.push(res.json().then(body => ({ status: res.status(), body }),
						      () => ({ status: res.status(), body: null })));
		});
		pages.set(r.page, p);
		return true;
	},
	async open(r, p) {
		await p.page.goto(linkWithName(r.url, r.name));
		await p.page.click('#join-btn');
		return true;
	},
	async join(r, p) {
		const t0 = Date.now();
		await ops.open(r, p);
		await waitExpr(p.page, 'the page to join the session and draw its model', JOINED, r.ms);
		// The POST /offer round trips as the page's resource timing has them
		// (the rest of offerMs is the page's offer and ICE gathering).
		const t = await p.page.evaluate(() => ({ timings: theta.timings(), hash: theta.worldHash(), nextPos: theta.nextPos(),
							  role: theta.role, offerPosts: performance.getEntriesByType('resource')
								  .filter(e => new URL(e.name).pathname === '/offer').map(e => e.duration) }));
		return { ...t, joinedMs: Date.now() - t0 };
	},
	async eval(r, p) { return p.page.evaluate(r.expr); },
	async wait(r, p) { return waitExpr(p.page, r.what || r.expr, r.expr, r.ms); },
	async click(r, p) { await p.page.click(r.selector); return true; },
	async fill(r, p) { await p.page.fill(r.selector, String(r.value)); return true; },
	async mouse(r, p) { await p.page.mouse.click(r.x, r.y); return true; },
	async pick(r, p) {
		const meshes = await p.page.evaluate(() => theta.meshes());
		const vp = p.page.viewportSize();
		let best = null;
		for (const m of meshes)
			for (const f of m.faces) {
				const at = await p.page.evaluate(([e, face]) => theta.project(e, face), [m.entity, f]);
				if (!at) continue;
				const d = Math.hypot(at.x - vp.width / 2, at.y - vp.height / 2);
				if (!best || d < best.d) best = { ...at, d };
			}
		if (!best) throw new Error('the page draws no face to pick');
		await p.page.mouse.click(best.x, best.y);
		const sel = await p.page.evaluate(() => theta.selection());
		if (!sel) throw new Error(`a click at (${best.x.toFixed(0)}, ${best.y.toFixed(0)}) picked nothing`);
		return sel;
	},
	async shot(r, p) {
		const png = await p.page.evaluate(() => theta.capture());
		writeFileSync(r.file, Buffer.from(png.replace(/^data:image\/png;base64,/, ''), 'base64'));
		return true;
	},
	async xrpixels(r, p) { return p.page.evaluate(() => window.__e2eXr || null); },
	async console(r, p) { return p.console; },
	async offers(r, p) { return Promise.all(p.offers); },
	async close(r, p) {
		pages.delete(r.page);
		await p.ctx.close();
		return true;
	},
};

async function handle(r) {
	if (r.op === 'quit') {
		for (const p of pages.values()) await p.ctx.close().catch(() => {});
		await browser.close().catch(() => {});
		answer({ id: r.id, ok: true, value: true });
		process.exit(0);
	}
	const f = ops[r.op];
	if (!f) throw new Error(`no op '${r.op}'`);
	const p = r.op === 'page' ? null : pages.get(r.page);
	if (r.op !== 'page' && !p) throw new Error(`no page '${r.page}'`);
	return f(r, p);
}

const { chromium } = require(env('THETA_PLAYWRIGHT'));
browser = await chromium.launch({ executablePath: env('THETA_CHROMIUM'), headless: true, args: CHROMIUM_FLAGS });
answer({ id: 0, ok: true, value: { version: browser.version() } });

// One request at a time, in order.
const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', line => {
	chain = chain.then(async () => {
		let r;
		try {
			r = JSON.parse(line);
		} catch (e) {
			answer({ id: -1, ok: false, error: `a request that is not JSON: ${e.message}` });
			return;
		}
		try {
			answer({ id: r.id, ok: true, value: await handle(r) });
		} catch (e) {
			const p = pages.get(r.page);
			answer({ id: r.id, ok: false, error: String(e && e.message ? e.message : e), page: p ? await diag(p) : null,
				 console: p ? p.console.slice(-20) : [] });
		}
	});
});
rl.on('close', () => { chain.then(() => browser.close()).then(() => process.exit(0)); });
