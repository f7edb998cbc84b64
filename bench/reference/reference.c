/*
 * stelling-reference: the plain-C reference server for `make bench` (issue 12).
 *
 * The same libwebsockets as Stelling, no durability, and only the part of PROTOCOL.md that the
 * bench scenarios (join, chat, votes, event) use: join (participant, moderator, screen) answered
 * by a welcome, chat (ack + broadcast), vote (ack; tally every 250 ms while counts change), the
 * moderator's next, close, open, reveal, add, hide and announce, presence at most every second.
 * It does what Stelling does on the wire so that the two cost the same work: every event is
 * encoded once and shared by every recipient's queue; tally and presence are latest-value slots;
 * when a connection is writable, everything queued for it leaves as one message joined by '\n'
 * (DESIGN.md, Fan-out); keep-alive is one periodic sweep over all connections (no lws timer per
 * connection, LIBWEBSOCKETS.md). What it skips is what makes Stelling a product: the store, resume,
 * rate limits, exports, web pages, trimming and exact Unicode checks (lengths count raw bytes of
 * the JSON string, an upper bound of its code points).
 *
 *   stelling-reference [--host 127.0.0.1] [--port 18090] [--keepalive 120]
 *                      [--event-loop poll|libev|libuv]
 *
 * The moderator key comes from STELLING_MODERATOR_KEY. The title, groups and statements are those
 * of bench/bench.yaml. GET /healthz answers 200 {"status":"ok"}; SIGTERM ends it at once.
 */
#include <libwebsockets.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

/* ---- what bench/bench.yaml configures ---- */

static const char *title = "Stelling benchmark";
static const char *groups[] = {"Rijk", "Provincie", "Gemeente"};
#define GROUP_COUNT 3
static const char *initial_statements[] = {
	"Leren levert pas iets op als het in de begroting staat.",
	"Samenwerken aan opgaven vraagt om andere verantwoording.",
	"De burger merkt weinig van interbestuurlijk leren.",
	"Evalueren moet vaker tijdens het werk, niet erna.",
	"Fouten maken hoort bij leren, ook in de politiek.",
};

#define MESSAGE_LIMIT 8192          /* limits.message_bytes */
#define TEXT_LIMIT 500              /* limits.chat_chars */
#define NAME_LIMIT 40
#define REF_LIMIT 64
#define HISTORY 100                 /* chat messages in a welcome */
#define BATCH_LIMIT (64 << 10)      /* TransportOptions.batchLimitBytes */
#define QUEUE_LIMIT (1 << 20)       /* limits.outbound_queue_bytes */
#define TICK_MS 50
#define TALLY_MS 250
#define PRESENCE_MS 1000

enum { ROLE_PARTICIPANT, ROLE_MODERATOR, ROLE_SCREEN };
static const char *role_names[] = {"participant", "moderator", "screen"};
static const char *choices[] = {"agree", "disagree", "pass"};

/* ---- small helpers ---- */

static int64_t
now_ms(int clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "stelling-reference: out of memory\n");
		exit(2);
	}
	return q;
}

/* A growable byte buffer for encoding events. */
struct sb {
	char *p;
	size_t len, cap;
};

static void
sb_put(struct sb *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void
sb_int(struct sb *b, long long v)
{
	char t[24];
	sb_put(b, t, (size_t)snprintf(t, sizeof t, "%lld", v));
}

/* Appends a JSON string whose content is already JSON-escaped (it came from a client's JSON). */
static void
sb_raw_string(struct sb *b, const char *s, size_t n)
{
	sb_put(b, "\"", 1);
	sb_put(b, s, n);
	sb_put(b, "\"", 1);
}

/* Appends a C string as a JSON string (only our own constants: no escaping needed). */
static void sb_cstring(struct sb *b, const char *s) { sb_raw_string(b, s, strlen(s)); }

/* An encoded event, shared by every queue it is on. */
struct blob {
	int refs;
	size_t len;
	char data[];
};

static struct blob *
blob_from(struct sb *b)
{
	struct blob *blob = xrealloc(NULL, sizeof *blob + b->len);
	blob->refs = 1;
	blob->len = b->len;
	memcpy(blob->data, b->p, b->len);
	b->len = 0;
	return blob;
}

static void
blob_unref(struct blob *blob)
{
	if (blob && --blob->refs == 0)
		free(blob);
}

/* ---- the room ---- */

struct statement {
	char *id;
	char *text;              /* JSON-escaped */
	int visible;             /* results revealed */
	int counts[3], voters;
	int group_counts[GROUP_COUNT][3];
};

struct conn {
	struct lws *wsi;
	int index;               /* in `conns` */
	int joined, role, number, group;
	char *name;              /* JSON-escaped */
	size_t name_len;
	signed char *votes;      /* choice per statement, -1 none */
	int votes_cap;
	/* inbound */
	unsigned char *rx;
	size_t rx_len, rx_cap;
	/* outbound: q[head, head + count); the slots are absolute indexes into q, -1 when empty */
	struct blob **q;
	int head, count, cap;
	size_t queued_bytes;
	int slot_tally, slot_presence;
	/* keep-alive */
	int64_t last_rx;
	int pinged, ping_due, dropped;
	int close_code;
	const char *close_reason;
};

static struct lws_context *context;
static struct conn **conns;
static int conn_count, conn_cap;
static struct statement *statements;
static int statement_count, statement_cap;
static int current = -1, voting_open;
static int present, next_number;
static long long next_chat_id = 1;
static unsigned char *hidden_ids;   /* 1 per chat id that was hidden */
static long long hidden_cap;
static struct blob *history[HISTORY];       /* message objects, oldest at history_start */
static long long history_ids[HISTORY];
static int history_start, history_count;
static char *announcement;          /* JSON-escaped, NULL for none */
static const char *moderator_key;
static int tally_dirty, presence_dirty;
static int64_t last_tally, last_presence, last_sweep;
static int64_t keepalive_ms = 120000;
static unsigned char *scratch;
static size_t scratch_cap;
static struct sb enc;               /* reused for every event */
static lws_sorted_usec_list_t tick_sul;

static void
add_statement(const char *id, const char *text)
{
	if (statement_count == statement_cap) {
		statement_cap = statement_cap ? statement_cap * 2 : 8;
		statements = xrealloc(statements, sizeof *statements * (size_t)statement_cap);
	}
	struct statement *s = &statements[statement_count++];
	memset(s, 0, sizeof *s);
	s->id = strdup(id);
	s->text = strdup(text);
}

static int
find_statement(const char *id, size_t n)
{
	for (int i = 0; i < statement_count; i++)
		if (strlen(statements[i].id) == n && !memcmp(statements[i].id, id, n))
			return i;
	return -1;
}

/* ---- outbound ---- */

static void
request_close(struct conn *c, int code, const char *reason, int timeout_s)
{
	c->close_code = code;
	c->close_reason = reason;
	if (timeout_s)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_LAGGING, timeout_s);
	lws_callback_on_writable(c->wsi);
}

static void
drop_queue(struct conn *c)
{
	for (int i = c->head; i < c->head + c->count; i++)
		blob_unref(c->q[i]);
	c->head = c->count = 0;
	c->queued_bytes = 0;
	c->slot_tally = c->slot_presence = -1;
}

/* Appends to the queue, moving it to the front or growing it when full; returns its index. */
static int
enqueue(struct conn *c, struct blob *blob)
{
	if (c->head + c->count == c->cap) {
		if (c->head > 0) {
			memmove(c->q, c->q + c->head, sizeof *c->q * (size_t)c->count);
			c->slot_tally = c->slot_tally >= c->head ? c->slot_tally - c->head : -1;
			c->slot_presence = c->slot_presence >= c->head ? c->slot_presence - c->head : -1;
			c->head = 0;
		} else {
			c->cap = c->cap ? c->cap * 2 : 8;
			c->q = xrealloc(c->q, sizeof *c->q * (size_t)c->cap);
		}
	}
	blob->refs++;
	c->q[c->head + c->count] = blob;
	c->count++;
	c->queued_bytes += blob->len;
	return c->head + c->count - 1;
}

static void
after_queueing(struct conn *c)
{
	if (c->queued_bytes > QUEUE_LIMIT) {
		drop_queue(c);
		request_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too slow", 5);
		return;
	}
	lws_callback_on_writable(c->wsi);
}

static void
send_blob(struct conn *c, struct blob *blob)
{
	if (c->close_code)
		return;
	enqueue(c, blob);
	after_queueing(c);
}

/* A latest-value event: the one of the same slot still queued is dropped (a hole the write
 * skips) and this one goes where any event queued now would go, as in Stelling. */
static void
send_latest(struct conn *c, int *slot, struct blob *blob)
{
	if (c->close_code)
		return;
	if (*slot >= c->head && *slot < c->head + c->count && c->q[*slot]) {
		c->queued_bytes -= c->q[*slot]->len;
		blob_unref(c->q[*slot]);
		c->q[*slot] = NULL;
	}
	*slot = enqueue(c, blob);
	after_queueing(c);
}

/* Sends the encoder's content to one connection. */
static void
send_enc(struct conn *c)
{
	struct blob *blob = blob_from(&enc);
	send_blob(c, blob);
	blob_unref(blob);
}

/* Sends the encoder's content to every joined connection. */
static void
broadcast_enc(void)
{
	struct blob *blob = blob_from(&enc);
	for (int i = 0; i < conn_count; i++)
		if (conns[i]->joined)
			send_blob(conns[i], blob);
	blob_unref(blob);
}

static void
reserve_scratch(size_t n)
{
	if (n <= scratch_cap)
		return;
	size_t cap = scratch_cap ? scratch_cap : LWS_PRE + BATCH_LIMIT + 1024;
	while (cap < n)
		cap *= 2;
	unsigned char *grown = xrealloc(NULL, cap);
	if (scratch) {
		memcpy(grown, scratch, scratch_cap);
		free(scratch);
	}
	scratch = grown;
	scratch_cap = cap;
}

/* WRITEABLE: a ping when due, else everything queued (up to BATCH_LIMIT) as one message. */
static int
writeable(struct conn *c)
{
	if (c->ping_due) {
		char digits[24];
		int n = snprintf(digits, sizeof digits, "%lld", (long long)now_ms(CLOCK_MONOTONIC));
		reserve_scratch(LWS_PRE + (size_t)n);
		memcpy(scratch + LWS_PRE, digits, (size_t)n);
		c->ping_due = 0;
		if (lws_write(c->wsi, scratch + LWS_PRE, (size_t)n, LWS_WRITE_PING) < n)
			return -1;
		if (c->count || c->close_code)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->count) {
		size_t len = 0;
		int taken = 0;
		while (taken < c->count) {
			struct blob *blob = c->q[c->head + taken];
			if (!blob) {    /* a latest-value event replaced later */
				taken++;
				continue;
			}
			size_t extra = blob->len + (len ? 1 : 0);
			if (len && len + extra > BATCH_LIMIT)
				break;
			reserve_scratch(LWS_PRE + len + extra);
			if (len)
				scratch[LWS_PRE + len] = '\n';
			memcpy(scratch + LWS_PRE + len + (len ? 1 : 0), blob->data, blob->len);
			len += extra;
			c->queued_bytes -= blob->len;
			blob_unref(blob);
			taken++;
		}
		c->head += taken;
		c->count -= taken;
		if (c->slot_tally < c->head)
			c->slot_tally = -1;
		if (c->slot_presence < c->head)
			c->slot_presence = -1;
		if (!c->count)
			c->head = 0;
		if (!len) {     /* only holes */
			if (c->close_code)
				lws_callback_on_writable(c->wsi);
			return 0;
		}
		if (lws_write(c->wsi, scratch + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
			return -1;
		if (c->count || c->close_code)
			lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->close_code) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	return 0;
}

/* ---- requests: a flat JSON object, parsed in place ---- */

enum { V_STRING, V_NUMBER, V_TRUE, V_FALSE, V_NULL, V_NESTED };

struct field {
	const char *key;
	size_t key_len;
	int kind;
	const char *s;           /* V_STRING: the raw (escaped) content; V_NUMBER: the digits */
	size_t len;
};

#define MAX_FIELDS 16

static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p is just past the opening quote; returns the closing quote or NULL. */
static const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		if (*p == '"')
			return p;
		if (*p < 0x20)
			return NULL;
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
			if (*p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++p >= end || !((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')))
						return NULL;
			} else if (!strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return NULL;
}

/* Skips one nested value (object or array); returns the position after it or NULL. */
static const unsigned char *
skip_nested(const unsigned char *p, const unsigned char *end)
{
	int depth = 0;
	while (p < end) {
		if (*p == '"') {
			p = scan_string(p + 1, end);
			if (!p)
				return NULL;
		} else if (*p == '{' || *p == '[') {
			if (++depth > 32)
				return NULL;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

static int
parse_object(const unsigned char *p, size_t n, struct field *fields, int *count)
{
	const unsigned char *end = p + n;
	*count = 0;
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		struct field f = {0};
		if (p >= end || *p != '"')
			return -1;
		const unsigned char *q = scan_string(p + 1, end);
		if (!q)
			return -1;
		f.key = (const char *)p + 1;
		f.key_len = (size_t)(q - p - 1);
		p = skip_ws(q + 1, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		if (p >= end)
			return -1;
		if (*p == '"') {
			q = scan_string(p + 1, end);
			if (!q)
				return -1;
			f.kind = V_STRING;
			f.s = (const char *)p + 1;
			f.len = (size_t)(q - p - 1);
			p = q + 1;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			f.kind = V_NUMBER;
			f.s = (const char *)p;
			while (p < end && strchr("-+.eE0123456789", *p))
				p++;
			f.len = (size_t)((const char *)p - f.s);
		} else if (*p == '{' || *p == '[') {
			f.kind = V_NESTED;
			p = skip_nested(p, end);
			if (!p)
				return -1;
		} else if (end - p >= 4 && !memcmp(p, "true", 4)) {
			f.kind = V_TRUE;
			p += 4;
		} else if (end - p >= 5 && !memcmp(p, "false", 5)) {
			f.kind = V_FALSE;
			p += 5;
		} else if (end - p >= 4 && !memcmp(p, "null", 4)) {
			f.kind = V_NULL;
			p += 4;
		} else {
			return -1;
		}
		if (*count < MAX_FIELDS)
			fields[(*count)++] = f;
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? 0 : -1;
		return -1;
	}
}

/* The field named `key`, NULL when missing or null. */
static const struct field *
get(const struct field *fields, int count, const char *key)
{
	size_t n = strlen(key);
	for (int i = 0; i < count; i++)
		if (fields[i].key_len == n && !memcmp(fields[i].key, key, n))
			return fields[i].kind == V_NULL ? NULL : &fields[i];
	return NULL;
}

static int
is(const struct field *f, const char *s)
{
	return f && f->kind == V_STRING && f->len == strlen(s) && !memcmp(f->s, s, f->len);
}

/* Code points of a raw JSON string (escapes count as written: an upper bound). */
static size_t
code_points(const char *s, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ')
			return 0;
	return 1;
}

/* ---- events ---- */

static void
enc_ref(const struct field *ref)
{
	if (ref) {
		sb_str(&enc, ",\"ref\":");
		sb_raw_string(&enc, ref->s, ref->len);
	}
}

static void
send_error(struct conn *c, const char *code, const char *message, const struct field *ref)
{
	sb_str(&enc, "{\"type\":\"error\",\"code\":");
	sb_cstring(&enc, code);
	sb_str(&enc, ",\"message\":");
	sb_cstring(&enc, message);
	enc_ref(ref);
	sb_str(&enc, "}");
	send_enc(c);
}

/* An ack with an optional id (a number, or a string when id_string is set). */
static void
send_ack(struct conn *c, const struct field *ref, long long id, const char *id_string)
{
	if (!ref)
		return;
	sb_str(&enc, "{\"type\":\"ack\"");
	enc_ref(ref);
	if (id_string) {
		sb_str(&enc, ",\"id\":");
		sb_cstring(&enc, id_string);
	} else if (id) {
		sb_str(&enc, ",\"id\":");
		sb_int(&enc, id);
	}
	sb_str(&enc, "}");
	send_enc(c);
}

static void
enc_current(void)
{
	if (current < 0) {
		sb_str(&enc, "null");
		return;
	}
	sb_str(&enc, "{\"statement\":");
	sb_cstring(&enc, statements[current].id);
	sb_str(&enc, voting_open ? ",\"voting\":\"open\"" : ",\"voting\":\"closed\"");
	sb_str(&enc, statements[current].visible ? ",\"results\":\"visible\"}" : ",\"results\":\"hidden\"}");
}

static void
enc_statements(void)
{
	sb_str(&enc, "[");
	for (int i = 0; i < statement_count; i++) {
		sb_str(&enc, i ? ",{\"id\":" : "{\"id\":");
		sb_cstring(&enc, statements[i].id);
		sb_str(&enc, ",\"text\":");
		sb_raw_string(&enc, statements[i].text, strlen(statements[i].text));
		sb_str(&enc, "}");
	}
	sb_str(&enc, "]");
}

static void
enc_tally_fields(void)
{
	struct statement *s = &statements[current];
	sb_str(&enc, "\"statement\":");
	sb_cstring(&enc, s->id);
	for (int k = 0; k < 3; k++) {
		sb_str(&enc, ",\"");
		sb_str(&enc, choices[k]);
		sb_str(&enc, "\":");
		sb_int(&enc, s->counts[k]);
	}
	sb_str(&enc, ",\"voters\":");
	sb_int(&enc, s->voters);
	sb_str(&enc, ",\"present\":");
	sb_int(&enc, present);
	sb_str(&enc, ",\"groups\":{");
	for (int g = 0; g < GROUP_COUNT; g++) {
		sb_str(&enc, g ? ",\"" : "\"");
		sb_str(&enc, groups[g]);
		sb_str(&enc, "\":{");
		for (int k = 0; k < 3; k++) {
			sb_str(&enc, k ? ",\"" : "\"");
			sb_str(&enc, choices[k]);
			sb_str(&enc, "\":");
			sb_int(&enc, s->group_counts[g][k]);
		}
		sb_str(&enc, "}");
	}
	sb_str(&enc, "}");
}

static int
may_see_tally(const struct conn *c)
{
	return current >= 0 && (c->role == ROLE_MODERATOR || statements[current].visible);
}

/* The current statement's tally, now, to everyone who may see it (a latest-value slot). */
static void
send_tally(void)
{
	tally_dirty = 0;
	last_tally = now_ms(CLOCK_MONOTONIC);
	if (current < 0)
		return;
	sb_str(&enc, "{\"type\":\"tally\",");
	enc_tally_fields();
	sb_str(&enc, "}");
	struct blob *blob = blob_from(&enc);
	for (int i = 0; i < conn_count; i++)
		if (conns[i]->joined && may_see_tally(conns[i]))
			send_latest(conns[i], &conns[i]->slot_tally, blob);
	blob_unref(blob);
}

static void
send_presence(void)
{
	presence_dirty = 0;
	last_presence = now_ms(CLOCK_MONOTONIC);
	sb_str(&enc, "{\"type\":\"presence\",\"present\":");
	sb_int(&enc, present);
	sb_str(&enc, "}");
	struct blob *blob = blob_from(&enc);
	for (int i = 0; i < conn_count; i++)
		if (conns[i]->joined)
			send_latest(conns[i], &conns[i]->slot_presence, blob);
	blob_unref(blob);
}

static void
broadcast_statement(int with_list)
{
	sb_str(&enc, "{\"type\":\"statement\",\"current\":");
	enc_current();
	if (with_list) {
		sb_str(&enc, ",\"statements\":");
		enc_statements();
	}
	sb_str(&enc, "}");
	broadcast_enc();
}

static void
enc_id(const struct conn *c)
{
	char id[32];
	if (c->role == ROLE_PARTICIPANT)
		snprintf(id, sizeof id, "p%d", c->number);
	else if (c->role == ROLE_MODERATOR)
		snprintf(id, sizeof id, "m%d", c->number);
	else
		snprintf(id, sizeof id, "screen-%d", c->number);
	sb_cstring(&enc, id);
}

static void
send_welcome(struct conn *c, const struct field *ref)
{
	unsigned char token[16];
	char hex[33];
	if (getrandom(token, sizeof token, 0) != (ssize_t)sizeof token)
		memset(token, 0, sizeof token);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", token[i]);

	sb_str(&enc, "{\"type\":\"welcome\"");
	enc_ref(ref);
	sb_str(&enc, ",\"you\":{\"id\":");
	enc_id(c);
	sb_str(&enc, ",\"name\":");
	sb_raw_string(&enc, c->name, c->name_len);
	sb_str(&enc, ",\"role\":");
	sb_cstring(&enc, role_names[c->role]);
	if (c->group >= 0) {
		sb_str(&enc, ",\"group\":");
		sb_cstring(&enc, groups[c->group]);
	}
	sb_str(&enc, "}");
	if (c->role == ROLE_PARTICIPANT) {
		sb_str(&enc, ",\"resume\":");
		sb_cstring(&enc, hex);
	}
	sb_str(&enc, ",\"session\":{\"title\":");
	sb_cstring(&enc, title);
	sb_str(&enc, ",\"programme\":[],\"groups\":[");
	for (int g = 0; g < GROUP_COUNT; g++) {
		if (g)
			sb_str(&enc, ",");
		sb_cstring(&enc, groups[g]);
	}
	sb_str(&enc, "],\"statements\":");
	enc_statements();
	sb_str(&enc, ",\"current\":");
	enc_current();
	sb_str(&enc, ",\"present\":");
	sb_int(&enc, present);
	sb_str(&enc, ",\"myVotes\":{},\"tally\":");
	if (may_see_tally(c)) {
		sb_str(&enc, "{\"type\":\"tally\",");
		enc_tally_fields();
		sb_str(&enc, "}");
	} else {
		sb_str(&enc, "null");
	}
	sb_str(&enc, ",\"chat\":[");
	int first = 1;
	for (int i = 0; i < history_count; i++) {
		int k = (history_start + i) % HISTORY;
		long long id = history_ids[k];
		if (id < hidden_cap && hidden_ids[id])
			continue;
		if (!first)
			sb_str(&enc, ",");
		first = 0;
		sb_put(&enc, history[k]->data, history[k]->len);
	}
	sb_str(&enc, "],\"announcement\":");
	if (announcement)
		sb_raw_string(&enc, announcement, strlen(announcement));
	else
		sb_str(&enc, "null");
	sb_str(&enc, "}}");
	send_enc(c);
}

/* ---- request handlers ---- */

static void
handle_join(struct conn *c, const struct field *f, int n, const struct field *ref)
{
	const struct field *role = get(f, n, "role"), *name = get(f, n, "name"), *group = get(f, n, "group");
	if (c->joined) {
		send_error(c, "bad_request", "already joined", ref);
		return;
	}
	if ((role && role->kind != V_STRING) || (name && name->kind != V_STRING) || (group && group->kind != V_STRING)) {
		send_error(c, "bad_request", "a field has the wrong type", ref);
		return;
	}
	c->group = -1;
	if (is(role, "moderator")) {
		const struct field *key = get(f, n, "key");
		size_t want = moderator_key ? strlen(moderator_key) : 0;
		if (!moderator_key || !key || key->kind != V_STRING || key->len != want || memcmp(key->s, moderator_key, want)) {
			send_error(c, "unauthorized", "wrong moderator key", ref);
			request_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "unauthorized", 0);
			return;
		}
		c->role = ROLE_MODERATOR;
	} else if (is(role, "screen")) {
		c->role = ROLE_SCREEN;
	} else if (!role || is(role, "participant")) {
		c->role = ROLE_PARTICIPANT;
		if (!name || !name->len || code_points(name->s, name->len) > NAME_LIMIT || blank(name->s, name->len)) {
			send_error(c, "invalid_name", "a name of 1 to 40 characters is needed", ref);
			return;
		}
		if (group) {
			for (int g = 0; g < GROUP_COUNT; g++)
				if (is(group, groups[g]))
					c->group = g;
			if (c->group < 0) {
				send_error(c, "invalid_group", "unknown group", ref);
				return;
			}
		}
	} else {
		send_error(c, "bad_request", "unknown role", ref);
		return;
	}
	const char *fallback = c->role == ROLE_SCREEN ? "Screen" : "Moderator";
	if (c->role != ROLE_SCREEN && name && name->len) {
		c->name = xrealloc(NULL, name->len + 1);
		memcpy(c->name, name->s, name->len);
		c->name[name->len] = 0;
		c->name_len = name->len;
	} else {
		c->name = strdup(fallback);
		c->name_len = strlen(fallback);
	}
	c->number = ++next_number;
	c->joined = 1;
	if (c->role == ROLE_PARTICIPANT) {
		present++;
		presence_dirty = 1;
	}
	send_welcome(c, ref);
}

static void
handle_chat(struct conn *c, const struct field *f, int n, const struct field *ref)
{
	const struct field *text = get(f, n, "text");
	if (c->role == ROLE_SCREEN) {
		send_error(c, "forbidden", "screens may not chat", ref);
		return;
	}
	if (text && text->kind != V_STRING) {
		send_error(c, "bad_request", "text must be a string", ref);
		return;
	}
	if (!text || blank(text->s, text->len)) {
		send_error(c, "empty", "the message is empty", ref);
		return;
	}
	if (code_points(text->s, text->len) > TEXT_LIMIT) {
		send_error(c, "too_long", "the message is too long", ref);
		return;
	}
	long long id = next_chat_id++;
	char at[96];
	struct timespec t;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &t);
	gmtime_r(&t.tv_sec, &tm);
	snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t.tv_nsec / 1000000);

	/* The message object, kept for welcomes, then the event around it. */
	sb_str(&enc, "{\"id\":");
	sb_int(&enc, id);
	sb_str(&enc, ",\"from\":{\"id\":");
	enc_id(c);
	sb_str(&enc, ",\"name\":");
	sb_raw_string(&enc, c->name, c->name_len);
	sb_str(&enc, ",\"role\":");
	sb_cstring(&enc, role_names[c->role]);
	sb_str(&enc, "},\"text\":");
	sb_raw_string(&enc, text->s, text->len);
	sb_str(&enc, ",\"at\":");
	sb_cstring(&enc, at);
	sb_str(&enc, ",\"statement\":");
	if (current >= 0)
		sb_cstring(&enc, statements[current].id);
	else
		sb_str(&enc, "null");
	sb_str(&enc, "}");
	struct blob *message = blob_from(&enc);
	int slot = (history_start + history_count) % HISTORY;
	if (history_count == HISTORY) {
		blob_unref(history[history_start]);
		history_start = (history_start + 1) % HISTORY;
		slot = (history_start + HISTORY - 1) % HISTORY;
	} else {
		history_count++;
	}
	history[slot] = message;
	history_ids[slot] = id;

	send_ack(c, ref, id, NULL);
	sb_str(&enc, "{\"type\":\"chat\",\"message\":");
	sb_put(&enc, message->data, message->len);
	sb_str(&enc, "}");
	broadcast_enc();
}

static void
handle_vote(struct conn *c, const struct field *f, int n, const struct field *ref)
{
	const struct field *statement = get(f, n, "statement"), *choice = get(f, n, "choice");
	if (c->role != ROLE_PARTICIPANT) {
		send_error(c, "forbidden", "only participants vote", ref);
		return;
	}
	if ((statement && statement->kind != V_STRING) || (choice && choice->kind != V_STRING)) {
		send_error(c, "bad_request", "a field has the wrong type", ref);
		return;
	}
	int index = statement ? find_statement(statement->s, statement->len) : -1;
	if (index < 0) {
		send_error(c, "unknown_statement", "unknown statement", ref);
		return;
	}
	if (index != current || !voting_open) {
		send_error(c, "voting_closed", "voting is closed", ref);
		return;
	}
	int k = -1;
	for (int i = 0; i < 3; i++)
		if (is(choice, choices[i]))
			k = i;
	if (k < 0) {
		send_error(c, "invalid_choice", "choose agree, disagree or pass", ref);
		return;
	}
	if (c->votes_cap < statement_count) {
		c->votes = xrealloc(c->votes, (size_t)statement_count);
		memset(c->votes + c->votes_cap, -1, (size_t)(statement_count - c->votes_cap));
		c->votes_cap = statement_count;
	}
	struct statement *s = &statements[index];
	int before = c->votes[index];
	if (before >= 0) {
		s->counts[before]--;
		if (c->group >= 0)
			s->group_counts[c->group][before]--;
	} else {
		s->voters++;
	}
	s->counts[k]++;
	if (c->group >= 0)
		s->group_counts[c->group][k]++;
	c->votes[index] = (signed char)k;
	tally_dirty = 1;
	send_ack(c, ref, 0, NULL);
}

static void
handle_moderation(struct conn *c, const struct field *type, const struct field *f, int n, const struct field *ref)
{
	if (c->role != ROLE_MODERATOR) {
		send_error(c, "forbidden", "only moderators may do that", ref);
		return;
	}
	if (is(type, "next")) {
		if (current + 1 >= statement_count) {
			send_error(c, "no_more_statements", "no more statements", ref);
			return;
		}
		if (current >= 0 && voting_open) {
			voting_open = 0;
			send_tally();
		}
		current++;
		voting_open = 1;
		send_ack(c, ref, 0, NULL);
		broadcast_statement(0);
		send_tally();
	} else if (is(type, "close") || is(type, "open")) {
		if (current < 0) {
			send_error(c, "no_current_statement", "no statement is shown", ref);
			return;
		}
		int open = is(type, "open");
		int changed = open != voting_open;
		voting_open = open;
		send_ack(c, ref, 0, NULL);
		if (changed) {
			broadcast_statement(0);
			if (!open)
				send_tally();
		}
	} else if (is(type, "reveal")) {
		const struct field *visible = get(f, n, "visible");
		if (current < 0) {
			send_error(c, "no_current_statement", "no statement is shown", ref);
			return;
		}
		int v = !visible || visible->kind != V_FALSE;
		int changed = v != statements[current].visible;
		statements[current].visible = v;
		send_ack(c, ref, 0, NULL);
		if (changed) {
			broadcast_statement(0);
			send_tally();
		}
	} else if (is(type, "add")) {
		const struct field *text = get(f, n, "text");
		if (!text || text->kind != V_STRING || blank(text->s, text->len)) {
			send_error(c, "empty", "the statement is empty", ref);
			return;
		}
		if (code_points(text->s, text->len) > TEXT_LIMIT) {
			send_error(c, "too_long", "the statement is too long", ref);
			return;
		}
		char id[24];
		int number = statement_count + 1;
		do
			snprintf(id, sizeof id, "s%d", number++);
		while (find_statement(id, strlen(id)) >= 0);
		char *copy = xrealloc(NULL, text->len + 1);
		memcpy(copy, text->s, text->len);
		copy[text->len] = 0;
		add_statement(id, copy);
		free(copy);
		send_ack(c, ref, 0, id);
		broadcast_statement(1);
	} else if (is(type, "hide")) {
		const struct field *message = get(f, n, "message");
		long long id = message && message->kind == V_NUMBER ? strtoll(message->s, NULL, 10) : 0;
		if (id < 1 || id >= next_chat_id) {
			send_error(c, "unknown_message", "unknown message", ref);
			return;
		}
		if (id >= hidden_cap) {
			long long cap = hidden_cap ? hidden_cap : 1024;
			while (cap <= id)
				cap *= 2;
			hidden_ids = xrealloc(hidden_ids, (size_t)cap);
			memset(hidden_ids + hidden_cap, 0, (size_t)(cap - hidden_cap));
			hidden_cap = cap;
		}
		int already = hidden_ids[id];
		hidden_ids[id] = 1;
		send_ack(c, ref, 0, NULL);
		if (!already) {
			sb_str(&enc, "{\"type\":\"hidden\",\"message\":");
			sb_int(&enc, id);
			sb_str(&enc, "}");
			broadcast_enc();
		}
	} else if (is(type, "announce")) {
		const struct field *text = get(f, n, "text");
		if (!text || text->kind != V_STRING) {
			send_error(c, "bad_request", "announce needs a text", ref);
			return;
		}
		free(announcement);
		announcement = NULL;
		if (text->len) {
			announcement = xrealloc(NULL, text->len + 1);
			memcpy(announcement, text->s, text->len);
			announcement[text->len] = 0;
		}
		send_ack(c, ref, 0, NULL);
		sb_str(&enc, "{\"type\":\"announcement\",\"text\":");
		if (announcement)
			sb_raw_string(&enc, announcement, strlen(announcement));
		else
			sb_str(&enc, "null");
		sb_str(&enc, "}");
		broadcast_enc();
	}
}

static void
handle_message(struct conn *c, const unsigned char *p, size_t len)
{
	struct field fields[MAX_FIELDS];
	int n;
	if (parse_object(p, len, fields, &n)) {
		send_error(c, "bad_request", "not a JSON object", NULL);
		return;
	}
	const struct field *ref = get(fields, n, "ref");
	if (ref && (ref->kind != V_STRING || code_points(ref->s, ref->len) > REF_LIMIT)) {
		send_error(c, "bad_request", "ref must be a string of at most 64 characters", NULL);
		return;
	}
	const struct field *type = get(fields, n, "type");
	if (!type || type->kind != V_STRING) {
		send_error(c, "bad_request", "type is missing", ref);
		return;
	}
	if (is(type, "join")) {
		handle_join(c, fields, n, ref);
		return;
	}
	int known = is(type, "chat") || is(type, "vote") || is(type, "next") || is(type, "close") ||
		    is(type, "open") || is(type, "reveal") || is(type, "add") || is(type, "hide") ||
		    is(type, "announce");
	if (!known) {
		send_error(c, "bad_request", "not in the reference server's subset", ref);
		return;
	}
	if (!c->joined) {
		send_error(c, "not_joined", "join first", ref);
		return;
	}
	if (is(type, "chat"))
		handle_chat(c, fields, n, ref);
	else if (is(type, "vote"))
		handle_vote(c, fields, n, ref);
	else
		handle_moderation(c, type, fields, n, ref);
}

/* ---- connections and timers ---- */

static void
sweep(int64_t now)
{
	int64_t ping_after = keepalive_ms / 2;
	for (int i = 0; i < conn_count; i++) {
		struct conn *c = conns[i];
		if (c->dropped)
			continue;
		int64_t quiet = now - c->last_rx;
		if (quiet >= keepalive_ms) {
			c->dropped = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_LAGGING, LWS_TO_KILL_ASYNC);
		} else if (quiet >= ping_after && !c->pinged) {
			c->pinged = 1;
			c->ping_due = 1;
			lws_callback_on_writable(c->wsi);
		}
	}
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	int64_t now = now_ms(CLOCK_MONOTONIC);
	if (tally_dirty && now - last_tally >= TALLY_MS)
		send_tally();
	if (presence_dirty && now - last_presence >= PRESENCE_MS)
		send_presence();
	int64_t sweep_ms = keepalive_ms / 8 < 50 ? 50 : keepalive_ms / 8 > 1000 ? 1000 : keepalive_ms / 8;
	if (now - last_sweep >= sweep_ms) {
		last_sweep = now;
		sweep(now);
	}
	lws_sul_schedule(context, 0, &tick_sul, tick, TICK_MS * LWS_US_PER_MS);
}

static void
closed(struct conn *c, struct lws *wsi)
{
	if (c->wsi != wsi || c->index < 0)     /* never established */
		return;
	conns[c->index] = conns[--conn_count];
	conns[c->index]->index = c->index;
	c->index = -1;
	if (c->joined && c->role == ROLE_PARTICIPANT) {
		present--;
		presence_dirty = 1;
	}
	drop_queue(c);
	free(c->q);
	free(c->rx);
	free(c->name);
	free(c->votes);
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		c->slot_tally = c->slot_presence = -1;
		c->last_rx = now_ms(CLOCK_MONOTONIC);
		if (conn_count == conn_cap) {
			conn_cap = conn_cap ? conn_cap * 2 : 1024;
			conns = xrealloc(conns, sizeof *conns * (size_t)conn_cap);
		}
		c->index = conn_count;
		conns[conn_count++] = c;
		break;
	case LWS_CALLBACK_RECEIVE:
		c->last_rx = now_ms(CLOCK_MONOTONIC);
		c->pinged = 0;
		if (lws_frame_is_binary(wsi)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, (unsigned char *)"binary", 6);
			return -1;
		}
		if (c->rx_len + len > MESSAGE_LIMIT) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)"too large", 9);
			return -1;
		}
		if (!c->rx_len && lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			handle_message(c, in, len);     /* the usual case: one frame, no copy */
			break;
		}
		if (c->rx_len + len > c->rx_cap) {
			c->rx_cap = c->rx_len + len < 1024 ? 1024 : MESSAGE_LIMIT;
			c->rx = xrealloc(c->rx, c->rx_cap);
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			handle_message(c, c->rx, c->rx_len);
			c->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_RECEIVE_PONG:
		c->last_rx = now_ms(CLOCK_MONOTONIC);
		c->pinged = 0;
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return writeable(c);
	case LWS_CALLBACK_CLOSED:
		closed(c, wsi);
		break;
	default:
		break;
	}
	return 0;
}

/* HTTP: /healthz and an empty /metrics (the load tool reads it when it can); 404 otherwise. */
static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	static const char health[] = "{\"status\":\"ok\"}";
	static const char metrics[] = "# stelling-reference: no metrics\n";
	const char **body = user;
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		const char *path = in;
		int is_health = len == 8 && !memcmp(path, "/healthz", 8);
		int is_metrics = len == 8 && !memcmp(path, "/metrics", 8);
		if (!is_health && !is_metrics) {
			if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
				return -1;
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		}
		*body = is_health ? health : metrics;
		if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, is_health ? "application/json" : "text/plain",
						strlen(*body), &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		if (!*body)
			break;
		size_t n = strlen(*body);
		memcpy(start, *body, n);
		*body = NULL;
		if (lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) < (int)n)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int
usage(void)
{
	fprintf(stderr, "usage: stelling-reference [--host ADDRESS] [--port N] [--keepalive SECONDS] "
			"[--event-loop poll|libev|libuv]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *loop = "poll";
	int port = 18090;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--host"))
			host = argv[++i];
		else if (!strcmp(argv[i], "--port"))
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--keepalive"))
			keepalive_ms = atoll(argv[++i]) * 1000;
		else if (!strcmp(argv[i], "--event-loop"))
			loop = argv[++i];
		else
			return usage();
	}
	uint64_t loop_option;
	if (!strcmp(loop, "poll"))
		loop_option = 0;
	else if (!strcmp(loop, "libev"))
		loop_option = LWS_SERVER_OPTION_LIBEV;
	else if (!strcmp(loop, "libuv"))
		loop_option = LWS_SERVER_OPTION_LIBUV;
	else {
		fprintf(stderr, "stelling-reference: unknown event loop %s (poll, libev or libuv)\n", loop);
		return 2;
	}
	if (port <= 0 || port > 65535 || keepalive_ms <= 0)
		return usage();
	moderator_key = getenv("STELLING_MODERATOR_KEY");
	if (moderator_key && !*moderator_key)
		moderator_key = NULL;
	for (int i = 0; i < 5; i++) {
		char id[8];
		snprintf(id, sizeof id, "s%d", i + 1);
		add_statement(id, initial_statements[i]);
	}
	signal(SIGPIPE, SIG_IGN);

	/* lws sizes its descriptor table from the soft limit (LIBWEBSOCKETS.md). */
	struct rlimit limit;
	if (!getrlimit(RLIMIT_NOFILE, &limit) && limit.rlim_cur < limit.rlim_max) {
		limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? 1 << 20 : limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
	lws_set_log_level(LLL_ERR, NULL);

	static struct lws_protocols protocols[] = {
		/* The same session size for both: an upgrade may keep the HTTP session's memory. */
		{"http", http_callback, sizeof(struct conn), 0, 0, NULL, 0},
		{"stelling.v1", ws_callback, sizeof(struct conn), 0, 0, NULL, 0},
		{NULL, NULL, 0, 0, 0, NULL, 0}
	};
	/* Zero ping and hang-up times: no lws validity timer per connection; the sweep does it. */
	static lws_retry_bo_t retry;
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = port;
	info.iface = host;
	info.protocols = protocols;
	info.retry_and_idle_policy = &retry;
	info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | loop_option;
	if (strchr(host, '.'))
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "stelling-reference: cannot listen on %s:%d with the %s loop\n", host, port, loop);
		return 1;
	}
	fprintf(stderr, "stelling-reference: listening on %s:%d, %s loop\n", host, port, loop);
	last_sweep = now_ms(CLOCK_MONOTONIC);
	lws_sul_schedule(context, 0, &tick_sul, tick, TICK_MS * LWS_US_PER_MS);
	/* With an event library lws_service runs that library's loop and returns when it stops. */
	while (lws_service(context, 0) >= 0 && !loop_option)
		;
	lws_context_destroy(context);
	return 0;
}
