/* The metrics endpoint (metrics.listen, off by default; docs/operator.md
 * "Metrics"): GET /metrics answers the daemon's metrics in the Prometheus
 * text format (srv_metrics_prometheus) so a Prometheus server can scrape
 * thetad directly. libmicrohttpd on the daemon's loop (srv/mhd_loop.h):
 * the metrics are read on the thread that updates them. Anything else is
 * 404; methods other than GET/HEAD 405. */
#pragma once
#include <stddef.h>
#include <sys/socket.h>

struct th_loop;
struct srv_metrics;
struct srv_metrics_http;

#define SRV_METRICS_HTTP_CONNECTIONS_MAX 16u
#define SRV_METRICS_HTTP_TIMEOUT_S 10u

/* refresh (may be NULL) brings the gauges up to date before each answer. */
int srv_metrics_http_start(struct th_loop *loop, const struct sockaddr *addr, socklen_t addrlen,
			   const struct srv_metrics *m, void (*refresh)(void *ud), void *ud,
			   struct srv_metrics_http **out, char *msg, size_t len);
/* The TCP port it listens on (the one chosen for port 0). */
unsigned srv_metrics_http_port(const struct srv_metrics_http *h);
void srv_metrics_http_stop(struct srv_metrics_http **h);
