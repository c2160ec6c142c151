// tests/web/test_web_page.c's browser: opens the invite link with a name,
// joins through the name form, waits for the model to be folded and drawn,
// takes its picture (the canvas's own pixels, theta.capture(): without the
// controls over it), picks a face by clicking where it is drawn and
// extrudes it with the toolbar's Extrude button; reloads (the page comes
// back as the same browser with its resume secret) and paints a face with
// the palette and the Paint tool; drags a mesh with Move, adds a cube and
// undoes it; reports the world hashes on the way, the ack, the page's key
// and the figures.
//   --url LINK --name NAME --shot FILE --extrude METRES [--slot N] [--frames N]
import { writeFileSync } from 'node:fs';
import { run, options, joinByLink, waitFor } from './browser.mjs';

const o = options(process.argv.slice(2));
const WAIT_MS = 20000;

await run(async (result, ctx) => {
	const page = await joinByLink(ctx, result, o.url, o.name, WAIT_MS);
	result.before = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), entities: theta.entityCount(),
						      meshes: theta.meshes(), renderer: theta.renderer(),
						      timings: Object.fromEntries(Object.entries(theta.timings()).map(([k, v]) => [k, Math.round(v)])),
						      role: theta.role }));
	result.stage = 'screenshot';
	const png = await page.evaluate(() => theta.capture());
	writeFileSync(o.shot, Buffer.from(png.replace(/^data:image\/png;base64,/, ''), 'base64'));

	// Pick: click on the centre of the first mesh's face that is drawn nearest the middle.
	result.stage = 'pick';
	const m = result.before.meshes[0];
	if (!m) throw new Error('the page draws no mesh');
	let target = null;
	for (const f of m.faces) {
		const p = await page.evaluate(([e, face]) => theta.project(e, face), [m.entity, f]);
		if (!p) continue;
		const d = Math.hypot(p.x - 400, p.y - 300);
		if (!target || d < target.d) target = { ...p, d, face: f };
	}
	await page.mouse.click(target.x, target.y);
	result.selection = await page.evaluate(() => theta.selection());
	if (!result.selection) throw new Error(`a click at (${target.x.toFixed(0)}, ${target.y.toFixed(0)}) picked nothing`);

	result.stage = 'extrude';
	await page.fill('#extrude-dist', o.extrude);
	await page.click('#extrude');
	const want = result.before.nextPos + 1;
	await waitFor(page, 'the extrude to be acknowledged and folded', w => {
		const t = window.theta;
		if (t.lastReject()) return { error: t.lastReject() };
		return t.lastAck() && t.nextPos() >= w && t.drawnUpToDate() ? { ok: true } : null;
	}, want, WAIT_MS).then(r => { if (r.error) throw new Error(`the host refused the extrude: ${r.error}`); });
	result.ack = await page.evaluate(() => theta.lastAck());
	result.after = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), entities: theta.entityCount(),
						     meshes: theta.meshes() }));
	result.selfKey = await page.evaluate(() => theta.selfKey());

	// A reload comes back as the same browser (the resume secret the page
	// kept), folds the log again and paints a face: palette, Paint tool, click.
	result.stage = 'reload';
	await page.reload();
	await page.click('#join-btn');
	await waitFor(page, 'the reloaded page to rejoin and draw the model', () => {
		const t = window.theta;
		if (t.lastError) return { error: t.lastError };
		return t.state === 'open' && t.caughtUp() && t.framed() && t.drawnUpToDate() ? { ok: true } : null;
	}, null, WAIT_MS).then(r => { if (r.error) throw new Error(`the reloaded page stopped: ${r.error}`); });
	result.resumed = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), role: theta.role }));
	result.stage = 'paint';
	const m2 = (await page.evaluate(() => theta.meshes()))[1] || m;
	let spot = null;
	for (const f of m2.faces) {
		const p = await page.evaluate(([e, face]) => theta.project(e, face), [m2.entity, f]);
		if (p && (!spot || Math.hypot(p.x - 400, p.y - 300) < spot.d)) spot = { ...p, d: Math.hypot(p.x - 400, p.y - 300) };
	}
	await page.click('[data-tool=paint]');
	await page.click(`#paint-${o.slot || 4}`);
	await page.mouse.click(spot.x, spot.y);
	await waitFor(page, 'the paint to be acknowledged and folded', () => {
		const t = window.theta, c = t.counters();
		if (t.lastReject()) return { error: t.lastReject() };
		if (c.localRefusals) return { error: 'the page made no paint command' };
		return c.submits > 0 && c.acks === c.submits && c.pending === 0 && t.drawnUpToDate() ? { ok: true } : null;
	}, null, WAIT_MS).then(r => { if (r.error) throw new Error(`the paint failed: ${r.error}`); });
	result.painted = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), selfKey: theta.selfKey(),
						       submits: theta.counters().submits }));
	// The other tools, each through its control: drag a mesh with Move, Add
	// cube, then Undo (the cube goes again).
	const settled = () => waitFor(page, 'the edit to be acknowledged and folded', () => {
		const t = window.theta, c = t.counters();
		if (t.lastReject()) return { error: t.lastReject() };
		return c.acks === c.submits && c.pending === 0 && t.drawnUpToDate() ? { ok: true, n: c.submits } : null;
	}, null, WAIT_MS).then(r => { if (r.error) throw new Error(`the host refused an edit: ${r.error}`); return r.n; });
	const submitted = () => page.evaluate(() => theta.counters().submits);
	result.stage = 'move';
	await page.click('[data-tool=move]');
	let n0 = await submitted();
	await page.mouse.move(spot.x, spot.y);
	await page.mouse.down();
	await page.mouse.move(spot.x + 60, spot.y + 20, { steps: 6 });
	await page.mouse.up();
	if ((await settled()) !== n0 + 1) throw new Error('the drag made no move');
	result.stage = 'cube';
	n0 = await submitted();
	await page.click('#add-cube');
	if ((await settled()) !== n0 + 1) throw new Error('Add cube made no edit');
	result.meshesWithCube = (await page.evaluate(() => theta.meshes())).length;
	result.stage = 'undo';
	await page.click('#undo');
	if ((await settled()) !== n0 + 2) throw new Error('Undo made no edit');
	result.final = await page.evaluate(() => ({ hash: theta.worldHash(), nextPos: theta.nextPos(), meshes: theta.meshes().length }));
	result.stage = 'frames';
	result.frameMs = Math.round((await page.evaluate(n => theta.benchFrames(n), Number(o.frames || 20))) * 100) / 100;
	result.counters = await page.evaluate(() => theta.counters());
	result.stage = 'done';
});
