/* thetactl voice: the daemon's voice pipeline (daemon's `voice` command,
 * thetad/voice/module.c; docs/voice.md, "thetactl voice"): its settings,
 * then one row per speaker it knows, local or from another daemon. */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "ctl.h"

#define CTL_VOICE_COLS 13
/* Key fingerprints are shown this long in the table (--json: whole). */
#define CTL_VOICE_KEY_SHOWN 16

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static double jdouble(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

int ctl_cmd_voice(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct json_object *res, *list;
	int r = ctl_query(ctx, "voice", argc, argv, &res);
	if (r || !res)
		return r;
	if (!json_object_object_get_ex(res, "speakers", &list) || !json_object_is_type(list, json_type_array)) {
		ctl_eprintf(ctx, "%s voice: the daemon's reply has no speaker list\n", ctx->prog);
		json_object_put(res);
		return CTL_EXIT_ERROR;
	}
	printf("voice: %lld ms frames, complexity %lld, %lld kbit/s, FEC %s, DTX %s, VAD %s, spatial %s\n",
	       ctl_jint(res, "frame_ms"), ctl_jint(res, "complexity"), ctl_jint(res, "bitrate") / 1000,
	       jbool(res, "fec") ? "on" : "off", jbool(res, "dtx") ? "on" : "off", ctl_jstr(res, "vad"),
	       jbool(res, "spatial") ? "on" : "off");
	printf("session %s: %lld local client%s with voice, %lld speaking, link loss %lld%%\n", ctl_jstr(res, "session"),
	       ctl_jint(res, "clients"), ctl_jint(res, "clients") == 1 ? "" : "s", ctl_jint(res, "speaking"),
	       ctl_jint(res, "link_loss_pct"));
	size_t n = json_object_array_length(list);
	if (n == 0) {
		printf("no speakers\n");
		json_object_put(res);
		return CTL_EXIT_OK;
	}
	static const char *const hdr[CTL_VOICE_COLS] = { "SPEAKER", "KEY", "WHERE", "SPEAKING", "MUTED", "PACKETS",
							 "BYTES", "KBIT/S", "LOSS", "LATE", "CONCEALED", "FEC", "JB MS" };
	struct ctl_table *t = ctl_table_new(CTL_VOICE_COLS, hdr);
	for (size_t k = 0; k < n; k++) {
		struct json_object *s = json_object_array_get_idx(list, k);
		char key[CTL_VOICE_KEY_SHOWN + 1], pk[24], by[32], kb[24], loss[24], late[24], conc[24], fec[24], jb[32];
		snprintf(key, sizeof key, "%s", ctl_jstr(s, "key"));
		snprintf(pk, sizeof pk, "%lld", ctl_jint(s, "packets"));
		ctl_format_bytes((unsigned long long)ctl_jint(s, "bytes"), by, sizeof by);
		snprintf(kb, sizeof kb, "%.1f", (double)ctl_jint(s, "bitrate_bps") / 1000.0);
		snprintf(loss, sizeof loss, "%.1f%%", jdouble(s, "loss_pct"));
		snprintf(late, sizeof late, "%lld", ctl_jint(s, "late"));
		snprintf(conc, sizeof conc, "%lld", ctl_jint(s, "concealed"));
		snprintf(fec, sizeof fec, "%lld", ctl_jint(s, "fec_recovered"));
		bool local = jbool(s, "local");
		if (local)
			snprintf(jb, sizeof jb, "-");
		else
			snprintf(jb, sizeof jb, "%lld/%lld", ctl_jint(s, "jb_depth_ms"), ctl_jint(s, "jb_target_ms"));
		const char *muted = jbool(s, "admin_muted") ? "admin" : jbool(s, "muted") ? "self" : "-";
		const char *row[CTL_VOICE_COLS] = { ctl_jstr(s, "name"), key, local ? "local" : "remote",
						    jbool(s, "speaking") ? "yes" : "-", muted, pk, by, kb, loss, late,
						    conc, fec, jb };
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	ctl_table_free(t);
	printf("LOSS: frames lost of those expected; LATE: came after their playout; CONCEALED / FEC: lost frames "
	       "made up by concealment / recovered from the next frame; JB MS: jitter buffer depth/target\n");
	json_object_put(res);
	return CTL_EXIT_OK;
}
