/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the collector's reading of events (collectors/store.c,
 * the EVE lines the consumer takes from Redis): the input is split at
 * newlines into events added to a small store, which is then queried
 * (every filter) and each event read back by id. Everything handed out
 * must be valid JSON. The store's
 * source is built in, as its unit test does, since the fuzz targets link
 * only the agent's library.
 */
#include "../../collectors/store.c"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

static void
must_be_json(const char *s, size_t len, const char *what)
{
	json_error_t je;
	json_t *j = json_loadb(s, len, 0, &je);

	if (j == NULL) {
		fprintf(stderr, "%s is not JSON: %s\n", what, je.text);
		abort();
	}
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *filters[] = {NULL, "a", "Brute", "\xff", ""};
	struct vc_store *s = vc_store_new(16);
	struct vc_store_counters c;
	const char *p = (const char *)data, *end = p + size;
	uint64_t lines = 0;
	unsigned f;

	if (s == NULL)
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		/* An exact-size copy, so that any overread is caught. */
		char *ev = malloc(n ? n : 1);

		if (ev == NULL)
			abort();
		memcpy(ev, p, n);
		vc_store_add(s, ev, n);
		free(ev);
		lines++;
		p += n + 1;
	}
	vc_store_counters(s, &c);
	if (c.added + c.duplicates + c.malformed + c.invalid + c.other != lines)
		abort();
	for (f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		struct vc_query q = {
		    .agency = f == 1 ? "hanoi" : NULL,
		    .severity = (int)f % 5,
		    .type = (enum vc_type)(f % 3),
		    .since_us = INT64_MIN,
		    .until_us = INT64_MAX,
		    .q = filters[f],
		    .limit = 1000,
		};
		struct vc_result r;
		size_t i;

		if (vc_store_query(s, &q, &r) != VG_OK)
			continue;
		for (i = 0; i < r.n; i++) {
			json_t *e;
			const char *id;
			char *copy;
			size_t len;

			must_be_json(r.items[i], r.lens[i], "a query result");
			e = json_loadb(r.items[i], r.lens[i], 0, NULL);
			id = json_string_value(json_object_get(
			    json_object_get(e, "vigil"), "event_id"));
			if (id == NULL)
				abort(); /* only events with an id are kept */
			copy = vc_store_get(s, id, &len);
			if (copy == NULL || len != r.lens[i] ||
			    memcmp(copy, r.items[i], len) != 0)
				abort();
			free(copy);
			json_decref(e);
		}
		vc_result_fini(&r);
	}
	vc_store_free(s);
	return 0;
}
