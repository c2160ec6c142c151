/* thetactl's side of `submit` and `entry` (submit.h). */
#include "submit.h"

#include <errno.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "th_hex.h"
#include "th_time.h"

int ctl_submit(const struct ctl_ctx *ctx, int fd, const char *session, const char *type, uint64_t scope,
	       const uint8_t *payload, size_t len, bool as_host, struct ctl_submitted *out, char *err,
	       size_t errlen)
{
	if (len > CTL_SUBMIT_PAYLOAD_MAX) {
		snprintf(err, errlen, "a %s of %zu bytes is larger than one submit carries (%u)", type, len,
			 CTL_SUBMIT_PAYLOAD_MAX);
		return 1;
	}
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64len);
	if (!b64) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sodium_bin2base64(b64, b64len, payload, len, sodium_base64_VARIANT_ORIGINAL);
	struct json_object *args = json_object_new_object(), *res = NULL, *v;
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	json_object_object_add(args, "type", json_object_new_string(type));
	json_object_object_add(args, "scope", json_object_new_uint64(scope));
	json_object_object_add(args, "payload_base64", json_object_new_string(b64));
	if (as_host)
		json_object_object_add(args, "as", json_object_new_string("host"));
	free(b64);
	char code[CTL_CODE_LEN];
	uint64_t end = th_now_ns() + (uint64_t)CTL_SUBMIT_RETRY_S * TH_NS_PER_S;
	int r;
	for (;;) {
		r = ctl_ask(ctx, fd, "submit", args, &res, code, err, errlen);
		if (r != 1 || strcmp(code, "EAGAIN") || th_now_ns() > end)
			break;
		usleep(CTL_SUBMIT_RETRY_WAIT_US);
	}
	json_object_put(args);
	if (r)
		return r;
	const char *a = json_object_object_get_ex(res, "author", &v) ? json_object_get_string(v) : "";
	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(res, "lamport", &v) || !(out->lamport = json_object_get_uint64(v)) ||
	    !json_object_object_get_ex(res, "seq", &v) || !(out->seq = json_object_get_uint64(v)) ||
	    th_hex_decode(a, strlen(a), out->author, sizeof(out->author), false) < 0) {
		json_object_put(res);
		snprintf(err, errlen, "thetad's answer to submit lacks the entry's lamport, seq or author");
		return -EBADMSG;
	}
	if (json_object_object_get_ex(res, "fingerprint", &v))
		snprintf(out->fingerprint, sizeof(out->fingerprint), "%s", json_object_get_string(v));
	json_object_put(res);
	return 0;
}

int ctl_entry(const struct ctl_ctx *ctx, int fd, const char *session, uint64_t lamport, const char *author,
	      struct json_object **result, char *err, size_t errlen)
{
	struct json_object *args = json_object_new_object();
	char code[CTL_CODE_LEN];
	if (session)
		json_object_object_add(args, "session", json_object_new_string(session));
	json_object_object_add(args, "lamport", json_object_new_uint64(lamport));
	if (author)
		json_object_object_add(args, "author", json_object_new_string(author));
	int r = ctl_ask(ctx, fd, "entry", args, result, code, err, errlen);
	json_object_put(args);
	return r;
}
