/* libFuzzer: web_sdp's offer parser. An accepted offer has well-formed ICE
 * credentials and a data section among its sections, and always gets an
 * answer within WEB_SDP_ANSWER_MAX, even with the most candidates. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_sdp.h"

static bool ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	return n >= min && n <= max &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_sdp_offer o;
	const char *why = NULL;
	int rv = web_sdp_parse_offer((const char *)data, size, &o, &why);
	if (rv != 0) {
		if (rv != -EBADMSG || !why)
			abort();
		return 0;
	}
	if (why || o.ice_lite || o.n_mlines == 0 || o.n_mlines > WEB_SDP_MAX_MLINES || o.mline_index >= o.n_mlines ||
	    !ice_chars(o.ice_ufrag, 4, WEB_SDP_UFRAG_MAX) || !ice_chars(o.ice_pwd, 22, WEB_SDP_PWD_MAX) ||
	    o.sctp_port == 0 || strlen(o.mid) > WEB_SDP_MID_MAX || strcmp(o.mid, o.mlines[o.mline_index].mid) != 0 ||
	    (o.bundle && !o.mid[0]))
		abort();
	struct sockaddr_storage c[WEB_SDP_MAX_CANDIDATES];
	memset(c, 0, sizeof(c));
	for (unsigned i = 0; i < WEB_SDP_MAX_CANDIDATES; i++) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c[i];
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(65535);
		memset(&s6->sin6_addr, 0xfe, sizeof(s6->sin6_addr)); /* the longest text form */
	}
	static const uint8_t fp[WEB_SDP_FP_LEN] = { 0xff };
	struct web_sdp_answer_params p = {
		.offer = &o,
		.ice_ufrag = "ABCDEFGH",
		.ice_pwd = "ABCDEFGHIJKLMNOPQRSTUVWX",
		.fp = fp,
		.session_id = UINT64_MAX,
		.cands = c,
		.n_cands = WEB_SDP_MAX_CANDIDATES,
		.max_message_size = UINT64_MAX,
	};
	char answer[WEB_SDP_ANSWER_MAX];
	int n = web_sdp_build_answer(&p, answer, sizeof(answer));
	if (n <= 0 || (size_t)n != strlen(answer))
		abort();
	return 0;
}
