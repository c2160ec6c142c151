/* The Vulkan context (gfx_vk.h): instance with the validation layer and a
 * messenger that prints and counts, the device chosen by type, one
 * graphics queue, memory, buffers, images, one-shot submission, barriers
 * and the error mapping with its device-loss injection. */
#include "gfx/gfx_vk.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "th_log.h"

#define GFX_VK_LAYER "VK_LAYER_KHRONOS_validation"
#define GFX_VK_LVP_SO "libvulkan_lvp.so"
#define GFX_VK_EXTS_MAX 32u
#define GFX_VK_EXTS_OURS 2u /* the instance extensions gfx_vk adds (validation) */
#define GFX_VK_QUEUE_FAMILIES_MAX 32u
#define GFX_VK_MESSAGE_MAX 2048u
/* How long a one-shot submission may take before it is called hung. */
#define GFX_VK_ONESHOT_TIMEOUT_NS (30ull * 1000000000ull)
#define GFX_VK_WHY_MAX 512u

const char *gfx_vk_result_name(VkResult r)
{
	switch (r) {
#define N(x) \
	case x: \
		return #x
		N(VK_SUCCESS);
		N(VK_NOT_READY);
		N(VK_TIMEOUT);
		N(VK_EVENT_SET);
		N(VK_EVENT_RESET);
		N(VK_INCOMPLETE);
		N(VK_SUBOPTIMAL_KHR);
		N(VK_ERROR_OUT_OF_HOST_MEMORY);
		N(VK_ERROR_OUT_OF_DEVICE_MEMORY);
		N(VK_ERROR_INITIALIZATION_FAILED);
		N(VK_ERROR_DEVICE_LOST);
		N(VK_ERROR_MEMORY_MAP_FAILED);
		N(VK_ERROR_LAYER_NOT_PRESENT);
		N(VK_ERROR_EXTENSION_NOT_PRESENT);
		N(VK_ERROR_FEATURE_NOT_PRESENT);
		N(VK_ERROR_INCOMPATIBLE_DRIVER);
		N(VK_ERROR_TOO_MANY_OBJECTS);
		N(VK_ERROR_FORMAT_NOT_SUPPORTED);
		N(VK_ERROR_FRAGMENTED_POOL);
		N(VK_ERROR_UNKNOWN);
		N(VK_ERROR_OUT_OF_POOL_MEMORY);
		N(VK_ERROR_INVALID_EXTERNAL_HANDLE);
		N(VK_ERROR_FRAGMENTATION);
		N(VK_ERROR_SURFACE_LOST_KHR);
		N(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR);
		N(VK_ERROR_OUT_OF_DATE_KHR);
		N(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR);
		N(VK_ERROR_VALIDATION_FAILED_EXT);
#undef N
	default:
		return "VK_ERROR_(unnamed)";
	}
}

int gfx_vk_errno(VkResult r)
{
	if (r >= 0)
		return 0;
	switch (r) {
	case VK_ERROR_DEVICE_LOST:
	case VK_ERROR_INCOMPATIBLE_DRIVER:
		return -ENODEV;
	case VK_ERROR_OUT_OF_HOST_MEMORY:
	case VK_ERROR_OUT_OF_DEVICE_MEMORY:
	case VK_ERROR_OUT_OF_POOL_MEMORY:
	case VK_ERROR_FRAGMENTED_POOL:
	case VK_ERROR_FRAGMENTATION:
	case VK_ERROR_TOO_MANY_OBJECTS:
	case VK_ERROR_MEMORY_MAP_FAILED:
		return -ENOMEM;
	case VK_ERROR_LAYER_NOT_PRESENT:
	case VK_ERROR_EXTENSION_NOT_PRESENT:
	case VK_ERROR_FEATURE_NOT_PRESENT:
	case VK_ERROR_FORMAT_NOT_SUPPORTED:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

int gfx_vk_check(struct gfx_vk *vk, VkResult r, const char *what)
{
	vk->checks++;
	if (vk->lose_after && vk->checks == vk->lose_after && r >= 0) {
		th_err("%s: %s (injected: gfx_vk.lose_after = %llu)", what, gfx_vk_result_name(VK_ERROR_DEVICE_LOST),
		       (unsigned long long)vk->lose_after);
		vk->lost = true;
		return -ENODEV;
	}
	if (r >= 0)
		return 0;
	if (r == VK_ERROR_DEVICE_LOST)
		vk->lost = true;
	th_err("%s: %s", what, gfx_vk_result_name(r));
	return gfx_vk_errno(r);
}

/* ---- validation messenger ---- */

static VKAPI_ATTR VkBool32 VKAPI_CALL messenger_cb(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
						   VkDebugUtilsMessageTypeFlagsEXT types,
						   const VkDebugUtilsMessengerCallbackDataEXT *d, void *ud)
{
	struct gfx_vk *vk = ud;
	if (!(sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)))
		return VK_FALSE;
	__atomic_add_fetch(&vk->validation_messages, 1, __ATOMIC_RELAXED);
	/* One line: the layer's messages run over several. */
	char line[GFX_VK_MESSAGE_MAX];
	snprintf(line, sizeof(line), "%s", d && d->pMessage ? d->pMessage : "(no message)");
	for (char *s = line; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	const char *id = d && d->pMessageIdName ? d->pMessageIdName : "-";
	const char *kind = (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT)    ? "validation"
			   : (types & VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT) ? "performance"
										       : "general";
	if (sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
		th_err("vulkan %s error [%s]: %s", kind, id, line);
	else
		th_warn("vulkan %s warning [%s]: %s", kind, id, line);
	return VK_FALSE;
}

static void messenger_info(struct gfx_vk *vk, VkDebugUtilsMessengerCreateInfoEXT *mi)
{
	*mi = (VkDebugUtilsMessengerCreateInfoEXT){
		.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
		.messageSeverity =
			VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
		.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
			       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
			       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
		.pfnUserCallback = messenger_cb,
		.pUserData = vk,
	};
}

/* ---- instance ---- */

static bool has_layer(const char *name)
{
	uint32_t n = 0;
	if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
		return false;
	VkLayerProperties *p = calloc(n, sizeof(*p));
	if (!p)
		return false;
	bool found = false;
	if (vkEnumerateInstanceLayerProperties(&n, p) >= 0)
		for (uint32_t i = 0; i < n && !found; i++)
			found = strcmp(p[i].layerName, name) == 0;
	free(p);
	return found;
}

/* The first of want the instance (layer NULL) does not offer, or NULL. */
static const char *missing_instance_ext(const char *const *want, uint32_t nwant, const char *layer)
{
	uint32_t n = 0;
	if (vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS)
		return nwant ? want[0] : NULL;
	uint32_t nl = 0;
	if (layer && vkEnumerateInstanceExtensionProperties(layer, &nl, NULL) != VK_SUCCESS)
		nl = 0;
	VkExtensionProperties *p = calloc((size_t)n + nl + 1, sizeof(*p));
	if (!p)
		return nwant ? want[0] : NULL;
	if (vkEnumerateInstanceExtensionProperties(NULL, &n, p) < 0)
		n = 0;
	if (nl && vkEnumerateInstanceExtensionProperties(layer, &nl, p + n) < 0)
		nl = 0;
	const char *miss = NULL;
	for (uint32_t i = 0; i < nwant && !miss; i++) {
		bool found = false;
		for (uint32_t j = 0; j < n + nl && !found; j++)
			found = strcmp(p[j].extensionName, want[i]) == 0;
		if (!found)
			miss = want[i];
	}
	free(p);
	return miss;
}

/* THETA_GFX_SYNC_VALIDATION=1: the layer's synchronization validation too
 * (hazards between commands and submissions). make test turns it on for
 * every render test (scripts/run-tests), except under ASan: the 1.3.239
 * layer leaks about 3 KiB per instance with it, and a suppression would
 * hide any leak of ours reached through the layer. */
static bool sync_validation(void)
{
	const char *e = getenv("THETA_GFX_SYNC_VALIDATION");
	return e && strcmp(e, "1") == 0;
}

static int create_instance(struct gfx_vk *vk, const struct gfx_vk_config *c)
{
	uint32_t api = 0;
	if (vkEnumerateInstanceVersion(&api) != VK_SUCCESS || api < VK_API_VERSION_1_3) {
		th_err("gfx: the Vulkan loader offers %u.%u, Theta needs Vulkan 1.3", VK_API_VERSION_MAJOR(api),
		       VK_API_VERSION_MINOR(api));
		return -ENODEV;
	}
	const char *exts[GFX_VK_EXTS_MAX];
	uint32_t n = 0;
	/* Room for ours too: debug utils and validation features. */
	if (c->ninstance_exts > GFX_VK_EXTS_MAX - GFX_VK_EXTS_OURS) {
		th_err("gfx: %u instance extensions asked for, at most %u", c->ninstance_exts,
		       GFX_VK_EXTS_MAX - GFX_VK_EXTS_OURS);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c->ninstance_exts; i++)
		exts[n++] = c->instance_exts[i];
	if (c->validation) {
		if (!has_layer(GFX_VK_LAYER)) {
			th_err("gfx: validation was asked for, but %s is not installed (Debian: vulkan-validationlayers)",
			       GFX_VK_LAYER);
			return -ENOTSUP;
		}
		exts[n++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
		if (sync_validation())
			exts[n++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
	}
	const char *miss = missing_instance_ext(exts, n, c->validation ? GFX_VK_LAYER : NULL);
	if (miss) {
		th_err("gfx: the Vulkan instance lacks the extension %s", miss);
		return -ENOTSUP;
	}
	const char *layers[] = { GFX_VK_LAYER };
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "theta-client",
		.applicationVersion = 1,
		.pEngineName = "theta",
		.engineVersion = 1,
		.apiVersion = VK_API_VERSION_1_3,
	};
	VkDebugUtilsMessengerCreateInfoEXT mi;
	messenger_info(vk, &mi);
	static const VkValidationFeatureEnableEXT sync_enable[] = {
		VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
	};
	VkValidationFeaturesEXT vf = {
		.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
		.enabledValidationFeatureCount = 1,
		.pEnabledValidationFeatures = sync_enable,
	};
	if (c->validation && sync_validation())
		mi.pNext = &vf;
	VkInstanceCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pNext = c->validation ? &mi : NULL, /* messages of create/destroy themselves */
		.pApplicationInfo = &app,
		.enabledLayerCount = c->validation ? 1u : 0u,
		.ppEnabledLayerNames = layers,
		.enabledExtensionCount = n,
		.ppEnabledExtensionNames = exts,
	};
	int rc;
	if (c->hooks && c->hooks->create_instance) {
		rc = c->hooks->create_instance(c->hooks->ud, &ci, &vk->instance);
		if (rc < 0) {
			th_err("gfx: the instance hook failed: %s", strerror(-rc));
			vk->instance = VK_NULL_HANDLE;
			return rc;
		}
	} else {
		rc = gfx_vk_check(vk, vkCreateInstance(&ci, NULL, &vk->instance), "vkCreateInstance");
		if (rc < 0) {
			vk->instance = VK_NULL_HANDLE;
			return rc;
		}
	}
	if (c->validation) {
		PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
			vk->instance, "vkCreateDebugUtilsMessengerEXT");
		if (!create) {
			th_err("gfx: vkCreateDebugUtilsMessengerEXT is missing although VK_EXT_debug_utils is enabled");
			return -ENOTSUP;
		}
		mi.pNext = NULL; /* the validation features went with the instance; a messenger takes no chain */
		rc = gfx_vk_check(vk, create(vk->instance, &mi, NULL, &vk->messenger),
				  "vkCreateDebugUtilsMessengerEXT");
		if (rc < 0) {
			vk->messenger = VK_NULL_HANDLE;
			return rc;
		}
	}
	return 0;
}

/* ---- physical device ---- */

static int type_rank(VkPhysicalDeviceType t)
{
	switch (t) {
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
		return 4;
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
		return 3;
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
		return 2;
	case VK_PHYSICAL_DEVICE_TYPE_CPU:
		return 1;
	default:
		return 0;
	}
}

/* NULL when usable, else what it lacks (and *rc the errno for it). */
static const char *lacks(const struct gfx_vk_device_info *d, int *rc, char *buf, size_t len)
{
	*rc = -ENODEV;
	if (d->api_version < VK_API_VERSION_1_3) {
		snprintf(buf, len, "Vulkan %u.%u, not 1.3", VK_API_VERSION_MAJOR(d->api_version),
			 VK_API_VERSION_MINOR(d->api_version));
		return buf;
	}
	if (!d->graphics_queue)
		return "no graphics queue";
	*rc = -ENOTSUP;
	if (!d->dynamic_rendering)
		return "no dynamicRendering";
	if (!d->synchronization2)
		return "no synchronization2";
	if (d->missing_ext) {
		snprintf(buf, len, "no %s", d->missing_ext);
		return buf;
	}
	return NULL;
}

int gfx_vk_pick_device(const struct gfx_vk_device_info *d, uint32_t n, const char *name, char *why, size_t whylen)
{
	char buf[128];
	if (n == 0) {
		snprintf(why, whylen, "no Vulkan device was found (is a driver such as mesa-vulkan-drivers installed?)");
		return -ENODEV;
	}
	if (name && *name) {
		for (uint32_t i = 0; i < n; i++) {
			if (!strstr(d[i].name, name))
				continue;
			int rc;
			const char *l = lacks(&d[i], &rc, buf, sizeof(buf));
			if (!l)
				return (int)i;
			snprintf(why, whylen, "the device '%s' (asked for as '%s') cannot be used: %s", d[i].name, name,
				 l);
			return rc;
		}
		size_t off = (size_t)snprintf(why, whylen, "no Vulkan device's name contains '%s'; there are:", name);
		for (uint32_t i = 0; i < n && off < whylen; i++)
			off += (size_t)snprintf(why + off, whylen - off, "%s '%s'", i ? "," : "", d[i].name);
		return -ENODEV;
	}
	int best = -1, best_rank = -1;
	for (uint32_t i = 0; i < n; i++) {
		int rc;
		if (lacks(&d[i], &rc, buf, sizeof(buf)))
			continue;
		int r = type_rank(d[i].type);
		if (r > best_rank) {
			best = (int)i;
			best_rank = r;
		}
	}
	if (best >= 0)
		return best;
	/* None usable: say what each lacks; -ENODEV unless every one failed only on a feature. */
	int worst = -ENOTSUP;
	size_t off = (size_t)snprintf(why, whylen,
				      "no usable Vulkan device (Theta needs Vulkan 1.3 with dynamicRendering, "
				      "synchronization2 and the extensions asked for):");
	for (uint32_t i = 0; i < n && off < whylen; i++) {
		int rc;
		const char *l = lacks(&d[i], &rc, buf, sizeof(buf));
		if (rc == -ENODEV)
			worst = -ENODEV;
		off += (size_t)snprintf(why + off, whylen - off, "%s '%s' has %s", i ? ";" : "", d[i].name, l);
	}
	return worst;
}

static void device_info(VkPhysicalDevice pd, const struct gfx_vk_config *c, struct gfx_vk_device_info *out)
{
	memset(out, 0, sizeof(*out));
	VkPhysicalDeviceProperties p;
	vkGetPhysicalDeviceProperties(pd, &p);
	snprintf(out->name, sizeof(out->name), "%s", p.deviceName);
	out->type = p.deviceType;
	out->api_version = p.apiVersion;
	uint32_t nq = 0;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
	VkQueueFamilyProperties q[GFX_VK_QUEUE_FAMILIES_MAX];
	if (nq > GFX_VK_QUEUE_FAMILIES_MAX)
		nq = GFX_VK_QUEUE_FAMILIES_MAX;
	vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, q);
	for (uint32_t i = 0; i < nq; i++)
		if (q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)
			out->graphics_queue = true;
	if (p.apiVersion >= VK_API_VERSION_1_3) {
		VkPhysicalDeviceVulkan13Features f13 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES };
		VkPhysicalDeviceFeatures2 f2 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f13 };
		vkGetPhysicalDeviceFeatures2(pd, &f2);
		out->dynamic_rendering = f13.dynamicRendering;
		out->synchronization2 = f13.synchronization2;
	}
	uint32_t ne = 0;
	if (c->ndevice_exts == 0 || vkEnumerateDeviceExtensionProperties(pd, NULL, &ne, NULL) != VK_SUCCESS)
		return;
	VkExtensionProperties *e = calloc(ne ? ne : 1, sizeof(*e));
	if (!e) {
		out->missing_ext = c->device_exts[0];
		return;
	}
	if (vkEnumerateDeviceExtensionProperties(pd, NULL, &ne, e) < 0)
		ne = 0;
	for (uint32_t i = 0; i < c->ndevice_exts && !out->missing_ext; i++) {
		bool found = false;
		for (uint32_t j = 0; j < ne && !found; j++)
			found = strcmp(e[j].extensionName, c->device_exts[i]) == 0;
		if (!found)
			out->missing_ext = c->device_exts[i];
	}
	free(e);
}

static int choose_device(struct gfx_vk *vk, const struct gfx_vk_config *c)
{
	struct gfx_vk_device_info info[GFX_VK_DEVICES_MAX];
	char why[GFX_VK_WHY_MAX];
	if (c->hooks && c->hooks->physical_device) {
		int rc = c->hooks->physical_device(c->hooks->ud, vk->instance, &vk->phys);
		if (rc < 0) {
			th_err("gfx: the physical-device hook failed: %s", strerror(-rc));
			return rc;
		}
		device_info(vk->phys, c, &info[0]);
		rc = gfx_vk_pick_device(info, 1, NULL, why, sizeof(why));
		if (rc < 0) {
			th_err("gfx: the device the runtime chose: %s", why);
			return rc;
		}
		return 0;
	}
	VkPhysicalDevice pds[GFX_VK_DEVICES_MAX];
	uint32_t n = GFX_VK_DEVICES_MAX;
	VkResult r = vkEnumeratePhysicalDevices(vk->instance, &n, pds);
	if (r < 0)
		return gfx_vk_check(vk, r, "vkEnumeratePhysicalDevices");
	for (uint32_t i = 0; i < n; i++)
		device_info(pds[i], c, &info[i]);
	const char *name = c->device_name;
	if (!name) {
		const char *env = getenv("THETA_GFX_DEVICE");
		name = env && *env ? env : NULL;
	}
	int rc = gfx_vk_pick_device(info, n, name, why, sizeof(why));
	if (rc < 0) {
		th_err("gfx: %s", why);
		return rc;
	}
	vk->phys = pds[rc];
	return 0;
}

/* ---- device ---- */

static int create_device(struct gfx_vk *vk, const struct gfx_vk_config *c)
{
	uint32_t nq = 0;
	VkQueueFamilyProperties q[GFX_VK_QUEUE_FAMILIES_MAX];
	vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &nq, NULL);
	if (nq > GFX_VK_QUEUE_FAMILIES_MAX)
		nq = GFX_VK_QUEUE_FAMILIES_MAX;
	vkGetPhysicalDeviceQueueFamilyProperties(vk->phys, &nq, q);
	uint32_t fam = UINT32_MAX;
	for (uint32_t i = 0; i < nq && fam == UINT32_MAX; i++)
		if (q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)
			fam = i;
	if (fam == UINT32_MAX) {
		th_err("gfx: %s has no graphics queue", vk->props.deviceName);
		return -ENODEV;
	}
	/* Required: dynamicRendering and synchronization2. Taken when offered:
	 * what the core's wire view, multiview and the benchmarks' timestamps use. */
	VkPhysicalDeviceVulkan11Features have11 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES };
	VkPhysicalDeviceVulkan12Features have12 = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
						    .pNext = &have11 };
	VkPhysicalDeviceFeatures2 have = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &have12 };
	vkGetPhysicalDeviceFeatures2(vk->phys, &have);

	VkPhysicalDeviceVulkan13Features f13 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
		.dynamicRendering = VK_TRUE,
		.synchronization2 = VK_TRUE,
	};
	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
		.pNext = &f13,
		.hostQueryReset = have12.hostQueryReset,
	};
	VkPhysicalDeviceVulkan11Features f11 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
		.pNext = &f12,
		.multiview = have11.multiview,
	};
	VkPhysicalDeviceFeatures2 f2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
		.pNext = &f11,
		.features = {
			.fillModeNonSolid = have.features.fillModeNonSolid,
			.wideLines = have.features.wideLines,
			.largePoints = have.features.largePoints,
		},
	};
	const float prio = 1.0f;
	VkDeviceQueueCreateInfo qi = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueFamilyIndex = fam,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkDeviceCreateInfo ci = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.pNext = &f2,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qi,
		.enabledExtensionCount = c->ndevice_exts,
		.ppEnabledExtensionNames = c->device_exts,
	};
	int rc;
	if (c->hooks && c->hooks->create_device) {
		rc = c->hooks->create_device(c->hooks->ud, vk->phys, &ci, &vk->device);
		if (rc < 0) {
			th_err("gfx: the device hook failed: %s", strerror(-rc));
			vk->device = VK_NULL_HANDLE;
			return rc;
		}
	} else {
		rc = gfx_vk_check(vk, vkCreateDevice(vk->phys, &ci, NULL, &vk->device), "vkCreateDevice");
		if (rc < 0) {
			vk->device = VK_NULL_HANDLE;
			return rc;
		}
	}
	vk->queue_family = fam;
	vkGetDeviceQueue(vk->device, fam, 0, &vk->queue);
	VkCommandPoolCreateInfo pi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT | VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
		.queueFamilyIndex = fam,
	};
	rc = gfx_vk_check(vk, vkCreateCommandPool(vk->device, &pi, NULL, &vk->pool), "vkCreateCommandPool");
	if (rc < 0)
		vk->pool = VK_NULL_HANDLE;
	return rc;
}

/* Under ASan the loader's dlclose of lavapipe at vkDestroyInstance makes
 * LeakSanitizer report lavapipe's still-reachable allocations as leaks
 * (their code is gone); keeping the driver mapped avoids it. */
static void *keep_lavapipe(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return dlopen(GFX_VK_LVP_SO, RTLD_NOW | RTLD_NODELETE);
#else
	return NULL;
#endif
}

int gfx_vk_create(const struct gfx_vk_config *c, struct gfx_vk **out)
{
	static const struct gfx_vk_config defaults;
	if (!c)
		c = &defaults;
	if (c->ndevice_exts && !c->device_exts) {
		th_err("gfx: %u device extensions asked for without names", c->ndevice_exts);
		return -EINVAL;
	}
	struct gfx_vk *vk = calloc(1, sizeof(*vk));
	if (!vk)
		return -ENOMEM;
	vk->validation = c->validation;
	vk->keep_lvp = keep_lavapipe();
	int rc = create_instance(vk, c);
	if (rc == 0)
		rc = choose_device(vk, c);
	if (rc == 0) {
		vkGetPhysicalDeviceProperties(vk->phys, &vk->props);
		vkGetPhysicalDeviceMemoryProperties(vk->phys, &vk->mem);
		rc = create_device(vk, c);
	}
	if (rc < 0) {
		gfx_vk_destroy(&vk);
		return rc;
	}
	*out = vk;
	return 0;
}

void gfx_vk_destroy(struct gfx_vk **p)
{
	struct gfx_vk *vk = p ? *p : NULL;
	if (!vk)
		return;
	if (vk->device) {
		vkDeviceWaitIdle(vk->device);
		if (vk->pool)
			vkDestroyCommandPool(vk->device, vk->pool, NULL);
		vkDestroyDevice(vk->device, NULL);
	}
	if (vk->messenger) {
		PFN_vkDestroyDebugUtilsMessengerEXT destroy =
			(PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(vk->instance,
										   "vkDestroyDebugUtilsMessengerEXT");
		if (destroy)
			destroy(vk->instance, vk->messenger, NULL);
	}
	if (vk->instance)
		vkDestroyInstance(vk->instance, NULL);
	if (vk->keep_lvp)
		dlclose(vk->keep_lvp); /* RTLD_NODELETE: it stays mapped */
	free(vk);
	*p = NULL;
}

/* ---- memory, buffers, images ---- */

int gfx_vk_memory_type(const struct gfx_vk *vk, uint32_t type_bits, VkMemoryPropertyFlags want, uint32_t *out)
{
	for (uint32_t i = 0; i < vk->mem.memoryTypeCount; i++) {
		if ((type_bits & (1u << i)) && (vk->mem.memoryTypes[i].propertyFlags & want) == want) {
			*out = i;
			return 0;
		}
	}
	return -ENOMEM;
}

static int alloc_memory(struct gfx_vk *vk, const VkMemoryRequirements *req, VkMemoryPropertyFlags want,
			VkDeviceMemory *mem, const char *what)
{
	uint32_t type;
	if (gfx_vk_memory_type(vk, req->memoryTypeBits, want, &type) < 0) {
		th_err("gfx: no memory type for %s (types 0x%x, flags 0x%x)", what, req->memoryTypeBits, want);
		return -ENOMEM;
	}
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = req->size,
		.memoryTypeIndex = type,
	};
	return gfx_vk_check(vk, vkAllocateMemory(vk->device, &ai, NULL, mem), "vkAllocateMemory");
}

int gfx_buffer_create(struct gfx_vk *vk, VkDeviceSize size, VkBufferUsageFlags usage, bool host_visible,
		      struct gfx_buffer *out)
{
	if (size == 0 || usage == 0) {
		th_err("gfx: a buffer of %llu bytes with usage 0x%x cannot be made", (unsigned long long)size, usage);
		return -EINVAL;
	}
	struct gfx_buffer b = { .size = size };
	VkBufferCreateInfo bi = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = size,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	int rc = gfx_vk_check(vk, vkCreateBuffer(vk->device, &bi, NULL, &b.buf), "vkCreateBuffer");
	if (rc < 0)
		return rc;
	VkMemoryRequirements req;
	vkGetBufferMemoryRequirements(vk->device, b.buf, &req);
	VkMemoryPropertyFlags want = host_visible
					     ? VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
					     : VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
	rc = alloc_memory(vk, &req, want, &b.mem, "a buffer");
	if (rc == 0)
		rc = gfx_vk_check(vk, vkBindBufferMemory(vk->device, b.buf, b.mem, 0), "vkBindBufferMemory");
	if (rc == 0 && host_visible)
		rc = gfx_vk_check(vk, vkMapMemory(vk->device, b.mem, 0, VK_WHOLE_SIZE, 0, &b.map), "vkMapMemory");
	if (rc < 0) {
		gfx_buffer_destroy(vk, &b);
		return rc;
	}
	*out = b;
	return 0;
}

void gfx_buffer_destroy(struct gfx_vk *vk, struct gfx_buffer *b)
{
	if (!b)
		return;
	if (b->buf)
		vkDestroyBuffer(vk->device, b->buf, NULL);
	if (b->mem)
		vkFreeMemory(vk->device, b->mem, NULL); /* unmaps */
	memset(b, 0, sizeof(*b));
}

static int view_create(struct gfx_vk *vk, VkImage image, VkFormat format, VkImageAspectFlags aspect,
		       uint32_t levels, VkImageView *out)
{
	VkImageViewCreateInfo vi = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO,
		.image = image,
		.viewType = VK_IMAGE_VIEW_TYPE_2D,
		.format = format,
		.subresourceRange = { .aspectMask = aspect, .levelCount = levels, .layerCount = 1 },
	};
	return gfx_vk_check(vk, vkCreateImageView(vk->device, &vi, NULL, out), "vkCreateImageView");
}

int gfx_image_view_create(struct gfx_vk *vk, VkImage image, VkFormat format, VkImageAspectFlags aspect,
			  VkImageView *out)
{
	return view_create(vk, image, format, aspect, 1, out);
}

int gfx_image_create(struct gfx_vk *vk, VkExtent2D extent, VkFormat format, VkImageUsageFlags usage,
		     VkImageAspectFlags aspect, struct gfx_image *out)
{
	return gfx_image_create_levels(vk, extent, format, usage, aspect, 1, out);
}

int gfx_image_create_levels(struct gfx_vk *vk, VkExtent2D extent, VkFormat format, VkImageUsageFlags usage,
			    VkImageAspectFlags aspect, uint32_t levels, struct gfx_image *out)
{
	VkImageFormatProperties fp;
	VkResult r = vkGetPhysicalDeviceImageFormatProperties(vk->phys, format, VK_IMAGE_TYPE_2D,
							      VK_IMAGE_TILING_OPTIMAL, usage, 0, &fp);
	if (r != VK_SUCCESS || extent.width == 0 || extent.height == 0 || extent.width > fp.maxExtent.width ||
	    extent.height > fp.maxExtent.height || levels == 0 || levels > fp.maxMipLevels) {
		th_err("gfx: %s cannot make a %ux%u image of format %d with usage 0x%x and %u level(s)",
		       vk->props.deviceName, extent.width, extent.height, (int)format, usage, levels);
		return r == VK_ERROR_FORMAT_NOT_SUPPORTED ? -ENOTSUP : -EINVAL;
	}
	struct gfx_image img = { .format = format, .extent = extent };
	VkImageCreateInfo ii = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		.imageType = VK_IMAGE_TYPE_2D,
		.format = format,
		.extent = { extent.width, extent.height, 1 },
		.mipLevels = levels,
		.arrayLayers = 1,
		.samples = VK_SAMPLE_COUNT_1_BIT,
		.tiling = VK_IMAGE_TILING_OPTIMAL,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
		.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
	};
	int rc = gfx_vk_check(vk, vkCreateImage(vk->device, &ii, NULL, &img.image), "vkCreateImage");
	if (rc < 0)
		return rc;
	VkMemoryRequirements req;
	vkGetImageMemoryRequirements(vk->device, img.image, &req);
	rc = alloc_memory(vk, &req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &img.mem, "an image");
	if (rc == 0)
		rc = gfx_vk_check(vk, vkBindImageMemory(vk->device, img.image, img.mem, 0), "vkBindImageMemory");
	if (rc == 0)
		rc = view_create(vk, img.image, format, aspect, levels, &img.view);
	if (rc < 0) {
		gfx_image_destroy(vk, &img);
		return rc;
	}
	*out = img;
	return 0;
}

void gfx_image_destroy(struct gfx_vk *vk, struct gfx_image *img)
{
	if (!img)
		return;
	if (img->view)
		vkDestroyImageView(vk->device, img->view, NULL);
	if (img->image)
		vkDestroyImage(vk->device, img->image, NULL);
	if (img->mem)
		vkFreeMemory(vk->device, img->mem, NULL);
	memset(img, 0, sizeof(*img));
}

/* ---- one-shot submission, barriers, formats ---- */

int gfx_vk_oneshot_begin(struct gfx_vk *vk, VkCommandBuffer *cmd)
{
	VkCommandBufferAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.commandPool = vk->pool,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBuffer c;
	int rc = gfx_vk_check(vk, vkAllocateCommandBuffers(vk->device, &ai, &c), "vkAllocateCommandBuffers");
	if (rc < 0)
		return rc;
	VkCommandBufferBeginInfo bi = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	rc = gfx_vk_check(vk, vkBeginCommandBuffer(c, &bi), "vkBeginCommandBuffer");
	if (rc < 0) {
		vkFreeCommandBuffers(vk->device, vk->pool, 1, &c);
		return rc;
	}
	*cmd = c;
	return 0;
}

int gfx_vk_oneshot_end(struct gfx_vk *vk, VkCommandBuffer cmd)
{
	VkFence fence = VK_NULL_HANDLE;
	int rc = gfx_vk_check(vk, vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
	VkFenceCreateInfo fi = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	if (rc == 0)
		rc = gfx_vk_check(vk, vkCreateFence(vk->device, &fi, NULL, &fence), "vkCreateFence");
	if (rc == 0) {
		VkCommandBufferSubmitInfo cbi = { .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO,
						  .commandBuffer = cmd };
		VkSubmitInfo2 si = {
			.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO_2,
			.commandBufferInfoCount = 1,
			.pCommandBufferInfos = &cbi,
		};
		rc = gfx_vk_check(vk, vkQueueSubmit2(vk->queue, 1, &si, fence), "vkQueueSubmit2 (one-shot)");
	}
	if (rc == 0) {
		VkResult r = vkWaitForFences(vk->device, 1, &fence, VK_TRUE, GFX_VK_ONESHOT_TIMEOUT_NS);
		if (r == VK_TIMEOUT) {
			th_err("gfx: a one-shot submission did not finish in %llu s",
			       GFX_VK_ONESHOT_TIMEOUT_NS / 1000000000ull);
			rc = -ETIMEDOUT;
			vkDeviceWaitIdle(vk->device); /* before the command buffer goes */
		} else {
			rc = gfx_vk_check(vk, r, "vkWaitForFences (one-shot)");
		}
	}
	if (fence)
		vkDestroyFence(vk->device, fence, NULL);
	vkFreeCommandBuffers(vk->device, vk->pool, 1, &cmd);
	return rc;
}

void gfx_cmd_image_barrier(VkCommandBuffer cmd, VkImage image, VkImageAspectFlags aspect, VkImageLayout from,
			   VkImageLayout to, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
			   VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access)
{
	VkImageMemoryBarrier2 b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2,
		.srcStageMask = src_stage,
		.srcAccessMask = src_access,
		.dstStageMask = dst_stage,
		.dstAccessMask = dst_access,
		.oldLayout = from,
		.newLayout = to,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = image,
		.subresourceRange = { .aspectMask = aspect, .levelCount = VK_REMAINING_MIP_LEVELS, .layerCount = 1 },
	};
	VkDependencyInfo di = {
		.sType = VK_STRUCTURE_TYPE_DEPENDENCY_INFO,
		.imageMemoryBarrierCount = 1,
		.pImageMemoryBarriers = &b,
	};
	vkCmdPipelineBarrier2(cmd, &di);
}

VkFormat gfx_vk_depth_format(const struct gfx_vk *vk)
{
	static const VkFormat candidates[] = {
		VK_FORMAT_D32_SFLOAT,
		VK_FORMAT_D32_SFLOAT_S8_UINT,
		VK_FORMAT_D24_UNORM_S8_UINT,
		VK_FORMAT_D16_UNORM,
	};
	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		VkFormatProperties fp;
		vkGetPhysicalDeviceFormatProperties(vk->phys, candidates[i], &fp);
		if (fp.optimalTilingFeatures & VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT)
			return candidates[i];
	}
	return VK_FORMAT_UNDEFINED;
}
