/* Invites with real daemons on loopback: a link expires after 24 h unless
 * --expires says otherwise, and the line under each link says its role,
 * expiry (UTC) and reuse; the host keeps every invite it issued (`invite
 * list`, durable across a restart); a revoked invite and an expired one
 * are refused at join with their own sentences; a single-use invite is
 * listed as used once a daemon joined with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <time.h>

#include "net_fixture.h"
#include "session.h"

#define WAIT_NS ((uint64_t)NF_WAIT_MS * TH_NS_PER_MS)

/* `invite` with more flags: the link (first line) into link, the line
 * under it into terms, the invite id that line ends with into id. */
static void invite(struct nf_daemon *d, const char *const *flags, char link[600], char terms[256], char id[16])
{
	const char *args[16] = { "invite", "studio", "--host", "127.0.0.1" };
	int n = 4;
	for (int i = 0; flags && flags[i]; i++)
		args[n++] = flags[i];
	args[n] = NULL;
	assert_int_equal(nf_ctl(d, args), 0);
	char *nl = strchr(nf_out, '\n');
	assert_non_null(nl);
	snprintf(link, 600, "%.*s", (int)(nl - nf_out), nf_out);
	assert_true(!strncmp(link, "theta://", 8));
	snprintf(terms, 256, "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
	const char *w = strstr(terms, "; invite ");
	assert_non_null(w);
	snprintf(id, 16, "%s", w + strlen("; invite "));
	assert_int_equal(strlen(id), 12);
}

/* The `invite list --json` row of id: its member field ("" if absent). */
static const char *listed(struct nf_daemon *d, const char *id, const char *field)
{
	static char val[128];
	struct json_object *r = nf_ctl_json(d, (const char *const[]){ "invite", "list", "--json", NULL }), *arr, *v;
	val[0] = 0;
	assert_non_null(r);
	assert_true(json_object_object_get_ex(r, "invites", &arr));
	for (size_t k = 0; k < json_object_array_length(arr); k++) {
		struct json_object *o = json_object_array_get_idx(arr, k);
		if (json_object_object_get_ex(o, "id", &v) && !strncmp(json_object_get_string(v), id, strlen(id)) &&
		    json_object_object_get_ex(o, field, &v))
			snprintf(val, sizeof(val), "%s", json_object_get_string(v));
	}
	json_object_put(r);
	return val;
}

static void invites_say_their_terms_are_listed_revoked_and_expire(void **state)
{
	struct nf_daemon a, b, c, d, e;
	char sid[33], l1[600], l2[600], l3[600], l4[600], t[256], i1[16], i2[16], i3[16], i4[16];
	nf_start(&a, NULL, NULL);
	nf_host(&a, "studio", sid);

	/* The default: 24 h, reusable, and the line says so in UTC. */
	uint64_t before = (uint64_t)time(NULL);
	invite(&a, (const char *const[]){ "--role", "viewer", NULL }, l1, t, i1);
	uint64_t x1 = strtoull(listed(&a, i1, "expiry_unix"), NULL, 10);
	assert_true(x1 >= before + 24 * 3600 && x1 <= (uint64_t)time(NULL) + 24 * 3600);
	assert_non_null(strstr(t, "role viewer"));
	assert_non_null(strstr(t, "expires "));
	assert_non_null(strstr(t, " UTC"));
	assert_non_null(strstr(t, "reusable"));
	const char *idshort = i1;
	invite(&a, (const char *const[]){ "--single-use", NULL }, l2, t, i2);
	assert_non_null(strstr(t, "role editor"));
	assert_non_null(strstr(t, "single-use"));
	invite(&a, (const char *const[]){ "--expires", "never", NULL }, l3, t, i3);
	assert_non_null(strstr(t, "never expires"));
	invite(&a, (const char *const[]){ "--expires", "2s", NULL }, l4, t, i4);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "studio", "--expires", "soon", NULL }), 2);
	/* A control request whose expires_s is no integer is refused, not
	 * read as 0 ("never"). */
	char cerr[256] = "";
	assert_null(th_ctl_call_err(&a.p, "{\"cmd\":\"invite\",\"args\":{\"session\":\"studio\",\"host\":\"127.0.0.1\","
				     "\"expires_s\":\"soon\"}}", cerr, sizeof cerr));
	assert_non_null(strstr(cerr, "an invite expires after"));

	/* Listed, all active; the table has the columns. */
	assert_string_equal(listed(&a, i1, "state"), "active");
	assert_string_equal(listed(&a, i2, "role"), "editor");
	assert_string_equal(listed(&a, i3, "expiry_unix"), "0");
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "list", "studio", NULL }), 0);
	assert_non_null(strstr(nf_out, "ID"));
	assert_non_null(strstr(nf_out, "EXPIRES"));
	assert_non_null(strstr(nf_out, "USES"));
	assert_non_null(strstr(nf_out, idshort));

	/* Revoked: refused at join with its sentence; members stay. */
	nf_start(&b, NULL, NULL);
	nf_join_ok(&a, &b, l1);
	assert_string_equal(listed(&a, i1, "uses"), "1");
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "revoke", idshort, NULL }), 0);
	assert_non_null(strstr(nf_out, "revoked"));
	assert_string_equal(listed(&a, i1, "state"), "revoked");
	nf_start(&c, NULL, NULL);
	assert_int_equal(nf_join(&c, l1), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_TOKEN_REVOKED)));
	assert_int_equal(nf_active_peers(&a), 1);
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "revoke", "0123456789ab", NULL }), 1);
	assert_non_null(strstr(nf_err, "no invite '0123456789ab'"));
	assert_int_equal(nf_ctl(&a, (const char *const[]){ "invite", "revoke", "xyz", NULL }), 2); /* malformed: usage */
	assert_non_null(strstr(nf_err, "is not an invite id"));

	/* Single use: used once a daemon joined with it. */
	nf_join_ok(&a, &c, l2);
	assert_string_equal(listed(&a, i2, "state"), "used");

	/* Expired: listed so, refused with its sentence. */
	uint64_t end = th_now_ns() + WAIT_NS;
	while (strcmp(listed(&a, i4, "state"), "expired") && th_now_ns() < end)
		th_sleep_ns(100 * TH_NS_PER_MS);
	assert_string_equal(listed(&a, i4, "state"), "expired");
	nf_start(&d, NULL, NULL);
	assert_int_equal(nf_join(&d, l4), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_TOKEN_EXPIRED)));

	/* Durable: a restarted host lists the same invites and still refuses
	 * the revoked one (its link names the new port). */
	nf_kill(&a, SIGTERM);
	assert_int_equal(nf_spawn(&a), 0);
	nf_read_status(&a);
	assert_string_equal(listed(&a, i1, "state"), "revoked");
	assert_string_equal(listed(&a, i2, "state"), "used");
	assert_string_equal(listed(&a, i3, "state"), "active");
	char *colon = strchr(l1 + 8, ':'), *slash = strchr(colon, '/'), moved[600];
	snprintf(moved, sizeof(moved), "%.*s:%u%s", (int)(colon - l1), l1, (unsigned)a.port, slash);
	nf_start(&e, NULL, NULL);
	assert_int_equal(nf_join(&e, moved), 1);
	assert_non_null(strstr(nf_err, proto_sess_err_text(PROTO_SESS_ERR_TOKEN_REVOKED)));
	nf_cleanup(&a);
	nf_cleanup(&b);
	nf_cleanup(&c);
	nf_cleanup(&d);
	nf_cleanup(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(invites_say_their_terms_are_listed_revoked_and_expire, nf_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
