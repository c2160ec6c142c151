// The bare baseline's fragment: one directional light, Lambert plus an
// ambient term, a grey base colour; linear colour into an sRGB target.
#version 450
layout(location = 0) in vec3 normal;
layout(location = 0) out vec4 color;

void main()
{
	vec3 l = normalize(vec3(0.3, 0.8, 0.5));
	float d = max(dot(normalize(normal), l), 0.0);
	color = vec4(vec3(0.8) * (0.2 + 0.8 * d), 1.0);
}
