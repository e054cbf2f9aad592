using System;
using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace HcToken.Tests
{
    /// <summary>
    /// One `hctoken serve` on 127.0.0.1 with a free port, started as a child process. It runs with
    /// --watch-stdin, so it also exits when this process dies and its stdin closes.
    /// </summary>
    internal sealed class TokenServer : IDisposable
    {
        internal const string ClientId = "csharp-client";

        private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
        private static readonly HttpClient Http = new HttpClient(new HttpClientHandler { UseProxy = false })
        {
            Timeout = TimeSpan.FromSeconds(20),
        };

        private readonly Process process;

        private TokenServer(Process process, string baseUrl, string clientSecret)
        {
            this.process = process;
            BaseUrl = baseUrl;
            ClientSecret = clientSecret;
        }

        internal string BaseUrl { get; }

        internal string ClientSecret { get; }

        internal static TokenServer Start(string executable, string clientSecret, int latencyMs = 0)
        {
            var arguments = new StringBuilder("serve --port 0 --watch-stdin --client-id " + ClientId);
            arguments.Append(" --client-secret \"" + clientSecret + "\"");
            if (latencyMs > 0)
            {
                arguments.Append(" --latency-ms " + latencyMs);
            }

            var startInfo = new ProcessStartInfo(executable, arguments.ToString())
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            Process process = Process.Start(startInfo);

            // The server logs to stderr; drain it so a full pipe never stalls the server.
            process.ErrorDataReceived += (sender, e) => { };
            process.BeginErrorReadLine();

            Task<string> firstLine = process.StandardOutput.ReadLineAsync();
            if (!firstLine.Wait(StartTimeout) || string.IsNullOrEmpty(firstLine.Result))
            {
                Stop(process);
                throw new InvalidOperationException("hctoken serve printed no base URL within " + StartTimeout.TotalSeconds + " s");
            }

            string baseUrl = firstLine.Result.Trim();
            if (!baseUrl.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            {
                Stop(process);
                throw new InvalidOperationException("hctoken serve printed an unexpected first line: " + baseUrl);
            }

            return new TokenServer(process, baseUrl, clientSecret);
        }

        internal string Url(string path)
        {
            return BaseUrl + path;
        }

        /// <summary>Every POST to a token path since the last reset, successful or not.</summary>
        internal int TokenRequests()
        {
            return ReadCount(Stats(), "token_requests");
        }

        internal int TokenRequestsAt(string path)
        {
            return ReadCount(Stats(), path);
        }

        /// <summary>The HTTP status /api/resource answers for a bearer token.</summary>
        internal int ResourceStatusFor(string token)
        {
            using (var request = new HttpRequestMessage(HttpMethod.Get, Url("/api/resource")))
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                using (HttpResponseMessage response = Http.SendAsync(request).GetAwaiter().GetResult())
                {
                    return (int)response.StatusCode;
                }
            }
        }

        internal void ResetCounters()
        {
            Post("/_hctoken/reset");
        }

        /// <summary>Makes /api/resource refuse every token issued so far.</summary>
        internal void RevokeIssuedTokens()
        {
            Post("/_hctoken/revoke");
        }

        public void Dispose()
        {
            Stop(process);
        }

        private static void Stop(Process process)
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(5000))
                {
                    process.Kill();
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // It has already exited.
            }
            finally
            {
                process.Dispose();
            }
        }

        private string Stats()
        {
            using (HttpResponseMessage response = Http.GetAsync(Url("/_hctoken/stats")).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
                return response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            }
        }

        private void Post(string path)
        {
            using (var empty = new StringContent(string.Empty))
            using (HttpResponseMessage response = Http.PostAsync(Url(path), empty).GetAwaiter().GetResult())
            {
                response.EnsureSuccessStatusCode();
            }
        }

        // The stats are a small flat JSON object of counters; a pattern is enough to read one.
        private static int ReadCount(string json, string name)
        {
            Match match = Regex.Match(json, "\"" + Regex.Escape(name) + "\"\\s*:\\s*(\\d+)");
            return match.Success ? int.Parse(match.Groups[1].Value) : 0;
        }
    }
}
