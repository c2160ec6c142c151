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
layout(location = 1) out vec4 out_color;

void main()
{
	out_uv = in_uv;
	out_color = in_color;
	gl_Position = pc.mvp * vec4(in_pos, 1.0);
}
