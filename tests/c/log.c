/*
 * The log callback under 8 threads, with a callback that calls back into the same client
 * (hct_client_stats_json). Usage: log BASE_URL UNAVAILABLE_URL
 *   BASE_URL         `hctoken serve`
 *   UNAVAILABLE_URL  a server that answers every request with 503 (retries)
 * Checks: no deadlock (an alarm ends a hung run), every level seen where it should be, no
 * message with the secret or a token, events on the calling threads.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hctoken.h"
#include "check.h"

#define THREADS 8
#define ROUNDS 20

struct sink {
  const hct_client *_Atomic client; /* set once the client exists */
  atomic_long by_level[5];
  atomic_long bad_level, leaked, stats_calls, stats_failed, fetch_ended, retried, remembered;
};

static _Thread_local int inside_a_call; /* events arrive during this thread's own hct_ call */
static atomic_long off_thread;

static void on_event(void *userdata, int level, const char *message) {
  struct sink *sink = userdata;
  if (level < HCT_LOG_ERROR || level > HCT_LOG_DEBUG) {
    atomic_fetch_add(&sink->bad_level, 1);
    return;
  }
  atomic_fetch_add(&sink->by_level[level], 1);
  if (!inside_a_call) atomic_fetch_add(&off_thread, 1);
  if (strstr(message, "test-secret") || strstr(message, "wrong-secret") || strstr(message, "eyJ"))
    atomic_fetch_add(&sink->leaked, 1);
  if (strstr(message, "fetch ended")) atomic_fetch_add(&sink->fetch_ended, 1);
  if (strstr(message, "retrying in")) atomic_fetch_add(&sink->retried, 1);
  if (strstr(message, "remembered refusal")) atomic_fetch_add(&sink->remembered, 1);
  const hct_client *client = atomic_load(&sink->client);
  if (client) {
    char *json = NULL;
    if (hct_client_stats_json(client, &json) == HCT_OK && json && strstr(json, "\"fetches\":"))
      atomic_fetch_add(&sink->stats_calls, 1);
    else
      atomic_fetch_add(&sink->stats_failed, 1);
    hct_string_free(json);
  }
}

static hct_client *client_with(struct sink *sink, const char *url, const char *secret, const char *timeout_ms) {
  hct_config *config = hct_config_new();
  CHECK(hct_config_set(config, "token_url", url) == HCT_OK, "token_url");
  CHECK(hct_config_set(config, "client_id", "test-client") == HCT_OK, "client_id");
  CHECK(hct_config_set(config, "client_secret", secret) == HCT_OK, "client_secret");
  if (timeout_ms) CHECK(hct_config_set(config, "timeout_ms", timeout_ms) == HCT_OK, "timeout_ms");
  CHECK(hct_config_set_log_callback(config, on_event, sink) == HCT_OK, "hct_config_set_log_callback");
  hct_client *client = NULL;
  CHECK(hct_client_new(config, &client) == HCT_OK, "hct_client_new");
  hct_config_free(config); /* the client keeps the callback */
  atomic_store(&sink->client, client);
  return client;
}

struct worker {
  const hct_client *client;
  int invalidate;
  atomic_long ok, refused;
};

static void *work(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < ROUNDS; i++) {
    hct_token *token = NULL;
    inside_a_call = 1;
    hct_status status = hct_client_get(w->client, 0, 0, &token);
    if (status == HCT_OK && w->invalidate && i % 5 == 4) hct_client_invalidate_token(w->client, hct_token_value(token));
    inside_a_call = 0;
    atomic_fetch_add(status == HCT_OK ? &w->ok : &w->refused, 1);
    hct_token_free(token);
  }
  return NULL;
}

static void run_threads(struct worker *w) {
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) CHECK(pthread_create(&threads[i], NULL, work, w) == 0, "pthread_create");
  for (int i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s BASE_URL UNAVAILABLE_URL\n", argv[0]);
    return 2;
  }
  alarm(120); /* a deadlock ends the run instead of hanging it */
  char url[512];
  snprintf(url, sizeof url, "%s/oauth2/token", argv[1]);

  static struct sink good;
  hct_client *client = client_with(&good, url, "test-secret", NULL);
  struct worker w = {client, 1, 0, 0};
  run_threads(&w);
  CHECK(atomic_load(&w.ok) == THREADS * ROUNDS, "every get succeeded");
  CHECK(atomic_load(&good.fetch_ended) >= 1, "fetch end events");
  CHECK(atomic_load(&good.by_level[HCT_LOG_INFO]) == atomic_load(&good.fetch_ended), "one info per fetch ended");
  CHECK(atomic_load(&good.by_level[HCT_LOG_DEBUG]) == atomic_load(&good.fetch_ended), "one debug per fetch started");
  CHECK(atomic_load(&good.by_level[HCT_LOG_ERROR]) == 0, "no error events");
  CHECK(atomic_load(&good.stats_calls) > 0 && atomic_load(&good.stats_failed) == 0,
        "the callback called hct_client_stats_json on the same client");
  printf("good client: %ld fetches ended, %ld stats calls from the callback\n", atomic_load(&good.fetch_ended),
         atomic_load(&good.stats_calls));
  hct_client_free(client);

  static struct sink refused;
  client = client_with(&refused, url, "wrong-secret", NULL);
  struct worker r = {client, 0, 0, 0};
  run_threads(&r);
  CHECK(atomic_load(&r.refused) == THREADS * ROUNDS, "every get was refused");
  CHECK(atomic_load(&refused.by_level[HCT_LOG_ERROR]) >= 1, "a failed fetch is an error event");
  CHECK(atomic_load(&refused.remembered) >= 1, "a remembered refusal is a debug event");
  CHECK(atomic_load(&refused.stats_failed) == 0, "stats from the callback");
  hct_client_free(client);

  static struct sink unavailable;
  snprintf(url, sizeof url, "%s/oauth2/token", argv[2]);
  client = client_with(&unavailable, url, "test-secret", "1500");
  hct_token *token = NULL;
  inside_a_call = 1;
  hct_status status = hct_client_get(client, 0, 0, &token);
  inside_a_call = 0;
  CHECK(status != HCT_OK, "503 every time fails");
  CHECK(atomic_load(&unavailable.retried) >= 1 && atomic_load(&unavailable.by_level[HCT_LOG_WARN]) >= 1,
        "each retry is a warn event");
  hct_client_free(client);

  CHECK(atomic_load(&good.leaked) + atomic_load(&refused.leaked) + atomic_load(&unavailable.leaked) == 0,
        "no message holds the secret or a token");
  CHECK(atomic_load(&good.bad_level) + atomic_load(&refused.bad_level) + atomic_load(&unavailable.bad_level) == 0,
        "levels are HCT_LOG_ERROR .. HCT_LOG_DEBUG");
  CHECK(atomic_load(&off_thread) == 0, "events arrive on the calling thread, during its call");

  /* NULL callback: no events; NULL config refused. */
  hct_config *config = hct_config_new();
  CHECK(hct_config_set_log_callback(config, NULL, NULL) == HCT_OK, "a NULL callback turns events off");
  CHECK(hct_config_set_log_callback(NULL, on_event, NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL config");
  hct_config_free(config);

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
