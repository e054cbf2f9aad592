using System;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace HcToken.Tests
{
    /// <summary>GetToken(TokenRequestOptions) returning a TokenInfo, and GetStatsJson, against hctoken serve.</summary>
    internal static class GetTokenTests
    {
        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("GetToken(options) returns the token and what the server said", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    TokenInfo info = client.GetToken(new TokenRequestOptions());
                    Check.Equal(client.GetToken(), info.Value, "Value");
                    Check.True(info.ExpiresIn > TimeSpan.Zero, "ExpiresIn > 0 (" + info.ExpiresIn + ")");
                    Check.Equal("bearer", info.TokenType.ToLowerInvariant(), "TokenType");
                    Check.True(info.Scope != null, "Scope is never null");
                    Check.True(info.ToString().IndexOf(info.Value, StringComparison.Ordinal) < 0, "ToString hides the token");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests");
                }
            });

            runner.Add("CachedOnly never fetches: NoToken before a token, the cached one after", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    var cachedOnly = new TokenRequestOptions { CachedOnly = true };
                    var refused = Check.Throws<HcTokenException>(() => client.GetToken(cachedOnly), "CachedOnly with nothing cached");
                    Check.Equal(HcTokenStatus.NoToken, refused.Status, "Status");
                    Check.Equal(0, fixture.Server.TokenRequests(), "token requests before a fetch");

                    string fetched = client.GetToken();
                    Check.Equal(fetched, client.GetToken(cachedOnly).Value, "cached token");
                    Check.Equal(fetched, client.GetToken(new TokenRequestOptions { NoEarlyRefresh = true }).Value, "NoEarlyRefresh");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests");
                }
            });

            runner.Add("Timeout bounds one call", () =>
            {
                var options = Fixture.OptionsFor(fixture.SlowServer, "generic");
                options.Extra["timeout_ms"] = "30000";
                using (var client = new TokenClient(options))
                {
                    // Compiles the call's path first, so the measured call is the library's alone.
                    Check.Throws<HcTokenException>(() => client.GetToken(new TokenRequestOptions { CachedOnly = true }), "warm-up");
                    const int TimeoutMs = Fixture.SlowLatencyMs / 2;
                    var watch = Stopwatch.StartNew();
                    var timedOut = Check.Throws<HcTokenException>(
                        () => client.GetToken(new TokenRequestOptions { Timeout = TimeSpan.FromMilliseconds(TimeoutMs) }),
                        "a call bounded below the server's latency");
                    watch.Stop();
                    Check.Equal(HcTokenStatus.Timeout, timedOut.Status, "Status");
                    Check.True(watch.ElapsedMilliseconds <= TimeoutMs * 1.1, watch.ElapsedMilliseconds + " ms for a " + TimeoutMs + " ms bound");
                }
            });

            runner.Add("GetToken(options) refuses null, a zero, negative or too large Timeout", () =>
            {
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    Check.Throws<ArgumentNullException>(() => client.GetToken((TokenRequestOptions)null), "null");
                    Check.Throws<ArgumentOutOfRangeException>(() => client.GetToken(new TokenRequestOptions { Timeout = TimeSpan.Zero }), "zero");
                    Check.Throws<ArgumentOutOfRangeException>(() => client.GetToken(new TokenRequestOptions { Timeout = TimeSpan.FromSeconds(-1) }), "negative");
                    Check.Throws<ArgumentOutOfRangeException>(() => client.GetToken(new TokenRequestOptions { Timeout = TimeSpan.FromDays(100) }), "too large");
                }
            });

            runner.Add("GetStatsJson after a known sequence", () =>
            {
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    string before = client.GetStatsJson();
                    Check.True(Regex.IsMatch(before, "\"token_requests\"\\s*:\\s*0\\b"), "before: " + before);
                    Check.True(Regex.IsMatch(before, "\"last_fetch_latency_ms\"\\s*:\\s*null"), "before: " + before);
                    client.GetToken();
                    client.GetToken(new TokenRequestOptions());
                    string after = client.GetStatsJson();
                    Check.True(Regex.IsMatch(after, "\"token_requests\"\\s*:\\s*1\\b"), "after: " + after);
                    Check.True(Regex.IsMatch(after, "\"fetches\"\\s*:\\s*1\\b"), "after: " + after);
                    Check.True(Regex.IsMatch(after, "\"failures\"\\s*:\\s*\\{\\s*\\}"), "after: " + after);
                    Check.True(after.IndexOf(client.GetToken(), StringComparison.Ordinal) < 0, "no token in the stats");
                    TokenStats stats = client.GetStats();
                    Check.Equal(1L, stats.TokenRequests, "TokenRequests");
                    Check.Equal(1L, stats.Fetches, "Fetches");
                    Check.Equal(0, stats.Failures.Count, "Failures");
                    Check.True(stats.LastFetchLatency.HasValue && stats.LastFetchLatency.Value >= TimeSpan.Zero, "LastFetchLatency");
                    Check.True(stats.TokenTimeLeft.HasValue && stats.TokenTimeLeft.Value > TimeSpan.Zero, "TokenTimeLeft");
                    Check.True(stats.LastErrorStatus == null, "LastErrorStatus");
                }
            });

            runner.Add("GetStats counts a refusal by status and the remembered answers", () =>
            {
                TokenClientOptions options = fixture.Options("generic");
                options.ClientSecret = "not-the-secret";
                using (var client = new TokenClient(options))
                {
                    Check.Throws<OAuthException>(() => client.GetToken(), "first GetToken");
                    Check.Throws<OAuthException>(() => client.GetToken(), "second GetToken (remembered)");
                    TokenStats stats = client.GetStats();
                    Check.Equal(1L, stats.TokenRequests, "TokenRequests");
                    Check.True(stats.Failures.ContainsKey("HCT_ERR_OAUTH"), "Failures has HCT_ERR_OAUTH");
                    Check.Equal("HCT_ERR_OAUTH", stats.LastErrorStatus, "LastErrorStatus");
                    Check.Equal(1L, stats.NegativeCacheAnswers, "NegativeCacheAnswers");
                    Check.True(stats.TokenTimeLeft == null, "no token: TokenTimeLeft is null");
                }
            });

            runner.Add("GetToken(options) and GetStatsJson on a disposed client throw ObjectDisposedException", () =>
            {
                var client = new TokenClient(fixture.Options("generic"));
                client.Dispose();
                Check.Throws<ObjectDisposedException>(() => client.GetToken(new TokenRequestOptions()), "GetToken(options)");
                Check.Throws<ObjectDisposedException>(() => client.GetStatsJson(), "GetStatsJson");
            });
        }
    }
}
