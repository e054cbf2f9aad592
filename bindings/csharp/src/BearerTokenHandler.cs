using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace HcToken
{
    /// <summary>
    /// An HttpClient pipeline stage that sends every request with <c>Authorization: Bearer &lt;token&gt;</c>
    /// from a <see cref="TokenClient"/>. When the API answers 401, it drops the refused token, gets a
    /// new one and sends the request once more; a second 401 is returned to the caller as it is.
    /// </summary>
    /// <remarks>
    /// The retry re-sends the same request, so it happens only for requests without a body or with a
    /// body that can be sent twice (ByteArrayContent and its kinds: StringContent,
    /// FormUrlEncodedContent). A request with a StreamContent body gets the first 401 back.
    /// The refused token is dropped with <see cref="TokenClient.InvalidateToken"/>, so a burst of
    /// requests refused with the same token costs one token request.
    /// The handler does not own the TokenClient: dispose that yourself.
    /// </remarks>
    public class BearerTokenHandler : DelegatingHandler
    {
        private const string Scheme = "Bearer";

        private readonly TokenClient tokenClient;

        /// <summary>
        /// A handler with no inner handler yet: for IHttpClientFactory (AddHttpMessageHandler), or set
        /// <see cref="DelegatingHandler.InnerHandler"/> yourself.
        /// </summary>
        public BearerTokenHandler(TokenClient tokenClient)
        {
            this.tokenClient = tokenClient ?? throw new ArgumentNullException(nameof(tokenClient));
        }

        /// <summary>A handler that passes requests on to <paramref name="innerHandler"/>, e.g. a new HttpClientHandler.</summary>
        public BearerTokenHandler(TokenClient tokenClient, HttpMessageHandler innerHandler)
            : base(innerHandler)
        {
            this.tokenClient = tokenClient ?? throw new ArgumentNullException(nameof(tokenClient));
        }

        /// <inheritdoc />
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request == null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            string token = await tokenClient.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue(Scheme, token);
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized || !CanSendAgain(request))
            {
                return response;
            }

            response.Dispose();
            string freshToken = await ReplaceRefusedTokenAsync(token, cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue(Scheme, freshToken);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        private Task<string> ReplaceRefusedTokenAsync(string refusedToken, CancellationToken cancellationToken)
        {
            // Drops the refused token only if it is still the cached one, atomically in the library: when
            // many requests fail with the same token at once, exactly one drops it and one token request
            // follows; the others get the replacement instead of dropping that too.
            tokenClient.InvalidateToken(refusedToken);
            return tokenClient.GetTokenAsync(cancellationToken);
        }

        private static bool CanSendAgain(HttpRequestMessage request)
        {
            return request.Content == null || request.Content is ByteArrayContent;
        }
    }
}
