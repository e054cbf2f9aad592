using System;
using System.Threading;

namespace HcToken.Tests
{
    /// <summary>
    /// The C# binding's tests. Usage: mono HcToken.Tests.exe PATH/TO/hctoken [PATH/TO/HcToken.Example.exe]
    /// Prints one line per test and ends with "N passed, N failed"; exits 0 only when nothing failed.
    /// </summary>
    internal static class TestProgram
    {
        // A bound on the whole run, so a hang fails the build instead of stalling it.
        private static readonly TimeSpan Watchdog = TimeSpan.FromMinutes(5);

        private static int Main(string[] args)
        {
            if (args.Length < 1 || args.Length > 2)
            {
                Console.Error.WriteLine("usage: HcToken.Tests.exe PATH/TO/hctoken [PATH/TO/HcToken.Example.exe]");
                return 2;
            }

            var runner = new TestRunner();
            using (new Timer(_ => Abort(runner), null, Watchdog, Timeout.InfiniteTimeSpan))
            {
                try
                {
                    using (var fixture = new Fixture(args[0]))
                    {
                        ProfileTests.Register(runner, fixture);
                        VersionTests.Register(runner, fixture);
                        HeaderTests.Register(runner, fixture);
                        CacheTests.Register(runner, fixture);
                        GetTokenTests.Register(runner, fixture);
                        TraceTests.Register(runner, fixture);
                        ErrorTests.Register(runner, fixture);
                        ConcurrencyTests.Register(runner, fixture);
                        DisposeTests.Register(runner, fixture);
                        HandlerTests.Register(runner, fixture);
                        if (args.Length == 2)
                        {
                            ExampleTests.Register(runner, fixture, args[1]);
                        }

                        runner.RunAll();
                    }
                }
                catch (Exception setup)
                {
                    Console.WriteLine("FAILED setup: " + setup.GetType().Name + ": " + setup.Message);
                    Console.WriteLine(runner.Passed + " passed, " + (runner.Failed + 1) + " failed");
                    return 1;
                }

                Console.WriteLine(runner.Passed + " passed, " + runner.Failed + " failed");
                return runner.Failed == 0 ? 0 : 1;
            }
        }

        private static void Abort(TestRunner runner)
        {
            Console.WriteLine("FAILED watchdog: the tests did not finish within " + Watchdog.TotalMinutes + " minutes");
            Console.WriteLine(runner.Passed + " passed, " + (runner.Failed + 1) + " failed");
            Environment.Exit(1);
        }
    }
}
