/*
 * Stress: 8 threads get tokens while another thread invalidates, for a bounded time.
 * Usage: stress BASE_URL SECONDS
 * Every call must succeed; run under valgrind or AddressSanitizer it also shows no leaks and no
 * invalid memory access.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hctoken.h"

#define READERS 8
static hct_client *client;
static atomic_int stop;
static atomic_long calls, errors;

static void *reader(void *arg) {
  (void)arg;
  char buf[4096];
  while (!atomic_load(&stop)) {
    char *token = NULL;
    if (hct_client_get_token(client, &token) != HCT_OK || token == NULL) {
      atomic_fetch_add(&errors, 1);
      fprintf(stderr, "get_token failed: %s\n", hct_last_error_message());
    }
    hct_string_free(token);
    size_t len = 0;
    if (hct_client_get_token_into(client, buf, sizeof buf, &len) != HCT_OK || strlen(buf) != len) {
      atomic_fetch_add(&errors, 1);
      fprintf(stderr, "get_token_into failed: %s\n", hct_last_error_message());
    }
    atomic_fetch_add(&calls, 2);
  }
  return NULL;
}

static void *invalidator(void *arg) {
  (void)arg;
  struct timespec pause = {0, 2 * 1000 * 1000};
  while (!atomic_load(&stop)) {
    if (hct_client_invalidate(client) != HCT_OK) atomic_fetch_add(&errors, 1);
    nanosleep(&pause, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s BASE_URL SECONDS\n", argv[0]);
    return 2;
  }
  char url[512];
  snprintf(url, sizeof url, "%s/oauth2/token", argv[1]);
  hct_config *config = hct_config_new();
  hct_config_set(config, "token_url", url);
  hct_config_set(config, "client_id", "test-client");
  hct_config_set(config, "client_secret", "test-secret");
  if (hct_client_new(config, &client) != HCT_OK) {
    fprintf(stderr, "client: %s\n", hct_last_error_message());
    return 1;
  }
  hct_config_free(config);

  pthread_t threads[READERS + 1];
  for (int i = 0; i < READERS; i++) pthread_create(&threads[i], NULL, reader, NULL);
  pthread_create(&threads[READERS], NULL, invalidator, NULL);
  struct timespec duration = {atoi(argv[2]), 0};
  nanosleep(&duration, NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i <= READERS; i++) pthread_join(threads[i], NULL);
  hct_client_free(client);

  long failures = atomic_load(&errors);
  printf("stress: %ld calls, %ld errors\n", atomic_load(&calls), failures);
  printf("%d passed, %d failed\n", failures == 0 ? 1 : 0, failures == 0 ? 0 : 1);
  return failures == 0 ? 0 : 1;
}
