/* XRT_* environment variables into struct xrt_config; a malformed one is
 * refused with the variable named. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xrt.h"

#define XRT_DEG (3.14159265358979323846 / 180.0)
#define XRT_DEFAULT_VIEW_W 320u
#define XRT_DEFAULT_VIEW_H 180u
#define XRT_DEFAULT_IPD 0.064f
#define XRT_DEFAULT_HALF_FOV_DEG 45.0
#define XRT_DEFAULT_HEAD_Y 1.6f
#define XRT_IPD_MAX 0.2f
#define XRT_COORD_MAX 1000.0 /* metres, metres/s, degrees/s bound on scripted values */

/* n floats separated by commas, each finite and within +-XRT_COORD_MAX. */
static int parse_floats(const char *s, double *out, int n)
{
	for (int i = 0; i < n; i++) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (end == s || errno || !isfinite(v) || fabs(v) > XRT_COORD_MAX)
			return -EINVAL;
		out[i] = v;
		if (i + 1 < n) {
			if (*end != ',')
				return -EINVAL;
			s = end + 1;
		} else if (*end != '\0') {
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_flag(const char *name, bool *out, char *why, size_t whylen)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		*out = false;
		return 0;
	}
	if (strcmp(v, "1") && strcmp(v, "0")) {
		snprintf(why, whylen, "%s=%s: expected 0 or 1", name, v);
		return -EINVAL;
	}
	*out = v[0] == '1';
	return 0;
}

static int copy_string(const char *name, char *dst, size_t len, char *why, size_t whylen)
{
	const char *v = getenv(name);
	dst[0] = '\0';
	if (!v)
		return 0;
	if (strlen(v) >= len) {
		snprintf(why, whylen, "%s is longer than %zu bytes", name, len - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_frames(struct xrt_config *cfg, const char *v, char *why, size_t whylen)
{
	cfg->ncapture_frames = 0;
	const char *p = v;
	while (*p) {
		char item[32];
		size_t n = strcspn(p, ",");
		uint64_t f;
		if (n == 0 || n >= sizeof item) {
			snprintf(why, whylen, "XRT_CAPTURE_FRAMES=%s: expected frame numbers separated by commas", v);
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_u64(item, &f) || f == 0) {
			snprintf(why, whylen, "XRT_CAPTURE_FRAMES=%s: '%s' is not a frame number (1 or more)", v, item);
			return -EINVAL;
		}
		if (cfg->ncapture_frames == XRT_CAPTURE_FRAMES_MAX) {
			snprintf(why, whylen, "XRT_CAPTURE_FRAMES=%s: more than %u frames", v, XRT_CAPTURE_FRAMES_MAX);
			return -EINVAL;
		}
		cfg->capture_frames[cfg->ncapture_frames++] = f;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p) {
				snprintf(why, whylen, "XRT_CAPTURE_FRAMES=%s ends with a comma", v);
				return -EINVAL;
			}
		}
	}
	return 0;
}

#define XRT_PROFILES_HELP "khr/simple_controller, oculus/touch_controller, valve/index_controller, " \
	"htc/vive_controller, microsoft/motion_controller or none"
#define XRT_PROFILES_ONE_HELP "khr/simple_controller, oculus/touch_controller, valve/index_controller, " \
	"htc/vive_controller or microsoft/motion_controller"

/* XRT_PROFILE, XRT_PROFILE_SWITCH, XRT_UNFOCUSED, XRT_REJECT_PROFILE, XRT_GARBAGE,
 * XRT_FAIL_INPUT, XRT_INPUT. */
static int read_input(struct xrt_config *cfg, char *why, size_t whylen)
{
	const char *v = getenv("XRT_PROFILE");
	cfg->profile = 0; /* khr/simple_controller */
	if (v && *v) {
		cfg->profile = xrt_profile_find(v);
		if (cfg->profile == XRT_PROFILE_UNKNOWN) {
			snprintf(why, whylen, "XRT_PROFILE=%s: expected " XRT_PROFILES_HELP, v);
			return -EINVAL;
		}
	}
	if ((v = getenv("XRT_PROFILE_SWITCH")) && *v) {
		char num[32];
		const char *colon = strchr(v, ':');
		size_t n = colon ? (size_t)(colon - v) : 0;
		if (!colon || n == 0 || n >= sizeof num) {
			snprintf(why, whylen, "XRT_PROFILE_SWITCH=%s: expected FRAME:PROFILE", v);
			return -EINVAL;
		}
		memcpy(num, v, n);
		num[n] = '\0';
		if (parse_u64(num, &cfg->switch_frame) || cfg->switch_frame == 0) {
			snprintf(why, whylen, "XRT_PROFILE_SWITCH=%s: '%s' is not a frame number (1 or more)", v, num);
			return -EINVAL;
		}
		cfg->switch_profile = xrt_profile_find(colon + 1);
		if (cfg->switch_profile == XRT_PROFILE_UNKNOWN) {
			snprintf(why, whylen, "XRT_PROFILE_SWITCH=%s: the profile must be " XRT_PROFILES_HELP, v);
			return -EINVAL;
		}
	}
	if ((v = getenv("XRT_UNFOCUSED")) && *v) {
		char from[32];
		const char *comma = strchr(v, ',');
		size_t n = comma ? (size_t)(comma - v) : strlen(v);
		bool ok = n > 0 && n < sizeof from;
		if (ok) {
			memcpy(from, v, n);
			from[n] = '\0';
			ok = parse_u64(from, &cfg->unfocus_from) == 0 && cfg->unfocus_from > 0 &&
			     (!comma || parse_u64(comma + 1, &cfg->unfocus_to) == 0) &&
			     (cfg->unfocus_to == 0 || cfg->unfocus_to > cfg->unfocus_from);
		}
		if (!ok) {
			snprintf(why, whylen, "XRT_UNFOCUSED=%s: expected FROM or FROM,TO frame numbers (0 < FROM < TO)", v);
			return -EINVAL;
		}
	}
	cfg->reject_profile = XRT_PROFILE_NONE;
	if ((v = getenv("XRT_REJECT_PROFILE")) && *v) {
		cfg->reject_profile = xrt_profile_find(v);
		if (cfg->reject_profile < 0) {
			snprintf(why, whylen, "XRT_REJECT_PROFILE=%s: expected " XRT_PROFILES_ONE_HELP, v);
			return -EINVAL;
		}
	}
	if ((v = getenv("XRT_GARBAGE")) && *v && (parse_u64(v, &cfg->garbage_from) || cfg->garbage_from == 0)) {
		snprintf(why, whylen, "XRT_GARBAGE=%s: expected a frame number (1 or more)", v);
		return -EINVAL;
	}
	if ((v = getenv("XRT_FAIL_INPUT")) && *v && (parse_u64(v, &cfg->fail_input_from) || cfg->fail_input_from == 0)) {
		snprintf(why, whylen, "XRT_FAIL_INPUT=%s: expected a frame number (1 or more)", v);
		return -EINVAL;
	}
	return copy_string("XRT_INPUT", cfg->input, sizeof cfg->input, why, whylen);
}

int xrt_config_read(struct xrt_config *cfg, char *why, size_t whylen)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->view_w = XRT_DEFAULT_VIEW_W;
	cfg->view_h = XRT_DEFAULT_VIEW_H;
	cfg->ipd = XRT_DEFAULT_IPD;
	cfg->head_pos = (XrVector3f){0, XRT_DEFAULT_HEAD_Y, 0};

	const char *v = getenv("XRT_VIEW_SIZE");
	if (v && *v) {
		unsigned w, h;
		char tail;
		if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w == 0 || h == 0 || w > XRT_IMAGE_DIM_MAX ||
		    h > XRT_IMAGE_DIM_MAX) {
			snprintf(why, whylen, "XRT_VIEW_SIZE=%s: expected WIDTHxHEIGHT, each 1 to %u", v,
				 XRT_IMAGE_DIM_MAX);
			return -EINVAL;
		}
		cfg->view_w = w;
		cfg->view_h = h;
	}
	double d[4];
	if ((v = getenv("XRT_IPD")) && *v) {
		if (parse_floats(v, d, 1) || d[0] < 0 || d[0] > XRT_IPD_MAX) {
			snprintf(why, whylen, "XRT_IPD=%s: expected metres from 0 to %.1f", v, (double)XRT_IPD_MAX);
			return -EINVAL;
		}
		cfg->ipd = (float)d[0];
	}
	if ((v = getenv("XRT_FOV")) && *v) {
		if (parse_floats(v, d, 4) || d[0] <= -90 || d[1] >= 90 || d[0] >= d[1] || d[2] >= 90 || d[3] <= -90 ||
		    d[3] >= d[2]) {
			snprintf(why, whylen,
				 "XRT_FOV=%s: expected left,right,up,down in degrees (left < right, down < up, "
				 "each within 90)",
				 v);
			return -EINVAL;
		}
		for (int i = 0; i < 4; i++)
			cfg->fov[i] = (float)(d[i] * XRT_DEG);
	} else {
		double half = XRT_DEFAULT_HALF_FOV_DEG * XRT_DEG;
		double up = atan(tan(half) * cfg->view_h / cfg->view_w);
		cfg->fov[0] = (float)-half;
		cfg->fov[1] = (float)half;
		cfg->fov[2] = (float)up;
		cfg->fov[3] = (float)-up;
	}
	if ((v = getenv("XRT_HEAD_POS")) && *v) {
		if (parse_floats(v, d, 3)) {
			snprintf(why, whylen, "XRT_HEAD_POS=%s: expected x,y,z in metres", v);
			return -EINVAL;
		}
		cfg->head_pos = (XrVector3f){(float)d[0], (float)d[1], (float)d[2]};
	}
	if ((v = getenv("XRT_HEAD_VEL")) && *v) {
		if (parse_floats(v, d, 3)) {
			snprintf(why, whylen, "XRT_HEAD_VEL=%s: expected x,y,z in metres per second", v);
			return -EINVAL;
		}
		cfg->head_vel = (XrVector3f){(float)d[0], (float)d[1], (float)d[2]};
	}
	if ((v = getenv("XRT_HEAD_YAW")) && *v) {
		if (parse_floats(v, d, 1)) {
			snprintf(why, whylen, "XRT_HEAD_YAW=%s: expected degrees", v);
			return -EINVAL;
		}
		cfg->head_yaw = (float)(d[0] * XRT_DEG);
	}
	if ((v = getenv("XRT_HEAD_YAW_RATE")) && *v) {
		if (parse_floats(v, d, 1)) {
			snprintf(why, whylen, "XRT_HEAD_YAW_RATE=%s: expected degrees per second", v);
			return -EINVAL;
		}
		cfg->head_yaw_rate = (float)(d[0] * XRT_DEG);
	}
	if (parse_flag("XRT_UNPACED", &cfg->unpaced, why, whylen) ||
	    parse_flag("XRT_NO_STAGE", &cfg->no_stage, why, whylen) ||
	    parse_flag("XRT_NO_HMD", &cfg->no_hmd, why, whylen))
		return -EINVAL;
	if ((v = getenv("XRT_EXIT_AFTER")) && *v && parse_u64(v, &cfg->exit_after)) {
		snprintf(why, whylen, "XRT_EXIT_AFTER=%s: expected a number of frames", v);
		return -EINVAL;
	}
	if ((v = getenv("XRT_LOSS_AT")) && *v && parse_u64(v, &cfg->loss_at)) {
		snprintf(why, whylen, "XRT_LOSS_AT=%s: expected a frame number", v);
		return -EINVAL;
	}
	if (copy_string("XRT_CAPTURE_DIR", cfg->capture_dir, sizeof cfg->capture_dir, why, whylen) ||
	    copy_string("XRT_RECORD", cfg->record, sizeof cfg->record, why, whylen) ||
	    copy_string("XRT_VK_DEVICE", cfg->vk_device, sizeof cfg->vk_device, why, whylen))
		return -EINVAL;
	v = getenv("XRT_CAPTURE_FRAMES");
	if (parse_frames(cfg, v && *v ? v : "1", why, whylen))
		return -EINVAL;
	return read_input(cfg, why, whylen);
}
