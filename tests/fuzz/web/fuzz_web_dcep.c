/* libFuzzer: web_dcep's OPEN parser. DCEP's encoding is canonical, so an
 * accepted OPEN must build back into exactly the bytes it came from. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_dcep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_dcep_open o;
	int rv = web_dcep_parse_open(data, size, &o);
	if (rv == -EBADMSG || rv == -ENOTSUP)
		return 0;
	if (rv != 0)
		abort();
	uint8_t again[12 + WEB_DCEP_LABEL_MAX + WEB_DCEP_PROTOCOL_MAX];
	int n = web_dcep_build_open(&o, again, sizeof(again));
	if (n < 0 || (size_t)n != size || memcmp(again, data, size) != 0)
		abort();
	if (web_dcep_unordered(o.channel_type) != ((data[1] & 0x80) != 0))
		abort();
	return 0;
}
