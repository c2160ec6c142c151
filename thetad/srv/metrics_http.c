#include "srv/metrics_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv/metrics.h"
#include "srv/mhd_loop.h"

struct srv_metrics_http {
	struct MHD_Daemon *mhd;
	struct srv_mhd_loop *ml;
	const struct srv_metrics *m;
	void (*refresh)(void *ud);
	void *ud;
	unsigned port;
};

static enum MHD_Result srv_metrics_reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
					 size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	enum MHD_Result q = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return q;
}

static enum MHD_Result srv_metrics_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	char *body = strdup(text);
	return body ? srv_metrics_reply(c, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct srv_metrics_http *h = cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size)
		return MHD_NO; /* a body on a GET: not ours */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return srv_metrics_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "Only GET /metrics is served here.\n");
	if (strcmp(url, "/metrics"))
		return srv_metrics_text(c, MHD_HTTP_NOT_FOUND, "Not found: the metrics are at /metrics.\n");
	if (h->refresh)
		h->refresh(h->ud);
	char *body = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	int r = srv_metrics_prometheus(h->m, f);
	if (fclose(f) != 0 || r < 0) {
		free(body);
		return srv_metrics_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "The metrics could not be rendered.\n");
	}
	return srv_metrics_reply(c, MHD_HTTP_OK, SRV_METRICS_PROM_CONTENT_TYPE, body, len);
}

int srv_metrics_http_start(struct th_loop *loop, const struct sockaddr *addr, socklen_t addrlen,
			   const struct srv_metrics *m, void (*refresh)(void *ud), void *ud,
			   struct srv_metrics_http **out, char *msg, size_t len)
{
	struct srv_metrics_http *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	*h = (struct srv_metrics_http){ .m = m, .refresh = refresh, .ud = ud };
	unsigned flags = MHD_USE_EPOLL | (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, addr,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)SRV_METRICS_HTTP_CONNECTIONS_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SRV_METRICS_HTTP_TIMEOUT_S, MHD_OPTION_END);
	(void)addrlen;
	int r;
	if (!h->mhd) {
		r = -EADDRNOTAVAIL;
		snprintf(msg, len, "cannot listen there (in use, or not an address of this machine)");
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	if ((r = srv_mhd_loop_attach(loop, h->mhd, &h->ml, msg, len)) < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	srv_metrics_http_stop(&h);
	return r;
}

unsigned srv_metrics_http_port(const struct srv_metrics_http *h)
{
	return h ? h->port : 0;
}

void srv_metrics_http_stop(struct srv_metrics_http **hp)
{
	struct srv_metrics_http *h = *hp;
	if (!h)
		return;
	srv_mhd_loop_detach(&h->ml);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
	*hp = NULL;
}
