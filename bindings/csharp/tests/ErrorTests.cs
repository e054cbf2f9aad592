using System;
using System.Net;
using System.Net.Sockets;

namespace HcToken.Tests
{
    /// <summary>Each kind of failure arrives as the right exception with its fields, never revealing the secret.</summary>
    internal static class ErrorTests
    {
        private const string WrongSecret = "wrong-secret-do-not-print";

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            foreach (string profile in Fixture.TokenPaths.Keys)
            {
                string name = profile;
                runner.Add("profile " + name + " with a wrong secret throws OAuthException invalid_client", () =>
                {
                    TokenClientOptions options = fixture.Options(name);
                    options.ClientSecret = WrongSecret;
                    using (var client = new TokenClient(options))
                    {
                        OAuthException error = Check.Throws<OAuthException>(() => client.GetToken(), "GetToken with a wrong secret");
                        Check.Equal(HcTokenStatus.OAuth, error.Status, "Status");
                        Check.Equal("invalid_client", error.Error, "Error");
                        Check.Contains("invalid_client", error.Message, "Message");
                        Check.DoesNotReveal(error, WrongSecret);
                    }
                });
            }

            runner.Add("a wrong scope throws OAuthException invalid_scope", () =>
            {
                TokenClientOptions options = fixture.Options("nikohealth");
                options.Scope = "everything";
                using (var client = new TokenClient(options))
                {
                    OAuthException error = Check.Throws<OAuthException>(() => client.GetToken(), "GetToken with a wrong scope");
                    Check.Equal("invalid_scope", error.Error, "Error");
                    Check.DoesNotReveal(error, Fixture.Secret);
                }
            });

            runner.Add("a refusal is remembered (no request per call) until Invalidate", () =>
            {
                fixture.Server.ResetCounters();
                TokenClientOptions options = fixture.Options("generic");
                options.ClientSecret = WrongSecret;
                using (var client = new TokenClient(options))
                {
                    OAuthException first = Check.Throws<OAuthException>(() => client.GetToken(), "first GetToken");
                    OAuthException second = Check.Throws<OAuthException>(() => client.GetToken(), "second GetToken");
                    Check.Equal(first.Error, second.Error, "the remembered refusal's error code");
                    Check.Contains("cached: next attempt in", second.Message, "second Message");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests while the refusal is remembered");
                    client.Invalidate();
                    Check.Throws<OAuthException>(() => client.GetToken(), "GetToken after Invalidate");
                    Check.Equal(2, fixture.Server.TokenRequests(), "token requests after Invalidate");
                }
            });

            runner.Add("a missing client id throws HcTokenException with Status Config", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.ClientId = null;
                HcTokenException error = Check.Throws<HcTokenException>(() => new TokenClient(options), "new TokenClient without client id");
                Check.Equal(HcTokenStatus.Config, error.Status, "Status");
                Check.Contains("client_id", error.Message, "Message");
                Check.DoesNotReveal(error, Fixture.Secret);
            });

            runner.Add("plain http to a non-loopback host throws HcTokenException with Status Config", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.TokenUrl = "http://auth.example.com/oauth2/token";
                HcTokenException error = Check.Throws<HcTokenException>(() => new TokenClient(options), "new TokenClient with a remote http URL");
                Check.Equal(HcTokenStatus.Config, error.Status, "Status");
                Check.DoesNotReveal(error, Fixture.Secret);
            });

            runner.Add("an unknown profile is refused with a message naming it", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.Profile = "no-such-vendor";
                HcTokenException error = Check.Throws<HcTokenException>(() => new TokenClient(options), "new TokenClient with an unknown profile");
                Check.Equal(HcTokenStatus.Config, error.Status, "Status");
                Check.Contains("profile", error.Message, "Message");
            });

            runner.Add("an unknown key in Extra is refused with a message naming it (UTF-8 both ways)", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.Extra["schl\u00fcssel"] = "x";
                HcTokenException error = Check.Throws<HcTokenException>(() => new TokenClient(options), "new TokenClient with an unknown key");
                Check.Equal(HcTokenStatus.Config, error.Status, "Status");
                Check.Contains("schl\u00fcssel", error.Message, "Message");
            });

            runner.Add("a bad value is refused with a message naming its key", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.Extra["timeout_ms"] = "soon";
                HcTokenException error = Check.Throws<HcTokenException>(() => new TokenClient(options), "new TokenClient with timeout_ms=soon");
                Check.Equal(HcTokenStatus.Config, error.Status, "Status");
                Check.Contains("timeout_ms", error.Message, "Message");
            });

            runner.Add("a refused port throws HcTokenException with Status Network", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.TokenUrl = "http://127.0.0.1:" + UnusedPort() + Fixture.GenericPath;
                using (var client = new TokenClient(options))
                {
                    HcTokenException error = Check.Throws<HcTokenException>(() => client.GetToken(), "GetToken from a closed port");
                    Check.Equal(HcTokenStatus.Network, error.Status, "Status");
                    Check.True(!string.IsNullOrEmpty(error.Message), "the message is not empty");
                    Check.DoesNotReveal(error, Fixture.Secret);
                }
            });

            runner.Add("a slow server past timeout_ms throws HcTokenException with Status Timeout", () =>
            {
                TokenClientOptions options = Fixture.OptionsFor(fixture.SlowServer, "generic");
                options.Extra["timeout_ms"] = (Fixture.SlowLatencyMs / 4).ToString();
                using (var client = new TokenClient(options))
                {
                    HcTokenException error = Check.Throws<HcTokenException>(() => client.GetToken(), "GetToken with a short timeout");
                    Check.Equal(HcTokenStatus.Timeout, error.Status, "Status");
                    Check.DoesNotReveal(error, Fixture.Secret);
                }
            });

            runner.Add("an HTTP error without an OAuth body throws HcTokenException with Status Http", () =>
            {
                using (var endpoint = new CannedHttpServer(503, "Service Unavailable", "text/plain", "down for maintenance"))
                {
                    HcTokenException error = GetTokenFrom(endpoint, "generic");
                    Check.Equal(HcTokenStatus.Http, error.Status, "Status");
                    Check.Contains("503", error.Message, "Message");
                    Check.DoesNotReveal(error, Fixture.Secret);
                }
            });

            runner.Add("a success without a token throws HcTokenException with Status Response", () =>
            {
                using (var endpoint = new CannedHttpServer(200, "OK", "application/json", "{\"token_type\":\"Bearer\",\"expires_in\":3600}"))
                {
                    HcTokenException error = GetTokenFrom(endpoint, "generic");
                    Check.Equal(HcTokenStatus.Response, error.Status, "Status");
                    Check.DoesNotReveal(error, Fixture.Secret);
                }
            });

            runner.Add("an OAuth error with a description fills Error and Description", () =>
            {
                const string Body = "{\"error\":\"invalid_request\",\"error_description\":\"grant_type: missing\"}";
                using (var endpoint = new CannedHttpServer(400, "Bad Request", "application/json", Body))
                {
                    OAuthException error = AsOAuth(GetTokenFrom(endpoint, "generic"));
                    Check.Equal("invalid_request", error.Error, "Error");
                    Check.Equal("grant_type: missing", error.Description, "Description");
                    Check.Equal(HcTokenStatus.OAuth, error.Status, "Status");
                }
            });

            runner.Add("an OAuth error without a description leaves Description null", () =>
            {
                using (var endpoint = new CannedHttpServer(400, "Bad Request", "application/json", "{\"error\":\"unauthorized_client\"}"))
                {
                    OAuthException error = AsOAuth(GetTokenFrom(endpoint, "generic"));
                    Check.Equal("unauthorized_client", error.Error, "Error");
                    Check.Equal(null, error.Description, "Description");
                }
            });

            runner.Add("null options throw ArgumentNullException", () =>
                Check.Throws<ArgumentNullException>(() => new TokenClient(null), "new TokenClient(null)"));

            runner.Add("a NUL character in a value throws ArgumentException", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.ClientId = "client\0id";
                Check.Throws<ArgumentException>(() => new TokenClient(options), "new TokenClient with a NUL in the client id");
            });

            runner.Add("a key set both by its property and in Extra throws ArgumentException", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.Extra["client_id"] = "another";
                Check.Throws<ArgumentException>(() => new TokenClient(options), "new TokenClient with client_id twice");
            });

            runner.Add("TokenClientOptions.ToString does not show the secret", () =>
            {
                string text = fixture.Options("generic").ToString();
                Check.True(text.IndexOf(Fixture.Secret, StringComparison.Ordinal) < 0, "ToString reveals the secret: " + text);
                Check.Contains(TokenServer.ClientId, text, "ToString");
            });
        }

        /// <summary>The exception GetToken throws for a client pointed at the canned endpoint.</summary>
        private static HcTokenException GetTokenFrom(CannedHttpServer endpoint, string profile)
        {
            var options = new TokenClientOptions
            {
                Profile = profile,
                TokenUrl = endpoint.Url(Fixture.GenericPath),
                ClientId = TokenServer.ClientId,
                ClientSecret = Fixture.Secret,
            };
            using (var client = new TokenClient(options))
            {
                try
                {
                    client.GetToken();
                }
                catch (HcTokenException error)
                {
                    return error;
                }
            }

            throw new TestFailure("GetToken succeeded against a canned failure");
        }

        private static OAuthException AsOAuth(HcTokenException error)
        {
            var oauth = error as OAuthException;
            Check.True(oauth != null, "expected OAuthException, got " + error.GetType().Name + " (" + error.Status + "): " + error.Message);
            return oauth;
        }

        // A port that was free a moment ago and has nobody listening now.
        private static int UnusedPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }
}
