namespace HcToken
{
    /// <summary>
    /// The token endpoint refused the request with an OAuth 2.0 error (RFC 6749 section 5.2),
    /// for example <c>invalid_client</c> for a wrong client id or secret.
    /// </summary>
    public class OAuthException : HcTokenException
    {
        // The library words the first line of every OAuth refusal as "<prefix><error>" or
        // "<prefix><error>: <description>"; a second line "hint: ..." is its own advice.
        private const string MessagePrefix = "token endpoint refused the request: ";
        private const string DescriptionSeparator = ": ";

        /// <summary>Creates an exception for an OAuth error code and its optional description.</summary>
        public OAuthException(string error, string description, string message)
            : base(HcTokenStatus.OAuth, message)
        {
            Error = error;
            Description = description;
        }

        /// <summary>The server's <c>error</c> code, e.g. <c>invalid_client</c>.</summary>
        public string Error { get; }

        /// <summary>The server's <c>error_description</c>, or null when it sent none.</summary>
        public string Description { get; }

        internal static OAuthException FromLibraryMessage(string message)
        {
            if (message == null || !message.StartsWith(MessagePrefix, System.StringComparison.Ordinal))
            {
                return new OAuthException(null, null, message);
            }

            int lineEnd = message.IndexOf('\n');
            string firstLine = lineEnd < 0 ? message : message.Substring(0, lineEnd);
            string rest = firstLine.Substring(MessagePrefix.Length);
            int separator = rest.IndexOf(DescriptionSeparator, System.StringComparison.Ordinal);
            if (separator < 0)
            {
                return new OAuthException(rest, null, message);
            }

            return new OAuthException(
                rest.Substring(0, separator),
                rest.Substring(separator + DescriptionSeparator.Length),
                message);
        }
    }
}
