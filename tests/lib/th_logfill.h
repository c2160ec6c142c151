/* Fills a command log offline, through the clog API (clog_submit_local and
 * group commits), for tests and benchmarks that need a long log quickly:
 * `authors` authors with deterministic keys (lt_author_init(seed + i)),
 * entries round-robin, one group commit every `batch` entries (one
 * signature per author and batch, as the daemon writes them), each a
 * well-formed tool.state on one of LF_TOOLS tools (daemons check every
 * payload a peer sends, so a filled log is one they serve and take). Run it
 * on a session's log directory while no daemon has the log open. */
#pragma once
#include <stdint.h>

struct lf_config {
	unsigned authors;     /* 1..LF_AUTHORS_MAX */
	uint64_t entries;
	uint32_t payload_len; /* tool.state payload bytes, LF_PAYLOAD_MIN..TH_PL_MAXSZ_TOOL_STATE */
	uint32_t batch;       /* entries per group commit (0: 4096) */
	uint8_t seed;         /* first author's key seed byte */
};

#define LF_AUTHORS_MAX 64u
#define LF_TOOLS       4096u
#define LF_PAYLOAD_MIN 6u /* tool.state: u32 tool, u16 length, no settings */

/* Appends cfg->entries entries to the log in dir (created when absent).
 * 0 or negative errno; *bytes (may be NULL): the log's size in bytes of
 * records written. */
int lf_fill(const char *dir, const struct lf_config *cfg, uint64_t *bytes);

/* Whether the logs in dir_a and dir_b (both closed) hold the same entries:
 * `want` each, every record of both reads back valid, and every author's
 * chain has the same length and head hash in both (each entry's prev is
 * its predecessor's hash, so equal heads mean equal chains; the append
 * order may differ). 0, -EBADMSG when they differ, or the log's error. */
int lf_logs_same(const char *dir_a, const char *dir_b, uint64_t want);
