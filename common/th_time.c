#include "th_time.h"

#include <errno.h>

void th_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / TH_NS_PER_S), .tv_nsec = (long)(ns % TH_NS_PER_S) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}
