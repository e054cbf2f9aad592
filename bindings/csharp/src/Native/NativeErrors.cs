namespace HcToken.Native
{
    /// <summary>Turns a native status into the matching exception.</summary>
    internal static class NativeErrors
    {
        /// <summary>
        /// Throws for any status but HCT_OK. Must run on the thread that made the call, right after it:
        /// the library's last-error message is per thread and valid only until that thread's next call.
        /// </summary>
        internal static void ThrowIfFailed(int status)
        {
            HcTokenException error = FromStatus(status);
            if (error != null)
            {
                throw error;
            }
        }

        /// <summary>
        /// The exception for a status, or null for HCT_OK. Same thread rule as <see cref="ThrowIfFailed"/>:
        /// call it before any other hct_ function, even a free.
        /// </summary>
        internal static HcTokenException FromStatus(int status)
        {
            if (status == (int)HcTokenStatus.Ok)
            {
                return null;
            }

            string message = Utf8Marshal.FromNative(NativeMethods.hct_last_error_message());
            if (string.IsNullOrEmpty(message))
            {
                message = Utf8Marshal.FromNative(NativeMethods.hct_status_name(status)) ?? ("status " + status);
            }

            if (status == (int)HcTokenStatus.OAuth)
            {
                return OAuthException.FromLibraryMessage(message);
            }

            return new HcTokenException((HcTokenStatus)status, message);
        }
    }
}
