#include "th_logfill.h"

#include <errno.h>
#include <string.h>

#include "clog/clog.h"
#include "th_cmd.h"
#include "th_logtest.h"

#define LF_BATCH_DEFAULT 4096u
#define LF_NOW_NS 1000000000ull

int lf_fill(const char *dir, const struct lf_config *cfg, uint64_t *bytes)
{
	if (!cfg->authors || cfg->authors > LF_AUTHORS_MAX || cfg->payload_len > TH_LOGREC_PAYLOAD_MAX)
		return -EINVAL;
	uint32_t batch = cfg->batch ? cfg->batch : LF_BATCH_DEFAULT;
	struct clog_config cc = {
		.rate_per_s = UINT32_MAX,
		.rate_burst = UINT32_MAX,
		.pending_per_source = batch,
	};
	struct clog_callbacks cb = { 0 };
	struct clog *c;
	int r = clog_open(dir, &cc, &cb, NULL, &c, NULL);
	if (r < 0)
		return r;
	static struct lt_author a[LF_AUTHORS_MAX];
	static uint64_t req_seq[LF_AUTHORS_MAX];
	for (unsigned i = 0; i < cfg->authors; i++) {
		lt_author_init(&a[i], (uint8_t)(cfg->seed + i));
		req_seq[i] = 0;
	}
	uint8_t payload[TH_LOGREC_PAYLOAD_MAX];
	for (uint64_t k = 0; k < cfg->entries && r >= 0; k++) {
		unsigned ai = (unsigned)(k % cfg->authors);
		memset(payload, (int)(k & 0xff), cfg->payload_len);
		struct clog_submit s = {
			.source = 1 + ai,
			.role = TH_ROLE_ADMIN,
			.key = &a[ai].kp,
			.req_seq = ++req_seq[ai],
			.type = TH_CMD_COMPONENT_WRITE,
			.scope_kind = TH_SCOPE_ENTITY,
			.scope_id = 1 + k % LF_ENTITIES,
			.base = clog_lamport(c),
			.time_ns = 1700000000000000000ull + k,
			.payload = payload,
			.payload_len = cfg->payload_len,
		};
		struct clog_id id;
		int why;
		r = clog_submit_local(c, &s, LF_NOW_NS, &id, &why);
		if (r >= 0 && ((k + 1) % batch == 0 || k + 1 == cfg->entries))
			r = clog_flush(c, LF_NOW_NS);
	}
	if (r >= 0 && bytes) {
		struct clog_stats st;
		clog_get_stats(c, &st);
		*bytes = st.bytes_written;
	}
	clog_close(&c);
	return r < 0 ? r : 0;
}
