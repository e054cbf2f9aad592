using System;
using System.Collections.Generic;

namespace HcToken.Tests
{
    /// <summary>The servers the tests talk to, and options that point a client at them.</summary>
    internal sealed class Fixture : IDisposable
    {
        // Not the server's default, so a test passing proves the secret really went through.
        internal const string Secret = "csharp-secret-42";

        // Non-ASCII on purpose: the binding must send UTF-8, not the platform's ANSI code page.
        internal const string UnicodeSecret = "s\u00e9cret-\u00fc-\u2713";

        // Long enough for 16 threads to pile up on a cold cache while the one request is in flight.
        internal const int SlowLatencyMs = 2000; // long enough that a 10 % bound on half of it (100 ms) covers a late wake-up

        internal const string GenericPath = "/oauth2/token";

        internal static readonly IDictionary<string, string> TokenPaths = new Dictionary<string, string>
        {
            { "change-healthcare-v2", "/apip/auth/v2/token" },
            { "change-healthcare-v1", "/apip/auth/v1/token" },
            { "optum-v3", "/auth/sntl/v1/token" },
            { "nikohealth", "/api/identity/connect/token" },
            { "generic", GenericPath },
        };

        internal Fixture(string serverExecutable)
        {
            Server = TokenServer.Start(serverExecutable, Secret);
            try
            {
                SlowServer = TokenServer.Start(serverExecutable, Secret, SlowLatencyMs);
                UnicodeServer = TokenServer.Start(serverExecutable, UnicodeSecret);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        internal TokenServer Server { get; }

        internal TokenServer SlowServer { get; }

        internal TokenServer UnicodeServer { get; }

        /// <summary>Options for a profile at its path on the main server, with good credentials.</summary>
        internal TokenClientOptions Options(string profile)
        {
            return OptionsFor(Server, profile);
        }

        internal static TokenClientOptions OptionsFor(TokenServer server, string profile)
        {
            return new TokenClientOptions
            {
                Profile = profile,
                TokenUrl = server.Url(TokenPaths[profile]),
                ClientId = TokenServer.ClientId,
                ClientSecret = server.ClientSecret,
            };
        }

        public void Dispose()
        {
            UnicodeServer?.Dispose();
            SlowServer?.Dispose();
            Server?.Dispose();
        }
    }
}
