using System;

namespace HcToken
{
    /// <summary>Choices for one <see cref="TokenClient.GetToken(TokenRequestOptions)"/> call.</summary>
    public sealed class TokenRequestOptions
    {
        /// <summary>The largest <see cref="Timeout"/> the library takes: 2^32 - 1 milliseconds.</summary>
        public static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue);

        /// <summary>
        /// Never fetch: a valid cached token is returned; when none is cached the call throws an
        /// <see cref="HcTokenException"/> with <see cref="HcTokenStatus.NoToken"/> and sends nothing.
        /// </summary>
        public bool CachedOnly { get; set; }

        /// <summary>
        /// Inside the refresh window, return the still-valid token at once and leave the early refresh
        /// to another caller. With no valid token cached the call fetches as usual.
        /// </summary>
        public bool NoEarlyRefresh { get; set; }

        /// <summary>
        /// A bound on this call, waiting for another thread's fetch included (then
        /// <see cref="HcTokenStatus.Timeout"/>); null means the client's timeout_ms. Must be positive
        /// and at most <see cref="MaxTimeout"/>; a fraction of a millisecond is rounded up.
        /// </summary>
        public TimeSpan? Timeout { get; set; }

        internal uint NativeFlags()
        {
            uint flags = 0;
            if (CachedOnly)
            {
                flags |= 1u; // HCT_GET_CACHED_ONLY
            }

            if (NoEarlyRefresh)
            {
                flags |= 2u; // HCT_GET_NO_EARLY_REFRESH
            }

            return flags;
        }

        internal uint NativeTimeoutMs()
        {
            if (!Timeout.HasValue)
            {
                return 0; // the client's timeout_ms
            }

            TimeSpan timeout = Timeout.Value;
            if (timeout <= TimeSpan.Zero || timeout > MaxTimeout)
            {
                // 0 would mean "the client's timeout" to the library, not what a caller asking for 0 means.
                throw new ArgumentOutOfRangeException(nameof(Timeout), "Timeout must be more than zero and at most " + MaxTimeout + ".");
            }

            return (uint)Math.Ceiling(timeout.TotalMilliseconds);
        }
    }
}
