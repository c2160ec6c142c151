#version 450
// The overlay's vertex colour (linear); triangles (pc.nm[1].x = 1) are
// shaded by their screen-derived normal so boxes read as solids.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec4 in_color;
layout(location = 1) in vec3 in_wpos;

layout(location = 0) out vec4 out_color;

void main()
{
	vec3 c = in_color.rgb;
	if (pc.nm[1].x == 1.0) {
		// The face's normal from the screen derivatives: screen right x
		// screen down (Vulkan's y) points away from the eye, so negate.
		vec3 n = -normalize(cross(dFdx(in_wpos), dFdy(in_wpos)));
		c = gfx_shade(c, n);
	}
	out_color = vec4(gfx_encode(c), in_color.a);
}
