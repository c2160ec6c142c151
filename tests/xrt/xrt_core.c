/* The runtime lock, the handle table, the record file and the names of
 * results and states. */
#include <openxr/openxr_reflection.h>
#include <pthread.h>
#include <string.h>

#include "xrt.h"

static pthread_mutex_t xrt_mutex = PTHREAD_MUTEX_INITIALIZER;

struct xrt_slot {
	struct xrt_obj *obj;
	uint32_t gen;
};
static struct xrt_slot xrt_slots[XRT_HANDLES_MAX];
static struct xrt_instance *xrt_last;

void xrt_lock(void) { pthread_mutex_lock(&xrt_mutex); }
void xrt_unlock(void) { pthread_mutex_unlock(&xrt_mutex); }

/* handle = generation << 32 | (slot + 1): 0 is never a handle. */
int xrt_handle_add(struct xrt_obj *o, enum xrt_kind kind, struct xrt_obj *parent)
{
	for (uint32_t i = 0; i < XRT_HANDLES_MAX; i++) {
		if (xrt_slots[i].obj)
			continue;
		xrt_slots[i].obj = o;
		xrt_slots[i].gen++;
		o->kind = kind;
		o->slot = i;
		o->parent = parent;
		o->handle = ((uint64_t)xrt_slots[i].gen << 32) | (uint64_t)(i + 1);
		return 0;
	}
	return -1;
}

void xrt_handle_remove(struct xrt_obj *o)
{
	if (o->slot < XRT_HANDLES_MAX && xrt_slots[o->slot].obj == o)
		xrt_slots[o->slot].obj = NULL;
	o->kind = XRT_KIND_NONE;
}

struct xrt_obj *xrt_handle_get(uint64_t handle, enum xrt_kind kind)
{
	uint64_t idx = handle & 0xffffffffu;
	if (idx == 0 || idx > XRT_HANDLES_MAX)
		return NULL;
	struct xrt_slot *sl = &xrt_slots[idx - 1];
	if (!sl->obj || sl->gen != (uint32_t)(handle >> 32) || sl->obj->kind != kind)
		return NULL;
	return sl->obj;
}

struct xrt_obj *xrt_handle_child(const struct xrt_obj *p, enum xrt_kind kind)
{
	for (uint32_t i = 0; i < XRT_HANDLES_MAX; i++) {
		struct xrt_obj *o = xrt_slots[i].obj;
		if (o && o->parent == p && o->kind == kind)
			return o;
	}
	return NULL;
}

struct xrt_instance *xrt_last_instance(void) { return xrt_last; }
void xrt_set_last_instance(struct xrt_instance *inst) { xrt_last = inst; }

void xrt_record(struct xrt_instance *inst, const char *fmt, ...)
{
	if (!inst || !inst->record)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(inst->record, fmt, ap);
	va_end(ap);
	fputc('\n', inst->record);
	fflush(inst->record);
}

XrResult xrt_fail(struct xrt_instance *inst, struct xrt_session *s, const char *fn, XrResult r, const char *fmt, ...)
{
	char why[XRT_WHY_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (s)
		s->errors++;
	xrt_record(inst, "error fn=%s result=%s why=%s", fn, xrt_result_name(r), why);
	return r;
}

XrResult xrt_two_call(struct xrt_instance *inst, struct xrt_session *s, const char *fn, uint32_t cap,
		      uint32_t *count, const void *array, uint32_t n, const char *cap_name)
{
	if (!count || (cap && !array))
		return xrt_fail(inst, s, fn, XR_ERROR_VALIDATION_FAILURE, "a NULL output array.");
	*count = n;
	if (cap && cap < n)
		return xrt_fail(inst, s, fn, XR_ERROR_SIZE_INSUFFICIENT, "%s %u < %u.", cap_name, cap, n);
	return XR_SUCCESS;
}

const char *xrt_result_name(XrResult r)
{
	switch (r) {
#define XRT_RESULT_CASE(name, value) \
	case name:                   \
		return #name;
		XR_LIST_ENUM_XrResult(XRT_RESULT_CASE)
#undef XRT_RESULT_CASE
	default:
		return NULL;
	}
}

const char *xrt_state_name(XrSessionState st)
{
	switch (st) {
	case XR_SESSION_STATE_IDLE: return "IDLE";
	case XR_SESSION_STATE_READY: return "READY";
	case XR_SESSION_STATE_SYNCHRONIZED: return "SYNCHRONIZED";
	case XR_SESSION_STATE_VISIBLE: return "VISIBLE";
	case XR_SESSION_STATE_FOCUSED: return "FOCUSED";
	case XR_SESSION_STATE_STOPPING: return "STOPPING";
	case XR_SESSION_STATE_LOSS_PENDING: return "LOSS_PENDING";
	case XR_SESSION_STATE_EXITING: return "EXITING";
	default: return "UNKNOWN";
	}
}

const char *xrt_space_name(XrReferenceSpaceType t)
{
	switch (t) {
	case XR_REFERENCE_SPACE_TYPE_VIEW: return "VIEW";
	case XR_REFERENCE_SPACE_TYPE_LOCAL: return "LOCAL";
	case XR_REFERENCE_SPACE_TYPE_STAGE: return "STAGE";
	default: return "UNKNOWN";
	}
}
