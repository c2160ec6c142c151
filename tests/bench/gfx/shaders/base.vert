// The bare baseline of bench_gfx_gpu (tests/bench/gfx/): the simplest lit
// pipeline. Reads position and normal of struct gfx_vertex (gfx_mesh.h).
#version 450
layout(location = 0) in vec3 in_pos;
layout(location = 1) in vec3 in_normal;
layout(push_constant) uniform push {
	mat4 mvp; // clip from model (model = identity)
} pc;
layout(location = 0) out vec3 normal;

void main()
{
	normal = in_normal;
	gl_Position = pc.mvp * vec4(in_pos, 1.0);
}
