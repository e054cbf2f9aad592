using System.Collections.Generic;

namespace HcToken.Tests
{
    /// <summary>Every vendor profile gets a token from its emulated endpoint, and the token works.</summary>
    internal static class ProfileTests
    {
        internal static void Register(TestRunner runner, Fixture fixture)
        {
            foreach (string profile in Fixture.TokenPaths.Keys)
            {
                string name = profile;
                runner.Add("profile " + name + " gets a token that the resource accepts", () =>
                    GetsWorkingToken(fixture, fixture.Options(name), Fixture.TokenPaths[name]));
            }

            foreach (string authMethod in new[] { "basic", "post", "json" })
            {
                string method = authMethod;
                runner.Add("profile generic with auth_method " + method + " gets a token", () =>
                {
                    TokenClientOptions options = fixture.Options("generic");
                    options.Extra["auth_method"] = method;
                    GetsWorkingToken(fixture, options, Fixture.GenericPath);
                });
            }

            runner.Add("profile generic sends scope and audience from Extra", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.Scope = "claims:read";
                options.Extra["audience"] = "https://api.example.test";
                GetsWorkingToken(fixture, options, Fixture.GenericPath);
            });

            runner.Add("a non-ASCII secret is sent as UTF-8", () =>
            {
                TokenServer server = fixture.UnicodeServer;
                server.ResetCounters();
                using (var client = new TokenClient(Fixture.OptionsFor(server, "change-healthcare-v2")))
                {
                    string token = client.GetToken();
                    Check.LooksLikeJwt(token);
                    Check.Equal(200, server.ResourceStatusFor(token), "resource status for the token");
                }
            });

            runner.Add("LibraryVersion reads the native version", () =>
            {
                string version = TokenClient.LibraryVersion;
                Check.True(!string.IsNullOrEmpty(version) && char.IsDigit(version[0]), "version '" + version + "' starts with a digit");
            });
        }

        private static void GetsWorkingToken(Fixture fixture, TokenClientOptions options, string path)
        {
            fixture.Server.ResetCounters();
            using (var client = new TokenClient(options))
            {
                string token = client.GetToken();
                Check.LooksLikeJwt(token);
                Check.Equal(1, fixture.Server.TokenRequestsAt(path), "token requests at " + path);
                Check.Equal(1, fixture.Server.TokenRequests(), "token requests in all");
                Check.Equal(200, fixture.Server.ResourceStatusFor(token), "resource status for the token");
            }
        }
    }
}
