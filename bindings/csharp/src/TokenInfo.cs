using System;

namespace HcToken
{
    /// <summary>An access token and what the token endpoint said about it. Immutable.</summary>
    public sealed class TokenInfo
    {
        internal TokenInfo(string value, TimeSpan expiresIn, string scope, string tokenType)
        {
            Value = value;
            ExpiresIn = expiresIn;
            Scope = scope;
            TokenType = tokenType;
        }

        /// <summary>The bare access token (without "Bearer ").</summary>
        public string Value { get; }

        /// <summary>How long the token stays valid, counted from when GetToken returned (it does not count down).</summary>
        public TimeSpan ExpiresIn { get; }

        /// <summary>The scope the token endpoint granted; "" if it sent none.</summary>
        public string Scope { get; }

        /// <summary>The token type as the token endpoint sent it (e.g. "bearer"); "" if it sent none.</summary>
        public string TokenType { get; }

        /// <summary>Everything but the token itself, so that logging a TokenInfo never shows it.</summary>
        public override string ToString()
        {
            return "TokenInfo(TokenType=" + TokenType + ", Scope=" + Scope + ", ExpiresIn=" + ExpiresIn + ")";
        }
    }
}
