/* Allocation failures on demand for tests of library code that must hand
 * back -ENOMEM with nothing changed (test_mesh_props, test_gfx_mesh):
 * malloc, calloc, realloc and free of the whole binary (libc's
 * underneath), one of which can be made to fail, and a count of the blocks
 * alive for leak checks. The definitions are here, not in a library: include
 * this header in exactly one file of a test binary. Not under ASan, whose
 * allocator these would bypass (TH_AF_CAN_FAIL stays undefined). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#if !defined(__SANITIZE_ADDRESS__)
#define TH_AF_CAN_FAIL 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static long th_af_countdown = -1; /* the allocation that fails: 0 the next one */
static long th_af_live;            /* blocks allocated and not freed */

static bool th_af_fails(void)
{
	if (th_af_countdown < 0)
		return false;
	return th_af_countdown-- == 0;
}
static void *th_af_counted(void *p)
{
	th_af_live += p != NULL;
	return p;
}
void *malloc(size_t n) { return th_af_fails() ? NULL : th_af_counted(__libc_malloc(n)); }
void *calloc(size_t n, size_t size) { return th_af_fails() ? NULL : th_af_counted(__libc_calloc(n, size)); }
void *realloc(void *p, size_t n)
{
	if (th_af_fails())
		return NULL;
	void *q = __libc_realloc(p, n);
	th_af_live += (!p && q) - (p && !n);
	return q;
}
void free(void *p)
{
	th_af_live -= p != NULL;
	__libc_free(p);
}

/* Whether a failure can be injected here (not under valgrind or another
 * allocator that replaces these). */
static inline bool th_af_works(void)
{
	void *(*volatile alloc)(size_t) = malloc; /* a call the compiler cannot fold away */
	th_af_countdown = 0;
	void *probe = alloc(1);
	th_af_countdown = -1;
	free(probe);
	return probe == NULL;
}
#else
/* Nothing can be made to fail here (th_af_unavailable says so); the
 * counters exist so that a test's body compiles the same. */
static long th_af_countdown __attribute__((unused)) = -1;
static long th_af_live __attribute__((unused));
#endif

/* Why no allocation failure can be injected in this binary (for a test's
 * SKIP line), or NULL when one can. */
static inline const char *th_af_unavailable(void)
{
#ifdef TH_AF_CAN_FAIL
	return th_af_works() ? NULL : "allocation failures cannot be injected under this allocator";
#else
	return "allocation failures are not injected under AddressSanitizer";
#endif
}
