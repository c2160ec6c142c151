#version 450
// The UI's triangles (struct ui_vertex, ui/ui.h): world metres with the
// view's view-projection, or window pixels with gfx_draw_ui.c's
// orthographic projection, both in pc.mvp. No nudge: the pipeline has no
// depth test.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec2 in_uv;
layout(location = 2) in vec4 in_color; // sRGB bytes, read as UNORM

layout(location = 0) out vec2 out_uv;
layout(location = 1) out vec4 out_color; // linear rgb (decoded here, once a vertex), alpha

vec3 srgb_decode(vec3 c)
{
	vec3 lo = c / 12.92;
	vec3 hi = pow((c + 0.055) / 1.055, vec3(2.4));
	return mix(hi, lo, lessThanEqual(c, vec3(0.04045)));
}

void main()
{
	out_uv = in_uv;
	out_color = vec4(srgb_decode(in_color.rgb), in_color.a);
	gl_Position = pc.mvp * vec4(in_pos, 1.0);
}
