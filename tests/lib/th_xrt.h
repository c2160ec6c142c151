/* The OpenXR test runtime (tests/xrt/, docs/xr-test-runtime.md) seen from
 * a test: where make put its files, and its record. */
#pragma once
#include <stddef.h>

/* The absolute path of $THETA_BUILD/tests/xrt/name (build/ when
 * THETA_BUILD is unset or empty) into out: 0, or -errno when it is not
 * there (make and make test build it). */
int th_xrt_path(const char *name, char *out, size_t len);
/* This process's environment readied for a runtime of its own: every
 * XRT_* variable the runtime reads and XR_LOADER_DEBUG unset, then
 * XR_RUNTIME_JSON naming the built theta_xrt.json, XRT_RECORD=record and
 * XRT_UNPACED=1 (frames as fast as the test asks). 0, or -errno when
 * the runtime is not built (th_xrt_path). */
int th_xrt_env(const char *record);
/* The runtime's record at path (malloc'd, NUL-terminated); the test
 * fails, naming path, when there is none. */
char *th_xrt_read(const char *path);
/* How many lines of a runtime record start with prefix. */
unsigned th_xrt_lines(const char *rec, const char *prefix);
/* The number after " key=" on the first line of rec starting with prefix;
 * -1 when no such line has that key. */
long long th_xrt_value(const char *rec, const char *prefix, const char *key);
/* The script time frame showed: its predicted display time minus the
 * first frame's (the record's "wait frame=N display_ns=" lines), seconds;
 * -1 when either is not recorded. */
double th_xrt_frame_time(const char *rec, long long frame);
/* Each "error fn=..." line of rec to stderr as "runtime: LINE" (what a
 * failing test shows of the calls the runtime refused). */
void th_xrt_print_errors(const char *rec);
