#include "th_journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"

#define TH_JOURNAL_MIN_CAP 256u

void th_journal_init(struct th_journal *j, size_t max)
{
	*j = (struct th_journal){ .max = max };
}

void th_journal_fini(struct th_journal *j)
{
	free(j->buf);
	*j = (struct th_journal){ 0 };
}

int th_journal_push(struct th_journal *j, uint8_t kind, const void *data, size_t len)
{
	if (len > UINT32_MAX || len > SIZE_MAX - TH_JOURNAL_REC_OVERHEAD - j->len)
		return -ENOSPC;
	size_t need = j->len + len + TH_JOURNAL_REC_OVERHEAD;
	if (j->max && need > j->max)
		return -ENOSPC;
	if (need > j->cap) {
		size_t cap = j->cap ? j->cap : TH_JOURNAL_MIN_CAP;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (j->max && cap > j->max)
			cap = j->max;
		uint8_t *b = realloc(j->buf, cap);
		if (!b)
			return -ENOMEM;
		j->buf = b;
		j->cap = cap;
	}
	if (len)
		memcpy(j->buf + j->len, data, len);
	th_put_le32(j->buf + j->len + len, (uint32_t)len);
	j->buf[j->len + len + 4] = kind;
	j->len = need;
	return 0;
}

int th_journal_pop(struct th_journal *j, size_t mark, uint8_t *kind, const uint8_t **data, size_t *len)
{
	if (j->len <= mark)
		return 0;
	if (j->len - mark < TH_JOURNAL_REC_OVERHEAD)
		return -EBADMSG;
	size_t end = j->len - TH_JOURNAL_REC_OVERHEAD;
	uint32_t n = th_get_le32(j->buf + end);
	if (n > end - mark)
		return -EBADMSG;
	*kind = j->buf[end + 4];
	*data = j->buf + end - n;
	*len = n;
	j->len = end - n;
	return 1;
}
