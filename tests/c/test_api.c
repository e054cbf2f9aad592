/*
 * The C API as a C program uses it, against `hctoken serve`.
 * Usage: test_api BASE_URL
 * Prints one line per check, then "N passed, N failed", and
 * "expected_token_requests=N" for the driver to compare with the server's count.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hctoken.h"
#include "check.h"

static const char *base_url;
static long expected_token_requests;

static hct_config *config_for(const char *profile, const char *path, const char *secret) {
  char url[512];
  snprintf(url, sizeof url, "%s%s", base_url, path);
  hct_config *config = hct_config_new();
  CHECK(config != NULL, "hct_config_new");
  CHECK(hct_config_set(config, "profile", profile) == HCT_OK, "set profile");
  CHECK(hct_config_set(config, "token_url", url) == HCT_OK, "set token_url");
  CHECK(hct_config_set(config, "client_id", "test-client") == HCT_OK, "set client_id");
  CHECK(hct_config_set(config, "client_secret", secret) == HCT_OK, "set client_secret");
  return config;
}

static hct_client *client_for(const char *profile, const char *path) {
  hct_config *config = config_for(profile, path, "test-secret");
  hct_client *client = NULL;
  CHECK(hct_client_new(config, &client) == HCT_OK && client != NULL, "hct_client_new");
  hct_config_free(config); /* the client keeps its own copy */
  return client;
}

static void test_version_and_status_names(void) {
  CHECK(strlen(hct_version()) > 0, "version");
  CHECK(hct_version_number() == HCTOKEN_VERSION_NUMBER, "hct_version_number() == HCTOKEN_VERSION_NUMBER");
  CHECK(HCTOKEN_VERSION_NUMBER == ((HCTOKEN_VERSION_MAJOR << 16) | (HCTOKEN_VERSION_MINOR << 8) | HCTOKEN_VERSION_PATCH),
        "HCTOKEN_VERSION_NUMBER is MAJOR << 16 | MINOR << 8 | PATCH");
  CHECK(strcmp(hct_version(), HCTOKEN_VERSION_STRING) == 0, "hct_version() == HCTOKEN_VERSION_STRING");
  {
    char text[32];
    snprintf(text, sizeof text, "%d.%d.%d", HCTOKEN_VERSION_MAJOR, HCTOKEN_VERSION_MINOR, HCTOKEN_VERSION_PATCH);
    CHECK(strncmp(hct_version(), text, strlen(text)) == 0, "hct_version() starts with MAJOR.MINOR.PATCH");
  }
  CHECK(strcmp(hct_status_name(HCT_OK), "HCT_OK") == 0, "status name OK");
  CHECK(strcmp(hct_status_name(HCT_ERR_OAUTH), "HCT_ERR_OAUTH") == 0, "status name OAUTH");
  CHECK(strcmp(hct_status_name(HCT_ERR_INTERNAL), "HCT_ERR_INTERNAL") == 0, "status name INTERNAL");
  CHECK(strcmp(hct_status_name(-1), "HCT_UNKNOWN_STATUS") == 0, "unknown status -1");
  CHECK(strcmp(hct_status_name(12345), "HCT_UNKNOWN_STATUS") == 0, "unknown status 12345");
}

static void test_every_profile(void) {
  static const char *profiles[][2] = {
      {"change-healthcare-v2", "/apip/auth/v2/token"},
      {"change-healthcare-v1", "/apip/auth/v1/token"},
      {"optum-v3", "/auth/sntl/v1/token"},
      {"nikohealth", "/api/identity/connect/token"},
      {"generic", "/oauth2/token"},
  };
  for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
    hct_client *client = client_for(profiles[i][0], profiles[i][1]);
    char *token = NULL;
    hct_status status = hct_client_get_token(client, &token);
    CHECK(status == HCT_OK && token != NULL && strncmp(token, "eyJ", 3) == 0, profiles[i][0]);
    expected_token_requests++;
    /* Cached: the same token, no new request. */
    char *again = NULL;
    CHECK(hct_client_get_token(client, &again) == HCT_OK && strcmp(token, again) == 0, "cached token");
    hct_string_free(token);
    hct_string_free(again);
    hct_client_free(client);
  }
}

static void test_get_token_into(void) {
  hct_client *client = client_for("generic", "/oauth2/token");
  char small[8];
  size_t len = 0;
  CHECK(hct_client_get_token_into(client, small, sizeof small, &len) == HCT_ERR_BUFFER_TOO_SMALL,
        "buffer too small");
  expected_token_requests++;
  CHECK(len > sizeof small, "out_len tells the needed length");
  char *buf = malloc(len + 1);
  size_t got = 0;
  CHECK(hct_client_get_token_into(client, buf, len + 1, &got) == HCT_OK, "exact-size buffer");
  CHECK(got == len && buf[len] == '\0' && strlen(buf) == len, "NUL-terminated copy");
  CHECK(hct_client_get_token_into(client, buf, len, &got) == HCT_ERR_BUFFER_TOO_SMALL,
        "no room for the NUL");
  CHECK(hct_client_get_token_into(client, buf, len + 1, NULL) == HCT_OK, "out_len may be NULL");
  CHECK(hct_client_get_token_into(client, buf, 0, &got) == HCT_ERR_INVALID_ARGUMENT, "zero-length buffer");
  free(buf);
  hct_client_free(client);
}

static void test_invalidate(void) {
  hct_client *client = client_for("optum-v3", "/auth/sntl/v1/token");
  char *first = NULL, *second = NULL;
  CHECK(hct_client_get_token(client, &first) == HCT_OK, "first token");
  CHECK(hct_client_invalidate(client) == HCT_OK, "invalidate");
  CHECK(hct_client_get_token(client, &second) == HCT_OK, "second token");
  CHECK(first && second && strcmp(first, second) != 0, "a new token after invalidate");
  expected_token_requests += 2;
  hct_string_free(first);
  hct_string_free(second);
  hct_client_free(client);
}

static void test_errors(void) {
  hct_config *config = hct_config_new();
  CHECK(hct_config_set(config, "client-id", "x") == HCT_ERR_CONFIG, "unknown key");
  CHECK(strstr(hct_last_error_message(), "client-id") != NULL, "message names the key");
  CHECK(hct_config_set(config, "timeout_ms", "soon") == HCT_ERR_CONFIG, "bad value");
  CHECK(strstr(hct_last_error_message(), "timeout_ms") != NULL, "message names the key");
  hct_client *client = (hct_client *)0x1;
  CHECK(hct_client_new(config, &client) == HCT_ERR_CONFIG && client == NULL, "incomplete config");
  CHECK(strstr(hct_last_error_message(), "client_id") != NULL, "message says what is missing");
  CHECK(hct_config_set(config, "token_url", "http://example.com/token") == HCT_OK, "remote http url");
  CHECK(hct_config_set(config, "client_id", "a") == HCT_OK, "client id");
  CHECK(hct_config_set(config, "client_secret", "b") == HCT_OK, "client secret");
  CHECK(hct_client_new(config, &client) == HCT_ERR_CONFIG, "plain http to a remote host");
  CHECK(strstr(hct_last_error_message(), "loopback") != NULL, "message says why");
  hct_config_free(config);

  config = config_for("generic", "/oauth2/token", "SUPER-SECRET-VALUE");
  CHECK(hct_client_new(config, &client) == HCT_OK, "client with a wrong secret");
  char *token = (char *)0x1;
  CHECK(hct_client_get_token(client, &token) == HCT_ERR_OAUTH && token == NULL, "wrong secret is an OAuth error");
  expected_token_requests++;
  const char *message = hct_last_error_message();
  CHECK(strstr(message, "invalid_client") != NULL, "message has the server's error code");
  CHECK(strstr(message, "SUPER-SECRET-VALUE") == NULL, "message never has the secret");
  hct_client_free(client);
  hct_config_free(config);

  config = hct_config_new();
  hct_config_set(config, "token_url", "http://127.0.0.1:1/token");
  hct_config_set(config, "client_id", "a");
  hct_config_set(config, "client_secret", "b");
  CHECK(hct_client_new(config, &client) == HCT_OK, "client for a closed port");
  CHECK(hct_client_get_token(client, &token) == HCT_ERR_NETWORK, "connection refused");
  hct_client_free(client);
  hct_config_free(config);
}

static void test_null_and_bad_arguments(void) {
  char *token = NULL;
  char buf[16];
  size_t len;
  hct_client *client = NULL;
  hct_config *config = hct_config_new();
  CHECK(hct_config_set(NULL, "profile", "generic") == HCT_ERR_INVALID_ARGUMENT, "NULL config");
  CHECK(hct_config_set(config, NULL, "generic") == HCT_ERR_INVALID_ARGUMENT, "NULL key");
  CHECK(hct_config_set(config, "profile", NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL value");
  CHECK(hct_config_set(config, "prof\xff", "generic") == HCT_ERR_INVALID_ARGUMENT, "non-UTF-8 key");
  CHECK(hct_config_set(config, "scope", "\xc3\x28") == HCT_ERR_INVALID_ARGUMENT, "non-UTF-8 value");
  CHECK(hct_client_new(NULL, &client) == HCT_ERR_INVALID_ARGUMENT, "NULL config to client_new");
  CHECK(hct_client_new(config, NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL out_client");
  CHECK(hct_client_get_token(NULL, &token) == HCT_ERR_INVALID_ARGUMENT, "NULL client");
  CHECK(hct_client_get_token((hct_client *)buf, NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL out_token");
  CHECK(hct_client_get_token_into(NULL, buf, sizeof buf, &len) == HCT_ERR_INVALID_ARGUMENT, "NULL client (into)");
  CHECK(hct_client_get_token_into((hct_client *)buf, NULL, 16, &len) == HCT_ERR_INVALID_ARGUMENT, "NULL buf");
  CHECK(hct_client_invalidate(NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL client (invalidate)");
  CHECK(hct_client_invalidate_token(NULL, "t") == HCT_ERR_INVALID_ARGUMENT, "NULL client (invalidate_token)");
  CHECK(strstr(hct_last_error_message(), "client is NULL") != NULL, "message names the client");
  CHECK(hct_client_invalidate_token((hct_client *)buf, NULL) == HCT_ERR_INVALID_ARGUMENT, "NULL refused_token");
  CHECK(strstr(hct_last_error_message(), "refused_token") != NULL, "message names refused_token");
  hct_config_free(NULL);
  hct_client_free(NULL);
  hct_string_free(NULL);
  passed++; /* the free functions accepted NULL */
  hct_config_free(config);
}

/* Many threads on a cold cache: one token request, the same token for all. */
#define THREADS 16
static hct_client *shared_client;
static char *thread_tokens[THREADS];
static pthread_barrier_t start_line;

static void *get_from_thread(void *arg) {
  size_t i = (size_t)arg;
  pthread_barrier_wait(&start_line);
  if (hct_client_get_token(shared_client, &thread_tokens[i]) != HCT_OK) thread_tokens[i] = NULL;
  return NULL;
}

static void test_threads_share_one_fetch(void) {
  shared_client = client_for("nikohealth", "/api/identity/connect/token");
  pthread_t threads[THREADS];
  pthread_barrier_init(&start_line, NULL, THREADS);
  for (size_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, get_from_thread, (void *)i);
  for (size_t i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&start_line);
  expected_token_requests++;
  int same = 1;
  for (size_t i = 0; i < THREADS; i++) {
    if (!thread_tokens[i] || strcmp(thread_tokens[i], thread_tokens[0]) != 0) same = 0;
  }
  CHECK(same, "every thread got the same token");
  for (size_t i = 0; i < THREADS; i++) hct_string_free(thread_tokens[i]);
  hct_client_free(shared_client);
}

/*
 * A minimal HTTP/1.1 client for the emulator's test helpers: sends METHOD PATH (with a bearer
 * token when given) to base_url ("http://127.0.0.1:PORT") and returns the status, or -1.
 */
static int http_status(const char *method, const char *path, const char *bearer) {
  int port = 0;
  if (sscanf(base_url, "http://127.0.0.1:%d", &port) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  size_t cap = 512 + (bearer ? strlen(bearer) : 0);
  char *request = malloc(cap);
  int n = snprintf(request, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n%s%s%s\r\n",
                   method, path, bearer ? "Authorization: Bearer " : "", bearer ? bearer : "", bearer ? "\r\n" : "");
  int status = -1;
  if (n > 0 && (size_t)n < cap && write(fd, request, (size_t)n) == n) {
    char head[64] = {0};
    size_t got = 0;
    while (got < sizeof head - 1) {
      ssize_t r = read(fd, head + got, sizeof head - 1 - got);
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1) status = -1;
  }
  free(request);
  close(fd);
  return status;
}

/*
 * The 401 path: 16 threads hold the same token, the server revokes it, each thread sees the 401
 * from the API, calls hct_client_invalidate_token with the token it holds and gets again.
 * Exactly one new token request reaches the server, and every thread ends with the same new
 * token, which the API accepts.
 */
static char *held[THREADS];
static char *renewed[THREADS];
static int first_api_status[THREADS], after_revoke_status[THREADS], renewed_api_status[THREADS];
static hct_status invalidate_status[THREADS], renew_status[THREADS];
static pthread_barrier_t step;

static void *on_401_from_thread(void *arg) {
  size_t i = (size_t)arg;
  pthread_barrier_wait(&step);
  if (hct_client_get_token(shared_client, &held[i]) != HCT_OK) held[i] = NULL;
  first_api_status[i] = held[i] ? http_status("GET", "/api/resource", held[i]) : -1;
  pthread_barrier_wait(&step); /* every thread holds the token */
  pthread_barrier_wait(&step); /* the main thread revoked it */
  after_revoke_status[i] = held[i] ? http_status("GET", "/api/resource", held[i]) : -1;
  if (after_revoke_status[i] == 401) {
    invalidate_status[i] = hct_client_invalidate_token(shared_client, held[i]);
    renew_status[i] = hct_client_get_token(shared_client, &renewed[i]);
    renewed_api_status[i] = renewed[i] ? http_status("GET", "/api/resource", renewed[i]) : -1;
  }
  return NULL;
}

static void test_a_401_storm_costs_one_fetch(void) {
  shared_client = client_for("generic", "/oauth2/token");
  pthread_t threads[THREADS];
  pthread_barrier_init(&step, NULL, THREADS + 1);
  for (size_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, on_401_from_thread, (void *)i);
  pthread_barrier_wait(&step);
  pthread_barrier_wait(&step);
  CHECK(http_status("POST", "/_hctoken/revoke", NULL) == 200, "the server revoked the token");
  pthread_barrier_wait(&step);
  for (size_t i = 0; i < THREADS; i++) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&step);
  expected_token_requests += 2; /* the first token, and exactly one after the 401s */
  int ok = 1;
  for (size_t i = 0; i < THREADS; i++) {
    if (!held[i] || first_api_status[i] != 200 || after_revoke_status[i] != 401 || invalidate_status[i] != HCT_OK ||
        renew_status[i] != HCT_OK || !renewed[i] || renewed_api_status[i] != 200 || strcmp(held[i], held[0]) != 0 ||
        strcmp(renewed[i], renewed[0]) != 0 || strcmp(renewed[i], held[i]) == 0) {
      ok = 0;
      printf("thread %zu: api %d, after revoke %d, invalidate_token %s, get %s, renewed api %d\n", i,
             first_api_status[i], after_revoke_status[i], hct_status_name(invalidate_status[i]),
             hct_status_name(renew_status[i]), renewed_api_status[i]);
    }
  }
  CHECK(ok, "16 threads that saw a 401 share one new token the API accepts");
  for (size_t i = 0; i < THREADS; i++) {
    hct_string_free(held[i]);
    hct_string_free(renewed[i]);
  }
  hct_client_free(shared_client);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s BASE_URL\n", argv[0]);
    return 2;
  }
  base_url = argv[1];
  test_version_and_status_names();
  test_every_profile();
  test_get_token_into();
  test_invalidate();
  test_errors();
  test_null_and_bad_arguments();
  test_threads_share_one_fetch();
  test_a_401_storm_costs_one_fetch();
  printf("expected_token_requests=%ld\n", expected_token_requests);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
