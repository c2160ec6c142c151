/* DCEP messages (web_dcep.h, RFC 8832 section 5). */
#include "web/web_dcep.h"

#include <errno.h>
#include <string.h>

#include "th_utf8.h"

#define DCEP_OPEN_HDR_LEN 12u /* type, channel type, priority, reliability, label and protocol lengths */
#define DCEP_ACK_LEN 1u

bool web_dcep_unordered(uint8_t channel_type)
{
	return (channel_type & WEB_DCEP_UNORDERED) != 0;
}

static bool known_type(uint8_t t)
{
	switch (t & (uint8_t)~WEB_DCEP_UNORDERED) {
	case WEB_DCEP_RELIABLE:
	case WEB_DCEP_PARTIAL_RELIABLE_REXMIT:
	case WEB_DCEP_PARTIAL_RELIABLE_TIMED:
		return true;
	default:
		return false;
	}
}

/* A label or protocol: UTF-8 without NUL, at most max bytes. */
static bool text_ok(const uint8_t *s, size_t n, size_t max)
{
	return n <= max && !memchr(s, '\0', n) && th_utf8_valid(s, n);
}

int web_dcep_parse_open(const uint8_t *p, size_t len, struct web_dcep_open *out)
{
	if (len == 0)
		return -EBADMSG;
	if (p[0] == WEB_DCEP_ACK)
		return len == DCEP_ACK_LEN ? -ENOTSUP : -EBADMSG;
	if (p[0] != WEB_DCEP_OPEN || len < DCEP_OPEN_HDR_LEN)
		return -EBADMSG;
	size_t ll = (size_t)p[8] << 8 | p[9];
	size_t pl = (size_t)p[10] << 8 | p[11];
	if (len != DCEP_OPEN_HDR_LEN + ll + pl || !known_type(p[1]))
		return -EBADMSG;
	const uint8_t *label = p + DCEP_OPEN_HDR_LEN, *proto = label + ll;
	if (!text_ok(label, ll, WEB_DCEP_LABEL_MAX) || !text_ok(proto, pl, WEB_DCEP_PROTOCOL_MAX))
		return -EBADMSG;
	out->channel_type = p[1];
	out->priority = (uint16_t)(p[2] << 8 | p[3]);
	out->reliability = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	memcpy(out->label, label, ll);
	out->label[ll] = '\0';
	memcpy(out->protocol, proto, pl);
	out->protocol[pl] = '\0';
	return 0;
}

int web_dcep_build_ack(uint8_t *out, size_t cap)
{
	if (cap < DCEP_ACK_LEN)
		return -ENOBUFS;
	out[0] = WEB_DCEP_ACK;
	return DCEP_ACK_LEN;
}

int web_dcep_build_open(const struct web_dcep_open *o, uint8_t *out, size_t cap)
{
	size_t ll = strnlen(o->label, sizeof(o->label));
	size_t pl = strnlen(o->protocol, sizeof(o->protocol));
	if (ll > WEB_DCEP_LABEL_MAX || pl > WEB_DCEP_PROTOCOL_MAX || !known_type(o->channel_type))
		return -EINVAL;
	size_t total = DCEP_OPEN_HDR_LEN + ll + pl;
	if (cap < total)
		return -ENOBUFS;
	out[0] = WEB_DCEP_OPEN;
	out[1] = o->channel_type;
	out[2] = (uint8_t)(o->priority >> 8);
	out[3] = (uint8_t)o->priority;
	out[4] = (uint8_t)(o->reliability >> 24);
	out[5] = (uint8_t)(o->reliability >> 16);
	out[6] = (uint8_t)(o->reliability >> 8);
	out[7] = (uint8_t)o->reliability;
	out[8] = (uint8_t)(ll >> 8);
	out[9] = (uint8_t)ll;
	out[10] = (uint8_t)(pl >> 8);
	out[11] = (uint8_t)pl;
	memcpy(out + DCEP_OPEN_HDR_LEN, o->label, ll);
	memcpy(out + DCEP_OPEN_HDR_LEN + ll, o->protocol, pl);
	return (int)total;
}
