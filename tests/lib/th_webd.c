#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "th_webd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "th_http.h"

struct th_daemon_proc *th_webd_start(const char *listen, const char *extra_conf, unsigned *port)
{
	static const char index_html[] = "<!doctype html><title>theta</title>\n";
	struct th_daemon_proc *d = th_daemon_slot();
	char conf[PATH_MAX], root[PATH_MAX], p[PATH_MAX + 16];
	assert_int_equal(th_daemon_prepare(d), 0);
	snprintf(root, sizeof root, "%s/web", d->dir);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(p, sizeof p, "%s/index.html", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(index_html, f);
	fclose(f);
	snprintf(conf, sizeof conf, "%s/thetad.conf", d->dir);
	assert_non_null(f = fopen(conf, "w"));
	fprintf(f, "[web]\nlisten = \"%s\"\nroot = \"%s\"\n%s", listen ? listen : "127.0.0.1:0", root,
		extra_conf ? extra_conf : "");
	fclose(f);
	const char *args[] = { "--config", conf, NULL };
	assert_int_equal(th_daemon_spawn(d, args, NULL, NULL, 0), 0);
	if (th_daemon_wait_notify(d, "READY=1", TH_WEBD_WAIT_MS) != 0)
		fail_msg("thetad with [web] listen did not start:\n%s", th_daemon_log(d));
	struct json_object *w = th_ctl_call(d, "{\"cmd\":\"web\",\"args\":{}}"), *v;
	assert_non_null(w);
	assert_true(json_object_object_get_ex(w, "http_port", &v));
	*port = (unsigned)json_object_get_int(v);
	assert_true(*port > 0);
	json_object_put(w);
	return d;
}

void th_webd_host(struct th_daemon_proc *d, const char *name, char id[33])
{
	char req[256];
	snprintf(req, sizeof req, "{\"cmd\":\"session_host\",\"args\":{\"name\":\"%s\"}}", name);
	struct json_object *r = th_ctl_call(d, req);
	assert_non_null(r);
	const char *s = th_json_path(r, "session");
	assert_non_null(s);
	assert_int_equal(strlen(s), 32);
	memcpy(id, s, 33);
	json_object_put(r);
}

void th_webd_invite(struct th_daemon_proc *d, const char *session, const char *role, long long expires_s,
		    bool single_use, char *link, size_t cap, char token[TH_WEBD_TOKEN_MAX])
{
	char req[512], ex[64] = "";
	if (expires_s)
		snprintf(ex, sizeof ex, ",\"expires_s\":%lld", expires_s);
	snprintf(req, sizeof req, "{\"cmd\":\"invite\",\"args\":{\"session\":\"%s\",\"role\":\"%s\"%s%s}}", session, role,
		 ex, single_use ? ",\"single_use\":true" : "");
	char err[256] = "";
	struct json_object *r = th_ctl_call_err(d, req, err, sizeof err);
	if (!r)
		fail_msg("invite: %s", err);
	const char *l = th_json_path(r, "web_link");
	assert_non_null(l);
	snprintf(link, cap, "%s", l);
	const char *t = strstr(link, "&token=");
	assert_non_null(t);
	snprintf(token, TH_WEBD_TOKEN_MAX, "%s", t + strlen("&token="));
	assert_int_equal(strlen(token), 143);
	json_object_put(r);
}

int th_webd_offer(unsigned port, const char *src, const char *body, size_t len, struct json_object **reply)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in from = { .sin_family = AF_INET };
	if (src)
		assert_int_equal(inet_pton(AF_INET, src, &from.sin_addr), 1);
	struct th_http_reply r;
	assert_int_equal(th_http_request((struct sockaddr *)&to, sizeof to, src ? (struct sockaddr *)&from : NULL, "POST",
					 "/offer", "application/json", body, len, &r, TH_WEBD_WAIT_MS),
			 0);
	*reply = json_tokener_parse(r.body);
	int status = r.status;
	th_http_reply_free(&r);
	return status;
}

char *th_webd_offer_body(const char *key, const char *secret, const char *sdp, const char *name)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, key, json_object_new_string(secret));
	json_object_object_add(o, "sdp", json_object_new_string(sdp));
	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	assert_non_null(s);
	return s;
}

void th_webd_expect_error(struct json_object *reply, const char *code, const char *sentence)
{
	assert_non_null(reply);
	const char *c = th_json_path(reply, "code"), *e = th_json_path(reply, "error");
	assert_non_null(c);
	assert_non_null(e);
	if (strcmp(c, code) || (sentence && strcmp(e, sentence)))
		fail_msg("expected %s \"%s\", got %s \"%s\"", code, sentence ? sentence : "...", c, e);
	size_t n = strlen(e);
	assert_true(n > 0 && e[n - 1] == '.'); /* one sentence */
}
