using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace HcToken.Tests
{
    /// <summary>
    /// Sits between BearerTokenHandler and the network: counts what the handler really sends, and can
    /// alter each request on its way out (to make the server refuse it).
    /// </summary>
    internal sealed class CountingHandler : DelegatingHandler
    {
        private readonly Action<HttpRequestMessage> alter;
        private int sent;

        internal CountingHandler(HttpMessageHandler inner, Action<HttpRequestMessage> alter = null)
            : base(inner)
        {
            this.alter = alter;
        }

        internal int Sent => Volatile.Read(ref sent);

        internal string LastAuthorization { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref sent);
            LastAuthorization = request.Headers.Authorization?.ToString();
            alter?.Invoke(request);
            return base.SendAsync(request, cancellationToken);
        }

        internal static HttpClientHandler Loopback()
        {
            return new HttpClientHandler { UseProxy = false };
        }
    }
}
