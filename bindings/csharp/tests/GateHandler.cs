using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace HcToken.Tests
{
    /// <summary>
    /// Sits between BearerTokenHandler and the network and holds the first <c>count</c> 401 answers
    /// until all of them have arrived, so that every request has seen the 401 for the refused token
    /// before any handles it: the worst case for a 401 handler. Later answers pass straight through.
    /// Records the bearer token of every request it sends.
    /// </summary>
    internal sealed class GateHandler : DelegatingHandler
    {
        private readonly int count;
        private readonly TimeSpan timeout;
        private readonly TaskCompletionSource<bool> allArrived =
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<string> sent = new ConcurrentQueue<string>();
        private int arrived;

        internal GateHandler(HttpMessageHandler inner, int count, TimeSpan timeout)
            : base(inner)
        {
            this.count = count;
            this.timeout = timeout;
        }

        internal string[] SentTokens => sent.ToArray();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent.Enqueue(request.Headers.Authorization?.Parameter);
            // The emulator serves each kept-alive connection on a thread of its own while it stays open.
            request.Headers.ConnectionClose = true;
            HttpResponseMessage response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                return response;
            }

            // Read the answer first, so its connection is free for the requests still to be sent while
            // this one waits (Mono allows 2 connections per host by default).
            await response.Content.LoadIntoBufferAsync().ConfigureAwait(false);
            int position = Interlocked.Increment(ref arrived);
            if (position > count)
            {
                return response;
            }

            if (position == count)
            {
                allArrived.TrySetResult(true);
            }

            Task first = await Task.WhenAny(allArrived.Task, Task.Delay(timeout)).ConfigureAwait(false);
            if (first != allArrived.Task)
            {
                throw new TimeoutException("only " + Volatile.Read(ref arrived) + " of " + count + " 401 answers arrived within " + timeout.TotalSeconds + " s");
            }

            return response;
        }
    }
}
