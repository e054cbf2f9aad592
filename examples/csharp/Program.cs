using System;
using System.Net.Http;
using HcToken;

namespace HcToken.Example
{
    /// <summary>
    /// Gets a token with hctoken and calls an API through BearerTokenHandler.
    /// Configuration comes from the environment, so no secret appears on a command line:
    ///   HCTOKEN_PROFILE        change-healthcare-v2, change-healthcare-v1, optum-v3, nikohealth or generic (default generic)
    ///   HCTOKEN_TOKEN_URL      the token endpoint (optional where the profile derives it)
    ///   HCTOKEN_ENVIRONMENT    sandbox or production (Change Healthcare)
    ///   HCTOKEN_DOMAIN         the tenant subdomain (NikoHealth)
    ///   HCTOKEN_CLIENT_ID, HCTOKEN_CLIENT_SECRET
    ///   HCTOKEN_API_URL        optional: an API to GET with the token
    /// </summary>
    internal static class Program
    {
        private static int Main()
        {
            var options = new TokenClientOptions
            {
                Profile = Setting("HCTOKEN_PROFILE") ?? "generic",
                TokenUrl = Setting("HCTOKEN_TOKEN_URL"),
                Environment = Setting("HCTOKEN_ENVIRONMENT"),
                Domain = Setting("HCTOKEN_DOMAIN"),
                ClientId = Setting("HCTOKEN_CLIENT_ID"),
                ClientSecret = Setting("HCTOKEN_CLIENT_SECRET"),
            };

            try
            {
                // One TokenClient per set of credentials, shared by the whole program.
                using (var tokens = new TokenClient(options))
                {
                    string token = tokens.GetToken();

                    // Never print the token itself: it is a credential.
                    Console.WriteLine("got a token of " + token.Length + " characters (hctoken " + TokenClient.LibraryVersion + ")");

                    string apiUrl = Setting("HCTOKEN_API_URL");
                    if (apiUrl != null)
                    {
                        using (var http = new HttpClient(new BearerTokenHandler(tokens, new HttpClientHandler())))
                        using (HttpResponseMessage response = http.GetAsync(apiUrl).GetAwaiter().GetResult())
                        {
                            Console.WriteLine("GET " + apiUrl + " -> " + (int)response.StatusCode);
                            return response.IsSuccessStatusCode ? 0 : 1;
                        }
                    }
                }

                return 0;
            }
            catch (OAuthException error)
            {
                Console.Error.WriteLine("the token endpoint refused the request: " + error.Error + (error.Description == null ? string.Empty : " (" + error.Description + ")"));
                return 1;
            }
            catch (HcTokenException error)
            {
                Console.Error.WriteLine("hctoken failed (" + error.Status + "): " + error.Message);
                return 1;
            }
        }

        private static string Setting(string name)
        {
            string value = System.Environment.GetEnvironmentVariable(name);
            return string.IsNullOrEmpty(value) ? null : value;
        }
    }
}
