#version 450
// One colour from the push constants (wire edges and vertices).
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) out vec4 out_color;

void main()
{
	out_color = vec4(gfx_encode(pc.color.rgb), pc.color.a);
}
