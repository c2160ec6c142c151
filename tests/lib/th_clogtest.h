/* Fixtures the command-log tests share (tests/thetad/clog, tests/thetad/net
 * catch-up): the log's directory inside a fresh temporary one, so a test can
 * close, damage and reopen it; and the local component.write they submit. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "clog/clog.h"
#include "th_logtest.h"

#define CT_TIME_NS 1700000000000000000ull /* the wall clock a test's entries record */

/* Makes a temporary directory and writes "<it>/log" into dir (not created:
 * clog_open makes it). 0 or negative errno. */
int ct_logdir_create(char *dir, size_t cap);
/* Removes the temporary directory around dir, as ct_logdir_create wrote it. */
void ct_logdir_remove(const char *dir);

/* A component.write by a on entity scope_id, editor role, from source,
 * based on c's current lamport, with no request id and no done callback:
 * the caller changes what its case needs. */
struct clog_submit ct_write(const struct clog *c, const struct lt_author *a, uint32_t source, uint64_t req_seq,
			    uint64_t scope_id, const void *payload, uint32_t len);
