using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace HcToken.Tests
{
    /// <summary>A stand-in for the network that answers every request with 401 and counts them.</summary>
    internal sealed class RefusingHandler : HttpMessageHandler
    {
        private int received;

        internal int Received => Volatile.Read(ref received);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref received);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Unauthorized) { RequestMessage = request });
        }
    }
}
