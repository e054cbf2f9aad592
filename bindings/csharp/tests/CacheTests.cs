namespace HcToken.Tests
{
    /// <summary>The cache answers repeated calls, and Invalidate makes the next call fetch anew.</summary>
    internal static class CacheTests
    {
        private const int Calls = 25;

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("repeated GetToken reuses the cached token (one request at the server)", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    string first = client.GetToken();
                    for (int i = 0; i < Calls; i++)
                    {
                        Check.Equal(first, client.GetToken(), "token of call " + (i + 2));
                    }

                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests for " + (Calls + 1) + " calls");
                }
            });

            runner.Add("two clients keep separate caches", () =>
            {
                fixture.Server.ResetCounters();
                using (var one = new TokenClient(fixture.Options("generic")))
                using (var two = new TokenClient(fixture.Options("generic")))
                {
                    one.GetToken();
                    two.GetToken();
                    one.GetToken();
                    Check.Equal(2, fixture.Server.TokenRequests(), "token requests for two clients");
                }
            });

            runner.Add("Invalidate makes the next GetToken fetch a new token", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("change-healthcare-v2")))
                {
                    string first = client.GetToken();
                    client.Invalidate();
                    string second = client.GetToken();
                    Check.True(first != second, "the token after Invalidate differs from the one before");
                    Check.Equal(second, client.GetToken(), "token after the refetch is cached again");
                    Check.Equal(2, fixture.Server.TokenRequests(), "token requests");
                }
            });

            runner.Add("Invalidate on a cold cache is harmless", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    client.Invalidate();
                    Check.LooksLikeJwt(client.GetToken());
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests");
                }
            });

            runner.Add("GetTokenAsync returns the cached token", () =>
            {
                fixture.Server.ResetCounters();
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    string viaAsync = client.GetTokenAsync().GetAwaiter().GetResult();
                    Check.Equal(viaAsync, client.GetToken(), "token from GetToken after GetTokenAsync");
                    Check.Equal(1, fixture.Server.TokenRequests(), "token requests");
                }
            });
        }
    }
}
