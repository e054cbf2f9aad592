using System;
using System.Runtime.InteropServices;

namespace HcToken.Native
{
    /// <summary>
    /// Owns one <c>hct_config*</c>. SafeHandle guarantees hct_config_free runs exactly once,
    /// after the last call that uses the handle, even without Dispose (critical finalizer).
    /// </summary>
    internal sealed class ConfigHandle : SafeHandle
    {
        // The marshaler creates instances of this type for return values through this constructor.
        private ConfigHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.hct_config_free(handle);
            return true;
        }
    }
}
