#version 450
// Thick segments and dots (edge and vertex marks, world space): one quad
// per instance (6 vertices) from a to b, `width` pixels wide; a == b gives
// a square dot.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_a;
layout(location = 1) in vec3 in_b;
layout(location = 2) in vec4 in_color;
layout(location = 3) in float in_width;

layout(location = 0) out vec4 out_color;
layout(location = 1) out vec3 out_wpos;

// x: 0 at a, 1 at b; y: the side.
const vec2 corner[6] = vec2[](vec2(0, -1), vec2(1, -1), vec2(1, 1), vec2(0, -1), vec2(1, 1), vec2(0, 1));

void main()
{
	vec4 pa = gfx_nudge(pc.mvp * vec4(in_a, 1.0), pc.nm[0].x);
	vec4 pb = gfx_nudge(pc.mvp * vec4(in_b, 1.0), pc.nm[0].x);
	vec2 c = corner[gl_VertexIndex];
	vec2 inv = pc.nm[0].zw; // 1 / viewport size
	// The segment's direction in pixels; a dot (or an edge seen end on) is a square.
	vec2 sa = pa.xy / max(pa.w, 1e-6) / inv;
	vec2 sb = pb.xy / max(pb.w, 1e-6) / inv;
	vec2 d = sb - sa;
	float len = length(d);
	vec2 dir = len > 0.5 ? d / len : vec2(1.0, 0.0);
	vec2 side = vec2(-dir.y, dir.x);
	vec4 p = c.x == 0.0 ? pa : pb;
	// Extend past both ends by half the width so dots and corners are covered.
	vec2 off = side * c.y + dir * (c.x == 0.0 ? -1.0 : 1.0);
	p.xy += off * in_width * inv * p.w;
	out_color = in_color;
	out_wpos = c.x == 0.0 ? in_a : in_b;
	gl_Position = p;
}
