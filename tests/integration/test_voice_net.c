/* Voice datagrams between two real daemons on loopback (docs/network.md,
 * "Voice"). The frames are made by the daemons' own net module through the
 * voice module's call (net_module_send_voice), asked for with the test-only
 * control command voice_test (THETAD_TEST_VOICE=1), which also lists what
 * the net module delivered to the voice module's hook: relayed both ways, a
 * member claiming another's speaker dropped and counted, a flood dropped and
 * counted while another speaker is heard, oversized and malformed datagrams
 * dropped and counted with the link up, and admin mutes (on the host, from
 * an admin member, of a whole member) stopping a speaker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net_fixture.h"
#include "session.h"
#include "net/net_voice.h"
#include "th_hex.h"

#define VN_WAIT_NS (20ull * TH_NS_PER_S)
#define NF_RAW_MAX 600 /* a raw datagram: over the voice channel's NET_VOICE_DGRAM_MAX, within a QUIC datagram */
/* Frames of one speaker that pass at once: its burst, and its rate while the
 * test's frames arrive (generous: a loaded machine spreads them out). */
#define NET_VOICE_BURST_EXPECTED (NET_VOICE_SPEAKER_BURST + 40)

static const char *const vn_env[] = { "THETAD_TEST_VOICE=1", NULL };

/* voice_test on d: the result (caller puts it). */
static struct json_object *vt(struct nf_daemon *d, const char *fmt, ...)
{
	char args[4096], req[4200], err[512] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(req, sizeof(req), "{\"cmd\":\"voice_test\",\"args\":{%s}}", args);
	struct json_object *r = th_ctl_call_err(&d->p, req, err, sizeof(err));
	if (!r)
		fprintf(stderr, "voice_test %s: %s\n", args, err);
	assert_non_null(r);
	return r;
}

static int64_t jget(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

/* Frames d's net module delivered so far for speaker hex (NULL: any). */
static int64_t received(struct nf_daemon *d, const char *hex, int64_t *last_seq)
{
	struct json_object *r = vt(d, "\"op\":\"received\""), *arr, *v;
	int64_t n = 0;
	assert_true(json_object_object_get_ex(r, "frames", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		json_object_object_get_ex(f, "speaker", &v);
		if (hex && strcmp(json_object_get_string(v), hex))
			continue;
		n++;
		if (last_seq)
			*last_seq = jget(f, "seq");
		/* Each frame's bytes are the ones sent (voice_test fills them with seq & 0xff). */
		assert_int_equal(jget(f, "first"), jget(f, "seq") & 0xff);
	}
	json_object_put(r);
	return n;
}

static bool wait_received(struct nf_daemon *d, const char *hex, int64_t n)
{
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	while (th_now_ns() < end) {
		if (received(d, hex, NULL) >= n)
			return true;
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	return false;
}

static bool wait_metric(struct nf_daemon *d, const char *name, uint64_t n)
{
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	while (th_now_ns() < end) {
		if (nf_metric(d, name) >= n)
			return true;
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	fprintf(stderr, "%s stayed at %llu (wanted %llu)\n", name, (unsigned long long)nf_metric(d, name),
		(unsigned long long)n);
	return false;
}

static int64_t send_frames(struct nf_daemon *d, const char *speaker, int count, int seq, const char *want)
{
	struct json_object *r = vt(d, "\"op\":\"send\",\"speaker\":\"%s\",\"count\":%d,\"seq\":%d", speaker, count, seq);
	int64_t v = jget(r, want);
	json_object_put(r);
	return v;
}

/* Whether speaker hex is muted in d's table (-1: not listed). */
static int speaker_muted(struct nf_daemon *d, const char *hex)
{
	struct json_object *r = vt(d, "\"op\":\"received\""), *arr, *v;
	int m = -1;
	assert_true(json_object_object_get_ex(r, "speakers", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		json_object_object_get_ex(s, "key", &v);
		if (!strcmp(json_object_get_string(v), hex)) {
			json_object_object_get_ex(s, "muted", &v);
			m = json_object_get_boolean(v);
		}
	}
	json_object_put(r);
	return m;
}

static bool wait_muted(struct nf_daemon *d, const char *hex, int want)
{
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	while (th_now_ns() < end) {
		if (speaker_muted(d, hex) == want)
			return true;
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	return false;
}

static void pair(struct nf_daemon *a, struct nf_daemon *b, const char *role, char id[33])
{
	nf_start(a, NULL, vn_env);
	nf_start(b, NULL, vn_env);
	nf_host(a, "voice", id);
	nf_invite_join(a, b, "voice", role);
}

/* The hex key of the one speaker d delivered frames of, after other sends. */
static void first_speaker(struct nf_daemon *d, char hex[65])
{
	struct json_object *r = vt(d, "\"op\":\"received\""), *arr, *v;
	assert_true(json_object_object_get_ex(r, "frames", &arr));
	assert_true(json_object_array_length(arr) > 0);
	json_object_object_get_ex(json_object_array_get_idx(arr, 0), "speaker", &v);
	snprintf(hex, 65, "%s", json_object_get_string(v));
	json_object_put(r);
}

static void frames_are_relayed_both_ways_and_a_claim_of_anothers_speaker_is_dropped(void **state)
{
	struct nf_daemon a, b;
	char id[33], bkey[65], akey[65];
	pair(&a, &b, "editor", id);
	/* member -> host */
	assert_int_equal(send_frames(&b, "self", 20, 1, "sent"), 20);
	assert_true(wait_received(&a, NULL, 20));
	first_speaker(&a, bkey);
	int64_t last = 0;
	assert_int_equal(received(&a, bkey, &last), 20);
	assert_int_equal(last, 20);
	/* host -> member */
	assert_int_equal(send_frames(&a, "self", 10, 100, "sent"), 10);
	assert_true(wait_received(&b, NULL, 10));
	first_speaker(&b, akey);
	assert_string_not_equal(akey, bkey);
	assert_int_equal(received(&b, akey, &last), 10);
	assert_int_equal(last, 109);
	/* B speaking as the host's own key: dropped and counted at the host. */
	assert_int_equal(send_frames(&b, "host", 10, 1, "sent"), 10);
	assert_true(wait_metric(&a, "net_voice_refused", 10));
	assert_int_equal(received(&a, akey, NULL), 0);
	assert_int_equal(received(&a, bkey, NULL), 20);
	/* The link is up: B's own voice still goes through. */
	assert_int_equal(send_frames(&b, "self", 5, 21, "sent"), 5);
	assert_true(wait_received(&a, bkey, 25));
	assert_int_equal(nf_metric(&a, "net_voice_malformed"), 0);
	assert_int_equal(nf_metric(&a, "net_voice_refused"), 10);
	/* Without loss, the session's loss is 0. */
	struct json_object *r = vt(&a, "\"op\":\"received\"");
	assert_int_equal(jget(r, "loss_pct"), 0);
	json_object_put(r);
}

/* A raw datagram from b to its host: hex of n bytes. */
static void send_raw(struct nf_daemon *b, const uint8_t *p, size_t n)
{
	char hex[2 * NF_RAW_MAX + 1];
	th_hex_encode(p, n, hex);
	struct json_object *r = vt(b, "\"op\":\"raw\",\"hex\":\"%s\"", hex);
	assert_int_equal(jget(r, "sent"), 1);
	json_object_put(r);
}

static void a_flood_is_dropped_beside_a_speaker_who_is_heard_and_bad_datagrams_are_counted(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	pair(&a, &b, "editor", id);
	const char *x = "1111111111111111111111111111111111111111111111111111111111111111";
	const char *y = "2222222222222222222222222222222222222222222222222222222222222222";
	/* 100 frames of x at once: past one speaker's burst. */
	assert_int_equal(send_frames(&b, x, 100, 1, "sent"), 100);
	assert_true(wait_metric(&a, "net_voice_in", 100));
	uint64_t over = nf_metric(&a, "net_voice_over_rate");
	int64_t heard_x = received(&a, x, NULL);
	assert_true(over >= 100 - NET_VOICE_BURST_EXPECTED);
	assert_int_equal(heard_x + (int64_t)over, 100);
	/* y, paced like a speaker, is heard whole right after. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(send_frames(&b, y, 1, 1 + i, "sent"), 1);
		th_sleep_ns(10 * TH_NS_PER_MS);
	}
	assert_true(wait_received(&a, y, 10));
	assert_int_equal(received(&a, y, NULL), 10);
	assert_int_equal(nf_metric(&a, "net_voice_over_rate"), over);

	/* Malformed: a length past the bytes; a packet over VOICE_OPUS_MAX; a
	 * datagram over the channel's size. */
	uint8_t d[NF_RAW_MAX];
	struct proto_sess_dgram g = { .kind = PROTO_SESS_DG_VOICE, .seq = 50, .opus = d + 200, .opus_len = 20 };
	memset(d + 200, 7, 20);
	memset(g.author, 0x22, 32);
	int n = proto_sess_dgram_encode(&g, d, sizeof(d));
	assert_int_equal(n, 64);
	th_put_le16(d + 42, 30);
	send_raw(&b, d, (size_t)n);
	th_put_le16(d + 42, PROTO_SESS_VOICE_OPUS_MAX + 1);
	memset(d + 44, 1, PROTO_SESS_VOICE_OPUS_MAX + 1);
	send_raw(&b, d, 44 + PROTO_SESS_VOICE_OPUS_MAX + 1);
	assert_true(wait_metric(&a, "net_voice_malformed", 2));
	memset(d + 44, 1, sizeof(d) - 44);
	send_raw(&b, d, sizeof(d)); /* over NET_VOICE_DGRAM_MAX */
	assert_true(wait_metric(&a, "net_chan_voice_over_size", 1));
	/* Nothing of that reached the voice module, and y is still heard. */
	assert_int_equal(received(&a, y, NULL), 10);
	assert_int_equal(send_frames(&b, y, 1, 11, "sent"), 1);
	assert_true(wait_received(&a, y, 11));
}

static void an_admin_mutes_a_speaker_and_the_relay_stops(void **state)
{
	struct nf_daemon a, b;
	char id[33], bkey[65], akey[65];
	pair(&a, &b, "admin", id);
	/* Each side names its speaker (its own key here); the other learns it. */
	struct json_object *r = vt(&b, "\"op\":\"name\",\"name\":\"bob\"");
	assert_int_equal(jget(r, "rc"), 0);
	json_object_put(r);
	r = vt(&a, "\"op\":\"name\",\"name\":\"alice\"");
	assert_int_equal(jget(r, "rc"), 0);
	json_object_put(r);
	assert_int_equal(send_frames(&b, "self", 1, 1, "sent"), 1);
	assert_true(wait_received(&a, NULL, 1));
	first_speaker(&a, bkey);
	assert_int_equal(send_frames(&a, "self", 1, 1, "sent"), 1);
	assert_true(wait_received(&b, NULL, 1));
	first_speaker(&b, akey);
	assert_true(wait_muted(&a, bkey, 0)); /* listed: the name arrived */
	assert_true(wait_muted(&b, akey, 0));

	/* The host mutes bob by name: B learns it and its own sends are refused;
	 * frames sent anyway are dropped at the host. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "bob", NULL }), 0);
	assert_non_null(strstr(nf_out, "bob"));
	assert_non_null(strstr(nf_out, "muted"));
	assert_true(wait_muted(&b, bkey, 1));
	assert_int_equal(send_frames(&b, "self", 3, 2, "eperm"), 3);
	uint8_t d[NF_RAW_MAX], opus[10] = { 5 };
	struct proto_sess_dgram g = { .kind = PROTO_SESS_DG_VOICE, .seq = 5, .opus = opus, .opus_len = 10 };
	assert_int_equal(th_hex_decode(bkey, 64, g.author, 32, true), 0);
	int n = proto_sess_dgram_encode(&g, d, sizeof(d));
	send_raw(&b, d, (size_t)n);
	assert_true(wait_metric(&a, "net_voice_muted", 1));
	assert_int_equal(received(&a, bkey, NULL), 1);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "unmute", "bob", NULL }), 0);
	assert_true(wait_muted(&b, bkey, 0));
	assert_int_equal(send_frames(&b, "self", 2, 10, "sent"), 2);
	assert_true(wait_received(&a, bkey, 3));

	/* B is an admin member: it mutes alice through the host. */
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "mute", "alice", NULL }), 0);
	assert_non_null(strstr(nf_out, "the host muted alice"));
	assert_int_equal(speaker_muted(&a, akey), 1);
	assert_int_equal(send_frames(&a, "self", 2, 2, "eperm"), 2);
	assert_true(wait_muted(&b, akey, 1));
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "unmute", "alice", NULL }), 0);
	assert_int_equal(speaker_muted(&a, akey), 0);
	assert_int_equal(send_frames(&a, "self", 1, 3, "sent"), 1);

	/* A whole member, by its peer id: every speaker of it. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "1", NULL }), 0);
	assert_non_null(strstr(nf_out, "every speaker of peer 1 muted"));
	assert_true(wait_muted(&b, bkey, 1));
	assert_int_equal(send_frames(&b, "self", 1, 20, "eperm"), 1);
	/* One of its speakers cannot be unmuted alone (the host would drop its
	 * frames while telling everyone it is heard): on the host, nor by B. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "unmute", "bob", NULL }), 1);
	assert_non_null(strstr(nf_err, "is muted with its whole member (peer 1)"));
	assert_int_equal(nf_ctl(&b, (const char *const[]){ "unmute", "bob", NULL }), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_MUTED_WITH_MEMBER)));
	assert_int_equal(speaker_muted(&a, bkey), 1);
	assert_int_equal(speaker_muted(&b, bkey), 1);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "unmute", "1", NULL }), 0);
	assert_true(wait_muted(&b, bkey, 0));
	assert_int_equal(send_frames(&b, "self", 1, 21, "sent"), 1);
	assert_true(wait_received(&a, bkey, 4));

	/* Nobody by that name: one sentence, exit 1. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "carol", NULL }), 1);
	assert_non_null(strstr(nf_err, "no speaker or member 'carol'"));
	assert_true(nf_metric(&a, "net_admin_requests_applied") >= 2);
}

/* Whether d's speaker table names speaker hex `name`. */
static bool has_name(struct nf_daemon *d, const char *hex, const char *name)
{
	struct json_object *r = vt(d, "\"op\":\"received\""), *arr, *v;
	bool hit = false;
	assert_true(json_object_object_get_ex(r, "speakers", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		json_object_object_get_ex(s, "key", &v);
		if (strcmp(json_object_get_string(v), hex))
			continue;
		json_object_object_get_ex(s, "name", &v);
		hit = !strcmp(json_object_get_string(v), name);
	}
	json_object_put(r);
	return hit;
}

static bool wait_name(struct nf_daemon *d, const char *hex, const char *name)
{
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	while (th_now_ns() < end) {
		if (has_name(d, hex, name))
			return true;
		th_sleep_ns(20 * TH_NS_PER_MS);
	}
	return false;
}

/* Host A, members B and C: what B says reaches C through A, names too (C
 * joins after B named itself), an editor's mute is refused, and a mute by
 * the host reaches every member. */
static void the_host_relays_a_members_voice_and_name_to_the_other_members(void **state)
{
	struct nf_daemon a, b, c;
	char id[33], bkey[65], ckey[65];
	pair(&a, &b, "editor", id);
	struct json_object *r = vt(&b, "\"op\":\"name\",\"name\":\"bob\"");
	assert_int_equal(jget(r, "rc"), 0);
	json_object_put(r);
	assert_int_equal(send_frames(&b, "self", 1, 1, "sent"), 1);
	assert_true(wait_received(&a, NULL, 1));
	first_speaker(&a, bkey);
	assert_true(wait_name(&a, bkey, "bob"));
	nf_start(&c, NULL, vn_env);
	nf_invite_join(&a, &c, "voice", "editor");
	assert_true(wait_name(&c, bkey, "bob")); /* told on joining */
	/* C's frames reach B, B's reach C: each through A. */
	assert_int_equal(send_frames(&c, "self", 10, 1, "sent"), 10);
	assert_true(wait_received(&a, NULL, 11));
	assert_true(wait_received(&b, NULL, 10));
	first_speaker(&b, ckey);
	assert_string_not_equal(ckey, bkey);
	assert_int_equal(received(&b, ckey, NULL), 10);
	assert_int_equal(send_frames(&b, "self", 10, 2, "sent"), 10);
	assert_true(wait_received(&c, bkey, 10));
	assert_true(wait_metric(&a, "net_voice_relayed", 20));
	/* A name C gives itself reaches B. */
	r = vt(&c, "\"op\":\"name\",\"name\":\"carol\"");
	json_object_put(r);
	assert_true(wait_name(&b, ckey, "carol"));
	/* A member renaming its speaker over and over: the host takes a few
	 * changes, ignores the rest and counts them (each one it took went to
	 * every other member). */
	uint64_t names_in = nf_metric(&a, "net_voice_names_in");
	for (int i = 0; i < 20; i++)
		json_object_put(vt(&c, "\"op\":\"name\",\"name\":\"carol%d\"", i));
	assert_true(wait_metric(&a, "net_voice_names_in", names_in + 20));
	assert_true(nf_metric(&a, "net_voice_names_over_rate") >= 1);
	assert_true(nf_metric(&a, "net_voice_names_over_rate") <= 20 - NET_VOICE_NAME_BURST + 1);
	/* An editor member's mute is refused by the host, with its sentence. */
	assert_int_equal(nf_ctl(&c, (const char *const[]){ "mute", "bob", NULL }), 1);
	assert_non_null(strstr(nf_err, "the host refused: Your role in this session does not allow that."));
	assert_non_null(strstr(th_daemon_log(&a.p), "may not mute or unmute speaker SHA256:")); /* the key it named */
	assert_int_equal(speaker_muted(&a, bkey), 0);
	/* C may not name itself as B: the host keeps bob (so does A's table). */
	char req[200];
	snprintf(req, sizeof(req), "\"op\":\"name\",\"speaker\":\"%s\",\"name\":\"mallory\"", bkey);
	json_object_put(vt(&c, "%s", req));
	assert_true(wait_metric(&a, "net_voice_names_refused", 1));
	assert_true(has_name(&a, bkey, "bob"));
	/* The host's mute reaches both members; C no longer hears bob. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "bob", NULL }), 0);
	assert_true(wait_muted(&c, bkey, 1));
	assert_true(wait_muted(&b, bkey, 1));
	int64_t heard = received(&c, bkey, NULL);
	assert_int_equal(send_frames(&b, "self", 3, 20, "eperm"), 3);
	assert_int_equal(send_frames(&c, "self", 1, 11, "sent"), 1); /* a marker behind it */
	assert_true(wait_received(&b, ckey, 11));
	assert_int_equal(received(&c, bkey, NULL), heard);
}

/* Restarts d on the UDP port it had (a member's link names it). */
static void restart_on_its_port(struct nf_daemon *d, char port[16])
{
	snprintf(port, 16, "%u", (unsigned)d->port);
	nf_kill(d, SIGTERM);
	d->args[1] = port;
	assert_int_equal(nf_spawn(d), 0);
}

/* A mute lasts while the host runs: a member that rejoins a host that
 * restarted (and so forgot its mutes) does not go on refusing its speaker's
 * frames (-EPERM) on the word of the old host; a mute the host still has is
 * told again to a member that rejoins, its own speaker's too. */
static void a_member_that_rejoins_keeps_only_the_mutes_its_host_still_has(void **state)
{
	struct nf_daemon a, b;
	char id[33], bkey[65], akey[65], port_a[16], port_b[16];
	pair(&a, &b, "editor", id);
	json_object_put(vt(&a, "\"op\":\"name\",\"name\":\"alice\""));
	assert_int_equal(send_frames(&b, "self", 1, 1, "sent"), 1);
	assert_true(wait_received(&a, NULL, 1));
	first_speaker(&a, bkey);
	assert_int_equal(send_frames(&a, "self", 1, 1, "sent"), 1);
	assert_true(wait_received(&b, NULL, 1));
	first_speaker(&b, akey);
	assert_true(wait_name(&b, akey, "alice"));
	/* The host mutes its own speaker and the whole member. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "alice", NULL }), 0);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "1", NULL }), 0);
	assert_true(wait_muted(&b, bkey, 1));
	assert_true(wait_muted(&b, akey, 1));
	assert_int_equal(send_frames(&b, "self", 1, 2, "eperm"), 1);

	/* The host restarts: its mutes are gone, and so are the member's once it rejoined. */
	restart_on_its_port(&a, port_a);
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	int64_t sent = 0, eperm = 0;
	for (int seq = 3; !sent && th_now_ns() < end; seq++) {
		struct json_object *r = vt(&b, "\"op\":\"send\",\"speaker\":\"self\",\"count\":1,\"seq\":%d", seq);
		sent = jget(r, "sent"), eperm += jget(r, "eperm") > 0;
		json_object_put(r);
		if (!sent)
			th_sleep_ns(50 * TH_NS_PER_MS);
	}
	if (!sent)
		fprintf(stderr, "the member refused its own speaker's frames %lld times after the host restarted\n",
			(long long)eperm);
	assert_int_equal(sent, 1);
	assert_true(wait_received(&a, bkey, 1));
	assert_int_equal(speaker_muted(&b, bkey), 0);
	assert_int_equal(speaker_muted(&b, akey), 0);

	/* A mute in force reaches a member that comes back (it restarts: it knows
	 * nothing), its own speaker's included. */
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "mute", "1", NULL }), 0);
	assert_true(wait_muted(&b, bkey, 1));
	restart_on_its_port(&b, port_b);
	assert_true(wait_muted(&b, bkey, 1));
	assert_int_equal(send_frames(&b, "self", 1, 100, "eperm"), 1);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "unmute", "1", NULL }), 0);
	assert_true(wait_muted(&b, bkey, 0));
	assert_int_equal(send_frames(&b, "self", 1, 101, "sent"), 1);
}

/* The loss the voice module gets for FEC: the heartbeats' over the session's links. */
static void the_sessions_loss_is_measured_for_the_voice_module(void **state)
{
	struct nf_daemon a, b;
	char id[33];
	pair(&a, &b, "editor", id);
	struct json_object *r = vt(&a, "\"op\":\"received\"");
	assert_int_equal(jget(r, "loss_pct"), 0);
	json_object_put(r);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "impair", "loss=30%,seed=7", NULL }), 0);
	int64_t pct = 0;
	uint64_t end = th_now_ns() + VN_WAIT_NS;
	while (th_now_ns() < end && pct == 0) {
		th_sleep_ns(100 * TH_NS_PER_MS);
		r = vt(&a, "\"op\":\"received\"");
		pct = jget(r, "loss_pct");
		json_object_put(r);
	}
	/* 30 % each way (pings are judged a few at a time: anything from one lost ping up). */
	assert_true(pct >= 1 && pct <= 100);
	fprintf(stderr, "loss_pct under 30 %% loss each way, a few seconds in: %lld\n", (long long)pct);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "impair", "off", NULL }), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(frames_are_relayed_both_ways_and_a_claim_of_anothers_speaker_is_dropped,
					  nf_teardown),
		cmocka_unit_test_teardown(a_flood_is_dropped_beside_a_speaker_who_is_heard_and_bad_datagrams_are_counted,
					  nf_teardown),
		cmocka_unit_test_teardown(an_admin_mutes_a_speaker_and_the_relay_stops, nf_teardown),
		cmocka_unit_test_teardown(the_host_relays_a_members_voice_and_name_to_the_other_members, nf_teardown),
		cmocka_unit_test_teardown(a_member_that_rejoins_keeps_only_the_mutes_its_host_still_has, nf_teardown),
		cmocka_unit_test_teardown(the_sessions_loss_is_measured_for_the_voice_module, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
