/* libFuzzer: the theta:// invite link parser. A link that parses must
 * format back into a link that parses to the same fields. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char link[PROTO_INVITE_MAX_LINK + 64];
	if (size >= sizeof(link))
		size = sizeof(link) - 1;
	memcpy(link, data, size);
	link[size] = '\0';
	struct proto_invite_link l;
	int rv = proto_invite_parse(link, &l);
	const char *why = proto_invite_check(link);
	if ((rv == 0) != (why == NULL))
		abort();
	if (rv != 0)
		return 0;
	char again[PROTO_INVITE_MAX_LINK + 64];
	if (proto_invite_format(l.host, l.port, l.fp, l.token, again, sizeof(again)) < 0)
		abort();
	struct proto_invite_link l2;
	if (proto_invite_parse(again, &l2) != 0 || strcmp(l.host, l2.host) != 0 || l.port != l2.port ||
	    memcmp(l.fp, l2.fp, sizeof(l.fp)) != 0 || memcmp(l.token, l2.token, sizeof(l.token)) != 0 ||
	    memcmp(l.session_id, l2.session_id, sizeof(l.session_id)) != 0)
		abort();
	return 0;
}
