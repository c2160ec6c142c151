// What every shader of gfx_draw.c shares: the frame's storage buffer (one per
// frame slot, written by the CPU before submit) and the push constants
// (struct gfx_push in gfx_draw.c, 96 bytes). Included, not compiled alone.

struct gfx_view_data {
	mat4 viewproj;  // world -> clip
	vec4 eye;       // xyz: world position
	vec4 viewport;  // width, height, 1 / width, 1 / height (pixels)
};

layout(std430, set = 0, binding = 0) readonly buffer gfx_frame {
	gfx_view_data view[2];
	vec4 light;          // xyz: towards the key light (unit), w: key strength
	vec4 ambient;        // x: ambient below, y: ambient above
	uvec4 flags;         // x: 1 = encode sRGB in the shader (UNORM target)
	vec4 material[256];  // base colours, linear rgba
} fr;

layout(push_constant) uniform gfx_push {
	mat4 model;       // object -> world
	vec4 color;       // lit: tint (rgb, strength in a); else the colour
	uint material;    // lit: the instance's material; overlay triangles: 1 = shade
	uint view_index;  // into fr.view
	float nudge;      // clip-space depth pulled toward the eye (lines, dots)
	float size;       // wire dots: pixels
} pc;

vec3 gfx_encode(vec3 c)
{
	if (fr.flags.x == 0u)
		return c;
	vec3 lo = c * 12.92;
	vec3 hi = 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055;
	return mix(hi, lo, lessThanEqual(c, vec3(0.0031308)));
}

// The one lighting model (docs/rendering.md, "Drawing"): a hemisphere
// ambient from below to above plus one directional key light, Lambert.
vec3 gfx_shade(vec3 base, vec3 n)
{
	float amb = mix(fr.ambient.x, fr.ambient.y, n.y * 0.5 + 0.5);
	float key = max(dot(n, fr.light.xyz), 0.0) * fr.light.w;
	return base * (amb + key);
}

// Pulls a clip position toward the eye by `nudge` in depth (0 near .. 1 far).
vec4 gfx_nudge(vec4 p, float nudge)
{
	p.z = max(p.z - nudge * p.w, 0.0);
	return p;
}
