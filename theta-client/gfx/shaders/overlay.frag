#version 450
// The overlay's vertex colour (linear); triangles (pc.material 1) are
// shaded by their screen-derived normal so boxes read as solids.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec4 in_color;
layout(location = 1) in vec3 in_wpos;

layout(location = 0) out vec4 out_color;

void main()
{
	vec3 c = in_color.rgb;
	if (pc.material == 1u) {
		vec3 n = normalize(cross(dFdx(in_wpos), dFdy(in_wpos)));
		if (dot(n, fr.view[pc.view_index].eye.xyz - in_wpos) < 0.0)
			n = -n;
		c = gfx_shade(c, n);
	}
	out_color = vec4(gfx_encode(c), in_color.a);
}
