// The page's controls and texts: the name form, the session panel, the
// toolbar (tools, extrude distance, palette, add cube, undo, Enter VR),
// the status line, messages, and the stop sentence.

const $ = id => document.getElementById(id);
export const MESSAGES_MAX = 6;
export const MESSAGE_MS = 8000;
export const NAME_MAX_BYTES = 64;

// The display name's problem as a sentence, or ''.
export function nameProblem(name) {
	if (!name.trim()) return 'Type a display name: the others see it beside your edits.';
	if (new TextEncoder().encode(name).length > NAME_MAX_BYTES) return `The display name is longer than ${NAME_MAX_BYTES} bytes.`;
	if (/[\u0000-\u001f\u007f]/.test(name)) return 'The display name may not hold control characters.';
	return '';
}

export class Ui {
	constructor() {
		this.el = {
			join: $('join'), name: $('name'), joinBtn: $('join-btn'), joinWhy: $('join-why'),
			status: $('status'), session: $('session'), error: $('error'), messages: $('messages'),
			tools: $('tools'), extrude: $('extrude'), extrudeDist: $('extrude-dist'), palette: $('palette'),
			cube: $('add-cube'), undo: $('undo'), redo: $('redo'), vr: $('enter-vr'), frame: $('frame'),
			fp: $('fp'), labels: $('labels'), view: $('view'),
		};
	}

	// Shows the name form (prefilled) and resolves with the name typed.
	askName(prefill, fp) {
		const e = this.el;
		e.name.value = prefill;
		e.fp.textContent = fp.replace(/(..)(?!$)/g, '$1:').toUpperCase();
		e.join.hidden = false;
		e.name.focus();
		return new Promise(resolve => {
			const go = ev => {
				ev.preventDefault();
				const why = nameProblem(e.name.value);
				e.joinWhy.textContent = why;
				if (why) return;
				e.join.hidden = true;
				resolve(e.name.value.trim());
			};
			e.join.addEventListener('submit', go);
		});
	}

	// A stop: the sentence in the page, the tools off.
	fatal(sentence) {
		this.el.error.textContent = sentence;
		this.el.error.hidden = false;
		this.el.join.hidden = true;
		this.el.tools.classList.add('off');
	}

	clearFatal() {
		this.el.error.hidden = true;
		this.el.error.textContent = '';
	}

	status(text) {
		this.el.status.textContent = text;
	}

	// kind: ok, warn, error. The newest MESSAGES_MAX stay, each MESSAGE_MS.
	say(text, kind = 'ok') {
		const m = document.createElement('div');
		m.className = 'msg ' + kind;
		m.textContent = text;
		this.el.messages.appendChild(m);
		while (this.el.messages.children.length > MESSAGES_MAX) this.el.messages.firstChild.remove();
		setTimeout(() => m.remove(), MESSAGE_MS);
	}

	// info: SESSION_INFO fields; reply: the /offer reply (user, role).
	session(info, reply, hostText) {
		const e = this.el.session;
		e.replaceChildren();
		const row = (k, v) => {
			const d = document.createElement('div');
			const a = document.createElement('span'), b = document.createElement('span');
			a.className = 'k'; a.textContent = k;
			b.className = 'v'; b.textContent = v;
			d.append(a, b);
			e.appendChild(d);
		};
		row('session', (info && info.name) || (reply && reply.session_name) || '');
		row('host', hostText);
		if (info) {
			row('peers', String(info.peers));
			row('log', String(info.log_pos));
			if (info.speakers) row('speaking', info.speakers.split('\n').join(', '));
		}
		if (reply) row('you', `${reply.user || ''} (${reply.role || '?'})`);
		this.el.tools.classList.toggle('viewer', !!reply && reply.role === 'viewer');
	}

	// Builds the palette swatches; pick(slot) on a click.
	palette(entries, current, pick) {
		const p = this.el.palette;
		p.replaceChildren();
		entries.forEach((c, slot) => {
			const b = document.createElement('button');
			b.className = 'swatch' + (slot === current ? ' on' : '');
			b.id = 'paint-' + slot;
			b.title = 'Paint with ' + c.name;
			b.setAttribute('aria-label', b.title);
			const [r, g, bl] = c.rgba.map(v => Math.round(Math.min(1, Math.max(0, v)) ** (1 / 2.2) * 255));
			b.style.background = `rgb(${r}, ${g}, ${bl})`;
			b.addEventListener('click', () => pick(slot));
			p.appendChild(b);
		});
	}

	markSlot(slot) {
		for (const b of this.el.palette.children) b.classList.toggle('on', b.id === 'paint-' + slot);
	}

	markTool(tool) {
		for (const b of this.el.tools.querySelectorAll('[data-tool]')) b.classList.toggle('on', b.dataset.tool === tool);
	}

	// handlers: tool(name), extrude(dist), cube(), undo(), redo(), frame(), vr()
	wire(h) {
		const e = this.el;
		for (const b of e.tools.querySelectorAll('[data-tool]')) b.addEventListener('click', () => h.tool(b.dataset.tool));
		e.extrude.addEventListener('click', () => h.extrude(parseFloat(e.extrudeDist.value)));
		e.cube.addEventListener('click', () => h.cube());
		e.undo.addEventListener('click', () => h.undo());
		e.redo.addEventListener('click', () => h.redo());
		e.frame.addEventListener('click', () => h.frame());
		e.vr.addEventListener('click', () => h.vr());
		window.addEventListener('keydown', ev => {
			if (ev.target instanceof HTMLInputElement) return;
			const k = ev.key.toLowerCase();
			if ((ev.ctrlKey || ev.metaKey) && k === 'z') { ev.preventDefault(); ev.shiftKey ? h.redo() : h.undo(); return; }
			if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
			if (k === 'e') h.extrude(parseFloat(e.extrudeDist.value));
			else if (k === 'c') h.cube();
			else if (k === 'm') h.tool('move');
			else if (k === 's') h.tool('select');
			else if (k === 'p') h.tool('paint');
			else if (k === 'f') h.frame();
		});
	}

	showVr(on) {
		this.el.vr.hidden = !on;
	}
}
