#version 450
// Wire edges (edit modes): the mesh's wire positions as a line list,
// pulled toward the eye so they win over the faces they lie on.
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"

layout(location = 0) in vec3 in_pos;

void main()
{
	vec4 p = fr.view[pc.view_index].viewproj * (pc.model * vec4(in_pos, 1.0));
	gl_Position = gfx_nudge(p, pc.nudge);
}
