/* The interaction profiles the runtime knows (the OpenXR 1.0 spec's list
 * for the five it offers), binding paths parsed against them, and what the
 * scripted controller state reads as on each component. Pure: no lock, no
 * record. */
#include <stdio.h>
#include <string.h>

#include "xrt.h"
#include "th_schema.h"

#define L (1u << 0)
#define R (1u << 1)
#define LR (L | R)
#define C(x) (1u << XRT_COMP_##x)

static const char *const comp_names[XRT_COMPS] = {
	[XRT_COMP_CLICK] = "click", [XRT_COMP_TOUCH] = "touch", [XRT_COMP_VALUE] = "value",
	[XRT_COMP_FORCE] = "force", [XRT_COMP_X] = "x",         [XRT_COMP_Y] = "y",
	[XRT_COMP_POSE] = "pose",
};
static const char *const comp_lnames[XRT_COMPS] = {
	[XRT_COMP_CLICK] = "Click", [XRT_COMP_TOUCH] = "Touch", [XRT_COMP_VALUE] = "Value",
	[XRT_COMP_FORCE] = "Force", [XRT_COMP_X] = "X",         [XRT_COMP_Y] = "Y",
	[XRT_COMP_POSE] = "Pose",
};

#define POSES {"grip", "Grip", LR, C(POSE), XRT_SRC_POSE, 0, false}, {"aim", "Aim", LR, C(POSE), XRT_SRC_POSE, 0, false}
#define HAPTIC {"haptic", "Haptic", LR, 0, XRT_SRC_NONE, 0, true}

static const struct xrt_ident simple_ids[] = {
	{"select", "Select", LR, C(CLICK), XRT_SRC_SELECT, 0, false},
	{"menu", "Menu", LR, C(CLICK), XRT_SRC_BUTTON, TH_BUTTON_MENU, false},
	POSES,
	HAPTIC,
};

static const struct xrt_ident touch_ids[] = {
	{"x", "X", L, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_X, false},
	{"y", "Y", L, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_Y, false},
	{"menu", "Menu", L, C(CLICK), XRT_SRC_BUTTON, TH_BUTTON_MENU, false},
	{"a", "A", R, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_A, false},
	{"b", "B", R, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_B, false},
	{"system", "System", R, C(CLICK), XRT_SRC_NONE, 0, false},
	{"squeeze", "Squeeze", LR, C(VALUE), XRT_SRC_SQUEEZE, 0, false},
	{"trigger", "Trigger", LR, C(VALUE) | C(TOUCH), XRT_SRC_TRIGGER, 0, false},
	{"thumbstick", "Thumbstick", LR, C(X) | C(Y) | C(CLICK) | C(TOUCH), XRT_SRC_STICK, 0, false},
	{"thumbrest", "Thumbrest", LR, C(TOUCH), XRT_SRC_NONE, 0, false},
	POSES,
	HAPTIC,
};

static const struct xrt_ident index_ids[] = {
	{"system", "System", LR, C(CLICK) | C(TOUCH), XRT_SRC_NONE, 0, false},
	{"a", "A", LR, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_A, false},
	{"b", "B", LR, C(CLICK) | C(TOUCH), XRT_SRC_BUTTON, TH_BUTTON_B, false},
	{"squeeze", "Squeeze", LR, C(VALUE) | C(FORCE), XRT_SRC_SQUEEZE, 0, false},
	{"trigger", "Trigger", LR, C(CLICK) | C(VALUE) | C(TOUCH), XRT_SRC_TRIGGER, 0, false},
	{"thumbstick", "Thumbstick", LR, C(X) | C(Y) | C(CLICK) | C(TOUCH), XRT_SRC_STICK, 0, false},
	{"trackpad", "Trackpad", LR, C(X) | C(Y) | C(FORCE) | C(TOUCH), XRT_SRC_NONE, 0, false},
	POSES,
	HAPTIC,
};

static const struct xrt_ident vive_ids[] = {
	{"system", "System", LR, C(CLICK), XRT_SRC_NONE, 0, false},
	{"squeeze", "Squeeze", LR, C(CLICK), XRT_SRC_SQUEEZE, 0, false},
	{"menu", "Menu", LR, C(CLICK), XRT_SRC_BUTTON, TH_BUTTON_MENU, false},
	{"trigger", "Trigger", LR, C(CLICK) | C(VALUE), XRT_SRC_TRIGGER, 0, false},
	{"trackpad", "Trackpad", LR, C(X) | C(Y) | C(CLICK) | C(TOUCH), XRT_SRC_STICK, 0, false},
	POSES,
	HAPTIC,
};

static const struct xrt_ident wmr_ids[] = {
	{"menu", "Menu", LR, C(CLICK), XRT_SRC_BUTTON, TH_BUTTON_MENU, false},
	{"squeeze", "Squeeze", LR, C(CLICK), XRT_SRC_SQUEEZE, 0, false},
	{"trigger", "Trigger", LR, C(VALUE), XRT_SRC_TRIGGER, 0, false},
	{"thumbstick", "Thumbstick", LR, C(X) | C(Y) | C(CLICK), XRT_SRC_STICK, 0, false},
	{"trackpad", "Trackpad", LR, C(X) | C(Y) | C(CLICK) | C(TOUCH), XRT_SRC_NONE, 0, false},
	POSES,
	HAPTIC,
};

#define PROFILE(path, lname, ids) {path, lname, ids, sizeof ids / sizeof ids[0]}
static const struct xrt_profile profiles[XRT_PROFILES] = {
	PROFILE("/interaction_profiles/khr/simple_controller", "Simple Controller", simple_ids),
	PROFILE("/interaction_profiles/oculus/touch_controller", "Oculus Touch Controller", touch_ids),
	PROFILE("/interaction_profiles/valve/index_controller", "Valve Index Controller", index_ids),
	PROFILE("/interaction_profiles/htc/vive_controller", "HTC Vive Controller", vive_ids),
	PROFILE("/interaction_profiles/microsoft/motion_controller", "Microsoft Mixed Reality Motion Controller",
		wmr_ids),
};

#define PROFILE_PREFIX "/interaction_profiles/"

const struct xrt_profile *xrt_profile(int index)
{
	return index >= 0 && index < (int)XRT_PROFILES ? &profiles[index] : NULL;
}

int xrt_profile_find(const char *name)
{
	if (strcmp(name, "none") == 0)
		return XRT_PROFILE_NONE;
	size_t plen = strlen(PROFILE_PREFIX);
	for (int i = 0; i < (int)XRT_PROFILES; i++) {
		const char *p = profiles[i].path;
		if (strcmp(name, p) == 0 || strcmp(name, p + plen) == 0)
			return i;
	}
	return XRT_PROFILE_UNKNOWN;
}

const char *xrt_comp_name(int comp) { return comp >= 0 && comp < XRT_COMPS ? comp_names[comp] : NULL; }

const char *xrt_hand_name(int hand) { return hand == 0 ? "left" : "right"; }

int xrt_hand_of_path(const char *path)
{
	if (strcmp(path, "/user/hand/left") == 0)
		return 0;
	if (strcmp(path, "/user/hand/right") == 0)
		return 1;
	return -1;
}

bool xrt_top_level_path(const char *path)
{
	return xrt_hand_of_path(path) >= 0 || strcmp(path, "/user/head") == 0 || strcmp(path, "/user/gamepad") == 0;
}

int xrt_binding_parse(int profile, const char *path, struct xrt_binding *b, char *why, size_t whylen)
{
	const struct xrt_profile *pr = xrt_profile(profile);
	static const char *const users[2] = {"/user/hand/left/", "/user/hand/right/"};
	int hand = -1;
	for (int h = 0; h < 2; h++)
		if (strncmp(path, users[h], strlen(users[h])) == 0)
			hand = h;
	if (hand < 0) {
		snprintf(why, whylen, "%.128s is not under /user/hand/left or /user/hand/right, the user paths of %s.",
			 path, pr->path);
		return -1;
	}
	const char *rest = path + strlen(users[hand]);
	bool output = strncmp(rest, "output/", 7) == 0;
	if (!output && strncmp(rest, "input/", 6) != 0) {
		snprintf(why, whylen, "%.128s names neither an input nor an output.", path);
		return -1;
	}
	const char *id = rest + (output ? 7 : 6);
	size_t idlen = strcspn(id, "/");
	const char *comp = id[idlen] == '/' ? id + idlen + 1 : NULL;
	for (uint32_t i = 0; i < pr->nidents; i++) {
		const struct xrt_ident *d = &pr->idents[i];
		if (d->output != output || strlen(d->name) != idlen || strncmp(d->name, id, idlen) != 0)
			continue;
		if (!(d->hands & (1u << hand))) {
			snprintf(why, whylen, "%.128s: %s has %s on the %s hand only.", path, pr->path, d->name,
				 xrt_hand_name(!hand));
			return -1;
		}
		b->hand = (uint8_t)hand;
		b->ident = (uint8_t)i;
		b->comp = -1;
		if (!comp)
			return 0;
		for (int c = 0; c < XRT_COMPS; c++) {
			if ((d->comps & (1u << c)) && strcmp(comp, comp_names[c]) == 0) {
				b->comp = (int8_t)c;
				return 0;
			}
		}
		snprintf(why, whylen, "%.128s: %s's %s has no component '%.32s'.", path, pr->path, d->name, comp);
		return -1;
	}
	snprintf(why, whylen, "%.128s is not a path of %s.", path, pr->path);
	return -1;
}

int xrt_binding_component(int profile, const struct xrt_binding *b, XrActionType type)
{
	const struct xrt_ident *d = &xrt_profile(profile)->idents[b->ident];
	static const int bool_order[] = {XRT_COMP_CLICK, XRT_COMP_VALUE, XRT_COMP_TOUCH, XRT_COMP_FORCE};
	static const int float_order[] = {XRT_COMP_VALUE, XRT_COMP_CLICK, XRT_COMP_FORCE, XRT_COMP_TOUCH};
	const int *order = NULL;
	switch (type) {
	case XR_ACTION_TYPE_BOOLEAN_INPUT: order = bool_order; break;
	case XR_ACTION_TYPE_FLOAT_INPUT: order = float_order; break;
	case XR_ACTION_TYPE_VECTOR2F_INPUT:
		return !d->output && b->comp < 0 && (d->comps & C(X)) && (d->comps & C(Y)) ? XRT_COMP_VECTOR : -1;
	case XR_ACTION_TYPE_POSE_INPUT:
		return !d->output && (d->comps & C(POSE)) && (b->comp < 0 || b->comp == XRT_COMP_POSE) ? XRT_COMP_POSE : -1;
	case XR_ACTION_TYPE_VIBRATION_OUTPUT: return d->output ? XRT_COMP_HAPTIC : -1;
	default: return -1;
	}
	if (d->output || b->comp == XRT_COMP_POSE)
		return -1;
	if (b->comp >= 0)
		return b->comp;
	for (int i = 0; i < 4; i++)
		if (d->comps & (1u << order[i]))
			return order[i];
	return -1;
}

float xrt_component_read(int profile, const struct xrt_binding *b, int comp, const struct xrt_hand_input *in)
{
	const struct xrt_ident *d = &xrt_profile(profile)->idents[b->ident];
	bool trig = in->buttons & TH_BUTTON_TRIGGER, stick_click = in->buttons & TH_BUTTON_THUMBSTICK;
	bool stick_off = in->stick[0] != 0 || in->stick[1] != 0;
	switch (d->src) {
	case XRT_SRC_TRIGGER:
		if (comp == XRT_COMP_VALUE)
			return in->trigger;
		if (comp == XRT_COMP_CLICK)
			return trig;
		if (comp == XRT_COMP_TOUCH)
			return trig || in->trigger > 0;
		return 0;
	case XRT_SRC_SELECT: return comp == XRT_COMP_CLICK && trig;
	case XRT_SRC_SQUEEZE:
		if (comp == XRT_COMP_VALUE || comp == XRT_COMP_FORCE)
			return in->grip;
		return comp == XRT_COMP_CLICK && (in->buttons & TH_BUTTON_GRIP);
	case XRT_SRC_STICK:
		if (comp == XRT_COMP_X)
			return in->stick[0];
		if (comp == XRT_COMP_Y)
			return in->stick[1];
		if (comp == XRT_COMP_CLICK)
			return stick_click;
		if (comp == XRT_COMP_TOUCH)
			return stick_click || stick_off;
		return 0;
	case XRT_SRC_BUTTON: return (comp == XRT_COMP_CLICK || comp == XRT_COMP_TOUCH) && (in->buttons & d->button);
	default: return 0;
	}
}

XrVector2f xrt_component_vector(int profile, const struct xrt_binding *b, const struct xrt_hand_input *in)
{
	const struct xrt_ident *d = &xrt_profile(profile)->idents[b->ident];
	if (d->src != XRT_SRC_STICK)
		return (XrVector2f){0, 0};
	return (XrVector2f){in->stick[0], in->stick[1]};
}

int xrt_binding_path(int profile, const struct xrt_binding *b, int comp, char *out, size_t len)
{
	const struct xrt_ident *d = &xrt_profile(profile)->idents[b->ident];
	const char *c = comp >= 0 && comp < XRT_COMPS ? comp_names[comp] : NULL;
	int n = snprintf(out, len, "/user/hand/%s/%s/%s%s%s", xrt_hand_name(b->hand), d->output ? "output" : "input",
			 d->name, c ? "/" : "", c ? c : "");
	return n > 0 && (size_t)n < len ? 0 : -1;
}

int xrt_source_name(int profile, const char *path, XrInputSourceLocalizedNameFlags which, char *out, size_t len)
{
	struct xrt_binding b;
	char why[XRT_WHY_MAX];
	if (xrt_binding_parse(profile, path, &b, why, sizeof why))
		return -1;
	const struct xrt_profile *pr = xrt_profile(profile);
	const struct xrt_ident *d = &pr->idents[b.ident];
	out[0] = '\0';
	size_t n = 0;
	if (which & XR_INPUT_SOURCE_LOCALIZED_NAME_USER_PATH_BIT)
		n += (size_t)snprintf(out + n, len - n, "%s", b.hand ? "Right Hand" : "Left Hand");
	if ((which & XR_INPUT_SOURCE_LOCALIZED_NAME_INTERACTION_PROFILE_BIT) && n < len)
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", pr->lname);
	if ((which & XR_INPUT_SOURCE_LOCALIZED_NAME_COMPONENT_BIT) && n < len)
		n += (size_t)snprintf(out + n, len - n, "%s%s%s%s", n ? " " : "", d->lname, b.comp >= 0 ? " " : "",
				      b.comp >= 0 ? comp_lnames[b.comp] : "");
	return n < len ? 0 : -1;
}
