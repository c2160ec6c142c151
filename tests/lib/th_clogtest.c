#include "th_clogtest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "th_harness.h"

#define CT_LOG_SUBDIR "/log"

int ct_logdir_create(char *dir, size_t cap)
{
	if (cap <= sizeof(CT_LOG_SUBDIR))
		return -ENAMETOOLONG;
	int r = th_mkdtemp(dir, cap - (sizeof(CT_LOG_SUBDIR) - 1));
	if (r < 0)
		return r;
	strcat(dir, CT_LOG_SUBDIR);
	return 0;
}

void ct_logdir_remove(const char *dir)
{
	char root[PATH_MAX];
	size_t n = strlen(dir), sub = sizeof(CT_LOG_SUBDIR) - 1;
	if (n <= sub || n - sub >= sizeof(root) || strcmp(dir + n - sub, CT_LOG_SUBDIR) != 0)
		return; /* not one ct_logdir_create wrote: remove nothing */
	memcpy(root, dir, n - sub);
	root[n - sub] = 0;
	th_rm_rf(root);
}

struct clog_submit ct_write(const struct clog *c, const struct lt_author *a, uint32_t source, uint64_t req_seq,
			    uint64_t scope_id, const void *payload, uint32_t len)
{
	return (struct clog_submit){
		.source = source,
		.role = TH_ROLE_EDITOR,
		.key = &a->kp,
		.req_seq = req_seq,
		.type = TH_CMD_COMPONENT_WRITE,
		.scope_kind = TH_SCOPE_ENTITY,
		.scope_id = scope_id,
		.base = clog_lamport(c),
		.time_ns = CT_TIME_NS,
		.payload = payload,
		.payload_len = len,
	};
}
