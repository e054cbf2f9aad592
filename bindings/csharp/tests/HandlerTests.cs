using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading.Tasks;

namespace HcToken.Tests
{
    /// <summary>BearerTokenHandler against the server's protected resource.</summary>
    internal static class HandlerTests
    {
        private const int StormRequests = 16;

        // Only bounds a broken test: the requests normally meet within milliseconds.
        private static readonly TimeSpan StormTimeout = TimeSpan.FromSeconds(30);

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("handler sends Authorization: Bearer with the client's token", () =>
            {
                fixture.Server.ResetCounters();
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    var counter = new CountingHandler(CountingHandler.Loopback());
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, counter)))
                    {
                        Check.Equal(HttpStatusCode.OK, Get(http, fixture), "resource status");
                        Check.Equal("Bearer " + tokens.GetToken(), counter.LastAuthorization, "Authorization header");
                        Check.Equal(HttpStatusCode.OK, Get(http, fixture), "resource status of the second request");
                        Check.Equal(2, counter.Sent, "requests sent for two calls");
                        Check.Equal(1, fixture.Server.TokenRequests(), "token requests");
                    }
                }
            });

            runner.Add("handler retries exactly once after the server revokes the cached token", () =>
            {
                fixture.Server.ResetCounters();
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    var counter = new CountingHandler(CountingHandler.Loopback());
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, counter)))
                    {
                        Check.Equal(HttpStatusCode.OK, Get(http, fixture), "status before the revoke");
                        string stale = tokens.GetToken();
                        fixture.Server.RevokeIssuedTokens();

                        Check.Equal(HttpStatusCode.OK, Get(http, fixture), "status after the revoke");
                        Check.Equal(3, counter.Sent, "requests sent: 1 before, then the refused one and one retry");
                        Check.True(tokens.GetToken() != stale, "the client holds a new token");
                        Check.Equal(2, fixture.Server.TokenRequests(), "token requests: the first and one replacement");
                    }
                }
            });

            runner.Add("handler: " + StormRequests + " concurrent requests refused with one token cause exactly one new token request", () =>
            {
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    string stale = tokens.GetToken();
                    fixture.Server.RevokeIssuedTokens();
                    fixture.Server.ResetCounters();
                    var gate = new GateHandler(CountingHandler.Loopback(), StormRequests, StormTimeout);
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, gate)))
                    {
                        string url = fixture.Server.Url("/api/resource");
                        var sends = new Task<HttpStatusCode>[StormRequests];
                        for (int i = 0; i < StormRequests; i++)
                        {
                            sends[i] = Task.Run(async () =>
                            {
                                using (HttpResponseMessage response = await http.GetAsync(url).ConfigureAwait(false))
                                {
                                    return response.StatusCode;
                                }
                            });
                        }

                        Check.True(Task.WaitAll(sends, StormTimeout + StormTimeout), "every request finished");
                        foreach (Task<HttpStatusCode> send in sends)
                        {
                            Check.Equal(HttpStatusCode.OK, send.Result, "status of every request");
                        }
                    }

                    string fresh = tokens.GetToken();
                    Check.True(fresh != stale, "the client holds a new token");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests after " + StormRequests + " requests saw a 401");
                    int staleSent = 0;
                    int freshSent = 0;
                    foreach (string token in gate.SentTokens)
                    {
                        staleSent += token == stale ? 1 : 0;
                        freshSent += token == fresh ? 1 : 0;
                    }

                    Check.Equal(StormRequests, staleSent, "requests sent with the revoked token");
                    Check.Equal(StormRequests, freshSent, "retries sent with the one replacement");
                }
            });

            runner.Add("InvalidateToken drops only the refused token", () =>
            {
                fixture.Server.ResetCounters();
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    string first = tokens.GetToken();
                    tokens.InvalidateToken(first + "x");
                    tokens.InvalidateToken(string.Empty);
                    Check.Equal(first, tokens.GetToken(), "token after refusing another token");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests before the real refusal");

                    tokens.InvalidateToken(first);
                    string second = tokens.GetToken();
                    Check.True(second != first, "a new token after refusing the cached one");
                    tokens.InvalidateToken(first);
                    Check.Equal(second, tokens.GetToken(), "token after refusing the old one again");
                    Check.Equal(2, fixture.Server.TokenRequests(), "token requests");

                    Check.Throws<ArgumentNullException>(() => tokens.InvalidateToken(null), "InvalidateToken(null)");
                    Check.Throws<ArgumentException>(() => tokens.InvalidateToken(second + "\0"), "InvalidateToken with a NUL");
                    Check.Equal(second, tokens.GetToken(), "token after the refused arguments");
                }

                var disposed = new TokenClient(fixture.Options("generic"));
                disposed.Dispose();
                Check.Throws<ObjectDisposedException>(() => disposed.InvalidateToken("t"), "InvalidateToken after Dispose");
            });

            runner.Add("handler does not loop when every retry is refused too: one retry, then the 401", () =>
            {
                fixture.Server.ResetCounters();
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    // Spoils the token on its way out, so the server refuses every attempt.
                    var counter = new CountingHandler(
                        CountingHandler.Loopback(),
                        request => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "spoiled"));
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, counter)))
                    {
                        Check.Equal(HttpStatusCode.Unauthorized, Get(http, fixture), "status returned to the caller");
                        Check.Equal(2, counter.Sent, "requests sent");
                        Check.Equal(2, fixture.Server.TokenRequests(), "token requests: the first and one replacement");
                    }
                }
            });

            runner.Add("handler does not re-send a body it cannot read twice (StreamContent)", () =>
            {
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    var network = new RefusingHandler();
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, network)))
                    using (var body = new StreamContent(new MemoryStream(new byte[] { 1, 2, 3 })))
                    using (HttpResponseMessage response = http.PostAsync(fixture.Server.Url("/api/resource"), body).GetAwaiter().GetResult())
                    {
                        Check.Equal(HttpStatusCode.Unauthorized, response.StatusCode, "status returned to the caller");
                        Check.Equal(1, network.Received, "requests sent");
                    }
                }
            });

            runner.Add("handler re-sends a StringContent body on its one retry", () =>
            {
                using (var tokens = new TokenClient(fixture.Options("generic")))
                {
                    var network = new RefusingHandler();
                    using (var http = new HttpClient(new BearerTokenHandler(tokens, network)))
                    using (var body = new StringContent("{\"claim\":1}"))
                    using (HttpResponseMessage response = http.PostAsync(fixture.Server.Url("/api/resource"), body).GetAwaiter().GetResult())
                    {
                        Check.Equal(HttpStatusCode.Unauthorized, response.StatusCode, "status returned to the caller");
                        Check.Equal(2, network.Received, "requests sent");
                    }
                }
            });

            runner.Add("handler needs a TokenClient", () =>
                Check.Throws<ArgumentNullException>(() => new BearerTokenHandler(null, new HttpClientHandler()), "new BearerTokenHandler(null, ...)"));
        }

        private static HttpStatusCode Get(HttpClient http, Fixture fixture)
        {
            using (HttpResponseMessage response = http.GetAsync(fixture.Server.Url("/api/resource")).GetAwaiter().GetResult())
            {
                return response.StatusCode;
            }
        }
    }
}
