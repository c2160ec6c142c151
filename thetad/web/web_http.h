/* The web endpoint's HTTP side (docs/web.md "The web endpoint"), on
 * libmicrohttpd driven from the daemon's loop (its epoll fd on th_loop, its
 * timeout on a timerfd; no thread of its own):
 *   GET  /, /index.html, /js/..., /wasm/..., /css/...   files under root
 *        (no directory listing, no path with "..", no dot-file, no
 *        symlink out of root; Content-Type by extension: .html, .js
 *        (text/javascript, for modules), .wasm (application/wasm), .css,
 *        .png, .json; Cache-Control: no-cache)
 *   POST /offer   a JSON body (at most WEB_HTTP_BODY_MAX bytes) handed to
 *        ops->offer; its reply is sent as JSON.
 * Plain HTTP when tls is false (loopback addresses: a secure context for
 * the browser already), else HTTPS with the daemon's own certificate. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct th_loop;

#define WEB_HTTP_BODY_MAX (64u * 1024u)
#define WEB_HTTP_CONNECTIONS_MAX 64u
#define WEB_HTTP_TIMEOUT_S 30u

struct web_http_config {
	const struct sockaddr *addr; /* where to listen (port 0: any free port) */
	socklen_t addrlen;
	const char *root;            /* the browser client's files */
	bool tls;
	const char *cert_pem, *key_pem; /* when tls: the daemon's certificate and key */
};

struct web_http_request {
	const char *body; /* NUL-terminated */
	size_t len;
	/* The address the browser reached us at (getsockname of its TCP
	 * connection: the host candidate of the answer) and where it is. */
	const struct sockaddr *local;
	socklen_t locallen;
	const struct sockaddr *remote;
	socklen_t remotelen;
};

struct web_http_reply {
	unsigned status;    /* 200, 400, 403, 404, 409, 410, 429, 503 */
	char *json;         /* malloc'd JSON text, freed by web_http */
};

struct web_http_ops {
	/* POST /offer. Fills *out (status and JSON); runs on the loop thread. */
	void (*offer)(void *user, const struct web_http_request *rq, struct web_http_reply *out);
};

struct web_http;

/* 0, or negative errno with msg[len] saying what failed ("cannot listen on
 * 127.0.0.1:8080: Address already in use"). */
int web_http_create(struct th_loop *loop, const struct web_http_config *cfg, const struct web_http_ops *ops,
		    void *user, struct web_http **out, char *msg, size_t len);
void web_http_destroy(struct web_http **h);
/* The TCP port it listens on (after port 0). */
unsigned web_http_port(const struct web_http *h);

struct web_http_stats {
	unsigned long long requests, files, offers, not_found, refused;
};
void web_http_get_stats(const struct web_http *h, struct web_http_stats *out);
