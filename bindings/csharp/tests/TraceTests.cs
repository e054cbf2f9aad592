using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;

namespace HcToken.Tests
{
    /// <summary>The library's events on the TraceSource "HcToken".</summary>
    internal static class TraceTests
    {
        private sealed class Collecting : TraceListener
        {
            internal readonly ConcurrentQueue<Tuple<TraceEventType, string>> Events = new ConcurrentQueue<Tuple<TraceEventType, string>>();

            public override void TraceEvent(TraceEventCache cache, string source, TraceEventType type, int id, string message)
            {
                Events.Enqueue(Tuple.Create(type, message));
            }

            public override void Write(string message)
            {
            }

            public override void WriteLine(string message)
            {
            }
        }

        private sealed class Throwing : TraceListener
        {
            public override void TraceEvent(TraceEventCache cache, string source, TraceEventType type, int id, string message)
            {
                throw new InvalidOperationException("a listener that fails");
            }

            public override void Write(string message)
            {
            }

            public override void WriteLine(string message)
            {
            }
        }

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("a refused secret traces an error event without the secret", () =>
            {
                const string WrongSecret = "not-the-secret-c81f2a";
                var listener = new Collecting();
                TraceSource source = HcTokenTrace.Source;
                SourceLevels level = source.Switch.Level;
                source.Listeners.Add(listener);
                source.Switch.Level = SourceLevels.All;
                try
                {
                    var options = fixture.Options("generic");
                    options.ClientSecret = WrongSecret;
                    using (var client = new TokenClient(options))
                    {
                        Check.Throws<OAuthException>(() => client.GetToken(), "wrong secret");
                    }

                    using (var client = new TokenClient(fixture.Options("generic")))
                    {
                        string token = client.GetToken();
                        Check.True(listener.Events.All(e => e.Item2.IndexOf(token, StringComparison.Ordinal) < 0), "no token in an event");
                    }
                }
                finally
                {
                    source.Listeners.Remove(listener);
                    source.Switch.Level = level;
                }

                Check.True(listener.Events.Any(e => e.Item1 == TraceEventType.Error), "an Error event among " + string.Join(" | ", listener.Events.Select(e => e.Item1 + ": " + e.Item2)));
                Check.True(listener.Events.Any(e => e.Item1 == TraceEventType.Information), "an Information event");
                Check.True(listener.Events.All(e => e.Item2.IndexOf(WrongSecret, StringComparison.Ordinal) < 0), "no secret in an event");
                Check.True(listener.Events.All(e => e.Item2.IndexOf(fixture.Server.ClientSecret, StringComparison.Ordinal) < 0), "no secret in an event");
            });

            runner.Add("a failing trace listener never reaches the library", () =>
            {
                var listener = new Throwing();
                TraceSource source = HcTokenTrace.Source;
                SourceLevels level = source.Switch.Level;
                source.Listeners.Add(listener);
                source.Switch.Level = SourceLevels.All;
                try
                {
                    using (var client = new TokenClient(fixture.Options("generic")))
                    {
                        Check.True(!string.IsNullOrEmpty(client.GetToken()), "a token");
                    }
                }
                finally
                {
                    source.Listeners.Remove(listener);
                    source.Switch.Level = level;
                }
            });
        }
    }
}
