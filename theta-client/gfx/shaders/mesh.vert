#version 450
// Mesh triangles (struct gfx_vertex): the lit pass and the face marks use
// this same shader (and lit.frag), so a mark's depth equals the lit pass's.
// The material is looked up here, once per vertex, not per fragment.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec3 in_normal;
layout(location = 2) in uint in_material;

layout(location = 0) out vec3 out_to_eye;
layout(location = 1) out vec3 out_wnormal;
layout(location = 2) flat out vec4 out_base;

void main()
{
	vec4 w = pc.model * vec4(in_pos, 1.0);
	out_to_eye = fr.view[pc.view_index].eye.xyz - w.xyz;
	out_wnormal = transpose(inverse(mat3(pc.model))) * in_normal;
	uint m = in_material == 0u ? pc.material : in_material;
	out_base = fr.material[min(m, 255u)];
	gl_Position = fr.view[pc.view_index].viewproj * w;
}
