/* Stable id derivation (schemas/ids.def). */
#include "th_id.h"

#include <sodium.h>
#include <stdio.h>

/* Domain of the hash input, NUL included: no other BLAKE2b input in Theta
 * starts with it. */
static const char th_id_domain[] = "theta/id/v1";
#define TH_ID_HASH_LEN 8

uint64_t th_id_derive(enum th_id_kind kind, const uint8_t author[TH_ID_KEY_LEN], uint64_t seq, uint32_t index)
{
	uint8_t in[sizeof th_id_domain + 1 + TH_ID_KEY_LEN + 8 + 4], out[TH_ID_HASH_LEN];
	uint8_t *p = in;
	memcpy(p, th_id_domain, sizeof th_id_domain);
	p += sizeof th_id_domain;
	*p++ = (uint8_t)kind;
	memcpy(p, author, TH_ID_KEY_LEN);
	p += TH_ID_KEY_LEN;
	th_put_le64(p, seq);
	th_put_le32(p + 8, index);
	crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
	uint64_t id = th_get_le64(out);
	return id == TH_ID_NONE ? 1 : id;
}

const char *th_id_kind_name(unsigned kind)
{
	switch (kind) {
#define TH_ID_KIND(value, NAME, name) case (value): return name;
#include "ids.def"
#undef TH_ID_KIND
	}
	return "?";
}

int th_id_render(struct th_wbuf *b)
{
	char line[160];
	int n = snprintf(line, sizeof line, "source ids blake2b-%u \"%s\" kind author seq index\n", TH_ID_HASH_LEN,
			 th_id_domain);
	th_wbuf_put(b, line, (size_t)n);
#define TH_ID_KIND(value, NAME, name)                                                  \
	n = snprintf(line, sizeof line, "id-kind %u %s\n", (unsigned)(value), name); \
	th_wbuf_put(b, line, (size_t)n);
#include "ids.def"
#undef TH_ID_KIND
	return th_wbuf_error(b);
}
