#version 450
// Wire vertices (edit modes): a square of pc.nm[0].y pixels per wire
// position (instance rate; 6 vertices each). Free slots (gfx_mesh puts
// them at 1e9) are dropped.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;

const vec2 corner[6] = vec2[](vec2(-1, -1), vec2(1, -1), vec2(1, 1), vec2(-1, -1), vec2(1, 1), vec2(-1, 1));

void main()
{
	if (any(greaterThan(abs(in_pos), vec3(1e8)))) {
		gl_Position = vec4(2.0, 2.0, 2.0, 1.0); /* outside the clip volume */
		return;
	}
	vec4 p = gfx_nudge(pc.mvp * vec4(in_pos, 1.0), pc.nm[0].x);
	p.xy += corner[gl_VertexIndex] * pc.nm[0].y * pc.nm[0].zw * p.w;
	gl_Position = p;
}
