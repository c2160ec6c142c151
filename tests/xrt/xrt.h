/* The OpenXR test runtime's insides (docs/xr-test-runtime.md says what it
 * does from the outside). One shared library the Khronos loader opens; its
 * only exported symbol is xrNegotiateLoaderRuntimeInterface, everything else
 * is reached through the xrGetInstanceProcAddr it hands out.
 *
 * Every entry point takes the one runtime lock (xrt_lock) for its whole
 * run, except xrWaitFrame while it sleeps. Handles are slot numbers plus a
 * generation in a fixed table, so a stale or made-up handle is
 * XR_ERROR_HANDLE_INVALID, never a dereference. */
#pragma once
#define XR_USE_GRAPHICS_API_VULKAN 1
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <vulkan/vulkan.h>
#include <openxr/openxr.h>
#include <openxr/openxr_platform.h>

#include "inp/input.h"

#define XRT_RUNTIME_NAME "Theta test runtime (xrt)"
#define XRT_SYSTEM_NAME "Theta test headset"
#define XRT_SYSTEM_ID 1u
#define XRT_VENDOR_ID 0x7e7au

/* Limits (named, one place). */
#define XRT_HANDLES_MAX 1024u       /* live instances + sessions + spaces + swapchains */
#define XRT_EVENTS_MAX 64u          /* events waiting for xrPollEvent per instance */
#define XRT_SWAPCHAIN_IMAGES 3u
#define XRT_LAYERS_MAX 16u
#define XRT_IMAGE_DIM_MAX 4096u
#define XRT_ARRAY_MAX 2u            /* array layers of a swapchain image */
#define XRT_VIEWS 2u                /* PRIMARY_STEREO */
#define XRT_PATHS_MAX 512u
#define XRT_CAPTURE_FRAMES_MAX 32u
#define XRT_VK_EXTS_MAX 128u        /* extension names in a Vulkan create info */
#define XRT_VK_DEVICES_MAX 16u
#define XRT_FRAME_PERIOD_NS 11111111ll /* 90 Hz */
#define XRT_WHY_MAX 256u
#define XRT_ACTION_SETS_MAX 32u     /* live action sets per instance */
#define XRT_ACTIONS_MAX 256u        /* live actions per instance */
#define XRT_SUBACTIONS_MAX 4u       /* subaction paths of an action */
#define XRT_BINDINGS_MAX 256u       /* suggested bindings per profile */
#define XRT_PROFILES 5u             /* interaction profiles offered */
#define XRT_HANDS 2u
#define XRT_CLICK_THRESHOLD 0.5f    /* a boolean action bound to a value */

enum xrt_kind {
	XRT_KIND_NONE = 0,
	XRT_KIND_INSTANCE,
	XRT_KIND_SESSION,
	XRT_KIND_SPACE,
	XRT_KIND_SWAPCHAIN,
	XRT_KIND_ACTION_SET,
	XRT_KIND_ACTION,
};

/* Interaction profiles (xrt_profile.c): an index into the five, or these. */
#define XRT_PROFILE_NONE (-1)    /* no controllers / XR_NULL_PATH */
#define XRT_PROFILE_UNKNOWN (-2) /* not a profile this runtime offers */

enum xrt_comp {
	XRT_COMP_CLICK = 0,
	XRT_COMP_TOUCH,
	XRT_COMP_VALUE,
	XRT_COMP_FORCE,
	XRT_COMP_X,
	XRT_COMP_Y,
	XRT_COMP_POSE,
	XRT_COMPS,
	XRT_COMP_VECTOR = XRT_COMPS, /* x and y of an identifier, for a vector2f action */
	XRT_COMP_HAPTIC,             /* /output/haptic */
};

/* What the scripted controller feeds an identifier. */
enum xrt_src { XRT_SRC_NONE = 0, XRT_SRC_TRIGGER, XRT_SRC_SELECT, XRT_SRC_SQUEEZE, XRT_SRC_STICK, XRT_SRC_BUTTON, XRT_SRC_POSE };

struct xrt_ident {
	const char *name, *lname; /* "trigger", "Trigger" */
	uint8_t hands;            /* bit 0 left, bit 1 right */
	uint16_t comps;           /* 1 << enum xrt_comp */
	uint8_t src;              /* enum xrt_src */
	uint32_t button;          /* TH_BUTTON_* for XRT_SRC_BUTTON */
	bool output;              /* under /output (haptic) */
};

struct xrt_profile {
	const char *path, *lname;
	const struct xrt_ident *idents;
	uint32_t nidents;
};

/* One suggested binding: the action (handle), the hand, the identifier in
 * its profile and the component (-1: the identifier alone). */
struct xrt_binding {
	uint64_t action;
	uint8_t hand;
	uint8_t ident;
	int8_t comp;
};

/* One hand's scripted values, as a sync reads them. */
#define XRT_SAMPLE_STEP_NS 1000000ull         /* a sync replays the script since the last one in 1 ms steps */
#define XRT_SAMPLE_SPAN_NS (10ull * 1000000000) /* ... over at most the last 10 s of the gap */
struct xrt_hand_input {
	float trigger, grip, stick[2];
	uint32_t buttons; /* TH_BUTTON_*: held, or pressed since the sync before */
};

/* What XRT_* said, read at xrCreateInstance. */
struct xrt_config {
	uint32_t view_w, view_h;
	float ipd;
	float fov[4];              /* left, right, up, down: radians */
	XrVector3f head_pos, head_vel;
	float head_yaw, head_yaw_rate; /* radians, radians/s */
	bool unpaced, no_stage, no_hmd;
	uint64_t exit_after, loss_at;  /* frame numbers, 0: never */
	char capture_dir[512];
	uint64_t capture_frames[XRT_CAPTURE_FRAMES_MAX];
	uint32_t ncapture_frames;
	char record[512];
	char vk_device[128];
	int profile;                   /* XRT_PROFILE: index, or XRT_PROFILE_NONE */
	uint64_t switch_frame;         /* XRT_PROFILE_SWITCH, 0: never */
	int switch_profile;
	uint64_t unfocus_from, unfocus_to; /* XRT_UNFOCUSED, 0: never */
	int reject_profile;            /* XRT_REJECT_PROFILE: index, or XRT_PROFILE_NONE */
	uint64_t garbage_from;         /* XRT_GARBAGE, 0: never */
	uint64_t fail_input_from;      /* XRT_FAIL_INPUT, 0: never */
	char input[512];               /* XRT_INPUT */
};

/* The frame pacer: a pure function of the previous prediction and now. */
struct xrt_pacer {
	int64_t period_ns;
	int64_t last_display_ns; /* 0 before the first frame */
	bool unpaced;
};

struct xrt_obj {
	enum xrt_kind kind;
	uint32_t slot;
	uint64_t handle;
	struct xrt_obj *parent; /* instance for a session, session for spaces and swapchains */
};

struct xrt_event {
	XrStructureType type; /* SESSION_STATE_CHANGED or INTERACTION_PROFILE_CHANGED */
	uint64_t session;  /* handle */
	XrSessionState state;
	XrTime time;
};

/* XRT_INPUT (xrt_input.c): the script's text (parsed again when a lookup
 * goes back in time), and a replaying source for lookups by time. */
struct xrt_script {
	char *text;
	size_t len;
	size_t events;
	uint64_t duration_ns;
	bool has_head, has_quit;
	uint64_t first_head_ns, quit_ns;
	struct inp_source *pose_src; /* NULL after a failed re-parse */
	struct inp_state pose_st;
	uint64_t pose_t;             /* script time pose_src was polled to */
};

struct xrt_action_set {
	struct xrt_obj base;         /* parent: the instance */
	struct xrt_instance *inst;
	char name[XR_MAX_ACTION_SET_NAME_SIZE];
	char lname[XR_MAX_LOCALIZED_ACTION_SET_NAME_SIZE];
	uint32_t priority;
	bool ever_attached;          /* no more actions */
	uint64_t attached_to;        /* the session's handle, 0: none */
};

/* An action's state after a sync: slot 0 left, 1 right, 2 both (no
 * subaction path). */
#define XRT_SLOTS 3u
struct xrt_action_state {
	bool active, changed, b;
	float f;
	XrVector2f v;
	XrTime last_change;
};

struct xrt_action {
	struct xrt_obj base;         /* parent: the set */
	struct xrt_action_set *set;
	char name[XR_MAX_ACTION_NAME_SIZE];
	char lname[XR_MAX_LOCALIZED_ACTION_NAME_SIZE];
	XrActionType type;
	uint32_t nsub;
	XrPath sub[XRT_SUBACTIONS_MAX];
	struct xrt_action_state st[XRT_SLOTS];
};

struct xrt_session;

struct xrt_instance {
	struct xrt_obj base;
	struct xrt_config cfg;
	FILE *record;               /* XRT_RECORD, NULL without */
	char app_name[XR_MAX_APPLICATION_NAME_SIZE];
	bool enable2;               /* XR_KHR_vulkan_enable2 enabled */
	bool got_system, got_requirements;
	VkInstance vk_instance;     /* the one xrGetVulkanGraphicsDevice2KHR was asked about */
	VkPhysicalDevice vk_phys;   /* and its answer */
	struct xrt_event events[XRT_EVENTS_MAX];
	uint32_t ev_head, ev_count;
	bool ev_overflow;
	char (*paths)[XR_MAX_PATH_LENGTH]; /* XRT_PATHS_MAX, path n is index n - 1 */
	uint32_t npaths;
	struct xrt_session *session;
	uint32_t next_session_id;
	struct xrt_script *script;  /* XRT_INPUT, NULL without */
	struct xrt_action_set *sets[XRT_ACTION_SETS_MAX];
	struct xrt_action *actions[XRT_ACTIONS_MAX];
	bool any_attached;          /* no more suggested bindings */
	struct xrt_binding *bindings[XRT_PROFILES]; /* the last suggestion per profile */
	uint32_t nbindings[XRT_PROFILES];
};

struct xrt_session {
	struct xrt_obj base;
	struct xrt_instance *inst;
	uint32_t id;
	XrSessionState state;       /* as last queued */
	bool running, exit_requested, loss_pending;
	/* The client's Vulkan objects (XrGraphicsBindingVulkan2KHR) and ours on them. */
	VkInstance vk_instance;
	VkPhysicalDevice vk_phys;
	VkDevice device;
	uint32_t queue_family, queue_index;
	VkQueue queue;
	VkPhysicalDeviceMemoryProperties mem;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	/* Frames. */
	struct xrt_pacer pacer;
	uint64_t waited, begun, ended, discarded, errors;
	bool wait_pending;          /* waited, not begun */
	bool frame_open;            /* begun, not ended */
	int64_t t0;                 /* the first predicted display time */
	uint32_t next_space_id, next_swapchain_id;
	/* Input. */
	bool attached;
	int hw_profile;             /* the controllers the runtime has (XRT_PROFILE, then the switch) */
	int profile;                /* current: hw_profile if suggested, else XRT_PROFILE_NONE */
	struct inp_source *sync_src; /* the script replayed for xrSyncActions */
	struct inp_state sync_st;
	uint64_t sync_t;             /* script time the last sync replayed to */
	struct xrt_hand_input sync_last[XRT_HANDS]; /* what it reported */
	bool sync_focused;          /* the last sync was focused */
	uint64_t syncs, focused_syncs;
	bool script_quit;
	bool local_known;           /* local_origin is LOCAL's pose in STAGE (scripted head at t0) */
	XrPosef local_origin;
};

struct xrt_space {
	struct xrt_obj base;
	struct xrt_session *s;
	uint32_t id;
	XrReferenceSpaceType type;  /* 0 for an action space */
	XrPosef pose;               /* poseInReferenceSpace / poseInActionSpace */
	uint64_t action;            /* an action space's pose action (handle) */
	int hand;                   /* its subaction: -1 none, 0 left, 1 right, 2 another user path */
};

struct xrt_swapchain {
	struct xrt_obj base;
	struct xrt_session *s;
	uint32_t id;
	VkFormat format;
	bool depth, is_static;
	uint32_t w, h, array;
	XrSwapchainUsageFlags usage;
	uint32_t nimages;
	VkImage images[XRT_SWAPCHAIN_IMAGES];
	VkDeviceMemory memory[XRT_SWAPCHAIN_IMAGES];
	uint32_t next;                        /* index the next acquire returns */
	uint32_t acquired[XRT_SWAPCHAIN_IMAGES]; /* FIFO of acquired indices */
	uint32_t nacquired;
	bool head_waited;                     /* the oldest acquired one was waited */
	uint64_t acquires;                    /* a static swapchain allows one */
	int32_t last_released;                /* -1 before the first release */
};

/* Entry points: take the lock, find the handle (XR_ERROR_HANDLE_INVALID
 * without), name the function for the record; XRT_RETURN unlocks.
 * XRT_ENTER_HANDLE is the first part: var of type T from get(handle). */
#define XRT_ENTER_HANDLE(T, var, get, handle) \
	xrt_lock();                           \
	T *var = get(handle);                 \
	if (!var) {                           \
		xrt_unlock();                 \
		return XR_ERROR_HANDLE_INVALID; \
	}

#define XRT_ENTER_INSTANCE(fn)                                                  \
	XRT_ENTER_HANDLE(struct xrt_instance, inst, xrt_instance_get, instance) \
	static const char fn_name[] = fn;                                       \
	(void)fn_name

#define XRT_RETURN(r)            \
	do {                     \
		XrResult r_ = (r); \
		xrt_unlock();    \
		return r_;       \
	} while (0)

#define XRT_ENTER_SESSION(fn)                                               \
	XRT_ENTER_HANDLE(struct xrt_session, s, xrt_session_get, session)   \
	struct xrt_instance *inst = s->inst;                                \
	static const char fn_name[] = fn;                                   \
	(void)inst;                                                         \
	(void)fn_name

/* xrt_core.c: the lock, the handle table, the record, refusals. */
void xrt_lock(void);
void xrt_unlock(void);
int xrt_handle_add(struct xrt_obj *o, enum xrt_kind kind, struct xrt_obj *parent);
void xrt_handle_remove(struct xrt_obj *o);
struct xrt_obj *xrt_handle_get(uint64_t handle, enum xrt_kind kind);
/* Every live object whose parent is p, one at a time (NULL when none). */
struct xrt_obj *xrt_handle_child(const struct xrt_obj *p, enum xrt_kind kind);
void xrt_record(struct xrt_instance *inst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records "error fn=... result=... why=..." (counted in s->errors when s)
 * and returns r. */
XrResult xrt_fail(struct xrt_instance *inst, struct xrt_session *s, const char *fn, XrResult r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The two-call idiom of the enumerating calls: count given, the array too
 * when cap > 0; sets *count = n; cap 0 (a size query) or at least n, else
 * XR_ERROR_SIZE_INSUFFICIENT naming cap_name. XR_SUCCESS: when cap > 0 the
 * caller fills the n elements. */
XrResult xrt_two_call(struct xrt_instance *inst, struct xrt_session *s, const char *fn, uint32_t cap,
		      uint32_t *count, const void *array, uint32_t n, const char *cap_name);
const char *xrt_result_name(XrResult r);
const char *xrt_state_name(XrSessionState st);
const char *xrt_space_name(XrReferenceSpaceType t);
struct xrt_instance *xrt_last_instance(void);
void xrt_set_last_instance(struct xrt_instance *inst);

/* xrt_config.c: 0, or -EINVAL with the variable named in why. */
int xrt_config_read(struct xrt_config *cfg, char *why, size_t whylen);

/* xrt_pose.c: poses and the pacer. */
XrPosef xrt_pose_identity(void);
XrPosef xrt_pose_mul(XrPosef a, XrPosef b);         /* a * b: b expressed in a's frame */
XrPosef xrt_pose_inverse(XrPosef p);
bool xrt_pose_valid(const XrPosef *p);              /* finite, unit quaternion */
XrQuaternionf xrt_quat_yaw(float yaw);
/* Head (VIEW) in STAGE at time t, eye e in STAGE. */
XrPosef xrt_head_pose(const struct xrt_config *cfg, int64_t t0, XrTime t);
XrPosef xrt_eye_pose(const struct xrt_config *cfg, int64_t t0, XrTime t, uint32_t eye);
XrPosef xrt_eye_of_head(const struct xrt_config *cfg, XrPosef head, uint32_t eye);
/* A reference space's origin in STAGE (LOCAL is at the head at t0). */
XrPosef xrt_space_origin(const struct xrt_config *cfg, int64_t t0, XrReferenceSpaceType type, XrTime t);
void xrt_pacer_init(struct xrt_pacer *p, int64_t period_ns, bool unpaced);
/* Sets *wake_ns (sleep until then; <= now_ns: don't) and *display_ns. */
void xrt_pacer_next(struct xrt_pacer *p, int64_t now_ns, int64_t *wake_ns, int64_t *display_ns);
int64_t xrt_now_ns(void);

/* The runtime's functions, by file. Names follow the OpenXR ones. */
XrResult xrt_EnumerateApiLayerProperties(uint32_t cap, uint32_t *count, XrApiLayerProperties *props);
XrResult xrt_EnumerateInstanceExtensionProperties(const char *layer, uint32_t cap, uint32_t *count,
						  XrExtensionProperties *props);
XrResult xrt_CreateInstance(const XrInstanceCreateInfo *ci, XrInstance *out);
XrResult xrt_DestroyInstance(XrInstance instance);
XrResult xrt_GetInstanceProperties(XrInstance instance, XrInstanceProperties *props);
XrResult xrt_PollEvent(XrInstance instance, XrEventDataBuffer *ev);
XrResult xrt_ResultToString(XrInstance instance, XrResult value, char buffer[XR_MAX_RESULT_STRING_SIZE]);
XrResult xrt_StructureTypeToString(XrInstance instance, XrStructureType value,
				   char buffer[XR_MAX_STRUCTURE_NAME_SIZE]);
XrResult xrt_GetSystem(XrInstance instance, const XrSystemGetInfo *info, XrSystemId *id);
XrResult xrt_GetSystemProperties(XrInstance instance, XrSystemId id, XrSystemProperties *props);
XrResult xrt_EnumerateEnvironmentBlendModes(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					    uint32_t cap, uint32_t *count, XrEnvironmentBlendMode *modes);
XrResult xrt_EnumerateViewConfigurations(XrInstance instance, XrSystemId id, uint32_t cap, uint32_t *count,
					 XrViewConfigurationType *types);
XrResult xrt_GetViewConfigurationProperties(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					    XrViewConfigurationProperties *props);
XrResult xrt_EnumerateViewConfigurationViews(XrInstance instance, XrSystemId id, XrViewConfigurationType vct,
					     uint32_t cap, uint32_t *count, XrViewConfigurationView *views);
XrResult xrt_StringToPath(XrInstance instance, const char *str, XrPath *path);
XrResult xrt_PathToString(XrInstance instance, XrPath path, uint32_t cap, uint32_t *count, char *buf);
/* Shared by the files: the instance behind a handle, or NULL. */
struct xrt_instance *xrt_instance_get(XrInstance instance);
/* XR_ERROR_SYSTEM_INVALID unless id is the system xrGetSystem gave. */
XrResult xrt_check_system(struct xrt_instance *inst, const char *fn, XrSystemId id);
/* Queues a state change (and records it); false when the queue is full. */
void xrt_queue_state(struct xrt_session *s, XrSessionState st);
/* Queues XrEventDataInteractionProfileChanged for s. */
void xrt_queue_profile_changed(struct xrt_session *s);

/* xrt_profile.c: pure tables and lookups. */
const struct xrt_profile *xrt_profile(int index); /* NULL unless 0..XRT_PROFILES-1 */
/* "vendor/name", "/interaction_profiles/vendor/name" or "none". */
int xrt_profile_find(const char *name);
const char *xrt_hand_name(int hand);
int xrt_hand_of_path(const char *path); /* 0, 1, or -1 */
bool xrt_top_level_path(const char *path);
/* A binding path of profile into *b (action left 0): 0, or -1 with why. */
int xrt_binding_parse(int profile, const char *path, struct xrt_binding *b, char *why, size_t whylen);
/* The component an action of type reads through b, or -1 (not applicable). */
int xrt_binding_component(int profile, const struct xrt_binding *b, XrActionType type);
float xrt_component_read(int profile, const struct xrt_binding *b, int comp, const struct xrt_hand_input *in);
XrVector2f xrt_component_vector(int profile, const struct xrt_binding *b, const struct xrt_hand_input *in);
/* The full path of b's component comp (-1 or HAPTIC: the identifier's). */
int xrt_binding_path(int profile, const struct xrt_binding *b, int comp, char *out, size_t len);
int xrt_source_name(int profile, const char *path, XrInputSourceLocalizedNameFlags which, char *out, size_t len);

/* xrt_input.c: the script and what it moves. */
/* Loads cfg->input into inst->script: 0, or -1 with why (one line). */
int xrt_script_open(struct xrt_instance *inst, char *why, size_t whylen);
void xrt_script_close(struct xrt_instance *inst);
/* Script time of XrTime t in session s (0 before t0). */
uint64_t xrt_script_time(const struct xrt_session *s, XrTime t);
/* The head in STAGE at t; false while the script says it is lost. */
bool xrt_input_head(const struct xrt_session *s, XrTime t, XrPosef *out);
/* A hand's grip (= aim) pose in STAGE at t; false while untracked. */
bool xrt_input_hand(const struct xrt_session *s, XrTime t, int hand, XrPosef *out);
/* The session's sync source (at xrBeginSession) and its sampling. */
int xrt_input_session_begin(struct xrt_session *s);
void xrt_input_session_end(struct xrt_session *s);
void xrt_input_sample(struct xrt_session *s, XrTime t, struct xrt_hand_input in[XRT_HANDS]);
/* After xrEndFrame's frame: the script's quit, XRT_UNFOCUSED, XRT_PROFILE_SWITCH. */
void xrt_input_end_frame(struct xrt_session *s, uint64_t frame);

/* XRT_GARBAGE: after frame garbage_from a broken runtime's values, a
 * different kind each frame (XRT_GARBAGE_KINDS): xrSyncActions's float and
 * vector states and xrLocateSpace's action and VIEW poses (still flagged
 * valid). -1 while the values are the script's. */
#define XRT_GARBAGE_KINDS 4u
int xrt_garbage_kind(const struct xrt_session *s);
/* XRT_FAIL_INPUT: whether xrSyncActions and xrLocateSpace fail now. */
bool xrt_input_failing(const struct xrt_session *s);
void xrt_garbage_pose(int kind, XrPosef *p);
void xrt_garbage_state(int kind, XrActionType type, struct xrt_action_state *st);
/* The profile xrGetCurrentInteractionProfile names while garbage is on:
 * no OpenXR path (upper case, a space). */
#define XRT_GARBAGE_PROFILE "/interaction_profiles/Broken Vendor/controller"

/* xrt_action.c */
XrResult xrt_CreateActionSet(XrInstance instance, const XrActionSetCreateInfo *ci, XrActionSet *out);
XrResult xrt_DestroyActionSet(XrActionSet set);
XrResult xrt_CreateAction(XrActionSet set, const XrActionCreateInfo *ci, XrAction *out);
XrResult xrt_DestroyAction(XrAction action);
XrResult xrt_SuggestInteractionProfileBindings(XrInstance instance, const XrInteractionProfileSuggestedBinding *sb);
XrResult xrt_AttachSessionActionSets(XrSession session, const XrSessionActionSetsAttachInfo *info);
XrResult xrt_GetCurrentInteractionProfile(XrSession session, XrPath user, XrInteractionProfileState *st);
XrResult xrt_SyncActions(XrSession session, const XrActionsSyncInfo *info);
XrResult xrt_GetActionStateBoolean(XrSession session, const XrActionStateGetInfo *gi, XrActionStateBoolean *st);
XrResult xrt_GetActionStateFloat(XrSession session, const XrActionStateGetInfo *gi, XrActionStateFloat *st);
XrResult xrt_GetActionStateVector2f(XrSession session, const XrActionStateGetInfo *gi, XrActionStateVector2f *st);
XrResult xrt_GetActionStatePose(XrSession session, const XrActionStateGetInfo *gi, XrActionStatePose *st);
XrResult xrt_EnumerateBoundSourcesForAction(XrSession session, const XrBoundSourcesForActionEnumerateInfo *info,
					    uint32_t cap, uint32_t *count, XrPath *sources);
XrResult xrt_GetInputSourceLocalizedName(XrSession session, const XrInputSourceLocalizedNameGetInfo *info,
					 uint32_t cap, uint32_t *count, char *buf);
XrResult xrt_ApplyHapticFeedback(XrSession session, const XrHapticActionInfo *info, const XrHapticBaseHeader *h);
XrResult xrt_StopHapticFeedback(XrSession session, const XrHapticActionInfo *info);
XrResult xrt_CreateActionSpace(XrSession session, const XrActionSpaceCreateInfo *ci, XrSpace *out);
struct xrt_action *xrt_action_get(XrAction action);
/* Frees every action set and action and the bindings (xrDestroyInstance). */
void xrt_actions_free(struct xrt_instance *inst);
/* The hand an action space is located by (its subaction hand, or the first
 * bound one), or -1 when its action is not active there. */
int xrt_action_space_hand(const struct xrt_space *sp);
/* Re-chooses the current profile (attach, the switch); queues the event. */
void xrt_profile_update(struct xrt_session *s);
/* Interns a path string (the runtime's own): its XrPath, or XR_NULL_PATH when full. */
XrPath xrt_path_intern(struct xrt_instance *inst, const char *str);
const char *xrt_path_string(const struct xrt_instance *inst, XrPath p); /* NULL when not a path */

/* xrt_vulkan.c */
XrResult xrt_GetVulkanGraphicsRequirements2KHR(XrInstance instance, XrSystemId id,
					       XrGraphicsRequirementsVulkanKHR *req);
XrResult xrt_CreateVulkanInstanceKHR(XrInstance instance, const XrVulkanInstanceCreateInfoKHR *ci,
				     VkInstance *out, VkResult *vr);
XrResult xrt_GetVulkanGraphicsDevice2KHR(XrInstance instance, const XrVulkanGraphicsDeviceGetInfoKHR *info,
					 VkPhysicalDevice *out);
XrResult xrt_CreateVulkanDeviceKHR(XrInstance instance, const XrVulkanDeviceCreateInfoKHR *ci, VkDevice *out,
				   VkResult *vr);
/* The session's command pool, buffer and fence on the client's device. */
VkResult xrt_vk_session_init(struct xrt_session *s);
void xrt_vk_session_fini(struct xrt_session *s);
/* Records into s->cmd (begun), submits on the client's queue, waits. */
VkResult xrt_vk_begin(struct xrt_session *s);
VkResult xrt_vk_submit_wait(struct xrt_session *s);
/* A memory type index with the bits of req and the flags, or -1. */
int xrt_vk_memory_type(const struct xrt_session *s, uint32_t type_bits, VkMemoryPropertyFlags flags);

/* xrt_session.c */
XrResult xrt_CreateSession(XrInstance instance, const XrSessionCreateInfo *ci, XrSession *out);
XrResult xrt_DestroySession(XrSession session);
XrResult xrt_BeginSession(XrSession session, const XrSessionBeginInfo *info);
XrResult xrt_EndSession(XrSession session);
XrResult xrt_RequestExitSession(XrSession session);
XrResult xrt_EnumerateReferenceSpaces(XrSession session, uint32_t cap, uint32_t *count, XrReferenceSpaceType *t);
XrResult xrt_CreateReferenceSpace(XrSession session, const XrReferenceSpaceCreateInfo *ci, XrSpace *out);
XrResult xrt_GetReferenceSpaceBoundsRect(XrSession session, XrReferenceSpaceType t, XrExtent2Df *bounds);
XrResult xrt_LocateSpace(XrSpace space, XrSpace base, XrTime time, XrSpaceLocation *loc);
XrResult xrt_DestroySpace(XrSpace space);
struct xrt_session *xrt_session_get(XrSession session);
struct xrt_space *xrt_space_get(XrSpace space);
/* A new space of s, registered, with its id and the rest zero (the
 * caller fills type, pose and an action space's fields): XR_SUCCESS, or
 * XR_ERROR_OUT_OF_MEMORY / XR_ERROR_LIMIT_REACHED (said for fn). */
XrResult xrt_space_new(struct xrt_session *s, const char *fn, struct xrt_space **out);
/* A space's pose in STAGE at t (tracked or not). */
XrPosef xrt_space_in_stage(const struct xrt_space *sp, XrTime t);
/* The same, false when the space is not located (a lost head, an inactive
 * or untracked action space). */
bool xrt_space_locate(const struct xrt_space *sp, XrTime t, XrPosef *out);
/* The runtime stops the session (exit requested or XRT_EXIT_AFTER). */
void xrt_session_stop(struct xrt_session *s);
void xrt_session_destroy(struct xrt_session *s);

/* xrt_swapchain.c */
XrResult xrt_EnumerateSwapchainFormats(XrSession session, uint32_t cap, uint32_t *count, int64_t *formats);
XrResult xrt_CreateSwapchain(XrSession session, const XrSwapchainCreateInfo *ci, XrSwapchain *out);
XrResult xrt_DestroySwapchain(XrSwapchain swapchain);
XrResult xrt_EnumerateSwapchainImages(XrSwapchain swapchain, uint32_t cap, uint32_t *count,
				      XrSwapchainImageBaseHeader *images);
XrResult xrt_AcquireSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageAcquireInfo *info,
				   uint32_t *index);
XrResult xrt_WaitSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageWaitInfo *info);
XrResult xrt_ReleaseSwapchainImage(XrSwapchain swapchain, const XrSwapchainImageReleaseInfo *info);
struct xrt_swapchain *xrt_swapchain_get(XrSwapchain swapchain);
void xrt_swapchain_destroy(struct xrt_swapchain *sc);

/* xrt_frame.c */
XrResult xrt_WaitFrame(XrSession session, const XrFrameWaitInfo *info, XrFrameState *state);
XrResult xrt_BeginFrame(XrSession session, const XrFrameBeginInfo *info);
XrResult xrt_EndFrame(XrSession session, const XrFrameEndInfo *info);
XrResult xrt_LocateViews(XrSession session, const XrViewLocateInfo *info, XrViewState *state, uint32_t cap,
			 uint32_t *count, XrView *views);

/* xrt_capture.c: writes view eye's sub-image to the capture directory. */
XrResult xrt_capture_view(struct xrt_session *s, uint64_t frame, uint32_t eye, const XrSwapchainSubImage *sub);
