/*
 * hct_client_get and hct_token as a C program uses them.
 * Usage: get BASE_URL SHORT_LIVED_URL SLOW_URL [untimed]
 *   untimed          check statuses but not elapsed times (under valgrind, which translates
 *                    every code path on its first run and serialises threads: its times say
 *                    nothing about the library's)
 *   BASE_URL         `hctoken serve` with each profile's usual lifetimes
 *   SHORT_LIVED_URL  `hctoken serve --lifetime 6`: tokens that reach their refresh window soon
 *   SLOW_URL         `hctoken serve --latency-ms 5000`: every token request answered late
 * Prints one line per failed check, then "N passed, N failed", and
 * "expected_token_requests=N short_lived_requests=N" for the driver to compare with the servers.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hctoken.h"
#include "check.h"

static long expected_token_requests, short_lived_requests;
static int timed = 1;

/* The JSON text of field `key` of a flat hct_client_stats_json object equals `want` (and ends
   there). Objects as values ("failures") are compared whole. */
static int field_is(const char *json, const char *key, const char *want) {
  char name[128];
  snprintf(name, sizeof name, "\"%s\":", key);
  const char *at = strstr(json, name);
  if (!at) return 0;
  at += strlen(name);
  size_t n = strlen(want);
  return strncmp(at, want, n) == 0 && (at[n] == ',' || at[n] == '}');
}

/* A number field, or -1 when it is absent or null. */
static double number_field(const char *json, const char *key) {
  char name[128];
  snprintf(name, sizeof name, "\"%s\":", key);
  const char *at = strstr(json, name);
  if (!at || strncmp(at + strlen(name), "null", 4) == 0) return -1;
  return strtod(at + strlen(name), NULL);
}

static char *stats_of(const hct_client *client) {
  char *json = (char *)0x1;
  CHECK(hct_client_stats_json(client, &json) == HCT_OK && json != NULL, "hct_client_stats_json");
  return json;
}

static hct_client *client_at(const char *base, const char *profile, const char *path, const char *skew,
                             const char *timeout_ms);

static hct_client *client_with_secret(const char *base, const char *secret) {
  char url[512];
  snprintf(url, sizeof url, "%s/oauth2/token", base);
  hct_config *config = hct_config_new();
  CHECK(hct_config_set(config, "token_url", url) == HCT_OK, "set token_url");
  CHECK(hct_config_set(config, "client_id", "test-client") == HCT_OK, "set client_id");
  CHECK(hct_config_set(config, "client_secret", secret) == HCT_OK, "set client_secret");
  hct_client *client = NULL;
  CHECK(hct_client_new(config, &client) == HCT_OK, "hct_client_new");
  hct_config_free(config);
  return client;
}

/* The stats after a known sequence: nothing; one fetch and cached gets; a refusal and its
   remembered answer. */
static void test_stats(const char *base) {
  hct_client *client = client_at(base, "generic", "/oauth2/token", NULL, NULL);
  char *json = stats_of(client);
  CHECK(field_is(json, "token_requests", "0") && field_is(json, "fetches", "0") && field_is(json, "failures", "{}") &&
            field_is(json, "early_refreshes", "0") && field_is(json, "early_refresh_failures", "0") &&
            field_is(json, "stampede_joins", "0") && field_is(json, "negative_cache_answers", "0") &&
            field_is(json, "last_fetch_latency_ms", "null") && field_is(json, "token_seconds_left", "null") &&
            field_is(json, "last_error_status", "null"),
        "a new client's stats are zero and null");
  if (failed) printf("stats: %s\n", json);
  hct_string_free(json);
  for (int i = 0; i < 4; i++) {
    hct_token *token = NULL;
    CHECK(hct_client_get(client, 0, 0, &token) == HCT_OK, "get");
    hct_token_free(token);
  }
  expected_token_requests++;
  json = stats_of(client);
  CHECK(field_is(json, "token_requests", "1") && field_is(json, "fetches", "1") && field_is(json, "failures", "{}") &&
            field_is(json, "last_error_status", "null"),
        "one fetch for four gets; cached gets count nowhere");
  CHECK(number_field(json, "last_fetch_latency_ms") > 0, "the fetch's latency");
  double left = number_field(json, "token_seconds_left");
  CHECK(left > 3500 && left <= 3600, "the cached token's seconds left");
  hct_string_free(json);
  hct_client_free(client);

  client = client_with_secret(base, "wrong-secret");
  hct_token *token = NULL;
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_ERR_OAUTH, "a wrong secret is refused");
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_ERR_OAUTH, "and the refusal remembered");
  expected_token_requests++;
  json = stats_of(client);
  CHECK(field_is(json, "token_requests", "1") && field_is(json, "fetches", "1") &&
            field_is(json, "failures", "{\"HCT_ERR_OAUTH\":1}") && field_is(json, "negative_cache_answers", "1") &&
            field_is(json, "last_error_status", "\"HCT_ERR_OAUTH\"") && field_is(json, "token_seconds_left", "null"),
        "one refused fetch, one remembered answer");
  if (failed) printf("stats: %s\n", json);
  hct_string_free(json);
  CHECK(hct_client_stats_json(NULL, &json) == HCT_ERR_INVALID_ARGUMENT && json == NULL, "stats of NULL");
  CHECK(hct_client_stats_json(client, NULL) == HCT_ERR_INVALID_ARGUMENT, "stats into NULL");
  hct_client_free(client);
}

static hct_client *client_at(const char *base, const char *profile, const char *path, const char *skew,
                             const char *timeout_ms) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", base, path);
  hct_config *config = hct_config_new();
  CHECK(hct_config_set(config, "profile", profile) == HCT_OK, "set profile");
  CHECK(hct_config_set(config, "token_url", url) == HCT_OK, "set token_url");
  CHECK(hct_config_set(config, "client_id", "test-client") == HCT_OK, "set client_id");
  CHECK(hct_config_set(config, "client_secret", "test-secret") == HCT_OK, "set client_secret");
  if (skew) CHECK(hct_config_set(config, "refresh_skew_secs", skew) == HCT_OK, "set refresh_skew_secs");
  if (timeout_ms) CHECK(hct_config_set(config, "timeout_ms", timeout_ms) == HCT_OK, "set timeout_ms");
  hct_client *client = NULL;
  CHECK(hct_client_new(config, &client) == HCT_OK && client != NULL, "hct_client_new");
  hct_config_free(config);
  return client;
}

static void test_token_fields(const char *base) {
  /* nikohealth's endpoint grants scope "external" with token_type "Bearer". */
  const hct_client *client = client_at(base, "nikohealth", "/api/identity/connect/token", NULL, NULL);
  hct_token *token = (hct_token *)0x1;
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_OK && token != NULL, "hct_client_get fetches");
  expected_token_requests++;
  const char *value = hct_token_value(token);
  CHECK(strncmp(value, "eyJ", 3) == 0, "hct_token_value is the JWT");
  CHECK(hct_token_length(token) == strlen(value), "hct_token_length is strlen of the value");
  int64_t expires = hct_token_expires_in_ms(token);
  CHECK(expires > 1100000 && expires <= 1200000, "hct_token_expires_in_ms within the 1200 s lifetime");
  CHECK(strcmp(hct_token_scope(token), "external") == 0, "hct_token_scope is the granted scope");
  CHECK(strcmp(hct_token_type(token), "Bearer") == 0, "hct_token_type as the server sent it");
  /* The same token as the older calls hand out, from the cache. */
  char *copy = NULL;
  CHECK(hct_client_get_token(client, &copy) == HCT_OK && copy && strcmp(copy, value) == 0,
        "hct_client_get_token gives the same cached token");
  hct_string_free(copy);
  hct_token *again = NULL;
  CHECK(hct_client_get(client, 0, 0, &again) == HCT_OK && strcmp(hct_token_value(again), value) == 0,
        "a second get is served from the cache");
  CHECK(hct_token_expires_in_ms(again) <= expires, "expires_in_ms counts from when it was handed out");
  hct_token_free(again);
  hct_token_free(token);
  hct_client_free((hct_client *)client);

  /* generic without a scope asked: the emulator sends none, so "". token_type "Bearer". */
  client = client_at(base, "generic", "/oauth2/token", NULL, NULL);
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_OK, "generic get");
  expected_token_requests++;
  CHECK(strcmp(hct_token_scope(token), "") == 0, "no scope sent: \"\"");
  CHECK(strcmp(hct_token_type(token), "Bearer") == 0, "generic token_type");
  hct_token_free(token);
  hct_client_free((hct_client *)client);

  /* change-healthcare-v2 sends "bearer": handed out as sent, not normalised. */
  client = client_at(base, "change-healthcare-v2", "/apip/auth/v2/token", NULL, NULL);
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_OK, "v2 get");
  expected_token_requests++;
  CHECK(strcmp(hct_token_type(token), "bearer") == 0, "v2 token_type as sent");
  hct_token_free(token);
  hct_client_free((hct_client *)client);
}

static void test_arguments(const char *base) {
  hct_client *client = client_at(base, "generic", "/oauth2/token", NULL, NULL);
  hct_token *token = (hct_token *)0x1;
  CHECK(hct_client_get(client, 4, 0, &token) == HCT_ERR_INVALID_ARGUMENT && token == NULL, "unknown flag 4");
  CHECK(strstr(hct_last_error_message(), "flags") != NULL, "the message names flags");
  CHECK(hct_client_get(client, 0x80000000u, 0, &token) == HCT_ERR_INVALID_ARGUMENT, "unknown flag high bit");
  CHECK(hct_client_get(NULL, 0, 0, &token) == HCT_ERR_INVALID_ARGUMENT && token == NULL, "NULL client");
  CHECK(hct_client_get(client, 0, 0, NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL out_token");
  CHECK(strcmp(hct_token_value(NULL), "") == 0 && hct_token_length(NULL) == 0 && hct_token_expires_in_ms(NULL) == 0 &&
            strcmp(hct_token_scope(NULL), "") == 0 && strcmp(hct_token_type(NULL), "") == 0,
        "accessors take NULL");
  hct_token_free(NULL);
  CHECK(strcmp(hct_status_name(HCT_ERR_NO_TOKEN), "HCT_ERR_NO_TOKEN") == 0, "status name NO_TOKEN");
  CHECK(HCT_ERR_NO_TOKEN == 11 && HCT_ERR_INTERNAL == 10, "statuses are appended");
  hct_client_free(client);
}

static void test_cached_only(const char *base) {
  hct_client *client = client_at(base, "optum-v3", "/auth/sntl/v1/token", NULL, NULL);
  hct_token *token = (hct_token *)0x1;
  CHECK(hct_client_get(client, HCT_GET_CACHED_ONLY, 0, &token) == HCT_ERR_NO_TOKEN && token == NULL,
        "cached only, nothing cached: HCT_ERR_NO_TOKEN, no request");
  CHECK(hct_client_get(client, HCT_GET_CACHED_ONLY | HCT_GET_NO_EARLY_REFRESH, 0, &token) == HCT_ERR_NO_TOKEN,
        "both flags, nothing cached: HCT_ERR_NO_TOKEN");
  char *first = NULL;
  CHECK(hct_client_get_token(client, &first) == HCT_OK, "fetch");
  expected_token_requests++;
  CHECK(hct_client_get(client, HCT_GET_CACHED_ONLY, 0, &token) == HCT_OK && strcmp(hct_token_value(token), first) == 0,
        "cached only, cached: the cached token");
  CHECK(strstr(hct_token_scope(token), "openid") != NULL, "optum's scope");
  hct_token_free(token);
  CHECK(hct_client_invalidate_token(client, first) == HCT_OK, "invalidate_token");
  CHECK(hct_client_get(client, HCT_GET_CACHED_ONLY, 0, &token) == HCT_ERR_NO_TOKEN, "cached only after invalidate");
  CHECK(hct_client_get(client, HCT_GET_NO_EARLY_REFRESH, 0, &token) == HCT_OK && strcmp(hct_token_value(token), first) != 0,
        "no early refresh with nothing cached still fetches");
  expected_token_requests++;
  hct_token_free(token);
  hct_string_free(first);
  hct_client_free(client);
}

/* Tokens of 6 s with a 3 s skew: fresh for 3 s, then 3 s in the refresh window. */
static void test_no_early_refresh(const char *short_lived) {
  hct_client *client = client_at(short_lived, "generic", "/oauth2/token", "3", NULL);
  hct_token *first = NULL;
  double start = now_ms();
  CHECK(hct_client_get(client, 0, 0, &first) == HCT_OK, "short-lived fetch");
  short_lived_requests++;
  /* Into the window: 3.5 s after the request went out (the lifetime counts from then). */
  double wait = 3500 - (now_ms() - start);
  if (wait > 0) {
    struct timespec pause = {(time_t)(wait / 1000), (long)((long long)wait % 1000) * 1000000L};
    nanosleep(&pause, NULL);
  }
  hct_token *token = NULL;
  CHECK(hct_client_get(client, HCT_GET_NO_EARLY_REFRESH, 0, &token) == HCT_OK &&
            strcmp(hct_token_value(token), hct_token_value(first)) == 0,
        "in the window, HCT_GET_NO_EARLY_REFRESH serves the valid token without a refresh");
  CHECK(hct_token_expires_in_ms(token) < 3000, "and says it has less than the window left");
  hct_token_free(token);
  CHECK(hct_client_get(client, HCT_GET_CACHED_ONLY, 0, &token) == HCT_OK &&
            strcmp(hct_token_value(token), hct_token_value(first)) == 0,
        "in the window, HCT_GET_CACHED_ONLY serves the valid token without a refresh");
  hct_token_free(token);
  CHECK(hct_client_get(client, 0, 0, &token) == HCT_OK && strcmp(hct_token_value(token), hct_token_value(first)) != 0,
        "in the window, a get without flags refreshes");
  short_lived_requests++;
  CHECK(hct_token_expires_in_ms(token) > 3000, "the new token's full lifetime");
  hct_token_free(token);
  char *json = stats_of(client);
  CHECK(field_is(json, "early_refreshes", "1") && field_is(json, "early_refresh_failures", "0") &&
            field_is(json, "fetches", "2"),
        "stats: one early refresh");
  hct_string_free(json);
  hct_token_free(first);
  hct_client_free(client);
}

struct slow_fetch {
  const hct_client *client;
  hct_status status;
};

static void *fetch_with_the_client_timeout(void *arg) {
  struct slow_fetch *fetch = arg;
  hct_token *token = NULL;
  fetch->status = hct_client_get(fetch->client, 0, 0, &token);
  hct_token_free(token);
  return NULL;
}

/* The server answers after 5 s; the client's timeout_ms is 8000. */
static void test_per_call_timeout(const char *slow) {
  const uint32_t timeout_ms = 1000;
  hct_client *client = client_at(slow, "generic", "/oauth2/token", NULL, "8000");
  hct_token *token = (hct_token *)0x1;
  double start = now_ms();
  hct_status status = hct_client_get(client, 0, timeout_ms, &token);
  double elapsed = now_ms() - start;
  CHECK(status == HCT_ERR_TIMEOUT && token == NULL, "a fetch slower than timeout_ms: HCT_ERR_TIMEOUT");
  printf("fetch bounded by timeout_ms=%u returned after %.0f ms\n", timeout_ms, elapsed);
  CHECK(!timed || elapsed <= timeout_ms * 1.1, "the fetch returned within timeout_ms + 10 %");

  /* A waiter: another thread's fetch (the client's 8 s) is in flight; this call waits for it at
     most its own timeout. */
  struct slow_fetch fetch = {client, HCT_OK};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, fetch_with_the_client_timeout, &fetch) == 0, "start the slow fetch");
  struct timespec settle = {0, 300 * 1000000L}; /* let it take off first */
  nanosleep(&settle, NULL);
  start = now_ms();
  status = hct_client_get(client, 0, timeout_ms, &token);
  elapsed = now_ms() - start;
  CHECK(status == HCT_ERR_TIMEOUT && token == NULL, "waiting on a slow fetch: HCT_ERR_TIMEOUT");
  printf("wait bounded by timeout_ms=%u returned after %.0f ms\n", timeout_ms, elapsed);
  CHECK(!timed || elapsed <= timeout_ms * 1.1, "the wait returned within timeout_ms + 10 %");
  pthread_join(thread, NULL);
  CHECK(fetch.status == HCT_OK, "the fetch with the client's timeout succeeded");
  char *json = stats_of(client);
  CHECK(field_is(json, "stampede_joins", "1") && field_is(json, "failures", "{\"HCT_ERR_TIMEOUT\":1}") &&
            field_is(json, "fetches", "2") && field_is(json, "token_requests", "2"),
        "stats: a timed-out fetch and one stampede join");
  printf("stats after the slow server: %s\n", json);
  hct_string_free(json);
  hct_client_free(client);
}

int main(int argc, char **argv) {
  if (argc != 4 && !(argc == 5 && strcmp(argv[4], "untimed") == 0)) {
    fprintf(stderr, "usage: %s BASE_URL SHORT_LIVED_URL SLOW_URL [untimed]\n", argv[0]);
    return 2;
  }
  timed = argc == 4;
  test_arguments(argv[1]);
  test_token_fields(argv[1]);
  test_cached_only(argv[1]);
  test_stats(argv[1]);
  test_no_early_refresh(argv[2]);
  test_per_call_timeout(argv[3]);
  printf("%d passed, %d failed\n", passed, failed);
  printf("expected_token_requests=%ld short_lived_requests=%ld\n", expected_token_requests, short_lived_requests);
  return failed == 0 ? 0 : 1;
}
