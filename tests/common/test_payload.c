/* common/th_payload.c: the typed payload of every command in
 * schemas/commands.def round-trips, and every rule of its description is
 * enforced by both the decoder and the encoder. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "th_cmd.h"
#include "th_hash.h"
#include "th_logrec.h"
#include "th_payload.h"
#include "th_schema.h"

static uint8_t transform_value[40];
static uint8_t mesh_ref_value[16];

/* One valid payload of every command type, as a struct. */
static union th_pl_any sample;

static void *make_sample(uint16_t type)
{
	memset(&sample, 0, sizeof sample);
	struct th_c_transform t = { .position = { 1, 2, 3 }, .rotation = { 0, 0, 0, 1 }, .scale = { 1, 1, 1 } };
	assert_int_equal(th_schema_encode(th_component_record(TH_COMP_TRANSFORM), &t, transform_value,
					  sizeof transform_value), 40);
	memset(mesh_ref_value, 0xab, sizeof mesh_ref_value);
	uint64_t tr = th_component_id(TH_COMP_TRANSFORM), mr = th_component_id(TH_COMP_MESH_REF);
	switch (type) {
	case TH_CMD_ENTITY_CREATE:
		sample.entity_create.components_count = 2;
		sample.entity_create.components[0] = (struct th_pl_component_value){ tr, transform_value, 40 };
		sample.entity_create.components[1] = (struct th_pl_component_value){ mr, mesh_ref_value, 16 };
		break;
	case TH_CMD_ENTITY_DESTROY:
		break;
	case TH_CMD_COMPONENT_WRITE:
		sample.component_write = (struct th_pl_component_write){ tr, transform_value, 40 };
		break;
	case TH_CMD_COMPONENT_REMOVE:
		sample.component_remove.component = mr;
		break;
	case TH_CMD_MESH_PATCH:
		sample.mesh_patch.ops_count = 3;
		sample.mesh_patch.ops[0] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_VERTEX_ADD, 0, 0, { 1, 0, 0 } };
		sample.mesh_patch.ops[1] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_VERTEX_MOVE, 77, 0, { 0, 1, 0 } };
		sample.mesh_patch.ops[2] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_REMOVE, 78, 0, { 0, 0, 0 } };
		break;
	case TH_CMD_MESH_CREATE:
		/* A triangle of three new vertices. */
		sample.mesh_create.transform[6] = 1;
		for (int i = 7; i < 10; i++)
			sample.mesh_create.transform[i] = 1;
		sample.mesh_create.material = 2;
		sample.mesh_create.ops_count = 7;
		for (int i = 0; i < 3; i++)
			sample.mesh_create.ops[i] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_VERTEX_ADD, 0, 0, { (float)i, (float)(i == 2), 0 } };
		sample.mesh_create.ops[3] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_FACE_ADD, 0, 1, { 0, 0, 0 } };
		for (int i = 0; i < 3; i++)
			sample.mesh_create.ops[4 + i] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_LOOP, (uint64_t)i + 1, TH_PL_MESH_REF_LOCAL, { 0, 0, 0 } };
		break;
	case TH_CMD_MATERIAL_SET:
		sample.material_set.index = 3;
		strcpy(sample.material_set.name, "glass");
		sample.material_set.base_color[0] = 0.5f;
		sample.material_set.base_color[3] = 0.25f;
		sample.material_set.roughness_metallic[0] = 0.1f;
		break;
	case TH_CMD_MESH_TRANSFORM:
		for (int i = 0; i < 4; i++)
			sample.mesh_transform.matrix[i * 5] = 1;
		sample.mesh_transform.matrix[12] = 0.5f;
		break;
	case TH_CMD_TOOL_STATE:
		sample.tool_state = (struct th_pl_tool_state){ 4, mesh_ref_value, 5 };
		break;
	case TH_CMD_EDIT_UNDO:
	case TH_CMD_EDIT_REDO:
		sample.edit_undo.lamport = 12;
		memset(sample.edit_undo.author, 7, sizeof sample.edit_undo.author);
		break;
	case TH_CMD_ANNOTATION_ADD:
		strcpy(sample.annotation_add.text, "caf\xc3\xa9 corner");
		break;
	case TH_CMD_SESSION_RENAME:
		strcpy(sample.session_rename.name, "studio");
		break;
	case TH_CMD_SESSION_ROLE_SET:
		memset(sample.session_role_set.member, 3, TH_PL_KEY_LEN);
		sample.session_role_set.role = 2;
		break;
	default:
		fail_msg("no sample for command type %u", type);
	}
	return &sample;
}

static int encode(uint16_t type, const void *m, uint8_t *buf, size_t cap)
{
	return th_cmd_payload_encode(type, m, buf, cap);
}

static void every_command_round_trips_and_refuses_every_truncation_and_trailing_byte(void **state)
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX + 1], again[TH_LOGREC_PAYLOAD_MAX];
	static union th_pl_any out, before;
	for (size_t i = 0; i < th_cmd_count(); i++) {
		const struct th_cmd_info *c = th_cmd_at(i);
		int n = encode(c->id, make_sample(c->id), buf, sizeof buf - 1);
		assert_true(n >= 0);
		assert_true((uint32_t)n <= c->max_encoded);
		assert_true(c->max_encoded <= c->max_payload);
		assert_int_equal(th_cmd_payload_check(c->id, buf, (size_t)n, NULL), 0);
		assert_int_equal(th_cmd_payload_decode(c->id, buf, (size_t)n, &out, NULL), 0);
		/* Decoded, it re-encodes to the same bytes. */
		assert_int_equal(encode(c->id, &out, again, sizeof again), n);
		assert_memory_equal(again, buf, (size_t)n);
		/* Every proper prefix is refused, and *out stays untouched. */
		for (int k = 0; k < n; k++) {
			memset(&out, 0x5c, sizeof out);
			before = out;
			const char *why = NULL;
			assert_int_equal(th_cmd_payload_decode(c->id, buf, (size_t)k, &out, &why), -EBADMSG);
			assert_non_null(why);
			assert_memory_equal(&out, &before, sizeof out);
		}
		/* A trailing byte is refused. */
		buf[n] = 0;
		const char *why = NULL;
		assert_int_equal(th_cmd_payload_check(c->id, buf, (size_t)n + 1, &why), -EBADMSG);
		assert_string_equal(why, "trailing bytes after the last field");
		/* A buffer one byte short is -ENOBUFS. */
		if (n > 0)
			assert_int_equal(encode(c->id, make_sample(c->id), buf, (size_t)n - 1), -ENOBUFS);
	}
	assert_int_equal(th_cmd_payload_check(0x7777, buf, 0, NULL), -ENOENT);
	assert_int_equal(encode(0x7777, &sample, buf, sizeof buf), -ENOENT);
}

/* Decodes type's sample after `mutate` changed its encoding; the reason. */
static const char *refused_after(uint16_t type, void (*mutate)(uint8_t *p, int *n))
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
	int n = encode(type, make_sample(type), buf, sizeof buf);
	assert_true(n > 0);
	mutate(buf, &n);
	const char *why = NULL;
	assert_int_equal(th_cmd_payload_check(type, buf, (size_t)n, &why), -EBADMSG);
	assert_non_null(why);
	return why;
}

static void op_zero(uint8_t *p, int *n) { p[2] = 0; }               /* first op kind 0 */
static void op_past_max(uint8_t *p, int *n) { p[2] = TH_PL_MESH_OP_MAX + 1; }
static void role_past_max(uint8_t *p, int *n) { p[TH_PL_KEY_LEN] = TH_PL_ROLE_MAX + 1; }
static void lamport_zero(uint8_t *p, int *n) { memset(p, 0, 8); }
static void nan_in_matrix(uint8_t *p, int *n) { th_put_le32(p + 4, 0x7fc00000u); }
static void inf_in_matrix(uint8_t *p, int *n) { th_put_le32(p, 0x7f800000u); }
static void unknown_component(uint8_t *p, int *n) { th_put_le64(p, 12345); }
static void local_component(uint8_t *p, int *n) { th_put_le64(p, th_component_id(TH_COMP_VELOCITY)); }
static void value_too_short(uint8_t *p, int *n)
{
	th_put_le16(p + 8, 39);
	*n -= 1;
}
static void nan_in_value(uint8_t *p, int *n) { th_put_le32(p + 10, 0x7fc00001u); }
static void text_not_utf8(uint8_t *p, int *n) { p[2] = 0xc0; }
static void text_with_nul(uint8_t *p, int *n) { p[3] = 0; }
static void text_empty(uint8_t *p, int *n)
{
	th_put_le16(p, 0);
	*n = 2;
}
static void ops_none(uint8_t *p, int *n)
{
	th_put_le16(p, 0);
	*n = 2;
}
static void ops_more_than_present(uint8_t *p, int *n) { th_put_le16(p, 4); }
static void add_with_element(uint8_t *p, int *n) { th_put_le64(p + 3, 5); }
static void move_without_element(uint8_t *p, int *n) { th_put_le64(p + 2 + 25 + 1, 0); }
static void remove_with_position(uint8_t *p, int *n) { th_put_le32(p + 2 + 50 + 13, 0x3f800000u); }
/* The face of the mesh.create sample loses its third corner. */
static void face_of_two_corners(uint8_t *p, int *n)
{
	th_put_le16(p + 44, 6);
	*n = 44 + 2 + 6 * 25;
}
static void loop_to_a_later_op(uint8_t *p, int *n) { th_put_le64(p + 46 + 25 * 5 + 1, 5); }
static void colour_above_one(uint8_t *p, int *n) { th_put_le32(p + 1 + 2 + 5, 0x3fc00000u); }
static void not_affine(uint8_t *p, int *n) { th_put_le32(p + 15 * 4, 0x40000000u); }
static void settings_too_long(uint8_t *p, int *n) { th_put_le16(p + 4, TH_PL_TOOL_SETTINGS_MAX + 1); }

static void every_field_rule_is_enforced_with_a_reason(void **state)
{
	assert_string_equal(refused_after(TH_CMD_MESH_PATCH, op_zero), "op: value out of range");
	assert_string_equal(refused_after(TH_CMD_MESH_PATCH, op_past_max), "op: value out of range");
	assert_string_equal(refused_after(TH_CMD_SESSION_ROLE_SET, role_past_max), "role: value out of range");
	assert_string_equal(refused_after(TH_CMD_EDIT_UNDO, lamport_zero), "lamport: must not be 0");
	assert_string_equal(refused_after(TH_CMD_MESH_TRANSFORM, nan_in_matrix), "matrix: not a finite number");
	assert_string_equal(refused_after(TH_CMD_MESH_TRANSFORM, inf_in_matrix), "matrix: not a finite number");
	assert_string_equal(refused_after(TH_CMD_COMPONENT_WRITE, unknown_component),
			    "component: not a replicated component id");
	assert_string_equal(refused_after(TH_CMD_COMPONENT_REMOVE, local_component),
			    "component: not a replicated component id");
	assert_string_equal(refused_after(TH_CMD_COMPONENT_WRITE, value_too_short),
			    "value: not a canonical value of the component");
	assert_string_equal(refused_after(TH_CMD_COMPONENT_WRITE, nan_in_value),
			    "value: not a canonical value of the component");
	assert_string_equal(refused_after(TH_CMD_ANNOTATION_ADD, text_not_utf8), "text: not UTF-8 text without NUL");
	assert_string_equal(refused_after(TH_CMD_SESSION_RENAME, text_with_nul), "name: not UTF-8 text without NUL");
	assert_string_equal(refused_after(TH_CMD_SESSION_RENAME, text_empty), "name: length out of range");
	assert_string_equal(refused_after(TH_CMD_MESH_PATCH, ops_none), "ops: count out of range");
	assert_string_equal(refused_after(TH_CMD_MESH_PATCH, ops_more_than_present), "op: truncated");
	assert_non_null(strstr(refused_after(TH_CMD_MESH_PATCH, add_with_element), "must be 0 for VERTEX_ADD"));
	assert_non_null(strstr(refused_after(TH_CMD_MESH_PATCH, move_without_element), "id is required"));
	assert_non_null(strstr(refused_after(TH_CMD_MESH_PATCH, remove_with_position), "must be 0 for REMOVE"));
	assert_non_null(strstr(refused_after(TH_CMD_MESH_TRANSFORM, not_affine), "not affine"));
	assert_string_equal(refused_after(TH_CMD_MESH_CREATE, face_of_two_corners), "ops: a face needs at least 3 corners");
	assert_string_equal(refused_after(TH_CMD_MESH_CREATE, loop_to_a_later_op),
			    "ops: a local reference must name an earlier VERTEX_ADD");
	assert_string_equal(refused_after(TH_CMD_MATERIAL_SET, colour_above_one), "base_color: each channel must be in [0, 1]");
	assert_string_equal(refused_after(TH_CMD_TOOL_STATE, settings_too_long), "settings: too long");
	/* entity.create: each component at most once. */
	uint8_t b[2 + 2 * 26];
	th_put_le16(b, 2);
	for (int k = 0; k < 2; k++) {
		th_put_le64(b + 2 + 26 * k, th_component_id(TH_COMP_MESH_REF));
		th_put_le16(b + 2 + 26 * k + 8, 16);
		memset(b + 2 + 26 * k + 10, k, 16);
	}
	const char *why = NULL;
	assert_int_equal(th_cmd_payload_check(TH_CMD_ENTITY_CREATE, b, sizeof b, &why), -EBADMSG);
	assert_string_equal(why, "components: a component appears twice");
	th_put_le64(b + 2 + 26, th_component_id(TH_COMP_SELECTION) ^ 1);
	assert_int_equal(th_cmd_payload_check(TH_CMD_ENTITY_CREATE, b, sizeof b, &why), -EBADMSG);
}

static void encoders_refuse_what_decoders_refuse_and_leave_the_buffer_alone(void **state)
{
	struct th_wbuf w;
	th_wbuf_init(&w, 0);
	th_wbuf_u8(&w, 0xee);
	struct th_pl_mesh_patch *mp = make_sample(TH_CMD_MESH_PATCH);
	mp->ops[1].element = 0;
	assert_int_equal(th_pl_encode_mesh_patch(mp, &w), -EINVAL);
	mp = make_sample(TH_CMD_MESH_PATCH);
	mp->ops_count = 0;
	assert_int_equal(th_pl_encode_mesh_patch(mp, &w), -EINVAL);
	struct th_pl_entity_create *ec = make_sample(TH_CMD_ENTITY_CREATE);
	ec->components[1] = ec->components[0];
	assert_int_equal(th_pl_encode_entity_create(ec, &w), -EINVAL);
	struct th_pl_component_write *cw = make_sample(TH_CMD_COMPONENT_WRITE);
	cw->value_len = 16; /* a MeshRef's size for a Transform */
	assert_int_equal(th_pl_encode_component_write(cw, &w), -EINVAL);
	struct th_pl_mesh_transform *mt = make_sample(TH_CMD_MESH_TRANSFORM);
	mt->matrix[0] = INFINITY;
	assert_int_equal(th_pl_encode_mesh_transform(mt, &w), -EINVAL);
	struct th_pl_session_role_set *rs = make_sample(TH_CMD_SESSION_ROLE_SET);
	rs->role = 4;
	assert_int_equal(th_pl_encode_session_role_set(rs, &w), -EINVAL);
	struct th_pl_annotation_add *an = make_sample(TH_CMD_ANNOTATION_ADD);
	an->text[0] = 0;
	assert_int_equal(th_pl_encode_annotation_add(an, &w), -EINVAL);
	struct th_pl_edit_undo *un = make_sample(TH_CMD_EDIT_UNDO);
	un->lamport = 0;
	assert_int_equal(th_pl_encode_edit_undo(un, &w), -EINVAL);
	assert_int_equal(w.len, 1); /* nothing appended by any refusal */
	assert_int_equal(th_pl_encode_edit_undo(make_sample(TH_CMD_EDIT_UNDO), &w), 0);
	assert_int_equal(w.len, 1 + 8 + 32);
	th_wbuf_fini(&w);
}

static void the_largest_valid_encoding_is_computed_from_the_fields(void **state)
{
	static uint8_t buf[TH_LOGREC_PAYLOAD_MAX];
	struct th_pl_mesh_patch *mp = make_sample(TH_CMD_MESH_PATCH);
	mp->ops_count = TH_PL_MESH_OPS_MAX;
	for (unsigned i = 0; i < TH_PL_MESH_OPS_MAX; i++)
		mp->ops[i] = (struct th_pl_mesh_op){ TH_PL_MESH_OP_VERTEX_MOVE, i + 1, 0, { 1, 2, 3 } };
	int n = encode(TH_CMD_MESH_PATCH, mp, buf, sizeof buf);
	assert_int_equal(n, (int)th_cmd_find(TH_CMD_MESH_PATCH)->max_encoded);
	assert_int_equal(n, TH_PL_MAXSZ_MESH_PATCH);
	mp->ops_count = TH_PL_MESH_OPS_MAX + 1;
	assert_int_equal(encode(TH_CMD_MESH_PATCH, mp, buf, sizeof buf), -EINVAL);
	struct th_pl_session_rename *sr = make_sample(TH_CMD_SESSION_RENAME);
	memset(sr->name, 'a', TH_PL_SESSION_NAME_MAX);
	n = encode(TH_CMD_SESSION_RENAME, sr, buf, sizeof buf);
	assert_int_equal(n, (int)th_cmd_find(TH_CMD_SESSION_RENAME)->max_encoded);
	assert_int_equal(th_cmd_find(TH_CMD_ENTITY_DESTROY)->max_encoded, 0);
	/* The fixed-size payloads fill their caps exactly. */
	assert_int_equal(th_cmd_find(TH_CMD_MESH_TRANSFORM)->max_encoded, th_cmd_find(TH_CMD_MESH_TRANSFORM)->max_payload);
	assert_int_equal(th_cmd_find(TH_CMD_SESSION_ROLE_SET)->max_encoded, 33);
}

static void the_schema_hash_covers_every_payload_field(void **state)
{
	struct th_wbuf b;
	th_wbuf_init(&b, 0);
	assert_int_equal(th_schema_render(&b), 0);
	th_wbuf_u8(&b, 0);
	char *t = (char *)b.data;
	assert_int_equal(th_schema_hash(), th_siphash(b.data, b.len - 1));
	/* Every command's fields and rule, every item and constant are in it. */
	char line[1200];
	for (size_t i = 0; i < th_cmd_count(); i++) {
		const struct th_cmd_info *c = th_cmd_at(i);
		snprintf(line, sizeof line, " %s role=", c->name);
		assert_non_null(strstr(t, line));
		snprintf(line, sizeof line, "rule=%s payload=%s\n", c->rule, c->payload);
		assert_non_null(strstr(t, line));
	}
	assert_non_null(strstr(t, "payload-item mesh_op rule=RULE(th_pl_rule_mesh_op) fields=P_ENUM8(op, "
				  "TH_PL_MESH_OP_VERTEX_ADD, TH_PL_MESH_OP_MAX) P_U64(element) P_U32(arg) P_F32S(position, 3)\n"));
	assert_non_null(strstr(t, "payload-const MESH_OP_MAX 6\n"));
	assert_non_null(strstr(t, "payload=P_U32(tool) P_BYTES(settings, TH_PL_TOOL_SETTINGS_MAX)\n"));
	/* Retyping one field (tool: u32 -> u64) changes the hash. */
	char *f = strstr(t, "P_U32(tool)");
	f[3] = '6';
	f[4] = '4';
	assert_int_not_equal(th_schema_hash(), th_siphash(b.data, b.len - 1));
	th_wbuf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_command_round_trips_and_refuses_every_truncation_and_trailing_byte),
		cmocka_unit_test(every_field_rule_is_enforced_with_a_reason),
		cmocka_unit_test(encoders_refuse_what_decoders_refuse_and_leave_the_buffer_alone),
		cmocka_unit_test(the_largest_valid_encoding_is_computed_from_the_fields),
		cmocka_unit_test(the_schema_hash_covers_every_payload_field),
	};
	return cmocka_run_group_tests_name("command payloads", tests, NULL, NULL);
}
