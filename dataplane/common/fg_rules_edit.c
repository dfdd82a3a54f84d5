// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fg_rules_edit.c - rule set views, edits and shards (fg_rules_json.h,
 * "edits and shards"): a change to one object of a large rule set moves
 * struct copies and pointers, never a deep copy or a second parse.
 *
 * Every rule set here keeps each kind's array sorted by name, and every
 * kind's object starts with its name (fg_rule_kind), so one set of
 * functions serves all kinds through the table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fg_rules_json.h"

static uint32_t *fg_kind_n(struct fg_ruleset *rs, const struct fg_rule_kind *k)
{
	return (uint32_t *)((char *)rs + k->off_n);
}

static char **fg_kind_arr(struct fg_ruleset *rs, const struct fg_rule_kind *k)
{
	return (char **)((char *)rs + k->off_arr);
}

uint32_t fg_rule_count(const struct fg_ruleset *rs, const struct fg_rule_kind *k)
{
	return *(const uint32_t *)((const char *)rs + k->off_n);
}

void *fg_rule_at(const struct fg_ruleset *rs, const struct fg_rule_kind *k,
		 uint32_t i)
{
	char *arr = *(char *const *)((const char *)rs + k->off_arr);

	return arr + (size_t)i * k->size;
}

/* The index of name in rs's kind k, or where it would go (*found false). */
static uint32_t fg_rule_pos(const struct fg_ruleset *rs,
			    const struct fg_rule_kind *k, const char *name,
			    bool *found)
{
	uint32_t lo = 0, hi = fg_rule_count(rs, k);

	*found = false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(fg_rule_at(rs, k, mid), name);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *fg_rule_find(const struct fg_ruleset *rs, const struct fg_rule_kind *k,
		   const char *name)
{
	bool found;
	uint32_t i = fg_rule_pos(rs, k, name, &found);

	return found ? fg_rule_at(rs, k, i) : NULL;
}

/* Copy kind k's array of src into dst (structs only). 0 or -ENOMEM. */
static int fg_kind_copy(struct fg_ruleset *dst, const struct fg_ruleset *src,
			const struct fg_rule_kind *k)
{
	uint32_t n = fg_rule_count(src, k);

	*fg_kind_n(dst, k) = 0;
	*fg_kind_arr(dst, k) = NULL;
	if (!n)
		return 0;
	*fg_kind_arr(dst, k) = malloc((size_t)n * k->size);
	if (!*fg_kind_arr(dst, k))
		return -ENOMEM;
	memcpy(*fg_kind_arr(dst, k), fg_rule_at(src, k, 0), (size_t)n * k->size);
	*fg_kind_n(dst, k) = n;
	return 0;
}

void fg_ruleset_view_free(struct fg_ruleset *view)
{
	unsigned int k;

	if (!view)
		return;
	for (k = 0; k < FG_RULE_KINDS; k++)
		free(*fg_kind_arr(view, &fg_rule_kinds[k]));
	memset(view, 0, sizeof(*view));
}

int fg_ruleset_view_edit(const struct fg_ruleset *cur,
			 const struct fg_rule_kind *k, const char *name,
			 const void *obj, struct fg_ruleset *view)
{
	uint32_t n = fg_rule_count(cur, k), pos, m;
	unsigned int i;
	bool found;
	char *arr;

	memset(view, 0, sizeof(*view));
	view->version = cur->version;
	for (i = 0; i < FG_RULE_KINDS; i++) {
		if (&fg_rule_kinds[i] == k)
			continue;
		if (fg_kind_copy(view, cur, &fg_rule_kinds[i])) {
			fg_ruleset_view_free(view);
			return -ENOMEM;
		}
	}
	pos = fg_rule_pos(cur, k, name, &found);
	m = n + (obj && !found) - (!obj && found);
	arr = malloc((size_t)(m ? m : 1) * k->size);
	if (!arr) {
		fg_ruleset_view_free(view);
		return -ENOMEM;
	}
	/* [0, pos) as they are, then the object (if any), then the rest
	 * after the replaced or removed one. */
	if (pos)
		memcpy(arr, fg_rule_at(cur, k, 0), (size_t)pos * k->size);
	if (obj)
		memcpy(arr + (size_t)pos * k->size, obj, k->size);
	if (n > pos + found)
		memcpy(arr + (size_t)(pos + !!obj) * k->size,
		       fg_rule_at(cur, k, pos + found),
		       (size_t)(n - pos - found) * k->size);
	*fg_kind_arr(view, k) = arr;
	*fg_kind_n(view, k) = m;
	return 0;
}

static int fg_obj_name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int fg_ruleset_view_merge(const struct fg_ruleset *cur, uint64_t shards,
			  const struct fg_ruleset *objs,
			  struct fg_ruleset *view)
{
	unsigned int k;
	uint32_t i;

	memset(view, 0, sizeof(*view));
	view->version = cur->version;
	for (k = 0; k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];
		uint32_t nc = fg_rule_count(cur, kd), no = fg_rule_count(objs, kd);
		uint32_t n = 0;
		char *arr;

		if (!nc && !no)
			continue;
		arr = malloc((size_t)(nc + no) * kd->size);
		if (!arr) {
			fg_ruleset_view_free(view);
			return -ENOMEM;
		}
		for (i = 0; i < nc; i++) {
			const char *o = fg_rule_at(cur, kd, i);

			if (!(shards & fg_rules_shard_bit(o)))
				memcpy(arr + (size_t)n++ * kd->size, o, kd->size);
		}
		if (no)
			memcpy(arr + (size_t)n * kd->size, fg_rule_at(objs, kd, 0),
			       (size_t)no * kd->size);
		n += no;
		/* Both parts are sorted; a full sort keeps this simple and
		 * costs what the objects do. */
		qsort(arr, n, kd->size, fg_obj_name_cmp);
		*fg_kind_arr(view, kd) = arr;
		*fg_kind_n(view, kd) = n;
	}
	return 0;
}

void fg_ruleset_take(struct fg_ruleset *cur, struct fg_ruleset *view)
{
	unsigned int k;
	uint32_t i;

	for (k = 0; k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];
		uint32_t j = 0, nv = fg_rule_count(view, kd);

		for (i = 0; i < fg_rule_count(cur, kd); i++) {
			char *o = fg_rule_at(cur, kd, i);
			const void *v = NULL;
			int c = 1;

			/* Both in name order: a walk finds the match; the
			 * search only for what the walk passed by. */
			while (j < nv &&
			       (c = strcmp(fg_rule_at(view, kd, j), o)) < 0)
				j++;
			v = j < nv && !c ? fg_rule_at(view, kd, j) :
					   fg_rule_find(view, kd, o);

			/* Carried: the view holds this very struct (its
			 * owned parts and all), which it owns from now. */
			if (v && !memcmp(v, o, kd->size))
				continue;
			kd->free(o);
		}
	}
	fg_ruleset_view_free(cur);
	*cur = *view;
	memset(view, 0, sizeof(*view));
}

unsigned int fg_rules_shard(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++) {
		h ^= (unsigned char)*name;
		h *= 16777619u;
	}
	return h % FG_RULES_SHARDS;
}

json_t *fg_ruleset_shard_to_json(const struct fg_ruleset *rs,
				 unsigned int shard)
{
	json_t *o = json_object();
	unsigned int k;
	uint32_t i;

	for (k = 0; o && k < FG_RULE_KINDS; k++) {
		const struct fg_rule_kind *kd = &fg_rule_kinds[k];
		json_t *map = NULL;

		for (i = 0; i < fg_rule_count(rs, kd); i++) {
			const char *obj = fg_rule_at(rs, kd, i);

			if (fg_rules_shard(obj) != shard)
				continue;
			if (!map && (!(map = json_object()) ||
				     json_object_set_new(o, kd->name, map)))
				goto fail;
			if (json_object_set_new(map, obj, kd->to_json(obj)))
				goto fail;
		}
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

void fg_ruleset_shard_texts_free(char *texts[FG_RULES_SHARDS])
{
	unsigned int i;

	for (i = 0; i < FG_RULES_SHARDS; i++) {
		free(texts[i]);
		texts[i] = NULL;
	}
}

int fg_ruleset_shard_texts(const struct fg_ruleset *rs, uint64_t shards,
			   char *texts[FG_RULES_SHARDS])
{
	unsigned int i;

	for (i = 0; i < FG_RULES_SHARDS; i++)
		texts[i] = NULL;
	for (i = 0; i < FG_RULES_SHARDS; i++) {
		json_t *j;
		bool empty;

		if (!(shards & (1ULL << i)))
			continue;
		j = fg_ruleset_shard_to_json(rs, i);
		if (!j)
			goto fail;
		empty = !json_object_size(j);
		if (!empty)
			texts[i] = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(j);
		if (!empty && !texts[i])
			goto fail;
	}
	return 0;
fail:
	fg_ruleset_shard_texts_free(texts);
	return -ENOMEM;
}
