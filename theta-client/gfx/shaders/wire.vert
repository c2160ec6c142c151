#version 450
// Wire edges (edit modes): the mesh's wire positions as a line list,
// pulled toward the eye so they win over the faces they lie on.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;

void main()
{
	gl_Position = gfx_nudge(pc.mvp * vec4(in_pos, 1.0), pc.nm[0].x);
}
