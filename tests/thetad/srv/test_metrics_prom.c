/* The daemon's metrics in the Prometheus text format (thetad/srv/metrics.c
 * srv_metrics_prometheus): checked line by line against the exposition
 * format's grammar (tests/lib/th_promcheck.h), in-process with every kind
 * (counters named _total, gauges, histograms with cumulative buckets and
 * +Inf, labelled families from collectors with values that need escaping),
 * and from a real thetad: `thetactl metrics --prometheus` and a scrape of
 * GET /metrics on metrics.listen over TCP, after real edits fill the ack
 * and commit histograms. The checker itself is shown to refuse each kind of
 * mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "net_client.h"
#include "srv/metrics.h"
#include "th_harness.h"
#include "th_http.h"
#include "th_promcheck.h"

static char out[1 << 20], err[8192];

static void collect(void *ud, struct srv_sample_sink *sink)
{
	(void)ud;
	/* Two families, interleaved: rendered each together. */
	for (int i = 0; i < 3; i++) {
		char peer[8];
		snprintf(peer, sizeof peer, "%d", i + 1);
		const char *const lab[] = { "session", "ab\"c\\d\ne", "peer", peer, NULL };
		srv_sample(sink, "peer_rtt_seconds", "RTT per peer", SRV_METRIC_GAUGE, lab, 0.001 * (i + 1));
		srv_sample(sink, "peer_bytes", "bytes per peer", SRV_METRIC_COUNTER, lab, 1000.0 * i);
	}
}

/* Rendered into the caller's buffer (static: the stream's pointers stay valid). */
static char *render(const struct srv_metrics *m)
{
	static char text[1 << 16];
	FILE *f = fmemopen(text, sizeof text, "w");
	assert_non_null(f);
	assert_int_equal(srv_metrics_prometheus(m, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void every_kind_follows_the_grammar(void **state)
{
	(void)state;
	static struct srv_metrics m;
	memset(&m, 0, sizeof m);
	*srv_counter(&m, "daemon_reloads", "reloads\nwith a newline and a \\ backslash") = 3;
	*srv_counter(&m, "already_total", "a counter named _total already") = 4;
	*srv_gauge(&m, "ipc_clients", "clients") = 2;
	*srv_gauge(&m, "net_chan_theta-pose_bytes", "a name with a character Prometheus does not take") = 9;
	struct srv_hist *h = srv_histogram(&m, "sess_ack_seconds", "acks", srv_hist_fast_s, SRV_HIST_FAST_N);
	srv_hist_observe(h, 0.00003);
	srv_hist_observe(h, 0.003);
	srv_hist_observe(h, 0.003);
	srv_hist_observe(h, 42.0); /* past every bound: +Inf only */
	srv_hist_observe_n(h, 0.02, 10);
	srv_metrics_add_collector(&m, collect, NULL);
	char *text = render(&m);
	struct th_prom_report rep;
	if (th_prom_check(text, &rep) != 0)
		fail_msg("%s\n%s", rep.why, text);
	assert_int_equal(rep.histograms, 1);
	assert_true(rep.families >= 7);
	assert_true(th_prom_value(text, "theta_daemon_reloads_total") == 3);
	assert_true(th_prom_value(text, "theta_already_total") == 4); /* not _total_total */
	assert_true(th_prom_value(text, "theta_net_chan_theta_pose_bytes") == 9);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_count") == 14);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_bucket{le=\"5e-05\"}") == 1);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_bucket{le=\"0.005\"}") == 3);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_bucket{le=\"0.025\"}") == 13);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_bucket{le=\"1\"}") == 13);
	assert_true(th_prom_value(text, "theta_sess_ack_seconds_bucket{le=\"+Inf\"}") == 14);
	assert_non_null(strstr(text, "# HELP theta_daemon_reloads_total reloads\\nwith a newline and a \\\\ backslash\n"));
	assert_true(th_prom_value(text, "theta_peer_rtt_seconds{session=\"ab\\\"c\\\\d\\ne\",peer=\"2\"}") == 0.002);
	assert_true(th_prom_value(text, "theta_peer_bytes_total{session=\"ab\\\"c\\\\d\\ne\",peer=\"3\"}") == 2000);
	/* Each family's HELP and TYPE once. */
	const char *type_line = "# TYPE theta_peer_rtt_seconds gauge\n";
	size_t at = (size_t)(strstr(text, type_line) - text);
	assert_non_null(strstr(text, type_line));
	assert_null(strstr(text + at + 1, type_line));

	/* The JSON form carries the same: histogram buckets cumulative, labelled samples. */
	struct json_object *o = srv_metrics_to_json(&m), *x, *v;
	assert_true(json_object_object_get_ex(o, "sess_ack_seconds", &x));
	assert_true(json_object_object_get_ex(x, "count", &v));
	assert_int_equal(json_object_get_int(v), 14);
	assert_true(json_object_object_get_ex(o, "peer_rtt_seconds", &x));
	assert_true(json_object_object_get_ex(x, "samples", &v));
	assert_int_equal(json_object_array_length(v), 3);
	json_object_put(o);
}

/* The checker refuses each kind of mistake (so a pass above means something). */
static void the_checker_refuses_mistakes(void **state)
{
	(void)state;
	static const char *const wrong[] = {
		"# TYPE a counter\na 1\n",                                   /* a counter not named _total */
		"a_total 1\n# TYPE a_total counter\n",                       /* TYPE after a sample */
		"# TYPE x gauge\n# TYPE x gauge\nx 1\n",                     /* TYPE twice */
		"x{l=\"a\\qb\"} 1\n",                                        /* an escape that is not one */
		"x{l=\"a} 1\n",                                              /* no closing quote */
		"x{1l=\"a\"} 1\n",                                           /* a label name starting with a digit */
		"1x 1\n",                                                    /* a metric name starting with a digit */
		"x one\n",                                                   /* not a number */
		"x 1",                                                       /* no final newline */
		"x{a=\"1\"} 1\ny 2\nx{a=\"2\"} 3\n",                         /* a family's samples apart */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\nh_bucket{le=\"+Inf\"} 5\nh_sum 1\nh_count 5\n",
		"# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",                    /* no +Inf */
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",                  /* _count != +Inf */
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n",                             /* no _count */
		"# TYPE x widget\nx 1\n",                                   /* not a type */
	};
	for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		struct th_prom_report rep;
		if (th_prom_check(wrong[i], &rep) == 0)
			fail_msg("the checker took case %zu:\n%s", i, wrong[i]);
	}
	struct th_prom_report rep;
	assert_int_equal(th_prom_check("# a comment\n\n# HELP x the x\n# TYPE x gauge\nx{a=\"b\",} -1.5e3 1700000000000\n"
				       "y NaN\nz +Inf\n",
				       &rep),
			 0);
}

static void a_real_daemon_is_scraped(void **state)
{
	(void)state;
	struct th_daemon_proc d;
	char conf[PATH_MAX + 16];
	assert_int_equal(th_daemon_prepare(&d), 0);
	snprintf(conf, sizeof conf, "%s/thetad.conf", d.dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fputs("[metrics]\nlisten = \"127.0.0.1:0\"\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(th_daemon_spawn(&d, (const char *const[]){ "--config", conf, NULL }, NULL, NULL, 0), 0);
	assert_int_equal(th_daemon_wait_notify(&d, "READY=1", 15000), 0);
	/* Edits, acknowledged: the ack and commit histograms count them. */
	struct nc_client c;
	assert_int_equal(nc_connect(&c, d.runtime_dir, 5000), 0);
	uint8_t payload[NC_EDIT_BYTES];
	memset(payload, 7, sizeof payload);
	for (int i = 0; i < 5; i++)
		assert_true(nc_submit(&c, 100 + (uint64_t)i, payload, sizeof payload) > 0);
	uint64_t end = th_now_ns() + 20 * TH_NS_PER_S;
	while (c.acks < 5 && th_now_ns() < end)
		nc_poll(&c, 100);
	assert_int_equal(c.acks, 5);
	nc_close(&c);

	struct json_object *st = th_ctl_call(&d, "{\"cmd\":\"status\",\"args\":{}}"), *mh, *pv;
	assert_non_null(st);
	assert_true(json_object_object_get_ex(st, "metrics_http", &mh));
	assert_true(json_object_object_get_ex(mh, "port", &pv));
	unsigned port = (unsigned)json_object_get_int(pv);
	json_object_put(st);
	assert_true(port > 0);

	struct th_http_reply hr;
	assert_int_equal(th_http_local(port, "GET", "/metrics", NULL, NULL, 0, &hr, 10000), 0);
	assert_int_equal(hr.status, 200);
	char type[128];
	assert_int_equal(th_http_header(&hr, "Content-Type", type, sizeof type), 0);
	assert_string_equal(type, "text/plain; version=0.0.4; charset=utf-8");
	const char *body = hr.body;
	struct th_prom_report rep;
	if (th_prom_check(body, &rep) != 0)
		fail_msg("GET /metrics: %s", rep.why);
	assert_true(rep.histograms >= 4);
	assert_true(th_prom_value(body, "theta_sess_ack_seconds_count") >= 5);
	assert_true(th_prom_value(body, "theta_clog_commit_seconds_count") >= 1);
	assert_true(th_prom_value(body, "theta_clog_submits_total") >= 5);
	assert_non_null(strstr(body, "theta_session_entries{session=\""));
	th_http_reply_free(&hr);
	/* Only /metrics. */
	assert_int_equal(th_http_local(port, "GET", "/", NULL, NULL, 0, &hr, 10000), 0);
	assert_int_equal(hr.status, 404);
	th_http_reply_free(&hr);

	/* thetactl metrics --prometheus: the same format. */
	assert_int_equal(th_ctl(&d, (const char *const[]){ "metrics", "--prometheus", NULL }, out, sizeof out, err,
				sizeof err),
			 0);
	if (th_prom_check(out, &rep) != 0)
		fail_msg("thetactl metrics --prometheus: %s", rep.why);
	assert_true(th_prom_value(out, "theta_sess_ack_seconds_count") >= 5);
	/* and the table shows a histogram's count */
	assert_int_equal(th_ctl(&d, (const char *const[]){ "metrics", NULL }, out, sizeof out, err, sizeof err), 0);
	assert_non_null(strstr(out, "sess_ack_seconds"));
	assert_non_null(strstr(out, "histogram"));
	th_daemon_cleanup(&d);
}

static void a_bad_listen_address_stops_the_start(void **state)
{
	(void)state;
	assert_int_equal(th_print_config("[metrics]\nlisten = \"localhost\"\n", out, sizeof out, err, sizeof err, 20000), 1);
	assert_non_null(strstr(err, "metrics.listen must be an address and port such as 127.0.0.1:9464"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_follows_the_grammar),
		cmocka_unit_test(the_checker_refuses_mistakes),
		cmocka_unit_test(a_real_daemon_is_scraped),
		cmocka_unit_test(a_bad_listen_address_stops_the_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
