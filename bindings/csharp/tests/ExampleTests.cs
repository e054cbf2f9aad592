using System;
using System.Diagnostics;

namespace HcToken.Tests
{
    /// <summary>The example program runs against the local server and calls its protected resource.</summary>
    internal static class ExampleTests
    {
        private const int ExitTimeoutMs = 60000;

        internal static void Register(TestRunner runner, Fixture fixture, string exampleExecutable)
        {
            runner.Add("the example gets a token and calls the resource through the handler", () =>
            {
                ProcessStartInfo startInfo = ExampleStartInfo(exampleExecutable);
                startInfo.EnvironmentVariables["HCTOKEN_PROFILE"] = "generic";
                startInfo.EnvironmentVariables["HCTOKEN_TOKEN_URL"] = fixture.Server.Url(Fixture.GenericPath);
                startInfo.EnvironmentVariables["HCTOKEN_CLIENT_ID"] = TokenServer.ClientId;
                startInfo.EnvironmentVariables["HCTOKEN_CLIENT_SECRET"] = Fixture.Secret;
                startInfo.EnvironmentVariables["HCTOKEN_API_URL"] = fixture.Server.Url("/api/resource");

                string output;
                string errors;
                int exitCode = Run(startInfo, out output, out errors);
                Check.Equal(0, exitCode, "exit code (stderr: " + errors.Trim() + ")");
                Check.Contains("-> 200", output, "output");
                Check.True(output.IndexOf(Fixture.Secret, StringComparison.Ordinal) < 0, "the output reveals the secret");
            });

            runner.Add("a missing native library gives a DllNotFoundException that says where to put it", () =>
            {
                // Without the search path the run-tests script sets, the example cannot find libhctoken.so.
                ProcessStartInfo startInfo = ExampleStartInfo(exampleExecutable);
                startInfo.EnvironmentVariables.Remove("LD_LIBRARY_PATH");
                startInfo.EnvironmentVariables["HCTOKEN_TOKEN_URL"] = fixture.Server.Url(Fixture.GenericPath);

                string output;
                string errors;
                int exitCode = Run(startInfo, out output, out errors);
                Check.True(exitCode != 0, "the example failed");
                Check.Contains("DllNotFoundException", errors, "stderr");
                Check.Contains("LD_LIBRARY_PATH", errors, "stderr");
            });
        }

        private static ProcessStartInfo ExampleStartInfo(string exampleExecutable)
        {
            // The example is a .NET assembly: run it with the runtime running these tests.
            string runtime = Process.GetCurrentProcess().MainModule.FileName;
            return new ProcessStartInfo(runtime, "\"" + exampleExecutable + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
        }

        private static int Run(ProcessStartInfo startInfo, out string output, out string errors)
        {
            using (Process process = Process.Start(startInfo))
            {
                var errorText = process.StandardError.ReadToEndAsync();
                output = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(ExitTimeoutMs))
                {
                    process.Kill();
                    throw new TestFailure("the example did not exit within " + ExitTimeoutMs / 1000 + " s");
                }

                errors = errorText.Result;
                return process.ExitCode;
            }
        }
    }
}
