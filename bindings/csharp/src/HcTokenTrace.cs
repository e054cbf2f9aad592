// TraceSource.TraceEvent is [Conditional("TRACE")]: defined here so that events are traced whatever the build defines.
#define TRACE

using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using HcToken.Native;

namespace HcToken
{
    /// <summary>
    /// The library's events (a fetch's start and end, each retry and why, an early refresh that failed
    /// while the valid token was served, a remembered refusal, a fork) on the
    /// <see cref="System.Diagnostics.TraceSource"/> named "HcToken": Error, Warning, Information and
    /// Verbose. Configure it like any trace source (app.config, or <see cref="Source"/>'s Listeners and
    /// Switch); it is off by default. No event contains the client secret or a token. Events are traced
    /// on the thread whose call caused them.
    /// </summary>
    public static class HcTokenTrace
    {
        /// <summary>The trace source "HcToken" every <see cref="TokenClient"/> traces to.</summary>
        public static TraceSource Source { get; } = new TraceSource("HcToken");

        // One delegate for every client, held in a static field so that it outlives every native
        // client that may call it (the garbage collector must never free it under the library).
        internal static readonly NativeMethods.LogCallback Callback = OnEvent;

        private static void OnEvent(IntPtr userdata, int level, IntPtr message)
        {
            // Called from native code: an exception must never unwind into the library.
            try
            {
                TraceEventType type;
                switch (level)
                {
                    case 1: type = TraceEventType.Error; break;
                    case 2: type = TraceEventType.Warning; break;
                    case 3: type = TraceEventType.Information; break;
                    default: type = TraceEventType.Verbose; break; // HCT_LOG_DEBUG, or a newer level
                }

                if (Source.Switch.ShouldTrace(type))
                {
                    Source.TraceEvent(type, level, Utf8Marshal.FromNative(message) ?? string.Empty);
                }
            }
            catch
            {
                // Nothing may leave a callback that the library called.
            }
        }
    }
}
