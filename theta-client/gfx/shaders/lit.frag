#version 450
// The lit pass: the material's base colour, shaded; the instance's tint.
// Marked faces run it again over the same pixels (depth EQUAL) with the
// mark as the tint: the same as blending the mark over the lit face.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_wpos;
layout(location = 1) in vec3 in_wnormal;
layout(location = 2) flat in uint in_material;

layout(location = 0) out vec4 out_color;

void main()
{
	vec3 n = normalize(in_wnormal);
	// Both sides lit alike: a face seen from behind turns its normal to the eye.
	if (dot(n, fr.view[pc.view_index].eye.xyz - in_wpos) < 0.0)
		n = -n;
	vec4 base = fr.material[min(in_material, 255u)];
	vec3 c = gfx_shade(base.rgb, n);
	c = mix(c, pc.color.rgb, pc.color.a);
	out_color = vec4(gfx_encode(c), 1.0);
}
