// WebXR: when the browser offers immersive-vr, an "Enter VR" button; in
// the session every view is drawn by the same renderer into the XR
// framebuffer, the viewer is the head pose the page sends, the
// controllers are its hands, and a controller's select picks with its
// target ray (as a click does).
import * as M from './math.js';

export async function xrSupported() {
	if (!navigator.xr || !navigator.xr.isSessionSupported) return false;
	try { return await navigator.xr.isSessionSupported('immersive-vr'); } catch (e) { return false; }
}

function poseOf(t) {
	const p = t.position, o = t.orientation;
	return { pos: [p.x, p.y, p.z], rot: [o.x, o.y, o.z, o.w] };
}

export class XrSession {
	// hooks: draw(view, proj) for one view, frameDone(ms, views), poses(p),
	// select(origin, dir), ended().
	constructor(renderer, hooks) {
		this.r = renderer;
		this.hooks = hooks;
		this.session = null;
		this.space = null;
		this.stats = { frames: 0, views: 0 };
	}

	async start() {
		const gl = this.r.gl;
		const s = await navigator.xr.requestSession('immersive-vr', { optionalFeatures: ['local-floor'] });
		this.session = s;
		await gl.makeXRCompatible();
		s.updateRenderState({ baseLayer: new XRWebGLLayer(s, gl) });
		try {
			this.space = await s.requestReferenceSpace('local-floor');
		} catch (e) {
			this.space = await s.requestReferenceSpace('local');
		}
		s.addEventListener('end', () => {
			this.session = null;
			this.hooks.ended();
		});
		s.addEventListener('select', e => {
			const pose = e.frame.getPose(e.inputSource.targetRaySpace, this.space);
			if (!pose) return;
			const m = pose.transform.matrix;
			this.hooks.select([m[12], m[13], m[14]], M.normalize([-m[8], -m[9], -m[10]]));
		});
		s.requestAnimationFrame((t, f) => this.frame(t, f));
	}

	async stop() {
		if (this.session) await this.session.end();
	}

	frame(t, frame) {
		const s = frame.session;
		s.requestAnimationFrame((t2, f2) => this.frame(t2, f2));
		const pose = frame.getViewerPose(this.space);
		if (!pose) return;
		const t0 = performance.now(), gl = this.r.gl, layer = s.renderState.baseLayer;
		gl.bindFramebuffer(gl.FRAMEBUFFER, layer.framebuffer);
		gl.viewport(0, 0, layer.framebufferWidth, layer.framebufferHeight);
		this.r.clear();
		for (const v of pose.views) {
			const vp = layer.getViewport(v);
			gl.viewport(vp.x, vp.y, vp.width, vp.height);
			this.hooks.draw(new Float32Array(v.transform.inverse.matrix), new Float32Array(v.projectionMatrix));
			this.stats.views++;
		}
		this.stats.frames++;
		const poses = { head: poseOf(pose.transform) };
		for (const src of s.inputSources) {
			if (!src.gripSpace || (src.handedness !== 'left' && src.handedness !== 'right')) continue;
			const g = frame.getPose(src.gripSpace, this.space);
			if (g) poses[src.handedness] = poseOf(g.transform);
		}
		this.hooks.poses(poses);
		this.hooks.frameDone(performance.now() - t0, pose.views.length);
	}
}
