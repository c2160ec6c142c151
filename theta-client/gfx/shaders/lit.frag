#version 450
// The lit pass: the material's base colour, shaded; the instance's tint.
// Marked faces run it again over the same pixels (depth EQUAL) with the
// mark as the tint: the same as blending the mark over the lit face.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_wnormal;
layout(location = 1) flat in uint in_material;

layout(location = 0) out vec4 out_color;

void main()
{
	// Both sides lit alike: seen from behind, the normal turns to the eye.
	vec3 n = normalize(in_wnormal);
	if (!gl_FrontFacing)
		n = -n;
	vec3 c = gfx_shade(fr.material[in_material].rgb, n);
	c = mix(c, pc.color.rgb, pc.color.a);
	out_color = vec4(gfx_encode(c), 1.0);
}
