/* Invites a hosted session issued (sessions.h struct sess_invite): the
 * host remembers each one it signs so that `invite list` can show it and
 * `invite revoke` can refuse it at join (thetad/net/net_link.c). The file
 * `invites` in the session's directory is rewritten atomically (fsync'd)
 * on every change, one line per invite:
 *   invite NONCEHEX ROLE single|reusable CREATED EXPIRY USES active|revoked
 * (ROLE 1..3, CREATED and EXPIRY Unix seconds, EXPIRY 0 = never).
 * Unparseable lines are skipped (the file is ours). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sess/sessions.h"
#include "th_file.h"
#include "th_hex.h"

#define SESS_INVITE_LINE_MAX 128

/* An invite whose record may go to make room: its token is refused
 * without it (expired: the token carries its expiry; used single-use: the
 * nonce is in the members file). A revoked invite that has not expired
 * stays: the host admits a token it has no record of (issued before it
 * kept them), so dropping the record would make the link valid again. */
static bool sess_invite_spent(const struct sess_invite *inv, uint64_t now_s)
{
	return (inv->expiry_unix && now_s >= inv->expiry_unix) || (inv->single_use && inv->uses);
}

const char *sess_invite_state(const struct sess_invite *inv, uint64_t now_s)
{
	if (inv->revoked)
		return "revoked";
	if (inv->expiry_unix && now_s >= inv->expiry_unix)
		return "expired";
	if (inv->single_use && inv->uses)
		return "used";
	return "active";
}

int sess_invite_add(struct sess_session *s, const struct sess_invite *inv, uint64_t now_s)
{
	if (!s->invites && !(s->invites = calloc(SESS_MAX_INVITES, sizeof(*s->invites))))
		return -ENOMEM;
	if (s->n_invites == SESS_MAX_INVITES) {
		unsigned i = 0;
		while (i < s->n_invites && !sess_invite_spent(&s->invites[i], now_s))
			i++;
		if (i == s->n_invites)
			return -ENOSPC;
		memmove(&s->invites[i], &s->invites[i + 1], (s->n_invites - i - 1) * sizeof(*s->invites));
		s->n_invites--;
	}
	s->invites[s->n_invites++] = *inv;
	return 0;
}

struct sess_invite *sess_invite_find(struct sess_session *s, const uint8_t nonce[16])
{
	for (unsigned i = 0; i < s->n_invites; i++)
		if (!memcmp(s->invites[i].nonce, nonce, 16))
			return &s->invites[i];
	return NULL;
}

struct sess_invite *sess_invite_lookup(struct sess_session *s, const char *id, char *err, size_t errlen)
{
	size_t len = strlen(id);
	struct sess_invite *hit = NULL;
	unsigned hits = 0;
	if (len < 8 || len > 32 || strspn(id, "0123456789abcdef") != len) {
		snprintf(err, errlen, "'%s' is not an invite id (8 to 32 lowercase hex digits, as invite list shows)", id);
		return NULL;
	}
	for (unsigned i = 0; i < s->n_invites; i++) {
		char hex[33];
		th_hex_encode(s->invites[i].nonce, 16, hex);
		if (!strncmp(hex, id, len)) {
			hit = &s->invites[i];
			hits++;
		}
	}
	if (hits == 1)
		return hit;
	if (hits)
		snprintf(err, errlen, "'%s' is the start of %u invite ids of session %s; give more of the id", id, hits,
			 s->id);
	else
		snprintf(err, errlen, "session %s has no invite '%s' (see thetactl invite list)", s->id, id);
	return NULL;
}

int sess_invites_save(const struct sess_session *s)
{
	size_t cap = 64 + (size_t)s->n_invites * SESS_INVITE_LINE_MAX, n = 0;
	char *text = malloc(cap), path[4200], hex[33];
	if (!text)
		return -ENOMEM;
	n += (size_t)snprintf(text, cap, "# thetad invites: invite NONCE ROLE single|reusable CREATED EXPIRY USES state\n");
	for (unsigned i = 0; i < s->n_invites; i++) {
		const struct sess_invite *v = &s->invites[i];
		th_hex_encode(v->nonce, 16, hex);
		n += (size_t)snprintf(text + n, cap - n, "invite %s %u %s %" PRIu64 " %" PRIu64 " %" PRIu32 " %s\n", hex,
				      (unsigned)v->role, v->single_use ? "single" : "reusable", v->created_unix,
				      v->expiry_unix, v->uses, v->revoked ? "revoked" : "active");
	}
	snprintf(path, sizeof(path), "%s/invites", s->dir);
	int rc = th_file_replace(path, text, n, 0600);
	free(text);
	return rc;
}

void sess_invites_load(struct sess_session *s)
{
	char path[4200], *text = NULL;
	size_t len;
	snprintf(path, sizeof(path), "%s/invites", s->dir);
	if (th_file_read(path, SESS_INVITES_FILE_MAX, &text, &len) < 0)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char hex[40], reuse[16], state[16];
		unsigned role;
		uint64_t created, expiry;
		uint32_t uses;
		struct sess_invite v = { 0 };
		if (sscanf(line, "invite %39s %u %15s %" SCNu64 " %" SCNu64 " %" SCNu32 " %15s", hex, &role, reuse, &created,
			   &expiry, &uses, state) != 7 ||
		    role < 1 || role > 3 || th_hex_decode(hex, strlen(hex), v.nonce, 16, false) < 0)
			continue;
		v.role = (uint8_t)role;
		v.single_use = !strcmp(reuse, "single");
		v.revoked = !strcmp(state, "revoked");
		v.created_unix = created;
		v.expiry_unix = expiry;
		v.uses = uses;
		if (sess_invite_add(s, &v, 0) < 0)
			break;
	}
	free(text);
}
