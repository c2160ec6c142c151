// The orbit camera: mouse drag orbits, the wheel zooms, a right drag (or
// shift drag) pans; one finger orbits, two pinch and pan.
import * as M from './math.js';

export const CAMERA_FOVY = Math.PI / 3;
export const CAMERA_NEAR = 0.05;
export const CAMERA_FAR = 500;
const DIST_MIN = 0.3, DIST_MAX = 200, PITCH_MAX = 1.55;
const ORBIT_PER_PX = 0.008, ZOOM_PER_TICK = 1.0015;
// A press that moves less than this many pixels is a click (pick), not a drag.
export const CLICK_SLOP_PX = 4;

export class OrbitCamera {
	constructor() {
		this.target = [0, 0.5, 0];
		this.yaw = 0.7;
		this.pitch = 0.45;
		this.distance = 6;
	}

	eye() {
		const cp = Math.cos(this.pitch);
		return [this.target[0] + this.distance * cp * Math.sin(this.yaw), this.target[1] + this.distance * Math.sin(this.pitch),
			this.target[2] + this.distance * cp * Math.cos(this.yaw)];
	}

	view() { return M.lookAt(this.eye(), this.target, [0, 1, 0]); }

	projection(aspect) { return M.perspective(CAMERA_FOVY, aspect, CAMERA_NEAR, CAMERA_FAR); }

	orbit(dx, dy) {
		this.yaw -= dx * ORBIT_PER_PX;
		this.pitch = Math.max(-PITCH_MAX, Math.min(PITCH_MAX, this.pitch + dy * ORBIT_PER_PX));
	}

	zoom(ticks) {
		this.distance = Math.max(DIST_MIN, Math.min(DIST_MAX, this.distance * Math.pow(ZOOM_PER_TICK, ticks)));
	}

	// Moves the target in the view plane by a drag of (dx, dy) pixels on a
	// viewport `height` pixels tall.
	pan(dx, dy, height) {
		const v = this.view(), per = (2 * this.distance * Math.tan(CAMERA_FOVY / 2)) / Math.max(1, height);
		const right = [v[0], v[4], v[8]], up = [v[1], v[5], v[9]];
		this.target = M.add(this.target, M.add(M.scale(right, -dx * per), M.scale(up, dy * per)));
	}

	// Frames a box (min, max) so that all of it is in view.
	frame(min, max) {
		this.target = M.scale(M.add(min, max), 0.5);
		const r = Math.max(0.5, M.length(M.sub(max, min)) / 2);
		this.distance = Math.max(DIST_MIN, Math.min(DIST_MAX, (r / Math.sin(CAMERA_FOVY / 2)) * 1.1));
	}

	// The world ray through canvas pixel (x, y) of a w x h canvas.
	ray(x, y, w, h) {
		const inv = M.invert(M.multiply(this.projection(w / h), this.view()));
		const nx = (2 * x) / w - 1, ny = 1 - (2 * y) / h;
		const a = M.transformPoint(inv, [nx, ny, -1]), b = M.transformPoint(inv, [nx, ny, 1]);
		return { origin: a, dir: M.normalize(M.sub(b, a)) };
	}
}

// Wires pointer input on canvas to cam. onClick(x, y, event) gets presses
// that did not move (picking); onDrag, when it returns true for a press
// (a tool took it), gets the moves and the release instead of the camera.
export function attachControls(canvas, cam, { onClick, onDragStart, onDragMove, onDragEnd, onChange }) {
	const ptrs = new Map();
	let press = null, tool = false, pinch = 0;
	canvas.addEventListener('contextmenu', e => e.preventDefault());
	canvas.addEventListener('pointerdown', e => {
		canvas.setPointerCapture(e.pointerId);
		ptrs.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
		if (ptrs.size === 1) {
			press = { x: e.offsetX, y: e.offsetY, button: e.button, shift: e.shiftKey, moved: false };
			tool = e.button === 0 && !e.shiftKey && onDragStart ? onDragStart(e.offsetX, e.offsetY) : false;
		} else if (ptrs.size === 2) {
			const [a, b] = [...ptrs.values()];
			pinch = Math.hypot(a.x - b.x, a.y - b.y);
		}
	});
	canvas.addEventListener('pointermove', e => {
		const prev = ptrs.get(e.pointerId);
		if (!prev || !press) return;
		const dx = e.offsetX - prev.x, dy = e.offsetY - prev.y;
		ptrs.set(e.pointerId, { x: e.offsetX, y: e.offsetY });
		if (Math.hypot(e.offsetX - press.x, e.offsetY - press.y) > CLICK_SLOP_PX) press.moved = true;
		if (!press.moved) return;
		if (ptrs.size === 2) {
			const [a, b] = [...ptrs.values()], d = Math.hypot(a.x - b.x, a.y - b.y);
			if (pinch > 0 && d > 0) cam.zoom(Math.log(pinch / d) / Math.log(ZOOM_PER_TICK));
			pinch = d;
			cam.pan(dx / 2, dy / 2, canvas.clientHeight);
		} else if (tool) {
			onDragMove(e.offsetX, e.offsetY);
		} else if (press.button === 2 || press.shift || press.button === 1) {
			cam.pan(dx, dy, canvas.clientHeight);
		} else {
			cam.orbit(dx, dy);
		}
		onChange && onChange();
	});
	const up = e => {
		if (!ptrs.has(e.pointerId)) return;
		ptrs.delete(e.pointerId);
		if (ptrs.size || !press) return;
		const p = press;
		press = null;
		if (tool) {
			tool = false;
			onDragEnd(e.offsetX, e.offsetY, p.moved);
		}
		if (!p.moved && p.button === 0 && onClick) onClick(e.offsetX, e.offsetY, e);
		onChange && onChange();
	};
	canvas.addEventListener('pointerup', up);
	canvas.addEventListener('pointercancel', up);
	canvas.addEventListener('wheel', e => {
		e.preventDefault();
		cam.zoom(e.deltaMode === 1 ? e.deltaY * 33 : e.deltaY);
		onChange && onChange();
	}, { passive: false });
}
