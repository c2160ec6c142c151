/* libFuzzer: the typed command payload decoders (common/th_payload.c).
 * Input: u16 LE command type, then the payload. An accepted payload must
 * re-encode to the same bytes (one canonical encoding), stay within the
 * largest encoding the description allows, and pass the generic check; a refused one must say why. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "th_buf.h"
#include "th_cmd.h"
#include "th_logrec.h"
#include "th_payload.h"

static union th_pl_any out;
static uint8_t again[TH_LOGREC_PAYLOAD_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* Map any u16 onto the registry so every decoder gets inputs. */
	uint16_t type = th_get_le16(data);
	const struct th_cmd_info *c = th_cmd_find(type);
	if (!c)
		c = th_cmd_at(type % th_cmd_count());
	const uint8_t *p = data + 2;
	size_t len = size - 2;
	const char *why = NULL;
	int rv = th_cmd_payload_decode(c->id, p, len, &out, &why);
	if (rv == 0) {
		if (len > c->max_encoded || c->max_encoded > c->max_payload)
			abort();
		int n = th_cmd_payload_encode(c->id, &out, again, sizeof again);
		if (n != (int)len || memcmp(again, p, len) != 0)
			abort();
		if (th_cmd_payload_check(c->id, p, len, NULL) != 0)
			abort();
	} else if (rv != -EBADMSG || !why) {
		abort();
	}
	return 0;
}
