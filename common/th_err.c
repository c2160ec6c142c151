#include "th_err.h"

#include <limits.h>
#include <string.h>

static const char *const th_err_text[TH_ERR_END - TH_ERR_BASE] = {
	[TH_ECONFIG - TH_ERR_BASE] = "invalid configuration",
	[TH_EPROTOHASH - TH_ERR_BASE] = "protocol or schema hash mismatch",
	[TH_EVERSION - TH_ERR_BASE] = "protocol version mismatch",
	[TH_ELOCKED - TH_ERR_BASE] = "another instance holds the lock",
	[TH_ECORRUPT - TH_ERR_BASE] = "corrupt data",
	[TH_EDENIED - TH_ERR_BASE] = "permission denied by role",
};

const char *th_strerror(int err)
{
	/* The magnitude without abs(): -INT_MIN overflows an int. */
	unsigned u = err < 0 ? 0u - (unsigned)err : (unsigned)err;
	if (u > TH_ERR_BASE && u < TH_ERR_END && th_err_text[u - TH_ERR_BASE])
		return th_err_text[u - TH_ERR_BASE];
	return strerror(u <= INT_MAX ? (int)u : err);
}
