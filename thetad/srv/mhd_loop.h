/* A libmicrohttpd daemon started with MHD_USE_EPOLL (no thread of its own)
 * driven from th_loop: its epoll descriptor is watched for EPOLLIN and
 * MHD_run is called when it fires, and a timerfd armed from
 * MHD_get_timeout runs it when a connection times out. Used by the web
 * endpoint (thetad/web/web_http.c) and the metrics endpoint
 * (srv/metrics_http.c). */
#pragma once
#include <stddef.h>

struct th_loop;
struct MHD_Daemon;
struct srv_mhd_loop;

/* Watches mhd on loop (mhd stays the caller's: detach before
 * MHD_stop_daemon). 0, or -errno with a sentence in msg. */
int srv_mhd_loop_attach(struct th_loop *loop, struct MHD_Daemon *mhd, struct srv_mhd_loop **out, char *msg,
			size_t len);
/* Runs MHD once and re-arms the timer (after queueing a response outside
 * MHD's callbacks). */
void srv_mhd_loop_run(struct srv_mhd_loop *l);
void srv_mhd_loop_detach(struct srv_mhd_loop **l);
