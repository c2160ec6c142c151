/* The web endpoint's HTTP side (web_http.h): libmicrohttpd in its external
 * epoll mode on the daemon's loop. We bind the listening socket ourselves
 * (the address the operator named, port 0 resolved by getsockname) and
 * hand it over; srv/mhd_loop.h runs MHD from the loop (its epoll fd, and a
 * timerfd armed from MHD_get_timeout after every run for the connection
 * timeouts and the TLS data GnuTLS has buffered: timeout 0). No thread but
 * the loop's. */
#include "web/web_http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "th_err.h"
#include "th_log.h"
#include "srv/mhd_loop.h"
#include "th_loop.h"
#include "web/web_addr.h"

#define WEB_HTTP_PATH_MAX 256u      /* longer request paths are 404 */
#define WEB_HTTP_MEMORY_LIMIT (128u * 1024u) /* MHD's per-connection buffer */
#define WEB_HTTP_LISTEN_BACKLOG 64

struct web_http {
	struct th_loop *loop;
	struct MHD_Daemon *mhd;
	struct srv_mhd_loop *ml; /* MHD on the daemon's loop */
	int listen_fd; /* MHD closes it on stop */
	unsigned port;
	char root[PATH_MAX]; /* realpath of cfg->root */
	size_t root_len;
	struct web_http_ops ops;
	void *user;
	struct web_http_stats st;
	char *cert_pem, *key_pem; /* MHD keeps pointers to them while it runs */
};

/* One POST body being read (MHD's per-request pointer). */
struct web_http_post {
	char *buf;
	size_t len;
	bool too_large;
};

static const struct web_http_type {
	const char *ext, *type;
} web_http_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".wasm", "application/wasm" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".png", "image/png" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".ico", "image/x-icon" },
};

static const char *web_http_type_of(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < sizeof web_http_types / sizeof web_http_types[0]; i++)
		if (!strcmp(dot, web_http_types[i].ext))
			return web_http_types[i].type;
	return NULL;
}

static enum MHD_Result web_http_queue(struct MHD_Connection *c, unsigned status, const char *type, char *body,
				      size_t len, bool owned)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result q = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return q;
}

/* {"error": sentence, "code": code} (both ours: no escaping needed). */
static enum MHD_Result web_http_error(struct MHD_Connection *c, unsigned status, const char *code, const char *sentence)
{
	char *j = NULL;
	int n = asprintf(&j, "{\"error\":\"%s\",\"code\":\"%s\"}", sentence, code);
	if (n < 0)
		return MHD_NO;
	return web_http_queue(c, status, "application/json", j, (size_t)n, true);
}

static enum MHD_Result web_http_not_found(struct web_http *h, struct MHD_Connection *c)
{
	static char body[] = "not found\n";
	h->st.not_found++;
	return web_http_queue(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", body, sizeof body - 1, false);
}

/* Whether the request path may name a file: below root, no "..", no
 * dot-file or dot-folder, no empty segment, printable ASCII only. */
static bool web_http_path_ok(const char *url)
{
	size_t n = strlen(url);
	if (n == 0 || n >= WEB_HTTP_PATH_MAX || url[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch >= 0x7f || ch == '\\')
			return false;
		if (ch == '/' && (url[i + 1] == '.' || url[i + 1] == '/'))
			return false;
	}
	return true;
}

static enum MHD_Result web_http_file(struct web_http *h, struct MHD_Connection *c, const char *url)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *type;
	if (!strcmp(url, "/"))
		url = "/index.html";
	if (!web_http_path_ok(url) || !(type = web_http_type_of(url)))
		return web_http_not_found(h, c);
	int n = snprintf(path, sizeof path, "%s%s", h->root, url);
	if (n < 0 || (size_t)n >= sizeof path || !realpath(path, real) || strncmp(real, h->root, h->root_len) ||
	    real[h->root_len] != '/')
		return web_http_not_found(h, c); /* missing, or a symlink out of root */
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return web_http_not_found(h, c);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return web_http_not_found(h, c);
	}
	/* MHD closes fd; for HEAD it sends the headers (Content-Length the file's) only. */
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	h->st.files++;
	enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return q;
}

static enum MHD_Result web_http_offer(struct web_http *h, struct MHD_Connection *c, struct web_http_post *p)
{
	const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_storage local, remote;
	socklen_t llen = sizeof local, rlen = sizeof remote;
	if (!fdi || getsockname(fdi->connect_fd, (struct sockaddr *)&local, &llen) < 0 ||
	    getpeername(fdi->connect_fd, (struct sockaddr *)&remote, &rlen) < 0) {
		h->st.refused++;
		return web_http_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				      "The daemon could not tell which address this connection reached.");
	}
	struct web_http_request rq = { .body = p->buf ? p->buf : "", .len = p->len,
				       .local = (struct sockaddr *)&local, .locallen = llen,
				       .remote = (struct sockaddr *)&remote, .remotelen = rlen };
	struct web_http_reply out = { 0 };
	h->st.offers++;
	h->ops.offer(h->user, &rq, &out);
	if (!out.json)
		return web_http_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "The daemon could not answer the offer.");
	if (out.status != MHD_HTTP_OK)
		h->st.refused++;
	return web_http_queue(c, out.status ? out.status : MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json", out.json,
			      strlen(out.json), true);
}

/* A body past WEB_HTTP_BODY_MAX: answered at once, the rest not read. */
static enum MHD_Result web_http_too_large(struct web_http *h, struct MHD_Connection *c, struct web_http_post *p,
					  size_t *upload_len)
{
	p->too_large = true;
	*upload_len = 0;
	h->st.refused++;
	return web_http_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", "The offer is larger than the daemon takes (64 KiB).");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct web_http *h = cls;
	(void)version;
	if (!strcmp(method, MHD_HTTP_METHOD_POST)) {
		struct web_http_post *p = *con_cls;
		if (strcmp(url, "/offer")) {
			*upload_len = 0;
			return web_http_not_found(h, c);
		}
		if (!p) { /* the headers: nothing of the body yet */
			h->st.requests++;
			if (!(p = calloc(1, sizeof *p)))
				return MHD_NO;
			*con_cls = p;
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl && strtoull(cl, NULL, 10) > WEB_HTTP_BODY_MAX)
				return web_http_too_large(h, c, p, upload_len);
			return MHD_YES;
		}
		if (p->too_large) { /* answered; MHD closes the connection after the reply */
			*upload_len = 0;
			return MHD_YES;
		}
		if (*upload_len) {
			if (p->len + *upload_len > WEB_HTTP_BODY_MAX)
				return web_http_too_large(h, c, p, upload_len);
			char *nb = realloc(p->buf, p->len + *upload_len + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + p->len, upload, *upload_len);
			p->buf = nb;
			p->len += *upload_len;
			p->buf[p->len] = 0;
			*upload_len = 0;
			return MHD_YES;
		}
		return web_http_offer(h, c, p);
	}
	h->st.requests++;
	if (strcmp(method, MHD_HTTP_METHOD_HEAD) && strcmp(method, MHD_HTTP_METHOD_GET))
		return web_http_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "bad_request",
				      "The web endpoint takes GET for files and POST for /offer only.");
	return web_http_file(h, c, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
	struct web_http_post *p = *con_cls;
	(void)cls;
	(void)c;
	(void)why;
	if (p) {
		free(p->buf);
		free(p);
		*con_cls = NULL;
	}
}

static int web_http_bind(const struct web_http_config *cfg, int *fd_out, unsigned *port, char *msg, size_t len)
{
	char where[WEB_ADDR_TEXT_MAX];
	if (web_addr_format(cfg->addr, where, sizeof where) < 0)
		snprintf(where, sizeof where, "?");
	int fd = socket(cfg->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, r;
	if (fd < 0) {
		r = -errno;
		snprintf(msg, len, "cannot make a TCP socket for %s: %s", where, th_strerror(r));
		return r;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (cfg->addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, cfg->addr, cfg->addrlen) < 0 || listen(fd, WEB_HTTP_LISTEN_BACKLOG) < 0) {
		r = -errno;
		snprintf(msg, len, "cannot listen on %s: %s", where, th_strerror(r));
		close(fd);
		return r;
	}
	struct sockaddr_storage got;
	socklen_t glen = sizeof got;
	if (getsockname(fd, (struct sockaddr *)&got, &glen) < 0) {
		r = -errno;
		snprintf(msg, len, "cannot tell the port of %s: %s", where, th_strerror(r));
		close(fd);
		return r;
	}
	*port = web_addr_port((struct sockaddr *)&got);
	*fd_out = fd;
	return 0;
}

int web_http_create(struct th_loop *loop, const struct web_http_config *cfg, const struct web_http_ops *ops,
		    void *user, struct web_http **out, char *msg, size_t len)
{
	struct web_http *h = calloc(1, sizeof *h);
	int r;
	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->ops = *ops;
	h->user = user;
	h->listen_fd = -1;
	if (!realpath(cfg->root, h->root)) {
		r = -errno;
		snprintf(msg, len, "web.root '%s' is not a folder thetad can read: %s", cfg->root, th_strerror(r));
		goto fail;
	}
	h->root_len = strlen(h->root);
	struct stat st;
	if (stat(h->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = -ENOTDIR;
		snprintf(msg, len, "web.root '%s' is not a folder", cfg->root);
		goto fail;
	}
	if (cfg->tls && (!cfg->cert_pem || !cfg->key_pem || !(h->cert_pem = strdup(cfg->cert_pem)) ||
			 !(h->key_pem = strdup(cfg->key_pem)))) {
		r = -ENOMEM;
		snprintf(msg, len, "HTTPS needs the daemon's certificate and key");
		goto fail;
	}
	if ((r = web_http_bind(cfg, &h->listen_fd, &h->port, msg, len)) < 0)
		goto fail;
	unsigned flags = MHD_USE_EPOLL | (cfg->tls ? MHD_USE_TLS : 0) |
			 (cfg->addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	if (cfg->tls)
		h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
					  MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_HTTP_CONNECTIONS_MAX,
					  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_HTTP_TIMEOUT_S,
					  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_HTTP_MEMORY_LIMIT,
					  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_HTTPS_MEM_CERT,
					  h->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, h->key_pem, MHD_OPTION_END);
	else
		h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->listen_fd,
					  MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_HTTP_CONNECTIONS_MAX,
					  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_HTTP_TIMEOUT_S,
					  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_HTTP_MEMORY_LIMIT,
					  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (!h->mhd) {
		r = -EIO;
		snprintf(msg, len, "libmicrohttpd would not start on port %u%s", h->port,
			 cfg->tls ? " (is the daemon's TLS certificate readable?)" : "");
		goto fail;
	}
	h->listen_fd = -1; /* MHD's now */
	if ((r = srv_mhd_loop_attach(loop, h->mhd, &h->ml, msg, len)) < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	web_http_destroy(&h);
	return r;
}

void web_http_destroy(struct web_http **hp)
{
	struct web_http *h = *hp;
	if (!h)
		return;
	srv_mhd_loop_detach(&h->ml);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	free(h->cert_pem);
	free(h->key_pem);
	free(h);
	*hp = NULL;
}

unsigned web_http_port(const struct web_http *h)
{
	return h->port;
}

void web_http_get_stats(const struct web_http *h, struct web_http_stats *out)
{
	*out = h->st;
}
