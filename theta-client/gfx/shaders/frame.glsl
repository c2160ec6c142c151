// What every shader of gfx_draw.c shares. Included, not compiled alone.
//
// The push constants (struct gfx_push in gfx_draw_int.h, 128 bytes): the
// model -> clip matrix of this view, three vec4 whose meaning depends on the
// pipeline, and a colour:
//   mesh.vert / lit.frag: nm = the normal matrix's columns (model -> world),
//     nm[0].w the instance's material (its bits); color = the tint (rgb,
//     strength in a), or a marked face's colour;
//   wire, dot, seg, overlay: nm[0] = (depth pull (a fraction of the
//     distance), dot size in pixels,
//     1 / width, 1 / height), nm[1].x = 1: shade (overlay triangles);
//     color = the colour (wire, dot).
layout(push_constant) uniform gfx_push {
	mat4 mvp;
	vec4 nm[3];
	vec4 color;
} pc;

// The material table (one per frame slot): base colours, linear rgba,
// read by lit.frag.
layout(std430, set = 0, binding = 0) readonly buffer gfx_frame {
	vec4 material[256];
} fr;

// 1: the target is UNORM, the shader encodes sRGB (set at pipeline creation).
layout(constant_id = 0) const uint GFX_ENCODE_SRGB = 0u;

vec3 gfx_encode(vec3 c)
{
	if (GFX_ENCODE_SRGB == 0u)
		return c;
	vec3 lo = c * 12.92;
	vec3 hi = 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055;
	return mix(hi, lo, lessThanEqual(c, vec3(0.0031308)));
}

// The one lighting model (docs/rendering.md, "Drawing"; gfx_draw_shade in
// gfx_draw.c is the same on the CPU, and test_gfx_draw compares the two): a
// hemisphere ambient from below to above plus one directional key light
// (above, in front, to the right), Lambert.
const vec3 GFX_KEY_DIR = vec3(0.25, 0.85, 0.46); // normalised below
const float GFX_KEY_STRENGTH = 0.65;
const float GFX_AMBIENT_BELOW = 0.20;
const float GFX_AMBIENT_ABOVE = 0.40;

vec3 gfx_shade(vec3 base, vec3 n)
{
	float amb = mix(GFX_AMBIENT_BELOW, GFX_AMBIENT_ABOVE, n.y * 0.5 + 0.5);
	float key = max(dot(n, normalize(GFX_KEY_DIR)), 0.0) * GFX_KEY_STRENGTH;
	return base * (amb + key);
}

// Pulls a clip position toward the eye by the fraction `pull` of its
// distance, in depth only: with depth d = z / w (0 near .. 1 far, far >>
// near), moving a point to (1 - pull) of its distance gives about
// d - pull * (1 - d), whatever the near plane is. Linear in the clip
// coordinates and unclamped, so lines with an end behind the eye still
// clip right.
vec4 gfx_nudge(vec4 p, float pull)
{
	p.z -= pull * (p.w - p.z);
	return p;
}
