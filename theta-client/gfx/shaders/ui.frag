#version 450
// The UI's colour: the vertex colour (sRGB, decoded to linear by ui.vert
// so an sRGB target stores it back unchanged) with its alpha times the
// font atlas's coverage (solid areas sample the atlas's white texel).
// Alpha blended.
// The atlas is mipmapped and sampled trilinearly (gfx_draw_ui.c): text
// seen smaller than the atlas greys out instead of breaking up; text on
// whole pixels at the atlas's size samples level 0 at texel centres.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(set = 1, binding = 0) uniform sampler2D ui_atlas;

layout(location = 0) in vec2 in_uv;
layout(location = 1) in vec4 in_color;

layout(location = 0) out vec4 out_color;

void main()
{
	float coverage = texture(ui_atlas, in_uv).r;
	out_color = vec4(gfx_encode(in_color.rgb), in_color.a * coverage);
}
