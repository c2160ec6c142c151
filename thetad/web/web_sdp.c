/* SDP offers from browsers and our ICE-lite answers (web_sdp.h). */
#include "web/web_sdp.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "th_hex.h"

#define SDP_UFRAG_MIN 4u /* RFC 8839 5.4 */
#define SDP_PWD_MIN 22u
#define SDP_PORT_MAX 65535u
#define SDP_DATA_MEDIA "application"
#define SDP_DATA_PROTO "UDP/DTLS/SCTP"
#define SDP_DATA_FMT "webrtc-datachannel"
#define SDP_HOST_TYPE_PREF 126u /* RFC 8445 5.1.2.2 */
#define SDP_LOCAL_PREF_MAX 65535u
#define SDP_COMPONENT_RTP 1u
#define SDP_SESSION_ID_MASK UINT64_C(0x3fffffffffffffff) /* o= sess-id fits 62 bits */
#define SDP_ICE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define SDP_U64_DIGITS_MAX 20u /* UINT64_MAX has 20 decimal digits */
#define SDP_FP_HASH "sha-256"

enum sdp_setup { SETUP_NONE, SETUP_ACTPASS, SETUP_ACTIVE, SETUP_PASSIVE, SETUP_OTHER };

/* The ICE and DTLS attributes of one level (session or a media section). */
struct sdp_level {
	char ufrag[WEB_SDP_UFRAG_MAX + 1];
	char pwd[WEB_SDP_PWD_MAX + 1];
	uint8_t fp[WEB_SDP_FP_LEN];
	bool have_ufrag, have_pwd, have_fp, fp_other, bad_ufrag, bad_pwd, bad_fp;
	enum sdp_setup setup;
};

struct sdp_parse {
	struct web_sdp_offer o;
	struct sdp_level session, media, data;
	bool in_media, cur_is_data, have_data, have_sctp_port, have_mms;
	char bundle[WEB_SDP_LINE_MAX + 1]; /* the first BUNDLE group's mids */
	bool have_bundle;
};

static bool ice_chars(const char *s, size_t n, size_t min, size_t max)
{
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!memchr(SDP_ICE_CHARS, s[i], sizeof(SDP_ICE_CHARS) - 1))
			return false;
	return true;
}

/* Digits only, no sign, value <= max. */
static bool parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > SDP_U64_DIGITS_MAX)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* "sha-256 AB:CD:..." into fp; 1 sha-256, 0 another hash, -1 malformed. */
static int parse_fingerprint(const char *v, uint8_t fp[WEB_SDP_FP_LEN])
{
	const char *sp = strchr(v, ' ');
	if (!sp || sp == v)
		return -1;
	if ((size_t)(sp - v) != strlen(SDP_FP_HASH) || strncasecmp(v, SDP_FP_HASH, strlen(SDP_FP_HASH)) != 0)
		return 0;
	const char *h = sp + 1;
	if (strlen(h) != WEB_SDP_FP_LEN * 3 - 1)
		return -1;
	for (unsigned i = 0; i < WEB_SDP_FP_LEN; i++) {
		int hi = th_hex_digit(h[3 * i]), lo = th_hex_digit(h[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i + 1 < WEB_SDP_FP_LEN && h[3 * i + 2] != ':'))
			return -1;
		fp[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
}

static void level_attr(struct sdp_level *l, const char *name, const char *val)
{
	size_t vn = strlen(val);
	if (strcmp(name, "ice-ufrag") == 0 && !l->have_ufrag && !l->bad_ufrag) {
		if (ice_chars(val, vn, SDP_UFRAG_MIN, WEB_SDP_UFRAG_MAX)) {
			memcpy(l->ufrag, val, vn + 1);
			l->have_ufrag = true;
		} else {
			l->bad_ufrag = true;
		}
	} else if (strcmp(name, "ice-pwd") == 0 && !l->have_pwd && !l->bad_pwd) {
		if (ice_chars(val, vn, SDP_PWD_MIN, WEB_SDP_PWD_MAX)) {
			memcpy(l->pwd, val, vn + 1);
			l->have_pwd = true;
		} else {
			l->bad_pwd = true;
		}
	} else if (strcmp(name, "fingerprint") == 0 && !l->have_fp) {
		int r = parse_fingerprint(val, l->fp);
		if (r > 0)
			l->have_fp = true;
		else if (r == 0)
			l->fp_other = true;
		else
			l->bad_fp = true;
	} else if (strcmp(name, "setup") == 0 && l->setup == SETUP_NONE) {
		l->setup = strcmp(val, "actpass") == 0   ? SETUP_ACTPASS
			   : strcmp(val, "active") == 0  ? SETUP_ACTIVE
			   : strcmp(val, "passive") == 0 ? SETUP_PASSIVE
							 : SETUP_OTHER;
	}
}

static void end_section(struct sdp_parse *s)
{
	if (s->in_media && s->cur_is_data)
		s->data = s->media;
}

/* Splits "m=" values: media SP port[/n] SP proto SP fmt ... */
static int m_line(struct sdp_parse *s, char *v, const char **why)
{
	end_section(s);
	if (s->o.n_mlines >= WEB_SDP_MAX_MLINES) {
		*why = "the offer has too many media sections";
		return -EBADMSG;
	}
	char *tok[4];
	unsigned n = 0;
	char *save = NULL;
	for (char *t = strtok_r(v, " ", &save); t && n < 4; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	if (n < 4) {
		*why = "the offer has a malformed m= line";
		return -EBADMSG;
	}
	char *slash = strchr(tok[1], '/');
	size_t plen = slash ? (size_t)(slash - tok[1]) : strlen(tok[1]);
	uint64_t port;
	if (!parse_uint(tok[1], plen, SDP_PORT_MAX, &port)) {
		*why = "the offer has an m= line with a bad port";
		return -EBADMSG;
	}
	struct web_sdp_mline *m = &s->o.mlines[s->o.n_mlines];
	memset(m, 0, sizeof(*m));
	const unsigned fields[3] = { 0, 2, 3 };
	char *dst[3] = { m->media, m->proto, m->fmt };
	for (unsigned i = 0; i < 3; i++) {
		size_t tl = strlen(tok[fields[i]]);
		if (tl > WEB_SDP_TOKEN_MAX) {
			*why = "the offer has an m= line with an over-long token";
			return -EBADMSG;
		}
		memcpy(dst[i], tok[fields[i]], tl + 1);
	}
	bool is_data = port != 0 && strcmp(m->media, SDP_DATA_MEDIA) == 0 && strcmp(m->proto, SDP_DATA_PROTO) == 0 &&
		       strcmp(m->fmt, SDP_DATA_FMT) == 0;
	if (is_data && s->have_data) {
		*why = "the offer has more than one data channel section";
		return -EBADMSG;
	}
	if (is_data) {
		s->have_data = true;
		s->o.mline_index = s->o.n_mlines;
	}
	s->cur_is_data = is_data;
	s->in_media = true;
	memset(&s->media, 0, sizeof(s->media));
	s->o.n_mlines++;
	return 0;
}

static int a_line(struct sdp_parse *s, char *v, const char **why)
{
	char *colon = strchr(v, ':');
	const char *val = colon ? colon + 1 : "";
	if (colon)
		*colon = '\0';
	const char *name = v;
	if (!s->in_media) {
		if (strcmp(name, "ice-lite") == 0)
			s->o.ice_lite = true;
		else if (strcmp(name, "group") == 0 && strncmp(val, "BUNDLE", 6) == 0 &&
			 (val[6] == ' ' || val[6] == '\0') && !s->have_bundle) {
			s->have_bundle = true;
			snprintf(s->bundle, sizeof(s->bundle), "%s", val + 6);
		} else
			level_attr(&s->session, name, val);
		return 0;
	}
	struct web_sdp_mline *m = &s->o.mlines[s->o.n_mlines - 1];
	if (strcmp(name, "mid") == 0 && m->mid[0] == '\0') {
		size_t n = strlen(val);
		if (n == 0 || n > WEB_SDP_MID_MAX || strchr(val, ' ')) {
			*why = "the offer has a malformed a=mid";
			return -EBADMSG;
		}
		memcpy(m->mid, val, n + 1);
		return 0;
	}
	if (!s->cur_is_data)
		return 0;
	if (strcmp(name, "sctp-port") == 0 && !s->have_sctp_port) {
		uint64_t port;
		if (!parse_uint(val, strlen(val), SDP_PORT_MAX, &port) || port == 0) {
			*why = "the offer has a bad a=sctp-port";
			return -EBADMSG;
		}
		s->o.sctp_port = (uint16_t)port;
		s->have_sctp_port = true;
	} else if (strcmp(name, "max-message-size") == 0 && !s->have_mms) {
		if (!parse_uint(val, strlen(val), UINT64_MAX, &s->o.max_message_size)) {
			*why = "the offer has a bad a=max-message-size";
			return -EBADMSG;
		}
		s->have_mms = true;
	} else {
		level_attr(&s->media, name, val);
	}
	return 0;
}

static bool bundle_names(const char *group, const char *mid)
{
	size_t n = strlen(mid);
	for (const char *p = group; *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && len > 0 && memcmp(p, mid, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* The data section's attributes, media level first, then session level. */
static int finish(struct sdp_parse *s, const char **why)
{
	end_section(s);
	if (!s->have_data) {
		*why = "the offer has no data channel section (m=application UDP/DTLS/SCTP webrtc-datachannel)";
		return -EBADMSG;
	}
	if (s->o.ice_lite) {
		*why = "the offer is ice-lite, and two ice-lite agents cannot connect";
		return -EBADMSG;
	}
	const struct sdp_level *d = &s->data, *g = &s->session;
	const struct sdp_level *u = d->have_ufrag || d->bad_ufrag ? d : g;
	const struct sdp_level *pw = d->have_pwd || d->bad_pwd ? d : g;
	if (u->bad_ufrag) {
		*why = "the offer's ICE username fragment (a=ice-ufrag) is malformed";
		return -EBADMSG;
	}
	if (!u->have_ufrag) {
		*why = "the offer has no ICE username fragment (a=ice-ufrag)";
		return -EBADMSG;
	}
	if (pw->bad_pwd) {
		*why = "the offer's ICE password (a=ice-pwd) is malformed";
		return -EBADMSG;
	}
	if (!pw->have_pwd) {
		*why = "the offer has no ICE password (a=ice-pwd)";
		return -EBADMSG;
	}
	const struct sdp_level *f = d->have_fp || d->bad_fp || d->fp_other ? d : g;
	if (!f->have_fp) {
		*why = f->bad_fp     ? "the offer's DTLS fingerprint (a=fingerprint) is malformed"
		       : f->fp_other ? "the offer's DTLS fingerprint is not sha-256"
				     : "the offer has no DTLS fingerprint (a=fingerprint)";
		return -EBADMSG;
	}
	enum sdp_setup setup = d->setup != SETUP_NONE ? d->setup : g->setup;
	if (setup == SETUP_PASSIVE) {
		*why = "the offer asks us to be the DTLS client (a=setup:passive), and thetad is always the DTLS server";
		return -EBADMSG;
	}
	if (setup == SETUP_OTHER) {
		*why = "the offer's DTLS role (a=setup) is not actpass or active";
		return -EBADMSG;
	}
	memcpy(s->o.ice_ufrag, u->ufrag, sizeof(s->o.ice_ufrag));
	memcpy(s->o.ice_pwd, pw->pwd, sizeof(s->o.ice_pwd));
	memcpy(s->o.fp, f->fp, WEB_SDP_FP_LEN);
	s->o.setup_active = setup == SETUP_ACTIVE || setup == SETUP_NONE;
	const char *mid = s->o.mlines[s->o.mline_index].mid;
	memcpy(s->o.mid, mid, sizeof(s->o.mid));
	s->o.bundle = s->have_bundle && mid[0] && bundle_names(s->bundle, mid);
	if (!s->have_sctp_port)
		s->o.sctp_port = WEB_SDP_SCTP_PORT;
	if (!s->have_mms)
		s->o.max_message_size = WEB_SDP_MAX_MESSAGE;
	return 0;
}

int web_sdp_parse_offer(const char *sdp, size_t len, struct web_sdp_offer *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (len > WEB_SDP_MAX) {
		*why = "the offer is too long";
		return -EBADMSG;
	}
	static_assert(sizeof(struct sdp_parse) < 16384, "parse state fits the stack");
	struct sdp_parse s;
	memset(&s, 0, sizeof(s));
	char line[WEB_SDP_LINE_MAX + 1];
	bool first = true;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(sdp + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - sdp) : len;
		size_t n = end - pos;
		if (n > 0 && sdp[pos + n - 1] == '\r')
			n--;
		if (n > WEB_SDP_LINE_MAX) {
			*why = "the offer has an over-long line";
			return -EBADMSG;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)sdp[pos + i];
			if (c < 0x20 || c == 0x7f) {
				*why = "the offer contains a control character";
				return -EBADMSG;
			}
		}
		memcpy(line, sdp + pos, n);
		line[n] = '\0';
		pos = nl ? end + 1 : len;
		if (n == 0)
			continue;
		if (n < 2 || line[0] < 'a' || line[0] > 'z' || line[1] != '=') {
			*why = "the offer has a line that is not type=value";
			return -EBADMSG;
		}
		if (first) {
			if (strcmp(line, "v=0") != 0) {
				*why = "the offer does not start with v=0";
				return -EBADMSG;
			}
			first = false;
			continue;
		}
		int rv = 0;
		if (line[0] == 'm')
			rv = m_line(&s, line + 2, why);
		else if (line[0] == 'a')
			rv = a_line(&s, line + 2, why);
		if (rv < 0)
			return rv;
	}
	if (first) {
		*why = "the offer is empty";
		return -EBADMSG;
	}
	int rv = finish(&s, why);
	if (rv < 0)
		return rv;
	*out = s.o;
	*why = NULL;
	return 0;
}

struct sdp_out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct sdp_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct sdp_out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* The address and port of a candidate, or -EINVAL. */
static int cand_addr(const struct sockaddr_storage *ss, char *addr, size_t cap, unsigned *port, bool *v6)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		*port = ntohs(s4->sin_port);
		*v6 = false;
		return inet_ntop(AF_INET, &s4->sin_addr, addr, (socklen_t)cap) ? 0 : -EINVAL;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		*port = ntohs(s6->sin6_port);
		*v6 = true;
		return inet_ntop(AF_INET6, &s6->sin6_addr, addr, (socklen_t)cap) ? 0 : -EINVAL;
	}
	return -EINVAL;
}

int web_sdp_build_answer(const struct web_sdp_answer_params *p, char *out, size_t cap)
{
	if (!p || !p->offer || !p->ice_ufrag || !p->ice_pwd || !p->fp || !p->cands || p->n_cands == 0 ||
	    p->n_cands > WEB_SDP_MAX_CANDIDATES || cap == 0)
		return -EINVAL;
	const struct web_sdp_offer *of = p->offer;
	if (!ice_chars(p->ice_ufrag, strlen(p->ice_ufrag), SDP_UFRAG_MIN, WEB_SDP_UFRAG_MAX) ||
	    !ice_chars(p->ice_pwd, strlen(p->ice_pwd), SDP_PWD_MIN, WEB_SDP_PWD_MAX) || of->n_mlines == 0 ||
	    of->n_mlines > WEB_SDP_MAX_MLINES || of->mline_index >= of->n_mlines)
		return -EINVAL;
	char addr[WEB_SDP_MAX_CANDIDATES][INET6_ADDRSTRLEN];
	unsigned port[WEB_SDP_MAX_CANDIDATES];
	bool v6[WEB_SDP_MAX_CANDIDATES];
	for (unsigned i = 0; i < p->n_cands; i++)
		if (cand_addr(&p->cands[i], addr[i], sizeof(addr[i]), &port[i], &v6[i]) < 0 || port[i] == 0)
			return -EINVAL;

	struct sdp_out o = { .p = out, .cap = cap };
	put(&o, "v=0\r\no=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
	    p->session_id & SDP_SESSION_ID_MASK);
	if (of->bundle)
		put(&o, "a=group:BUNDLE %s\r\n", of->mid);
	for (unsigned i = 0; i < of->n_mlines; i++) {
		const struct web_sdp_mline *m = &of->mlines[i];
		if (i != of->mline_index) {
			put(&o, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->media, m->proto, m->fmt);
			if (m->mid[0])
				put(&o, "a=mid:%s\r\n", m->mid);
			continue;
		}
		put(&o, "m=application %u UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN %s %s\r\n", port[0],
		    v6[0] ? "IP6" : "IP4", addr[0]);
		if (m->mid[0])
			put(&o, "a=mid:%s\r\n", m->mid);
		put(&o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 ", p->ice_ufrag, p->ice_pwd);
		for (unsigned b = 0; b < WEB_SDP_FP_LEN; b++)
			put(&o, "%02X%s", p->fp[b], b + 1 < WEB_SDP_FP_LEN ? ":" : "\r\n");
		put(&o, "a=setup:passive\r\na=sctp-port:%u\r\na=max-message-size:%" PRIu64 "\r\n", WEB_SDP_SCTP_PORT,
		    p->max_message_size ? p->max_message_size : (uint64_t)WEB_SDP_MAX_MESSAGE);
		for (unsigned c = 0; c < p->n_cands; c++) {
			uint32_t prio = SDP_HOST_TYPE_PREF << 24 | (SDP_LOCAL_PREF_MAX - c) << 8 |
					(256u - SDP_COMPONENT_RTP);
			put(&o, "a=candidate:%u %u udp %" PRIu32 " %s %u typ host\r\n", c + 1, SDP_COMPONENT_RTP, prio,
			    addr[c], port[c]);
		}
		put(&o, "a=end-of-candidates\r\n");
	}
	if (o.full)
		return -ENOBUFS;
	return (int)o.len;
}

void web_sdp_ice_credentials(char ufrag[9], char pwd[25])
{
	uint8_t r[8 + 24];
	randombytes_buf(r, sizeof(r));
	/* 64 characters: r & 63 is uniform. */
	for (unsigned i = 0; i < 8; i++)
		ufrag[i] = SDP_ICE_CHARS[r[i] & 63u];
	ufrag[8] = '\0';
	for (unsigned i = 0; i < 24; i++)
		pwd[i] = SDP_ICE_CHARS[r[8 + i] & 63u];
	pwd[24] = '\0';
	sodium_memzero(r, sizeof(r));
}
