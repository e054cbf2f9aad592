/*
 * Gets an access token with hctoken and prints the Authorization header an API call would use.
 *
 *   cargo build --release
 *   cc -std=c99 -I include examples/c/get_token.c -L target/release -Wl,-rpath,"$PWD/target/release" \
 *      -lhctoken -o get_token
 * or, against an installed copy (scripts/install.sh --prefix DIR):
 *   cc -std=c99 examples/c/get_token.c $(PKG_CONFIG_PATH=DIR/lib/pkgconfig pkg-config --cflags --libs hctoken) \
 *      -o get_token
 *   HCTOKEN_CLIENT_SECRET=... ./get_token PROFILE TOKEN_URL CLIENT_ID
 *
 * The secret comes from the environment so it never shows in `ps`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hctoken.h"

static int fail(const char *what, hct_status status) {
  fprintf(stderr, "%s: %s: %s\n", what, hct_status_name(status), hct_last_error_message());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4 || !getenv("HCTOKEN_CLIENT_SECRET")) {
    fprintf(stderr, "usage: HCTOKEN_CLIENT_SECRET=... %s PROFILE TOKEN_URL CLIENT_ID\n", argv[0]);
    return 2;
  }
  hct_config *config = hct_config_new();
  const char *settings[][2] = {
      {"profile", argv[1]},
      {"token_url", argv[2]},
      {"client_id", argv[3]},
      {"client_secret", getenv("HCTOKEN_CLIENT_SECRET")},
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
    hct_status status = hct_config_set(config, settings[i][0], settings[i][1]);
    if (status != HCT_OK) return fail(settings[i][0], status);
  }

  /* One client per parameter set, created once and shared by every thread. */
  hct_client *client = NULL;
  hct_status status = hct_client_new(config, &client);
  hct_config_free(config);
  if (status != HCT_OK) return fail("hct_client_new", status);

  /* Call this before every API request: it answers from memory until the token nears expiry. */
  char token[4096];
  size_t len = 0;
  status = hct_client_get_token_into(client, token, sizeof token, &len);
  if (status != HCT_OK) {
    hct_client_free(client);
    return fail("hct_client_get_token_into", status);
  }
  printf("Authorization: Bearer %.12s... (%zu bytes)\n", token, len);

  /* If the API answers 401, drop the token so the next call fetches a fresh one. */
  hct_client_invalidate(client);
  hct_client_free(client);
  return 0;
}
