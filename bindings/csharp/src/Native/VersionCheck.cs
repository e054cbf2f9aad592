using System;
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("HcToken.Tests")]

namespace HcToken.Native
{
    /// <summary>
    /// Checks once, before the first use of the library, that it is at least the version this
    /// binding was written for (an older one lacks functions or statuses the binding uses).
    /// </summary>
    internal static class VersionCheck
    {
        /// <summary>HCTOKEN_VERSION_NUMBER of the header this binding was written for: 0.1.0.</summary>
        internal const uint RequiredVersionNumber = 0x000100;

        private static readonly object Gate = new object();
        private static bool passed;

        /// <summary>Runs the check on the first call; throws the same way on every call while it fails.</summary>
        internal static void EnsureCompatible()
        {
            lock (Gate)
            {
                if (passed)
                {
                    return;
                }

                uint number;
                try
                {
                    number = NativeLibraryLoader.FirstCall(NativeMethods.hct_version_number);
                }
                catch (EntryPointNotFoundException missing)
                {
                    throw new NotSupportedException(
                        "The native hctoken library has no hct_version_number, so it is older than "
                        + Text(RequiredVersionNumber) + ", the version this binding needs. Install a newer libhctoken.",
                        missing);
                }

                Check(number);
                passed = true;
            }
        }

        /// <summary>Throws <see cref="NotSupportedException"/> naming both versions when <paramref name="number"/> is too old.</summary>
        internal static void Check(uint number)
        {
            if (number < RequiredVersionNumber)
            {
                throw new NotSupportedException(
                    "The native hctoken library is version " + Text(number) + "; this binding needs at least "
                    + Text(RequiredVersionNumber) + ". Install a newer libhctoken.");
            }
        }

        internal static string Text(uint number)
        {
            return ((number >> 16) & 0xFF) + "." + ((number >> 8) & 0xFF) + "." + (number & 0xFF);
        }
    }
}
