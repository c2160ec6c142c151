// The browser tests' launcher (tests/lib/th_browser.h runs the drivers):
// Debian's chromium through playwright-core, headless, with the flags the
// issue names and a fresh profile (THETA_BROWSER_PROFILE, made and removed
// by th_browser.c), and the driver's result printed as one JSON line.
import { createRequire } from 'module';

const require = createRequire(import.meta.url);

// --disable-gpu: WebGL2 runs on ANGLE over SwiftShader (Vulkan), which
// --enable-unsafe-swiftshader keeps allowed as Chromium retires the
// automatic fallback.
export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
	'--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'];

export const VIEWPORT = { width: 800, height: 600 };

export function env(name) {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set: run the driver through tests/lib/th_browser.c`);
	return v;
}

// The driver's options: --key value pairs.
export function options(argv) {
	const o = {};
	for (let i = 0; i < argv.length; i++) {
		const m = /^--([a-z0-9-]+)$/.exec(argv[i]);
		if (!m) throw new Error(`unexpected driver argument '${argv[i]}'`);
		o[m[1]] = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
	}
	return o;
}

export async function launch(extraArgs = []) {
	const { chromium } = require(env('THETA_PLAYWRIGHT'));
	return chromium.launchPersistentContext(env('THETA_BROWSER_PROFILE'), {
		executablePath: env('THETA_CHROMIUM'), headless: true, args: [...CHROMIUM_FLAGS, ...extraArgs],
		viewport: VIEWPORT, deviceScaleFactor: 1,
	});
}

// Polls fn (in the page) until it returns something truthy; throws with
// what: ... after ms.
export async function waitFor(page, what, fn, arg, ms) {
	const end = Date.now() + ms;
	let last;
	for (;;) {
		last = await page.evaluate(fn, arg);
		if (last) return last;
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise(r => setTimeout(r, 50));
	}
}

// Runs body(result, ctx), prints result (with ok and error) as the last
// line, exits 0 when it passed. The whole run is bounded by
// THETA_BROWSER_TIMEOUT_MS.
export async function run(body, extraArgs) {
	const result = { ok: false, console: [] };
	const limit = Number(process.env.THETA_BROWSER_TIMEOUT_MS || 60000);
	let ctx = null;
	const timer = setTimeout(() => {
		result.error = `the driver ran out of its ${limit} ms`;
		console.log(JSON.stringify(result));
		process.exit(3);
	}, limit);
	try {
		ctx = await launch(extraArgs);
		await body(result, ctx);
		result.ok = true;
	} catch (e) {
		result.error = String(e && e.message ? e.message : e);
		// Where the page stood (the test hook), for the failure's message.
		try {
			const page = ctx && ctx.pages()[0];
			if (page)
				result.page = await page.evaluate(() => window.theta && { state: theta.state, lastError: theta.lastError,
					counters: theta.counters(), timings: theta.timings(), nextPos: theta.nextPos(),
					caughtUp: theta.caughtUp(), framed: theta.framed(), status: document.getElementById('status')?.textContent,
					messages: [...document.querySelectorAll('.msg')].map(m => m.textContent) });
		} catch (e2) { result.page = `the page did not answer: ${e2.message}`; }
	}
	try { if (ctx) await ctx.close(); } catch (e) { /* closing a crashed browser */ }
	clearTimeout(timer);
	console.log(JSON.stringify(result, (k, v) => (typeof v === 'bigint' ? v.toString() : v)));
	process.exit(result.ok ? 0 : 1);
}

// A page with its console errors and uncaught exceptions kept in result.console.
export async function newPage(ctx, result) {
	const page = ctx.pages()[0] || (await ctx.newPage());
	page.on('requestfailed', r => result.console.push(`request failed: ${r.url()}`));
	page.on('response', r => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) result.console.push(`HTTP ${r.status()}: ${r.url()}`); });
	// SwiftShader's performance notes are not the page's.
	page.on('console', m => {
		if ((m.type() === 'error' || m.type() === 'warning') && !/GL Driver Message/.test(m.text()))
			result.console.push(`${m.type()}: ${m.text()}`);
	});
	page.on('pageerror', e => result.console.push(`exception: ${e.message}`));
	return page;
}

// Opens an invite link with ?name=, joins through the name form and waits
// (at most ms) until the page is open, caught up with the log and has drawn
// its model; a page that stops throws with its sentence. Returns the page
// and how long the join took (result.joinedMs too).
export async function joinByLink(ctx, result, link, name, ms) {
	const page = await newPage(ctx, result);
	const url = new URL(link);
	url.searchParams.set('name', name);
	const t0 = Date.now();
	result.stage = 'load';
	await page.goto(url.toString());
	await page.click('#join-btn');
	result.stage = 'join';
	const r = await waitFor(page, 'the page to join the session and draw its model', () => {
		const t = window.theta;
		if (t.lastError) return { error: t.lastError };
		return t.state === 'open' && t.caughtUp() && t.framed() && t.drawnUpToDate() ? { ok: true } : null;
	}, null, ms);
	if (r.error) throw new Error(`the page stopped: ${r.error}`);
	result.joinedMs = Date.now() - t0;
	return page;
}
