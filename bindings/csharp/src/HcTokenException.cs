using System;

namespace HcToken
{
    /// <summary>
    /// A failure reported by the native hctoken library: its status code and its message.
    /// The message never contains the client secret or a token.
    /// </summary>
    public class HcTokenException : Exception
    {
        /// <summary>Creates an exception for a status and the library's message.</summary>
        public HcTokenException(HcTokenStatus status, string message)
            : base(message)
        {
            Status = status;
        }

        /// <summary>What kind of failure this is.</summary>
        public HcTokenStatus Status { get; }
    }
}
