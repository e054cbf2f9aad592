using System;
using System.Collections.Generic;
using System.Threading;

namespace HcToken.Tests
{
    /// <summary>Dispose is idempotent, use after it is a clear ObjectDisposedException, and races never crash.</summary>
    internal static class DisposeTests
    {
        private const int RacingThreads = 8;
        private const int CallsPerThread = 2000;

        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("Dispose twice is harmless", () =>
            {
                var client = new TokenClient(fixture.Options("generic"));
                client.GetToken();
                client.Dispose();
                client.Dispose();
            });

            runner.Add("use after Dispose throws ObjectDisposedException", () =>
            {
                var client = new TokenClient(fixture.Options("generic"));
                client.GetToken();
                client.Dispose();
                ObjectDisposedException error = Check.Throws<ObjectDisposedException>(() => client.GetToken(), "GetToken after Dispose");
                Check.Equal("TokenClient", error.ObjectName, "ObjectName");
                Check.Throws<ObjectDisposedException>(() => client.Invalidate(), "Invalidate after Dispose");
                Check.Throws<ObjectDisposedException>(() => client.GetTokenAsync(), "GetTokenAsync after Dispose");
            });

            runner.Add("Dispose while " + RacingThreads + " threads call GetToken: each call returns a token or throws ObjectDisposedException", () =>
            {
                var client = new TokenClient(fixture.Options("generic"));
                client.GetToken();
                var unexpected = new List<Exception>();
                int tokens = 0;
                int refused = 0;
                var threads = new Thread[RacingThreads];
                for (int i = 0; i < RacingThreads; i++)
                {
                    threads[i] = new Thread(() =>
                    {
                        for (int call = 0; call < CallsPerThread; call++)
                        {
                            try
                            {
                                client.GetToken();
                                Interlocked.Increment(ref tokens);
                            }
                            catch (ObjectDisposedException)
                            {
                                Interlocked.Increment(ref refused);
                            }
                            catch (Exception error)
                            {
                                lock (unexpected)
                                {
                                    unexpected.Add(error);
                                }
                            }
                        }
                    });
                    threads[i].IsBackground = true;
                    threads[i].Start();
                }

                Thread.Sleep(5);
                client.Dispose();
                foreach (Thread thread in threads)
                {
                    Check.True(thread.Join(TimeSpan.FromSeconds(60)), "a racing thread finished");
                }

                if (unexpected.Count > 0)
                {
                    throw new TestFailure(unexpected.Count + " unexpected exception(s), first: " + unexpected[0]);
                }

                Check.Equal(RacingThreads * CallsPerThread, tokens + refused, "calls that returned a token or ObjectDisposedException");
                Check.Throws<ObjectDisposedException>(() => client.GetToken(), "GetToken after the race");
            });

            runner.Add("a client never disposed is freed by its finalizer without a crash", () =>
            {
                AbandonClients(fixture, 5);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();

                // The library keeps working after the finalizers freed those clients.
                using (var client = new TokenClient(fixture.Options("generic")))
                {
                    Check.LooksLikeJwt(client.GetToken());
                }
            });
        }

        // A separate method, so no local variable keeps the clients reachable.
        private static void AbandonClients(Fixture fixture, int count)
        {
            for (int i = 0; i < count; i++)
            {
                new TokenClient(fixture.Options("generic")).GetToken();
            }
        }
    }
}
