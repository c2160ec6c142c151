/* The wasm build's <pthread.h> (web/wasm/): wasi-libc here has no threads,
 * and theta.wasm runs on the page's one thread, so pthread_once (the only
 * call common/ makes, th_schema.c's lazy tables) runs its function on the
 * first call and never again. */
#pragma once

typedef int pthread_once_t;
#define PTHREAD_ONCE_INIT 0

static inline int pthread_once(pthread_once_t *once, void (*fn)(void))
{
	if (!*once) {
		*once = 1;
		fn();
	}
	return 0;
}
