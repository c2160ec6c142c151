#version 450
// Mesh triangles (struct gfx_vertex): the lit pass and the face marks use
// this same shader (and lit.frag) with the same matrix, so a mark's depth
// equals the lit pass's. The material's index goes to the fragment shader
// (flat); fewer outputs keep a vertex-bound frame of tiny triangles fast.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec3 in_normal;
layout(location = 2) in uint in_material;

layout(location = 0) out vec3 out_wnormal;
layout(location = 1) flat out uint out_material;

void main()
{
	out_wnormal = mat3(pc.nm[0].xyz, pc.nm[1].xyz, pc.nm[2].xyz) * in_normal;
	uint m = in_material == 0u ? floatBitsToUint(pc.nm[0].w) : in_material;
	out_material = min(m, 255u);
	gl_Position = pc.mvp * vec4(in_pos, 1.0);
}
