using System;
using System.Collections.Generic;
using System.Threading;

namespace HcToken.Tests
{
    /// <summary>One client shared by many threads: one token request on a cold cache, one token for all.</summary>
    internal static class ConcurrencyTests
    {
        private const int Threads = 16;
        private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(60);

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add(Threads + " threads on a cold cache cause one token request and share its token", () =>
            {
                TokenServer server = fixture.SlowServer;
                server.ResetCounters();
                using (var client = new TokenClient(Fixture.OptionsFor(server, "generic")))
                {
                    string[] tokens = RunOnThreads(client, Threads, c => c.GetToken());
                    foreach (string token in tokens)
                    {
                        Check.Equal(tokens[0], token, "token of every thread");
                    }

                    Check.LooksLikeJwt(tokens[0]);
                    Check.Equal(1, server.TokenRequests(), "token requests for " + Threads + " threads");
                }
            });

            runner.Add(Threads + " threads on a failing endpoint all get the one request's error", () =>
            {
                TokenServer server = fixture.SlowServer;
                server.ResetCounters();
                TokenClientOptions options = Fixture.OptionsFor(server, "generic");
                options.ClientSecret = "wrong-secret";
                using (var client = new TokenClient(options))
                {
                    string[] errors = RunOnThreads(client, Threads, c =>
                    {
                        try
                        {
                            c.GetToken();
                            return "no exception";
                        }
                        catch (OAuthException error)
                        {
                            return error.Error;
                        }
                    });
                    foreach (string error in errors)
                    {
                        Check.Equal("invalid_client", error, "error of every thread");
                    }

                    Check.Equal(1, server.TokenRequests(), "token requests for " + Threads + " threads");
                }
            });
        }

        /// <summary>
        /// Starts the threads, releases them together, and returns what each one returned. Any exception
        /// other than those the body handles fails the test.
        /// </summary>
        private static string[] RunOnThreads(TokenClient client, int count, Func<TokenClient, string> body)
        {
            var results = new string[count];
            var failures = new List<Exception>();
            var ready = new CountdownEvent(count);
            var go = new ManualResetEventSlim(false);
            var threads = new Thread[count];
            for (int i = 0; i < count; i++)
            {
                int index = i;
                threads[i] = new Thread(() =>
                {
                    ready.Signal();
                    go.Wait();
                    try
                    {
                        results[index] = body(client);
                    }
                    catch (Exception error)
                    {
                        lock (failures)
                        {
                            failures.Add(error);
                        }
                    }
                });
                threads[i].IsBackground = true;
                threads[i].Start();
            }

            Check.True(ready.Wait(JoinTimeout), "all threads started");
            go.Set();
            foreach (Thread thread in threads)
            {
                Check.True(thread.Join(JoinTimeout), "a thread finished within " + JoinTimeout.TotalSeconds + " s");
            }

            if (failures.Count > 0)
            {
                throw new TestFailure(failures.Count + " thread(s) failed, first: " + failures[0].GetType().Name + ": " + failures[0].Message);
            }

            return results;
        }
    }
}
