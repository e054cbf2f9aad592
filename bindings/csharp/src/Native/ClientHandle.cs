using System;
using System.Runtime.InteropServices;

namespace HcToken.Native
{
    /// <summary>
    /// Owns one <c>hct_client*</c>. Passing it to a P/Invoke makes the runtime add a reference for
    /// the duration of the call, so Dispose (or the critical finalizer) racing a GetToken on another
    /// thread frees the client only after that call returns, and hct_client_free runs exactly once.
    /// </summary>
    internal sealed class ClientHandle : SafeHandle
    {
        // The marshaler creates instances of this type for out parameters through this constructor.
        private ClientHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMethods.hct_client_free(handle);
            return true;
        }
    }
}
