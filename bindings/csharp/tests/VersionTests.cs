using System;
using HcToken.Native;

namespace HcToken.Tests
{
    /// <summary>The library version check at load, and the statuses added with it.</summary>
    internal static class VersionTests
    {
        internal static void Register(TestRunner runner, Fixture fixture)
        {
            runner.Add("the loaded library is at least the version the binding needs", () =>
            {
                Check.True(NativeMethods.hct_version_number() >= VersionCheck.RequiredVersionNumber, "hct_version_number");
                VersionCheck.EnsureCompatible();
                VersionCheck.Check(VersionCheck.RequiredVersionNumber);
                VersionCheck.Check(VersionCheck.RequiredVersionNumber + 1);
            });

            runner.Add("an older library is refused with both versions named", () =>
            {
                var refused = Check.Throws<NotSupportedException>(() => VersionCheck.Check(0x000009), "Check(0.0.9)");
                Check.Contains("0.0.9", refused.Message, "message");
                Check.Contains("0.1.0", refused.Message, "message");
            });

            runner.Add("status 11 is HcTokenStatus.NoToken with the library's name", () =>
            {
                Check.Equal(11, (int)HcTokenStatus.NoToken, "NoToken value");
                Check.Equal("HCT_ERR_NO_TOKEN", Utf8Marshal.FromNative(NativeMethods.hct_status_name(11)), "status name");
            });
        }
    }
}
