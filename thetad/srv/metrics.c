#include "srv/metrics.h"

#include <json-c/json.h>
#include <string.h>

static uint64_t srv_metrics_scratch;

uint64_t *srv_metrics_get(struct srv_metrics *m, const char *name, enum srv_metric_kind kind,
			  const char *help)
{
	for (unsigned i = 0; i < m->n; i++)
		if (!strcmp(m->m[i].name, name))
			return &m->m[i].value;
	if (m->n == SRV_METRICS_MAX) {
		m->overflow++;
		return &srv_metrics_scratch;
	}
	m->m[m->n] = (struct srv_metric){ .name = name, .help = help, .kind = kind };
	return &m->m[m->n++].value;
}

struct json_object *srv_metrics_to_json(const struct srv_metrics *m)
{
	struct json_object *o = json_object_new_object();
	for (unsigned i = 0; i < m->n; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "kind", json_object_new_string(
							  m->m[i].kind == SRV_METRIC_COUNTER ? "counter" : "gauge"));
		json_object_object_add(e, "value", json_object_new_uint64(m->m[i].value));
		json_object_object_add(e, "help", json_object_new_string(m->m[i].help ? m->m[i].help : ""));
		json_object_object_add(o, m->m[i].name, e);
	}
	return o;
}
