// `make demo`'s browser (scripts/demo runs it): headless Chromium, launched
// as the browser tests launch it (tests/web/browser.mjs: the same flags, a
// fresh profile), opens the invite link, joins through the name form, waits
// until the session's model is folded and drawn and reports its world hash;
// then clicks the face drawn nearest the middle of the page and extrudes it
// with the toolbar's Extrude button (the page's own UI path), waits for the
// host's ack, reports the new world hash and the set-up figures, and saves
// a picture of the page, then leaves it.
//   --url LINK --name NAME --shot FILE --extrude METRES
// The environment is tests/lib/th_browser.h's: THETA_CHROMIUM,
// THETA_PLAYWRIGHT (absolute), THETA_BROWSER_PROFILE, THETA_BROWSER_TIMEOUT_MS.
import { run, options, joinByLink, waitFor } from '../tests/web/browser.mjs';

const o = options(process.argv.slice(2));
const WAIT_MS = 30000;

await run(async (result, ctx) => {
	const page = await joinByLink(ctx, result, o.url, o.name, WAIT_MS);
	result.before = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), role: theta.role,
						      meshes: theta.meshes().length, renderer: theta.renderer(),
						      timings: Object.fromEntries(Object.entries(theta.timings()).map(([k, v]) => [k, Math.round(v)])) }));

	// The face whose centre is drawn nearest the middle of the canvas, clicked
	// where it is drawn (the Select tool picks it), then Extrude.
	result.stage = 'pick';
	const target = await page.evaluate(() => {
		const c = document.getElementById('view').getBoundingClientRect();
		const mx = c.left + c.width / 2, my = c.top + c.height / 2;
		let best = null;
		for (const m of theta.meshes())
			for (const f of m.faces) {
				const p = theta.project(m.entity, f);
				if (!p) continue;
				const d = Math.hypot(p.x - mx, p.y - my);
				if (!best || d < best.d) best = { x: p.x, y: p.y, d };
			}
		return best;
	});
	if (!target) throw new Error('the page draws no face to pick');
	await page.mouse.click(target.x, target.y);
	result.selection = await page.evaluate(() => theta.selection());
	if (!result.selection) throw new Error(`a click at (${target.x.toFixed(0)}, ${target.y.toFixed(0)}) picked nothing`);
	result.stage = 'extrude';
	await page.fill('#extrude-dist', o.extrude);
	await page.click('#extrude');
	await waitFor(page, 'the extrude to be acknowledged and folded', w => {
		const t = window.theta;
		if (t.lastReject()) return { error: t.lastReject() };
		return t.lastAck() && t.nextPos() >= w && t.drawnUpToDate() ? { ok: true } : null;
	}, result.before.nextPos + 1, WAIT_MS).then(r => { if (r.error) throw new Error(`the host refused the extrude: ${r.error}`); });
	result.ack = await page.evaluate(() => theta.lastAck());
	result.after = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), selfKey: theta.selfKey() }));
	result.stage = 'screenshot';
	await page.screenshot({ path: o.shot });
	// Leaving the page closes its peer connection, so the daemon sees the browser go.
	result.stage = 'close';
	await page.close();
	result.stage = 'done';
});
