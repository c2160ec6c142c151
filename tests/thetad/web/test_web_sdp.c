/* web_sdp: Chromium's data-channel offers (fixtures recorded from Debian's
 * chromium 156 by chromium_sdp.mjs), the refusals, our answers; and, when
 * node, playwright-core and chromium are installed, a live chromium that
 * takes our answer and then runs ICE against web_stun on a real UDP socket
 * until it sends its DTLS ClientHello. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "th_file.h"
#include "th_harness.h"
#include "th_time.h"
#include "web/web_sdp.h"
#include "web/web_stun.h"

#define FIXTURE_DIR "tests/thetad/web/"
#define PLAYWRIGHT_DIR "tools/npm/node_modules/playwright-core"
#define CHROMIUM "/usr/bin/chromium"
#define BROWSER_REPLY_MAX 65536u
#define BROWSER_DEADLINE_MS 60000u /* generous: two loaded cores */
#define ICE_DEADLINE_MS 60000u

/* noinline: gcc 12 otherwise warns of a dangling pointer to s (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *fixture(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof(path), FIXTURE_DIR "%s", name);
	char *s = NULL;
	assert_int_equal(th_file_read(path, WEB_SDP_MAX, &s, len), 0);
	return s;
}

static const uint8_t chromium_fp[32] = {
	0x7E, 0xC5, 0x70, 0x96, 0x7B, 0xBC, 0xD3, 0x16, 0x42, 0x1A, 0x39, 0x46, 0x40, 0x89, 0xA4, 0x24,
	0x2E, 0x9F, 0x81, 0x42, 0x48, 0x1A, 0x83, 0x6E, 0xB0, 0x53, 0xE8, 0xD5, 0xBB, 0x30, 0xAA, 0xC1,
};

static void chromium_offer_parses(void **state)
{
	size_t len;
	char *sdp = fixture("chromium_offer.sdp", &len);
	struct web_sdp_offer o;
	const char *why = "unset";
	assert_int_equal(web_sdp_parse_offer(sdp, len, &o, &why), 0);
	assert_null(why);
	assert_string_equal(o.ice_ufrag, "EQPa");
	assert_string_equal(o.ice_pwd, "otFzty+E1q15TYvQQ3buGGnv");
	assert_memory_equal(o.fp, chromium_fp, 32);
	assert_string_equal(o.mid, "0");
	assert_int_equal(o.mline_index, 0);
	assert_int_equal(o.n_mlines, 1);
	assert_int_equal(o.sctp_port, 5000);
	assert_true(o.max_message_size == 262144);
	assert_false(o.setup_active);
	assert_false(o.ice_lite);
	assert_true(o.bundle);
	assert_string_equal(o.mlines[0].media, "application");
	free(sdp);
}

static void chromium_offer_with_audio_picks_the_data_section(void **state)
{
	size_t len;
	char *sdp = fixture("chromium_offer_audio.sdp", &len);
	struct web_sdp_offer o;
	assert_int_equal(web_sdp_parse_offer(sdp, len, &o, NULL), 0);
	assert_int_equal(o.n_mlines, 2);
	assert_int_equal(o.mline_index, 1);
	assert_string_equal(o.mid, "1");
	assert_string_equal(o.ice_ufrag, "Ahbb");
	assert_string_equal(o.mlines[0].media, "audio");
	assert_string_equal(o.mlines[0].proto, "UDP/TLS/RTP/SAVPF");
	assert_string_equal(o.mlines[0].fmt, "111");
	assert_string_equal(o.mlines[0].mid, "0");
	assert_true(o.bundle);
	free(sdp);
}

/* The fixture with the first `from` replaced by `to`, parsed. */
static int parse_edited(const char *name, const char *from, const char *to, struct web_sdp_offer *o,
			const char **why)
{
	size_t len;
	char *sdp = fixture(name, &len);
	char *at = strstr(sdp, from);
	assert_non_null(at);
	size_t fl = strlen(from), tl = strlen(to);
	char *ed = malloc(len - fl + tl + 1);
	assert_non_null(ed);
	size_t pre = (size_t)(at - sdp);
	memcpy(ed, sdp, pre);
	memcpy(ed + pre, to, tl);
	memcpy(ed + pre + tl, at + fl, len - pre - fl);
	size_t n = len - fl + tl;
	ed[n] = '\0';
	int rv = web_sdp_parse_offer(ed, n, o, why);
	free(ed);
	free(sdp);
	return rv;
}

static void refused(const char *from, const char *to, const char *sentence)
{
	struct web_sdp_offer o;
	memset(&o, 0x3c, sizeof(o));
	const char *why = NULL;
	assert_int_equal(parse_edited("chromium_offer.sdp", from, to, &o, &why), -EBADMSG);
	assert_non_null(why);
	if (strcmp(why, sentence) != 0)
		fail_msg("replacing \"%s\" by \"%s\": got \"%s\", want \"%s\"", from, to, why, sentence);
	assert_int_equal(((unsigned char *)&o)[0], 0x3c); /* untouched */
}

static void bad_offers_are_refused_with_a_sentence(void **state)
{
	refused("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=application 9 UDP/DTLS/SCTP other",
		"the offer has no data channel section (m=application UDP/DTLS/SCTP webrtc-datachannel)");
	refused("m=application 9 ", "m=application 0 ",
		"the offer has no data channel section (m=application UDP/DTLS/SCTP webrtc-datachannel)");
	refused("a=setup:actpass", "a=setup:passive",
		"the offer asks us to be the DTLS client (a=setup:passive), and thetad is always the DTLS server");
	refused("a=setup:actpass", "a=setup:holdconn", "the offer's DTLS role (a=setup) is not actpass or active");
	refused("a=fingerprint:sha-256", "a=fingerprint:sha-1", "the offer's DTLS fingerprint is not sha-256");
	refused("a=fingerprint:sha-256 7E:C5", "a=fingerprint:sha-256 7E-C5",
		"the offer's DTLS fingerprint (a=fingerprint) is malformed");
	refused(":AA:C1\r\n", ":AA\r\n", "the offer's DTLS fingerprint (a=fingerprint) is malformed");
	refused(":AA:C1\r\n", ":AA:CG\r\n", "the offer's DTLS fingerprint (a=fingerprint) is malformed");
	refused("a=fingerprint:", "a=x-fingerprint:", "the offer has no DTLS fingerprint (a=fingerprint)");
	refused("a=ice-ufrag:", "a=x-ice-ufrag:", "the offer has no ICE username fragment (a=ice-ufrag)");
	refused("a=ice-ufrag:EQPa", "a=ice-ufrag:EQP",
		"the offer's ICE username fragment (a=ice-ufrag) is malformed");
	refused("a=ice-ufrag:EQPa", "a=ice-ufrag:EQ-a",
		"the offer's ICE username fragment (a=ice-ufrag) is malformed");
	refused("a=ice-pwd:", "a=x-ice-pwd:", "the offer has no ICE password (a=ice-pwd)");
	refused("a=ice-pwd:otFzty+E1q15TYvQQ3buGGnv", "a=ice-pwd:otFzty+E1q15TYvQQ3bu",
		"the offer's ICE password (a=ice-pwd) is malformed");
	refused("a=sctp-port:5000", "a=sctp-port:65536", "the offer has a bad a=sctp-port");
	refused("a=sctp-port:5000", "a=sctp-port:0", "the offer has a bad a=sctp-port");
	refused("a=sctp-port:5000", "a=sctp-port:-1", "the offer has a bad a=sctp-port");
	refused("a=max-message-size:262144", "a=max-message-size:99999999999999999999",
		"the offer has a bad a=max-message-size");
	refused("a=max-message-size:262144", "a=max-message-size:", "the offer has a bad a=max-message-size");
	refused("v=0", "v=1", "the offer does not start with v=0");
	refused("s=-", "s=\x01", "the offer contains a control character");
	refused("s=-", "s=\t", "the offer contains a control character");
	refused("s=-\r\n", "s=-\r\r\n", "the offer contains a control character");
	refused("s=-", "s=-\r\nnot a line", "the offer has a line that is not type=value");
	refused("s=-", "s=-\r\nA=x", "the offer has a line that is not type=value");
	refused("a=mid:0", "a=mid:0123456789012345678901234567890123",
		"the offer has a malformed a=mid");
	refused("t=0 0", "t=0 0\r\na=ice-lite", "the offer is ice-lite, and two ice-lite agents cannot connect");
	refused("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=application 9 UDP/DTLS/SCTP",
		"the offer has a malformed m= line");
	refused("m=application 9 ", "m=application 70000 ", "the offer has an m= line with a bad port");
	refused("m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel",
		"the offer has more than one data channel section");
	refused("m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel-with-a-format-name-past-32-bytes",
		"the offer has an m= line with an over-long token");

	/* An over-long line, too many sections, an over-long offer, a NUL. */
	char line[WEB_SDP_LINE_MAX + 16];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "s=", 2);
	refused("s=-", line, "the offer has an over-long line");
	line[WEB_SDP_LINE_MAX] = '\0'; /* exactly at the limit: fine */
	struct web_sdp_offer o;
	assert_int_equal(parse_edited("chromium_offer.sdp", "s=-", line, &o, NULL), 0);
	char many[WEB_SDP_MAX_MLINES * 40 + 64] = "t=0 0";
	for (unsigned i = 0; i < WEB_SDP_MAX_MLINES; i++)
		strcat(many, "\r\nm=audio 9 RTP/AVP 0");
	refused("t=0 0", many, "the offer has too many media sections");

	size_t len;
	char *sdp = fixture("chromium_offer.sdp", &len);
	const char *why = NULL;
	char *big = calloc(1, WEB_SDP_MAX + 2);
	assert_non_null(big);
	memcpy(big, sdp, len);
	memset(big + len, '\n', WEB_SDP_MAX + 1 - len);
	assert_int_equal(web_sdp_parse_offer(big, WEB_SDP_MAX, &o, NULL), 0); /* blank lines up to the limit */
	assert_int_equal(web_sdp_parse_offer(big, WEB_SDP_MAX + 1, &o, &why), -EBADMSG);
	assert_string_equal(why, "the offer is too long");
	free(big);
	char *nul = malloc(len);
	assert_non_null(nul);
	memcpy(nul, sdp, len);
	nul[len / 2] = '\0';
	assert_int_equal(web_sdp_parse_offer(nul, len, &o, &why), -EBADMSG);
	assert_string_equal(why, "the offer contains a control character");
	free(nul);
	assert_int_equal(web_sdp_parse_offer(sdp, 0, &o, &why), -EBADMSG);
	assert_string_equal(why, "the offer is empty");
	free(sdp);
}

static void offer_variants_are_read(void **state)
{
	struct web_sdp_offer o;
	/* active, no max-message-size, no sctp-port, upper-case hash name. */
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=setup:actpass", "a=setup:active", &o, NULL), 0);
	assert_true(o.setup_active);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=setup:actpass\r\n", "", &o, NULL), 0);
	assert_true(o.setup_active); /* RFC 4145: absent means active */
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=max-message-size:262144\r\n", "", &o, NULL), 0);
	assert_true(o.max_message_size == WEB_SDP_MAX_MESSAGE);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=max-message-size:262144", "a=max-message-size:0", &o,
				      NULL),
			 0);
	assert_true(o.max_message_size == 0);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=sctp-port:5000", "a=sctp-port:5001", &o, NULL), 0);
	assert_int_equal(o.sctp_port, 5001);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=sctp-port:5000\r\n", "", &o, NULL), 0);
	assert_int_equal(o.sctp_port, WEB_SDP_SCTP_PORT);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=fingerprint:sha-256", "a=fingerprint:SHA-256", &o, NULL),
			 0);
	assert_memory_equal(o.fp, chromium_fp, 32);
	/* Lower-case hex; a sha-1 before the sha-256 is skipped. */
	assert_int_equal(parse_edited("chromium_offer.sdp", "7E:C5:70:96", "7e:c5:70:96", &o, NULL), 0);
	assert_memory_equal(o.fp, chromium_fp, 32);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=fingerprint:",
				      "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n"
				      "a=fingerprint:",
				      &o, NULL),
			 0);
	assert_memory_equal(o.fp, chromium_fp, 32);
	/* No BUNDLE group: the answer has none. */
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=group:BUNDLE 0\r\n", "", &o, NULL), 0);
	assert_false(o.bundle);
	assert_int_equal(parse_edited("chromium_offer.sdp", "a=group:BUNDLE 0\r\n", "a=group:BUNDLE 1 00\r\n", &o,
				      NULL),
			 0);
	assert_false(o.bundle);

	/* Session-level ICE and DTLS attributes (as Firefox writes them), LF line ends. */
	static const char ff[] =
		"v=0\no=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
		"a=fingerprint:sha-256 7E:C5:70:96:7B:BC:D3:16:42:1A:39:46:40:89:A4:24:2E:9F:81:42:48:1A:83:6E:B0:53:E8:D5:BB:30:AA:C1\n"
		"a=group:BUNDLE 0\na=ice-options:trickle\na=msid-semantic:WMS *\n"
		"a=ice-ufrag:3e4f0b1c\na=ice-pwd:b3e0d7d1c6c9a2f0e8d4b5a6c7d8e9f0\n"
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\na=sendrecv\n"
		"a=mid:0\na=setup:actpass\na=sctp-port:5000\na=max-message-size:1073741823\n";
	assert_int_equal(web_sdp_parse_offer(ff, sizeof(ff) - 1, &o, NULL), 0);
	assert_string_equal(o.ice_ufrag, "3e4f0b1c");
	assert_string_equal(o.ice_pwd, "b3e0d7d1c6c9a2f0e8d4b5a6c7d8e9f0");
	assert_memory_equal(o.fp, chromium_fp, 32);
	assert_true(o.max_message_size == 1073741823);
	assert_true(o.bundle);
	/* Media level wins over session level. */
	char two[sizeof(ff) + 64];
	snprintf(two, sizeof(two), "%sa=ice-ufrag:media1\n", ff);
	assert_int_equal(web_sdp_parse_offer(two, strlen(two), &o, NULL), 0);
	assert_string_equal(o.ice_ufrag, "media1");
}

static void every_truncation_is_handled(void **state)
{
	size_t len;
	char *sdp = fixture("chromium_offer_audio.sdp", &len);
	const char *data = strstr(sdp, "m=application");
	assert_non_null(data);
	/* Copy each prefix to its own allocation so a read past it is caught
	 * by the sanitizer build. */
	for (size_t n = 0; n <= len; n++) {
		char *cut = malloc(n ? n : 1);
		assert_non_null(cut);
		memcpy(cut, sdp, n);
		struct web_sdp_offer o;
		const char *why = NULL;
		int rv = web_sdp_parse_offer(cut, n, &o, &why);
		free(cut);
		if (n <= (size_t)(data - sdp) + strlen("m=application 9 UDP/DTLS/SCTP webrtc-datachanne")) {
			assert_int_equal(rv, -EBADMSG);
			assert_non_null(why);
		} else {
			/* After the m= line, the cut may fall anywhere in the
			 * section: refused with a sentence or accepted. */
			assert_true(rv == 0 || (rv == -EBADMSG && why != NULL));
		}
	}
	free(sdp);
}

static int build(const struct web_sdp_offer *o, const struct sockaddr_storage *cands, unsigned n, char *out,
		 size_t cap)
{
	static const uint8_t fp[32] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, [31] = 0xff };
	struct web_sdp_answer_params p = {
		.offer = o,
		.ice_ufrag = "ufrag123",
		.ice_pwd = "pwd4567890abcdefghijklmn",
		.fp = fp,
		.session_id = 0xfedcba9876543210ull,
		.cands = cands,
		.n_cands = n,
	};
	return web_sdp_build_answer(&p, out, cap);
}

static void v4(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &s->sin_addr), 1);
}

static void v6(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &s->sin6_addr), 1);
}

static void answer_is_ice_lite_passive_with_our_candidates(void **state)
{
	size_t len;
	char *sdp = fixture("chromium_offer.sdp", &len);
	struct web_sdp_offer o;
	assert_int_equal(web_sdp_parse_offer(sdp, len, &o, NULL), 0);
	struct sockaddr_storage c[2];
	v4(&c[0], "192.0.2.7", 40001);
	v6(&c[1], "2001:db8::7", 40001);
	char a[WEB_SDP_ANSWER_MAX];
	int n = build(&o, c, 2, a, sizeof(a));
	assert_true(n > 0 && (size_t)n == strlen(a));
	static const char *const want[] = {
		"v=0\r\no=- 4529700489210901008 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=group:BUNDLE 0\r\n"
		"m=application 40001 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 192.0.2.7\r\na=mid:0\r\n",
		"\r\na=ice-ufrag:ufrag123\r\na=ice-pwd:pwd4567890abcdefghijklmn\r\n",
		"\r\na=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
		"00:00:00:00:FF\r\n",
		"\r\na=setup:passive\r\n",
		"\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n",
		"\r\na=candidate:1 1 udp 2130706431 192.0.2.7 40001 typ host\r\n"
		"a=candidate:2 1 udp 2130706175 2001:db8::7 40001 typ host\r\na=end-of-candidates\r\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(a, want[i]))
			fail_msg("answer lacks \"%s\":\n%s", want[i], a);
	assert_int_equal(strncmp(a + n - 2, "\r\n", 2), 0);
	/* Every size short of the answer is -ENOBUFS, never a cut answer. */
	for (int cap = 1; cap <= n; cap++) {
		char small[WEB_SDP_ANSWER_MAX];
		assert_int_equal(build(&o, c, 2, small, (size_t)cap), -ENOBUFS);
	}
	/* An IPv6 first candidate is the connection address. */
	n = build(&o, &c[1], 1, a, sizeof(a));
	assert_true(n > 0);
	assert_non_null(strstr(a, "\r\nc=IN IP6 2001:db8::7\r\n"));
	/* The offer's own max-message-size does not change ours; a parameter does. */
	struct web_sdp_answer_params p = { .offer = &o, .ice_ufrag = "ufrag123", .ice_pwd = "pwd4567890abcdefghijklmn",
					   .fp = (const uint8_t *)"0123456789abcdef0123456789abcdef", .cands = c,
					   .n_cands = 1, .max_message_size = 1024 };
	assert_true(web_sdp_build_answer(&p, a, sizeof(a)) > 0);
	assert_non_null(strstr(a, "a=max-message-size:1024\r\n"));
	/* Bad parameters. */
	assert_int_equal(build(&o, c, 0, a, sizeof(a)), -EINVAL);
	assert_int_equal(build(&o, c, WEB_SDP_MAX_CANDIDATES + 1, a, sizeof(a)), -EINVAL);
	struct sockaddr_storage bad = { .ss_family = AF_UNIX };
	assert_int_equal(build(&o, &bad, 1, a, sizeof(a)), -EINVAL);
	v4(&bad, "192.0.2.7", 0);
	assert_int_equal(build(&o, &bad, 1, a, sizeof(a)), -EINVAL);
	p.ice_ufrag = "u:f";
	assert_int_equal(web_sdp_build_answer(&p, a, sizeof(a)), -EINVAL);
	p.ice_ufrag = "ufrag123";
	p.ice_pwd = "short";
	assert_int_equal(web_sdp_build_answer(&p, a, sizeof(a)), -EINVAL);
	free(sdp);
}

static void answer_rejects_the_other_sections(void **state)
{
	size_t len;
	char *sdp = fixture("chromium_offer_audio.sdp", &len);
	struct web_sdp_offer o;
	assert_int_equal(web_sdp_parse_offer(sdp, len, &o, NULL), 0);
	struct sockaddr_storage c;
	v4(&c, "127.0.0.1", 40001);
	char a[WEB_SDP_ANSWER_MAX];
	assert_true(build(&o, &c, 1, a, sizeof(a)) > 0);
	const char *rej = strstr(a, "\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n");
	const char *data = strstr(a, "\r\nm=application 40001 UDP/DTLS/SCTP webrtc-datachannel\r\n");
	assert_non_null(rej);
	assert_non_null(data);
	assert_true(rej < data); /* the offer's order */
	assert_non_null(strstr(a, "\r\na=group:BUNDLE 1\r\n"));
	assert_non_null(strstr(data, "\r\na=mid:1\r\n"));
	free(sdp);
}

static void ice_credentials_are_fresh_ice_chars(void **state)
{
	char u1[9], p1[25], u2[9], p2[25];
	web_sdp_ice_credentials(u1, p1);
	web_sdp_ice_credentials(u2, p2);
	assert_int_equal(strlen(u1), 8);
	assert_int_equal(strlen(p1), 24);
	assert_true(strspn(u1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == 8);
	assert_true(strspn(p1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == 24);
	assert_true(strcmp(u1, u2) != 0 || strcmp(p1, p2) != 0);
}

/* ---- a live chromium ---- */

struct browser {
	pid_t pid;
	int to, from; /* its stdin, its stdout */
	char buf[BROWSER_REPLY_MAX];
	size_t len;
};

static const char *browser_unavailable(void)
{
	if (!th_find_on_path("node", NULL, 0))
		return "node is not installed";
	if (access(PLAYWRIGHT_DIR "/package.json", R_OK) != 0)
		return "playwright-core is not installed under " PLAYWRIGHT_DIR " (scripts/setup installs it)";
	if (access(CHROMIUM, X_OK) != 0)
		return "chromium is not installed (" CHROMIUM ")";
	return NULL;
}

static void browser_start(struct browser *b)
{
	memset(b, 0, sizeof(*b));
	int in[2], out[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	char pw[4096];
	assert_non_null(realpath(PLAYWRIGHT_DIR, pw));
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execlp("node", "node", FIXTURE_DIR "chromium_sdp.mjs", pw, CHROMIUM, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	b->to = in[1];
	b->from = out[0];
}

/* Sends one request line, returns the reply line (NUL-terminated, in b->buf). */
static const char *browser_ask(struct browser *b, const char *req)
{
	size_t n = strlen(req);
	assert_int_equal(write(b->to, req, n), (ssize_t)n);
	assert_int_equal(write(b->to, "\n", 1), 1);
	b->len = 0;
	uint64_t deadline = th_now_ns() + (uint64_t)BROWSER_DEADLINE_MS * TH_NS_PER_MS;
	for (;;) {
		char *nl = memchr(b->buf, '\n', b->len);
		if (nl) {
			*nl = '\0';
			return b->buf;
		}
		uint64_t now = th_now_ns();
		if (now >= deadline)
			fail_msg("chromium did not answer \"%.20s\" in %u ms", req, BROWSER_DEADLINE_MS);
		struct pollfd p = { .fd = b->from, .events = POLLIN };
		if (poll(&p, 1, (int)((deadline - now) / TH_NS_PER_MS) + 1) <= 0)
			continue;
		assert_true(b->len < sizeof(b->buf) - 1);
		ssize_t r = read(b->from, b->buf + b->len, sizeof(b->buf) - 1 - b->len);
		if (r <= 0)
			fail_msg("the chromium driver exited (%.200s)", b->len ? b->buf : "no output");
		b->len += (size_t)r;
	}
}

static void browser_stop(struct browser *b)
{
	close(b->to);
	close(b->from);
	uint64_t deadline = th_now_ns() + (uint64_t)BROWSER_DEADLINE_MS * TH_NS_PER_MS;
	int st;
	while (waitpid(b->pid, &st, WNOHANG) == 0) {
		if (th_now_ns() >= deadline) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &st, 0);
			break;
		}
		usleep(20000);
	}
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(cap);
	assert_non_null(out);
	sodium_bin2base64(out, cap, (const unsigned char *)s, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* "offer BASE64" -> the offer's text in out. */
static size_t unb64_offer(const char *reply, char *out, size_t cap)
{
	if (strncmp(reply, "offer ", 6) != 0)
		fail_msg("chromium: %s", reply);
	size_t n = 0;
	assert_int_equal(sodium_base642bin((unsigned char *)out, cap - 1, reply + 6, strlen(reply + 6), NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	out[n] = '\0';
	return n;
}

static void answer_to(struct browser *b, const char *answer, const char *want_prefix)
{
	char *enc = b64(answer);
	size_t n = strlen(enc) + 8;
	char *req = malloc(n);
	assert_non_null(req);
	snprintf(req, n, "answer %s", enc);
	const char *r = browser_ask(b, req);
	if (strncmp(r, want_prefix, strlen(want_prefix)) != 0)
		fail_msg("chromium said \"%s\" (wanted \"%s\") to:\n%s", r, want_prefix, answer);
	free(req);
	free(enc);
}

/* Receives one datagram on fd before the deadline; its length, or 0. */
static size_t recv_until(int fd, uint8_t *buf, size_t cap, struct sockaddr_storage *from, socklen_t *flen,
			 uint64_t deadline)
{
	for (uint64_t now; (now = th_now_ns()) < deadline;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)((deadline - now) / TH_NS_PER_MS) + 1) <= 0)
			continue;
		*flen = sizeof(*from);
		ssize_t r = recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, flen);
		if (r > 0)
			return (size_t)r;
	}
	return 0;
}

static void chromium_takes_our_answer_and_our_stun(void **state)
{
	const char *why = browser_unavailable();
	if (why) {
		print_message("SKIP: %s\n", why);
		skip();
	}
	struct browser *b = malloc(sizeof(*b));
	assert_non_null(b);
	browser_start(b);

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage cand;
	v4(&cand, "127.0.0.1", 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&cand, sizeof(struct sockaddr_in)), 0);
	socklen_t cl = sizeof(cand);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&cand, &cl), 0);

	/* A live offer: parse, answer, chromium takes it. */
	char offer[WEB_SDP_MAX + 1];
	size_t olen = unb64_offer(browser_ask(b, "offer"), offer, sizeof(offer));
	struct web_sdp_offer o;
	const char *err = NULL;
	if (web_sdp_parse_offer(offer, olen, &o, &err) != 0)
		fail_msg("%s:\n%s", err, offer);
	char ufrag[9], pwd[25];
	web_sdp_ice_credentials(ufrag, pwd);
	uint8_t fp[32];
	randombytes_buf(fp, sizeof(fp));
	struct web_sdp_answer_params p = { .offer = &o, .ice_ufrag = ufrag, .ice_pwd = pwd, .fp = fp,
					   .session_id = 42, .cands = &cand, .n_cands = 1 };
	char answer[WEB_SDP_ANSWER_MAX];
	assert_true(web_sdp_build_answer(&p, answer, sizeof(answer)) > 0);
	answer_to(b, answer, "ok stable");

	/* Chromium (full ICE, controlling) checks our candidate: its real
	 * binding requests pass web_stun, our responses satisfy it: it starts
	 * DTLS (first byte 20..63, RFC 7983: its ClientHello) and nominates the
	 * pair with USE-CANDIDATE. */
	uint64_t deadline = th_now_ns() + (uint64_t)ICE_DEADLINE_MS * TH_NS_PER_MS;
	unsigned requests = 0, nominations = 0, dtls = 0, before_dtls = 0;
	while (!dtls || !nominations) {
		uint8_t d[2048];
		struct sockaddr_storage from;
		socklen_t flen;
		size_t n = recv_until(fd, d, sizeof(d), &from, &flen, deadline);
		if (n == 0)
			fail_msg("chromium: %u DTLS datagrams, %u binding requests answered (%u nominating) in %u ms", dtls,
				 requests, nominations, ICE_DEADLINE_MS);
		if (!web_stun_is_stun(d, n)) {
			assert_true(d[0] >= 20 && d[0] <= 63);
			if (!dtls) {
				assert_int_equal(d[0], 22); /* a handshake record: the ClientHello */
				before_dtls = requests;
			}
			dtls++;
			continue;
		}
		struct web_stun_request rq;
		const char *swhy = NULL;
		if (web_stun_parse_request(d, n, ufrag, pwd, &rq, &swhy) != 0)
			fail_msg("chromium's binding request refused: %s", swhy);
		assert_string_equal(rq.remote_ufrag, o.ice_ufrag);
		assert_true(rq.controlling);
		assert_true(rq.priority != 0);
		nominations += rq.use_candidate;
		char peek[WEB_STUN_UFRAG_MAX + 1];
		assert_int_equal(web_stun_peek_username(d, n, peek, sizeof(peek)), 0);
		assert_string_equal(peek, ufrag);
		uint8_t resp[WEB_STUN_RESPONSE_MAX];
		int rn = web_stun_build_response(&rq, (struct sockaddr *)&from, flen, pwd, resp, sizeof(resp));
		assert_true(rn > 0);
		assert_int_equal(sendto(fd, resp, (size_t)rn, 0, (struct sockaddr *)&from, flen), rn);
		requests++;
	}
	assert_true(before_dtls > 0);
	print_message("chromium: DTLS after %u binding request(s); %u requests answered, %u with USE-CANDIDATE\n",
		      before_dtls, requests, nominations);

	/* The same answer without our fingerprint: chromium refuses it, so
	 * the "ok" above is chromium's judgement, not the driver's. */
	olen = unb64_offer(browser_ask(b, "offer"), offer, sizeof(offer));
	assert_int_equal(web_sdp_parse_offer(offer, olen, &o, NULL), 0);
	assert_true(web_sdp_build_answer(&p, answer, sizeof(answer)) > 0);
	char *fl = strstr(answer, "a=fingerprint:");
	assert_non_null(fl);
	char *eol = strstr(fl, "\r\n");
	memmove(fl, eol + 2, strlen(eol + 2) + 1);
	answer_to(b, answer, "refused");

	/* An offer with audio: the audio section is rejected, chromium agrees. */
	olen = unb64_offer(browser_ask(b, "offer-audio"), offer, sizeof(offer));
	assert_int_equal(web_sdp_parse_offer(offer, olen, &o, NULL), 0);
	assert_int_equal(o.n_mlines, 2);
	assert_true(web_sdp_build_answer(&p, answer, sizeof(answer)) > 0);
	answer_to(b, answer, "ok stable");

	close(fd);
	browser_stop(b);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chromium_offer_parses),
		cmocka_unit_test(chromium_offer_with_audio_picks_the_data_section),
		cmocka_unit_test(bad_offers_are_refused_with_a_sentence),
		cmocka_unit_test(offer_variants_are_read),
		cmocka_unit_test(every_truncation_is_handled),
		cmocka_unit_test(answer_is_ice_lite_passive_with_our_candidates),
		cmocka_unit_test(answer_rejects_the_other_sections),
		cmocka_unit_test(ice_credentials_are_fresh_ice_chars),
		cmocka_unit_test(chromium_takes_our_answer_and_our_stun),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
