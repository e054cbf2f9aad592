using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using HcToken.Native;

namespace HcToken
{
    /// <summary>
    /// Gets OAuth 2.0 client-credentials access tokens and keeps one cached for every thread.
    /// Thread-safe: share one instance per set of credentials for the whole process. A cached token
    /// is answered from memory; only a missing or expiring token causes a request, and concurrent
    /// callers share that one request.
    /// </summary>
    public sealed class TokenClient : IDisposable
    {
        private readonly ClientHandle handle;

        static TokenClient()
        {
            NativeLibraryLoader.EnsureLoaded();
        }

        /// <summary>
        /// Builds a client. No token is requested yet.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">A value contains a NUL character, or a key is set twice.</exception>
        /// <exception cref="HcTokenException">The library refused the configuration (Status says why).</exception>
        /// <exception cref="DllNotFoundException">The native library was not found (the message says where it is looked for).</exception>
        /// <exception cref="NotSupportedException">The native library is older than this binding needs (the message names both versions).</exception>
        public TokenClient(TokenClientOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            List<KeyValuePair<string, string>> entries = options.ToConfigEntries();
            VersionCheck.EnsureCompatible();
            using (ConfigHandle config = NativeLibraryLoader.FirstCall(NativeMethods.hct_config_new))
            {
                if (config.IsInvalid)
                {
                    throw new HcTokenException(HcTokenStatus.Internal, "The native library could not allocate a configuration (out of memory).");
                }

                foreach (KeyValuePair<string, string> entry in entries)
                {
                    Set(config, entry.Key, entry.Value);
                }

                NativeErrors.ThrowIfFailed(NativeMethods.hct_config_set_log_callback(config, HcTokenTrace.Callback, IntPtr.Zero));
                ClientHandle client;
                int status = NativeMethods.hct_client_new(config, out client);
                HcTokenException error = NativeErrors.FromStatus(status);
                if (error != null)
                {
                    client?.Dispose();
                    throw error;
                }

                handle = client;
            }
        }

        /// <summary>The native library's version, e.g. "0.1.0".</summary>
        public static string LibraryVersion =>
            Utf8Marshal.FromNative(NativeLibraryLoader.FirstCall(NativeMethods.hct_version));

        /// <summary>
        /// Returns a fresh access token (without the "Bearer " prefix), from the cache when it holds one.
        /// Blocks while a token is being requested.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        /// <exception cref="OAuthException">The token endpoint refused the request.</exception>
        /// <exception cref="HcTokenException">Any other failure (network, timeout, TLS, response).</exception>
        public string GetToken()
        {
            return NativeString(GetTokenCall);
        }

        /// <summary>A library call that hands out a string the caller frees with hct_string_free.</summary>
        private delegate int StringCall(ClientHandle client, out IntPtr text);

        private static readonly StringCall GetTokenCall = NativeMethods.hct_client_get_token;
        private static readonly StringCall StatsJsonCall = NativeMethods.hct_client_stats_json;

        /// <summary>
        /// Runs <paramref name="call"/> on this client's handle and returns its string, freed (and
        /// wiped) with hct_string_free whatever happens; a failure status becomes its exception.
        /// </summary>
        private string NativeString(StringCall call)
        {
            ThrowIfDisposed();
            IntPtr text = IntPtr.Zero;
            int status;
            try
            {
                status = call(handle, out text);
            }
            catch (ObjectDisposedException)
            {
                // Dispose on another thread won the race; the handle was never used after release.
                throw Disposed();
            }

            HcTokenException error = NativeErrors.FromStatus(status);
            try
            {
                if (error != null)
                {
                    throw error;
                }

                return Utf8Marshal.FromNative(text);
            }
            finally
            {
                if (text != IntPtr.Zero)
                {
                    NativeMethods.hct_string_free(text);
                }
            }
        }

        /// <summary>
        /// Returns a valid access token with what the server said about it, with the choices of
        /// <paramref name="options"/> (cached only, no early refresh, a bound on this call).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">options.Timeout is zero, negative or too large.</exception>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        /// <exception cref="OAuthException">The token endpoint refused the request.</exception>
        /// <exception cref="HcTokenException">Any other failure; Status is <see cref="HcTokenStatus.NoToken"/> for CachedOnly with nothing cached.</exception>
        public TokenInfo GetToken(TokenRequestOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            uint flags = options.NativeFlags();
            uint timeoutMs = options.NativeTimeoutMs();
            ThrowIfDisposed();
            IntPtr token = IntPtr.Zero;
            int status;
            try
            {
                status = NativeMethods.hct_client_get(handle, flags, timeoutMs, out token);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }

            HcTokenException error = NativeErrors.FromStatus(status);
            try
            {
                if (error != null)
                {
                    throw error;
                }

                return new TokenInfo(
                    Utf8Marshal.FromNative(NativeMethods.hct_token_value(token)),
                    TimeSpan.FromMilliseconds(NativeMethods.hct_token_expires_in_ms(token)),
                    Utf8Marshal.FromNative(NativeMethods.hct_token_scope(token)) ?? string.Empty,
                    Utf8Marshal.FromNative(NativeMethods.hct_token_type(token)) ?? string.Empty);
            }
            finally
            {
                if (token != IntPtr.Zero)
                {
                    NativeMethods.hct_token_free(token);
                }
            }
        }

        /// <summary>
        /// The client's counters (see <see cref="TokenStats"/>): token requests, fetches, failures by
        /// status, early refreshes, stampede joins, negative-cache answers, the last fetch's latency,
        /// the token's time left, the last error's status.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        public TokenStats GetStats()
        {
            return TokenStats.Parse(GetStatsJson());
        }

        /// <summary>
        /// The client's counters since it was made, as the library's JSON text (hct_client_stats_json;
        /// the fields are documented in hctoken.h: token_requests, fetches, failures, early_refreshes,
        /// early_refresh_failures, stampede_joins, negative_cache_answers, last_fetch_latency_ms,
        /// token_seconds_left, last_error_status); <see cref="GetStats"/> reads it.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        public string GetStatsJson()
        {
            return NativeString(StatsJsonCall);
        }

        /// <summary>
        /// <see cref="GetToken()"/> on a thread-pool thread, so an async caller's thread is not held
        /// while a token is requested. Cancellation stops only a call that has not started yet.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        public Task<string> GetTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            return Task.Run(() => GetToken(), cancellationToken);
        }

        /// <summary>
        /// Drops the cached token, whatever it is, so the next <see cref="GetToken()"/> requests a new one.
        /// After an API refused a token with HTTP 401, prefer <see cref="InvalidateToken"/>, which drops
        /// it only if no other thread has replaced it already.
        /// </summary>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        public void Invalidate()
        {
            ThrowIfDisposed();
            int status;
            try
            {
                status = NativeMethods.hct_client_invalidate(handle);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }

            NativeErrors.ThrowIfFailed(status);
        }

        /// <summary>
        /// Drops the cached token only if it is still <paramref name="refusedToken"/>, the token an API
        /// has just answered 401 to. Use it rather than <see cref="Invalidate"/> when handling a 401: when
        /// many requests are refused with the same token at once, the library compares and swaps in one
        /// atomic step, so exactly one of them drops it and one token request follows; the others get
        /// the replacement. Nothing happens when the cache holds another token, or none.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="refusedToken"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="refusedToken"/> contains a NUL character or a lone surrogate.</exception>
        /// <exception cref="ObjectDisposedException">The client has been disposed.</exception>
        public void InvalidateToken(string refusedToken)
        {
            if (refusedToken == null)
            {
                throw new ArgumentNullException(nameof(refusedToken));
            }

            ThrowIfDisposed();
            byte[] nativeToken = Utf8Marshal.ToNative(refusedToken, "The refused token");
            int status;
            try
            {
                status = NativeMethods.hct_client_invalidate_token(handle, nativeToken);
            }
            catch (ObjectDisposedException)
            {
                throw Disposed();
            }
            finally
            {
                // A copy of a bearer token: do not leave it for the garbage collector.
                Array.Clear(nativeToken, 0, nativeToken.Length);
            }

            NativeErrors.ThrowIfFailed(status);
        }

        /// <summary>
        /// Frees the native client. Safe to call more than once and while other threads use the client:
        /// their running calls finish first, later calls throw <see cref="ObjectDisposedException"/>.
        /// </summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        private static void Set(ConfigHandle config, string key, string value)
        {
            byte[] nativeKey = Utf8Marshal.ToNative(key, "The configuration key '" + key + "'");
            byte[] nativeValue = Utf8Marshal.ToNative(value, "The value of '" + key + "'");
            try
            {
                NativeErrors.ThrowIfFailed(NativeMethods.hct_config_set(config, nativeKey, nativeValue));
            }
            finally
            {
                // The value may be the client secret: do not leave a copy for the garbage collector.
                Array.Clear(nativeValue, 0, nativeValue.Length);
            }
        }

        private void ThrowIfDisposed()
        {
            if (handle.IsClosed)
            {
                throw Disposed();
            }
        }

        private static ObjectDisposedException Disposed()
        {
            return new ObjectDisposedException(nameof(TokenClient), "This TokenClient has been disposed.");
        }
    }
}
