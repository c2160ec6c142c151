/* web_dtls: the DTLS server a browser's data channel runs over. The
 * browser stand-in is a GnuTLS DTLS client in this process
 * (tests/lib/th_dtlsmem) with its own self-signed ECDSA certificate;
 * datagrams pass through memory queues, so a test can drop, replay or forge
 * any of them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

#include "net/net_cert.h"
#include "th_dtlsmem.h"
#include "th_time.h"
#include "web/web_dtls.h"

#define MS 1000000ull
#define REAL_DEADLINE_NS (20000ull * MS) /* generous: 2 loaded cores */
/* The client retransmits only when a test waits that long. */
#define CLIENT_RETRANS_MS 30000u
/* ... or soon, where a test wants it to (GnuTLS's clock: real time). */
#define CLIENT_RETRANS_SHORT_MS 100u

struct fx {
	struct net_cert *srv_cert, *cli_cert;
	gnutls_certificate_credentials_t empty_cred; /* a client without a certificate */
	struct web_dtls *d;
	struct th_dtlsmem_client cl;
	gnutls_session_t c;         /* cl.s */
	struct th_dtlsmem_queue c2s; /* from the client, to web_dtls_input */
	unsigned drop_s2c;           /* server datagrams to lose */
	unsigned opens;
	uint8_t data[WEB_DTLS_RECORD_MAX];
	size_t data_len;
	unsigned datas;
	uint64_t now;
};

static int srv_output(void *user, const uint8_t *p, size_t len)
{
	struct fx *f = user;
	assert_true(len <= WEB_DTLS_MTU);
	if (f->drop_s2c > 0) {
		f->drop_s2c--;
		return 0;
	}
	assert_int_equal(th_dtlsmem_push(&f->cl.in, p, len), 0);
	return 0;
}

static void srv_on_data(void *user, const uint8_t *p, size_t len)
{
	struct fx *f = user;
	assert_true(len <= sizeof(f->data));
	memcpy(f->data, p, len);
	f->data_len = len;
	f->datas++;
}

static void srv_on_open(void *user)
{
	struct fx *f = user;
	f->opens++;
}

static const struct web_dtls_ops srv_ops = {
	.output = srv_output,
	.on_data = srv_on_data,
	.on_open = srv_on_open,
};

static int cli_output(void *user, const uint8_t *p, size_t len)
{
	struct fx *f = user;
	assert_int_equal(th_dtlsmem_push(&f->c2s, p, len), 0);
	return 0;
}

static struct fx *fx_new_rtx(bool client_has_cert, const uint8_t *fp_override, unsigned client_retrans_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(net_cert_generate(&f->srv_cert), 0);
	assert_int_equal(net_cert_generate(&f->cli_cert), 0);
	assert_int_equal(gnutls_certificate_allocate_credentials(&f->empty_cred), 0);
	f->now = 1000 * MS;
	const uint8_t *fp = fp_override ? fp_override : f->cli_cert->fp;
	assert_int_equal(web_dtls_create(f->srv_cert->cred, fp, &srv_ops, f, f->now, &f->d), 0);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_HANDSHAKE);
	assert_int_equal(th_dtlsmem_client_init(&f->cl, client_has_cert ? f->cli_cert->cred : f->empty_cred,
						client_retrans_ms, cli_output, f),
			 0);
	f->c = f->cl.s;
	return f;
}

static struct fx *fx_new(bool client_has_cert, const uint8_t *fp_override)
{
	return fx_new_rtx(client_has_cert, fp_override, CLIENT_RETRANS_MS);
}

static void fx_free(struct fx *f)
{
	web_dtls_destroy(&f->d);
	assert_null(f->d);
	web_dtls_destroy(&f->d); /* NULL-safe */
	th_dtlsmem_client_fini(&f->cl);
	gnutls_certificate_free_credentials(f->empty_cred);
	net_cert_destroy(&f->srv_cert);
	net_cert_destroy(&f->cli_cert);
	free(f);
}

static void client_step(struct fx *f)
{
	(void)th_dtlsmem_client_step(&f->cl);
}

/* Server side of the pump: every queued client datagram in; the first
 * error input returned. */
static int deliver_c2s(struct fx *f)
{
	int first = 0;
	struct th_dtlsmem_dgram g;
	while (th_dtlsmem_pop(&f->c2s, &g)) {
		int rv = web_dtls_input(f->d, g.b, g.len, f->now);
		if (rv < 0 && first == 0)
			first = rv;
	}
	return first;
}

/* Runs both sides until neither has anything to say. */
static int pump(struct fx *f)
{
	int first = 0;
	for (int i = 0; i < 64; i++) {
		client_step(f);
		f->now += MS;
		int rv = deliver_c2s(f);
		if (rv < 0 && first == 0)
			first = rv;
		if (f->c2s.n == 0 && (f->cl.in.n == 0 || f->cl.done || f->cl.err))
			break;
	}
	return first;
}

static void handshake(struct fx *f)
{
	assert_int_equal(pump(f), 0);
	assert_true(f->cl.done);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_OPEN);
	assert_int_equal(f->opens, 1);
}

static ssize_t client_recv(struct fx *f, uint8_t *buf, size_t cap)
{
	return th_dtlsmem_client_recv(&f->cl, buf, cap);
}

static void handshake_opens_and_data_flows_both_ways(void **state)
{
	struct fx *f = fx_new(true, NULL);
	assert_int_equal(web_dtls_send(f->d, (const uint8_t *)"x", 1), -ENOTCONN);
	handshake(f);

	/* The browser sees the daemon's certificate: the fingerprint of our answer. */
	uint8_t fp[32];
	assert_int_equal(th_dtlsmem_client_peer_fp(&f->cl, fp), 0);
	assert_memory_equal(fp, f->srv_cert->fp, 32);
	assert_int_equal(gnutls_protocol_get_version(f->c), GNUTLS_DTLS1_2);
	assert_true(gnutls_session_ext_master_secret_status(f->c));

	assert_int_equal(web_dtls_send(f->d, (const uint8_t *)"hello browser", 13), 0);
	uint8_t buf[WEB_DTLS_RECORD_MAX];
	assert_int_equal(client_recv(f, buf, sizeof(buf)), 13);
	assert_memory_equal(buf, "hello browser", 13);

	assert_int_equal(gnutls_record_send(f->c, "hello daemon", 12), 12);
	assert_int_equal(deliver_c2s(f), 0);
	assert_int_equal(f->datas, 1);
	assert_int_equal(f->data_len, 12);
	assert_memory_equal(f->data, "hello daemon", 12);

	struct web_dtls_stats st;
	web_dtls_get_stats(f->d, &st);
	assert_int_equal(st.records_in, 1);
	assert_int_equal(st.records_out, 1);
	assert_int_equal(st.bad_records, 0);
	assert_true(st.handshake_ns > 0);
	assert_int_equal(web_dtls_timeout_ns(f->d), UINT64_MAX);
	assert_int_equal(web_dtls_tick(f->d, f->now), 0);
	const char *why = "unset";
	assert_int_equal(web_dtls_error(f->d, &why), 0);
	fx_free(f);
}

static void records_are_bounded_by_the_data_mtu(void **state)
{
	struct fx *f = fx_new(true, NULL);
	/* Before OPEN: the worst case of every suite we allow. */
	size_t pre = web_dtls_data_mtu(f->d);
	handshake(f);
	size_t mtu = web_dtls_data_mtu(f->d);
	assert_true(pre <= mtu);
	/* AEAD record overhead: 13 header + at most 8 nonce + 16 tag. */
	assert_true(mtu >= WEB_DTLS_MTU - 13 - 8 - 16);
	assert_true(mtu < WEB_DTLS_MTU);
	uint8_t big[WEB_DTLS_MTU + 1];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(web_dtls_send(f->d, big, mtu + 1), -EMSGSIZE);
	assert_int_equal(web_dtls_send(f->d, big, mtu), 0);
	assert_int_equal(f->cl.in.n, 1);
	assert_true(f->cl.in.q[f->cl.in.head].len <= WEB_DTLS_MTU);
	uint8_t buf[WEB_DTLS_RECORD_MAX];
	assert_int_equal(client_recv(f, buf, sizeof(buf)), (ssize_t)mtu);
	assert_memory_equal(buf, big, mtu);
	/* The other way: one full record from the browser arrives whole. */
	assert_int_equal(gnutls_record_send(f->c, big, mtu), (ssize_t)mtu);
	assert_int_equal(deliver_c2s(f), 0);
	assert_int_equal(f->data_len, mtu);
	assert_memory_equal(f->data, big, mtu);
	fx_free(f);
}

/* The client's handshake ended with a fatal alert from the server. */
static void assert_client_got_alert(struct fx *f, gnutls_alert_description_t want)
{
	for (int i = 0; i < 8 && !f->cl.err; i++)
		client_step(f);
	assert_int_equal(f->cl.err, GNUTLS_E_FATAL_ALERT_RECEIVED);
	assert_int_equal(gnutls_alert_get(f->c), want);
}

static void a_certificate_other_than_the_offers_is_rejected(void **state)
{
	uint8_t wrong[32];
	memset(wrong, 0x5a, sizeof(wrong));
	struct fx *f = fx_new(true, wrong);
	assert_int_equal(pump(f), -EKEYREJECTED);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_FAILED);
	const char *why = NULL;
	assert_int_equal(web_dtls_error(f->d, &why), -EKEYREJECTED);
	assert_non_null(why);
	assert_non_null(strstr(why, "fingerprint"));
	assert_int_equal(f->opens, 0);
	assert_false(f->cl.done);
	assert_client_got_alert(f, GNUTLS_A_BAD_CERTIFICATE);
	/* Nothing more is taken. */
	static const uint8_t rec[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0};
	assert_int_equal(web_dtls_input(f->d, rec, sizeof(rec), f->now), -EKEYREJECTED);
	assert_int_equal(web_dtls_send(f->d, rec, 1), -ENOTCONN);
	fx_free(f);
}

static void a_browser_without_a_certificate_is_refused(void **state)
{
	struct fx *f = fx_new(false, NULL);
	assert_int_equal(pump(f), -EKEYREJECTED);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_FAILED);
	const char *why = NULL;
	assert_int_equal(web_dtls_error(f->d, &why), -EKEYREJECTED);
	assert_non_null(why);
	assert_non_null(strstr(why, "no DTLS certificate"));
	assert_int_equal(f->opens, 0);
	assert_false(f->cl.done);
	for (int i = 0; i < 8 && !f->cl.err; i++)
		client_step(f);
	assert_int_equal(f->cl.err, GNUTLS_E_FATAL_ALERT_RECEIVED);
	fx_free(f);
}

/* The server's first flight is lost and the browser stays silent: the
 * server's own timer (GnuTLS's clock, so real time here) resends it. */
static void a_lost_flight_is_retransmitted_by_tick(void **state)
{
	struct fx *f = fx_new(true, NULL);
	f->now = th_now_ns();
	web_dtls_destroy(&f->d);
	assert_int_equal(web_dtls_create(f->srv_cert->cred, f->cli_cert->fp, &srv_ops, f, f->now, &f->d), 0);
	assert_int_equal(web_dtls_tick(f->d, f->now), 0); /* nothing to resend yet */

	client_step(f); /* ClientHello */
	assert_int_equal(f->c2s.n, 1);
	f->drop_s2c = TH_DTLSMEM_QUEUE;
	assert_int_equal(deliver_c2s(f), 0);
	f->drop_s2c = 0;
	assert_int_equal(f->cl.in.n, 0);
	assert_true(web_dtls_timeout_ns(f->d) < UINT64_MAX);

	struct web_dtls_stats st = {0};
	uint64_t give_up = th_now_ns() + REAL_DEADLINE_NS;
	while (f->cl.in.n == 0) {
		assert_true(th_now_ns() < give_up);
		uint64_t due = web_dtls_timeout_ns(f->d);
		assert_true(due < UINT64_MAX);
		uint64_t now = th_now_ns();
		if (now < due) {
			uint64_t wait = due - now;
			struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull),
					      .tv_nsec = (long)(wait % 1000000000ull)};
			nanosleep(&ts, NULL);
		}
		f->now = th_now_ns();
		assert_int_equal(web_dtls_tick(f->d, f->now), 0);
	}
	web_dtls_get_stats(f->d, &st);
	assert_true(st.retransmits >= 1);
	f->now = th_now_ns();
	handshake(f);
	fx_free(f);
}

/* Our last flight (ChangeCipherSpec, Finished) is lost: web_dtls is OPEN,
 * the browser is not. The browser repeats its last flight after its own
 * timer; GnuTLS answers it with ours from web_dtls_input. */
static void a_lost_last_flight_is_resent_when_the_browser_repeats_its_own(void **state)
{
	struct fx *f = fx_new_rtx(true, NULL, CLIENT_RETRANS_SHORT_MS);
	/* ClientHello, twice (a browser's retransmission): answered, no harm. */
	client_step(f);
	assert_int_equal(f->c2s.n, 1);
	struct th_dtlsmem_dgram hello = f->c2s.q[f->c2s.head];
	assert_int_equal(deliver_c2s(f), 0);
	assert_true(f->cl.in.n > 0);
	assert_int_equal(web_dtls_input(f->d, hello.b, hello.len, f->now), 0);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_HANDSHAKE);
	/* The browser's second flight (what the repeated ClientHello drew
	 * is dropped unread); what the server says back is lost. */
	client_step(f);
	assert_false(f->cl.done);
	assert_true(f->c2s.n > 0);
	f->cl.in.n = 0;
	f->drop_s2c = TH_DTLSMEM_QUEUE;
	assert_int_equal(deliver_c2s(f), 0);
	f->drop_s2c = 0;
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_OPEN);
	assert_false(f->cl.done);

	uint64_t give_up = th_now_ns() + REAL_DEADLINE_NS;
	while (!f->cl.done) {
		assert_true(th_now_ns() < give_up);
		assert_int_equal(f->cl.err, 0);
		int ms = gnutls_dtls_get_timeout(f->c);
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(ms > 0 ? ms : 1) * 1000000L};
		nanosleep(&ts, NULL);
		client_step(f);
		assert_int_equal(deliver_c2s(f), 0);
	}
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_OPEN);
	assert_int_equal(f->opens, 1);
	assert_int_equal(f->datas, 0);
	assert_int_equal(gnutls_record_send(f->c, "after", 5), 5);
	assert_int_equal(deliver_c2s(f), 0);
	assert_int_equal(f->datas, 1);
	assert_memory_equal(f->data, "after", 5);
	fx_free(f);
}

static void a_handshake_past_its_deadline_fails(void **state)
{
	struct fx *f = fx_new(true, NULL);
	uint64_t t0 = f->now;
	client_step(f);
	assert_int_equal(deliver_c2s(f), 0);
	assert_true(f->cl.in.n > 0);
	assert_true(web_dtls_timeout_ns(f->d) <= t0 + WEB_DTLS_HANDSHAKE_TIMEOUT_NS);
	assert_int_equal(web_dtls_tick(f->d, t0 + WEB_DTLS_HANDSHAKE_TIMEOUT_NS - 1), 0);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_HANDSHAKE);
	assert_int_equal(web_dtls_tick(f->d, t0 + WEB_DTLS_HANDSHAKE_TIMEOUT_NS), -ETIMEDOUT);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_FAILED);
	const char *why = NULL;
	assert_int_equal(web_dtls_error(f->d, &why), -ETIMEDOUT);
	assert_non_null(why);
	assert_int_equal(web_dtls_timeout_ns(f->d), UINT64_MAX);
	fx_free(f);
}

static void close_notify_from_the_browser_closes_and_is_answered(void **state)
{
	struct fx *f = fx_new(true, NULL);
	handshake(f);
	int g;
	do {
		g = gnutls_bye(f->c, GNUTLS_SHUT_WR);
	} while (g == GNUTLS_E_AGAIN || g == GNUTLS_E_INTERRUPTED);
	assert_int_equal(g, 0);
	assert_int_equal(deliver_c2s(f), -ECONNRESET);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_CLOSED);
	assert_int_equal(web_dtls_error(f->d, NULL), 0);
	uint8_t buf[64];
	assert_int_equal(client_recv(f, buf, sizeof(buf)), 0);
	assert_int_equal(web_dtls_send(f->d, buf, 1), -ENOTCONN);
	fx_free(f);
}

static void close_notify_during_the_handshake_closes(void **state)
{
	struct fx *f = fx_new(true, NULL);
	client_step(f);
	assert_int_equal(deliver_c2s(f), 0);
	assert_int_equal(gnutls_alert_send(f->c, GNUTLS_AL_WARNING, GNUTLS_A_CLOSE_NOTIFY), 0);
	assert_int_equal(deliver_c2s(f), -ECONNRESET);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_CLOSED);
	assert_int_equal(web_dtls_timeout_ns(f->d), UINT64_MAX);
	assert_int_equal(f->opens, 0);
	fx_free(f);
}

static void close_sends_close_notify(void **state)
{
	struct fx *f = fx_new(true, NULL);
	handshake(f);
	web_dtls_close(f->d);
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_CLOSED);
	uint8_t buf[64];
	assert_int_equal(client_recv(f, buf, sizeof(buf)), 0);
	assert_int_equal(web_dtls_send(f->d, buf, 1), -ENOTCONN);
	assert_int_equal(gnutls_record_send(f->c, "late", 4), 4);
	assert_int_equal(deliver_c2s(f), -ECONNRESET);
	assert_int_equal(f->datas, 0);
	web_dtls_close(f->d); /* twice is fine */
	fx_free(f);
}

static void bad_records_are_dropped_and_counted(void **state)
{
	struct fx *f = fx_new(true, NULL);
	handshake(f);
	struct web_dtls_stats st;
	uint64_t bad = 0;

	/* A forged application record: right header, garbage ciphertext. */
	uint8_t forged[200];
	srand(15);
	for (size_t i = 0; i < sizeof(forged); i++)
		forged[i] = (uint8_t)rand();
	static const uint8_t hdr[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9};
	memcpy(forged, hdr, sizeof(hdr));
	forged[11] = 0;
	forged[12] = sizeof(forged) - 13;
	assert_int_equal(web_dtls_input(f->d, forged, sizeof(forged), f->now), 0);
	web_dtls_get_stats(f->d, &st);
	assert_int_equal(st.bad_records, ++bad);

	/* Not DTLS at all (first byte outside 20..63), empty, oversized. */
	uint8_t notdtls[] = {0x80, 1, 2, 3};
	assert_int_equal(web_dtls_input(f->d, notdtls, sizeof(notdtls), f->now), 0);
	assert_int_equal(web_dtls_input(f->d, notdtls, 0, f->now), 0);
	static uint8_t huge[20000];
	huge[0] = 23;
	assert_int_equal(web_dtls_input(f->d, huge, sizeof(huge), f->now), 0);
	web_dtls_get_stats(f->d, &st);
	bad += 3;
	assert_int_equal(st.bad_records, bad);

	/* A truncated record header. */
	assert_int_equal(web_dtls_input(f->d, hdr, 5, f->now), 0);
	web_dtls_get_stats(f->d, &st);
	assert_int_equal(st.bad_records, ++bad);

	/* A replayed record is decrypted once. */
	assert_int_equal(gnutls_record_send(f->c, "once", 4), 4);
	struct th_dtlsmem_dgram g;
	assert_true(th_dtlsmem_pop(&f->c2s, &g));
	assert_int_equal(web_dtls_input(f->d, g.b, g.len, f->now), 0);
	assert_int_equal(web_dtls_input(f->d, g.b, g.len, f->now), 0);
	assert_int_equal(f->datas, 1);
	web_dtls_get_stats(f->d, &st);
	assert_int_equal(st.bad_records, ++bad);
	assert_int_equal(st.records_in, 1);

	/* The session carries on. */
	assert_int_equal(web_dtls_state(f->d), WEB_DTLS_OPEN);
	assert_int_equal(gnutls_record_send(f->c, "still here", 10), 10);
	assert_int_equal(deliver_c2s(f), 0);
	assert_int_equal(f->datas, 2);
	assert_memory_equal(f->data, "still here", 10);
	fx_free(f);
}

static void create_refuses_missing_arguments(void **state)
{
	struct net_cert *c;
	assert_int_equal(net_cert_generate(&c), 0);
	struct web_dtls *d = NULL;
	uint8_t fp[32] = {0};
	assert_int_equal(web_dtls_create(NULL, fp, &srv_ops, NULL, 0, &d), -EINVAL);
	assert_int_equal(web_dtls_create(c->cred, NULL, &srv_ops, NULL, 0, &d), -EINVAL);
	struct web_dtls_ops no_output = srv_ops;
	no_output.output = NULL;
	assert_int_equal(web_dtls_create(c->cred, fp, &no_output, NULL, 0, &d), -EINVAL);
	assert_null(d);
	net_cert_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_opens_and_data_flows_both_ways),
		cmocka_unit_test(records_are_bounded_by_the_data_mtu),
		cmocka_unit_test(a_certificate_other_than_the_offers_is_rejected),
		cmocka_unit_test(a_browser_without_a_certificate_is_refused),
		cmocka_unit_test(a_lost_flight_is_retransmitted_by_tick),
		cmocka_unit_test(a_lost_last_flight_is_resent_when_the_browser_repeats_its_own),
		cmocka_unit_test(a_handshake_past_its_deadline_fails),
		cmocka_unit_test(close_notify_from_the_browser_closes_and_is_answered),
		cmocka_unit_test(close_notify_during_the_handshake_closes),
		cmocka_unit_test(close_sends_close_notify),
		cmocka_unit_test(bad_records_are_dropped_and_counted),
		cmocka_unit_test(create_refuses_missing_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
