#version 450
// The UI's colour: the vertex colour (sRGB, decoded to linear so an sRGB
// target stores it back unchanged) with its alpha times the font atlas's
// coverage (solid areas sample the atlas's white texel). Alpha blended.
//
// The atlas has one level. Where a pixel spans more than a texel (world
// panels seen from afar) the coverage is the mean of a grid of taps over
// the pixel's footprint in the atlas (up to UI_TAPS a side), a box filter
// instead of the aliasing of one tap; at one texel a pixel or more (the
// desktop's text on whole pixels) it is one tap, exact.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(set = 1, binding = 0) uniform sampler2D ui_atlas;

layout(location = 0) in vec2 in_uv;
layout(location = 1) in vec4 in_color;

layout(location = 0) out vec4 out_color;

const float UI_TAPS = 4.0;
const float UI_ONE_TEXEL = 1.01; // texels a pixel: at most this is one tap

vec3 srgb_decode(vec3 c)
{
	vec3 lo = c / 12.92;
	vec3 hi = pow((c + 0.055) / 1.055, vec3(2.4));
	return mix(hi, lo, lessThanEqual(c, vec3(0.04045)));
}

void main()
{
	vec2 dx = dFdx(in_uv), dy = dFdy(in_uv);
	vec2 size = vec2(textureSize(ui_atlas, 0));
	vec2 span = vec2(length(dx * size), length(dy * size)); // texels a pixel step crosses
	vec2 n = clamp(ceil(span / UI_ONE_TEXEL), vec2(1.0), vec2(UI_TAPS));
	float coverage = 0.0;
	for (float j = 0.0; j < n.y; j += 1.0)
		for (float i = 0.0; i < n.x; i += 1.0) {
			vec2 o = (vec2(i, j) + 0.5) / n - 0.5;
			coverage += textureLod(ui_atlas, in_uv + o.x * dx + o.y * dy, 0.0).r;
		}
	coverage /= n.x * n.y;
	out_color = vec4(gfx_encode(srgb_decode(in_color.rgb)), in_color.a * coverage);
}
