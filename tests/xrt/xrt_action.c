/* Action sets, actions, suggested bindings (checked against the profile's
 * paths), attach and the current interaction profile, xrSyncActions and
 * the action states, action spaces, haptics, bound sources. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

#define XRT_SLOT_BOTH 2u

static struct xrt_action_set *xrt_action_set_get(XrActionSet set)
{
	return (struct xrt_action_set *)xrt_handle_get((uint64_t)(uintptr_t)set, XRT_KIND_ACTION_SET);
}

struct xrt_action *xrt_action_get(XrAction action)
{
	return (struct xrt_action *)xrt_handle_get((uint64_t)(uintptr_t)action, XRT_KIND_ACTION);
}

XrPath xrt_path_intern(struct xrt_instance *inst, const char *str)
{
	for (uint32_t i = 0; i < inst->npaths; i++)
		if (strcmp(inst->paths[i], str) == 0)
			return i + 1;
	if (inst->npaths == XRT_PATHS_MAX || strlen(str) >= XR_MAX_PATH_LENGTH)
		return XR_NULL_PATH;
	snprintf(inst->paths[inst->npaths], XR_MAX_PATH_LENGTH, "%s", str);
	return ++inst->npaths;
}

const char *xrt_path_string(const struct xrt_instance *inst, XrPath p)
{
	return p != XR_NULL_PATH && p <= inst->npaths ? inst->paths[p - 1] : NULL;
}

/* Action and action set names: [a-z0-9-_.], not empty, terminated. */
static bool name_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == 0 || n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' ||
		      s[i] == '.'))
			return false;
	return true;
}

static const char *type_name(XrActionType t)
{
	switch (t) {
	case XR_ACTION_TYPE_BOOLEAN_INPUT: return "BOOLEAN_INPUT";
	case XR_ACTION_TYPE_FLOAT_INPUT: return "FLOAT_INPUT";
	case XR_ACTION_TYPE_VECTOR2F_INPUT: return "VECTOR2F_INPUT";
	case XR_ACTION_TYPE_POSE_INPUT: return "POSE_INPUT";
	case XR_ACTION_TYPE_VIBRATION_OUTPUT: return "VIBRATION_OUTPUT";
	default: return NULL;
	}
}

XrResult xrt_CreateActionSet(XrInstance instance, const XrActionSetCreateInfo *ci, XrActionSet *out)
{
	XRT_ENTER_INSTANCE("xrCreateActionSet");
	if (!ci || ci->type != XR_TYPE_ACTION_SET_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_ACTION_SET_CREATE_INFO, or actionSet is NULL."));
	if (!name_ok(ci->actionSetName, sizeof ci->actionSetName))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_FORMAT_INVALID,
				    "actionSetName '%.64s' is empty or has characters other than a-z 0-9 - _ .",
				    ci->actionSetName));
	size_t ln = strnlen(ci->localizedActionSetName, sizeof ci->localizedActionSetName);
	if (ln == 0 || ln == sizeof ci->localizedActionSetName)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LOCALIZED_NAME_INVALID,
				    "localizedActionSetName is empty or not terminated."));
	int free_slot = -1;
	for (uint32_t i = 0; i < XRT_ACTION_SETS_MAX; i++) {
		struct xrt_action_set *o = inst->sets[i];
		if (!o) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (strcmp(o->name, ci->actionSetName) == 0)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_NAME_DUPLICATED,
					    "an action set named '%s' exists.", o->name));
		if (strcmp(o->lname, ci->localizedActionSetName) == 0)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LOCALIZED_NAME_DUPLICATED,
					    "an action set localized '%.64s' exists.", o->lname));
	}
	if (free_slot < 0)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u action sets.",
				    XRT_ACTION_SETS_MAX));
	struct xrt_action_set *set = calloc(1, sizeof *set);
	if (!set)
		XRT_RETURN(XR_ERROR_OUT_OF_MEMORY);
	if (xrt_handle_add(&set->base, XRT_KIND_ACTION_SET, &inst->base)) {
		free(set);
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u handles.", XRT_HANDLES_MAX));
	}
	set->inst = inst;
	snprintf(set->name, sizeof set->name, "%s", ci->actionSetName);
	snprintf(set->lname, sizeof set->lname, "%s", ci->localizedActionSetName);
	set->priority = ci->priority;
	inst->sets[free_slot] = set;
	xrt_record(inst, "action_set name=%s priority=%u", set->name, set->priority);
	*out = (XrActionSet)(uintptr_t)set->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

static void action_free(struct xrt_action *a)
{
	struct xrt_instance *inst = a->set->inst;
	for (uint32_t i = 0; i < XRT_ACTIONS_MAX; i++)
		if (inst->actions[i] == a)
			inst->actions[i] = NULL;
	xrt_handle_remove(&a->base);
	free(a);
}

static void set_free(struct xrt_action_set *set)
{
	struct xrt_instance *inst = set->inst;
	for (uint32_t i = 0; i < XRT_ACTIONS_MAX; i++)
		if (inst->actions[i] && inst->actions[i]->set == set)
			action_free(inst->actions[i]);
	for (uint32_t i = 0; i < XRT_ACTION_SETS_MAX; i++)
		if (inst->sets[i] == set)
			inst->sets[i] = NULL;
	xrt_handle_remove(&set->base);
	free(set);
}

void xrt_actions_free(struct xrt_instance *inst)
{
	for (uint32_t i = 0; i < XRT_ACTION_SETS_MAX; i++)
		if (inst->sets[i])
			set_free(inst->sets[i]);
	for (uint32_t p = 0; p < XRT_PROFILES; p++) {
		free(inst->bindings[p]);
		inst->bindings[p] = NULL;
		inst->nbindings[p] = 0;
	}
}

XrResult xrt_DestroyActionSet(XrActionSet handle)
{
	XRT_ENTER_HANDLE(struct xrt_action_set, set, xrt_action_set_get, handle)
	set_free(set);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_CreateAction(XrActionSet handle, const XrActionCreateInfo *ci, XrAction *out)
{
	XRT_ENTER_HANDLE(struct xrt_action_set, set, xrt_action_set_get, handle)
	struct xrt_instance *inst = set->inst;
	static const char fn_name[] = "xrCreateAction";
	if (!ci || ci->type != XR_TYPE_ACTION_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_ACTION_CREATE_INFO, or action is NULL."));
	if (set->ever_attached)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_ACTIONSETS_ALREADY_ATTACHED,
				    "action set '%s' is attached: no more actions.", set->name));
	if (!name_ok(ci->actionName, sizeof ci->actionName))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_FORMAT_INVALID,
				    "actionName '%.64s' is empty or has characters other than a-z 0-9 - _ .", ci->actionName));
	size_t ln = strnlen(ci->localizedActionName, sizeof ci->localizedActionName);
	if (ln == 0 || ln == sizeof ci->localizedActionName)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LOCALIZED_NAME_INVALID,
				    "localizedActionName is empty or not terminated."));
	if (!type_name(ci->actionType))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "actionType %d is not an action type.",
				    (int)ci->actionType));
	if (ci->countSubactionPaths > XRT_SUBACTIONS_MAX || (ci->countSubactionPaths && !ci->subactionPaths))
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				    "%u subaction paths (at most %u, and not a NULL array).", ci->countSubactionPaths,
				    XRT_SUBACTIONS_MAX));
	for (uint32_t i = 0; i < ci->countSubactionPaths; i++) {
		const char *p = xrt_path_string(inst, ci->subactionPaths[i]);
		if (!p)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_INVALID,
					    "subactionPaths[%u] was not made by xrStringToPath.", i));
		if (!xrt_top_level_path(p))
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
					    "subactionPaths[%u] %.128s is not a top-level user path (/user/hand/left, "
					    "/user/hand/right, /user/head, /user/gamepad).",
					    i, p));
		for (uint32_t k = 0; k < i; k++)
			if (ci->subactionPaths[k] == ci->subactionPaths[i])
				XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
						    "subaction path %.128s is given twice.", p));
	}
	int free_slot = -1;
	for (uint32_t i = 0; i < XRT_ACTIONS_MAX; i++) {
		struct xrt_action *o = inst->actions[i];
		if (!o) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		if (o->set != set)
			continue;
		if (strcmp(o->name, ci->actionName) == 0)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_NAME_DUPLICATED,
					    "action set '%s' has an action named '%s'.", set->name, o->name));
		if (strcmp(o->lname, ci->localizedActionName) == 0)
			XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LOCALIZED_NAME_DUPLICATED,
					    "action set '%s' has an action localized '%.64s'.", set->name, o->lname));
	}
	if (free_slot < 0)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u actions.", XRT_ACTIONS_MAX));
	struct xrt_action *a = calloc(1, sizeof *a);
	if (!a)
		XRT_RETURN(XR_ERROR_OUT_OF_MEMORY);
	if (xrt_handle_add(&a->base, XRT_KIND_ACTION, &set->base)) {
		free(a);
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "more than %u handles.", XRT_HANDLES_MAX));
	}
	a->set = set;
	snprintf(a->name, sizeof a->name, "%s", ci->actionName);
	snprintf(a->lname, sizeof a->lname, "%s", ci->localizedActionName);
	a->type = ci->actionType;
	a->nsub = ci->countSubactionPaths;
	for (uint32_t i = 0; i < a->nsub; i++)
		a->sub[i] = ci->subactionPaths[i];
	inst->actions[free_slot] = a;
	xrt_record(inst, "action set=%s name=%s type=%s subactions=%u", set->name, a->name, type_name(a->type), a->nsub);
	*out = (XrAction)(uintptr_t)a->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_DestroyAction(XrAction handle)
{
	XRT_ENTER_HANDLE(struct xrt_action, a, xrt_action_get, handle)
	action_free(a);
	XRT_RETURN(XR_SUCCESS);
}

/* Whether the action has subaction path p (or no subaction paths at all). */
static bool action_has_user(const struct xrt_action *a, const struct xrt_instance *inst, const char *user)
{
	if (a->nsub == 0)
		return true;
	for (uint32_t i = 0; i < a->nsub; i++) {
		const char *p = xrt_path_string(inst, a->sub[i]);
		if (p && strcmp(p, user) == 0)
			return true;
	}
	return false;
}

XrResult xrt_SuggestInteractionProfileBindings(XrInstance instance, const XrInteractionProfileSuggestedBinding *sb)
{
	XRT_ENTER_INSTANCE("xrSuggestInteractionProfileBindings");
	if (!sb || sb->type != XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "suggestedBindings is NULL or not XR_TYPE_INTERACTION_PROFILE_SUGGESTED_BINDING."));
	if (inst->any_attached)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_ACTIONSETS_ALREADY_ATTACHED,
				    "action sets are attached already: bindings are fixed."));
	const char *pp = xrt_path_string(inst, sb->interactionProfile);
	if (!pp)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_INVALID,
				    "interactionProfile %llu was not made by xrStringToPath.",
				    (unsigned long long)sb->interactionProfile));
	int prof = strncmp(pp, "/interaction_profiles/", 22) == 0 ? xrt_profile_find(pp) : XRT_PROFILE_UNKNOWN;
	if (prof < 0)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				    "interactionProfile %.128s is not one this runtime offers.", pp));
	if (prof == inst->cfg.reject_profile)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				    "interactionProfile %.128s is refused (XRT_REJECT_PROFILE).", pp));
	if (sb->countSuggestedBindings == 0 || !sb->suggestedBindings)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_VALIDATION_FAILURE, "no suggested bindings."));
	if (sb->countSuggestedBindings > XRT_BINDINGS_MAX)
		XRT_RETURN(xrt_fail(inst, NULL, fn_name, XR_ERROR_LIMIT_REACHED, "%u bindings: at most %u per profile.",
				    sb->countSuggestedBindings, XRT_BINDINGS_MAX));
	struct xrt_binding *bs = calloc(sb->countSuggestedBindings, sizeof *bs);
	if (!bs)
		XRT_RETURN(XR_ERROR_OUT_OF_MEMORY);
	for (uint32_t i = 0; i < sb->countSuggestedBindings; i++) {
		const XrActionSuggestedBinding *s = &sb->suggestedBindings[i];
		struct xrt_action *a = xrt_action_get(s->action);
		XrResult r = XR_SUCCESS;
		char why[XRT_WHY_MAX];
		const char *bp = xrt_path_string(inst, s->binding);
		if (!a || a->set->inst != inst)
			r = xrt_fail(inst, NULL, fn_name, XR_ERROR_HANDLE_INVALID, "binding %u: the action is not a live one of this instance.", i);
		else if (!bp)
			r = xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_INVALID, "binding %u: path %llu was not made by xrStringToPath.",
				     i, (unsigned long long)s->binding);
		else if (xrt_binding_parse(prof, bp, &bs[i], why, sizeof why))
			r = xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED, "binding %u: %s", i, why);
		else if (!action_has_user(a, inst, bs[i].hand ? "/user/hand/right" : "/user/hand/left"))
			r = xrt_fail(inst, NULL, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				     "binding %u: %.128s: action '%s' has no subaction path /user/hand/%s.", i, bp, a->name,
				     xrt_hand_name(bs[i].hand));
		if (r != XR_SUCCESS) {
			free(bs);
			XRT_RETURN(r);
		}
		bs[i].action = a->base.handle;
	}
	free(inst->bindings[prof]);
	inst->bindings[prof] = bs;
	inst->nbindings[prof] = sb->countSuggestedBindings;
	xrt_record(inst, "bindings profile=%s count=%u", xrt_profile(prof)->path, sb->countSuggestedBindings);
	XRT_RETURN(XR_SUCCESS);
}

static XrPath profile_path(struct xrt_instance *inst, int prof)
{
	return prof >= 0 ? xrt_path_intern(inst, xrt_profile(prof)->path) : XR_NULL_PATH;
}

void xrt_profile_update(struct xrt_session *s)
{
	struct xrt_instance *inst = s->inst;
	if (!s->attached)
		return;
	int p = s->hw_profile >= 0 && inst->nbindings[s->hw_profile] ? s->hw_profile : XRT_PROFILE_NONE;
	if (p == s->profile)
		return;
	s->profile = p;
	for (uint32_t h = 0; h < XRT_HANDS; h++)
		xrt_record(inst, "profile id=%u hand=%s path=%s", s->id, xrt_hand_name((int)h),
			   p >= 0 ? xrt_profile(p)->path : "none");
	xrt_queue_profile_changed(s);
}

XrResult xrt_AttachSessionActionSets(XrSession session, const XrSessionActionSetsAttachInfo *info)
{
	XRT_ENTER_SESSION("xrAttachSessionActionSets");
	if (!info || info->type != XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO || !info->countActionSets ||
	    !info->actionSets)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "attachInfo is NULL, not XR_TYPE_SESSION_ACTION_SETS_ATTACH_INFO, or has no action sets."));
	if (s->attached)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_ACTIONSETS_ALREADY_ATTACHED,
				    "the session has its action sets attached already."));
	for (uint32_t i = 0; i < info->countActionSets; i++) {
		struct xrt_action_set *set = xrt_action_set_get(info->actionSets[i]);
		if (!set || set->inst != inst)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_HANDLE_INVALID,
					    "actionSets[%u] is not a live action set of this instance.", i));
	}
	for (uint32_t i = 0; i < info->countActionSets; i++) {
		struct xrt_action_set *set = xrt_action_set_get(info->actionSets[i]);
		set->ever_attached = true;
		set->attached_to = s->base.handle;
	}
	for (uint32_t i = 0; i < XRT_ACTIONS_MAX; i++)
		if (inst->actions[i])
			memset(inst->actions[i]->st, 0, sizeof inst->actions[i]->st);
	inst->any_attached = true;
	s->attached = true;
	s->profile = XRT_PROFILE_NONE;
	xrt_record(inst, "attach id=%u sets=%u", s->id, info->countActionSets);
	xrt_profile_update(s);
	if (s->profile == XRT_PROFILE_NONE)
		for (uint32_t h = 0; h < XRT_HANDS; h++)
			xrt_record(inst, "profile id=%u hand=%s path=none", s->id, xrt_hand_name((int)h));
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetCurrentInteractionProfile(XrSession session, XrPath user, XrInteractionProfileState *st)
{
	XRT_ENTER_SESSION("xrGetCurrentInteractionProfile");
	if (!st || st->type != XR_TYPE_INTERACTION_PROFILE_STATE)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "interactionProfile is NULL or not XR_TYPE_INTERACTION_PROFILE_STATE."));
	const char *u = xrt_path_string(inst, user);
	if (!u)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_INVALID,
				    "topLevelUserPath %llu was not made by xrStringToPath.", (unsigned long long)user));
	if (xrt_hand_of_path(u) < 0)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				    "%.128s: this runtime has /user/hand/left and /user/hand/right.", u));
	if (!s->attached)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_ACTIONSET_NOT_ATTACHED,
				    "no action sets are attached to the session yet."));
	st->interactionProfile = profile_path(inst, s->profile);
	if (s->profile >= 0 && xrt_garbage_kind(s) >= 0)
		st->interactionProfile = xrt_path_intern(inst, XRT_GARBAGE_PROFILE);
	XRT_RETURN(XR_SUCCESS);
}

/* The value of action a on hand h under the current profile: false when
 * nothing is bound there. */
static bool action_value(const struct xrt_session *s, const struct xrt_action *a, uint32_t h,
			 const struct xrt_hand_input *in, struct xrt_action_state *out)
{
	const struct xrt_instance *inst = s->inst;
	bool bound = false;
	memset(out, 0, sizeof *out);
	if (s->profile < 0)
		return false;
	for (uint32_t i = 0; i < inst->nbindings[s->profile]; i++) {
		const struct xrt_binding *b = &inst->bindings[s->profile][i];
		if (b->action != a->base.handle || b->hand != h)
			continue;
		int comp = xrt_binding_component(s->profile, b, a->type);
		if (comp < 0)
			continue;
		bound = true;
		if (a->type == XR_ACTION_TYPE_VECTOR2F_INPUT) {
			XrVector2f v = xrt_component_vector(s->profile, b, in);
			if (v.x * v.x + v.y * v.y > out->v.x * out->v.x + out->v.y * out->v.y)
				out->v = v;
		} else if (a->type == XR_ACTION_TYPE_FLOAT_INPUT || a->type == XR_ACTION_TYPE_BOOLEAN_INPUT) {
			float f = xrt_component_read(s->profile, b, comp, in);
			if (fabsf(f) > fabsf(out->f))
				out->f = f;
			if (comp == XRT_COMP_CLICK || comp == XRT_COMP_TOUCH ? f != 0 : f >= XRT_CLICK_THRESHOLD)
				out->b = true;
		}
	}
	out->active = bound;
	return bound;
}

static void state_update(struct xrt_action_state *st, const struct xrt_action_state *now, XrActionType type,
			 XrTime t)
{
	if (!now->active) {
		memset(st, 0, sizeof *st);
		return;
	}
	bool changed = false;
	if (st->active) {
		if (type == XR_ACTION_TYPE_BOOLEAN_INPUT)
			changed = st->b != now->b;
		else if (type == XR_ACTION_TYPE_FLOAT_INPUT)
			changed = st->f != now->f;
		else if (type == XR_ACTION_TYPE_VECTOR2F_INPUT)
			changed = st->v.x != now->v.x || st->v.y != now->v.y;
	}
	XrTime last = st->active && !changed ? st->last_change : t;
	*st = *now;
	st->changed = changed;
	st->last_change = last;
}

XrResult xrt_SyncActions(XrSession session, const XrActionsSyncInfo *info)
{
	XRT_ENTER_SESSION("xrSyncActions");
	if (!info || info->type != XR_TYPE_ACTIONS_SYNC_INFO || (info->countActiveActionSets && !info->activeActionSets))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "syncInfo is NULL, not XR_TYPE_ACTIONS_SYNC_INFO, or its activeActionSets is NULL."));
	/* hands[k]: the hands set k is active for (bit 0 left, bit 1 right). */
	uint32_t hands[XRT_ACTION_SETS_MAX] = {0};
	for (uint32_t i = 0; i < info->countActiveActionSets; i++) {
		const XrActiveActionSet *as = &info->activeActionSets[i];
		struct xrt_action_set *set = xrt_action_set_get(as->actionSet);
		if (!set || set->inst != inst)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_HANDLE_INVALID,
					    "activeActionSets[%u] is not a live action set of this instance.", i));
		if (set->attached_to != s->base.handle)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_ACTIONSET_NOT_ATTACHED,
					    "action set '%s' is not attached to this session.", set->name));
		uint32_t mask = 3u;
		if (as->subactionPath != XR_NULL_PATH) {
			const char *p = xrt_path_string(inst, as->subactionPath);
			if (!p)
				XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_INVALID,
						    "activeActionSets[%u].subactionPath was not made by xrStringToPath.", i));
			if (!xrt_top_level_path(p))
				XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_UNSUPPORTED,
						    "activeActionSets[%u].subactionPath %.128s is not a top-level user path.", i, p));
			int h = xrt_hand_of_path(p);
			mask = h < 0 ? 0 : 1u << h;
		}
		for (uint32_t k = 0; k < XRT_ACTION_SETS_MAX; k++)
			if (inst->sets[k] == set)
				hands[k] |= mask;
	}
	if (s->loss_pending)
		XRT_RETURN(XR_SESSION_LOSS_PENDING);
	if (xrt_input_failing(s))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_RUNTIME_FAILURE, "XRT_FAIL_INPUT (a broken runtime)."));
	bool focused = s->state == XR_SESSION_STATE_FOCUSED;
	XrTime t = s->pacer.last_display_ns;
	struct xrt_hand_input in[XRT_HANDS];
	xrt_input_sample(s, t, in);
	if (t <= 0)
		t = xrt_now_ns();
	for (uint32_t i = 0; i < XRT_ACTIONS_MAX; i++) {
		struct xrt_action *a = inst->actions[i];
		if (!a || a->set->attached_to != s->base.handle)
			continue;
		uint32_t mask = 0;
		for (uint32_t k = 0; k < XRT_ACTION_SETS_MAX; k++)
			if (inst->sets[k] == a->set)
				mask = hands[k];
		struct xrt_action_state now[XRT_SLOTS];
		memset(now, 0, sizeof now);
		for (uint32_t h = 0; h < XRT_HANDS; h++) {
			if (!focused || !(mask & (1u << h)) || !action_has_user(a, inst, h ? "/user/hand/right" : "/user/hand/left"))
				continue;
			if (!action_value(s, a, h, &in[h], &now[h]))
				continue;
			struct xrt_action_state *both = &now[XRT_SLOT_BOTH];
			both->active = true;
			both->b |= now[h].b;
			if (fabsf(now[h].f) > fabsf(both->f))
				both->f = now[h].f;
			if (now[h].v.x * now[h].v.x + now[h].v.y * now[h].v.y >
			    both->v.x * both->v.x + both->v.y * both->v.y)
				both->v = now[h].v;
		}
		for (uint32_t k = 0; k < XRT_SLOTS; k++) {
			xrt_garbage_state(xrt_garbage_kind(s), a->type, &now[k]);
			state_update(&a->st[k], &now[k], a->type, t);
		}
	}
	s->syncs++;
	s->sync_focused = focused;
	if (!focused)
		XRT_RETURN(XR_SESSION_NOT_FOCUSED);
	s->focused_syncs++;
	XRT_RETURN(XR_SUCCESS);
}

/* The live action of s's instance behind handle, of the given type (any
 * for XR_ACTION_TYPE_MAX_ENUM; and, when attached, with its set attached
 * to s): XR_SUCCESS, or the error
 * (said for fn). */
static XrResult session_action(struct xrt_session *s, const char *fn, XrAction handle, XrActionType type, bool attached,
			       struct xrt_action **out)
{
	struct xrt_instance *inst = s->inst;
	struct xrt_action *a = xrt_action_get(handle);
	if (!a || a->set->inst != inst)
		return xrt_fail(inst, s, fn, XR_ERROR_HANDLE_INVALID, "the action is not a live one of this instance.");
	if (type != XR_ACTION_TYPE_MAX_ENUM && a->type != type)
		return xrt_fail(inst, s, fn, XR_ERROR_ACTION_TYPE_MISMATCH, "action '%s' is %s, not %s.", a->name,
				type_name(a->type), type_name(type));
	if (attached && a->set->attached_to != s->base.handle)
		return xrt_fail(inst, s, fn, XR_ERROR_ACTIONSET_NOT_ATTACHED,
				"action '%s''s set '%s' is not attached to this session.", a->name, a->set->name);
	*out = a;
	return XR_SUCCESS;
}

/* The hand of a's subaction path path (not XR_NULL_PATH) into *hand, -1
 * for another user path: XR_SUCCESS, or the error (said for fn) when path
 * was not made by xrStringToPath or a was not created with it. */
static XrResult subaction_hand(struct xrt_session *s, const char *fn, const struct xrt_action *a, XrPath path, int *hand)
{
	struct xrt_instance *inst = s->inst;
	const char *p = xrt_path_string(inst, path);
	if (!p)
		return xrt_fail(inst, s, fn, XR_ERROR_PATH_INVALID, "subactionPath was not made by xrStringToPath.");
	bool has = false;
	for (uint32_t i = 0; i < a->nsub; i++)
		has |= a->sub[i] == path;
	if (!has)
		return xrt_fail(inst, s, fn, XR_ERROR_PATH_UNSUPPORTED, "action '%s' was not created with subaction path %.128s.",
				a->name, p);
	*hand = xrt_hand_of_path(p);
	return XR_SUCCESS;
}

static const struct xrt_action_state rest_state;

/* The state of the action a get-info asks for, of its subaction path's
 * hand (both hands without one; at rest for another user path, never
 * bound): XR_SUCCESS, or the error. */
static XrResult get_state(struct xrt_session *s, const char *fn, const XrActionStateGetInfo *gi, XrActionType type,
			  const void *out, XrStructureType out_type, const struct xrt_action_state **v)
{
	if (!gi || gi->type != XR_TYPE_ACTION_STATE_GET_INFO || !out || ((const XrBaseOutStructure *)out)->type != out_type)
		return xrt_fail(s->inst, s, fn, XR_ERROR_VALIDATION_FAILURE,
				"getInfo is NULL or not XR_TYPE_ACTION_STATE_GET_INFO, or the state is NULL or of the wrong type.");
	struct xrt_action *a;
	XrResult r = session_action(s, fn, gi->action, type, true, &a);
	if (r != XR_SUCCESS)
		return r;
	int slot = XRT_SLOT_BOTH;
	if (gi->subactionPath != XR_NULL_PATH && (r = subaction_hand(s, fn, a, gi->subactionPath, &slot)) != XR_SUCCESS)
		return r;
	*v = slot < 0 ? &rest_state : &a->st[slot];
	return XR_SUCCESS;
}

XrResult xrt_GetActionStateBoolean(XrSession session, const XrActionStateGetInfo *gi, XrActionStateBoolean *st)
{
	XRT_ENTER_SESSION("xrGetActionStateBoolean");
	const struct xrt_action_state *v;
	XrResult r = get_state(s, fn_name, gi, XR_ACTION_TYPE_BOOLEAN_INPUT, st, XR_TYPE_ACTION_STATE_BOOLEAN, &v);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	st->currentState = v->b;
	st->changedSinceLastSync = v->changed;
	st->lastChangeTime = v->last_change;
	st->isActive = v->active;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetActionStateFloat(XrSession session, const XrActionStateGetInfo *gi, XrActionStateFloat *st)
{
	XRT_ENTER_SESSION("xrGetActionStateFloat");
	const struct xrt_action_state *v;
	XrResult r = get_state(s, fn_name, gi, XR_ACTION_TYPE_FLOAT_INPUT, st, XR_TYPE_ACTION_STATE_FLOAT, &v);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	st->currentState = v->f;
	st->changedSinceLastSync = v->changed;
	st->lastChangeTime = v->last_change;
	st->isActive = v->active;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetActionStateVector2f(XrSession session, const XrActionStateGetInfo *gi, XrActionStateVector2f *st)
{
	XRT_ENTER_SESSION("xrGetActionStateVector2f");
	const struct xrt_action_state *v;
	XrResult r = get_state(s, fn_name, gi, XR_ACTION_TYPE_VECTOR2F_INPUT, st, XR_TYPE_ACTION_STATE_VECTOR2F, &v);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	st->currentState = v->v;
	st->changedSinceLastSync = v->changed;
	st->lastChangeTime = v->last_change;
	st->isActive = v->active;
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetActionStatePose(XrSession session, const XrActionStateGetInfo *gi, XrActionStatePose *st)
{
	XRT_ENTER_SESSION("xrGetActionStatePose");
	const struct xrt_action_state *v;
	XrResult r = get_state(s, fn_name, gi, XR_ACTION_TYPE_POSE_INPUT, st, XR_TYPE_ACTION_STATE_POSE, &v);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	st->isActive = v->active;
	XRT_RETURN(XR_SUCCESS);
}

/* The haptic outputs info names, as a mask of hands: XR_SUCCESS or the error. */
static XrResult haptic_hands(struct xrt_session *s, const char *fn, const XrHapticActionInfo *info, uint32_t *mask)
{
	struct xrt_instance *inst = s->inst;
	if (!info || info->type != XR_TYPE_HAPTIC_ACTION_INFO)
		return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE, "hapticActionInfo is NULL or not XR_TYPE_HAPTIC_ACTION_INFO.");
	struct xrt_action *a;
	XrResult r = session_action(s, fn, info->action, XR_ACTION_TYPE_VIBRATION_OUTPUT, true, &a);
	if (r != XR_SUCCESS)
		return r;
	uint32_t want = 3u;
	if (info->subactionPath != XR_NULL_PATH) {
		int h;
		if ((r = subaction_hand(s, fn, a, info->subactionPath, &h)) != XR_SUCCESS)
			return r;
		want = h < 0 ? 0 : 1u << h;
	}
	*mask = 0;
	struct xrt_action_state tmp;
	struct xrt_hand_input none = {0};
	for (uint32_t h = 0; h < XRT_HANDS; h++)
		if ((want & (1u << h)) && action_has_user(a, inst, h ? "/user/hand/right" : "/user/hand/left") &&
		    action_value(s, a, h, &none, &tmp))
			*mask |= 1u << h;
	return XR_SUCCESS;
}

static unsigned long long frame_now(const struct xrt_session *s)
{
	return s->waited ? (unsigned long long)(s->ended + 1) : 0;
}

XrResult xrt_ApplyHapticFeedback(XrSession session, const XrHapticActionInfo *info, const XrHapticBaseHeader *hh)
{
	XRT_ENTER_SESSION("xrApplyHapticFeedback");
	uint32_t mask;
	XrResult r = haptic_hands(s, fn_name, info, &mask);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (!hh || hh->type != XR_TYPE_HAPTIC_VIBRATION)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "hapticFeedback is NULL or not XR_TYPE_HAPTIC_VIBRATION."));
	const XrHapticVibration *v = (const XrHapticVibration *)hh;
	if (!(v->amplitude >= 0.0f && v->amplitude <= 1.0f))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE, "amplitude %g is outside [0, 1].",
				    (double)v->amplitude));
	if (v->duration <= 0 && v->duration != XR_MIN_HAPTIC_DURATION)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "duration %lld is neither XR_MIN_HAPTIC_DURATION nor positive.", (long long)v->duration));
	if (!(v->frequency >= 0.0f) || !isfinite(v->frequency))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "frequency %g is neither XR_FREQUENCY_UNSPECIFIED nor positive.", (double)v->frequency));
	if (s->state != XR_SESSION_STATE_FOCUSED)
		XRT_RETURN(XR_SESSION_NOT_FOCUSED);
	for (uint32_t h = 0; h < XRT_HANDS; h++)
		if (mask & (1u << h))
			xrt_record(inst, "haptic id=%u hand=%s amplitude=%.3f duration_ns=%lld frequency=%g frame=%llu", s->id,
				   xrt_hand_name((int)h), (double)v->amplitude, (long long)v->duration,
				   (double)v->frequency, frame_now(s));
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_StopHapticFeedback(XrSession session, const XrHapticActionInfo *info)
{
	XRT_ENTER_SESSION("xrStopHapticFeedback");
	uint32_t mask;
	XrResult r = haptic_hands(s, fn_name, info, &mask);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	if (s->state != XR_SESSION_STATE_FOCUSED)
		XRT_RETURN(XR_SESSION_NOT_FOCUSED);
	for (uint32_t h = 0; h < XRT_HANDS; h++)
		if (mask & (1u << h))
			xrt_record(inst, "haptic_stop id=%u hand=%s frame=%llu", s->id, xrt_hand_name((int)h), frame_now(s));
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_EnumerateBoundSourcesForAction(XrSession session, const XrBoundSourcesForActionEnumerateInfo *info,
					    uint32_t cap, uint32_t *count, XrPath *sources)
{
	XRT_ENTER_SESSION("xrEnumerateBoundSourcesForAction");
	if (!info || info->type != XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "enumerateInfo is NULL or not XR_TYPE_BOUND_SOURCES_FOR_ACTION_ENUMERATE_INFO."));
	struct xrt_action *a;
	XrResult r = session_action(s, fn_name, info->action, XR_ACTION_TYPE_MAX_ENUM, true, &a);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	XrPath found[XRT_BINDINGS_MAX];
	uint32_t n = 0;
	for (uint32_t i = 0; s->profile >= 0 && i < inst->nbindings[s->profile]; i++) {
		const struct xrt_binding *b = &inst->bindings[s->profile][i];
		int comp = b->action == a->base.handle ? xrt_binding_component(s->profile, b, a->type) : -1;
		if (comp < 0)
			continue;
		char path[XR_MAX_PATH_LENGTH];
		if (xrt_binding_path(s->profile, b, comp, path, sizeof path))
			continue;
		XrPath p = xrt_path_intern(inst, path);
		if (p == XR_NULL_PATH)
			XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_COUNT_EXCEEDED, "more than %u paths.", XRT_PATHS_MAX));
		bool dup = false;
		for (uint32_t k = 0; k < n; k++)
			dup |= found[k] == p;
		if (!dup)
			found[n++] = p;
	}
	r = xrt_two_call(inst, s, fn_name, cap, count, sources, n, "sourceCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	memcpy(sources, found, n * sizeof found[0]);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_GetInputSourceLocalizedName(XrSession session, const XrInputSourceLocalizedNameGetInfo *info,
					 uint32_t cap, uint32_t *count, char *buf)
{
	XRT_ENTER_SESSION("xrGetInputSourceLocalizedName");
	if (!info || info->type != XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO || !info->whichComponents)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "getInfo is NULL, not XR_TYPE_INPUT_SOURCE_LOCALIZED_NAME_GET_INFO, or asks for no parts."));
	const char *p = xrt_path_string(inst, info->sourcePath);
	if (!p)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_INVALID, "sourcePath was not made by xrStringToPath."));
	if (!s->attached)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_ACTIONSET_NOT_ATTACHED,
				    "no action sets are attached to the session yet."));
	char name[XR_MAX_PATH_LENGTH + 128];
	if (s->profile < 0 || xrt_source_name(s->profile, p, info->whichComponents, name, sizeof name))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_PATH_UNSUPPORTED,
				    "%.128s is not a source of the current interaction profile.", p));
	uint32_t need = (uint32_t)strlen(name) + 1;
	XrResult r = xrt_two_call(inst, s, fn_name, cap, count, buf, need, "bufferCapacityInput");
	if (r != XR_SUCCESS || cap == 0)
		XRT_RETURN(r);
	memcpy(buf, name, need);
	XRT_RETURN(XR_SUCCESS);
}

XrResult xrt_CreateActionSpace(XrSession session, const XrActionSpaceCreateInfo *ci, XrSpace *out)
{
	XRT_ENTER_SESSION("xrCreateActionSpace");
	if (!ci || ci->type != XR_TYPE_ACTION_SPACE_CREATE_INFO || !out)
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_VALIDATION_FAILURE,
				    "createInfo is NULL or not XR_TYPE_ACTION_SPACE_CREATE_INFO, or space is NULL."));
	struct xrt_action *a;
	XrResult r = session_action(s, fn_name, ci->action, XR_ACTION_TYPE_POSE_INPUT, false, &a);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	int hand = -1;
	if (ci->subactionPath != XR_NULL_PATH) {
		if ((r = subaction_hand(s, fn_name, a, ci->subactionPath, &hand)) != XR_SUCCESS)
			XRT_RETURN(r);
		if (hand < 0)
			hand = 2;
	}
	if (!xrt_pose_valid(&ci->poseInActionSpace))
		XRT_RETURN(xrt_fail(inst, s, fn_name, XR_ERROR_POSE_INVALID,
				    "poseInActionSpace has a non-unit orientation or a non-finite value."));
	struct xrt_space *sp;
	r = xrt_space_new(s, fn_name, &sp);
	if (r != XR_SUCCESS)
		XRT_RETURN(r);
	sp->type = 0;
	sp->pose = ci->poseInActionSpace;
	sp->action = a->base.handle;
	sp->hand = hand;
	xrt_record(inst, "space id=%u type=ACTION action=%s hand=%s", sp->id, a->name,
		   hand < 0 ? "any" : hand == 2 ? "other" : xrt_hand_name(hand));
	*out = (XrSpace)(uintptr_t)sp->base.handle;
	XRT_RETURN(XR_SUCCESS);
}

int xrt_action_space_hand(const struct xrt_space *sp)
{
	struct xrt_action *a = (struct xrt_action *)xrt_handle_get(sp->action, XRT_KIND_ACTION);
	if (!a || sp->hand == 2)
		return -1;
	if (sp->hand >= 0)
		return a->st[sp->hand].active ? sp->hand : -1;
	for (int h = 0; h < (int)XRT_HANDS; h++)
		if (a->st[h].active)
			return h;
	return -1;
}
