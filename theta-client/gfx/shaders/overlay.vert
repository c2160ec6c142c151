#version 450
// Overlay triangles and lines (struct gfx_overlay_vertex, world space):
// the grid, avatars, the cursor.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec4 in_color;

layout(location = 0) out vec4 out_color;
layout(location = 1) out vec3 out_wpos;

void main()
{
	out_color = in_color;
	out_wpos = in_pos;
	gl_Position = gfx_nudge(pc.mvp * vec4(in_pos, 1.0), pc.nm[0].x);
}
