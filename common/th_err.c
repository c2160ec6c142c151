#include "th_err.h"

#include <stdlib.h>
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
	err = abs(err);
	if (err > TH_ERR_BASE && err < TH_ERR_END && th_err_text[err - TH_ERR_BASE])
		return th_err_text[err - TH_ERR_BASE];
	return strerror(err);
}
