/*
 * A client made before fork(), used in the parent and in the child (issue 10).
 *
 *   fork midfetch TOKEN_URL TIMEOUT_MS
 *       A thread is fetching (the server answers slowly) when the main thread forks. The
 *       child's get must return (success or HCT_ERR_TIMEOUT) within TIMEOUT_MS + 10 %; it must
 *       not wait for the parent's fetch, whose thread does not exist in the child. The child
 *       is killed by alarm() if it hangs, and the parent gives it a waitpid deadline too.
 *   fork rounds TOKEN_URL ROUNDS [CA_FILE]
 *       One fetch, so a connection is kept alive; fork; the child's first get serves the token
 *       cached before the fork (no fetch); then ROUNDS rounds in which parent and
 *       child at once (a process-shared barrier) invalidate and get. Every get must succeed,
 *       and the child must not use the parent's connection: the driver's server names the
 *       connection in each token ("fork-c<connection>-n<request>").
 *   fork jitter URL_A URL_B
 *       Two clients against two servers that always answer 503 (retried with random backoff).
 *       One failing fetch through A before the fork draws from the forking thread's random
 *       state; after the fork the parent fetches through A and the child through B, three
 *       times each. The driver compares the gaps between the attempts each server saw.
 *
 * Prints what it measured and "N passed, N failed"; exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hctoken.h"
#include "check.h"

static void sleep_ms(long ms) {
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
  }
}

static hct_client *make_client(const char *url, const char *timeout_ms, const char *ca_file) {
  hct_config *config = hct_config_new();
  int ok = config != NULL && hct_config_set(config, "token_url", url) == HCT_OK &&
           hct_config_set(config, "client_id", "test-client") == HCT_OK &&
           hct_config_set(config, "client_secret", "test-secret") == HCT_OK &&
           hct_config_set(config, "timeout_ms", timeout_ms) == HCT_OK &&
           (ca_file == NULL || hct_config_set(config, "ca_file", ca_file) == HCT_OK);
  hct_client *client = NULL;
  if (ok && hct_client_new(config, &client) != HCT_OK) client = NULL;
  if (client == NULL) printf("cannot make a client for %s: %s\n", url, hct_last_error_message());
  hct_config_free(config);
  return client;
}

/* Waits for the child at most deadline_ms; kills it after that. Returns its exit status (0-255),
 * 128 + the signal that ended it, or -1 when it had to be killed. */
static int wait_child(pid_t child, double deadline_ms) {
  double start = now_ms();
  for (;;) {
    int status = 0;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -2;
    if (now_ms() - start > deadline_ms) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return -1;
    }
    sleep_ms(10);
  }
}

static int finish(void) {
  printf("[%d] %d passed, %d failed\n", (int)getpid(), passed, failed);
  fflush(stdout);
  return failed == 0 ? 0 : 1;
}

/* ---- midfetch ---------------------------------------------------------------------------- */

static hct_client *midfetch_client;
static hct_status background_status;

static void *background_fetch(void *arg) {
  (void)arg;
  char *token = NULL;
  background_status = hct_client_get_token(midfetch_client, &token);
  hct_string_free(token);
  return NULL;
}

static int midfetch(const char *url, long timeout_ms) {
  char timeout_text[32];
  snprintf(timeout_text, sizeof timeout_text, "%ld", timeout_ms);
  midfetch_client = make_client(url, timeout_text, NULL);
  if (!midfetch_client) return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, background_fetch, NULL);
  sleep_ms(300); /* the background thread's request is now waiting for the slow server */
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    /* A hang ends here: SIGALRM kills the child, which the parent sees. */
    alarm((unsigned)(timeout_ms * 3 / 1000 + 2));
    double start = now_ms();
    char *token = NULL;
    hct_status status = hct_client_get_token(midfetch_client, &token);
    double elapsed = now_ms() - start;
    printf("child: get after a fork mid-fetch -> %s in %.0f ms (timeout_ms %ld): %s\n", hct_status_name(status),
           elapsed, timeout_ms, status == HCT_OK ? "a token" : hct_last_error_message());
    CHECK(status == HCT_OK || status == HCT_ERR_TIMEOUT, "the child's get succeeds or times out");
    CHECK(elapsed <= (double)timeout_ms * 1.1, "the child's get ends within timeout_ms + 10 %");
    hct_string_free(token);
    hct_client_free(midfetch_client);
    _exit(finish());
  }
  CHECK(child > 0, "fork");
  int code = wait_child(child, (double)timeout_ms * 3 + 3000);
  if (code == -1) printf("parent: the child hung and was killed\n");
  if (code == 128 + SIGALRM) printf("parent: the child hung (SIGALRM)\n");
  CHECK(code == 0, "the child passed");
  pthread_join(thread, NULL);
  printf("parent: the background fetch ended with %s\n", hct_status_name(background_status));
  hct_client_free(midfetch_client);
  return finish();
}

/* ---- rounds ------------------------------------------------------------------------------ */

struct shared {
  pthread_barrier_t barrier;
  int child_failures;
};

/* The connection a token came through, from its name; -1 if it has none. */
static int connection_of(const char *token) {
  int connection = -1, request = -1;
  if (token == NULL || sscanf(token, "fork-c%d-n%d", &connection, &request) != 2) return -1;
  return connection;
}

static int run_rounds(hct_client *client, struct shared *shared, int rounds, const char *who, int forbidden_connection) {
  int failures = 0;
  for (int round = 0; round < rounds; round++) {
    pthread_barrier_wait(&shared->barrier);
    char *token = NULL;
    hct_status invalidated = hct_client_invalidate(client);
    hct_status status = hct_client_get_token(client, &token);
    if (invalidated != HCT_OK || status != HCT_OK || token == NULL) {
      failures++;
      printf("%s round %d: %s: %s\n", who, round, hct_status_name(status), hct_last_error_message());
    } else if (forbidden_connection >= 0 && connection_of(token) == forbidden_connection) {
      failures++;
      printf("%s round %d: the token came through the parent's connection %d\n", who, round, forbidden_connection);
    }
    hct_string_free(token);
  }
  return failures;
}

static int rounds_test(const char *url, int rounds, const char *ca_file) {
  hct_client *client = make_client(url, "5000", ca_file);
  if (!client) return 1;
  char *token = NULL;
  CHECK(hct_client_get_token(client, &token) == HCT_OK, "the fetch before the fork");
  int parents_connection = connection_of(token);
  char *before_fork = token;
  struct shared *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(shared != MAP_FAILED, "shared memory");
  pthread_barrierattr_t attr;
  pthread_barrierattr_init(&attr);
  pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_barrier_init(&shared->barrier, &attr, 2);
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    alarm(120);
    /* The child keeps the still-valid cached token: no fetch. */
    char *kept = NULL;
    int same = hct_client_get_token(client, &kept) == HCT_OK && kept && before_fork && strcmp(kept, before_fork) == 0;
    hct_string_free(kept);
    hct_string_free(before_fork);
    shared->child_failures = same ? 0 : 1;
    if (!same) printf("child: the cached token was not kept across the fork\n");
    shared->child_failures += run_rounds(client, shared, rounds, "child", parents_connection);
    hct_client_free(client);
    _exit(0);
  }
  CHECK(child > 0, "fork");
  hct_string_free(before_fork);
  alarm(150);
  int parent_failures = run_rounds(client, shared, rounds, "parent", -1);
  int code = wait_child(child, 120000);
  CHECK(code == 0, "the child ran every round");
  printf("rounds=%d parent_failures=%d child_failures=%d\n", rounds, parent_failures, shared->child_failures);
  CHECK(parent_failures == 0, "no get failed in the parent");
  CHECK(shared->child_failures == 0, "no get failed in the child");
  hct_client_free(client);
  return finish();
}

/* ---- jitter ------------------------------------------------------------------------------ */

static void failing_fetches(hct_client *client, int fetches, const char *who) {
  for (int i = 0; i < fetches; i++) {
    char *token = NULL;
    hct_status status = hct_client_get_token(client, &token);
    CHECK(status == HCT_ERR_HTTP, "a 503 after the retries is HCT_ERR_HTTP");
    if (status != HCT_ERR_HTTP) printf("%s: %s\n", who, hct_status_name(status));
    hct_string_free(token);
  }
}

static int jitter(const char *url_a, const char *url_b) {
  hct_client *a = make_client(url_a, "10000", NULL);
  hct_client *b = make_client(url_b, "10000", NULL);
  if (!a || !b) return 1;
  failing_fetches(a, 1, "parent before the fork");
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    alarm(60);
    failing_fetches(b, 3, "child");
    hct_client_free(a);
    hct_client_free(b);
    _exit(finish());
  }
  CHECK(child > 0, "fork");
  failing_fetches(a, 3, "parent");
  CHECK(wait_child(child, 60000) == 0, "the child passed");
  hct_client_free(a);
  hct_client_free(b);
  return finish();
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 4 && strcmp(argv[1], "midfetch") == 0) return midfetch(argv[2], atol(argv[3]));
  if (argc >= 4 && strcmp(argv[1], "rounds") == 0) return rounds_test(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : NULL);
  if (argc == 4 && strcmp(argv[1], "jitter") == 0) return jitter(argv[2], argv[3]);
  fprintf(stderr, "usage: %s midfetch URL TIMEOUT_MS | rounds URL ROUNDS [CA_FILE] | jitter URL_A URL_B\n", argv[0]);
  return 2;
}
