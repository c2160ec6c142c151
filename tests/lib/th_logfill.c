#include "th_logfill.h"

#include <errno.h>
#include <string.h>

#include "clog/clog.h"
#include "th_cmd.h"
#include "th_logtest.h"
#include "th_payload.h"

#define LF_BATCH_DEFAULT 4096u
#define LF_NOW_NS 1000000000ull

int lf_fill(const char *dir, const struct lf_config *cfg, uint64_t *bytes)
{
	if (!cfg->authors || cfg->authors > LF_AUTHORS_MAX || cfg->payload_len < LF_PAYLOAD_MIN ||
	    cfg->payload_len > TH_PL_MAXSZ_TOOL_STATE)
		return -EINVAL;
	uint32_t batch = cfg->batch ? cfg->batch : LF_BATCH_DEFAULT;
	struct clog_config cc = {
		.rate_per_s = UINT32_MAX,
		.rate_burst = UINT32_MAX,
		.pending_per_source = batch,
		.validate = th_cmd_payload_check, /* as the daemons that read it check */
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
	uint8_t settings[TH_PL_TOOL_SETTINGS_MAX], payload[TH_PL_MAXSZ_TOOL_STATE];
	for (uint64_t k = 0; k < cfg->entries && r >= 0; k++) {
		unsigned ai = (unsigned)(k % cfg->authors);
		uint64_t tool = 1 + k % LF_TOOLS;
		memset(settings, (int)(k & 0xff), cfg->payload_len - LF_PAYLOAD_MIN);
		struct th_pl_tool_state ts = { .tool = (uint32_t)tool, .settings = settings,
					       .settings_len = (uint16_t)(cfg->payload_len - LF_PAYLOAD_MIN) };
		r = th_cmd_payload_encode(TH_CMD_TOOL_STATE, &ts, payload, sizeof(payload));
		if (r < 0)
			break;
		struct clog_submit s = {
			.source = 1 + ai,
			.role = TH_ROLE_ADMIN,
			.key = &a[ai].kp,
			.req_seq = ++req_seq[ai],
			.type = TH_CMD_TOOL_STATE,
			.scope_kind = TH_SCOPE_TOOL,
			.scope_id = tool,
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

/* Every record valid: the number of entries, or the cursor's error. */
static int64_t lf_read_all(struct clog *c)
{
	struct clog_cursor *cur;
	int r = clog_cursor_open(c, 0, NULL, NULL, &cur);
	if (r < 0)
		return r;
	int64_t n = 0;
	uint64_t pos;
	struct th_logrec_entry e;
	while ((r = clog_cursor_next(cur, &pos, &e)) == 1)
		n++;
	clog_cursor_close(&cur);
	return r < 0 ? r : n;
}

static int lf_head_same(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	struct clog *other = user;
	uint64_t oseq;
	uint8_t ohash[32];
	if (clog_author_head(other, key, &oseq, ohash) < 0 || oseq != seq || memcmp(ohash, hash, 32))
		return -EBADMSG;
	return 0;
}

static int lf_count_author(void *user, const uint8_t key[32], uint64_t seq, const uint8_t hash[32])
{
	(*(uint64_t *)user)++;
	return 0;
}

int lf_logs_same(const char *dir_a, const char *dir_b, uint64_t want)
{
	struct clog_config cfg = { 0 };
	struct clog_callbacks cb = { 0 };
	struct clog *a = NULL, *b = NULL;
	int r = clog_open(dir_a, &cfg, &cb, NULL, &a, NULL);
	if (r == 0)
		r = clog_open(dir_b, &cfg, &cb, NULL, &b, NULL);
	uint64_t na = 0, nb = 0;
	if (r == 0 && (clog_count(a) != want || clog_count(b) != want))
		r = -EBADMSG;
	int64_t ra = r == 0 ? lf_read_all(a) : 0, rb = r == 0 ? lf_read_all(b) : 0;
	if (r == 0 && (ra < 0 || rb < 0))
		r = (int)(ra < 0 ? ra : rb);
	else if (r == 0 && ((uint64_t)ra != want || (uint64_t)rb != want))
		r = -EBADMSG;
	if (r == 0)
		r = clog_authors_each(a, lf_head_same, b);
	if (r == 0 && (clog_authors_each(a, lf_count_author, &na) < 0 || clog_authors_each(b, lf_count_author, &nb) < 0 ||
		       na != nb))
		r = -EBADMSG;
	clog_close(&a);
	clog_close(&b);
	return r;
}
