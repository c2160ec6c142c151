#version 450
// The lit pass: the material's base colour, shaded; the instance's tint.
// Marked faces run it again over the same pixels (depth EQUAL) with the
// mark as the tint: the same as blending the mark over the lit face.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_to_eye;
layout(location = 1) in vec3 in_wnormal;
layout(location = 2) flat in vec4 in_base;

layout(location = 0) out vec4 out_color;

void main()
{
	vec3 n = normalize(in_wnormal);
	// Both sides lit alike: a face seen from behind turns its normal to the eye.
	if (dot(n, in_to_eye) < 0.0)
		n = -n;
	vec3 c = gfx_shade(in_base.rgb, n);
	c = mix(c, pc.color.rgb, pc.color.a);
	out_color = vec4(gfx_encode(c), 1.0);
}
