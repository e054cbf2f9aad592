/*
 * hctoken called from a pthread-key destructor, after the Rust runtime's thread-locals of that
 * thread are gone (glibc runs C++/Rust thread_local destructors before pthread-key ones):
 * failing calls still return their status, hct_last_error_message() returns text (a static
 * one during thread exit), and nothing aborts. Two threads: one that used hctoken before it
 * exited (its per-thread error slot existed and was destroyed), one whose first call is made
 * from the destructor.
 * Usage: thread_exit CLOSED_PORT_URL
 * Exits 0 when every check passed; prints "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hctoken.h"

static const char *closed_url;
static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int passed, failed, destructors_run;

static void check(int cond, const char *what, const char *message) {
  pthread_mutex_lock(&lock);
  if (cond) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s (message: %s)\n", what, message ? message : "(NULL)");
  }
  pthread_mutex_unlock(&lock);
}

static int usable_text(const char *message) { return message != NULL && strlen(message) < 4096; }

static void destructor(void *value) {
  (void)value;
  /* A NULL argument: the cheapest failing call. */
  hct_status status = hct_client_invalidate(NULL);
  const char *message = hct_last_error_message();
  check(status == HCT_ERR_INVALID_ARGUMENT, "invalidate(NULL) in a destructor", message);
  check(usable_text(message), "a message in a destructor", message);
  printf("destructor: invalidate(NULL) -> %s: %s\n", hct_status_name(status), message);

  /* A client and a real failing fetch (connection refused) during thread exit. */
  hct_config *config = hct_config_new();
  check(config != NULL, "config_new in a destructor", NULL);
  check(hct_config_set(config, "token_url", closed_url) == HCT_OK, "set token_url", hct_last_error_message());
  check(hct_config_set(config, "client_id", "a") == HCT_OK, "set client_id", hct_last_error_message());
  check(hct_config_set(config, "client_secret", "b") == HCT_OK, "set client_secret", hct_last_error_message());
  check(hct_config_set(config, "no_such_key", "x") == HCT_ERR_CONFIG, "unknown key", hct_last_error_message());
  hct_client *client = NULL;
  check(hct_client_new(config, &client) == HCT_OK && client != NULL, "client_new in a destructor",
        hct_last_error_message());
  char *token = (char *)0x1;
  status = hct_client_get_token(client, &token);
  message = hct_last_error_message();
  check(status == HCT_ERR_NETWORK && token == NULL, "a refused fetch in a destructor", message);
  check(usable_text(message), "a message after the fetch", message);
  printf("destructor: get_token -> %s: %s\n", hct_status_name(status), message);
  check(hct_client_invalidate_token(client, "not-the-token") == HCT_OK, "invalidate_token", hct_last_error_message());
  hct_client_free(client);
  hct_config_free(config);
  hct_string_free(NULL);

  pthread_mutex_lock(&lock);
  destructors_run++;
  pthread_mutex_unlock(&lock);
}

static void *used_hctoken_before(void *arg) {
  (void)arg;
  /* Creates this thread's error slot, so it exists and is destroyed at thread exit. */
  check(hct_config_set(NULL, "k", "v") == HCT_ERR_INVALID_ARGUMENT, "a failing call while alive",
        hct_last_error_message());
  check(strstr(hct_last_error_message(), "config is NULL") != NULL, "the message while alive",
        hct_last_error_message());
  pthread_setspecific(key, (void *)1);
  return NULL;
}

static void *first_call_at_exit(void *arg) {
  (void)arg;
  pthread_setspecific(key, (void *)1);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CLOSED_PORT_URL\n", argv[0]);
    return 2;
  }
  closed_url = argv[1];
  pthread_key_create(&key, destructor);
  void *(*bodies[])(void *) = {used_hctoken_before, first_call_at_exit, used_hctoken_before};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    pthread_t thread;
    pthread_create(&thread, NULL, bodies[i], NULL);
    pthread_join(thread, NULL);
  }
  check(destructors_run == 3, "every destructor ran to its end", NULL);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
